// Configuration from the environment, read in one place. Flags on the command line win.

export interface EnvConfig {
  readonly databaseUrl: string | undefined;
  readonly sqlitePath: string | undefined;
  readonly adminKey: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
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
  };
}
