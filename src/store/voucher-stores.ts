// The voucher stores, written once in Kysely for SQLite and PostgreSQL: the writer's side
// (inside the group commit) and the readers' side (reports, lookups). Rows hold a PIN only as its
// lookup hash and ciphertext. On PostgreSQL the rows a sale or redemption changes are locked
// (`for update`, and `skip locked` when picking stock) so several processes never sell or redeem
// one PIN twice; on SQLite the single writer makes that so by itself.

import type { Insertable, Selectable } from 'kysely';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Currency } from '../core/money/money.ts';
import type { AuditEvent } from '../core/shared/audit.ts';
import type { PinAlphabet, PinCheck } from '../core/vouchers/pin-code.ts';
import type {
  Batch,
  CommissionLevel,
  CommissionRule,
  DeliveryRecord,
  NewPinRow,
  Product,
  RedeemFailureRow,
  RedemptionMode,
  Sale,
  StockRow,
  Voucher,
  VoucherReadStore,
  VoucherSecretRow,
  VoucherStatus,
  VoucherTxStore,
} from '../core/vouchers/voucher-types.ts';
import { auditToRow, big, bigOrNull, num, numOrNull } from './rows.ts';
import type {
  Database,
  Dialect,
  VoucherBatchesTable,
  VoucherCommissionRulesTable,
  VoucherDeliveriesTable,
  VoucherProductsTable,
  VoucherSalesTable,
  VouchersTable,
} from './schema.ts';

/** Rows per INSERT statement: below SQLite's 32,766 bound parameters at 8 columns a row. */
const pinInsertRowsMax = 2000;

export function productFromRow(row: VoucherProductsTable): Product {
  return {
    id: row.id,
    name: row.name,
    carrierId: row.carrier_id,
    currency: row.currency as Currency,
    faceValueMinor: big(row.face_value_minor),
    validityDays: numOrNull(row.validity_days),
    pinFormat: {
      length: num(row.pin_length),
      alphabet: row.pin_alphabet as PinAlphabet,
      check: row.pin_check as PinCheck,
    },
    accessNumber: row.access_number,
    mode: row.mode as RedemptionMode,
    instructions: row.instructions,
    lowStockThreshold: num(row.low_stock_threshold),
    status: row.status as Product['status'],
    createdAtMs: num(row.created_at_ms),
  };
}

function batchFromRow(row: VoucherBatchesTable): Batch {
  return {
    id: row.id,
    productId: row.product_id,
    serialPrefix: row.serial_prefix,
    countRequested: num(row.count_requested),
    countCreated: num(row.count_created),
    source: row.source as Batch['source'],
    frozen: num(row.frozen) === 1,
    createdBy: row.created_by,
    createdAtMs: num(row.created_at_ms),
  };
}

export function voucherFromRow(row: Selectable<VouchersTable>): VoucherSecretRow {
  return {
    id: num(row.id),
    serial: row.serial,
    batchId: row.batch_id,
    productId: row.product_id,
    status: row.status as VoucherStatus,
    frozen: num(row.frozen) === 1,
    saleId: row.sale_id,
    soldAtMs: numOrNull(row.sold_at_ms),
    expiresAtMs: numOrNull(row.expires_at_ms),
    redeemedAtMs: numOrNull(row.redeemed_at_ms),
    accountId: row.account_id,
    createdAtMs: num(row.created_at_ms),
    pinEncrypted: row.pin_encrypted,
  };
}

export function saleFromRow(row: VoucherSalesTable): Sale {
  return {
    id: row.id,
    principalId: row.principal_id,
    idempotencyKey: row.idempotency_key,
    fingerprint: row.fingerprint,
    productId: row.product_id,
    serial: row.serial,
    retailerId: row.retailer_id,
    floatAccountId: row.float_account_id,
    currency: row.currency as Currency,
    faceValueMinor: big(row.face_value_minor),
    retailerCommissionMinor: big(row.retailer_commission_minor),
    distributorId: row.distributor_id,
    distributorCommissionMinor: big(row.distributor_commission_minor),
    status: row.status as Sale['status'],
    expiresAtMs: numOrNull(row.expires_at_ms),
    createdAtMs: num(row.created_at_ms),
    voidedAtMs: numOrNull(row.voided_at_ms),
  };
}

