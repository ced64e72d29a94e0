// Configuration from the environment, read in one place. Flags on the command line win.

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
    delivery: {
      smtpUrl: env.TOLLGATE_SMTP_URL || undefined,
      mailFrom: env.TOLLGATE_MAIL_FROM || undefined,
      faxGatewayDomain: env.TOLLGATE_FAX_GATEWAY_DOMAIN || undefined,
      smppUrl: env.TOLLGATE_SMPP_URL || undefined,
      smsSender: env.TOLLGATE_SMS_SENDER || undefined,
    },
  };
}
