// Demo data for `npm start`: a few principals, accounts and transfers, made once on an empty
// database so the API has something to show.

import { type Principal, systemCaller } from './core/shared/principal.ts';
import type { Services } from './services.ts';

export async function seedDemo(services: Services): Promise<boolean> {
  const { ledger, principals, store } = services;
  const existing = await store.ledgerReads.listAccounts({ limit: 1 });
  if (existing.length > 0) return false;
  const must = <T>(result: { ok: true; value: T } | { ok: false; code: string }): T => {
    if (!result.ok) throw new Error(`demo seed failed: ${result.code}`);
    return result.value;
  };
  const distributor = must(
    await principals.create(systemCaller, { kind: 'distributor', name: 'Demo Distribution Ltd' }),
  );
  const retailer = must(
    await principals.create(systemCaller, {
      kind: 'retailer',
      name: 'Corner Shop',
      parentId: distributor.id,
    }),
  );
  const open = async (input: Parameters<typeof ledger.createAccount>[1]) =>
    must(await ledger.createAccount(systemCaller, input)).account;
  const cash = await open({
    ownerId: 'system',
    name: 'Operator cash',
    currency: 'USD',
    kind: 'asset',
    flags: [],
    creditLimitMinor: 0n,
  });
  const revenue = await open({
    ownerId: 'system',
    name: 'Call revenue',
    currency: 'USD',
    kind: 'revenue',
    flags: [],
    creditLimitMinor: 0n,
  });
  const float = await open({
    ownerId: retailer.id,
    name: 'Corner Shop float',
    currency: 'USD',
    kind: 'liability',
    flags: ['debits_must_not_exceed_credits'],
    creditLimitMinor: 10_000n,
  });
  const wallet = await open({
    ownerId: 'system',
    name: 'Subscriber +15550100',
    currency: 'USD',
    kind: 'liability',
    flags: ['debits_must_not_exceed_credits'],
    creditLimitMinor: 0n,
  });
  const move = async (key: string, from: string, to: string, amountMinor: bigint, code: string) => {
    const outcome = await ledger.transfer(systemCaller, {
      kind: 'transfer',
      idempotencyKey: key,
      debitAccountId: from,
      creditAccountId: to,
      amountMinor,
      currency: 'USD',
      code,
    });
    if (!outcome.ok) throw new Error(`demo seed failed: ${outcome.code}`);
  };
  await move('demo-deposit-float', cash.id, float.id, 50_000n, 'deposit');
  await move('demo-topup-wallet', cash.id, wallet.id, 2_000n, 'top_up');
  await move('demo-call-1', wallet.id, revenue.id, 137n, 'call');
  const hold = await ledger.transfer(systemCaller, {
    kind: 'hold',
    idempotencyKey: 'demo-call-2-hold',
    debitAccountId: wallet.id,
    creditAccountId: revenue.id,
    amountMinor: 300n,
    currency: 'USD',
    timeoutSeconds: 24 * 3600,
    code: 'call',
  });
  if (!hold.ok) throw new Error(`demo seed failed: ${hold.code}`);
  await seedRating(services);
  await seedVouchers(services, retailer.id);
  await seedCharging(services, retailer);
  return true;
}

/** The caller number whose prepaid balance the demo funds, for a first call through the API. */
export const demoCallerNumber = '15550001234';

/**
 * A PIN-less subscriber: a top-up voucher sold by the retailer and redeemed onto the caller
 * number, so `POST /v1/charging/initiate` works out of the box.
 */
