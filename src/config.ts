// Configuration from the environment, read in one place. Flags on the command line win.

import type { ChargingSettings } from './core/charging/charging.ts';

export interface EnvConfig {
  readonly databaseUrl: string | undefined;
  readonly sqlitePath: string | undefined;
  readonly adminKey: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  /** TOLLGATE_PIN_KEY: the PIN master key itself (hex or base64); wins over the key file. */
  readonly pinKey: string | undefined;
  /** TOLLGATE_PIN_KEY_FILE: where the PIN key file lives; default `pin.key` beside the database. */
  readonly pinKeyFile: string | undefined;
  /** Charging policy: TOLLGATE_CHARGING_* variables, unset ones keep their defaults. */
  readonly charging: Partial<ChargingSettings>;
  /** TOLLGATE_WEBHOOK_SECRET: signs webhook and disconnect-callback bodies. */
  readonly webhookSecret: string | undefined;
  /** Where sold PINs are delivered from: SMTP (e-mail, fax by mail) and SMPP (SMS). */
  readonly delivery: {
    readonly smtpUrl: string | undefined;
    readonly mailFrom: string | undefined;
    readonly faxGatewayDomain: string | undefined;
    readonly smppUrl: string | undefined;
    readonly smsSender: string | undefined;
  };
}

export function readEnv(env: NodeJS.ProcessEnv): EnvConfig {
  const port = Number(env.TOLLGATE_PORT ?? env.PORT ?? 8080);
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    sqlitePath: env.TOLLGATE_DB || undefined,
    adminKey: env.TOLLGATE_ADMIN_KEY || undefined,
    host: env.TOLLGATE_HOST ?? '127.0.0.1',
    port: Number.isInteger(port) && port >= 0 && port < 65536 ? port : 8080,
    logLevel: env.TOLLGATE_LOG_LEVEL ?? 'info',
    pinKey: env.TOLLGATE_PIN_KEY,
    pinKeyFile: env.TOLLGATE_PIN_KEY_FILE || undefined,
    charging: chargingOf(env),
    webhookSecret: env.TOLLGATE_WEBHOOK_SECRET || undefined,
    delivery: {
      smtpUrl: env.TOLLGATE_SMTP_URL || undefined,
      mailFrom: env.TOLLGATE_MAIL_FROM || undefined,
      faxGatewayDomain: env.TOLLGATE_FAX_GATEWAY_DOMAIN || undefined,
      smppUrl: env.TOLLGATE_SMPP_URL || undefined,
      smsSender: env.TOLLGATE_SMS_SENDER || undefined,
    },
  };
}

function wholeNumber(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^[0-9]{1,9}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

/**
 * TOLLGATE_CHARGING_SLICE_SECONDS, _GRACE_SECONDS, _MIN_BALANCE (minor units), _AUTO_LINK_ANI,
 * _REQUEST_LOG_DAYS, and TOLLGATE_CALLBACK_HOSTS.
 */
function chargingOf(env: NodeJS.ProcessEnv): Partial<ChargingSettings> {
  const slice = wholeNumber(env.TOLLGATE_CHARGING_SLICE_SECONDS, 1, 86_400);
  const grace = wholeNumber(env.TOLLGATE_CHARGING_GRACE_SECONDS, 0, 3_600);
  const minimum = env.TOLLGATE_CHARGING_MIN_BALANCE;
  const logDays = wholeNumber(env.TOLLGATE_CHARGING_REQUEST_LOG_DAYS, 1, 3_650);
  return {
    ...(slice === undefined ? {} : { sliceSeconds: slice }),
    ...(grace === undefined ? {} : { graceSeconds: grace }),
    ...(minimum && /^[0-9]{1,18}$/.test(minimum) ? { minimumBalanceMinor: BigInt(minimum) } : {}),
    ...(env.TOLLGATE_CHARGING_AUTO_LINK_ANI === 'true' ? { autoLinkAni: true } : {}),
    ...(logDays === undefined ? {} : { requestLogDays: logDays }),
    ...callbackHostsOf(env.TOLLGATE_CALLBACK_HOSTS),
  };
}

/**
 * TOLLGATE_CALLBACK_HOSTS: the hosts callbacks and webhooks may go to, comma-separated, each
 * `host` or `host:port` (IPv6 in brackets). Unset, empty or `*`: any host.
 */
function callbackHostsOf(text: string | undefined): Partial<ChargingSettings> {
  const hosts = (text ?? '')
    .split(',')
    .map((host) => host.trim().toLowerCase())
    .filter((host) => host !== '');
  return hosts.length === 0 || hosts.includes('*') ? {} : { callbackHosts: hosts };
}
