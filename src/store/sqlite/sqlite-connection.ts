// Opening a SQLite connection the way Tollgate needs it, for the writer thread and the reader.

import BetterSqlite3 from 'better-sqlite3';

/** How long a writer waits for another process (the CLI, say) to release the write lock. */
export const busyTimeoutMs = 5000;

export function connectSqlite(path: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(path);
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before the transaction returns, so before any answer is sent.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // 64 MiB of page cache keeps the hot index pages of a busy ledger in memory.
  db.pragma('cache_size = -65536');
  db.defaultSafeIntegers(true);
  return db;
}
