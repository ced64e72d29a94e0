// What the ledger needs from storage. The core owns these interfaces; src/store implements them
// for SQLite and PostgreSQL, and one contract test suite runs against both.

import type { Currency, Minor } from '../money/money.ts';
import type { Account, Transfer } from './types.ts';

export interface TransferKeyRef {
  readonly principalId: string;
  readonly idempotencyKey: string;
}

/** Statements that run inside one write transaction. Reads here lock on PostgreSQL. */
export interface LedgerTxStore {
  /** Loads and locks accounts in id order (a fixed order, so two writers cannot deadlock). */
  lockAccounts(ids: readonly string[]): Promise<Account[]>;
  findTransfersByKey(keys: readonly TransferKeyRef[]): Promise<Transfer[]>;
  /** Loads and locks holds by id. */
  lockHolds(ids: readonly string[]): Promise<Transfer[]>;
  insertAccounts(accounts: readonly Account[]): Promise<void>;
  insertTransfers(transfers: readonly Transfer[]): Promise<void>;
  /** Writes balances and status of existing accounts. */
  saveAccounts(accounts: readonly Account[]): Promise<void>;
  saveHoldStatuses(holds: readonly Transfer[]): Promise<void>;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass back to get the next page; null when there is none. */
  readonly nextCursor: string | null;
}

export interface HistoryEntry {
  readonly transfer: Transfer;
  /** Which side of the transfer this account was on. */
  readonly side: 'debit' | 'credit';
}

/** Reads that need no transaction: they see the last committed state. */
export interface LedgerReadStore {
  getAccount(id: string): Promise<Account | null>;
  listAccounts(query: {
    ownerId?: string | undefined;
    afterId?: string | undefined;
    limit: number;
  }): Promise<Account[]>;
  getTransfer(id: string): Promise<Transfer | null>;
  /**
   * Transfers touching the account, newest first, walking its history chain from `startId`
   * (a transfer of this account) or from the newest. `nextId` continues the walk.
   */
  accountHistory(query: {
    accountId: string;
    startId?: string | undefined;
    limit: number;
  }): Promise<{ entries: HistoryEntry[]; nextId: string | null }>;
  /** Pending holds whose timeout is at or before `nowMs`, oldest first. */
  findDueHolds(nowMs: number, limit: number): Promise<string[]>;
  /** Per currency: sums of every account's balances, for conservation checks and reports. */
  totals(): Promise<
    Array<{
      currency: Currency;
      debitsPostedMinor: Minor;
      creditsPostedMinor: Minor;
      debitsPendingMinor: Minor;
      creditsPendingMinor: Minor;
    }>
  >;
}