function ruleFromRow(row: VoucherCommissionRulesTable): CommissionRule {
  return {
    id: row.id,
    level: row.level as CommissionLevel,
    principalId: row.principal_id,
    productId: row.product_id,
    faceValueMinor: row.face_value_minor === null ? null : big(row.face_value_minor),
    rateBasisPoints: num(row.rate_basis_points),
    fixedMinor: big(row.fixed_minor),
    createdAtMs: num(row.created_at_ms),
  };
}

function deliveryFromRow(row: VoucherDeliveriesTable): DeliveryRecord {
  return {
    id: row.id,
    saleId: row.sale_id,
    serial: row.serial,
    channel: row.channel as DeliveryRecord['channel'],
    address: row.address,
    status: row.status as DeliveryRecord['status'],
    attempts: num(row.attempts),
    nextAttemptAtMs: num(row.next_attempt_at_ms),
    lastError: row.last_error,
    createdAtMs: num(row.created_at_ms),
  };
}

type Db = Kysely<Database> | Transaction<Database>;

export function saleToRow(sale: Sale): Insertable<VoucherSalesTable> {
  return {
    id: sale.id,
    principal_id: sale.principalId,
    idempotency_key: sale.idempotencyKey,
    fingerprint: sale.fingerprint,
    product_id: sale.productId,
    serial: sale.serial,
    retailer_id: sale.retailerId,
    float_account_id: sale.floatAccountId,
    currency: sale.currency,
    face_value_minor: sale.faceValueMinor,
    retailer_commission_minor: sale.retailerCommissionMinor,
    distributor_id: sale.distributorId,
    distributor_commission_minor: sale.distributorCommissionMinor,
    status: sale.status,
    expires_at_ms: bigOrNull(sale.expiresAtMs),
    created_at_ms: BigInt(sale.createdAtMs),
    voided_at_ms: bigOrNull(sale.voidedAtMs),
  };
}

export class KyselyVoucherTxStore implements VoucherTxStore {
  private readonly db: Db;
  private readonly dialect: Dialect;
  constructor(db: Db, dialect: Dialect) {
    this.db = db;
    this.dialect = dialect;
  }

  async insertProduct(product: Product) {
    await this.db
      .insertInto('voucher_products')
      .values({
        id: product.id,
        name: product.name,
        carrier_id: product.carrierId,
        currency: product.currency,
        face_value_minor: product.faceValueMinor,
        validity_days: product.validityDays,
        pin_length: product.pinFormat.length,
        pin_alphabet: product.pinFormat.alphabet,
        pin_check: product.pinFormat.check,
        access_number: product.accessNumber,
        mode: product.mode,
        instructions: product.instructions,
        low_stock_threshold: product.lowStockThreshold,
        status: product.status,
        created_at_ms: BigInt(product.createdAtMs),
      })
      .execute();
  }

  async getProduct(id: string) {
    const row = await this.db
      .selectFrom('voucher_products')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? productFromRow(row) : null;
  }

  async insertBatch(batch: Batch) {
    await this.db
      .insertInto('voucher_batches')
      .values({
        id: batch.id,
        product_id: batch.productId,
        serial_prefix: batch.serialPrefix,
        count_requested: batch.countRequested,
        count_created: batch.countCreated,
        source: batch.source,
        frozen: batch.frozen ? 1 : 0,
        created_by: batch.createdBy,
        created_at_ms: BigInt(batch.createdAtMs),
      })
      .execute();
  }

  async getBatch(id: string) {
    const row = await this.db
      .selectFrom('voucher_batches')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? batchFromRow(row) : null;
  }

  async insertPins(batch: Batch, rows: readonly NewPinRow[], nowMs: number) {
    const inserted = new Set<string>();
    for (let at = 0; at < rows.length; at += pinInsertRowsMax) {
      const chunk = rows.slice(at, at + pinInsertRowsMax);
      // A PIN whose hash is already stored (another batch drew it) is skipped, not an error: the
      // caller draws a replacement for each serial that comes back missing.
      const returned = await this.db
        .insertInto('vouchers')
        .values(
          chunk.map((row) => ({
            serial: row.serial,
            batch_id: batch.id,
            product_id: batch.productId,
            pin_hash: row.pinHash,
            pin_encrypted: row.pinEncrypted,
            status: 'in_stock',
            frozen: batch.frozen ? 1 : 0,
            expires_at_ms: bigOrNull(row.expiresAtMs),
            created_at_ms: BigInt(nowMs),
          })),
        )
        .onConflict((oc) => oc.column('pin_hash').doNothing())
        .returning('serial')
        .execute();
      for (const row of returned) inserted.add(row.serial);
    }
    return rows.filter((row) => !inserted.has(row.serial)).map((row) => row.serial);
  }

