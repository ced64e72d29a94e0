// The voucher use cases: products, PIN batches (generated or imported), floats and commission
// rules, sale, void, redemption, freezing, exports, reports and the delivery outbox. This is
// the main-thread side: it holds the PIN vault, so PINs are generated, hashed, encrypted and
// decrypted here and only hashes and ciphertexts travel to the writer.

import type { LedgerRefusalCode } from '../ledger/codes.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { TransferOutcome } from '../ledger/ledger-batch.ts';
import type { LedgerReadStore } from '../ledger/ledger-store.ts';
import { balanceOf } from '../ledger/types.ts';
import type { Currency, Minor } from '../money/money.ts';
import type { PrincipalReadStore } from '../principals/principal-store.ts';
import type { AuditEvent, AuditReadStore } from '../shared/audit.ts';
import type { Clock } from '../shared/clock.ts';
import { newId } from '../shared/ids.ts';
import type { Caller, Principal } from '../shared/principal.ts';
import { ok, type Result, refuse } from '../shared/result.ts';
import { retryDelayMs } from '../shared/retry.ts';
import type { WriteCommitter } from '../write-commands.ts';
import { type CardOrigin, CardOrigins } from './card-origin.ts';
import { type VoucherRefusalCode, voucherRefusals } from './codes.ts';
import { commissionOf, selectCommissionRule } from './commission.ts';
import {
  checkPinFormat,
  formatSerial,
  generatePins,
  isWellFormedPin,
  normalizePinInput,
  type PinFormat,
  serialPrefixPattern,
} from './pin-code.ts';
import type { PinVault } from './pin-secret.ts';
import { floatAccountId, floatCashAccountId } from './voucher-accounts.ts';
import type { RedeemPayload, Redemption } from './voucher-commands.ts';
import type {
  Batch,
  CommissionLevel,
  CommissionRule,
  DeliveryRecord,
  DeliveryRequest,
  NewPinRow,
  Product,
  RedemptionMode,
  Sale,
  Voucher,
  VoucherReadStore,
} from './voucher-types.ts';

/** Most PINs in one batch. */
export const batchCountMax = 1_000_000;
/** PINs per write command when a batch is made: big enough to amortise a commit, small enough to stream. */
export const batchChunkDefault = 10_000;
/** Deliveries one outbox sweep sends. */
export const deliverySweepMax = 100;
/** Sold PINs one expiry sweep marks expired. */
export const expirySweepMax = 1000;
/** Attempts before a delivery is marked failed. */
export const deliveryAttemptsMax = 8;

/**
 * How long a claimed delivery is reserved for the process sending it. Two processes sharing a
 * database never both send one delivery; if the sender dies mid-send, the delivery becomes due
 * again when the lease ends (at-least-once, like any outbox).
 */
export const deliveryLeaseMs = 60_000;

export interface VoucherSettings {
  /** How long after a sale it may be voided, if the PIN is unused. */
  readonly voidWindowMs: number;
  /** Failed redemptions that lock a caller (the ANI, or the principal when none is given). */
  readonly redeemFailuresMax: number;
  /**
   * Failed redemptions that lock a source (a principal at one address). Higher than the
   * caller's: one switch redeems for many callers, and five typos among them must not lock all.
   */
  readonly redeemSourceFailuresMax: number;
  /** How long a lock lasts, and the window failures are counted in. */
  readonly redeemLockoutMs: number;
}

export const defaultVoucherSettings: VoucherSettings = {
  voidWindowMs: 15 * 60_000,
  redeemFailuresMax: 5,
  redeemSourceFailuresMax: 50,
  redeemLockoutMs: 30 * 60_000,
};

/** A PIN on its way to a buyer; the shape the delivery channels take. */
export interface PinMessage {
  /** The sale this delivery belongs to; carried into receipts and errors for tracing. */
  readonly saleId: string;
  /** An e-mail address for 'email', a phone number for 'sms', a fax number for 'fax'. */
  readonly recipient: string;
  readonly productName: string;
  readonly faceValueMinor: Minor;
  readonly currency: Currency;
  /** The clear, normalised PIN. */
  readonly pin: string;
  /** The PIN's public serial number (see `formatSerial`). */
  readonly serial: string;
  /** When the PIN stops being redeemable, ms since the epoch; absent when it never expires. */
  readonly expiresAtMs?: number;
  /** The number to dial to use the PIN (the patents' access number). */
  readonly accessNumber?: string;
  /** Product-specific usage instructions, printed as given. */
  readonly instructions?: string;
}

/** Sends a PIN by one channel; throws an error with `retryable` when it fails. */
export interface PinSender {
  send(channel: DeliveryRequest['channel'], message: PinMessage): Promise<void>;
}

