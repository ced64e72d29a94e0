// A seeded simulation of the ledger (TigerBeetle's VOPR in miniature): waves of random
// transfers, holds, posts, voids, replays and expiries, submitted concurrently so they share
// group commits, against a simulated clock. After every wave it checks that money is conserved,
// that no account breaks its flags, that held amounts match the pending holds, and that every
// idempotency key moved money at most once. A failure names the seed that replays it:
// TOLLGATE_SIM_SEED=<seed> npx vitest run test/reliability/ledger-simulation.test.ts

import { randomInt } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import type { TransferRequest } from '../../src/core/ledger/requests.ts';
import type { Account, AccountFlag } from '../../src/core/ledger/types.ts';
import type { Caller } from '../../src/core/shared/principal.ts';
import { prng } from '../support/random.ts';
import { describeEachStore, type Opened, openTestEnv, operator } from '../support/stores.ts';

const operationsTotal = 3000;
const waveSizeMax = 24;

async function simulate(env: Opened, seed: number): Promise<{ applied: number; refused: number }> {
  const random = prng(seed);
  const accounts: Array<{ id: string; currency: 'USD' | 'EUR' }> = [];
  for (const currency of ['USD', 'EUR'] as const) {
    const genesis = await env.ledger.createAccount(operator, {
      ownerId: 'system',
      name: `genesis ${currency}`,
      currency,
      kind: 'equity',
      flags: [],
      creditLimitMinor: 0n,
    });
    if (!genesis.ok) throw new Error(genesis.code);
    accounts.push({ id: genesis.value.account.id, currency });
    for (let i = 0; i < 6; i += 1) {
      const flags: AccountFlag[] = random.chance(0.8) ? ['debits_must_not_exceed_credits'] : [];
      const created = await env.ledger.createAccount(operator, {
        ownerId: 'system',
        name: `acct ${currency} ${i}`,
        currency,
        kind: 'liability',
        flags,
        creditLimitMinor: random.chance(0.2) ? BigInt(random.int(500)) : 0n,
      });
      if (!created.ok) throw new Error(created.code);
      accounts.push({ id: created.value.account.id, currency });
      const funded = await env.ledger.transfer(operator, {
        kind: 'transfer',
        idempotencyKey: `fund-${seed}-${created.value.account.id}`,
        debitAccountId: genesis.value.account.id,
        creditAccountId: created.value.account.id,
        amountMinor: BigInt(1 + random.int(5000)),
        currency,
      });
      expect(funded.ok).toBe(true);
    }
  }
  const holds: string[] = [];
  const sent: TransferRequest[] = [];
  /** Transfer id per idempotency key: a key must never map to two transfers. */
  const appliedByKey = new Map<string, string>();
  let refused = 0;
  let keyCounter = 0;
  const caller: Caller = operator;

  const randomRequest = (): TransferRequest => {
    keyCounter += 1;
    const key = `sim-${seed}-${keyCounter}`;
    const roll = random.int(100);
    if (roll < 8 && sent.length > 0) return random.pick(sent); // a client retry
    if (roll < 25 && holds.length > 0) {
      const holdId = random.pick(holds);
      return random.chance(0.6)
        ? {
            kind: 'post',
            idempotencyKey: key,
            holdId,
            amountMinor: random.chance(0.5) ? undefined : BigInt(1 + random.int(300)),
          }
        : { kind: 'void', idempotencyKey: key, holdId };
    }
    const debit = random.pick(accounts);
    const sameCurrency = accounts.filter((a) => a.currency === debit.currency && a.id !== debit.id);
    const credit = random.chance(0.03) ? random.pick(accounts) : random.pick(sameCurrency);
    const amountMinor = BigInt(random.chance(0.02) ? 0 : 1 + random.int(800));
    if (roll < 55) {
      return {
        kind: 'hold',
        idempotencyKey: key,
        debitAccountId: debit.id,
        creditAccountId: credit.id,
        amountMinor,
        currency: debit.currency,
        timeoutSeconds: 1 + random.int(120),
      };
    }
    return {
      kind: 'transfer',
      idempotencyKey: key,
      debitAccountId: debit.id,
      creditAccountId: credit.id,
      amountMinor,
      currency: debit.currency,
    };
  };

  let operations = 0;
  while (operations < operationsTotal) {
    const wave = Array.from({ length: 1 + random.int(waveSizeMax) }, randomRequest);
    operations += wave.length;
    const outcomes = await Promise.all(wave.map((request) => env.ledger.transfer(caller, request)));
    outcomes.forEach((outcome, i) => {
      const request = wave[i]!;
      sent.push(request);
      if (!outcome.ok) {
        refused += 1;
        return;
      }
      const previous = appliedByKey.get(request.idempotencyKey);
      if (previous !== undefined)
        expect(outcome.transfer.id, 'a key moved money twice').toBe(previous);
      appliedByKey.set(request.idempotencyKey, outcome.transfer.id);
      if (outcome.transfer.kind === 'hold' && !outcome.replayed) holds.push(outcome.transfer.id);
    });
    if (random.chance(0.2)) env.clock.advanceMs(random.int(30_000));
    if (random.chance(0.1)) await env.ledger.expireDueHolds();
    await checkInvariants(env);
  }
  const stored = await env.store.db
    .selectFrom('transfers')
    .select((eb) => eb.fn.countAll<bigint>().as('n'))
    .executeTakeFirstOrThrow();
  const expireCount = await env.store.db
    .selectFrom('transfers')
    .select((eb) => eb.fn.countAll<bigint>().as('n'))
    .where('kind', '=', 'expire')
    .executeTakeFirstOrThrow();
  // Every stored transfer is a funding transfer, one applied key, or a server expiry.
  expect(Number(stored.n)).toBe(accounts.length - 2 + appliedByKey.size + Number(expireCount.n));
  await checkHistoryChains(
    env,
    accounts.map((a) => a.id),
  );
  return { applied: appliedByKey.size, refused };
}

