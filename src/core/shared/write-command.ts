// A write command is one request's work inside a group commit, described as data: a type and a
// payload that can cross a thread boundary. The committer runs the commands that arrive
// together in one database transaction, each through its handler, and settles each request
// only after that transaction commits. Handlers return business refusals as values and write
// nothing when they refuse; an exception rolls back the whole batch, after which the committer
// runs each command alone so that only the broken one fails.
//
// Commands are data rather than closures so the SQLite writer can live on its own thread: the
// fsync of every commit then never stops the thread that serves HTTP.

import type { ChargingTxStore } from '../charging/charging-types.ts';
import type { LedgerBatch, LedgerNeeds } from '../ledger/ledger-batch.ts';
import type { LedgerTxStore } from '../ledger/ledger-store.ts';
import type { PrincipalTxStore } from '../principals/principal-store.ts';
import type { RatingTxStore } from '../rating/rating-store.ts';
import type { VoucherTxStore } from '../vouchers/voucher-types.ts';
import type { AuditTxStore } from './audit.ts';

/** The stores a write transaction offers. Each domain adds its own. */
export interface TxStores {
  readonly ledger: LedgerTxStore;
  readonly principals: PrincipalTxStore;
  readonly audit: AuditTxStore;
  readonly rating: RatingTxStore;
  readonly vouchers: VoucherTxStore;
  readonly charging: ChargingTxStore;
}

export interface WriteContext {
  readonly stores: TxStores;
  /** The ledger's working set for this transaction: all money moves go through it. */
  readonly ledger: LedgerBatch;
  /**
   * The transaction's time: the latest submission time among its commands, so every command
   * in one batch sees the same time and the clock stays with the caller's thread.
   */
  readonly nowMs: number;
}

export interface CommandHandler<P, R> {
  /** What to load before any command of the batch runs, so loads are shared and set-based. */
  needs?(payload: P): LedgerNeeds;
  run(context: WriteContext, payload: P): Promise<R>;
}

/** Declares a handler with its payload and result types. */
export function defineCommand<P, R>(handler: CommandHandler<P, R>): CommandHandler<P, R> {
  return handler;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds handlers of every payload type.
export type CommandRegistry = Readonly<Record<string, CommandHandler<any, any>>>;

export type PayloadOf<H> = H extends CommandHandler<infer P, unknown> ? P : never;
export type ResultOf<H> = H extends CommandHandler<never, infer R> ? R : never;

/** A command as it travels to the committer. */
export interface CommandItem {
  readonly type: string;
  readonly payload: unknown;
  /** The submitter's clock when it was submitted. */
  readonly nowMs: number;
}

/** Runs write commands durably. `C` is the registry whose commands it accepts. */
export interface Committer<C extends CommandRegistry> {
  submit<K extends keyof C & string>(type: K, payload: PayloadOf<C[K]>): Promise<ResultOf<C[K]>>;
}