export interface CreateProductInput {
  readonly id?: string | undefined;
  readonly name: string;
  readonly carrierId?: string | null | undefined;
  readonly currency: Currency;
  readonly faceValueMinor: Minor;
  readonly validityDays?: number | null | undefined;
  readonly pinLength: number;
  readonly pinAlphabet: string;
  readonly pinCheck: string;
  readonly accessNumber?: string | null | undefined;
  readonly mode: RedemptionMode;
  readonly instructions?: string | undefined;
  readonly lowStockThreshold?: number | undefined;
}

export interface SellInput {
  readonly productId: string;
  readonly requestedAmountMinor: Minor;
  readonly paidAmountMinor: Minor;
  readonly idempotencyKey: string;
  /** Operators sell on a retailer's behalf; terminals and retailers sell on their own float. */
  readonly retailerId?: string | undefined;
  readonly delivery?: DeliveryRequest | undefined;
}

/** What a buyer gets: the one place, with the delivery, where a clear PIN leaves the server. */
export interface SaleView {
  readonly sale: Sale;
  readonly product: Product;
  readonly pin: string;
  readonly replayed: boolean;
}

export type ImportRow = {
  readonly serial: string;
  readonly pin: string;
  readonly expiresAtMs: number | null;
};
export interface ImportIssue {
  readonly line: number;
  readonly problem: string;
}

const refusal = <C extends VoucherRefusalCode>(code: C, message?: string) =>
  refuse(code, message ?? voucherRefusals[code]);

const principalCacheMs = 5000;

export type SaleRefusalCode = VoucherRefusalCode | LedgerRefusalCode;

export class Vouchers {
  private readonly committer: WriteCommitter;
  private readonly reads: VoucherReadStore;
  private readonly ledgerReads: LedgerReadStore;
  private readonly principals: PrincipalReadStore;
  private readonly audit: AuditReadStore;
  private readonly ledger: Ledger;
  private readonly clock: Clock;
  private readonly vault: PinVault | null;
  readonly settings: VoucherSettings;
  private readonly ensuredCurrencies = new Set<Currency>();
  private readonly products = new Map<string, Product>();
  private readonly principalCache = new Map<
    string,
    { principal: Principal | null; atMs: number }
  >();
  private rules: CommissionRule[] | null = null;
  private readonly origins: CardOrigins;

  constructor(deps: {
    committer: WriteCommitter;
    reads: VoucherReadStore;
    ledgerReads: LedgerReadStore;
    principals: PrincipalReadStore;
    audit: AuditReadStore;
    ledger: Ledger;
    clock: Clock;
    vault: PinVault | null;
    settings?: Partial<VoucherSettings> | undefined;
  }) {
    this.committer = deps.committer;
    this.reads = deps.reads;
    this.ledgerReads = deps.ledgerReads;
    this.principals = deps.principals;
    this.audit = deps.audit;
    this.ledger = deps.ledger;
    this.clock = deps.clock;
    this.vault = deps.vault;
    this.origins = new CardOrigins({ reads: deps.reads, product: (id) => this.getProduct(id) });
    this.settings = { ...defaultVoucherSettings, ...deps.settings };
  }

  private requireVault(): PinVault {
    if (!this.vault) throw new Error('the PIN key is not loaded: vouchers are unavailable');
    return this.vault;
  }

  /** The operator's voucher accounts in a currency (liability, commissions, float cash). */
  async ensureAccounts(currency: Currency): Promise<void> {
    if (this.ensuredCurrencies.has(currency)) return;
    await this.committer.submit('vouchers.ensureAccounts', { currency });
    this.ensuredCurrencies.add(currency);
  }

  // --- products --------------------------------------------------------------------------

  async createProduct(
    caller: Caller,
    input: CreateProductInput,
  ): Promise<Result<Product, 'product_invalid'>> {
    const format = checkPinFormat({
      length: input.pinLength,
      alphabet: input.pinAlphabet,
      check: input.pinCheck,
    });
    if (!format.ok) return refuse('product_invalid', format.message);
    if (input.faceValueMinor <= 0n)
      return refuse('product_invalid', 'The face value must be positive.');
    const validityDays = input.validityDays ?? null;
    if (
      validityDays !== null &&
      (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 3660)
    ) {
      return refuse('product_invalid', 'Validity is a whole number of days from 1 to 3660.');
    }
    if (input.id !== undefined && (await this.reads.getProduct(input.id))) {
      return refuse('product_invalid', 'A product with this id already exists.');
    }
    const product: Product = {
      id: input.id ?? newId('prd'),
      name: input.name,
      carrierId: input.carrierId ?? null,
      currency: input.currency,
      faceValueMinor: input.faceValueMinor,
      validityDays,
      pinFormat: format.value,
      accessNumber: input.accessNumber ?? null,
      mode: input.mode,
      instructions: input.instructions ?? '',
      lowStockThreshold: input.lowStockThreshold ?? 0,
      status: 'active',
      createdAtMs: this.clock.nowMs(),
    };
    await this.ensureAccounts(product.currency);
    await this.committer.submit('vouchers.createProduct', { caller, product });
    this.products.set(product.id, product);
    return ok(product);
  }