/** Every account's history chain reaches every transfer that touches it, newest first. */
async function checkHistoryChains(env: Opened, accountIds: readonly string[]): Promise<void> {
  for (const accountId of accountIds) {
    const direct = await env.store.db
      .selectFrom('transfers')
      .select('id')
      .where((eb) =>
        eb.or([eb('debit_account_id', '=', accountId), eb('credit_account_id', '=', accountId)]),
      )
      .execute();
    const walked: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page += 1) {
      const history = await env.ledger.history(operator, accountId, { cursor, limit: 500 });
      if (!history.ok) throw new Error(history.code);
      walked.push(...history.value.items.map((item) => item.transfer.id));
      if (!history.value.nextCursor) break;
      cursor = history.value.nextCursor;
    }
    expect(new Set(walked).size, `${accountId} history has duplicates`).toBe(walked.length);
    expect([...walked].sort(), `${accountId} history chain`).toEqual(
      direct.map((row) => row.id).sort(),
    );
  }
}

async function checkInvariants(env: Opened): Promise<void> {
  const totals = await env.store.ledgerReads.totals();
  for (const total of totals) {
    expect(total.debitsPostedMinor, `${total.currency} posted debits = credits`).toBe(
      total.creditsPostedMinor,
    );
    expect(total.debitsPendingMinor, `${total.currency} pending debits = credits`).toBe(
      total.creditsPendingMinor,
    );
  }
  const accounts: Account[] = await env.store.ledgerReads.listAccounts({ limit: 500 });
  const pending = await env.store.db
    .selectFrom('transfers')
    .select(['debit_account_id', 'credit_account_id', 'amount_minor'])
    .where('hold_status', '=', 'pending')
    .execute();
  for (const account of accounts) {
    expect(account.debitsPendingMinor >= 0n && account.creditsPendingMinor >= 0n).toBe(true);
    if (account.flags.includes('debits_must_not_exceed_credits')) {
      expect(
        account.debitsPostedMinor + account.debitsPendingMinor <=
          account.creditsPostedMinor + account.creditLimitMinor,
        `${account.id} broke debits_must_not_exceed_credits`,
      ).toBe(true);
    }
    const heldOut = pending
      .filter((h) => h.debit_account_id === account.id)
      .reduce((sum, h) => sum + BigInt(h.amount_minor), 0n);
    const heldIn = pending
      .filter((h) => h.credit_account_id === account.id)
      .reduce((sum, h) => sum + BigInt(h.amount_minor), 0n);
    expect(account.debitsPendingMinor, `${account.id} pending debits match its holds`).toBe(
      heldOut,
    );
    expect(account.creditsPendingMinor, `${account.id} pending credits match its holds`).toBe(
      heldIn,
    );
  }
}

describeEachStore('ledger simulation', (kind) => {
  let env: Opened | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  const seeds = process.env.TOLLGATE_SIM_SEED
    ? [Number(process.env.TOLLGATE_SIM_SEED)]
    : [randomInt(2 ** 31), randomInt(2 ** 31)];
  for (const seed of seeds) {
    it(`conserves money and honours every flag through ${operationsTotal} random operations (seed ${seed})`, async () => {
      env = await openTestEnv(kind);
      try {
        const { applied, refused } = await simulate(env, seed);
        expect(applied).toBeGreaterThan(operationsTotal / 4);
        expect(refused).toBeGreaterThan(0);
      } catch (error) {
        throw new Error(
          `simulation failed; replay with TOLLGATE_SIM_SEED=${seed}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }, 120_000);
  }
});
