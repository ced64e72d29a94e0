// The voucher store inside one PostgreSQL transaction, writing its sales and audit events
// behind: they are kept in memory and written in two multi-row statements just before COMMIT,
// instead of one round trip each per sale. The PIN a sale takes is still marked sold at once,
// so the next `for update skip locked` pick in the same transaction passes it by. Reads of a
// sale this transaction made come from memory.

import type { Kysely, Transaction } from 'kysely';
import type { AuditEvent } from '../../core/shared/audit.ts';
import type { Sale } from '../../core/vouchers/voucher-types.ts';
import { auditToRow } from '../rows.ts';
import type { Database } from '../schema.ts';
import { KyselyVoucherTxStore, saleToRow } from '../voucher-stores.ts';
import { insertRows } from './insert-rows.ts';

type Db = Kysely<Database> | Transaction<Database>;

const saleKey = (principalId: string, idempotencyKey: string) =>
  `${principalId}\n${idempotencyKey}`;

export class PostgresVoucherTxStore extends KyselyVoucherTxStore {
  private readonly trx: Db;
  private readonly sales = new Map<string, Sale>();
  private readonly saleIds = new Map<string, string>();
  private readonly auditEvents: AuditEvent[] = [];

  constructor(trx: Db) {
    super(trx, 'postgres');
    this.trx = trx;
  }

  override async insertSale(sale: Sale) {
    this.sales.set(sale.id, sale);
    this.saleIds.set(saleKey(sale.principalId, sale.idempotencyKey), sale.id);
  }

  override async findSaleByKey(principalId: string, idempotencyKey: string) {
    const id = this.saleIds.get(saleKey(principalId, idempotencyKey));
    return id === undefined
      ? super.findSaleByKey(principalId, idempotencyKey)
      : this.sales.get(id)!;
  }

  override async getSale(id: string) {
    return this.sales.get(id) ?? super.getSale(id);
  }

  override async setSaleVoided(id: string, atMs: number) {
    const kept = this.sales.get(id);
    if (!kept) return super.setSaleVoided(id, atMs);
    this.sales.set(id, { ...kept, status: 'voided', voidedAtMs: atMs });
  }

  override async insertAuditEvents(events: readonly AuditEvent[]) {
    this.auditEvents.push(...events);
  }

  /** Writes what this transaction kept. The transaction calls it last, before COMMIT. */
  async flush(): Promise<void> {
    await insertRows(this.trx, 'voucher_sales', [...this.sales.values()].map(saleToRow));
    await insertRows(this.trx, 'audit_events', this.auditEvents.map(auditToRow));
  }
}