  async getProduct(id: string): Promise<Product | null> {
    const cached = this.products.get(id);
    if (cached) return cached;
    const product = await this.reads.getProduct(id);
    if (product) this.products.set(id, product);
    return product;
  }

  listProducts(): Promise<Product[]> {
    return this.reads.listProducts();
  }

  // --- batches ---------------------------------------------------------------------------

  /**
   * Makes `count` PINs for a product ahead of time, in chunks of `chunkSize` per transaction.
   * The next chunk is generated while the previous one is being written. A PIN that collides
   * with one already stored anywhere is replaced by a fresh draw under the same serial.
   */
  async createBatch(
    caller: Caller,
    input: {
      productId: string;
      count: number;
      serialPrefix?: string | undefined;
      chunkSize?: number | undefined;
      onProgress?: ((done: number) => void) | undefined;
    },
  ): Promise<
    Result<
      Batch,
      | 'product_not_found'
      | 'batch_count_out_of_range'
      | 'serial_prefix_invalid'
      | 'serial_prefix_taken'
    >
  > {
    const vault = this.requireVault();
    const product = await this.getProduct(input.productId);
    if (product?.status !== 'active') return refusal('product_not_found');
    if (!Number.isInteger(input.count) || input.count < 1 || input.count > batchCountMax) {
      return refusal('batch_count_out_of_range');
    }
    const started = await this.startBatch(
      caller,
      product,
      input.count,
      'generated',
      input.serialPrefix,
    );
    if (!started.ok) return started;
    const batch = started.value;
    const chunkSize = input.chunkSize ?? batchChunkDefault;
    const make = (from: number, to: number): NewPinRow[] => {
      const pins = generatePins({ format: product.pinFormat, count: to - from });
      return pins.map((pin, i) => ({
        serial: formatSerial({ batchPrefix: batch.serialPrefix, sequence: from + i + 1 }),
        pinHash: vault.lookupHash(pin).toString('hex'),
        pinEncrypted: vault.encrypt(pin),
        expiresAtMs: null,
      }));
    };
    let created = 0;
    let pending: Promise<void> | null = null;
    for (let from = 0; from < input.count; from += chunkSize) {
      const rows = make(from, Math.min(input.count, from + chunkSize));
      if (pending) await pending;
      pending = this.insertWithRetry(batch, product.pinFormat, rows).then(() => {
        created += rows.length;
        input.onProgress?.(created);
      });
    }
    if (pending) await pending;
    await this.committer.submit('vouchers.finishBatch', {
      caller,
      batchId: batch.id,
      countCreated: created,
    });
    return ok({ ...batch, countCreated: created });
  }

  private async startBatch(
    caller: Caller,
    product: Product,
    count: number,
    source: Batch['source'],
    serialPrefix: string | undefined,
  ): Promise<Result<Batch, 'serial_prefix_invalid' | 'serial_prefix_taken'>> {
    const nowMs = this.clock.nowMs();
    const id = newId('bat', nowMs);
    const prefix = serialPrefix ?? id.slice(4, 20).toUpperCase();
    if (!serialPrefixPattern.test(prefix)) return refusal('serial_prefix_invalid');
    const batches = await this.reads.listBatches();
    if (batches.some((b) => b.serialPrefix === prefix)) return refusal('serial_prefix_taken');
    const batch: Batch = {
      id,
      productId: product.id,
      serialPrefix: prefix,
      countRequested: count,
      countCreated: 0,
      source,
      frozen: false,
      createdBy: caller.principal.id,
      createdAtMs: nowMs,
    };
    await this.committer.submit('vouchers.createBatch', { caller, batch });
    return ok(batch);
  }

  private async insertWithRetry(batch: Batch, format: PinFormat, rows: NewPinRow[]): Promise<void> {
    const vault = this.requireVault();
    let pendingRows = rows;
    for (let attempt = 0; pendingRows.length > 0; attempt += 1) {
      if (attempt > 20)
        throw new Error(`batch ${batch.id}: PIN space too crowded to draw unique PINs`);
      const missing = new Set(
        await this.committer.submit('vouchers.insertPins', { batch, rows: pendingRows }),
      );
      if (missing.size === 0) return;
      const fresh = generatePins({ format, count: missing.size });
      pendingRows = pendingRows
        .filter((row) => missing.has(row.serial))
        .map((row, i) => ({
          ...row,
          pinHash: vault.lookupHash(fresh[i]!).toString('hex'),
          pinEncrypted: vault.encrypt(fresh[i]!),
        }));
    }
  }