  async setBatchCount(batchId: string, countCreated: number) {
    await this.db
      .updateTable('voucher_batches')
      .set({ count_created: countCreated })
      .where('id', '=', batchId)
      .execute();
  }

  async setBatchFrozen(batchId: string, frozen: boolean) {
    await this.db
      .updateTable('voucher_batches')
      .set({ frozen: frozen ? 1 : 0 })
      .where('id', '=', batchId)
      .execute();
    const result = await this.db
      .updateTable('vouchers')
      .set({ frozen: frozen ? 1 : 0 })
      .where('batch_id', '=', batchId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async findSellablePin(productId: string) {
    let query = this.db
      .selectFrom('vouchers')
      .selectAll()
      .where('product_id', '=', productId)
      .where('status', '=', 'in_stock')
      .where('frozen', '=', 0)
      .orderBy('id')
      .limit(1);
    if (this.dialect === 'postgres') query = query.forUpdate().skipLocked();
    const row = await query.executeTakeFirst();
    return row ? voucherFromRow(row) : null;
  }

  async findPinByHash(pinHash: string) {
    let query = this.db.selectFrom('vouchers').selectAll().where('pin_hash', '=', pinHash);
    if (this.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? voucherFromRow(row) : null;
  }

  async findPinBySerial(serial: string) {
    let query = this.db.selectFrom('vouchers').selectAll().where('serial', '=', serial);
    if (this.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? voucherFromRow(row) : null;
  }

  async updatePin(
    id: number,
    change: Partial<
      Pick<
        Voucher,
        'status' | 'frozen' | 'saleId' | 'soldAtMs' | 'expiresAtMs' | 'redeemedAtMs' | 'accountId'
      >
    >,
  ) {
    const set: Partial<Record<string, unknown>> = {};
    if (change.status !== undefined) set.status = change.status;
    if (change.frozen !== undefined) set.frozen = change.frozen ? 1 : 0;
    if (change.saleId !== undefined) set.sale_id = change.saleId;
    if (change.soldAtMs !== undefined) set.sold_at_ms = bigOrNull(change.soldAtMs);
    if (change.expiresAtMs !== undefined) set.expires_at_ms = bigOrNull(change.expiresAtMs);
    if (change.redeemedAtMs !== undefined) set.redeemed_at_ms = bigOrNull(change.redeemedAtMs);
    if (change.accountId !== undefined) set.account_id = change.accountId;
    await this.db.updateTable('vouchers').set(set).where('id', '=', BigInt(id)).execute();
  }

  async findSaleByKey(principalId: string, idempotencyKey: string) {
    const row = await this.db
      .selectFrom('voucher_sales')
      .selectAll()
      .where('principal_id', '=', principalId)
      .where('idempotency_key', '=', idempotencyKey)
      .executeTakeFirst();
    return row ? saleFromRow(row) : null;
  }

  async getSale(id: string) {
    let query = this.db.selectFrom('voucher_sales').selectAll().where('id', '=', id);
    if (this.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? saleFromRow(row) : null;
  }

  async insertSale(sale: Sale) {
    await this.db.insertInto('voucher_sales').values(saleToRow(sale)).execute();
  }

  async setSaleVoided(id: string, atMs: number) {
    await this.db
      .updateTable('voucher_sales')
      .set({ status: 'voided', voided_at_ms: BigInt(atMs) })
      .where('id', '=', id)
      .execute();
  }

  async insertCommissionRule(rule: CommissionRule) {
    await this.db
      .insertInto('voucher_commission_rules')
      .values({
        id: rule.id,
        level: rule.level,
        principal_id: rule.principalId,
        product_id: rule.productId,
        face_value_minor: rule.faceValueMinor,
        rate_basis_points: rule.rateBasisPoints,
        fixed_minor: rule.fixedMinor,
        created_at_ms: BigInt(rule.createdAtMs),
      })
      .execute();
  }

  async getRedeemFailures(subjects: readonly string[]) {
    if (subjects.length === 0) return [];
    let query = this.db
      .selectFrom('voucher_redeem_failures')
      .selectAll()
      .where('subject', 'in', [...subjects]);
    if (this.dialect === 'postgres') query = query.forUpdate();
    const rows = await query.execute();
    return rows.map(
      (row): RedeemFailureRow => ({
        subject: row.subject,
        failures: num(row.failures),
        firstFailureAtMs: num(row.first_failure_at_ms),
        lockedUntilMs: numOrNull(row.locked_until_ms),
      }),
    );
  }

  async saveRedeemFailure(row: RedeemFailureRow) {
    const values = {
      subject: row.subject,
      failures: row.failures,
      first_failure_at_ms: BigInt(row.firstFailureAtMs),
      locked_until_ms: bigOrNull(row.lockedUntilMs),
    };
    await this.db
      .insertInto('voucher_redeem_failures')
      .values(values)
      .onConflict((oc) =>
        oc.column('subject').doUpdateSet({
          failures: values.failures,
          first_failure_at_ms: values.first_failure_at_ms,
          locked_until_ms: values.locked_until_ms,
        }),
      )
      .execute();
  }

  async insertDelivery(delivery: DeliveryRecord) {
    await this.db
      .insertInto('voucher_deliveries')
      .values({
        id: delivery.id,
        sale_id: delivery.saleId,
        serial: delivery.serial,
        channel: delivery.channel,
        address: delivery.address,
        status: delivery.status,
        attempts: delivery.attempts,
        next_attempt_at_ms: BigInt(delivery.nextAttemptAtMs),
        last_error: delivery.lastError,
        created_at_ms: BigInt(delivery.createdAtMs),
      })
      .execute();
  }

  async insertAuditEvents(events: readonly AuditEvent[]) {
    if (events.length === 0) return;
    await this.db.insertInto('audit_events').values(events.map(auditToRow)).execute();
  }

  async updateDelivery(
    id: string,
    change: Pick<DeliveryRecord, 'status' | 'attempts' | 'nextAttemptAtMs' | 'lastError'>,
  ) {
    await this.db
      .updateTable('voucher_deliveries')
      .set({
        status: change.status,
        attempts: change.attempts,
        next_attempt_at_ms: BigInt(change.nextAttemptAtMs),
        last_error: change.lastError,
      })
      .where('id', '=', id)
      .execute();
  }

  async claimDelivery(id: string, expectedNextAttemptAtMs: number, leaseUntilMs: number) {
    // A compare-and-set on next_attempt_at_ms: of two processes that read the same due row, the
    // second's update finds the value already moved and changes nothing.
    const result = await this.db
      .updateTable('voucher_deliveries')
      .set({ next_attempt_at_ms: BigInt(leaseUntilMs) })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('next_attempt_at_ms', '=', BigInt(expectedNextAttemptAtMs))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

const dayMs = 86_400_000;

export class KyselyVoucherReadStore implements VoucherReadStore {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async getProduct(id: string) {
    const row = await this.db
      .selectFrom('voucher_products')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? productFromRow(row) : null;
  }

  async listProducts() {
    const rows = await this.db.selectFrom('voucher_products').selectAll().orderBy('id').execute();
    return rows.map(productFromRow);
  }

  async getBatch(id: string) {
    const row = await this.db
      .selectFrom('voucher_batches')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? batchFromRow(row) : null;
  }

  async listBatches(productId?: string) {
    let query = this.db.selectFrom('voucher_batches').selectAll().orderBy('created_at_ms');
    if (productId !== undefined) query = query.where('product_id', '=', productId);
    return (await query.execute()).map(batchFromRow);
  }

  async getVoucher(serial: string) {
    const row = await this.db
      .selectFrom('vouchers')
      .selectAll()
      .where('serial', '=', serial)
      .executeTakeFirst();
    if (!row) return null;
    const { id: _id, ...voucher } = voucherFromRow(row);
    return voucher;
  }

  async getSale(id: string) {
    const row = await this.db
      .selectFrom('voucher_sales')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? saleFromRow(row) : null;
  }

  async getVoucherByHash(pinHash: string) {
    const row = await this.db
      .selectFrom('vouchers')
      .selectAll()
      .where('pin_hash', '=', pinHash)
      .executeTakeFirst();
    if (!row) return null;
    const { id: _id, pinEncrypted: _secret, ...voucher } = voucherFromRow(row);
    return voucher;
  }

  async listSales(query: {
    retailerId?: string | undefined;
    fromMs?: number | undefined;
    toMs?: number | undefined;
    limit: number;
  }) {
    let q = this.db
      .selectFrom('voucher_sales')
      .selectAll()
      .orderBy('created_at_ms', 'desc')
      .limit(query.limit);
    if (query.retailerId !== undefined) q = q.where('retailer_id', '=', query.retailerId);
    if (query.fromMs !== undefined) q = q.where('created_at_ms', '>=', BigInt(query.fromMs));
    if (query.toMs !== undefined) q = q.where('created_at_ms', '<', BigInt(query.toMs));
    return (await q.execute()).map(saleFromRow);
  }

  async listCommissionRules() {
    const rows = await this.db
      .selectFrom('voucher_commission_rules')
      .selectAll()
      .orderBy('created_at_ms')
      .execute();
    return rows.map(ruleFromRow);
  }

  async stock() {
    const rows = await this.db
      .selectFrom('vouchers')
      .select(['product_id', 'status', 'frozen', (eb) => eb.fn.countAll().as('count')])
      .groupBy(['product_id', 'status', 'frozen'])
      .orderBy('product_id')
      .execute();
    return rows.map(
      (row): StockRow => ({
        productId: row.product_id,
        status: row.status as VoucherStatus,
        frozen: num(row.frozen as unknown as number) === 1,
        count: num(row.count as bigint),
      }),
    );
  }

  async salesSummary(query: {
    retailerId?: string | undefined;
    fromMs?: number | undefined;
    toMs?: number | undefined;
  }) {
    // A literal, not a parameter: PostgreSQL matches GROUP BY to SELECT only by identical text.
    const day = sql<bigint>`created_at_ms / ${sql.lit(dayMs)}`;
    let q = this.db
      .selectFrom('voucher_sales')
      .select((eb) => [
        'retailer_id',
        'product_id',
        day.as('day'),
        eb.fn.countAll().as('count'),
        eb.fn.sum('face_value_minor').as('face'),
        eb.fn.sum('retailer_commission_minor').as('retailer_commission'),
        eb.fn.sum('distributor_commission_minor').as('distributor_commission'),
      ])
      .where('status', '=', 'completed')
      .groupBy(['retailer_id', 'product_id', day])
      .orderBy(day)
      .orderBy('retailer_id')
      .orderBy('product_id');
    if (query.retailerId !== undefined) q = q.where('retailer_id', '=', query.retailerId);
    if (query.fromMs !== undefined) q = q.where('created_at_ms', '>=', BigInt(query.fromMs));
    if (query.toMs !== undefined) q = q.where('created_at_ms', '<', BigInt(query.toMs));
    const rows = await q.execute();
    return rows.map((row) => ({
      retailerId: row.retailer_id,
      productId: row.product_id,
      day: num(row.day),
      count: num(row.count as bigint),
      faceValueMinor: big(row.face as bigint),
      retailerCommissionMinor: big(row.retailer_commission as bigint),
      distributorCommissionMinor: big(row.distributor_commission as bigint),
    }));
  }

  async countPins() {
    const row = await this.db
      .selectFrom('vouchers')
      .select((eb) => eb.fn.countAll().as('count'))
      .executeTakeFirstOrThrow();
    return num(row.count as bigint);
  }

  async dueDeliveries(nowMs: number, limit: number) {
    const rows = await this.db
      .selectFrom('voucher_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at_ms', '<=', BigInt(nowMs))
      .orderBy('next_attempt_at_ms')
      .limit(limit)
      .execute();
    return rows.map(deliveryFromRow);
  }

  async expiredSold(nowMs: number, limit: number) {
    const rows = await this.db
      .selectFrom('vouchers')
      .select('serial')
      .where('status', '=', 'sold')
      .where('expires_at_ms', '<=', BigInt(nowMs))
      .orderBy('expires_at_ms')
      .limit(limit)
      .execute();
    return rows.map((row) => row.serial);
  }

  async listDeliveries(saleId: string) {
    const rows = await this.db
      .selectFrom('voucher_deliveries')
      .selectAll()
      .where('sale_id', '=', saleId)
      .orderBy('created_at_ms')
      .execute();
    return rows.map(deliveryFromRow);
  }

  async exportBatch(batchId: string) {
    return this.db
      .selectFrom('vouchers')
      .select(['serial', 'pin_encrypted as pinEncrypted', 'status'])
      .where('batch_id', '=', batchId)
      .orderBy('id')
      .execute();
  }
}
