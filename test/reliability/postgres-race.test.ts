// Several Tollgate stores (each with its own connection pool and group committer, as separate
// processes would have) race on one PostgreSQL account: no overdraft, and every idempotency key
// moves money exactly once even when the same request reaches two processes at once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/shared/clock.ts';
import { databaseUrl, type Opened, openTestEnv, operator } from '../support/stores.ts';

const processes = 4;
const requestsPerKey = 2;
const keys = 300;
const priceMinor = 7n;
const affordable = 100n;

describe.skipIf(!databaseUrl)('PostgreSQL: many connections racing on one account', () => {
  const envs: Opened[] = [];
  let wallet: string;
  let shop: string;

  beforeAll(async () => {
    const clock = new ManualClock();
    envs.push(await openTestEnv('postgres', { clock }));
    const first = envs[0]!;
    for (let i = 1; i < processes; i += 1) {
      envs.push(
        await openTestEnv('postgres', { clock, reuse: { postgresSchema: first.postgresSchema! } }),
      );
    }
    const open = async (kind: 'liability' | 'revenue' | 'equity', name: string) => {
      const created = await first.ledger.createAccount(operator, {
        ownerId: 'system',
        name,
        currency: 'USD',
        kind,
        flags: kind === 'liability' ? ['debits_must_not_exceed_credits'] : [],
        creditLimitMinor: 0n,
      });
      if (!created.ok) throw new Error(created.code);
      return created.value.account.id;
    };
    const genesis = await open('equity', 'genesis');
    wallet = await open('liability', 'wallet');
    shop = await open('revenue', 'shop');
    const funded = await first.ledger.transfer(operator, {
      kind: 'transfer',
      idempotencyKey: 'fund',
      debitAccountId: genesis,
      creditAccountId: wallet,
      amountMinor: priceMinor * affordable,
      currency: 'USD',
    });
    expect(funded.ok).toBe(true);
  });

  afterAll(async () => {
    for (const env of envs.slice(1).reverse()) await env.closeKeep();
    await envs[0]?.close();
  });

  it('never overdraws and applies each key once', async () => {
    const attempts = [];
    for (let key = 0; key < keys; key += 1) {
      for (let copy = 0; copy < requestsPerKey; copy += 1) {
        const env = envs[(key + copy) % processes]!;
        attempts.push(
          env.ledger.transfer(operator, {
            kind: key % 3 === 0 ? 'hold' : 'transfer',
            idempotencyKey: `race-${key}`,
            debitAccountId: wallet,
            creditAccountId: shop,
            amountMinor: priceMinor,
            currency: 'USD',
            ...(key % 3 === 0 ? { timeoutSeconds: 600 } : {}),
          } as Parameters<Opened['ledger']['transfer']>[1]),
        );
      }
    }
    const outcomes = await Promise.all(attempts);
    const byKey = new Map<string, Set<string>>();
    outcomes.forEach((outcome, i) => {
      if (!outcome.ok) {
        expect(outcome.code).toBe('exceeds_available');
        return;
      }
      const key = `race-${Math.floor(i / requestsPerKey)}`;
      const ids = byKey.get(key) ?? new Set<string>();
      ids.add(outcome.transfer.id);
      byKey.set(key, ids);
    });
    for (const [key, ids] of byKey) expect(ids.size, `${key} made more than one transfer`).toBe(1);
    expect(BigInt(byKey.size)).toBe(affordable);

    const view = await envs[0]!.ledger.getAccount(operator, wallet);
    if (!view.ok) throw new Error(view.code);
    expect(view.value.balance.availableMinor).toBe(0n);
    expect(view.value.account.debitsPostedMinor + view.value.account.debitsPendingMinor).toBe(
      priceMinor * affordable,
    );
    const stored = await envs[0]!.store.db
      .selectFrom('transfers')
      .select((eb) => eb.fn.countAll<bigint>().as('n'))
      .where('idempotency_key', 'like', 'race-%')
      .executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(Number(affordable));
  }, 120_000);
});
