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
  /** TOLLGATE_KAMAILIO_EVAPI: the Kamailio evapi sockets the agent connects to (host:port,...). */
  readonly kamailioEvapi: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  /** TOLLGATE_RADIUS_*: the RADIUS agent's listeners and its clients; null: no RADIUS agent. */
  readonly radius: RadiusConfig | null;
  /** TOLLGATE_DIAMETER_*: the Diameter credit-control server and its peers; null: none. */
  readonly diameter: DiameterConfig | null;
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
    kamailioEvapi: evapiAddressesOf(env.TOLLGATE_KAMAILIO_EVAPI),
    radius: radiusConfigOf(env),
    diameter: diameterConfigOf(env),
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
 * `host` or `host:port` (IPv6 in brackets), or `*` for any host. Unset or empty: loopback only.
 * Link-local and metadata addresses and the server's own port are refused whatever it says
 * (core/charging/callback-policy.ts).
 */
function callbackHostsOf(text: string | undefined): Partial<ChargingSettings> {
  const hosts = (text ?? '')
    .split(',')
    .map((host) => host.trim().toLowerCase())
    .filter((host) => host !== '');
  if (hosts.length === 0) return {};
  return { callbackHosts: hosts.includes('*') ? ['*'] : hosts };
}

/**
 * TOLLGATE_KAMAILIO_EVAPI: comma-separated `host:port` of Kamailio evapi sockets (`[v6]:port` for
 * IPv6), e.g. `127.0.0.1:8448,10.0.0.7:8448`. Unset or empty: no Kamailio agent. A malformed
 * entry stops the start-up rather than leave a proxy without its charging.
 */
export function evapiAddressesOf(
  text: string | undefined,
): Array<{ readonly host: string; readonly port: number }> {
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.map((entry) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(entry);
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65535) {
      throw new Error(`TOLLGATE_KAMAILIO_EVAPI: "${entry}" is not host:port`);
    }
    return { host: (match[1] ?? match[2])!, port };
  });
}

/** The RADIUS agent's configuration (src/adapters/radius). */
export interface RadiusConfig {
  readonly host: string;
  readonly authPort: number;
  readonly acctPort: number;
  readonly clients: ReadonlyArray<{
    readonly address: string;
    readonly secret: string;
    /** The API key of the `switch` principal the client's calls are charged as. */
    readonly switchKey: string;
    /** Where the NAS takes Disconnect-Requests (RFC 5176: 3799). */
    readonly coaPort: number;
  }>;
}

/**
 * TOLLGATE_RADIUS_CLIENTS: comma-separated `address=secret`, each optionally followed by
 * `;key=<switch API key>` and `;coa_port=<port>`, e.g.
 * `127.0.0.1=s3cret,10.0.0.7=other;key=tg_abc;coa_port=1700`. A secret holds no `,` or `;`.
 * TOLLGATE_RADIUS_SWITCH_KEY is the key of clients that name none; TOLLGATE_RADIUS_HOST (default
 * 127.0.0.1), TOLLGATE_RADIUS_PORT (1812) and TOLLGATE_RADIUS_ACCT_PORT (the port + 1) say where
 * to listen. Unset TOLLGATE_RADIUS_CLIENTS: no RADIUS agent. A malformed value stops the start-up.
 */
export function radiusConfigOf(env: NodeJS.ProcessEnv): RadiusConfig | null {
  const entries = (env.TOLLGATE_RADIUS_CLIENTS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return null;
  const port = (name: string, fallback: number) => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = wholeNumber(text, 0, 65535);
    if (value === undefined) throw new Error(`${name}: "${text}" is not a port (0-65535)`);
    return value;
  };
  const authPort = port('TOLLGATE_RADIUS_PORT', 1812);
  const acctPort = port('TOLLGATE_RADIUS_ACCT_PORT', authPort === 0 ? 0 : authPort + 1);
  const defaultKey = env.TOLLGATE_RADIUS_SWITCH_KEY || undefined;
  const clients = entries.map((entry, index) => {
    const equals = entry.indexOf('=');
    const address = entry.slice(0, Math.max(equals, 0)).trim();
    const [secret = '', ...options] = entry.slice(equals + 1).split(';');
    if (equals < 1 || !/^[0-9a-fA-F:.]+$/.test(address) || secret === '') {
      // The entry is not shown: it may hold the secret.
      throw new Error(`TOLLGATE_RADIUS_CLIENTS: entry ${index + 1} is not address=secret`);
    }
    let switchKey = defaultKey;
    let coaPort = 3799;
    for (const option of options) {
      const [name, value = ''] = option.split('=', 2).map((part) => part.trim());
      if (name === 'key' && value !== '') switchKey = value;
      else if (name === 'coa_port' && wholeNumber(value, 1, 65535) !== undefined) {
        coaPort = Number(value);
      } else {
        throw new Error(
          `TOLLGATE_RADIUS_CLIENTS: option "${name}" of ${address} is not key or coa_port`,
        );
      }
    }
    if (switchKey === undefined) {
      throw new Error(
        `TOLLGATE_RADIUS_CLIENTS: ${address} has no switch key (;key=... or TOLLGATE_RADIUS_SWITCH_KEY)`,
      );
    }
    return { address, secret, switchKey, coaPort };
  });
  return { host: env.TOLLGATE_RADIUS_HOST || '127.0.0.1', authPort, acctPort, clients };
}

