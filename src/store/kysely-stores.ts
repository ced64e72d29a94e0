// Store implementations written once in Kysely and shared by SQLite and PostgreSQL: every read,
// and the writes that are not on the hot path (principals, keys, audit events).

import { type Kysely, sql } from 'kysely';
import type { HistoryEntry, LedgerReadStore } from '../core/ledger/ledger-store.ts';
import type { Currency } from '../core/money/money.ts';
import type {
  ApiKeyRecord,
  PrincipalReadStore,
  PrincipalTxStore,
} from '../core/principals/principal-store.ts';
import type { AuditEvent, AuditReadStore, AuditTxStore } from '../core/shared/audit.ts';
import type { Principal } from '../core/shared/principal.ts';
import {
  accountFromRow,
  apiKeyFromRow,
  apiKeyToRow,
  auditFromRow,
  auditToRow,
  big,
  principalFromRow,
  principalToRow,
  type TransferRow,
  transferFromRow,
} from './rows.ts';
import type { Database } from './schema.ts';

export class KyselyLedgerReadStore implements LedgerReadStore {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async getAccount(id: string) {
    const row = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? accountFromRow(row) : null;
  }

  async listAccounts(query: {
    ownerId?: string | undefined;
    afterId?: string | undefined;
    limit: number;
  }) {
    let q = this.db.selectFrom('accounts').selectAll().orderBy('id').limit(query.limit);
    if (query.ownerId !== undefined) q = q.where('owner_id', '=', query.ownerId);
    if (query.afterId !== undefined) q = q.where('id', '>', query.afterId);
    return (await q.execute()).map(accountFromRow);
  }

  async getTransfer(id: string) {
    const row = await this.db
      .selectFrom('transfers')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? transferFromRow(row) : null;
  }

  async accountHistory(query: { accountId: string; startId?: string | undefined; limit: number }) {
    const { accountId } = query;
    const start = query.startId ?? null;
    // Walk the account's chain: each transfer names the previous one on the account's side.
    // One recursive query on both dialects; it stops after limit + 1 links.
    const result = await sql<TransferRow & { depth: number | bigint }>`
      with recursive chain(id, depth) as (
        select t.id, 1 from transfers t
        where t.id = coalesce(${start}, (select last_transfer_id from accounts where id = ${accountId}))
          and (t.debit_account_id = ${accountId} or t.credit_account_id = ${accountId})
        union all
        select case when t.debit_account_id = ${accountId} then t.debit_prev_id else t.credit_prev_id end,
          c.depth + 1
        from chain c join transfers t on t.id = c.id
        where c.depth <= cast(${query.limit} as integer)
      )
      select t.*, c.depth from chain c join transfers t on t.id = c.id order by c.depth`.execute(
      this.db,
    );
    const rows = result.rows;
    const entries: HistoryEntry[] = rows.slice(0, query.limit).map((row) => ({
      transfer: transferFromRow(row),
      side: row.debit_account_id === accountId ? ('debit' as const) : ('credit' as const),
    }));
    return { entries, nextId: rows.length > query.limit ? rows[query.limit]!.id : null };
  }

  async findDueHolds(nowMs: number, limit: number) {
    const rows = await this.db
      .selectFrom('transfers')
      .select('id')
      .where('hold_status', '=', 'pending')
      .where('timeout_at_ms', '<=', BigInt(nowMs))
      .orderBy('timeout_at_ms')
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }

  async totals() {
    const rows = await this.db
      .selectFrom('accounts')
      .select((eb) => [
        'currency',
        eb.fn.sum<bigint>('debits_posted_minor').as('dp'),
        eb.fn.sum<bigint>('credits_posted_minor').as('cp'),
        eb.fn.sum<bigint>('debits_pending_minor').as('dpe'),
        eb.fn.sum<bigint>('credits_pending_minor').as('cpe'),
      ])
      .groupBy('currency')
      .orderBy('currency')
      .execute();
    return rows.map((row) => ({
      currency: row.currency as Currency,
      debitsPostedMinor: big(row.dp),
      creditsPostedMinor: big(row.cp),
      debitsPendingMinor: big(row.dpe),
      creditsPendingMinor: big(row.cpe),
    }));
  }
}

export class KyselyPrincipalReadStore implements PrincipalReadStore {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async getPrincipal(id: string) {
    const row = await this.db
      .selectFrom('principals')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? principalFromRow(row) : null;
  }

  async listPrincipals(query: { parentId?: string | undefined; limit: number }) {
    let q = this.db.selectFrom('principals').selectAll().orderBy('id').limit(query.limit);
    if (query.parentId !== undefined) q = q.where('parent_id', '=', query.parentId);
    return (await q.execute()).map(principalFromRow);
  }

  async findApiKeyByHash(keyHash: string) {
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .executeTakeFirst();
    return row ? apiKeyFromRow(row) : null;
  }

  async listApiKeys(principalId: string) {
    const rows = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('principal_id', '=', principalId)
      .orderBy('created_at_ms')
      .execute();
    return rows.map(apiKeyFromRow);
  }

  async countPrincipals() {
    const row = await this.db
      .selectFrom('principals')
      .select((eb) => eb.fn.countAll<bigint>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

export class KyselyPrincipalTxStore implements PrincipalTxStore {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async insertPrincipal(principal: Principal) {
    await this.db.insertInto('principals').values(principalToRow(principal)).execute();
  }

  async insertApiKey(key: ApiKeyRecord) {
    await this.db.insertInto('api_keys').values(apiKeyToRow(key)).execute();
  }

  async revokeApiKey(id: string, atMs: number) {
    await this.db
      .updateTable('api_keys')
      .set({ revoked_at_ms: BigInt(atMs) })
      .where('id', '=', id)
      .where('revoked_at_ms', 'is', null)
      .execute();
  }
}

export class KyselyAuditStore implements AuditTxStore, AuditReadStore {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async insertAuditEvents(events: readonly AuditEvent[]) {
    if (events.length === 0) return;
    await this.db.insertInto('audit_events').values(events.map(auditToRow)).execute();
  }

  async listAuditEvents(query: { subjectId?: string | undefined; limit: number }) {
    let q = this.db
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(query.limit);
    if (query.subjectId !== undefined) q = q.where('subject_id', '=', query.subjectId);
    return (await q.execute()).map(auditFromRow);
  }
}