  /**
   * Imports a carrier's PIN file, already parsed into rows. Every row is checked first (serial
   * form, PIN form for the product, duplicates in the file and in the store); with any issue,
   * or with `dryRun`, nothing is written and the issues are returned.
   */
  async importPins(
    caller: Caller,
    input: {
      productId: string;
      rows: readonly ImportRow[];
      dryRun: boolean;
      serialPrefix?: string | undefined;
    },
  ): Promise<
    Result<
      { batch: Batch | null; issues: ImportIssue[]; count: number },
      | 'product_not_found'
      | 'batch_count_out_of_range'
      | 'serial_prefix_invalid'
      | 'serial_prefix_taken'
    >
  > {
    const vault = this.requireVault();
    const product = await this.getProduct(input.productId);
    if (product?.status !== 'active') return refusal('product_not_found');
    if (input.rows.length < 1 || input.rows.length > batchCountMax)
      return refusal('batch_count_out_of_range');
    const issues: ImportIssue[] = [];
    const serials = new Set<string>();
    const hashes = new Set<string>();
    const prepared: NewPinRow[] = [];
    const nowMs = this.clock.nowMs();
    input.rows.forEach((row, index) => {
      const line = index + 2;
      const pin = normalizePinInput(row.pin);
      const serial = row.serial.trim().toUpperCase();
      if (!/^[A-Z0-9][A-Z0-9-]{0,39}$/.test(serial))
        issues.push({ line, problem: 'serial is not 1-40 letters, digits or hyphens' });
      else if (serials.has(serial))
        issues.push({ line, problem: `serial ${serial} appears twice in the file` });
      if (!isWellFormedPin(product.pinFormat, pin)) {
        issues.push({
          line,
          problem: `PIN does not match the product's format (length ${product.pinFormat.length}, ${product.pinFormat.alphabet}, ${product.pinFormat.check} check)`,
        });
        return;
      }
      if (row.expiresAtMs !== null && row.expiresAtMs <= nowMs)
        issues.push({ line, problem: 'expiry is in the past' });
      const hash = vault.lookupHash(pin).toString('hex');
      if (hashes.has(hash)) issues.push({ line, problem: 'PIN appears twice in the file' });
      serials.add(serial);
      hashes.add(hash);
      prepared.push({
        serial,
        pinHash: hash,
        pinEncrypted: vault.encrypt(pin),
        expiresAtMs: row.expiresAtMs,
      });
    });
    for (const serial of serials) {
      if (await this.reads.getVoucher(serial))
        issues.push({ line: 0, problem: `serial ${serial} already exists` });
      if (issues.length > 100) break;
    }
    if (issues.length > 0 || input.dryRun)
      return ok({ batch: null, issues, count: prepared.length });
    const started = await this.startBatch(
      caller,
      product,
      prepared.length,
      'imported',
      input.serialPrefix,
    );
    if (!started.ok) return started;
    let created = 0;
    const duplicates: string[] = [];
    for (let from = 0; from < prepared.length; from += batchChunkDefault) {
      const chunk = prepared.slice(from, from + batchChunkDefault);
      const missing = await this.committer.submit('vouchers.insertPins', {
        batch: started.value,
        rows: chunk,
      });
      duplicates.push(...missing);
      created += chunk.length - missing.length;
    }
    await this.committer.submit('vouchers.finishBatch', {
      caller,
      batchId: started.value.id,
      countCreated: created,
    });
    return ok({
      batch: { ...started.value, countCreated: created },
      issues: duplicates.map((serial) => ({
        line: 0,
        problem: `serial ${serial}: PIN already in the store, skipped`,
      })),
      count: created,
    });
  }

  getBatch(id: string): Promise<Batch | null> {
    return this.reads.getBatch(id);
  }

  listBatches(productId?: string): Promise<Batch[]> {
    return this.reads.listBatches(productId);
  }

  setFrozen(caller: Caller, target: { batchId: string } | { serial: string }, frozen: boolean) {
    return this.committer.submit('vouchers.setFrozen', { caller, target, frozen });
  }

  /**
   * The clear PINs of a batch, for printing scratch cards: an explicit export, recorded in the
   * audit log with who and when before any PIN is returned.
   */
  async exportBatch(
    caller: Caller,
    batchId: string,
  ): Promise<Result<Array<{ serial: string; pin: string; status: string }>, 'batch_not_found'>> {
    const vault = this.requireVault();
    if (!(await this.reads.getBatch(batchId))) return refusal('batch_not_found');
    const rows = await this.reads.exportBatch(batchId);
    await this.committer.submit('vouchers.recordExport', { caller, batchId, count: rows.length });
    return ok(
      rows.map((row) => ({
        serial: row.serial,
        pin: vault.decrypt(row.pinEncrypted),
        status: row.status,
      })),
    );
  }

  // --- retailers, floats, commissions ----------------------------------------------------

