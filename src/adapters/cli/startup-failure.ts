// Why a command could not start, in one line for the operator: what went wrong and how to fix
// it. A port in use, a database that cannot be opened or reached, a PIN key that cannot be used,
// a schema newer than this Tollgate: these are outages and settings, not bugs, so the command
// line prints the line, without a stack trace, and exits 2. An error not recognised here is a
// bug and keeps its stack trace.

/** Errors raised with a message already written for the operator, by their `name`. */
const explainedErrorNames = new Set([
  'PinKeyError',
  'DatabaseUrlError',
  'DatabaseNewerThanCodeError',
  'AdminKeyError',
]);

/** Connection failures that mean the database server cannot be reached, in plain words. */
const unreachableReasons: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** SQLite result codes that mean the database file itself cannot be used. */
const sqliteFileCodes = /^SQLITE_(CANTOPEN|NOTADB|CORRUPT|READONLY|PERM|AUTH|IOERR|FULL|BUSY)/;

/**
 * SQLSTATEs PostgreSQL answers a connection or a start with: connection exceptions (08), bad
 * credentials (28), no such database (3D000) or schema (3F000), not accepting connections
 * (57P03), too many connections (53300), missing privileges (42501).
 */
const postgresRefusals = /^(08...|28...|3D000|3F000|57P03|53300|42501)$/;

const databaseFlags = '--db or --database-url (or TOLLGATE_DB, DATABASE_URL)';

interface SystemErrorFields {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly syscall?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly hostname?: unknown;
  readonly path?: unknown;
  readonly severity?: unknown;
  readonly databasePath?: unknown;
}

/**
 * The one-line explanation of a start-up failure, or undefined when the error is not one (a bug).
 *
 * @example
 * startupFailureMessage(listenError) // 'cannot listen on 127.0.0.1:8080: the port is in use …'
 */
export function startupFailureMessage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const message = explain(error, error as SystemErrorFields);
  return message === undefined ? undefined : message.replace(/\s*\n\s*/g, ' ');
}

function explain(error: Error, fields: SystemErrorFields): string | undefined {
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  if (explainedErrorNames.has(error.name)) {
    const where = typeof fields.databasePath === 'string' ? ` (${fields.databasePath})` : '';
    return `${error.message}${where}`;
  }
  if (fields.syscall === 'listen') return listenFailure(fields, code);
  if (code && fields.syscall === 'connect' && code in unreachableReasons) {
    return (
      `cannot reach the database server at ${fields.address}:${fields.port} ` +
      `(${unreachableReasons[code]}): start it, or correct --database-url (or DATABASE_URL)`
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return (
      `host name ${String(fields.hostname)} cannot be resolved: correct --host (TOLLGATE_HOST) ` +
      `or the host in --database-url (DATABASE_URL)`
    );
  }
  if (code && typeof fields.severity === 'string' && postgresRefusals.test(code)) {
    return (
      `PostgreSQL refused: ${error.message} (SQLSTATE ${code}): check the user, password, ` +
      `database and privileges in --database-url (or DATABASE_URL)`
    );
  }
  if (code && typeof fields.databasePath === 'string' && sqliteFileCodes.test(code)) {
    return (
      `cannot open the SQLite database ${fields.databasePath}: ${error.message} (${code}): ` +
      `point ${databaseFlags} at a Tollgate database this user can read and write`
    );
  }
  if (fields.syscall === 'mkdir' && typeof fields.path === 'string') {
    return (
      `cannot create the folder for the database at ${fields.path} (${code}): ` +
      `choose another place with ${databaseFlags}`
    );
  }
  if (code === 'ERR_INVALID_URL') {
    return 'a URL in the settings is not valid: check TOLLGATE_SMTP_URL and TOLLGATE_SMPP_URL';
  }
  return undefined;
}

function listenFailure(fields: SystemErrorFields, code: string | undefined): string {
  const port = typeof fields.port === 'number' && fields.port > 0 ? `:${fields.port}` : '';
  const where = `cannot listen on ${fields.address}${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return (
        `${where}: the port is in use by another process; stop that process, or choose ` +
        'another port with --port (or TOLLGATE_PORT)'
      );
    case 'EACCES':
      return (
        `${where}: permission denied (ports below 1024 need privileges); choose another port ` +
        'with --port (or TOLLGATE_PORT)'
      );
    case 'EADDRNOTAVAIL':
      return (
        `${where}: ${fields.address} is not an address of this machine; choose another with ` +
        '--host (or TOLLGATE_HOST)'
      );
    default:
      return `${where} (${code}): choose another --host or --port`;
  }
}
