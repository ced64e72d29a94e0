// Starting and stopping the server: store, services, HTTP app, the hold-expiry timer and the
// bootstrap admin key. `tollgate serve` calls this; tests and benchmarks do too.

import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { DeliveryConfig } from './adapters/delivery/pin-sender-config.ts';
import type { App } from './adapters/http/app.ts';
import { createMetrics, type Metrics } from './adapters/http/metrics.ts';
import { defaultPinKeyFile, loadPinKeyForStore } from './adapters/keys/pin-key-guard.ts';
import { serverEndpointOf } from './adapters/webhooks/callback-target.ts';
import { eventSenderByScheme, httpEventSender } from './adapters/webhooks/http-event-sender.ts';
import type { DiameterConfig, RadiusConfig } from './config.ts';
import type { ChargingSettings } from './core/charging/charging.ts';
import type { OutboxEvent } from './core/charging/charging-types.ts';
import { hashApiKey } from './core/principals/principals.ts';
import type { Clock } from './core/shared/clock.ts';
import { systemCaller } from './core/shared/principal.ts';
import type { PinSender, VoucherSettings } from './core/vouchers/vouchers.ts';
import { seedDemo } from './demo.ts';
import { createServices, type Services } from './services.ts';
import { openStore, type Store } from './store/store.ts';

/** How often the server releases holds whose timeout has passed. */
export const holdExpiryIntervalMs = 1000;

/** How often the server logs a warning for each product whose stock is below its threshold. */
export const lowStockCheckIntervalMs = 60_000;

/** How often the server ends charging sessions whose grant ran out, and sends due webhooks. */
export const supervisionIntervalMs = 1000;

/** How often the server looks for tariffs activated by another process sharing the database. */
export const tariffRefreshIntervalMs = 5000;

/** How often the server deletes the request records of calls past their retention. */
export const requestLogPruneIntervalMs = 10 * 60_000;

export const adminPrincipalId = 'op_admin';

/** TOLLGATE_ADMIN_KEY is not a key the server can register; the message says why. */
export class AdminKeyError extends Error {
  override name = 'AdminKeyError';
}

export interface ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly databaseUrl?: string | undefined;
  readonly sqlitePath?: string | undefined;
  readonly postgresSchema?: string | undefined;
  readonly batchSizeMax?: number | undefined;
  readonly adminKey?: string | undefined;
  readonly demo?: boolean;
  readonly logger: Logger | false;
  readonly clock: Clock;
  /** TOLLGATE_PIN_KEY, when set: the PIN key itself, instead of the key file. */
  readonly pinKey?: string | undefined;
  /** The PIN key file; default `pin.key` beside the SQLite database. */
  readonly pinKeyFile?: string | undefined;
  /** Sends PINs bought with a delivery; without one the outbox keeps them pending. */
  readonly pinSender?: PinSender | undefined;
  /** Channels to build a PinSender from when `pinSender` is not given. */
  readonly delivery?: DeliveryConfig | undefined;
  readonly voucherSettings?: Partial<VoucherSettings> | undefined;
  readonly chargingSettings?: Partial<ChargingSettings> | undefined;
  /** Signs webhook and disconnect-callback bodies (X-Tollgate-Signature). */
  readonly webhookSecret?: string | undefined;
  /** Sends outbox events; default: HTTP POST to each event's URL. */
  readonly eventSender?: ((event: OutboxEvent) => Promise<void>) | undefined;
  /** Kamailio evapi sockets the Kamailio agent connects to; none: no agent. */
  readonly kamailioEvapi?: ReadonlyArray<{ host: string; port: number }> | undefined;
  /** The RADIUS agent's listeners and clients; none: no agent. */
  readonly radius?: RadiusConfig | undefined;
  /** The Diameter credit-control server and its peers; none: no Diameter agent. */
  readonly diameter?: DiameterConfig | undefined;
}

