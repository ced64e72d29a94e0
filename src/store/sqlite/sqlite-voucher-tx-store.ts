// The voucher hot path on SQLite: a sale's and a redemption's statements prepared once on
// better-sqlite3, a fraction of a Kysely query's cost. Everything else is the shared Kysely
// store. As with the ledger, every call runs inside the group commit's open transaction on the
// single writer connection, so there is nothing to lock.

import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely, Selectable } from 'kysely';
import type { AuditEvent } from '../../core/shared/audit.ts';
import type { DeliveryRecord, Sale, Voucher } from '../../core/vouchers/voucher-types.ts';
import { auditToRow } from '../rows.ts';
import type {
  Database,
  VoucherProductsTable,
  VoucherSalesTable,
  VouchersTable,
} from '../schema.ts';
import {
  KyselyVoucherTxStore,
  productFromRow,
  saleFromRow,
  voucherFromRow,
} from '../voucher-stores.ts';

type PinChange = Partial<
  Pick<
    Voucher,
    'status' | 'frozen' | 'saleId' | 'soldAtMs' | 'expiresAtMs' | 'redeemedAtMs' | 'accountId'
  >
>;

const pinColumns: Record<keyof PinChange, string> = {
  status: 'status',
  frozen: 'frozen',
  saleId: 'sale_id',
  soldAtMs: 'sold_at_ms',
  expiresAtMs: 'expires_at_ms',
  redeemedAtMs: 'redeemed_at_ms',
  accountId: 'account_id',
};

const saleColumns =
  'id, principal_id, idempotency_key, fingerprint, product_id, serial, retailer_id, ' +
  'float_account_id, currency, face_value_minor, retailer_commission_minor, distributor_id, ' +
  'distributor_commission_minor, status, expires_at_ms, created_at_ms, voided_at_ms';

const toParam = (value: unknown) =>
  typeof value === 'boolean' ? (value ? 1 : 0) : typeof value === 'number' ? BigInt(value) : value;

export class SqliteVoucherTxStore extends KyselyVoucherTxStore {
  private readonly sqlite: BetterSqlite3.Database;
  private readonly selectProduct: BetterSqlite3.Statement<[string], VoucherProductsTable>;
  private readonly selectSaleByKey: BetterSqlite3.Statement<[string, string], VoucherSalesTable>;
  private readonly selectSale: BetterSqlite3.Statement<[string], VoucherSalesTable>;
  private readonly selectSellable: BetterSqlite3.Statement<[string], Selectable<VouchersTable>>;
  private readonly selectByHash: BetterSqlite3.Statement<[string], Selectable<VouchersTable>>;
  private readonly selectBySerial: BetterSqlite3.Statement<[string], Selectable<VouchersTable>>;
  private readonly insertSaleRow: BetterSqlite3.Statement<unknown[]>;
  private readonly insertDeliveryRow: BetterSqlite3.Statement<unknown[]>;
  private readonly insertAuditRow: BetterSqlite3.Statement<unknown[]>;
  private readonly pinUpdates = new Map<string, BetterSqlite3.Statement<unknown[]>>();

  constructor(db: BetterSqlite3.Database, kysely: Kysely<Database>) {
    super(kysely, 'sqlite');
    this.sqlite = db;
    this.insertAuditRow = db.prepare(
      'insert into audit_events (id, at_ms, principal_id, action, subject_type, subject_id, details) ' +
        'values (?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectProduct = db.prepare('select * from voucher_products where id = ?');
    this.selectSaleByKey = db.prepare(
      'select * from voucher_sales where principal_id = ? and idempotency_key = ?',
    );
    this.selectSale = db.prepare('select * from voucher_sales where id = ?');
    // Matches the partial index vouchers_sellable exactly, so the oldest sellable PIN is one seek.
    this.selectSellable = db.prepare(
      "select * from vouchers where product_id = ? and status = 'in_stock' and frozen = 0 order by id limit 1",
    );
    this.selectByHash = db.prepare('select * from vouchers where pin_hash = ?');
    this.selectBySerial = db.prepare('select * from vouchers where serial = ?');
    this.insertSaleRow = db.prepare(
      `insert into voucher_sales (${saleColumns}) values (${saleColumns.replace(/[a-z_]+/g, '?')})`,
    );
    this.insertDeliveryRow = db.prepare(
      'insert into voucher_deliveries (id, sale_id, serial, channel, address, status, attempts, ' +
        'next_attempt_at_ms, last_error, created_at_ms) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  override async insertAuditEvents(events: readonly AuditEvent[]) {
    for (const event of events) {
      const row = auditToRow(event);
      this.insertAuditRow.run(
        row.id,
        row.at_ms,
        row.principal_id,
        row.action,
        row.subject_type,
        row.subject_id,
        row.details,
      );
    }
  }

  override async getProduct(id: string) {
    const row = this.selectProduct.get(id);
    return row ? productFromRow(row) : null;
  }

  override async findSellablePin(productId: string) {
    const row = this.selectSellable.get(productId);
    return row ? voucherFromRow(row) : null;
  }

  override async findPinByHash(pinHash: string) {
    const row = this.selectByHash.get(pinHash);
    return row ? voucherFromRow(row) : null;
  }

  override async findPinBySerial(serial: string) {
    const row = this.selectBySerial.get(serial);
    return row ? voucherFromRow(row) : null;
  }

  override async updatePin(id: number, change: PinChange) {
    const keys = (Object.keys(change) as Array<keyof PinChange>).filter(
      (k) => change[k] !== undefined,
    );
    if (keys.length === 0) return;
    const signature = keys.join(',');
    let statement = this.pinUpdates.get(signature);
    if (!statement) {
      const sets = keys.map((k) => `${pinColumns[k]} = ?`).join(', ');
      statement = this.sqlite.prepare(`update vouchers set ${sets} where id = ?`);
      this.pinUpdates.set(signature, statement);
    }
    statement.run(...keys.map((k) => toParam(change[k])), BigInt(id));
  }

  override async findSaleByKey(principalId: string, idempotencyKey: string) {
    const row = this.selectSaleByKey.get(principalId, idempotencyKey);
    return row ? saleFromRow(row) : null;
  }

  override async getSale(id: string) {
    const row = this.selectSale.get(id);
    return row ? saleFromRow(row) : null;
  }

  override async insertSale(sale: Sale) {
    this.insertSaleRow.run(
      sale.id,
      sale.principalId,
      sale.idempotencyKey,
      sale.fingerprint,
      sale.productId,
      sale.serial,
      sale.retailerId,
      sale.floatAccountId,
      sale.currency,
      sale.faceValueMinor,
      sale.retailerCommissionMinor,
      sale.distributorId,
      sale.distributorCommissionMinor,
      sale.status,
      sale.expiresAtMs === null ? null : BigInt(sale.expiresAtMs),
      BigInt(sale.createdAtMs),
      sale.voidedAtMs === null ? null : BigInt(sale.voidedAtMs),
    );
  }

  override async insertDelivery(d: DeliveryRecord) {
    this.insertDeliveryRow.run(
      d.id,
      d.saleId,
      d.serial,
      d.channel,
      d.address,
      d.status,
      BigInt(d.attempts),
      BigInt(d.nextAttemptAtMs),
      d.lastError,
      BigInt(d.createdAtMs),
    );
  }
}