  private async principal(id: string): Promise<Principal | null> {
    const nowMs = this.clock.nowMs();
    const cached = this.principalCache.get(id);
    if (cached && nowMs - cached.atMs < principalCacheMs) return cached.principal;
    const principal = await this.principals.getPrincipal(id);
    this.principalCache.set(id, { principal, atMs: nowMs });
    return principal;
  }

  /** Opens (or re-limits) the float of a distributor or retailer in a currency. */
  async openFloat(
    caller: Caller,
    input: { principalId: string; currency: Currency; creditLimitMinor: Minor },
  ): Promise<Result<{ accountId: string }, 'seller_not_allowed'>> {
    const owner = await this.principals.getPrincipal(input.principalId);
    if (!owner || (owner.kind !== 'retailer' && owner.kind !== 'distributor')) {
      return refusal('seller_not_allowed', 'Floats belong to retailers and distributors.');
    }
    await this.ensureAccounts(input.currency);
    const account = await this.committer.submit('vouchers.openFloat', {
      caller,
      principalId: owner.id,
      name: `${owner.name} float ${input.currency}`,
      currency: input.currency,
      creditLimitMinor: input.creditLimitMinor,
    });
    return ok({ accountId: account.id });
  }

  /** Records a deposit into a float: the operator's cash -> the float, through the ledger. */
  async deposit(
    caller: Caller,
    input: { principalId: string; currency: Currency; amountMinor: Minor; idempotencyKey: string },
  ): Promise<TransferOutcome> {
    await this.ensureAccounts(input.currency);
    return this.ledger.transfer(caller, {
      kind: 'transfer',
      idempotencyKey: input.idempotencyKey,
      debitAccountId: floatCashAccountId(input.currency),
      creditAccountId: floatAccountId(input.principalId, input.currency),
      amountMinor: input.amountMinor,
      currency: input.currency,
      code: 'float_deposit',
    });
  }

  async addCommissionRule(
    caller: Caller,
    input: Omit<CommissionRule, 'id' | 'createdAtMs'>,
  ): Promise<Result<CommissionRule, 'commission_rule_invalid'>> {
    if (
      !Number.isInteger(input.rateBasisPoints) ||
      input.rateBasisPoints < 0 ||
      input.rateBasisPoints > 10_000 ||
      input.fixedMinor < 0n
    ) {
      return refusal('commission_rule_invalid');
    }
    const rule: CommissionRule = { ...input, id: newId('com'), createdAtMs: this.clock.nowMs() };
    await this.committer.submit('vouchers.addCommissionRule', { caller, rule });
    this.rules = null;
    return ok(rule);
  }

  async listCommissionRules(): Promise<CommissionRule[]> {
    if (!this.rules) this.rules = await this.reads.listCommissionRules();
    return this.rules;
  }

  // --- sale and void ---------------------------------------------------------------------

  private async sellerOf(
    caller: Caller,
    retailerId: string | undefined,
  ): Promise<Result<{ retailer: Principal; distributor: Principal | null }, 'seller_not_allowed'>> {
    let retailer: Principal | null = null;
    const me = caller.principal;
    if (me.kind === 'terminal' && me.parentId) retailer = await this.principal(me.parentId);
    else if (me.kind === 'retailer') retailer = me;
    else if (me.kind === 'operator' && retailerId) retailer = await this.principal(retailerId);
    if (retailer?.kind !== 'retailer' || retailer.status !== 'active') {
      return refusal('seller_not_allowed');
    }
    const parent = retailer.parentId ? await this.principal(retailer.parentId) : null;
    return ok({ retailer, distributor: parent?.kind === 'distributor' ? parent : null });
  }

  /**
   * Sells one PIN, as seeds 001/002 describe: only when the paid amount equals the requested
   * amount, and the requested amount is the product's face value, is a pool PIN bound to its
   * value. Otherwise, or with no stock or too little float, nothing changes.
   */
  async sell(caller: Caller, input: SellInput): Promise<Result<SaleView, SaleRefusalCode>> {
    const vault = this.requireVault();
    const product = await this.getProduct(input.productId);
    if (product?.status !== 'active') return refusal('product_not_found');
    if (
      input.paidAmountMinor !== input.requestedAmountMinor ||
      input.requestedAmountMinor !== product.faceValueMinor
    ) {
      return refusal('amount_mismatch');
    }
    const seller = await this.sellerOf(caller, input.retailerId);
    if (!seller.ok) return seller;
    const { retailer, distributor } = seller.value;
    const rules = await this.listCommissionRules();
    const commission = (level: CommissionLevel, principalId: string) =>
      commissionOf(
        selectCommissionRule(rules, {
          level,
          principalId,
          productId: product.id,
          faceValueMinor: product.faceValueMinor,
        }),
        product.faceValueMinor,
      );
    const retailerCommission = commission('retailer', retailer.id);
    const distributorCommission = distributor ? commission('distributor', distributor.id) : 0n;
    await this.ensureAccounts(product.currency);
    const outcome = await this.committer.submit('vouchers.sell', {
      caller,
      saleId: newId('sal', this.clock.nowMs()),
      idempotencyKey: input.idempotencyKey,
      fingerprint: JSON.stringify([
        product.id,
        input.requestedAmountMinor.toString(),
        input.paidAmountMinor.toString(),
        input.retailerId ?? null,
        input.delivery?.channel ?? null,
        input.delivery?.address ?? null,
      ]),
      productId: product.id,
      currency: product.currency,
      faceValueMinor: product.faceValueMinor,
      validityDays: product.validityDays,
      retailerId: retailer.id,
      retailerCommissionMinor: retailerCommission,
      distributorId: distributor?.id ?? null,
      distributorCommissionMinor: distributorCommission,
      delivery: input.delivery ?? null,
    });
    if (!outcome.ok) return outcome;
    return ok({
      sale: outcome.sale,
      product,
      pin: vault.decrypt(outcome.pinEncrypted),
      replayed: outcome.replayed,
    });
  }

