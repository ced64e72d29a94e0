// A seeded simulation of vouchers: waves of random concurrent sales (some with mismatched
// amounts or retried keys), redemptions (some of used PINs), voids and clock jumps with expiry
// sweeps against one store. After every wave: the ledger balances, the voucher liability equals
// the face value of the PINs sold and not redeemed or voided (expired PINs keep their value
// there), no float goes below its credit limit, and no PIN was sold twice. A failure names the
// seed that replays it:
// TOLLGATE_VOUCHER_SIM_SEED=<seed> npx vitest run test/reliability/voucher-simulation.test.ts

import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Principal } from '../../src/core/shared/principal.ts';
import {
  floatAccountId,
  voucherLiabilityAccountId,
} from '../../src/core/vouchers/voucher-accounts.ts';
import { prng } from '../support/random.ts';
import { describeEachStore, type Opened, openTestEnv, operator } from '../support/stores.ts';

const waves = 40;
const waveSizeMax = 16;

const must = <T>(result: { ok: true; value: T } | { ok: false; code: string }): T => {
  if (!result.ok) throw new Error(result.code);
  return result.value;
};

describeEachStore('voucher simulation', (kind) => {
  let env: Opened;
  let retailers: Principal[];
  let productIds: string[];
  const faces = [500n, 1000n, 2000n];

  beforeAll(async () => {
    env = await openTestEnv(kind);
    productIds = [];
    for (const face of faces) {
      const product = must(
        await env.vouchers.createProduct(operator, {
          name: `P${face}`,
          currency: 'USD',
          faceValueMinor: face,
          pinLength: 12,
          pinAlphabet: 'digits',
          pinCheck: 'damm',
          mode: face === 2000n ? 'calling_card' : 'top_up',
          validityDays: 1,
        }),
      );
      must(await env.vouchers.createBatch(operator, { productId: product.id, count: 150 }));
      productIds.push(product.id);
    }
    retailers = [];
    for (let i = 0; i < 3; i += 1) {
      const retailer = must(
        await env.principals.create(operator, { kind: 'retailer', name: `R${i}` }),
      );
      must(
        await env.vouchers.openFloat(operator, {
          principalId: retailer.id,
          currency: 'USD',
          creditLimitMinor: 1000n,
        }),
      );
      const deposit = await env.vouchers.deposit(operator, {
        principalId: retailer.id,
        currency: 'USD',
        amountMinor: 30_000n,
        idempotencyKey: `dep-${i}`,
      });
      expect(deposit.ok).toBe(true);
      retailers.push(retailer);
    }
    must(
      await env.vouchers.addCommissionRule(operator, {
        level: 'retailer',
        principalId: null,
        productId: null,
        faceValueMinor: null,
        rateBasisPoints: 300,
        fixedMinor: 1n,
      }),
    );
  });
  afterAll(() => env.close());

  async function check(soldSerials: Set<string>) {
    const accounts = await env.store.ledgerReads.listAccounts({ limit: 500 });
    const debits = accounts.reduce((t, a) => t + a.debitsPostedMinor, 0n);
    const credits = accounts.reduce((t, a) => t + a.creditsPostedMinor, 0n);
    expect(debits).toBe(credits);
    for (const retailer of retailers) {
      const float = await env.store.ledgerReads.getAccount(floatAccountId(retailer.id, 'USD'));
      expect(float!.creditsPostedMinor - float!.debitsPostedMinor).toBeGreaterThanOrEqual(-1000n);
    }
    const sales = await env.store.voucherReads.listSales({ limit: 5000 });
    expect(new Set(sales.map((s) => s.serial)).size).toBe(sales.length);
    let outstanding = 0n;
    for (const sale of sales) {
      if (sale.status !== 'completed') continue;
      const voucher = await env.store.voucherReads.getVoucher(sale.serial);
      if (voucher && (voucher.status === 'sold' || voucher.status === 'expired'))
        outstanding += sale.faceValueMinor;
    }
    const liability = await env.store.ledgerReads.getAccount(voucherLiabilityAccountId('USD'));
    expect(liability!.creditsPostedMinor - liability!.debitsPostedMinor).toBe(outstanding);
    expect(soldSerials.size).toBe(sales.length);
  }

  async function simulate(seed: number) {
    const random = prng(seed);
    const pins: string[] = [];
    const saleIds: string[] = [];
    const soldSerials = new Set<string>();
    let key = 0;
    for (let wave = 0; wave < waves; wave += 1) {
      const size = 1 + random.int(waveSizeMax);
      const work: Array<Promise<void>> = [];
      for (let i = 0; i < size; i += 1) {
        const roll = random.int(10);
        const retailer = retailers[random.int(retailers.length)]!;
        const who = { principal: retailer, scopes: [] };
        if (roll < 5) {
          const productIndex = random.int(productIds.length);
          const face = faces[productIndex]!;
          const retry = key > 0 && random.chance(0.1);
          const k = retry ? `s-${random.int(key)}` : `s-${key++}`;
          const paid = random.chance(0.1) ? face - 1n : face;
          work.push(
            env.vouchers
              .sell(who, {
                productId: productIds[productIndex]!,
                requestedAmountMinor: face,
                paidAmountMinor: paid,
                idempotencyKey: k,
              })
              .then((outcome) => {
                if (!outcome.ok) return;
                if (!outcome.value.replayed) pins.push(outcome.value.pin);
                soldSerials.add(outcome.value.sale.serial);
                saleIds.push(outcome.value.sale.id);
              }),
          );
        } else if (roll < 8 && pins.length > 0) {
          const pin = pins[random.int(pins.length)]!;
          work.push(
            env.vouchers
              .redeem(operator, {
                pin,
                ani: `1777${random.int(5)}`,
                source: `s${random.int(1000)}`,
              })
              .then(() => {}),
          );
        } else if (roll < 9 && saleIds.length > 0) {
          work.push(
            env.vouchers.voidSale(operator, saleIds[random.int(saleIds.length)]!).then(() => {}),
          );
        } else {
          env.clock.advanceMs(random.int(4) * 60 * 60_000);
          work.push(env.vouchers.expireDue().then(() => {}));
        }
      }
      await Promise.all(work);
      await check(soldSerials);
    }
    expect(pins.length).toBeGreaterThan(20);
  }

  it('keeps money conserved and every PIN sold at most once under random concurrent load', async () => {
    const seed = process.env.TOLLGATE_VOUCHER_SIM_SEED
      ? Number(process.env.TOLLGATE_VOUCHER_SIM_SEED)
      : randomInt(2 ** 31);
    try {
      await simulate(seed);
    } catch (error) {
      throw new Error(
        `simulation failed; replay with TOLLGATE_VOUCHER_SIM_SEED=${seed}: ${(error as Error).message}`,
      );
    }
  }, 120_000);
});
