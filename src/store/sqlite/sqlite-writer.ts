// The SQLite writer: the one connection that writes, with the group committer that runs write
// commands on it. It runs on its own thread (sqlite-writer-thread.ts), so the fsync at the end
// of every commit never blocks the thread that serves HTTP.

import { Kysely, SqliteDialect } from 'kysely';
import type { TxStores } from '../../core/shared/write-command.ts';
import { writeCommands } from '../../core/write-commands.ts';
import { GroupCommitter } from '../group-commit.ts';
import { KyselyAuditStore, KyselyPrincipalTxStore } from '../kysely-stores.ts';
import { migrateToLatest } from '../migrations.ts';
import { KyselyRatingStore } from '../rating-stores.ts';
import type { Database } from '../schema.ts';
import { SqliteChargingTxStore } from './sqlite-charging-tx-store.ts';
import { connectSqlite, kyselyDatabaseOf } from './sqlite-connection.ts';
import { SqliteLedgerTxStore } from './sqlite-ledger-tx-store.ts';
import { SqliteVoucherTxStore } from './sqlite-voucher-tx-store.ts';
import { WriterCache } from './writer-cache.ts';

export interface SqliteWriter {
  readonly committer: GroupCommitter<typeof writeCommands>;
  close(): Promise<void>;
}

export async function openSqliteWriter(options: {
  path: string;
  batchSizeMax?: number | undefined;
  onBatch?: (size: number) => void;
}): Promise<SqliteWriter> {
  const writer = connectSqlite(options.path);
  // Checkpoints run on their own thread (sqlite-checkpointer-thread.ts), not inside commits.
  // The writer's own automatic checkpoint stays as a backstop at 40 MB of WAL, which the
  // checkpointer keeps from ever being reached.
  writer.pragma('wal_autocheckpoint = 10000');
  writer.pragma('journal_size_limit = 67108864');
  const writeDb = new Kysely<Database>({
    dialect: new SqliteDialect({ database: kyselyDatabaseOf(writer) }),
  });
  await migrateToLatest(writeDb as Kysely<unknown>, 'sqlite');
  const cache = new WriterCache(writer);
  const stores: TxStores = {
    ledger: new SqliteLedgerTxStore(writer, cache),
    principals: new KyselyPrincipalTxStore(writeDb),
    audit: new KyselyAuditStore(writeDb),
    rating: new KyselyRatingStore(writeDb),
    vouchers: new SqliteVoucherTxStore(writer, writeDb),
    charging: new SqliteChargingTxStore(writer, writeDb, cache),
  };
  const begin = writer.prepare('BEGIN IMMEDIATE');
  const commit = writer.prepare('COMMIT');
  const rollback = writer.prepare('ROLLBACK');
  const committer = new GroupCommitter({
    registry: writeCommands,
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    ...(options.batchSizeMax ? { batchSizeMax: options.batchSizeMax } : {}),
    // BEGIN IMMEDIATE takes the write lock at once, so a second process writing the same file
    // waits in busy_timeout instead of failing half-way with SQLITE_BUSY.
    runTransaction: async (work) => {
      begin.run();
      try {
        cache.began();
        const result = await work(stores);
        commit.run();
        cache.committed();
        return result;
      } catch (error) {
        if (writer.inTransaction) rollback.run();
        cache.rolledBack();
        throw error;
      }
    },
  });
  return {
    committer,
    async close() {
      await committer.drain();
      writer.close();
    },
  };
}