  voidSale(caller: Caller, saleId: string) {
    return this.committer.submit('vouchers.voidSale', {
      caller,
      saleId,
      windowMs: this.settings.voidWindowMs,
    });
  }

  async getSale(caller: Caller, id: string): Promise<Result<Sale, 'sale_not_found'>> {
    const sale = await this.reads.getSale(id);
    if (!sale || !(await this.canSeeSale(caller, sale))) return refusal('sale_not_found');
    return ok(sale);
  }

  private async canSeeSale(caller: Caller, sale: Sale): Promise<boolean> {
    const me = caller.principal;
    return (
      me.kind === 'operator' ||
      sale.principalId === me.id ||
      sale.retailerId === me.id ||
      sale.distributorId === me.id
    );
  }

  /**
   * The buyer's receipt for a sale, PIN included, for printing at the point of sale. Only the
   * seller (or an operator) may print it, and every print is recorded in the audit log.
   */
  async receipt(caller: Caller, saleId: string): Promise<Result<PinMessage, 'sale_not_found'>> {
    const vault = this.requireVault();
    const sale = await this.reads.getSale(saleId);
    if (
      !sale ||
      (caller.principal.kind !== 'operator' && sale.principalId !== caller.principal.id)
    ) {
      return refusal('sale_not_found');
    }
    const voucher = await this.reads.getVoucher(sale.serial);
    const product = await this.getProduct(sale.productId);
    if (!voucher || !product) return refusal('sale_not_found');
    await this.committer.submit('vouchers.recordReceipt', { caller, saleId, serial: sale.serial });
    return ok({
      saleId: sale.id,
      recipient: '',
      productName: product.name,
      faceValueMinor: sale.faceValueMinor,
      currency: sale.currency,
      pin: vault.decrypt(voucher.pinEncrypted),
      serial: sale.serial,
      ...(voucher.expiresAtMs !== null ? { expiresAtMs: voucher.expiresAtMs } : {}),
      ...(product.accessNumber !== null ? { accessNumber: product.accessNumber } : {}),
      ...(product.instructions ? { instructions: product.instructions } : {}),
    });
  }

  // --- redemption ------------------------------------------------------------------------

  /**
   * Redeems a PIN. A mistyped PIN (bad length, characters or check digit for every product
   * format) is refused before any lookup and does not count as a guess. Every other failure
   * answers `pin_invalid`, whatever the reason, and counts towards the lockout of the caller
   * (the ANI, or the principal when none is given) and of the source (principal and address).
   */
  async redeem(
    caller: Caller,
    input: { pin: string; ani?: string | undefined; source?: string | undefined },
  ): Promise<Result<Redemption, 'pin_malformed' | 'pin_invalid' | 'redeem_locked' | string>> {
    const payload = await this.pinPayload(caller, input);
    if (!payload.ok) return payload;
    return this.committer.submit('vouchers.redeem', payload.value);
  }

  /**
   * The calling-card account a PIN keys, activating a sold card at its first call; failures
   * count towards the redemption lockout of the caller and the source.
   */
  async resolveCard(
    caller: Caller,
    input: { pin: string; ani?: string | undefined; source?: string | undefined },
  ): Promise<
    Result<{ serial: string; accountId: string }, 'pin_malformed' | 'pin_invalid' | string>
  > {
    const payload = await this.pinPayload(caller, input);
    if (!payload.ok) return payload;
    return this.committer.submit('vouchers.resolveCard', payload.value);
  }

