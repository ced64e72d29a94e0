// The voucher domain's nouns: products (what a buyer selects), batches (PINs made ahead of time),
// vouchers (one PIN each, named in public by its serial), sales, commission rules, and the
// storage interfaces the core needs for them. A voucher row never holds a clear PIN: only its
// HMAC lookup hash (hex) and its AES-GCM ciphertext, both made on the main thread by PinVault.

import type { Currency, Minor } from '../money/money.ts';
import type { AuditEvent } from '../shared/audit.ts';
import type { PinFormat } from './pin-code.ts';

export const redemptionModes = ['calling_card', 'top_up'] as const;
/** `calling_card`: the PIN is the account key. `top_up`: the value goes to a caller-number account. */
export type RedemptionMode = (typeof redemptionModes)[number];

export const voucherStatuses = [
  'in_stock',
  'sold',
  'redeemed',
  'active',
  'exhausted',
  'expired',
  'voided',
] as const;
/** Where a PIN stands. Frozen is a separate flag, so unfreezing restores the status it had. */
export type VoucherStatus = (typeof voucherStatuses)[number];

export interface Product {
  readonly id: string;
  readonly name: string;
  /** The communication company whose switch honours the PIN; null for gift codes. */
  readonly carrierId: string | null;
  readonly currency: Currency;
  readonly faceValueMinor: Minor;
  /** Days a sold PIN stays redeemable; null: it does not expire. */
  readonly validityDays: number | null;
  readonly pinFormat: PinFormat;
  /** The number the buyer dials to reach the carrier's platform (seed 002). */
  readonly accessNumber: string | null;
  readonly mode: RedemptionMode;
  readonly instructions: string;
  /** Stock below this raises a low-stock alert in the stock report. */
  readonly lowStockThreshold: number;
  readonly status: 'active' | 'retired';
  readonly createdAtMs: number;
}

export interface Batch {
  readonly id: string;
  readonly productId: string;
  /** Serial prefix: every PIN of the batch is `<prefix>-<sequence>`. */
  readonly serialPrefix: string;
  readonly countRequested: number;
  readonly countCreated: number;
  readonly source: 'generated' | 'imported';
  readonly frozen: boolean;
  readonly createdBy: string;
  readonly createdAtMs: number;
}

/** A voucher as support and reports see it: never the PIN. */
export interface Voucher {
  readonly serial: string;
  readonly batchId: string;
  readonly productId: string;
  readonly status: VoucherStatus;
  readonly frozen: boolean;
  readonly saleId: string | null;
  readonly soldAtMs: number | null;
  readonly expiresAtMs: number | null;
  readonly redeemedAtMs: number | null;
  /** The calling-card or caller-number account the value went to at redemption. */
  readonly accountId: string | null;
  readonly createdAtMs: number;
}

/** What the writer needs to insert one pool PIN; the clear PIN stays on the main thread. */
export interface NewPinRow {
  readonly serial: string;
  readonly pinHash: string;
  readonly pinEncrypted: string;
  /** Carrier files may carry their own expiry; generated PINs get theirs at sale. */
  readonly expiresAtMs: number | null;
}

export interface Sale {
  readonly id: string;
  /** The principal that sold (terminal, retailer or operator) and whose idempotency key it is. */
  readonly principalId: string;
  readonly idempotencyKey: string;
  readonly fingerprint: string;
  readonly productId: string;
  readonly serial: string;
  readonly retailerId: string;
  readonly floatAccountId: string;
  readonly currency: Currency;
  readonly faceValueMinor: Minor;
  readonly retailerCommissionMinor: Minor;
  readonly distributorId: string | null;
  readonly distributorCommissionMinor: Minor;
  readonly status: 'completed' | 'voided';
  readonly expiresAtMs: number | null;
  readonly createdAtMs: number;
  readonly voidedAtMs: number | null;
}

export const commissionLevels = ['retailer', 'distributor'] as const;
export type CommissionLevel = (typeof commissionLevels)[number];

/**
 * A commission rule: who earns (a level, optionally one principal), on what (optionally one
 * product, optionally one face value), how much (basis points of face value plus a fixed amount).
 */
export interface CommissionRule {
  readonly id: string;
  readonly level: CommissionLevel;
  readonly principalId: string | null;
  readonly productId: string | null;
  readonly faceValueMinor: Minor | null;
  readonly rateBasisPoints: number;
  readonly fixedMinor: Minor;
  readonly createdAtMs: number;
}

export interface DeliveryRequest {
  readonly channel: 'email' | 'sms' | 'fax';
  readonly address: string;
}

export interface DeliveryRecord {
  readonly id: string;
  readonly saleId: string;
  readonly serial: string;
  readonly channel: DeliveryRequest['channel'];
  readonly address: string;
  readonly status: 'pending' | 'sent' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAtMs: number;
  readonly lastError: string | null;
  readonly createdAtMs: number;
}

