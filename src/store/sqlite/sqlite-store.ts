// SQLite, the embedded default: WAL with synchronous=FULL (a commit is on disk before it is
// acknowledged), one writer connection owned by the group committer, and a second connection
// for reads, which WAL lets run while a write is in progress.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { TxStores } from '../../core/shared/write-job.ts';
import { GroupCommitter } from '../group-commit.ts';
import {
  KyselyAuditStore,
  KyselyLedgerReadStore,
  KyselyPrincipalReadStore,
  KyselyPrincipalTxStore,
} from '../kysely-stores.ts';
import { migrateToLatest } from '../migrations.ts';
import type { Database } from '../schema.ts';
import type { Store, StoreOptions } from '../store.ts';
import { SqliteLedgerTxStore } from './sqlite-ledger-tx-store.ts';

/** How long a writer waits for another process (the CLI, say) to release the write lock. */
const busyTimeoutMs = 5000;

function connect(path: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(path);
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // 64 MiB of page cache keeps the hot index pages of a busy ledger in memory.
  db.pragma('cache_size = -65536');
  db.defaultSafeIntegers(true);
  return db;
}

export async function openSqliteStore(options: StoreOptions & { path: string }): Promise<Store> {
  mkdirSync(dirname(options.path), { recursive: true });
  const writer = connect(options.path);
  const writeDb = new Kysely<Database>({ dialect: new SqliteDialect({ database: writer }) });
  await migrateToLatest(writeDb as Kysely<unknown>, 'sqlite');
  const reader = connect(options.path);
  const readDb = new Kysely<Database>({ dialect: new SqliteDialect({ database: reader }) });

  const stores: TxStores = {
    ledger: new SqliteLedgerTxStore(writer),
    principals: new KyselyPrincipalTxStore(writeDb),
    audit: new KyselyAuditStore(writeDb),
  };
  const begin = writer.prepare('BEGIN IMMEDIATE');
  const commit = writer.prepare('COMMIT');
  const rollback = writer.prepare('ROLLBACK');
  const committer = new GroupCommitter({
    clock: options.clock,
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    ...(options.batchSizeMax ? { batchSizeMax: options.batchSizeMax } : {}),
    // BEGIN IMMEDIATE takes the write lock at once, so a second process writing the same file
    // waits in busy_timeout instead of failing half-way with SQLITE_BUSY.
    runTransaction: async (work) => {
      begin.run();
      try {
        const result = await work(stores);
        commit.run();
        return result;
      } catch (error) {
        if (writer.inTransaction) rollback.run();
        throw error;
      }
    },
  });

  return {
    dialect: 'sqlite',
    db: readDb,
    committer,
    ledgerReads: new KyselyLedgerReadStore(readDb),
    principalReads: new KyselyPrincipalReadStore(readDb),
    auditReads: new KyselyAuditStore(readDb),
    description: `SQLite ${options.path}`,
    async close() {
      await committer.drain();
      reader.close();
      writer.close();
    },
  };
}