  /**
   * What a command needs to find a PIN under the lockout: its lookup hash, never the PIN. A
   * mistyped PIN (wrong length, characters or check digit for every format) is refused here,
   * before any lookup, and does not count as a guess.
   */
  private async pinPayload(
    caller: Caller,
    input: { pin: string; ani?: string | undefined; source?: string | undefined },
  ): Promise<Result<RedeemPayload, 'pin_malformed'>> {
    const vault = this.requireVault();
    const pin = normalizePinInput(input.pin);
    const formats = await this.formats();
    if (!formats.some((format) => isWellFormedPin(format, pin))) return refusal('pin_malformed');
    const ani = input.ani ?? null;
    return ok({
      caller,
      pinHash: vault.lookupHash(pin).toString('hex'),
      subjects: this.lockoutSubjects(caller, ani, input.source),
      lockoutMs: this.settings.redeemLockoutMs,
      ani,
    });
  }

  /**
   * The calling-card account a PIN keys, for the charging side (seed 002: the PIN is the account
   * key): the account of an `active` calling-card PIN, else undefined. Malformed and unknown PINs
   * answer alike; guessing through this path must be bounded by its caller's own lockout.
   */
  async cardAccount(pin: string): Promise<{ serial: string; accountId: string } | undefined> {
    const vault = this.requireVault();
    const normal = normalizePinInput(pin);
    if (!(await this.formats()).some((format) => isWellFormedPin(format, normal))) return undefined;
    const voucher = await this.reads.getVoucherByHash(vault.lookupHash(normal).toString('hex'));
    if (voucher?.status !== 'active' || voucher.frozen || voucher.accountId === null) {
      return undefined;
    }
    return { serial: voucher.serial, accountId: voucher.accountId };
  }

  /** A calling card's product, carrier and sellers, for rating-plan selection (card-origin.ts). */
  cardOrigin(serial: string): Promise<CardOrigin | null> {
    return this.origins.of(serial);
  }

  private lockoutSubjects(caller: Caller, ani: string | null, source: string | undefined) {
    return [
      {
        subject: `caller:${ani ?? caller.principal.id}`,
        failuresMax: this.settings.redeemFailuresMax,
      },
      {
        subject: `source:${caller.principal.id}:${source ?? '-'}`,
        failuresMax: this.settings.redeemSourceFailuresMax,
      },
    ];
  }

  private async formats(): Promise<PinFormat[]> {
    const products = await this.reads.listProducts();
    for (const product of products) this.products.set(product.id, product);
    const seen = new Map<string, PinFormat>();
    for (const product of products) seen.set(JSON.stringify(product.pinFormat), product.pinFormat);
    return [...seen.values()];
  }

  // --- lookups and reports ---------------------------------------------------------------

  /** A PIN's record and history by serial: state, sale, and every audit event, never the PIN. */
  async voucherHistory(
    serial: string,
  ): Promise<Result<{ voucher: Voucher; events: AuditEvent[] }, 'voucher_not_found'>> {
    const found = await this.reads.getVoucher(serial.trim().toUpperCase());
    if (!found) return refusal('voucher_not_found');
    const { pinEncrypted: _secret, ...voucher } = found;
    const newestFirst = await this.audit.listAuditEvents({ subjectId: voucher.serial, limit: 500 });
    const events = [...newestFirst].reverse();
    return ok({ voucher, events });
  }

  /** Stock per product (one face value each), by state, with the low-stock alert. */
  async stockReport() {
    const [rows, products] = await Promise.all([this.reads.stock(), this.reads.listProducts()]);
    return products.map((product) => {
      const counts: Record<string, number> = {};
      let frozen = 0;
      for (const row of rows) {
        if (row.productId !== product.id) continue;
        if (row.frozen) frozen += row.count;
        else counts[row.status] = (counts[row.status] ?? 0) + row.count;
      }
      const inStock = counts.in_stock ?? 0;
      return {
        product,
        inStock,
        sold: counts.sold ?? 0,
        redeemed: (counts.redeemed ?? 0) + (counts.active ?? 0) + (counts.exhausted ?? 0),
        voided: counts.voided ?? 0,
        expired: counts.expired ?? 0,
        frozen,
        lowStock: inStock < product.lowStockThreshold,
      };
    });
  }

  /** Sales per retailer, product and day (UTC). Retailers see only their own. */
  salesReport(
    caller: Caller,
    query: {
      retailerId?: string | undefined;
      fromMs?: number | undefined;
      toMs?: number | undefined;
    },
  ) {
    const retailerId =
      caller.principal.kind === 'operator' ? query.retailerId : caller.principal.id;
    return this.reads.salesSummary({ ...query, retailerId });
  }

