// Group commit: the requests that arrive while one write transaction is running wait together
// and go into the next transaction, so one durable commit (one fsync on SQLite) serves many
// requests. Each request's promise settles only after the commit that holds it.

import { LedgerBatch, type LedgerNeeds } from '../core/ledger/ledger-batch.ts';
import type { TransferKeyRef } from '../core/ledger/ledger-store.ts';
import type { Clock } from '../core/shared/clock.ts';
import type { Committer, TxStores, WriteJob } from '../core/shared/write-job.ts';

/** Most requests one transaction takes: bounds a transaction's time and memory under load. */
export const groupCommitBatchMax = 512;

export type RunTransaction = <T>(work: (stores: TxStores) => Promise<T>) => Promise<T>;

interface Pending {
  readonly job: WriteJob<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export interface GroupCommitStats {
  batches: number;
  jobs: number;
  isolatedRetries: number;
}

export class GroupCommitter implements Committer {
  private readonly runTransaction: RunTransaction;
  private readonly clock: Clock;
  private readonly onBatch: ((size: number) => void) | undefined;
  private readonly batchSizeMax: number;
  private queue: Pending[] = [];
  private running = false;
  private scheduled = false;
  readonly stats: GroupCommitStats = { batches: 0, jobs: 0, isolatedRetries: 0 };

  constructor(options: {
    runTransaction: RunTransaction;
    clock: Clock;
    onBatch?: (size: number) => void;
    /** 1 turns group commit off: one transaction per request, the benchmarks' baseline. */
    batchSizeMax?: number;
  }) {
    this.batchSizeMax = options.batchSizeMax ?? groupCommitBatchMax;
    this.runTransaction = options.runTransaction;
    this.clock = options.clock;
    this.onBatch = options.onBatch;
  }

  submit<T>(job: WriteJob<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, resolve: resolve as (value: unknown) => void, reject });
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
      results = await this.runTransaction((stores) => this.runJobs(stores, batch));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Something threw: a bug or an outage. Run each job alone so that only the jobs that
      // really fail see the error, and the others still commit.
      this.stats.isolatedRetries += 1;
      for (const pending of batch) await this.commit([pending]);
      return;
    }
    this.stats.batches += 1;
    this.stats.jobs += batch.length;
    this.onBatch?.(batch.length);
    for (let i = 0; i < batch.length; i += 1) batch[i]!.resolve(results[i]);
  }

  private async runJobs(stores: TxStores, batch: Pending[]): Promise<unknown[]> {
    const ledger = new LedgerBatch(stores.ledger);
    const nowMs = this.clock.nowMs();
    await ledger.load(mergeNeeds(batch.map((pending) => pending.job.needs)));
    const results: unknown[] = [];
    for (const pending of batch) {
      results.push(await pending.job.run({ stores, ledger, nowMs }));
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
