// The voucher domain's write commands: what runs inside a group commit for each request that
// changes vouchers. Payloads are plain data built on the main thread (the clear PIN and the PIN
// key never reach the writer: rows arrive as lookup hash + ciphertext). A refusal writes
// nothing, except a failed redemption, whose only effect is the guessing counter it records.

import type { LedgerRefusalCode } from '../ledger/codes.ts';
import type { LedgerNeeds } from '../ledger/ledger-batch.ts';
import { auditEvent } from '../ledger/ledger-commands.ts';
import type { TransferRequest } from '../ledger/requests.ts';
import { type Account, balanceOf } from '../ledger/types.ts';
import type { Currency, Minor } from '../money/money.ts';
import { assert } from '../shared/assert.ts';
import { newId } from '../shared/ids.ts';
import { type Caller, systemCaller, systemPrincipal } from '../shared/principal.ts';
import { ok, type Refusal, type Result, refuse } from '../shared/result.ts';
import { defineCommand, type WriteContext } from '../shared/write-command.ts';
import { type VoucherRefusalCode, voucherRefusals } from './codes.ts';
import {
  callerNumberAccountId,
  callingCardAccountId,
  commissionExpenseAccountId,
  floatAccountId,
  spendableAccount,
  systemVoucherAccounts,
  voucherLiabilityAccountId,
} from './voucher-accounts.ts';
import type {
  Batch,
  CommissionRule,
  DeliveryRecord,
  DeliveryRequest,
  NewPinRow,
  Product,
  RedeemFailureRow,
  RedemptionMode,
  Sale,
} from './voucher-types.ts';

const dayMs = 86_400_000;

function voucherRefusal<C extends VoucherRefusalCode>(code: C): Refusal<C> {
  return refuse(code, voucherRefusals[code]);
}

const noNeeds = (accountIds: string[], keys: string[] = []): LedgerNeeds => ({
  accountIds,
  keys: keys.map((idempotencyKey) => ({ principalId: systemPrincipal.id, idempotencyKey })),
  holdIds: [],
});

async function ensureLoaded(ledger: WriteContext['ledger'], needs: LedgerNeeds): Promise<void> {
  if (!ledger.isLoaded(needs)) await ledger.load(needs);
}

/** Applies a transfer that earlier checks guarantee; a refusal here is a bug. */
function mustTransfer(ledger: WriteContext['ledger'], request: TransferRequest, nowMs: number) {
  const outcome = ledger.apply(systemCaller, request, nowMs);
  assert(outcome.ok, `voucher transfer ${request.idempotencyKey} was refused after its checks`);
}

function move(
  key: string,
  from: string,
  to: string,
  amountMinor: Minor,
  currency: Currency,
  memo: string,
): TransferRequest {
  return {
    kind: 'transfer',
    idempotencyKey: key,
    debitAccountId: from,
    creditAccountId: to,
    amountMinor,
    currency,
    code: 'voucher',
    memo,
  };
}

export interface SalePayload {
  readonly caller: Caller;
  readonly saleId: string;
  readonly idempotencyKey: string;
  readonly fingerprint: string;
  readonly productId: string;
  readonly currency: Currency;
  readonly faceValueMinor: Minor;
  readonly validityDays: number | null;
  readonly retailerId: string;
  readonly retailerCommissionMinor: Minor;
  readonly distributorId: string | null;
  readonly distributorCommissionMinor: Minor;
  readonly delivery: DeliveryRequest | null;
}

export type SaleCommandOutcome =
  | {
      readonly ok: true;
      readonly replayed: boolean;
      readonly sale: Sale;
      readonly pinEncrypted: string;
    }
  | Refusal<VoucherRefusalCode | LedgerRefusalCode>;

function saleNeeds(p: SalePayload): LedgerNeeds {
  const accountIds = [
    floatAccountId(p.retailerId, p.currency),
    voucherLiabilityAccountId(p.currency),
    commissionExpenseAccountId(p.currency),
  ];
  if (p.distributorId !== null) accountIds.push(floatAccountId(p.distributorId, p.currency));
  return noNeeds(accountIds, [
    `sale:${p.saleId}:float`,
    `sale:${p.saleId}:commission`,
    `sale:${p.saleId}:distributor`,
  ]);
}

