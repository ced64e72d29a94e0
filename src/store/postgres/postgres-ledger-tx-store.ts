// The ledger's hot path on PostgreSQL: one set-based statement per step however many requests
// the group commit holds (arrays unnested on the server), and row locks taken in id order so
// that two Tollgate processes sharing the database queue rather than deadlock.

import { type Kysely, sql } from 'kysely';
import type { LedgerTxStore, TransferKeyRef } from '../../core/ledger/ledger-store.ts';
import type { Account, Transfer } from '../../core/ledger/types.ts';
import {
  accountFromRow,
  accountToRow,
  type TransferRow,
  transferFromRow,
  transferToRow,
} from '../rows.ts';
import type { AccountsTable, Database } from '../schema.ts';

function column<T, K extends keyof T>(rows: readonly T[], key: K): Array<string | null> {
  return rows.map((row) => {
    const value = row[key];
    return value === null || value === undefined ? null : String(value);
  });
}

export class PostgresLedgerTxStore implements LedgerTxStore {
  private readonly trx: Kysely<Database>;

  constructor(trx: Kysely<Database>) {
    this.trx = trx;
  }

  async lockAccounts(ids: readonly string[]): Promise<Account[]> {
    const result = await sql<AccountsTable>`
      select * from accounts where id = any(${[...ids]}::text[]) order by id for update`.execute(
      this.trx,
    );
    return result.rows.map(accountFromRow);
  }

  async findTransfersByKey(keys: readonly TransferKeyRef[]): Promise<Transfer[]> {
    const principals = keys.map((key) => key.principalId);
    const idempotencyKeys = keys.map((key) => key.idempotencyKey);
    const result = await sql<TransferRow>`
      select t.* from transfers t
      join unnest(${principals}::text[], ${idempotencyKeys}::text[]) as k(principal_id, idempotency_key)
        on t.principal_id = k.principal_id and t.idempotency_key = k.idempotency_key`.execute(
      this.trx,
    );
    return result.rows.map(transferFromRow);
  }

  async lockHolds(ids: readonly string[]): Promise<Transfer[]> {
    const result = await sql<TransferRow>`
      select * from transfers where id = any(${[...ids]}::text[]) order by id for update`.execute(
      this.trx,
    );
    return result.rows.map(transferFromRow);
  }

  async insertAccounts(accounts: readonly Account[]): Promise<void> {
    const rows = accounts.map(accountToRow);
    await sql`
      insert into accounts (id, owner_id, name, currency, kind, flags, credit_limit_minor, status,
        debits_posted_minor, credits_posted_minor, debits_pending_minor, credits_pending_minor,
        last_transfer_id, created_at_ms)
      select * from unnest(${column(rows, 'id')}::text[], ${column(rows, 'owner_id')}::text[],
        ${column(rows, 'name')}::text[], ${column(rows, 'currency')}::text[], ${column(rows, 'kind')}::text[],
        ${column(rows, 'flags')}::bigint[], ${column(rows, 'credit_limit_minor')}::bigint[],
        ${column(rows, 'status')}::text[], ${column(rows, 'debits_posted_minor')}::bigint[],
        ${column(rows, 'credits_posted_minor')}::bigint[], ${column(rows, 'debits_pending_minor')}::bigint[],
        ${column(rows, 'credits_pending_minor')}::bigint[], ${column(rows, 'last_transfer_id')}::text[],
        ${column(rows, 'created_at_ms')}::bigint[])`.execute(this.trx);
  }

  async insertTransfers(transfers: readonly Transfer[]): Promise<void> {
    const rows = transfers.map(transferToRow);
    await sql`
      insert into transfers (id, principal_id, idempotency_key, fingerprint, kind, debit_account_id,
        credit_account_id, amount_minor, currency, hold_id, timeout_at_ms, hold_status, code, memo,
        debit_prev_id, credit_prev_id, created_at_ms)
      select * from unnest(${column(rows, 'id')}::text[], ${column(rows, 'principal_id')}::text[],
        ${column(rows, 'idempotency_key')}::text[], ${column(rows, 'fingerprint')}::text[],
        ${column(rows, 'kind')}::text[], ${column(rows, 'debit_account_id')}::text[],
        ${column(rows, 'credit_account_id')}::text[], ${column(rows, 'amount_minor')}::bigint[],
        ${column(rows, 'currency')}::text[], ${column(rows, 'hold_id')}::text[],
        ${column(rows, 'timeout_at_ms')}::bigint[], ${column(rows, 'hold_status')}::text[],
        ${column(rows, 'code')}::text[], ${column(rows, 'memo')}::text[],
        ${column(rows, 'debit_prev_id')}::text[], ${column(rows, 'credit_prev_id')}::text[],
        ${column(rows, 'created_at_ms')}::bigint[])`.execute(this.trx);
  }

  async saveAccounts(accounts: readonly Account[]): Promise<void> {
    const rows = accounts.map(accountToRow);
    await sql`
      update accounts a set status = v.status, debits_posted_minor = v.dp, credits_posted_minor = v.cp,
        debits_pending_minor = v.dpe, credits_pending_minor = v.cpe, last_transfer_id = v.last_id
      from unnest(${column(rows, 'id')}::text[], ${column(rows, 'status')}::text[],
        ${column(rows, 'debits_posted_minor')}::bigint[], ${column(rows, 'credits_posted_minor')}::bigint[],
        ${column(rows, 'debits_pending_minor')}::bigint[], ${column(rows, 'credits_pending_minor')}::bigint[],
        ${column(rows, 'last_transfer_id')}::text[])
        as v(id, status, dp, cp, dpe, cpe, last_id)
      where a.id = v.id`.execute(this.trx);
  }

  async saveHoldStatuses(holds: readonly Transfer[]): Promise<void> {
    const ids = holds.map((hold) => hold.id);
    const statuses = holds.map((hold) => hold.holdStatus ?? 'pending');
    await sql`
      update transfers t set hold_status = v.hold_status
      from unnest(${ids}::text[], ${statuses}::text[]) as v(id, hold_status)
      where t.id = v.id`.execute(this.trx);
  }
}
