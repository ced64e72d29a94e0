// A write job is one request's work inside a group commit: it runs in the same database
// transaction as the other requests that arrived with it, and its promise settles only after
// that transaction commits (or fails). Jobs return business refusals as values and must not
// write anything when they refuse; an exception rolls back the whole batch, after which the
// committer runs each job alone so that only the broken one fails.

import type { LedgerBatch, LedgerNeeds } from '../ledger/ledger-batch.ts';
import type { LedgerTxStore } from '../ledger/ledger-store.ts';
import type { PrincipalTxStore } from '../principals/principal-store.ts';
import type { AuditTxStore } from './audit.ts';

/** The stores a write transaction offers. Each domain adds its own. */
export interface TxStores {
  readonly ledger: LedgerTxStore;
  readonly principals: PrincipalTxStore;
  readonly audit: AuditTxStore;
}

export interface WriteContext {
  readonly stores: TxStores;
  /** The ledger's working set for this transaction: all money moves go through it. */
  readonly ledger: LedgerBatch;
  /** The transaction's clock reading: every job in one batch sees the same time. */
  readonly nowMs: number;
}

export interface WriteJob<T> {
  /** What to load before any job of the batch runs, so loads are shared and set-based. */
  readonly needs?: LedgerNeeds;
  run(context: WriteContext): Promise<T>;
}

export interface Committer {
  submit<T>(job: WriteJob<T>): Promise<T>;
}
