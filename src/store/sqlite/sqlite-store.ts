// SQLite, the embedded default: WAL with synchronous=FULL (a commit is on disk before it is
// acknowledged). One writer connection lives on its own thread with the group committer, so
// the fsync of each commit never blocks HTTP; this thread keeps a second connection for reads,
// which WAL lets run while a write is in progress.

import type { Worker } from 'node:worker_threads';
import { Kysely, SqliteDialect } from 'kysely';
import type { Clock } from '../../core/shared/clock.ts';
import type { PayloadOf, ResultOf } from '../../core/shared/write-command.ts';
import type { WriteCommands } from '../../core/write-commands.ts';
import { KyselyAuditStore, KyselyPrincipalReadStore } from '../kysely-stores.ts';
import { KyselyRatingStore } from '../rating-stores.ts';
import type { Database } from '../schema.ts';
import type { Store, StoreCommitter, StoreOptions } from '../store.ts';
import { KyselySubscriberReadStore } from '../subscriber-stores.ts';
import { KyselyVoucherReadStore } from '../voucher-stores.ts';
import { connectSqlite, kyselyDatabaseOf } from './sqlite-connection.ts';
import { SqliteChargingReadStore, SqliteLedgerReadStore } from './sqlite-read-stores.ts';
import { type SqliteThreads, WriterError } from './sqlite-threads.ts';
import type { FromWriter, ToWriter } from './sqlite-writer-thread.ts';

/** Sends commands to the writer thread, a turn of the event loop's worth per message. */
class WriterThreadCommitter implements StoreCommitter {
  private readonly worker: Worker;
  private readonly clock: Clock;
  private readonly onBatch: ((size: number) => void) | undefined;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >();
  private outbox: Array<{ id: number; type: string; payload: unknown; nowMs: number }> = [];
  private nextId = 1;
  private scheduled = false;
  private broken: Error | null = null;

  constructor(worker: Worker, clock: Clock, onBatch: ((size: number) => void) | undefined) {
    this.worker = worker;
    this.clock = clock;
    this.onBatch = onBatch;
  }

  submit<K extends keyof WriteCommands & string>(
    type: K,
    payload: PayloadOf<WriteCommands[K]>,
  ): Promise<ResultOf<WriteCommands[K]>> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      const id = this.nextId;
      this.nextId += 1;
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.outbox.push({ id, type, payload, nowMs: this.clock.nowMs() });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.send());
      }
    });
  }

  private send(): void {
    this.scheduled = false;
    const items = this.outbox;
    this.outbox = [];
    const message: ToWriter = { kind: 'commands', items };
    this.worker.postMessage(message);
  }

  receive(message: FromWriter): void {
    if (message.kind !== 'results') return;
    for (const size of message.batchSizes) this.onBatch?.(size);
    for (const item of message.items) {
      const waiter = this.waiting.get(item.id);
      if (!waiter) continue;
      this.waiting.delete(item.id);
      if (item.ok) waiter.resolve(item.value);
      else waiter.reject(new WriterError(item.error));
    }
  }

  /** The writer thread died: fail what is waiting and everything after. */
  fail(error: Error): void {
    this.broken = error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  async drain(): Promise<void> {
    while (this.waiting.size > 0 || this.scheduled) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

/** Opens the store around the threads started with `startSqliteThreads` (sqlite-threads.ts). */
export async function openSqliteStore(
  options: StoreOptions & { path: string; threads: SqliteThreads },
): Promise<Store> {
  const { writer: worker, checkpointer, writerExited: exited } = options.threads;
  const committer = new WriterThreadCommitter(worker, options.clock, options.onBatch);
  let closed = false;
  try {
    // The writer first: when the file cannot be opened, its error is the one that says why.
    await options.threads.writerReady;
    await options.threads.checkpointerReady;
  } catch (error) {
    await Promise.all([worker.terminate(), checkpointer.terminate()]);
    throw error;
  }
  worker.on('message', (message: FromWriter) => committer.receive(message));
  worker.on('error', (error) => committer.fail(error));
  void exited.then(() => {
    if (!closed) committer.fail(new Error('the SQLite writer thread stopped'));
  });

  const reader = connectSqlite(options.path);
  const readDb = new Kysely<Database>({
    dialect: new SqliteDialect({ database: kyselyDatabaseOf(reader) }),
  });
  return {
    dialect: 'sqlite',
    db: readDb,
    committer,
    ledgerReads: new SqliteLedgerReadStore(readDb, reader),
    principalReads: new KyselyPrincipalReadStore(readDb),
    auditReads: new KyselyAuditStore(readDb),
    ratingReads: new KyselyRatingStore(readDb),
    voucherReads: new KyselyVoucherReadStore(readDb),
    chargingReads: new SqliteChargingReadStore(readDb, reader),
    subscriberReads: new KyselySubscriberReadStore(readDb),
    description: `SQLite ${options.path}`,
    async close() {
      await committer.drain();
      closed = true;
      const done = new Promise<void>((resolve) => {
        worker.on('message', (message: FromWriter) => {
          if (message.kind === 'closed') resolve();
        });
      });
      const message: ToWriter = { kind: 'close' };
      worker.postMessage(message);
      await Promise.race([done, exited]);
      await exited;
      const checkpointed = new Promise<void>((resolve) =>
        checkpointer.once('exit', () => resolve()),
      );
      checkpointer.postMessage({ kind: 'close' });
      await checkpointed;
      reader.close();
    },
  };
}
