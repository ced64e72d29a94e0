// Rows the SQLite writer has read or written, kept between transactions so the next request for
// the same account, hold or charging session needs no statement and no decoding. A cached row is
// exactly what the database holds, because of three rules:
// - every write to these rows on the writer connection goes through the stores that fill the
//   cache, and enters it only when its transaction commits (a rollback drops what it staged);
// - whatever is read inside a transaction is staged too, since it may show that transaction's
//   own uncommitted writes;
// - another connection (a CLI process on the same file, say) may have committed since the last
//   transaction: SQLite's `PRAGMA data_version` changes exactly then, and the whole cache is
//   dropped. The check runs after BEGIN IMMEDIATE, when no other connection can commit.

import type BetterSqlite3 from 'better-sqlite3';

/** Entries one cache keeps; past it the oldest goes. Bounds memory with many open sessions. */
const entriesMax = 10_000;

export class RowCache<T> {
  private readonly committed = new Map<string, T>();
  private readonly staged = new Map<string, T>();

  get(key: string): T | undefined {
    return this.staged.get(key) ?? this.committed.get(key);
  }

  /** Records a row read or written in the open transaction. */
  stage(key: string, value: T): void {
    this.staged.set(key, value);
  }

  commit(): void {
    for (const [key, value] of this.staged) {
      this.committed.delete(key);
      this.committed.set(key, value);
      if (this.committed.size > entriesMax) {
        this.committed.delete(this.committed.keys().next().value as string);
      }
    }
    this.staged.clear();
  }

  rollback(): void {
    this.staged.clear();
  }

  clear(): void {
    this.committed.clear();
    this.staged.clear();
  }
}

/** The writer's caches, told by the writer when a transaction begins, commits or rolls back. */
export class WriterCache {
  private readonly caches: Array<RowCache<unknown>> = [];
  private readonly dataVersion: BetterSqlite3.Statement<[], bigint>;
  private seenVersion: bigint | undefined;

  constructor(db: BetterSqlite3.Database) {
    this.dataVersion = db.prepare<[], bigint>('PRAGMA data_version').pluck();
  }

  rows<T>(): RowCache<T> {
    const cache = new RowCache<T>();
    this.caches.push(cache as RowCache<unknown>);
    return cache;
  }

  /** Call inside the transaction, after BEGIN IMMEDIATE. */
  began(): void {
    const version = BigInt(this.dataVersion.get() as bigint | number);
    if (version !== this.seenVersion) {
      for (const cache of this.caches) cache.clear();
      this.seenVersion = version;
    }
  }

  committed(): void {
    for (const cache of this.caches) cache.commit();
  }

  rolledBack(): void {
    for (const cache of this.caches) cache.rollback();
  }
}
