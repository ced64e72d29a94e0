// The voucher rules against both stores: sale only when the amounts coincide, money moved through
// the ledger with commissions, idempotent and concurrent sales, single-use redemption in both
// modes, the guessing lockout, voids, freezing, imports and reports.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeEachStore,
  type Opened,
  openTestEnv,
  operator,
} from '../../../test/support/stores.ts';
import type { Caller, Principal } from '../shared/principal.ts';
import { isWellFormedPin, pinCheckCharacter } from './pin-code.ts';
import {
  callerNumberAccountId,
  callingCardAccountId,
  commissionExpenseAccountId,
  floatAccountId,
  voucherLiabilityAccountId,
} from './voucher-accounts.ts';
import type { Product } from './voucher-types.ts';

const must = <T>(result: { ok: true; value: T } | { ok: false; code: string }): T => {
  if (!result.ok) throw new Error(`unexpected refusal ${result.code}`);
  return result.value;
};

describeEachStore('vouchers', (kind) => {
  let env: Opened;
  let distributor: Principal;
  let retailer: Principal;
  let terminal: Caller;
  let topUp: Product;
  let card: Product;
  let sparse: Product;
  let key = 0;
  const nextKey = () => {
    key += 1;
    return `sale-${key}`;
  };

  async function posted(accountId: string): Promise<bigint> {
    const account = await env.store.ledgerReads.getAccount(accountId);
    if (!account) return 0n;
    return account.kind === 'liability' || account.kind === 'revenue' || account.kind === 'equity'
      ? account.creditsPostedMinor - account.debitsPostedMinor
      : account.debitsPostedMinor - account.creditsPostedMinor;
  }
  const stockOf = async (productId: string) =>
    (await env.vouchers.stockReport()).find((row) => row.product.id === productId)!;
  const sell = (over: Partial<Parameters<typeof env.vouchers.sell>[1]> = {}, who = terminal) =>
    env.vouchers.sell(who, {
      productId: topUp.id,
      requestedAmountMinor: 1000n,
      paidAmountMinor: 1000n,
      idempotencyKey: nextKey(),
      ...over,
    });

  beforeAll(async () => {
    env = await openTestEnv(kind);
    const { principals, vouchers } = env;
    distributor = must(await principals.create(operator, { kind: 'distributor', name: 'Dist' }));
    retailer = must(
      await principals.create(operator, {
        kind: 'retailer',
        name: 'Shop',
        parentId: distributor.id,
      }),
    );
    const term = must(
      await principals.create(operator, { kind: 'terminal', name: 'POS 1', parentId: retailer.id }),
    );
    terminal = { principal: term, scopes: [] };
    const product = {
      currency: 'USD' as const,
      faceValueMinor: 1000n,
      pinLength: 12,
      pinAlphabet: 'digits',
      pinCheck: 'damm',
      validityDays: 30,
      accessNumber: '+18005550100',
      instructions: 'Dial the access number, then the PIN.',
      lowStockThreshold: 10,
    };
    topUp = must(
      await vouchers.createProduct(operator, { ...product, name: 'Top-up 10', mode: 'top_up' }),
    );
    card = must(
      await vouchers.createProduct(operator, { ...product, name: 'Card 10', mode: 'calling_card' }),
    );
    sparse = must(
      await vouchers.createProduct(operator, { ...product, name: 'Sparse', mode: 'top_up' }),
    );
    must(await vouchers.createBatch(operator, { productId: topUp.id, count: 120, chunkSize: 50 }));
    must(await vouchers.createBatch(operator, { productId: card.id, count: 5 }));
    must(await vouchers.createBatch(operator, { productId: sparse.id, count: 1 }));
    must(
      await vouchers.openFloat(operator, {
        principalId: retailer.id,
        currency: 'USD',
        creditLimitMinor: 0n,
      }),
    );
    must(
      await vouchers.openFloat(operator, {
        principalId: distributor.id,
        currency: 'USD',
        creditLimitMinor: 0n,
      }),
    );
    const deposit = await vouchers.deposit(operator, {
      principalId: retailer.id,
      currency: 'USD',
      amountMinor: 100_000n,
      idempotencyKey: 'deposit-1',
    });
    expect(deposit.ok).toBe(true);
    must(
      await vouchers.addCommissionRule(operator, {
        level: 'retailer',
        principalId: null,
        productId: null,
        faceValueMinor: null,
        rateBasisPoints: 500,
        fixedMinor: 0n,
      }),
    );
    must(
      await vouchers.addCommissionRule(operator, {
        level: 'distributor',
        principalId: null,
        productId: null,
        faceValueMinor: null,
        rateBasisPoints: 100,
        fixedMinor: 0n,
      }),
    );
  });
  afterAll(() => env.close());

  describe('sale', () => {
    it('binds one pool PIN to its face value and moves the money with commissions', async () => {
      const float = floatAccountId(retailer.id, 'USD');
      const before = {
        float: await posted(float),
        liability: await posted(voucherLiabilityAccountId('USD')),
        commission: await posted(commissionExpenseAccountId('USD')),
        distributor: await posted(floatAccountId(distributor.id, 'USD')),
        stock: (await stockOf(topUp.id)).inStock,
      };
      const sale = must(await sell());
      expect(isWellFormedPin(topUp.pinFormat, sale.pin)).toBe(true);
      expect(sale.sale).toMatchObject({
        faceValueMinor: 1000n,
        retailerCommissionMinor: 50n,
        distributorCommissionMinor: 10n,
        retailerId: retailer.id,
        status: 'completed',
      });
      expect(sale.sale.expiresAtMs).toBe(env.clock.nowMs() + 30 * 86_400_000);
      expect(await posted(float)).toBe(before.float - 950n);
      expect(await posted(voucherLiabilityAccountId('USD'))).toBe(before.liability + 1000n);
      expect(await posted(commissionExpenseAccountId('USD'))).toBe(before.commission + 60n);
      expect(await posted(floatAccountId(distributor.id, 'USD'))).toBe(before.distributor + 10n);
      expect((await stockOf(topUp.id)).inStock).toBe(before.stock - 1);
    });

    const refusals: Array<[string, () => ReturnType<typeof sell>, string]> = [
      [
        'the paid amount differs from the requested one',
        () => sell({ paidAmountMinor: 999n }),
        'amount_mismatch',
      ],
      [
        'the requested amount is not the face value',
        () => sell({ requestedAmountMinor: 500n, paidAmountMinor: 500n }),
        'amount_mismatch',
      ],
      ['the product does not exist', () => sell({ productId: 'prd_nope' }), 'product_not_found'],
      [
        'a switch tries to sell',
        () => sell({}, { principal: { ...terminal.principal, kind: 'switch' }, scopes: [] }),
        'seller_not_allowed',
      ],
    ];
    for (const [name, when, code] of refusals) {
      it(`refuses with ${code} and changes nothing when ${name}`, async () => {
        const float = await posted(floatAccountId(retailer.id, 'USD'));
        const stock = (await stockOf(topUp.id)).inStock;
        const outcome = await when();
        expect(outcome.ok ? 'ok' : outcome.code).toBe(code);
        expect(await posted(floatAccountId(retailer.id, 'USD'))).toBe(float);
        expect((await stockOf(topUp.id)).inStock).toBe(stock);
      });
    }

    it('refuses out_of_stock when the pool is empty, and nothing changes', async () => {
      must(await sell({ productId: sparse.id }));
      const float = await posted(floatAccountId(retailer.id, 'USD'));
      const outcome = await sell({ productId: sparse.id });
      expect(outcome.ok ? 'ok' : outcome.code).toBe('out_of_stock');
      expect(await posted(floatAccountId(retailer.id, 'USD'))).toBe(float);
    });

    it('refuses float_insufficient when the float is short, and nothing changes', async () => {
      const poor = must(await env.principals.create(operator, { kind: 'retailer', name: 'Poor' }));
      must(
        await env.vouchers.openFloat(operator, {
          principalId: poor.id,
          currency: 'USD',
          creditLimitMinor: 100n,
        }),
      );
      const stock = (await stockOf(topUp.id)).inStock;
      const outcome = await sell({}, { principal: poor, scopes: [] });
      expect(outcome.ok ? 'ok' : outcome.code).toBe('float_insufficient');
      expect((await stockOf(topUp.id)).inStock).toBe(stock);
      expect(await posted(floatAccountId(poor.id, 'USD'))).toBe(0n);
    });

    it('returns the same PIN for a retried sale and moves the money once', async () => {
      const first = must(await sell({ idempotencyKey: 'retry-sale' }));
      const float = await posted(floatAccountId(retailer.id, 'USD'));
      const again = must(await sell({ idempotencyKey: 'retry-sale' }));
      expect(again.replayed).toBe(true);
      expect(again.pin).toBe(first.pin);
      expect(again.sale.serial).toBe(first.sale.serial);
      expect(await posted(floatAccountId(retailer.id, 'USD'))).toBe(float);
      const other = await sell({ idempotencyKey: 'retry-sale', productId: card.id });
      expect(other.ok ? 'ok' : other.code).toBe('exists_with_different_fields');
    });

    it('gives copies of one sale sent at once (same key, one batch) one PIN, paid once', async () => {
      const float = await posted(floatAccountId(retailer.id, 'USD'));
      const stock = (await stockOf(topUp.id)).inStock;
      const copies = (
        await Promise.all(
          Array.from({ length: 5 }, () => sell({ idempotencyKey: 'impatient-terminal' })),
        )
      ).map(must);
      expect(new Set(copies.map((copy) => copy.pin)).size).toBe(1);
      expect(copies.filter((copy) => !copy.replayed)).toHaveLength(1);
      expect(await posted(floatAccountId(retailer.id, 'USD'))).toBe(float - 950n);
      expect((await stockOf(topUp.id)).inStock).toBe(stock - 1);
    });

    it('never gives two parallel sales the same PIN', async () => {
      const float = await posted(floatAccountId(retailer.id, 'USD'));
      const outcomes = await Promise.all(Array.from({ length: 40 }, () => sell()));
      const sales = outcomes.map(must);
      expect(new Set(sales.map((s) => s.pin)).size).toBe(40);
      expect(new Set(sales.map((s) => s.sale.serial)).size).toBe(40);
      expect(await posted(floatAccountId(retailer.id, 'USD'))).toBe(float - 40n * 950n);
    });
  });

  it("lets an operator sell on a retailer's behalf, on that retailer's float", async () => {
    const float = await posted(floatAccountId(retailer.id, 'USD'));
    const sold = must(await sell({ retailerId: retailer.id }, operator));
    expect(sold.sale.retailerId).toBe(retailer.id);
    expect(await posted(floatAccountId(retailer.id, 'USD'))).toBe(float - 950n);
  });

  it.skipIf(kind !== 'postgres')(
    'never sells one PIN twice, nor redeems one twice, across two processes sharing PostgreSQL',
    async () => {
      const other = await openTestEnv('postgres', {
        reuse: { postgresSchema: env.postgresSchema! },
      });
      try {
        const both = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            (i % 2 === 0 ? env : other).vouchers.sell(terminal, {
              productId: topUp.id,
              requestedAmountMinor: 1000n,
              paidAmountMinor: 1000n,
              idempotencyKey: `two-processes-${i}`,
            }),
          ),
        );
        const sales = both.map(must);
        expect(new Set(sales.map((s) => s.sale.serial)).size).toBe(30);
        const pin = sales[0]!.pin;
        const redeemed = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 === 0 ? env : other).vouchers.redeem(operator, {
              pin,
              ani: `1666${i}`,
              source: `p${i}`,
            }),
          ),
        );
        expect(redeemed.filter((r) => r.ok)).toHaveLength(1);
      } finally {
        await other.closeKeep();
      }
    },
  );

  describe('redemption', () => {
    it('tops up the caller-number account; 20 simultaneous redemptions: exactly one wins', async () => {
      const { pin } = must(await sell());
      const sw = {
        principal: { ...operator.principal, id: 'system', kind: 'switch' as const },
        scopes: [],
      };
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          env.vouchers.redeem(sw, { pin, ani: `155501${10 + i}`, source: `10.0.0.${i}` }),
        ),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok && o.code === 'pin_invalid')).toHaveLength(19);
      let credited = 0n;
      for (let i = 0; i < 20; i += 1)
        credited += await posted(callerNumberAccountId(`155501${10 + i}`, 'USD'));
      expect(credited).toBe(1000n);
    });

    it('activates a calling card: the PIN gets its own account holding the face value', async () => {
      const sold = must(await sell({ productId: card.id }));
      const redeemed = must(await env.vouchers.redeem(operator, { pin: sold.pin }));
      expect(redeemed).toMatchObject({
        mode: 'calling_card',
        accountId: callingCardAccountId(sold.sale.serial),
      });
      expect(await posted(callingCardAccountId(sold.sale.serial))).toBe(1000n);
      expect(await env.vouchers.cardAccount(sold.pin)).toEqual({
        serial: sold.sale.serial,
        accountId: callingCardAccountId(sold.sale.serial),
      });
      const history = must(await env.vouchers.voucherHistory(sold.sale.serial));
      expect(history.voucher.status).toBe('active');
      expect(history.events.map((e) => e.action)).toEqual(['voucher.sold', 'voucher.redeemed']);
    });

    it('answers a live top-up PIN sent without a caller number, or into a frozen account, as a wrong PIN, and counts both tries', async () => {
      const caller = {
        principal: { ...operator.principal, id: `prober_${kind}`, kind: 'switch' as const },
        scopes: [],
      };
      const live = must(await sell()).pin;
      const wrongPayload = '55555555555';
      const wrong = wrongPayload + pinCheckCharacter(topUp.pinFormat, wrongPayload);
      const answer = async (pin: string, ani?: string) => {
        const outcome = await env.vouchers.redeem(caller, { pin, ani, source: 'probe' });
        return outcome.ok ? 'ok' : `${outcome.code}: ${outcome.message}`;
      };
      const wrongAnswer = await answer(wrong);
      expect(wrongAnswer).toMatch(/^pin_invalid/);
      // Five tries lock a caller; they lock only if the live PIN's tries count as failures too.
      for (const pin of [live, wrong, live, wrong]) expect(await answer(pin)).toBe(wrongAnswer);
      expect(await answer(live)).toMatch(/^redeem_locked/);
      // A frozen caller-number account: the refused top-up must not confirm the PIN either.
      must(await env.vouchers.redeem(operator, { pin: must(await sell()).pin, ani: '15554242' }));
      const frozen = await env.ledger.setAccountStatus(
        operator,
        callerNumberAccountId('15554242', 'USD'),
        'frozen',
      );
      expect(frozen.ok).toBe(true);
      for (const pin of [live, wrong, live, live, wrong]) {
        expect(await answer(pin, '15554242')).toBe(wrongAnswer);
      }
      expect(await answer(live, '15554242')).toMatch(/^redeem_locked/);
      expect(await posted(callerNumberAccountId('15554242', 'USD'))).toBe(1000n);
    });

    it('refuses a mistyped PIN before any lookup, without counting it', async () => {
      const outcome = await env.vouchers.redeem(operator, { pin: '123', ani: '1555' });
      expect(outcome.ok ? 'ok' : outcome.code).toBe('pin_malformed');
    });

    it('answers wrong, used and expired PINs alike, and locks the caller after 5 failures', async () => {
      const caller = {
        principal: { ...operator.principal, id: `sw_${kind}`, kind: 'switch' as const },
        scopes: [],
      };
      const used = must(await sell()).pin;
      must(await env.vouchers.redeem(operator, { pin: used, ani: '1999' }));
      const expiring = must(await sell()).pin;
      const good = must(await sell()).pin;
      const wrongPayload = '12345678901';
      const wrong = wrongPayload + pinCheckCharacter(topUp.pinFormat, wrongPayload);
      env.clock.advanceMs(31 * 86_400_000);
      expect(await env.vouchers.expireDue()).toBeGreaterThan(0);
      const expiredSerial = (await env.store.voucherReads.listSales({ limit: 500 })).find(
        (sale) =>
          sale.status === 'completed' &&
          sale.expiresAtMs !== null &&
          sale.expiresAtMs <= env.clock.nowMs(),
      )!.serial;
      const expiredHistory = must(await env.vouchers.voucherHistory(expiredSerial));
      expect(expiredHistory.voucher.status).toMatch(/expired|redeemed|active|voided/);
      const fresh = must(await sell()).pin;
      const answers = [];
      for (const pin of [wrong, used, expiring, wrong, used]) {
        const outcome = await env.vouchers.redeem(caller, { pin, ani: '15557777', source: 'a' });
        answers.push(outcome.ok ? 'ok' : `${outcome.code}: ${outcome.message}`);
      }
      expect(new Set(answers).size).toBe(1);
      expect(answers[0]).toMatch(/^pin_invalid/);
      const locked = await env.vouchers.redeem(caller, {
        pin: fresh,
        ani: '15557777',
        source: 'b',
      });
      expect(locked.ok ? 'ok' : locked.code).toBe('redeem_locked');
      env.clock.advanceMs(30 * 60_000 + 1);
      const after = await env.vouchers.redeem(caller, { pin: fresh, ani: '15557777', source: 'b' });
      expect(after.ok).toBe(true);
      expect(good).not.toBe(fresh);
    });
  });

  it('locks a source after 50 failures, whatever callers it speaks for', async () => {
    const sw = {
      principal: { ...operator.principal, id: `flood_${kind}`, kind: 'switch' as const },
      scopes: [],
    };
    const payload = '99999999999';
    const wrong = payload + pinCheckCharacter(topUp.pinFormat, payload);
    for (let i = 0; i < 50; i += 1) {
      const outcome = await env.vouchers.redeem(sw, { pin: wrong, ani: `1888${i}`, source: 'one' });
      expect(outcome.ok ? 'ok' : outcome.code).toBe('pin_invalid');
    }
    const fresh = must(await sell()).pin;
    const locked = await env.vouchers.redeem(sw, { pin: fresh, ani: '18889999', source: 'one' });
    expect(locked.ok ? 'ok' : locked.code).toBe('redeem_locked');
    const elsewhere = await env.vouchers.redeem(sw, { pin: fresh, ani: '18889999', source: 'two' });
    expect(elsewhere.ok).toBe(true);
  });

  describe('void', () => {
    it('reverses an unused sale within the window, and not after it or after redemption', async () => {
      const float = floatAccountId(retailer.id, 'USD');
      const before = await posted(float);
      const sold = must(await sell());
      const voided = await env.vouchers.voidSale(terminal, sold.sale.id);
      expect(voided.ok).toBe(true);
      expect(await posted(float)).toBe(before);
      expect(must(await env.vouchers.voucherHistory(sold.sale.serial)).voucher.status).toBe(
        'voided',
      );
      const redeem = await env.vouchers.redeem(operator, { pin: sold.pin, ani: '1444' });
      expect(redeem.ok ? 'ok' : redeem.code).toBe('pin_invalid');

      const late = must(await sell());
      env.clock.advanceMs(16 * 60_000);
      const tooLate = await env.vouchers.voidSale(terminal, late.sale.id);
      expect(tooLate.ok ? 'ok' : tooLate.code).toBe('void_window_passed');

      const used = must(await sell());
      must(await env.vouchers.redeem(operator, { pin: used.pin, ani: '1445' }));
      const afterUse = await env.vouchers.voidSale(terminal, used.sale.id);
      expect(afterUse.ok ? 'ok' : afterUse.code).toBe('voucher_already_used');
    });
  });

  describe('freezing, import and reports', () => {
    it('does not sell from a frozen batch until it is unfrozen', async () => {
      const product = must(
        await env.vouchers.createProduct(operator, {
          name: 'F',
          currency: 'USD',
          faceValueMinor: 1000n,
          pinLength: 10,
          pinAlphabet: 'alphanumeric',
          pinCheck: 'damm',
          mode: 'top_up',
        }),
      );
      const batch = must(
        await env.vouchers.createBatch(operator, { productId: product.id, count: 3 }),
      );
      must(await env.vouchers.setFrozen(operator, { batchId: batch.id }, true));
      const refused = await sell({ productId: product.id });
      expect(refused.ok ? 'ok' : refused.code).toBe('out_of_stock');
      must(await env.vouchers.setFrozen(operator, { batchId: batch.id }, false));
      expect((await sell({ productId: product.id })).ok).toBe(true);
    });

    it('imports a carrier PIN file after a clean dry run, and refuses a file with errors', async () => {
      const payload = (n: number) => `4000000${String(n).padStart(4, '0')}`;
      const pin = (n: number) => payload(n) + pinCheckCharacter(topUp.pinFormat, payload(n));
      const rows = [1, 2, 3].map((n) => ({
        serial: `CARRIER-${n}`,
        pin: pin(n),
        expiresAtMs: null,
      }));
      const dry = must(
        await env.vouchers.importPins(operator, { productId: topUp.id, rows, dryRun: true }),
      );
      expect(dry).toMatchObject({ batch: null, issues: [], count: 3 });
      const bad = must(
        await env.vouchers.importPins(operator, {
          productId: topUp.id,
          rows: [...rows, { serial: 'CARRIER-1', pin: '1234', expiresAtMs: null }],
          dryRun: false,
        }),
      );
      expect(bad.batch).toBeNull();
      expect(bad.issues.map((i) => i.line)).toEqual([5, 5]);
      const done = must(
        await env.vouchers.importPins(operator, { productId: topUp.id, rows, dryRun: false }),
      );
      expect(done.batch?.countCreated).toBe(3);
      expect(must(await env.vouchers.voucherHistory('carrier-2')).voucher.status).toBe('in_stock');
    });

    it('reports stock with low-stock alerts and sales per retailer, product and day', async () => {
      const stock = await stockOf(sparse.id);
      expect(stock).toMatchObject({ inStock: 0, sold: 0, expired: 1, lowStock: true });
      const sales = await env.vouchers.salesReport(operator, { retailerId: retailer.id });
      const total = sales.reduce((sum, row) => sum + row.count, 0);
      const listed = await env.store.voucherReads.listSales({
        retailerId: retailer.id,
        limit: 500,
      });
      expect(total).toBe(listed.filter((s) => s.status === 'completed').length);
      const statement = must(
        await env.vouchers.statement(operator, { retailerId: retailer.id, currency: 'USD' }),
      );
      expect(statement.movements.length).toBeGreaterThan(0);
    });

    it('keeps the ledger balanced: debits equal credits over all accounts', async () => {
      const accounts = await env.store.ledgerReads.listAccounts({ limit: 500 });
      const debits = accounts.reduce((sum, a) => sum + a.debitsPostedMinor, 0n);
      const credits = accounts.reduce((sum, a) => sum + a.creditsPostedMinor, 0n);
      expect(debits).toBe(credits);
    });
  });
});