/** A voucher row with its secret parts, as the writer reads it: still no clear PIN. */
export interface VoucherSecretRow extends Voucher {
  readonly id: number;
  readonly pinEncrypted: string;
}

export interface RedeemFailureRow {
  readonly subject: string;
  readonly failures: number;
  readonly firstFailureAtMs: number;
  readonly lockedUntilMs: number | null;
}

/** What the voucher write commands need from the database, inside the group commit. */
export interface VoucherTxStore {
  insertProduct(product: Product): Promise<void>;
  getProduct(id: string): Promise<Product | null>;
  insertBatch(batch: Batch): Promise<void>;
  getBatch(id: string): Promise<Batch | null>;
  /** Inserts pool PINs; returns the serials NOT inserted because their hash already exists. */
  insertPins(batch: Batch, rows: readonly NewPinRow[], nowMs: number): Promise<string[]>;
  setBatchCount(batchId: string, countCreated: number): Promise<void>;
  setBatchFrozen(batchId: string, frozen: boolean): Promise<number>;
  /** The oldest sellable PIN of a product, locked (skipping rows others hold) on PostgreSQL. */
  findSellablePin(productId: string): Promise<VoucherSecretRow | null>;
  findPinByHash(pinHash: string): Promise<VoucherSecretRow | null>;
  findPinBySerial(serial: string): Promise<VoucherSecretRow | null>;
  updatePin(
    id: number,
    change: Partial<
      Pick<
        Voucher,
        'status' | 'frozen' | 'saleId' | 'soldAtMs' | 'expiresAtMs' | 'redeemedAtMs' | 'accountId'
      >
    >,
  ): Promise<void>;
  findSaleByKey(principalId: string, idempotencyKey: string): Promise<Sale | null>;
  getSale(id: string): Promise<Sale | null>;
  insertSale(sale: Sale): Promise<void>;
  setSaleVoided(id: string, atMs: number): Promise<void>;
  insertCommissionRule(rule: CommissionRule): Promise<void>;
  getRedeemFailures(subjects: readonly string[]): Promise<RedeemFailureRow[]>;
  saveRedeemFailure(row: RedeemFailureRow): Promise<void>;
  insertDelivery(delivery: DeliveryRecord): Promise<void>;
  /** Audit events of voucher changes, on the hot path's own statement. */
  insertAuditEvents(events: readonly AuditEvent[]): Promise<void>;
  updateDelivery(
    id: string,
    change: Pick<DeliveryRecord, 'status' | 'attempts' | 'nextAttemptAtMs' | 'lastError'>,
  ): Promise<void>;
  /**
   * Claims a pending delivery for sending by moving its next attempt to `leaseUntilMs`, only if
   * it is still pending and still due at `expectedNextAttemptAtMs`. True when this caller won.
   */
  claimDelivery(
    id: string,
    expectedNextAttemptAtMs: number,
    leaseUntilMs: number,
  ): Promise<boolean>;
}

export interface StockRow {
  readonly productId: string;
  readonly status: VoucherStatus;
  readonly frozen: boolean;
  readonly count: number;
}

export interface SalesSummaryRow {
  readonly retailerId: string;
  readonly productId: string;
  /** Days since the epoch (UTC). */
  readonly day: number;
  readonly count: number;
  readonly faceValueMinor: Minor;
  readonly retailerCommissionMinor: Minor;
  readonly distributorCommissionMinor: Minor;
}

/** The reads the voucher service needs outside a write transaction. */
export interface VoucherReadStore {
  getProduct(id: string): Promise<Product | null>;
  listProducts(): Promise<Product[]>;
  getBatch(id: string): Promise<Batch | null>;
  listBatches(productId?: string): Promise<Batch[]>;
  getVoucher(serial: string): Promise<(Voucher & { pinEncrypted: string }) | null>;
  getVoucherByHash(pinHash: string): Promise<Voucher | null>;
  getSale(id: string): Promise<Sale | null>;
  listSales(query: {
    retailerId?: string | undefined;
    fromMs?: number | undefined;
    toMs?: number | undefined;
    limit: number;
  }): Promise<Sale[]>;
  listCommissionRules(): Promise<CommissionRule[]>;
  stock(): Promise<StockRow[]>;
  salesSummary(query: {
    retailerId?: string | undefined;
    fromMs?: number | undefined;
    toMs?: number | undefined;
  }): Promise<SalesSummaryRow[]>;
  /** Every pin format in use, to tell a mistyped PIN from a wrong one before any lookup. */
  countPins(): Promise<number>;
  dueDeliveries(nowMs: number, limit: number): Promise<DeliveryRecord[]>;
  /** Serials of sold PINs whose expiry has passed. */
  expiredSold(nowMs: number, limit: number): Promise<string[]>;
  listDeliveries(saleId: string): Promise<DeliveryRecord[]>;
  /** Serials in a batch with their ciphertexts, for the audited export. */
  exportBatch(
    batchId: string,
  ): Promise<Array<{ serial: string; pinEncrypted: string; status: string }>>;
}