export interface RedeemPayload {
  readonly caller: Caller;
  readonly pinHash: string;
  /**
   * Lockout subjects, each with the failures that lock it: the caller (ANI or principal) and the
   * source (principal and address).
   */
  readonly subjects: ReadonlyArray<{ readonly subject: string; readonly failuresMax: number }>;
  readonly lockoutMs: number;
  readonly ani: string | null;
}

export interface Redemption {
  readonly serial: string;
  readonly productId: string;
  readonly mode: RedemptionMode;
  readonly accountId: string;
  readonly amountMinor: Minor;
  readonly currency: Currency;
}

async function recordFailure(
  context: WriteContext,
  payload: RedeemPayload,
  rows: readonly RedeemFailureRow[],
): Promise<void> {
  const bySubject = new Map(rows.map((row) => [row.subject, row]));
  for (const { subject, failuresMax } of payload.subjects) {
    const row = bySubject.get(subject);
    const fresh = !row || context.nowMs - row.firstFailureAtMs >= payload.lockoutMs;
    const failures = fresh ? 1 : row.failures + 1;
    await context.stores.vouchers.saveRedeemFailure({
      subject,
      failures,
      firstFailureAtMs: fresh ? context.nowMs : row.firstFailureAtMs,
      lockedUntilMs: failures >= failuresMax ? context.nowMs + payload.lockoutMs : null,
    });
  }
}

const redeemCommand = defineCommand<
  RedeemPayload,
  Result<Redemption, 'pin_invalid' | 'redeem_locked'>
>({
  async run(context, p) {
    const { stores, ledger, nowMs } = context;
    const failures = await stores.vouchers.getRedeemFailures(p.subjects.map((s) => s.subject));
    if (failures.some((row) => row.lockedUntilMs !== null && row.lockedUntilMs > nowMs)) {
      return voucherRefusal('redeem_locked');
    }
    const pin = await stores.vouchers.findPinByHash(p.pinHash);
    const product = pin ? await stores.vouchers.getProduct(pin.productId) : null;
    // Wrong, used, frozen, voided and expired PINs all answer the same, and all count; so does a
    // top-up PIN without a caller number, which would otherwise confirm that the PIN is live.
    const usable =
      pin !== null &&
      product !== null &&
      pin.status === 'sold' &&
      !pin.frozen &&
      (pin.expiresAtMs === null || pin.expiresAtMs > nowMs) &&
      (product.mode !== 'top_up' || p.ani !== null);
    if (!usable) {
      await recordFailure(context, p, failures);
      return voucherRefusal('pin_invalid');
    }
    const accountId =
      product.mode === 'top_up' && p.ani !== null
        ? callerNumberAccountId(p.ani, product.currency)
        : callingCardAccountId(pin.serial);
    const liabilityId = voucherLiabilityAccountId(product.currency);
    const key = `redeem:${pin.serial}`;
    await ensureLoaded(ledger, noNeeds([liabilityId, accountId], [key]));
    if (ledger.account(accountId) === null) {
      ledger.addAccount(
        spendableAccount({
          id: accountId,
          ownerId: systemPrincipal.id,
          name: product.mode === 'top_up' ? `Caller ${p.ani}` : `Calling card ${pin.serial}`,
          currency: product.currency,
          creditLimitMinor: 0n,
          nowMs,
        }),
      );
    }
    const outcome = ledger.apply(
      systemCaller,
      move(
        key,
        liabilityId,
        accountId,
        product.faceValueMinor,
        product.currency,
        `redeem serial ${pin.serial}`,
      ),
      nowMs,
    );
    if (!outcome.ok) {
      // The account the PIN pays into is frozen or closed: that too must not tell a guesser
      // that the PIN is live. The refused transfer changed nothing.
      await recordFailure(context, p, failures);
      return voucherRefusal('pin_invalid');
    }
    await stores.vouchers.updatePin(pin.id, {
      status: product.mode === 'top_up' ? 'redeemed' : 'active',
      redeemedAtMs: nowMs,
      accountId,
    });
    await stores.vouchers.insertAuditEvents([
      auditEvent(
        p.caller,
        nowMs,
        'voucher.redeemed',
        { type: 'voucher', id: pin.serial },
        {
          mode: product.mode,
          account_id: accountId,
        },
      ),
    ]);
    return ok({
      serial: pin.serial,
      productId: product.id,
      mode: product.mode,
      accountId,
      amountMinor: product.faceValueMinor,
      currency: product.currency,
    });
  },
});

