// Starting and stopping the server: store, services, HTTP app, the hold-expiry timer and the
// bootstrap admin key. `tollgate serve` calls this; tests and benchmarks do too.

import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { type DeliveryConfig, pinSenderFromConfig } from './adapters/delivery/pin-sender-config.ts';
import { type App, buildApp } from './adapters/http/app.ts';
import { createMetrics } from './adapters/http/metrics.ts';
import { defaultPinKeyFile, loadPinKeyForStore } from './adapters/keys/pin-key-guard.ts';
import { eventSenderByScheme, httpEventSender } from './adapters/webhooks/http-event-sender.ts';
import type { ChargingSettings } from './core/charging/charging.ts';
import type { OutboxEvent } from './core/charging/charging-types.ts';
import { hashApiKey } from './core/principals/principals.ts';
import type { Clock } from './core/shared/clock.ts';
import { systemCaller } from './core/shared/principal.ts';
import type { PinSender, VoucherSettings } from './core/vouchers/vouchers.ts';
import { seedDemo } from './demo.ts';
import { createServices, type Services } from './services.ts';
import { openStore } from './store/store.ts';

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
  const store = await openStore({
    databaseUrl: options.databaseUrl,
    sqlitePath: options.sqlitePath,
    postgresSchema: options.postgresSchema,
    batchSizeMax: options.batchSizeMax,
    clock: options.clock,
    onBatch: (size) => metrics.observeBatch(size),
  });
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
  const configured = options.pinSender ? undefined : pinSenderFromConfig(options.delivery ?? {});
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
  const webhooks = httpEventSender({ secret: options.webhookSecret });
  const sendEvent =
    options.eventSender ?? eventSenderByScheme({ 'http:': webhooks, 'https:': webhooks });
  const supervision = every(supervisionIntervalMs, 'charging supervision', async () => {
    const ended = await services.charging.superviseDue();
    if (ended > 0 && options.logger) {
      options.logger.warn({ sessions: ended }, 'charging sessions ended by supervision');
    }
    await services.charging.deliverOutbox(sendEvent);
  });
  const tariffRefresh = every(tariffRefreshIntervalMs, 'tariff refresh', () =>
    services.rating.refresh(),
  );
  const requestLogPrune = every(requestLogPruneIntervalMs, 'request log pruning', () =>
    services.charging.pruneRequestLog(),
  );
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    app,
    services,
    url: `http://${shownHost}:${port}`,
    newAdminKey,
    demoAdminKey,
    async stop() {
      clearInterval(expiry);
      clearInterval(delivery);
      clearInterval(stockWatch);
      clearInterval(supervision);
      await configured?.close();
      clearInterval(tariffRefresh);
      clearInterval(requestLogPrune);
      await app.close();
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
    if (adminKey.length < 24) throw new Error('TOLLGATE_ADMIN_KEY must be at least 24 characters');
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
