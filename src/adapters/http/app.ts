// The HTTP API: builds a Fastify app around the services without listening, so tests drive it
// with inject() and `tollgate serve` calls listen(). Every error leaves as
// {"error": {"code", "message"}} with the status from errors.ts.

import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { Caller, Scope } from '../../core/shared/principal.ts';
import { hasScope } from '../../core/shared/principal.ts';
import type { Services } from '../../services.ts';
import { type ErrorCode, errorBody, HttpRefusal, httpStatusOf } from './errors.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { sendError } from './reply.ts';
import { badTextIn, parseJsonBody } from './request-text.ts';
import { accountRoutes } from './routes/accounts.ts';
import { chargingRoutes } from './routes/charging.ts';
import { principalRoutes } from './routes/principals.ts';
import { ratingRoutes } from './routes/rating.ts';
import { ratingPlanRoutes } from './routes/rating-plans.ts';
import { subscriberRoutes } from './routes/subscribers.ts';
import { systemRoutes } from './routes/system.ts';
import { transferRoutes } from './routes/transfers.ts';
import { voucherRoutes } from './routes/vouchers.ts';

/** Largest request body accepted: every request Tollgate takes is small. */
export const bodyLimitBytes = 64 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    /** Routes anyone may call: health, metrics, docs. */
    public?: boolean;
    /** The scope an API key needs for this route. */
    scope?: Scope;
  }
}

export interface AppOptions {
  readonly services: Services;
  readonly logger?: Logger | false;
  readonly metrics?: Metrics;
}

export type App = FastifyInstance & { readonly metrics: Metrics };

export async function buildApp(options: AppOptions): Promise<App> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: bodyLimitBytes,
    // Session ids (SIP Call-IDs) may be 512 characters, percent-encoded up to three times that.
    routerOptions: { maxParamLength: 1600 },
    // Per-request log lines cost more than a ledger transfer; metrics count requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    // Fastify's own answers (bad URL, long path parameter, closing, broken HTTP) have another
    // shape than ours: each is answered here instead, as {"error": {"code", "message"}}.
    return503OnClosing: false,
    frameworkErrors: (error, _request, reply) => {
      const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'url_too_long' : 'url_invalid';
      sendError(reply, code);
    },
    clientErrorHandler: answerClientError,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // JSON only, read as bytes so that invalid UTF-8 is refused rather than replaced, and checked
  // for NUL and lone surrogates (request-text.ts). Other media types answer 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, raw, done) => {
    const parsed = parseJsonBody(raw as Buffer);
    if (parsed.ok) return done(null, parsed.value);
    const { problem } = parsed;
    if (problem === 'malformed_json') return done(new HttpRefusal('malformed_json'));
    if (problem === 'not_utf8') {
      return done(new HttpRefusal('invalid_characters', 'The body is not valid UTF-8.'));
    }
    done(new HttpRefusal('invalid_characters', textMessage(problem.badTextAt)));
  });
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Every route pattern and its methods, to tell an unknown path (404) from a known path asked
  // with a method it does not take (405, with Allow).
  const routeMethods: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    const methods = ([] as string[]).concat(route.method);
    const source = route.url
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    routeMethods.push({ pattern: new RegExp(`^${source}/?$`), methods });
  });
  const metrics = options.metrics ?? createMetrics();
  app.decorate('metrics', metrics);
  app.decorateRequest('caller', null);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Tollgate API',
        version: '0.1.0',
        description:
          'Prepaid platform: ledger, vouchers, rating and charging. Amounts are minor units as ' +
          'decimal strings. Authenticate with `Authorization: Bearer <api key>`. Money-moving ' +
          'requests need an `Idempotency-Key` header.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Callback-style hooks: they run on every request, and a cached key needs no promise.
  app.addHook('onRequest', (request, reply, done) => {
    if (closing) {
      reply.header('connection', 'close');
      return done(new HttpRefusal('service_unavailable', 'The server is shutting down.'));
    }
    const config = request.routeOptions.config;
    if (config.public || request.url.startsWith('/docs')) return done();
    const secret = apiKeyOf(request);
    const admit = (caller: Caller | null) => {
      if (!caller) return done(new HttpRefusal('unauthorized'));
      if (config.scope && !hasScope(caller, config.scope))
        return done(new HttpRefusal('forbidden'));
      request.caller = caller;
      done();
    };
    if (secret === undefined) return admit(null);
    const cached = options.services.principals.cachedCaller(secret);
    if (cached !== undefined) return admit(cached);
    options.services.principals.authenticate(secret).then(admit, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(
      request.routeOptions.url ?? 'unknown',
      request.method,
      reply.statusCode,
      reply.elapsedTime,
    );
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { code, message } = classify(error);
    if (code === 'internal_error') request.log.error({ err: error }, 'request failed');
    return sendError(reply, code, message);
  });
  // Path parameters and query values are text too: refused like body strings.
  app.addHook('preValidation', (request, _reply, done) => {
    const where =
      badTextIn(request.params, 'params', 0) ?? badTextIn(request.query, 'querystring', 0);
    done(where === null ? undefined : new HttpRefusal('invalid_characters', textMessage(where)));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = new Set<string>();
    for (const route of routeMethods) {
      if (route.pattern.test(path)) for (const method of route.methods) allowed.add(method);
    }
    if (allowed.size === 0) return sendError(reply, 'not_found');
    reply.header('allow', [...allowed].sort().join(', '));
    return sendError(reply, 'method_not_allowed');
  });

  await app.register(systemRoutes, { services: options.services });
  await app.register(accountRoutes, { services: options.services });
  await app.register(transferRoutes, { services: options.services });
  await app.register(principalRoutes, { services: options.services });
  await app.register(ratingRoutes, { services: options.services });
  await app.register(ratingPlanRoutes, { services: options.services });
  await app.register(voucherRoutes, { services: options.services });
  await app.register(chargingRoutes, { services: options.services });
  await app.register(subscriberRoutes, { services: options.services });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  return app as unknown as App;
}