export const voucherCommands = {
  'vouchers.ensureAccounts': defineCommand<{ currency: Currency }, null>({
    needs: ({ currency }) => noNeeds(systemVoucherAccounts(currency, 0).map((a) => a.id)),
    async run({ ledger, nowMs }, { currency }) {
      const accounts = systemVoucherAccounts(currency, nowMs);
      await ensureLoaded(ledger, noNeeds(accounts.map((a) => a.id)));
      for (const account of accounts)
        if (ledger.account(account.id) === null) ledger.addAccount(account);
      return null;
    },
  }),

  'vouchers.createProduct': defineCommand<{ caller: Caller; product: Product }, null>({
    async run({ stores, nowMs }, { caller, product }) {
      await stores.vouchers.insertProduct(product);
      await stores.vouchers.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'voucher_product.created',
          { type: 'voucher_product', id: product.id },
          {
            currency: product.currency,
            face_value_minor: product.faceValueMinor.toString(),
          },
        ),
      ]);
      return null;
    },
  }),

  'vouchers.createBatch': defineCommand<{ caller: Caller; batch: Batch }, null>({
    async run({ stores, nowMs }, { caller, batch }) {
      await stores.vouchers.insertBatch(batch);
      await stores.vouchers.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'voucher_batch.started',
          { type: 'voucher_batch', id: batch.id },
          {
            product_id: batch.productId,
            count_requested: batch.countRequested,
            source: batch.source,
          },
        ),
      ]);
      return null;
    },
  }),

  /** Returns the serials that were not inserted because their PIN already exists. */
  'vouchers.insertPins': defineCommand<{ batch: Batch; rows: readonly NewPinRow[] }, string[]>({
    async run({ stores, nowMs }, { batch, rows }) {
      return stores.vouchers.insertPins(batch, rows, nowMs);
    },
  }),

  'vouchers.finishBatch': defineCommand<
    { caller: Caller; batchId: string; countCreated: number },
    null
  >({
    async run({ stores, nowMs }, { caller, batchId, countCreated }) {
      await stores.vouchers.setBatchCount(batchId, countCreated);
      await stores.vouchers.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'voucher_batch.created',
          { type: 'voucher_batch', id: batchId },
          {
            count_created: countCreated,
          },
        ),
      ]);
      return null;
    },
  }),

  'vouchers.setFrozen': defineCommand<
    { caller: Caller; target: { batchId: string } | { serial: string }; frozen: boolean },
    Result<{ changed: number }, 'batch_not_found' | 'voucher_not_found'>
  >({
    async run({ stores, nowMs }, { caller, target, frozen }) {
      const action = frozen ? 'frozen' : 'unfrozen';
      if ('batchId' in target) {
        if (!(await stores.vouchers.getBatch(target.batchId)))
          return voucherRefusal('batch_not_found');
        const changed = await stores.vouchers.setBatchFrozen(target.batchId, frozen);
        await stores.vouchers.insertAuditEvents([
          auditEvent(
            caller,
            nowMs,
            `voucher_batch.${action}`,
            { type: 'voucher_batch', id: target.batchId },
            {
              vouchers: changed,
            },
          ),
        ]);
        return ok({ changed });
      }
      const pin = await stores.vouchers.findPinBySerial(target.serial);
      if (!pin) return voucherRefusal('voucher_not_found');
      if (pin.frozen === frozen) return ok({ changed: 0 });
      await stores.vouchers.updatePin(pin.id, { frozen });
      await stores.vouchers.insertAuditEvents([
        auditEvent(caller, nowMs, `voucher.${action}`, { type: 'voucher', id: pin.serial }, {}),
      ]);
      return ok({ changed: 1 });
    },
  }),

  'vouchers.openFloat': defineCommand<
    {
      caller: Caller;
      principalId: string;
      name: string;
      currency: Currency;
      creditLimitMinor: Minor;
    },
    Account
  >({
    needs: (p) => noNeeds([floatAccountId(p.principalId, p.currency)]),
    async run({ ledger, stores, nowMs }, p) {
      const id = floatAccountId(p.principalId, p.currency);
      await ensureLoaded(ledger, noNeeds([id]));
      const existing = ledger.account(id);
      let account: Account;
      if (existing) {
        account = { ...existing, creditLimitMinor: p.creditLimitMinor };
        ledger.replaceAccount(account);
      } else {
        account = spendableAccount({
          id,
          ownerId: p.principalId,
          name: p.name,
          currency: p.currency,
          creditLimitMinor: p.creditLimitMinor,
          nowMs,
        });
        ledger.addAccount(account);
      }
      await stores.vouchers.insertAuditEvents([
        auditEvent(
          p.caller,
          nowMs,
          existing ? 'float.credit_limit_set' : 'float.opened',
          { type: 'account', id },
          {
            credit_limit_minor: p.creditLimitMinor.toString(),
          },
        ),
      ]);
      return account;
    },
  }),

  'vouchers.addCommissionRule': defineCommand<{ caller: Caller; rule: CommissionRule }, null>({
    async run({ stores, nowMs }, { caller, rule }) {
      await stores.vouchers.insertCommissionRule(rule);
      await stores.vouchers.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'commission_rule.created',
          { type: 'commission_rule', id: rule.id },
          {
            level: rule.level,
            rate_basis_points: rule.rateBasisPoints,
          },
        ),
      ]);
      return null;
    },
  }),

  'vouchers.sell': defineCommand<SalePayload, SaleCommandOutcome>({
    needs: saleNeeds,
    async run(context, p) {
      const { stores, ledger, nowMs } = context;
      const existing = await stores.vouchers.findSaleByKey(p.caller.principal.id, p.idempotencyKey);
      if (existing) {
        if (existing.fingerprint !== p.fingerprint) {
          return refuse(
            'exists_with_different_fields',
            'This idempotency key was already used for a different sale; nothing was sold.',
          );
        }
        const pin = await stores.vouchers.findPinBySerial(existing.serial);
        assert(pin !== null, 'a sale names an existing voucher');
        return { ok: true, replayed: true, sale: existing, pinEncrypted: pin.pinEncrypted };
      }
      await ensureLoaded(ledger, saleNeeds(p));
      const floatId = floatAccountId(p.retailerId, p.currency);
      const float = ledger.account(floatId);
      if (float === null) return voucherRefusal('float_not_found');
      const liability = ledger.account(voucherLiabilityAccountId(p.currency));
      const commission = ledger.account(commissionExpenseAccountId(p.currency));
      assert(liability !== null && commission !== null, 'voucher accounts exist before a sale');
      const distributorFloat =
        p.distributorId === null
          ? null
          : ledger.account(floatAccountId(p.distributorId, p.currency));
      const distributorCommission = distributorFloat === null ? 0n : p.distributorCommissionMinor;
      for (const account of [float, liability, commission, distributorFloat]) {
        if (account && account.status !== 'open') {
          return refuse(
            account.status === 'frozen' ? 'account_frozen' : 'account_closed',
            `Account ${account.id} is ${account.status}; nothing was sold.`,
          );
        }
      }
      const netMinor = p.faceValueMinor - p.retailerCommissionMinor;
      if (netMinor > balanceOf(float).availableMinor) return voucherRefusal('float_insufficient');
      const pin = await stores.vouchers.findSellablePin(p.productId);
      if (!pin) return voucherRefusal('out_of_stock');
      const memo = `sale ${p.saleId} serial ${pin.serial}`;
      const liabilityId = liability.id;
      if (netMinor > 0n) {
        const first = ledger.apply(
          systemCaller,
          move(`sale:${p.saleId}:float`, floatId, liabilityId, netMinor, p.currency, memo),
          nowMs,
        );
        if (!first.ok)
          return first.code === 'exceeds_available' ? voucherRefusal('float_insufficient') : first;
      }
      if (p.retailerCommissionMinor > 0n) {
        mustTransfer(
          ledger,
          move(
            `sale:${p.saleId}:commission`,
            commission.id,
            liabilityId,
            p.retailerCommissionMinor,
            p.currency,
            memo,
          ),
          nowMs,
        );
      }
      if (distributorFloat && distributorCommission > 0n) {
        mustTransfer(
          ledger,
          move(
            `sale:${p.saleId}:distributor`,
            commission.id,
            distributorFloat.id,
            distributorCommission,
            p.currency,
            memo,
          ),
          nowMs,
        );
      }
      const expiresAtMs =
        pin.expiresAtMs ?? (p.validityDays === null ? null : nowMs + p.validityDays * dayMs);
      await stores.vouchers.updatePin(pin.id, {
        status: 'sold',
        saleId: p.saleId,
        soldAtMs: nowMs,
        expiresAtMs,
      });
      const sale: Sale = {
        id: p.saleId,
        principalId: p.caller.principal.id,
        idempotencyKey: p.idempotencyKey,
        fingerprint: p.fingerprint,
        productId: p.productId,
        serial: pin.serial,
        retailerId: p.retailerId,
        floatAccountId: floatId,
        currency: p.currency,
        faceValueMinor: p.faceValueMinor,
        retailerCommissionMinor: p.retailerCommissionMinor,
        distributorId: distributorFloat ? p.distributorId : null,
        distributorCommissionMinor: distributorCommission,
        status: 'completed',
        expiresAtMs,
        createdAtMs: nowMs,
        voidedAtMs: null,
      };
      await stores.vouchers.insertSale(sale);
      if (p.delivery) {
        await stores.vouchers.insertDelivery({
          id: newId('dlv', nowMs),
          saleId: sale.id,
          serial: sale.serial,
          channel: p.delivery.channel,
          address: p.delivery.address,
          status: 'pending',
          attempts: 0,
          nextAttemptAtMs: nowMs,
          lastError: null,
          createdAtMs: nowMs,
        });
      }
      await stores.vouchers.insertAuditEvents([
        auditEvent(
          p.caller,
          nowMs,
          'voucher.sold',
          { type: 'voucher', id: pin.serial },
          {
            sale_id: sale.id,
            retailer_id: sale.retailerId,
            product_id: sale.productId,
          },
        ),
      ]);
      return { ok: true, replayed: false, sale, pinEncrypted: pin.pinEncrypted };
    },
  }),

  'vouchers.voidSale': defineCommand<
    { caller: Caller; saleId: string; windowMs: number },
    | { readonly ok: true; readonly replayed: boolean; readonly sale: Sale }
    | Refusal<VoucherRefusalCode>
  >({
    async run({ stores, ledger, nowMs }, { caller, saleId, windowMs }) {
      const sale = await stores.vouchers.getSale(saleId);
      if (
        !sale ||
        (caller.principal.kind !== 'operator' && sale.principalId !== caller.principal.id)
      ) {
        return voucherRefusal('sale_not_found');
      }
      if (sale.status === 'voided') return { ok: true, replayed: true, sale };
      if (nowMs - sale.createdAtMs > windowMs) return voucherRefusal('void_window_passed');
      const pin = await stores.vouchers.findPinBySerial(sale.serial);
      assert(pin !== null, 'a sale names an existing voucher');
      if (pin.status !== 'sold' || pin.frozen) return voucherRefusal('voucher_already_used');
      const liabilityId = voucherLiabilityAccountId(sale.currency);
      const commissionId = commissionExpenseAccountId(sale.currency);
      const distributorFloatId =
        sale.distributorId === null ? null : floatAccountId(sale.distributorId, sale.currency);
      const ids = [sale.floatAccountId, liabilityId, commissionId];
      if (distributorFloatId) ids.push(distributorFloatId);
      await ensureLoaded(
        ledger,
        noNeeds(ids, [
          `void:${saleId}:float`,
          `void:${saleId}:commission`,
          `void:${saleId}:distributor`,
        ]),
      );
      const accounts = ids.map((id) => ledger.account(id));
      if (accounts.some((account) => account === null || account.status !== 'open')) {
        return voucherRefusal('void_not_possible');
      }
      const distributorFloat = distributorFloatId ? ledger.account(distributorFloatId) : null;
      if (
        distributorFloat &&
        balanceOf(distributorFloat).availableMinor < sale.distributorCommissionMinor
      ) {
        return voucherRefusal('void_not_possible');
      }
      const memo = `void of sale ${sale.id} serial ${sale.serial}`;
      const net = sale.faceValueMinor - sale.retailerCommissionMinor;
      if (net > 0n)
        mustTransfer(
          ledger,
          move(`void:${saleId}:float`, liabilityId, sale.floatAccountId, net, sale.currency, memo),
          nowMs,
        );
      if (sale.retailerCommissionMinor > 0n) {
        mustTransfer(
          ledger,
          move(
            `void:${saleId}:commission`,
            liabilityId,
            commissionId,
            sale.retailerCommissionMinor,
            sale.currency,
            memo,
          ),
          nowMs,
        );
      }
      if (distributorFloatId && sale.distributorCommissionMinor > 0n) {
        mustTransfer(
          ledger,
          move(
            `void:${saleId}:distributor`,
            distributorFloatId,
            commissionId,
            sale.distributorCommissionMinor,
            sale.currency,
            memo,
          ),
          nowMs,
        );
      }
      await stores.vouchers.updatePin(pin.id, { status: 'voided' });
      await stores.vouchers.setSaleVoided(sale.id, nowMs);
      await stores.vouchers.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'voucher.sale_voided',
          { type: 'voucher', id: sale.serial },
          { sale_id: sale.id },
        ),
      ]);
      return { ok: true, replayed: false, sale: { ...sale, status: 'voided', voidedAtMs: nowMs } };
    },
  }),

  'vouchers.redeem': redeemCommand,

  /**
   * Finds the calling-card account a PIN keys, for the charging engine (seed 002: the PIN is the
   * account). A sold calling-card PIN is activated by its first call, as a redemption into its
   * own account. Every other PIN, and a locked caller, answers like a failed redemption and
   * counts towards the same lockout, so the charging path is no better an oracle than redeem.
   */
  'vouchers.resolveCard': defineCommand<
    RedeemPayload,
    Result<{ serial: string; accountId: string }, 'pin_invalid' | 'redeem_locked' | string>
  >({
    async run(context, p) {
      const { stores, nowMs } = context;
      const failures = await stores.vouchers.getRedeemFailures(p.subjects.map((s) => s.subject));
      if (failures.some((row) => row.lockedUntilMs !== null && row.lockedUntilMs > nowMs)) {
        return voucherRefusal('redeem_locked');
      }
      const pin = await stores.vouchers.findPinByHash(p.pinHash);
      const product = pin ? await stores.vouchers.getProduct(pin.productId) : null;
      const live = pin !== null && !pin.frozen && product?.mode === 'calling_card';
      if (live && pin.status === 'active' && pin.accountId !== null) {
        return ok({ serial: pin.serial, accountId: pin.accountId });
      }
      if (live && pin.status === 'sold') {
        const redeemed = await redeemCommand.run(context, { ...p, ani: null });
        if (!redeemed.ok) return redeemed;
        return ok({ serial: redeemed.value.serial, accountId: redeemed.value.accountId });
      }
      await recordFailure(context, p, failures);
      return voucherRefusal('pin_invalid');
    },
  }),

  'vouchers.recordExport': defineCommand<{ caller: Caller; batchId: string; count: number }, null>({
    async run({ stores, nowMs }, { caller, batchId, count }) {
      await stores.vouchers.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'voucher.exported',
          { type: 'voucher_batch', id: batchId },
          { count },
        ),
      ]);
      return null;
    },
  }),

  /** Marks sold PINs whose expiry has passed as expired; their value stays in the liability. */
  'vouchers.expire': defineCommand<{ serials: readonly string[] }, number>({
    async run({ stores, nowMs }, { serials }) {
      let expired = 0;
      for (const serial of serials) {
        const pin = await stores.vouchers.findPinBySerial(serial);
        if (pin?.status !== 'sold' || pin.expiresAtMs === null || pin.expiresAtMs > nowMs) continue;
        await stores.vouchers.updatePin(pin.id, { status: 'expired' });
        await stores.vouchers.insertAuditEvents([
          auditEvent(systemCaller, nowMs, 'voucher.expired', { type: 'voucher', id: serial }, {}),
        ]);
        expired += 1;
      }
      return expired;
    },
  }),

  'vouchers.recordReceipt': defineCommand<{ caller: Caller; saleId: string; serial: string }, null>(
    {
      async run({ stores, nowMs }, { caller, saleId, serial }) {
        await stores.vouchers.insertAuditEvents([
          auditEvent(
            caller,
            nowMs,
            'voucher.receipt_printed',
            { type: 'voucher', id: serial },
            { sale_id: saleId },
          ),
        ]);
        return null;
      },
    },
  ),

  'vouchers.claimDelivery': defineCommand<
    { id: string; expectedNextAttemptAtMs: number; leaseUntilMs: number },
    boolean
  >({
    async run({ stores }, { id, expectedNextAttemptAtMs, leaseUntilMs }) {
      return stores.vouchers.claimDelivery(id, expectedNextAttemptAtMs, leaseUntilMs);
    },
  }),

  'vouchers.updateDelivery': defineCommand<
    {
      id: string;
      change: Pick<DeliveryRecord, 'status' | 'attempts' | 'nextAttemptAtMs' | 'lastError'>;
    },
    null
  >({
    async run({ stores }, { id, change }) {
      await stores.vouchers.updateDelivery(id, change);
      return null;
    },
  }),
};
