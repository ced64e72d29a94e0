// A charging test bed: one carrier with a small USD tariff whose prices make the arithmetic easy
// to check by hand, a routing plan, funded caller-number accounts and sold calling cards.

import { expect } from 'vitest';
import type { Caller } from '../../src/core/shared/principal.ts';
import { systemCaller } from '../../src/core/shared/principal.ts';
import {
  callerNumberAccountId,
  spendableAccount,
} from '../../src/core/vouchers/voucher-accounts.ts';
import type { Services } from '../../src/services.ts';

/**
 * USD, rounding up:
 * - 1 (North America): 0.10 connect, 0.60/min in 1 s increments = 1 cent a second after connect;
 * - 44 (UK): no connect fee, 1.20/min in 60 s increments = 1.20 per started minute;
 * - 1900 is barred by the routing plan.
 */
export const chargingTariff = [
  '# tollgate-tariff 1',
  '# currency: USD',
  '# time_zone: UTC',
  '# rounding: up',
  '# effective_from: 2026-01-01T00:00:00Z',
  'prefix,destination,period,weekdays,from,to,connect_fee,price_per_minute,initial_price_per_minute,initial_increment_seconds,subsequent_increment_seconds,minimum_charge,maximum_charge',
  '1,North America,,,,,0.10,0.60,,1,1,0,',
  '44,United Kingdom,,,,,0,1.20,,60,60,0,',
].join('\n');

/** A Monday at noon UTC, inside the tariff's validity. */
export const chargingEpochMs = Date.UTC(2026, 2, 2, 12, 0, 0);

export async function setUpCharging(services: Services): Promise<{ switchCaller: Caller }> {
  const { rating, principals } = services;
  const carrier = await rating.createCarrier(systemCaller, { id: 'acme', name: 'Acme' });
  expect(carrier.ok).toBe(true);
  const imported = await rating.importTariff(systemCaller, {
    carrierId: 'acme',
    format: 'tollgate',
    files: { tariff: chargingTariff },
  });
  if (!imported.ok) throw new Error(`tariff import refused: ${imported.code}`);
  const plan = await rating.saveRoutingPlan(systemCaller, {
    currency: 'USD',
    selection: { kind: 'default', carrierId: 'acme' },
    barredPrefixes: ['1900'],
  });
  expect(plan.ok).toBe(true);
  const created = await principals.create(systemCaller, { kind: 'switch', name: 'Kamailio' });
  if (!created.ok) throw new Error(created.code);
  // The caller-number accounts are funded from an operator cash account.
  await services.store.committer.submit('ledger.openAccount', {
    caller: systemCaller,
    account: { ...spendableAccount({ ...cashBase, nowMs: 0 }), kind: 'asset', flags: [] },
  });
  return { switchCaller: { principal: created.value, scopes: [] } };
}

const cashBase = {
  id: 'acc_test_cash_USD',
  ownerId: 'system',
  name: 'Test cash',
  currency: 'USD' as const,
  creditLimitMinor: 0n,
};

let funding = 0;

/** Opens (once) and tops up the caller-number account of `ani` by `amountMinor`. */
export async function fundAni(services: Services, ani: string, amountMinor: bigint) {
  const id = callerNumberAccountId(ani, 'USD');
  if (!(await services.store.ledgerReads.getAccount(id))) {
    await services.store.committer.submit('ledger.openAccount', {
      caller: systemCaller,
      account: spendableAccount({
        id,
        ownerId: 'system',
        name: `Caller ${ani}`,
        currency: 'USD',
        creditLimitMinor: 0n,
        nowMs: 0,
      }),
    });
  }
  funding += 1;
  const moved = await services.ledger.transfer(systemCaller, {
    kind: 'transfer',
    idempotencyKey: `fund-${ani}-${funding}-${Date.now()}`,
    debitAccountId: cashBase.id,
    creditAccountId: id,
    amountMinor,
    currency: 'USD',
    memo: 'top-up',
  });
  if (!moved.ok) throw new Error(`funding refused: ${moved.code}`);
  return id;
}

/** Posted and available balance of an account, from its normal side. */
export async function balanceOfAccount(services: Services, accountId: string) {
  const found = await services.ledger.getAccount(systemCaller, accountId);
  if (!found.ok) throw new Error(found.code);
  return found.value.balance;
}

/** Sells one calling card of `faceValueMinor` and returns its PIN, unused. */
export async function sellCallingCard(services: Services, faceValueMinor: bigint) {
  const { vouchers, principals } = services;
  const must = <T>(result: { ok: true; value: T } | { ok: false; code: string }): T => {
    if (!result.ok) throw new Error(`unexpected refusal ${result.code}`);
    return result.value;
  };
  const product = await callingCardProduct(services, {
    name: `Card ${faceValueMinor}`,
    carrierId: 'acme',
    faceValueMinor,
    count: 1,
  });
  const retailer = must(await principals.create(systemCaller, { kind: 'retailer', name: 'Shop' }));
  must(
    await vouchers.openFloat(systemCaller, {
      principalId: retailer.id,
      currency: 'USD',
      creditLimitMinor: faceValueMinor,
    }),
  );
  const sale = must(
    await vouchers.sell(
      { principal: retailer, scopes: [] },
      {
        productId: product.id,
        requestedAmountMinor: faceValueMinor,
        paidAmountMinor: faceValueMinor,
        idempotencyKey: `card-sale-${product.id}`,
      },
    ),
  );
  return { pin: sale.pin, serial: sale.sale.serial, saleId: sale.sale.id };
}

/** A USD calling-card product of carrier `carrierId` (null: none) with `count` PINs in stock. */
export async function callingCardProduct(
  services: Services,
  input: { name: string; carrierId: string | null; faceValueMinor: bigint; count: number },
) {
  const created = await services.vouchers.createProduct(systemCaller, {
    name: input.name,
    carrierId: input.carrierId,
    currency: 'USD',
    faceValueMinor: input.faceValueMinor,
    validityDays: 30,
    pinLength: 12,
    pinAlphabet: 'digits',
    pinCheck: 'damm',
    accessNumber: '+18005550100',
    mode: 'calling_card',
    instructions: 'Dial the access number, then the PIN.',
    lowStockThreshold: 0,
  });
  if (!created.ok) throw new Error(`product refused: ${created.code}`);
  const batch = await services.vouchers.createBatch(systemCaller, {
    productId: created.value.id,
    count: input.count,
  });
  if (!batch.ok) throw new Error(`batch refused: ${batch.code}`);
  return created.value;
}