async function seedCharging(services: Services, retailer: Principal): Promise<void> {
  const { vouchers } = services;
  const must = <T>(result: { ok: true; value: T } | { ok: false; code: string }): T => {
    if (!result.ok) throw new Error(`demo seed failed: ${result.code}`);
    return result.value;
  };
  const product = must(
    await vouchers.createProduct(systemCaller, {
      id: 'prd_demo_topup_5',
      name: 'Demo top-up 5 USD',
      carrierId: 'acme',
      currency: 'USD',
      faceValueMinor: 500n,
      validityDays: 180,
      pinLength: 12,
      pinAlphabet: 'digits',
      pinCheck: 'luhn',
      accessNumber: '+15550100',
      mode: 'top_up',
      instructions: 'Dial *100*PIN# from your phone to add 5 USD.',
      lowStockThreshold: 2,
    }),
  );
  must(await vouchers.createBatch(systemCaller, { productId: product.id, count: 5 }));
  const sale = must(
    await vouchers.sell(
      { principal: retailer, scopes: [] },
      {
        productId: product.id,
        requestedAmountMinor: 500n,
        paidAmountMinor: 500n,
        idempotencyKey: 'demo-topup-sale',
      },
    ),
  );
  must(await vouchers.redeem(systemCaller, { pin: sale.pin, ani: demoCallerNumber }));
}

/** A prepaid card product with a small pool of PINs, and a voucher float for the retailer. */
async function seedVouchers(services: Services, retailerId: string): Promise<void> {
  const { vouchers } = services;
  const product = await vouchers.createProduct(systemCaller, {
    id: 'prd_demo_card_10',
    name: 'Demo calling card 10 USD',
    carrierId: 'acme',
    currency: 'USD',
    faceValueMinor: 1_000n,
    validityDays: 180,
    pinLength: 14,
    pinAlphabet: 'digits',
    pinCheck: 'damm',
    accessNumber: '+15550100',
    mode: 'calling_card',
    instructions: 'Dial +1 555 0100, enter your PIN, then the number you are calling.',
    lowStockThreshold: 5,
  });
  if (!product.ok) throw new Error(`demo seed failed: ${product.code}`);
  const batch = await vouchers.createBatch(systemCaller, {
    productId: product.value.id,
    count: 20,
  });
  if (!batch.ok) throw new Error(`demo seed failed: ${batch.code}`);
  const float = await vouchers.openFloat(systemCaller, {
    principalId: retailerId,
    currency: 'USD',
    creditLimitMinor: 0n,
  });
  if (!float.ok) throw new Error(`demo seed failed: ${float.code}`);
  const deposit = await vouchers.deposit(systemCaller, {
    principalId: retailerId,
    currency: 'USD',
    amountMinor: 20_000n,
    idempotencyKey: 'demo-voucher-float-deposit',
  });
  if (!deposit.ok) throw new Error(`demo seed failed: ${deposit.code}`);
}

/** A carrier with a small tariff and a routing plan, so quotes work out of the box. */
async function seedRating(services: Services): Promise<void> {
  const { rating } = services;
  await rating.createCarrier(systemCaller, {
    id: 'acme',
    name: 'Acme Telecom',
    accessCode: '00700',
  });
  const tariff = [
    '# tollgate-tariff 1',
    '# currency: USD',
    '# time_zone: America/New_York',
    '# rounding: up',
    '# effective_from: 2026-01-01T00:00:00Z',
    'prefix,destination,period,weekdays,from,to,connect_fee,price_per_minute,initial_price_per_minute,initial_increment_seconds,subsequent_increment_seconds,minimum_charge,maximum_charge',
    '1,United States and Canada,,,,,0,0.0100,,60,6,0,',
    '44,United Kingdom,,,,,0.02,0.0250,,60,60,0,',
    '447,United Kingdom Mobile,,,,,0,0.0900,,30,6,0.05,',
    '33,France,,,,,0,0.0123,,60,60,0,',
    '33,France,peak,1-5,08:00,19:00,0,0.0250,,60,60,0,',
  ].join('\n');
  const imported = await rating.importTariff(systemCaller, {
    carrierId: 'acme',
    format: 'tollgate',
    files: { tariff },
  });
  if (!imported.ok)
    throw new Error(`demo seed failed: ${imported.code} ${imported.issues[0]?.message ?? ''}`);
  const plan = await rating.saveRoutingPlan(systemCaller, {
    currency: 'USD',
    selection: { kind: 'default', carrierId: 'acme' },
    barredPrefixes: ['1900'],
  });
  if (!plan.ok) throw new Error(`demo seed failed: ${plan.code}`);
}
