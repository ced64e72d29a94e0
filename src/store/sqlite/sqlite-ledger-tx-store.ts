// The ledger's hot path on SQLite: prepared statements straight on better-sqlite3, which cost a
// fraction of a Kysely query. Every call runs inside the group commit's open transaction on the
// single writer connection, so there is nothing to lock: SQLite has one writer at a time.

import type BetterSqlite3 from 'better-sqlite3';
import type { LedgerTxStore, TransferKeyRef } from '../../core/ledger/ledger-store.ts';
import type { Account, Transfer } from '../../core/ledger/types.ts';
import { accountFromRow, accountToRow, type TransferRow, transferFromRow } from '../rows.ts';
import type { AccountsTable } from '../schema.ts';
import type { RowCache, WriterCache } from './writer-cache.ts';

const accountColumns =
  'id, owner_id, name, currency, kind, flags, credit_limit_minor, status, debits_posted_minor, ' +
  'credits_posted_minor, debits_pending_minor, credits_pending_minor, last_transfer_id, created_at_ms';
const transferColumns =
  'id, principal_id, idempotency_key, fingerprint, kind, debit_account_id, credit_account_id, ' +
  'amount_minor, currency, hold_id, timeout_at_ms, hold_status, code, memo, debit_prev_id, ' +
  'credit_prev_id, created_at_ms';

function placeholders(columns: string): string {
  return columns
    .split(',')
    .map((column) => `@${column.trim()}`)
    .join(', ');
}

export class SqliteLedgerTxStore implements LedgerTxStore {
  private readonly selectAccount: BetterSqlite3.Statement<[string], AccountsTable>;
  private readonly selectByKey: BetterSqlite3.Statement<[string, string], TransferRow>;
  private readonly selectTransfer: BetterSqlite3.Statement<[string], TransferRow>;
  private readonly insertAccount: BetterSqlite3.Statement<[AccountsTable]>;
  private readonly insertTransfer: BetterSqlite3.Statement<unknown[]>;
  private readonly updateAccount: BetterSqlite3.Statement<[Record<string, unknown>]>;
  private readonly updateHold: BetterSqlite3.Statement<[string, string]>;
  private readonly accounts: RowCache<Account>;
  private readonly holds: RowCache<Transfer>;

  /** Accounts and holds seen by earlier transactions come from `cache`, not the database. */
  constructor(db: BetterSqlite3.Database, cache: WriterCache) {
    this.accounts = cache.rows<Account>();
    this.holds = cache.rows<Transfer>();
    this.selectAccount = db.prepare(`select ${accountColumns} from accounts where id = ?`);
    this.selectByKey = db.prepare(
      `select ${transferColumns} from transfers where principal_id = ? and idempotency_key = ?`,
    );
    this.selectTransfer = db.prepare(`select ${transferColumns} from transfers where id = ?`);
    this.insertAccount = db.prepare(
      `insert into accounts (${accountColumns}) values (${placeholders(accountColumns)})`,
    );
    this.insertTransfer = db.prepare(
      `insert into transfers (${transferColumns}) values (${transferColumns.replace(/[a-z_]+/g, '?')})`,
    );
    this.updateAccount = db.prepare(
      'update accounts set status = @status, debits_posted_minor = @debits_posted_minor, ' +
        'credits_posted_minor = @credits_posted_minor, debits_pending_minor = @debits_pending_minor, ' +
        'credits_pending_minor = @credits_pending_minor, last_transfer_id = @last_transfer_id ' +
        'where id = @id',
    );
    this.updateHold = db.prepare('update transfers set hold_status = ? where id = ?');
  }

  async lockAccounts(ids: readonly string[]): Promise<Account[]> {
    const accounts: Account[] = [];
    for (const id of ids) {
      const cached = this.accounts.get(id);
      if (cached) {
        accounts.push(cached);
        continue;
      }
      const row = this.selectAccount.get(id);
      if (!row) continue;
      const account = accountFromRow(row);
      this.accounts.stage(id, account);
      accounts.push(account);
    }
    return accounts;
  }

  async findTransfersByKey(keys: readonly TransferKeyRef[]): Promise<Transfer[]> {
    const transfers: Transfer[] = [];
    for (const key of keys) {
      const row = this.selectByKey.get(key.principalId, key.idempotencyKey);
      if (row) transfers.push(transferFromRow(row));
    }
    return transfers;
  }

  async lockHolds(ids: readonly string[]): Promise<Transfer[]> {
    const transfers: Transfer[] = [];
    for (const id of ids) {
      const cached = this.holds.get(id);
      if (cached) {
        transfers.push(cached);
        continue;
      }
      const row = this.selectTransfer.get(id);
      if (!row) continue;
      const transfer = transferFromRow(row);
      this.holds.stage(id, transfer);
      transfers.push(transfer);
    }
    return transfers;
  }

  async insertAccounts(accounts: readonly Account[]): Promise<void> {
    for (const account of accounts) {
      this.insertAccount.run(accountToRow(account));
      this.accounts.stage(account.id, account);
    }
  }

  async insertTransfers(transfers: readonly Transfer[]): Promise<void> {
    // Positional parameters, in transferColumns order: the hottest statement in Tollgate.
    for (const t of transfers) {
      if (t.kind === 'hold') this.holds.stage(t.id, t);
      this.insertTransfer.run(
        t.id,
        t.principalId,
        t.idempotencyKey,
        t.fingerprint,
        t.kind,
        t.debitAccountId,
        t.creditAccountId,
        t.amountMinor,
        t.currency,
        t.holdId,
        t.timeoutAtMs === null ? null : BigInt(t.timeoutAtMs),
        t.holdStatus,
        t.code,
        t.memo,
        t.debitPrevId,
        t.creditPrevId,
        BigInt(t.createdAtMs),
      );
    }
  }

  async saveAccounts(accounts: readonly Account[]): Promise<void> {
    for (const account of accounts) {
      const row = accountToRow(account);
      this.updateAccount.run({
        id: row.id,
        status: row.status,
        debits_posted_minor: row.debits_posted_minor,
        credits_posted_minor: row.credits_posted_minor,
        debits_pending_minor: row.debits_pending_minor,
        credits_pending_minor: row.credits_pending_minor,
        last_transfer_id: row.last_transfer_id,
      });
      this.accounts.stage(account.id, account);
    }
  }

  async saveHoldStatuses(holds: readonly Transfer[]): Promise<void> {
    for (const hold of holds) {
      this.updateHold.run(hold.holdStatus ?? 'pending', hold.id);
      this.holds.stage(hold.id, hold);
    }
  }
}
