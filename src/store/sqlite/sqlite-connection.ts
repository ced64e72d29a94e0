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

/** Distinct SQL texts whose prepared statements a connection keeps. */
const statementCacheSize = 512;

/**
 * The connection as Kysely's SQLite dialect sees it, with prepared statements kept by SQL text.
 * Kysely prepares every query anew, which costs as much as running a small one; the same query
 * shapes come back all the time (a session by id, an account by id), so keeping the last few
 * hundred makes each a lookup. Kysely never streams here, so no statement is ever busy when it
 * is reused. The least recently used statement goes first when the cache is full.
 */
export function kyselyDatabaseOf(db: BetterSqlite3.Database) {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close(): void {
      if (db.open) db.close();
    },
    prepare(sql: string): BetterSqlite3.Statement {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql);
      } else {
        statement = db.prepare(sql);
        if (statements.size >= statementCacheSize) {
          statements.delete(statements.keys().next().value as string);
        }
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