/** The Diameter agent's configuration (src/adapters/diameter). */
export interface DiameterConfig {
  readonly host: string;
  readonly port: number;
  readonly originHost: string;
  readonly originRealm: string;
  /** Each peer's Origin-Host and the API key of the `switch` principal it charges as. */
  readonly peers: ReadonlyMap<string, string>;
  /** Subscription-Id-Types whose data is a calling-card PIN. */
  readonly pinSubscriptionTypes: readonly number[];
  /** The AVPs (code, Vendor-Id) the dialled number is read from, first found wins. */
  readonly destinationAvps: ReadonlyArray<{ readonly code: number; readonly vendorId: number }>;
  /** Rating-Groups answered 4011 (not credit-controlled). */
  readonly freeRatingGroups: readonly number[];
}

/**
 * TOLLGATE_DIAMETER_PORT (3868 is Diameter's own; 0: any free port) turns the Diameter agent on;
 * TOLLGATE_DIAMETER_HOST (default 127.0.0.1) is where it listens. TOLLGATE_DIAMETER_PEERS is
 * comma-separated `origin-host=<switch API key>`; TOLLGATE_DIAMETER_ORIGIN_HOST and _ORIGIN_REALM
 * (default `tollgate.localdomain`, `localdomain`) are Tollgate's identity.
 * TOLLGATE_DIAMETER_PIN_TYPES (default `4`, END_USER_PRIVATE) are the Subscription-Id-Types that
 * carry a PIN; TOLLGATE_DIAMETER_DESTINATION_AVPS (default `10415:832,30`: Called-Party-Address,
 * then Called-Station-Id) where the dialled number is read; TOLLGATE_DIAMETER_FREE_RATING_GROUPS
 * (default none) the Rating-Groups answered 4011. A malformed value stops the start-up.
 */
export function diameterConfigOf(env: NodeJS.ProcessEnv): DiameterConfig | null {
  const portText = env.TOLLGATE_DIAMETER_PORT;
  if (portText === undefined || portText === '') return null;
  const port = wholeNumber(portText, 0, 65535);
  if (port === undefined) {
    throw new Error(`TOLLGATE_DIAMETER_PORT: "${portText}" is not a port (0-65535)`);
  }
  const list = (text: string | undefined) =>
    (text ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  const peers = new Map<string, string>();
  for (const [index, entry] of list(env.TOLLGATE_DIAMETER_PEERS).entries()) {
    const equals = entry.indexOf('=');
    const host = entry.slice(0, Math.max(equals, 0)).trim();
    const key = entry.slice(equals + 1).trim();
    if (equals < 1 || key === '' || !/^[A-Za-z0-9.\-_]+$/.test(host)) {
      // The entry is not shown: it holds a key.
      throw new Error(`TOLLGATE_DIAMETER_PEERS: entry ${index + 1} is not origin-host=key`);
    }
    peers.set(host, key);
  }
  const numbers = (name: string, text: string | undefined, fallback: number[]) => {
    if (text === undefined) return fallback;
    return list(text).map((entry) => {
      const value = wholeNumber(entry, 0, 4_294_967_295);
      if (value === undefined) throw new Error(`${name}: "${entry}" is not a number`);
      return value;
    });
  };
  const destinationAvps = list(env.TOLLGATE_DIAMETER_DESTINATION_AVPS || '10415:832,30').map(
    (entry) => {
      const match = /^(?:([0-9]{1,10}):)?([0-9]{1,10})$/.exec(entry);
      if (!match) {
        throw new Error(`TOLLGATE_DIAMETER_DESTINATION_AVPS: "${entry}" is not [vendor:]code`);
      }
      return { vendorId: Number(match[1] ?? 0), code: Number(match[2]) };
    },
  );
  return {
    host: env.TOLLGATE_DIAMETER_HOST || '127.0.0.1',
    port,
    originHost: env.TOLLGATE_DIAMETER_ORIGIN_HOST || 'tollgate.localdomain',
    originRealm: env.TOLLGATE_DIAMETER_ORIGIN_REALM || 'localdomain',
    peers,
    pinSubscriptionTypes: numbers(
      'TOLLGATE_DIAMETER_PIN_TYPES',
      env.TOLLGATE_DIAMETER_PIN_TYPES,
      [4],
    ),
    destinationAvps,
    freeRatingGroups: numbers(
      'TOLLGATE_DIAMETER_FREE_RATING_GROUPS',
      env.TOLLGATE_DIAMETER_FREE_RATING_GROUPS,
      [],
    ),
  };
}
