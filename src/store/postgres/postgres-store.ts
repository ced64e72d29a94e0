// PostgreSQL: several Tollgate processes may share one database. Writes run in READ COMMITTED
// transactions that lock the rows they change in id order; a transaction that still loses a
// race (deadlock, serialization failure, a duplicate idempotency key written by another
// process) is retried a bounded number of times, and a retry sees the winner's rows.

import { randomInt } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { TxStores } from '../../core/shared/write-command.ts';
import { writeCommands } from '../../core/write-commands.ts';
import { KyselyChargingReadStore } from '../charging-stores.ts';
import { GroupCommitter } from '../group-commit.ts';
import {
  KyselyAuditStore,
  KyselyLedgerReadStore,
  KyselyPrincipalReadStore,
  KyselyPrincipalTxStore,
} from '../kysely-stores.ts';
import { migrateToLatest } from '../migrations.ts';
import { KyselyRatingStore } from '../rating-stores.ts';
import type { Database } from '../schema.ts';
import type { Store, StoreOptions } from '../store.ts';
import { KyselySubscriberReadStore } from '../subscriber-stores.ts';
import { KyselyVoucherReadStore } from '../voucher-stores.ts';
import { PostgresChargingTxStore } from './postgres-charging-tx-store.ts';
import { PostgresLedgerTxStore } from './postgres-ledger-tx-store.ts';
import { PostgresVoucherTxStore } from './postgres-voucher-tx-store.ts';

/** Attempts of one transaction before its error goes to the caller. */
export const transactionAttemptsMax = 8;
/** Connections per process unless the caller asks for fewer (tests open many stores at once). */
export const poolSizeDefault = 10;

/** 40001 serialization failure, 40P01 deadlock, 23505 unique violation (a racing writer). */
const retryableCodes = new Set(['40001', '40P01', '23505']);

export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && retryableCodes.has(code);
}

const int8Oid = 20;

/** Describes a URL without its password, for logs and start-up messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export async function openPostgresStore(
  options: StoreOptions & { databaseUrl: string },
): Promise<Store> {
  const schema = options.postgresSchema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error('postgresSchema must be a lower-case SQL identifier');
  }
  if (schema) {
    const admin = new pg.Client({ connectionString: options.databaseUrl });
    await admin.connect();
    try {
      // `if not exists` still races: two sessions creating one schema at once collide on the
      // catalog's unique index. The migration lock serialises them.
      await admin.query('select pg_advisory_lock(7261001)');
      await admin.query(`create schema if not exists ${schema}`);
      await admin.query('select pg_advisory_unlock(7261001)');
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.postgresPoolSize ?? poolSizeDefault,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === int8Oid
          ? (text: string) => BigInt(text)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle pooled connection that the server closes (a restart, a terminated backend) is
  // reported here; the pool drops it and the next query opens a new one. Without a listener the
  // error would be unhandled and stop the process.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Two processes starting at once must not both create the tables.
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(7261001)`.execute(conn);
    try {
      await migrateToLatest(conn as Kysely<unknown>, 'postgres', schema);
    } finally {
      await sql`select pg_advisory_unlock(7261001)`.execute(conn);
    }
  });

  const committer = new GroupCommitter({
    registry: writeCommands,
    clock: options.clock,
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    ...(options.batchSizeMax ? { batchSizeMax: options.batchSizeMax } : {}),
    runTransaction: async (work) => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await db.transaction().execute(async (trx) => {
            const charging = new PostgresChargingTxStore(trx);
            const vouchers = new PostgresVoucherTxStore(trx);
            const stores: TxStores = {
              ledger: new PostgresLedgerTxStore(trx),
              principals: new KyselyPrincipalTxStore(trx),
              audit: new KyselyAuditStore(trx),
              rating: new KyselyRatingStore(trx),
              vouchers,
              charging,
            };
            const result = await work(stores);
            // What the stores wrote behind goes in before COMMIT.
            await vouchers.flush();
            await charging.flush();
            return result;
          });
        } catch (error) {
          if (!isRetryable(error) || attempt >= transactionAttemptsMax) throw error;
          await new Promise((resolve) => setTimeout(resolve, randomInt(1, 5 * attempt + 2)));
        }
      }
    },
  });

  return {
    dialect: 'postgres',
    db,
    committer,
    ledgerReads: new KyselyLedgerReadStore(db),
    principalReads: new KyselyPrincipalReadStore(db),
    auditReads: new KyselyAuditStore(db),
    ratingReads: new KyselyRatingStore(db),
    voucherReads: new KyselyVoucherReadStore(db),
    chargingReads: new KyselyChargingReadStore(db),
    subscriberReads: new KyselySubscriberReadStore(db),
    description: `PostgreSQL ${redactUrl(options.databaseUrl)}${schema ? ` (schema ${schema})` : ''}`,
    async close() {
      await committer.drain();
      await db.destroy();
    },
  };
}