export interface RunningServer {
  readonly app: App;
  readonly services: Services;
  readonly url: string;
  /** Set when a new admin key was made at this start: the only time it can be shown. */
  readonly newAdminKey: string | null;
  readonly demoAdminKey: string | null;
  stop(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const metrics = createMetrics({ defaultMetrics: true });
  // The HTTP stack (Fastify, the schemas, the routes) starts loading here, on this thread, while
  // the SQLite writer thread starts and checks the schema on its own: the two longest stretches
  // of a start then overlap. startOnStore imports the same module again and gets this one.
  import('./adapters/http/app.ts').catch(() => undefined);
  const store = await openStore({
    databaseUrl: options.databaseUrl,
    sqlitePath: options.sqlitePath,
    postgresSchema: options.postgresSchema,
    batchSizeMax: options.batchSizeMax,
    clock: options.clock,
    onBatch: (size) => metrics.observeBatch(size),
  });
  try {
    return await startOnStore(store, metrics, options);
  } catch (error) {
    // A start that fails closes the store (its threads, its pool), so the process can exit.
    await store.close();
    throw error;
  }
}

/** Everything after opening the store; on failure it stops what it began, except the store. */
async function startOnStore(
  store: Store,
  metrics: Metrics,
  options: ServerOptions,
): Promise<RunningServer> {
  const pinKey = await loadPinKeyForStore({
    store,
    keyFilePath: options.pinKeyFile ?? defaultPinKeyFile(options.sqlitePath),
    envValue: options.pinKey,
  });
  const services = await createServices(store, options.clock, {
    pinKey,
    voucherSettings: options.voucherSettings,
    chargingSettings: options.chargingSettings,
  });
  metrics.countActiveSessionsWith(() => store.chargingReads.countSessions('active'));
  const newAdminKey = await ensureAdminKey(services, options.adminKey);
  let demoAdminKey: string | null = null;
  if (options.demo) demoAdminKey = await demoKey(services, options, newAdminKey);

  const { buildApp } = await import('./adapters/http/app.ts');
  const app = await buildApp({ services, logger: options.logger, metrics });
  // Background sweeps: each runs one pass at a time, and a failed pass is logged, not fatal.
  const every = (intervalMs: number, what: string, pass: () => Promise<unknown>) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      pass()
        .catch((error: unknown) => {
          if (options.logger) options.logger.error({ err: error }, `${what} failed`);
        })
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return timer;
  };
  const expiry = every(holdExpiryIntervalMs, 'hold expiry sweep', () =>
    services.ledger.expireDueHolds(),
  );
  // The delivery outbox: PINs sold with a delivery are sent after their sale commits, and
  // retried from the database, so a failed send never loses or repeats the sale.
  // The channels' modules (SMTP, SMPP, fax) load only when one of them is configured.
  const configured =
    options.pinSender || !(options.delivery?.smtpUrl || options.delivery?.smppUrl)
      ? undefined
      : (await import('./adapters/delivery/pin-sender-config.ts')).pinSenderFromConfig(
          options.delivery,
        );
  const pinSender = options.pinSender ?? configured?.sender;
  const delivery = every(holdExpiryIntervalMs, 'voucher expiry or delivery sweep', async () => {
    await services.vouchers.expireDue();
    if (pinSender) await services.vouchers.deliverDue(pinSender);
  });
  // Low-stock alerts: a warning per product whose stock is under its threshold, once a minute.
  const stockWatch = every(lowStockCheckIntervalMs, 'voucher stock check', async () => {
    const rows = await services.vouchers.stockReport();
    if (!options.logger) return;
    for (const row of rows) {
      if (!row.lowStock) continue;
      options.logger.warn(
        {
          product_id: row.product.id,
          in_stock: row.inStock,
          threshold: row.product.lowStockThreshold,
        },
        'voucher stock is low',
      );
    }
  });
  // Charging supervision: sessions whose grant ran out with no word from the switch are ended
  // and charged, and their switch told to disconnect, from deadlines kept in the database. Then
  // the outbox: disconnect callbacks and low-balance webhooks, retried until delivered.
  const webhooks = httpEventSender({
    secret: options.webhookSecret,
    rules: () => services.charging.callbackRules(),
  });
  // The Kamailio agent, when configured: calls charged over evapi, and the `kamailio:` channel
  // that brings server-side disconnects (supervision, operators) to those calls.
  const kamailio = options.kamailioEvapi?.length
    ? new (await import('./adapters/kamailio/kamailio-agent.ts')).KamailioAgent({
        addresses: options.kamailioEvapi,
        charging: services.charging,
        authenticate: (key) => services.principals.authenticate(key),
        nowMs: () => options.clock.nowMs(),
        logger: options.logger || undefined,
      })
    : null;
  // The RADIUS agent, when configured: NAS calling-card platforms authorized and charged over
  // RADIUS, and the `radius:` channel that brings server-side disconnects to their NAS.
  const radius = options.radius
    ? new (await import('./adapters/radius/radius-agent.ts')).RadiusAgent({
        ...options.radius,
        charging: services.charging,
        authenticate: (key) => services.principals.authenticate(key),
        nowMs: () => options.clock.nowMs(),
        logger: options.logger || undefined,
      })
    : null;
  // The Diameter agent, when configured: credit control (Gy/Ro) for the configured peers, and
  // the `diameter:` channel that brings server-side disconnects to their sessions as an ASR.
  const diameter = options.diameter
    ? new (await import('./adapters/diameter/diameter-agent.ts')).DiameterAgent({
        host: options.diameter.host,
        port: options.diameter.port,
        originHost: options.diameter.originHost,
        originRealm: options.diameter.originRealm,
        peers: options.diameter.peers,
        creditControl: {
          pinSubscriptionTypes: options.diameter.pinSubscriptionTypes,
          destinationAvps: options.diameter.destinationAvps,
          freeRatingGroups: options.diameter.freeRatingGroups,
        },
        charging: services.charging,
        authenticate: (key) => services.principals.authenticate(key),
        nowMs: () => options.clock.nowMs(),
        logger: options.logger || undefined,
      })
    : null;
  const sendEvent =
    options.eventSender ??
    eventSenderByScheme({
      'http:': webhooks,
      'https:': webhooks,
      ...(kamailio ? { 'kamailio:': (event: OutboxEvent) => kamailio.sendOutboxEvent(event) } : {}),
      ...(radius ? { 'radius:': (event: OutboxEvent) => radius.sendOutboxEvent(event) } : {}),
      ...(diameter ? { 'diameter:': (event: OutboxEvent) => diameter.sendOutboxEvent(event) } : {}),
    });
  const supervision = every(supervisionIntervalMs, 'charging supervision', async () => {
    const ended = await services.charging.superviseDue();
    if (ended > 0 && options.logger) {
      options.logger.warn({ sessions: ended }, 'charging sessions ended by supervision');
    }
    // Not before the server knows its own port: no callback may be sent back to its API.
    if (services.charging.callbackRules().server === null) return;
    await services.charging.deliverOutbox(sendEvent);
  });
  const tariffRefresh = every(tariffRefreshIntervalMs, 'tariff refresh', () =>
    services.rating.refresh(),
  );
  const requestLogPrune = every(requestLogPruneIntervalMs, 'request log pruning', () =>
    services.charging.pruneRequestLog(),
  );
  /** Stops what this start began on the store; whoever opened the store closes it. */
  const stopServing = async () => {
    kamailio?.stop();
    await radius?.stop();
    await diameter?.stop();
    clearInterval(expiry);
    clearInterval(delivery);
    clearInterval(stockWatch);
    clearInterval(supervision);
    await configured?.close();
    clearInterval(tariffRefresh);
    clearInterval(requestLogPrune);
    await app.close();
  };
  try {
    await app.listen({ host: options.host, port: options.port });
    await radius?.start();
    await diameter?.start();
  } catch (error) {
    await stopServing();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  services.charging.serverListening(serverEndpointOf(app.addresses(), port));
  kamailio?.start();
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    app,
    services,
    url: `http://${shownHost}:${port}`,
    newAdminKey,
    demoAdminKey,
    async stop() {
      await stopServing();
      await store.close();
    },
  };
}