  /** A retailer's statement: its float's balance and movements, and its sales with commissions. */
  async statement(
    caller: Caller,
    query: {
      retailerId: string;
      currency: Currency;
      fromMs?: number | undefined;
      toMs?: number | undefined;
    },
  ): Promise<
    Result<
      {
        accountId: string;
        balance: ReturnType<typeof balanceOf>;
        movements: Awaited<ReturnType<LedgerReadStore['accountHistory']>>['entries'];
        sales: Sale[];
      },
      'float_not_found'
    >
  > {
    if (caller.principal.kind !== 'operator' && caller.principal.id !== query.retailerId)
      return refusal('float_not_found');
    const accountId = floatAccountId(query.retailerId, query.currency);
    const account = await this.ledgerReads.getAccount(accountId);
    if (!account) return refusal('float_not_found');
    const [history, sales] = await Promise.all([
      this.ledgerReads.accountHistory({ accountId, limit: 500 }),
      this.reads.listSales({
        retailerId: query.retailerId,
        fromMs: query.fromMs,
        toMs: query.toMs,
        limit: 500,
      }),
    ]);
    const movements = history.entries.filter(
      (entry) =>
        (query.fromMs === undefined || entry.transfer.createdAtMs >= query.fromMs) &&
        (query.toMs === undefined || entry.transfer.createdAtMs < query.toMs),
    );
    return ok({ accountId, balance: balanceOf(account), movements, sales });
  }

  /**
   * Marks sold PINs whose validity has passed as `expired`, with an audit event each. Redemption
   * refuses them whether or not this has run; the sweep keeps states and reports truthful.
   */
  async expireDue(): Promise<number> {
    const serials = await this.reads.expiredSold(this.clock.nowMs(), expirySweepMax);
    if (serials.length === 0) return 0;
    return this.committer.submit('vouchers.expire', { serials });
  }

  // --- delivery outbox -------------------------------------------------------------------

  /**
   * Sends the deliveries that are due. Each PIN is decrypted here, handed to its channel and
   * dropped; the outcome is recorded through the committer. A retryable failure waits with
   * exponential backoff; after `deliveryAttemptsMax` attempts, or a permanent failure, the
   * delivery is marked failed. The sale itself is never touched: it committed before.
   */
  async deliverDue(sender: PinSender): Promise<number> {
    const vault = this.requireVault();
    const nowMs = this.clock.nowMs();
    const due = await this.reads.dueDeliveries(nowMs, deliverySweepMax);
    let sent = 0;
    for (const delivery of due) {
      const claimed = await this.committer.submit('vouchers.claimDelivery', {
        id: delivery.id,
        expectedNextAttemptAtMs: delivery.nextAttemptAtMs,
        leaseUntilMs: this.clock.nowMs() + deliveryLeaseMs,
      });
      if (!claimed) continue;
      const outcome = await this.deliverOne(sender, vault, delivery);
      if (outcome) sent += 1;
    }
    return sent;
  }

  private async deliverOne(
    sender: PinSender,
    vault: PinVault,
    delivery: DeliveryRecord,
  ): Promise<boolean> {
    const sale = await this.reads.getSale(delivery.saleId);
    const voucher = await this.reads.getVoucher(delivery.serial);
    const product = sale ? await this.getProduct(sale.productId) : null;
    const attempts = delivery.attempts + 1;
    const nowMs = this.clock.nowMs();
    if (!sale || !voucher || !product) {
      await this.committer.submit('vouchers.updateDelivery', {
        id: delivery.id,
        change: {
          status: 'failed',
          attempts,
          nextAttemptAtMs: nowMs,
          lastError: 'sale or voucher missing',
        },
      });
      return false;
    }
    try {
      await sender.send(delivery.channel, {
        saleId: sale.id,
        recipient: delivery.address,
        productName: product.name,
        faceValueMinor: sale.faceValueMinor,
        currency: sale.currency,
        pin: vault.decrypt(voucher.pinEncrypted),
        serial: sale.serial,
        ...(voucher.expiresAtMs !== null ? { expiresAtMs: voucher.expiresAtMs } : {}),
        ...(product.accessNumber !== null ? { accessNumber: product.accessNumber } : {}),
        ...(product.instructions ? { instructions: product.instructions } : {}),
      });
      await this.committer.submit('vouchers.updateDelivery', {
        id: delivery.id,
        change: { status: 'sent', attempts, nextAttemptAtMs: nowMs, lastError: null },
      });
      return true;
    } catch (error) {
      const retryable = (error as { retryable?: unknown }).retryable === true;
      const message = error instanceof Error ? error.message : String(error);
      const giveUp = !retryable || attempts >= deliveryAttemptsMax;
      await this.committer.submit('vouchers.updateDelivery', {
        id: delivery.id,
        change: {
          status: giveUp ? 'failed' : 'pending',
          attempts,
          nextAttemptAtMs: nowMs + retryDelayMs(attempts),
          lastError: message.slice(0, 500),
        },
      });
      return false;
    }
  }

  listDeliveries(saleId: string): Promise<DeliveryRecord[]> {
    return this.reads.listDeliveries(saleId);
  }

  countPins(): Promise<number> {
    return this.reads.countPins();
  }
}

export type { CommissionLevel };
