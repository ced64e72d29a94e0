// The HTTP API: builds a Fastify app around the services without listening, so tests drive it
// with inject() and `tollgate serve` calls listen(). Every error leaves as
// {"error": {"code", "message"}} with the status from errors.ts.

import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { Caller, Scope } from '../../core/shared/principal.ts';
import { hasScope } from '../../core/shared/principal.ts';
import type { Services } from '../../services.ts';
import { type ErrorCode, errorBody, HttpRefusal, httpStatusOf } from './errors.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { accountRoutes } from './routes/accounts.ts';
import { chargingRoutes } from './routes/charging.ts';
import { principalRoutes } from './routes/principals.ts';
import { ratingRoutes } from './routes/rating.ts';
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
    // Per-request log lines cost more than a ledger transfer; metrics count requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
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
  app.addHook('onRequest', (request, _reply, done) => {
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
  app.setNotFoundHandler((_request, reply) => sendError(reply, 'not_found'));

  await app.register(systemRoutes, { services: options.services });
  await app.register(accountRoutes, { services: options.services });
  await app.register(transferRoutes, { services: options.services });
  await app.register(principalRoutes, { services: options.services });
  await app.register(ratingRoutes, { services: options.services });
  await app.register(voucherRoutes, { services: options.services });
  await app.register(chargingRoutes, { services: options.services });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  return app as unknown as App;
}

/** Answers a core refusal: its code decides the status through the errors table. */
export function sendRefusal(reply: FastifyReply, outcome: { code: string; message: string }) {
  return sendError(reply, outcome.code as ErrorCode, outcome.message);
}

export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  message?: string,
  details?: readonly unknown[],
) {
  return reply.status(httpStatusOf[code]).send(errorBody(code, message, details));
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

function apiKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  let secret: string | undefined;
  if (typeof header === 'string' && header.startsWith('Bearer ')) secret = header.slice(7).trim();
  else if (typeof request.headers['x-api-key'] === 'string') secret = request.headers['x-api-key'];
  return secret && secret.length <= 200 ? secret : undefined;
}

/** The caller of an authenticated route; the onRequest hook guarantees there is one. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new HttpRefusal('unauthorized');
  return request.caller;
}
