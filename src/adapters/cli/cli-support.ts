// What every `tollgate` command shares: the I/O it writes to, database flags, opening the
// services, parsing amounts and currencies, printing, and the errors that set the exit code.
// Domain command files (ledger, vouchers, rating, ...) import from here.

import type { Command } from 'commander';
import type { EnvConfig } from '../../config.ts';
import { isCurrency, parseMinor } from '../../core/money/money.ts';
import type { Services } from '../../services.ts';
import { openStore } from '../../store/store.ts';

export interface CliIo {
  readonly env: EnvConfig;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Resolves when the server should stop; defaults to SIGINT or SIGTERM. */
  waitForStop?: () => Promise<void>;
}

/** `cannotStart` shares 2 with `usage`: both are fixed by changing how the command is run. */
export const exitCodes = { ok: 0, refused: 1, usage: 2, cannotStart: 2 } as const;

/** A bad flag or value: exit code 2. */
export class UsageError extends Error {}
/** A business rule said no: exit code 1, with the refusal code printed. */
export class Refused extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export const clock = { nowMs: () => Date.now() };

export interface DbFlags {
  db?: string;
  databaseUrl?: string;
}

export function dbOptions(command: Command) {
  return command
    .option('--db <file>', 'SQLite database file (env TOLLGATE_DB; default ./data/tollgate.db)')
    .option('--database-url <url>', 'PostgreSQL URL, postgres://... (env DATABASE_URL)');
}

/** A flag beats the environment, and a database named on the command line beats both. */
export function databaseOf(flags: DbFlags, io: CliIo) {
  if (flags.databaseUrl) return { databaseUrl: flags.databaseUrl, sqlitePath: undefined };
  if (flags.db) return { databaseUrl: undefined, sqlitePath: flags.db };
  return { databaseUrl: io.env.databaseUrl, sqlitePath: io.env.sqlitePath };
}

/** Opens the store and services for one command and closes them afterwards. */
export async function withServices<T>(
  flags: DbFlags,
  io: CliIo,
  work: (services: Services) => Promise<T>,
): Promise<T> {
  // The core is imported when a command needs it, so `tollgate --help` loads none of it.
  const { createServices } = await import('../../services.ts');
  const store = await openStore({ ...databaseOf(flags, io), clock });
  try {
    return await work(await createServices(store, clock));
  } finally {
    await store.close();
  }
}

/** A date or date-time flag as milliseconds since the epoch. */
export function instant(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new UsageError(`${flag} is not a date and time: ${JSON.stringify(text)}`);
  return ms;
}

export function amount(text: string): bigint {
  const value = parseMinor(text);
  if (value === undefined)
    throw new UsageError(`not an amount in minor units: ${JSON.stringify(text)}`);
  return value;
}

export function currency(text: string) {
  if (!isCurrency(text)) throw new UsageError(`unknown currency: ${JSON.stringify(text)}`);
  return text;
}

export function print(io: CliIo, json: boolean, value: unknown, human: string): void {
  io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : `${human}\n`);
}
