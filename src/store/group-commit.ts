// Group commit: the commands that arrive while one write transaction is running wait together
// and go into the next transaction, so one durable commit (one fsync on SQLite) serves many
// requests. Each command's promise settles only after the commit that holds it.

import { LedgerBatch, type LedgerNeeds } from '../core/ledger/ledger-batch.ts';
import type { TransferKeyRef } from '../core/ledger/ledger-store.ts';
import type { Clock } from '../core/shared/clock.ts';
import type {
  CommandItem,
  CommandRegistry,
  Committer,
  PayloadOf,
  ResultOf,
  TxStores,
} from '../core/shared/write-command.ts';

/** Most commands one transaction takes: bounds a transaction's time and memory under load. */
export const groupCommitBatchMax = 512;

export type RunTransaction = <T>(work: (stores: TxStores) => Promise<T>) => Promise<T>;

interface Pending {
  readonly item: CommandItem;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export class UnknownCommandError extends Error {
  override name = 'UnknownCommandError';
}

export class GroupCommitter<C extends CommandRegistry> implements Committer<C> {
  private readonly registry: C;
  private readonly runTransaction: RunTransaction;
  private readonly clock: Clock | undefined;
  private readonly onBatch: ((size: number) => void) | undefined;
  private readonly batchSizeMax: number;
  private queue: Pending[] = [];
  private running = false;
  private scheduled = false;

  constructor(options: {
    registry: C;
    runTransaction: RunTransaction;
    /** Stamps submitted commands; commands enqueued with their own time need none. */
    clock?: Clock;
    onBatch?: (size: number) => void;
    /** 1 turns group commit off: one transaction per request, the benchmarks' baseline. */
    batchSizeMax?: number;
  }) {
    this.registry = options.registry;
    this.runTransaction = options.runTransaction;
    this.clock = options.clock;
    this.onBatch = options.onBatch;
    this.batchSizeMax = options.batchSizeMax ?? groupCommitBatchMax;
  }

  submit<K extends keyof C & string>(type: K, payload: PayloadOf<C[K]>): Promise<ResultOf<C[K]>> {
    const nowMs = this.clock ? this.clock.nowMs() : 0;
    return this.enqueue({ type, payload, nowMs }) as Promise<ResultOf<C[K]>>;
  }

  /** Queues a command that already carries its submission time. */
  enqueue(item: CommandItem): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when everything submitted so far has committed or failed. */
  async drain(): Promise<void> {
    while (this.running || this.scheduled || this.queue.length > 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not a microtask: requests whose bytes arrived in the same turn of the event
    // loop are all parsed before the batch is cut.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.batchSizeMax);
        await this.commit(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    let results: unknown[];
    try {
      results = await this.runTransaction((stores) => this.runCommands(stores, batch));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Something threw: a bug or an outage. Run each command alone so that only the ones that
      // really fail see the error, and the others still commit.
      for (const pending of batch) await this.commit([pending]);
      return;
    }
    this.onBatch?.(batch.length);
    for (let i = 0; i < batch.length; i += 1) batch[i]!.resolve(results[i]);
  }

  private async runCommands(stores: TxStores, batch: Pending[]): Promise<unknown[]> {
    const ledger = new LedgerBatch(stores.ledger);
    let nowMs = 0;
    const needs: Array<LedgerNeeds | undefined> = [];
    for (const { item } of batch) {
      const handler = this.registry[item.type];
      if (!handler) throw new UnknownCommandError(`no handler for command ${item.type}`);
      nowMs = Math.max(nowMs, item.nowMs);
      needs.push(handler.needs?.(item.payload));
    }
    await ledger.load(mergeNeeds(needs));
    const results: unknown[] = [];
    for (const { item } of batch) {
      results.push(await this.registry[item.type]!.run({ stores, ledger, nowMs }, item.payload));
    }
    await ledger.flush();
    return results;
  }
}

function mergeNeeds(list: ReadonlyArray<LedgerNeeds | undefined>): LedgerNeeds {
  const accountIds: string[] = [];
  const keys: TransferKeyRef[] = [];
  const holdIds: string[] = [];
  for (const needs of list) {
    if (!needs) continue;
    accountIds.push(...needs.accountIds);
    keys.push(...needs.keys);
    holdIds.push(...needs.holdIds);
  }
  return { accountIds, keys, holdIds };
}
