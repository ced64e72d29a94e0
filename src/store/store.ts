// Opens the database Tollgate runs on: the embedded SQLite file by default, PostgreSQL when a
// postgres:// URL is given. Both offer the same interfaces to the core.

import type { Kysely } from 'kysely';
import type { ChargingReadStore } from '../core/charging/charging-types.ts';
import type { LedgerReadStore } from '../core/ledger/ledger-store.ts';
import type { PrincipalReadStore } from '../core/principals/principal-store.ts';
import type { RatingReadStore } from '../core/rating/rating-store.ts';
import type { AuditReadStore } from '../core/shared/audit.ts';
import type { Clock } from '../core/shared/clock.ts';
import type { SubscriberReadStore } from '../core/subscribers/subscriber-types.ts';
import type { VoucherReadStore } from '../core/vouchers/voucher-types.ts';
import type { WriteCommitter } from '../core/write-commands.ts';
import type { Database, Dialect } from './schema.ts';

/** The committer a store offers: every write command, and a way to wait for them all. */
export interface StoreCommitter extends WriteCommitter {
  /** Resolves when everything submitted so far has committed or failed. */
  drain(): Promise<void>;
}

export interface Store {
  readonly dialect: Dialect;
  /** A Kysely instance for reads (SQLite: a separate read connection). */
  readonly db: Kysely<Database>;
  readonly committer: StoreCommitter;
  readonly ledgerReads: LedgerReadStore;
  readonly principalReads: PrincipalReadStore;
  readonly auditReads: AuditReadStore;
  readonly ratingReads: RatingReadStore;
  readonly voucherReads: VoucherReadStore;
  readonly chargingReads: ChargingReadStore;
  readonly subscriberReads: SubscriberReadStore;
  /** Where the data lives, for start-up messages; never contains a password. */
  readonly description: string;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… selects PostgreSQL; otherwise `sqlitePath` is used. */
  readonly databaseUrl?: string | undefined;
  readonly sqlitePath?: string | undefined;
  /** PostgreSQL only: connections in the pool (default 10). */
  readonly postgresPoolSize?: number | undefined;
  /** PostgreSQL only: a schema to create and use, so test runs never collide. */
  readonly postgresSchema?: string | undefined;
  readonly clock: Clock;
  readonly onBatch?: (size: number) => void;
  /** Most requests per transaction; 1 commits each request alone (a benchmark baseline). */
  readonly batchSizeMax?: number | undefined;
}

export const defaultSqlitePath = './data/tollgate.db';

/** The database URL is not one Tollgate can use; the message says how to write one. */
export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

/** What a usable URL looks like; the URL given is never repeated (it may hold a password). */
const databaseUrlForm =
  'postgres://user:password@host:5432/database, or leave it unset to use SQLite';

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    const { openPostgresStore } = await import('./postgres/postgres-store.ts');
    try {
      return await openPostgresStore({ ...options, databaseUrl: options.databaseUrl });
    } catch (error) {
      // pg parses the URL when it first connects; the only URL it parses is this one.
      if ((error as { code?: unknown }).code !== 'ERR_INVALID_URL') throw error;
      const message = `DATABASE_URL is not a valid URL: write it as ${databaseUrlForm}`;
      throw new DatabaseUrlError(message, { cause: error });
    }
  }
  if (options.databaseUrl) {
    throw new DatabaseUrlError(
      `DATABASE_URL must start with postgres:// or postgresql://: write it as ${databaseUrlForm}`,
    );
  }
  const path = options.sqlitePath ?? defaultSqlitePath;
  // The writer and checkpointer threads start before this thread loads the SQLite store's
  // modules (Kysely among them), so the threads load side by side: most of a start is loading.
  const { startSqliteThreads } = await import('./sqlite/sqlite-threads.ts');
  const threads = startSqliteThreads({ path, batchSizeMax: options.batchSizeMax });
  const { openSqliteStore } = await import('./sqlite/sqlite-store.ts');
  return openSqliteStore({ ...options, path, threads });
}
