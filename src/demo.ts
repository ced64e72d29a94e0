// Demo data for `npm start`: a few principals, accounts and transfers, made once on an empty
// database so the API has something to show.

import { systemCaller } from './core/shared/principal.ts';
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
  return true;
}