/**
 * Makes sure the operator can get in. With TOLLGATE_ADMIN_KEY the key is registered if new;
 * otherwise the first start makes one and returns it, once.
 */
async function ensureAdminKey(
  services: Services,
  adminKey: string | undefined,
): Promise<string | null> {
  const { principals, store } = services;
  if (!(await store.principalReads.getPrincipal(adminPrincipalId))) {
    try {
      const created = await principals.create(systemCaller, {
        kind: 'operator',
        name: 'Administrator',
        id: adminPrincipalId,
      });
      if (!created.ok) throw new Error(`cannot create the admin principal: ${created.code}`);
    } catch (error) {
      // Two processes starting at once on an empty database both try; one of them wins.
      if (!(await store.principalReads.getPrincipal(adminPrincipalId))) throw error;
    }
  }
  if (adminKey) {
    if (adminKey.length < 24) {
      throw new AdminKeyError('TOLLGATE_ADMIN_KEY must be at least 24 characters long');
    }
    if (!(await store.principalReads.findApiKeyByHash(hashApiKey(adminKey)))) {
      try {
        await principals.issueKey(systemCaller, {
          principalId: adminPrincipalId,
          secret: adminKey,
        });
      } catch (error) {
        if (!(await store.principalReads.findApiKeyByHash(hashApiKey(adminKey)))) throw error;
      }
    }
    return null;
  }
  const keys = await store.principalReads.listApiKeys(adminPrincipalId);
  if (keys.some((key) => key.revokedAtMs === null)) return null;
  const issued = await principals.issueKey(systemCaller, { principalId: adminPrincipalId });
  if (!issued.ok) throw new Error(`cannot issue the admin key: ${issued.code}`);
  return issued.value.secret;
}

/**
 * The demo keeps its admin key in a file beside the database (mode 0600), so every
 * `npm start` can print it. Outside the demo a key is shown once and never stored.
 */
async function demoKey(
  services: Services,
  options: ServerOptions,
  newAdminKey: string | null,
): Promise<string | null> {
  const dir = dirname(options.sqlitePath ?? './data/tollgate.db');
  const file = join(dir, 'demo-admin-key');
  let key = newAdminKey ?? options.adminKey ?? null;
  if (key === null && existsSync(file)) key = readFileSync(file, 'utf8').trim();
  if (key === null) {
    const issued = await services.principals.issueKey(systemCaller, {
      principalId: adminPrincipalId,
    });
    if (!issued.ok) throw new Error(issued.code);
    key = issued.value.secret;
  }
  if (!options.databaseUrl) {
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  await seedDemo(services);
  return key;
}