function classify(error: FastifyError): { code: ErrorCode; message?: string } {
  if (error instanceof HttpRefusal) return { code: error.code, message: error.message };
  if (error.validation) {
    const first = error.validation[0];
    const where = `${error.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
    return { code: 'invalid_request', message: `${where} ${first?.message ?? 'is invalid'}` };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'malformed_json' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'body_too_large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'unsupported_media_type' };
  }
  if (error instanceof SyntaxError) return { code: 'malformed_json' };
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return { code: 'invalid_request', message: 'The request could not be read.' };
  }
  return { code: 'internal_error' };
}

function textMessage(where: string): string {
  return `${where} holds a NUL character or a lone UTF-16 surrogate; nothing was changed.`;
}

/**
 * Requests Node's HTTP parser could not read (broken request line or headers, headers too
 * large, too slow): answered on the socket in our error shape, then the socket is closed.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'request_header_too_large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request_timeout'
        : 'http_malformed';
  const status = httpStatusOf[code];
  const body = JSON.stringify(errorBody(code));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * The API key of a request: `Authorization: Bearer <key>`, `X-Api-Key: <key>`, or HTTP Basic
 * with the key as the password (the user name is ignored). Basic is for clients that can send
 * credentials no other way, such as Kamailio's http_client (`user:key@` in its connection URL).
 */
function apiKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  let secret: string | undefined;
  if (typeof header === 'string' && header.startsWith('Bearer ')) secret = header.slice(7).trim();
  else if (typeof header === 'string' && header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    secret = colon < 0 ? undefined : decoded.slice(colon + 1);
  } else if (typeof request.headers['x-api-key'] === 'string') {
    secret = request.headers['x-api-key'];
  }
  return secret && secret.length <= 200 ? secret : undefined;
}
