// The ledger's rules as a table: given these accounts, when these requests, then these outcomes
// and balances. The same table runs against SQLite and PostgreSQL.

import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeEachStore,
  type Opened,
  openTestEnv,
  operator,
} from '../../../test/support/stores.ts';
import type { Currency } from '../money/money.ts';
import type { Caller } from '../shared/principal.ts';
import type { TransferRequest } from './requests.ts';
import type { AccountFlag, AccountKind } from './types.ts';

type Name = string;
interface GivenAccount {
  kind?: AccountKind;
  flags?: AccountFlag[];
  currency?: Currency;
  creditLimitMinor?: bigint;
  /** Funded from a genesis account before the case starts. */
  fundedMinor?: bigint;
  status?: 'frozen';
  /** Who owns the account: the system (default), the retailer, its distributor, or a stranger. */
  owner?: Owner;
}
type Owner = 'retailer' | 'distributor' | 'stranger';
type Step =
  | {
      transfer: [debit: Name, credit: Name, amountMinor: bigint];
      key?: string;
      currency?: Currency;
      as?: 'retailer';
    }
  | {
      hold: [debit: Name, credit: Name, amountMinor: bigint];
      timeoutSeconds?: number;
      key?: string;
      as?: 'retailer';
    }
  | { post: string; amountMinor?: bigint; key?: string }
  | { void: string; key?: string }
  | { advanceSeconds: number }
  | { expireDue: number };
interface Case {
  name: string;
  given: Record<Name, GivenAccount>;
  when: Array<Step & { expect?: string }>;
  expected: Record<Name, { postedMinor?: bigint; availableMinor?: bigint; heldMinor?: bigint }>;
}

const wallet: GivenAccount = { kind: 'liability', flags: ['debits_must_not_exceed_credits'] };
const shop: GivenAccount = { kind: 'revenue' };

const cases: Case[] = [
  {
    name: 'a transfer within the available balance posts at once',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [{ transfer: ['alice', 'shop', 60n], expect: 'ok' }],
    expected: { alice: { postedMinor: 40n, availableMinor: 40n }, shop: { postedMinor: 60n } },
  },
  {
    name: 'a transfer of exactly the available balance empties the account',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [{ transfer: ['alice', 'shop', 100n], expect: 'ok' }],
    expected: { alice: { postedMinor: 0n, availableMinor: 0n }, shop: { postedMinor: 100n } },
  },
  {
    name: 'a transfer beyond the available balance is refused and changes nothing',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [{ transfer: ['alice', 'shop', 101n], expect: 'exceeds_available' }],
    expected: { alice: { postedMinor: 100n, availableMinor: 100n }, shop: { postedMinor: 0n } },
  },
  {
    name: 'a credit limit lets a guarded account go negative up to the limit and no further',
    given: { retailer: { ...wallet, fundedMinor: 10n, creditLimitMinor: 50n }, shop },
    when: [
      { transfer: ['retailer', 'shop', 60n], expect: 'ok' },
      { transfer: ['retailer', 'shop', 1n], expect: 'exceeds_available' },
    ],
    expected: { retailer: { postedMinor: -50n, availableMinor: 0n }, shop: { postedMinor: 60n } },
  },
  {
    name: 'an unguarded account may go negative',
    given: { cash: { kind: 'asset' }, alice: { kind: 'liability' } },
    when: [{ transfer: ['alice', 'cash', 500n], expect: 'ok' }],
    expected: { alice: { postedMinor: -500n }, cash: { postedMinor: -500n } },
  },
  {
    name: 'a credit to an account guarded against exceeding its debits is refused',
    given: {
      alice: { ...wallet, fundedMinor: 100n },
      capped: { kind: 'asset', flags: ['credits_must_not_exceed_debits'] },
    },
    when: [{ transfer: ['alice', 'capped', 1n], expect: 'exceeds_debits' }],
    expected: { alice: { postedMinor: 100n } },
  },
  {
    name: 'accounts in different currencies cannot be linked by a transfer',
    given: {
      alice: { ...wallet, fundedMinor: 100n },
      euroShop: { kind: 'revenue', currency: 'EUR' },
    },
    when: [{ transfer: ['alice', 'euroShop', 10n], expect: 'currency_mismatch' }],
    expected: { alice: { postedMinor: 100n }, euroShop: { postedMinor: 0n } },
  },
  {
    name: 'a transfer in another currency than its accounts is refused',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [{ transfer: ['alice', 'shop', 10n], currency: 'EUR', expect: 'currency_mismatch' }],
    expected: { alice: { postedMinor: 100n } },
  },
  {
    name: 'an account cannot pay itself',
    given: { alice: { ...wallet, fundedMinor: 100n } },
    when: [{ transfer: ['alice', 'alice', 10n], expect: 'accounts_must_be_different' }],
    expected: { alice: { postedMinor: 100n } },
  },
  {
    name: 'unknown accounts are named as debit or credit side',
    given: { alice: { ...wallet, fundedMinor: 100n } },
    when: [
      { transfer: ['nobody', 'alice', 10n], expect: 'debit_account_not_found' },
      { transfer: ['alice', 'nobody', 10n], expect: 'credit_account_not_found' },
    ],
    expected: { alice: { postedMinor: 100n } },
  },
  {
    name: 'a zero amount is refused',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [{ transfer: ['alice', 'shop', 0n], expect: 'amount_must_be_positive' }],
    expected: { alice: { postedMinor: 100n } },
  },
  {
    name: 'a frozen account takes no new transfers',
    given: { alice: { ...wallet, fundedMinor: 100n, status: 'frozen' }, shop },
    when: [{ transfer: ['alice', 'shop', 10n], expect: 'account_frozen' }],
    expected: { alice: { postedMinor: 100n } },
  },
  {
    name: 'a retailer cannot debit an account it does not own',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [{ transfer: ['alice', 'shop', 10n], as: 'retailer', expect: 'debit_account_not_found' }],
    expected: { alice: { postedMinor: 100n } },
  },
  {
    name: 'a retailer moves money between its own accounts and pays its distributor',
    given: {
      float: { ...wallet, fundedMinor: 100n, owner: 'retailer' },
      till: { ...wallet, owner: 'retailer' },
      parentFloat: { ...wallet, owner: 'distributor' },
    },
    when: [
      { transfer: ['float', 'till', 10n], as: 'retailer', expect: 'ok' },
      { transfer: ['float', 'parentFloat', 15n], as: 'retailer', expect: 'ok' },
      { hold: ['float', 'parentFloat', 5n], as: 'retailer', expect: 'ok' },
    ],
    expected: {
      float: { postedMinor: 75n, heldMinor: 5n },
      till: { postedMinor: 10n },
      parentFloat: { postedMinor: 15n },
    },
  },
  {
    name: "a retailer cannot pay into another tenant's or a system account: the answer is the one for a missing account",
    given: {
      float: { ...wallet, fundedMinor: 100n, owner: 'retailer' },
      strangerFloat: { ...wallet, owner: 'stranger' },
      shop,
    },
    when: [
      {
        transfer: ['float', 'strangerFloat', 10n],
        as: 'retailer',
        expect: 'credit_account_not_found',
      },
      { transfer: ['float', 'shop', 10n], as: 'retailer', expect: 'credit_account_not_found' },
      { transfer: ['float', 'nobody', 10n], as: 'retailer', expect: 'credit_account_not_found' },
      { hold: ['float', 'strangerFloat', 10n], as: 'retailer', expect: 'credit_account_not_found' },
      { hold: ['float', 'shop', 10n], as: 'retailer', expect: 'credit_account_not_found' },
      {
        transfer: ['strangerFloat', 'float', 10n],
        as: 'retailer',
        expect: 'debit_account_not_found',
      },
    ],
    expected: {
      float: { postedMinor: 100n, heldMinor: 0n },
      strangerFloat: { postedMinor: 0n },
      shop: { postedMinor: 0n },
    },
  },
  {
    name: 'a hold lowers the available balance but not the posted one',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [{ hold: ['alice', 'shop', 30n], key: 'h1', expect: 'ok' }],
    expected: {
      alice: { postedMinor: 100n, heldMinor: 30n, availableMinor: 70n },
      shop: { postedMinor: 0n },
    },
  },
  {
    name: 'holds and transfers together cannot spend more than the balance',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [
      { hold: ['alice', 'shop', 70n], key: 'h1', expect: 'ok' },
      { hold: ['alice', 'shop', 31n], key: 'h2', expect: 'exceeds_available' },
      { transfer: ['alice', 'shop', 31n], expect: 'exceeds_available' },
      { transfer: ['alice', 'shop', 30n], expect: 'ok' },
    ],
    expected: { alice: { postedMinor: 70n, heldMinor: 70n, availableMinor: 0n } },
  },
  {
    name: 'posting a hold in full moves the held amount',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [
      { hold: ['alice', 'shop', 30n], key: 'h1', expect: 'ok' },
      { post: 'h1', expect: 'ok' },
    ],
    expected: {
      alice: { postedMinor: 70n, heldMinor: 0n, availableMinor: 70n },
      shop: { postedMinor: 30n },
    },
  },
  {
    name: 'posting part of a hold moves that part and releases the rest',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [
      { hold: ['alice', 'shop', 30n], key: 'h1', expect: 'ok' },
      { post: 'h1', amountMinor: 12n, expect: 'ok' },
    ],
    expected: {
      alice: { postedMinor: 88n, heldMinor: 0n, availableMinor: 88n },
      shop: { postedMinor: 12n },
    },
  },
  {
    name: 'a hold cannot be posted for more than it holds',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [
      { hold: ['alice', 'shop', 30n], key: 'h1', expect: 'ok' },
      { post: 'h1', amountMinor: 31n, expect: 'post_exceeds_hold' },
    ],
    expected: { alice: { postedMinor: 100n, heldMinor: 30n } },
  },
  {
    name: 'voiding a hold releases it in full',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [
      { hold: ['alice', 'shop', 30n], key: 'h1', expect: 'ok' },
      { void: 'h1', expect: 'ok' },
      { post: 'h1', key: 'again', expect: 'hold_already_voided' },
    ],
    expected: {
      alice: { postedMinor: 100n, heldMinor: 0n, availableMinor: 100n },
      shop: { postedMinor: 0n },
    },
  },
  {
    name: 'a posted hold cannot be posted or voided again',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [
      { hold: ['alice', 'shop', 30n], key: 'h1', expect: 'ok' },
      { post: 'h1', expect: 'ok' },
      { post: 'h1', key: 'second-post', expect: 'hold_already_posted' },
      { void: 'h1', expect: 'hold_already_posted' },
    ],
    expected: { alice: { postedMinor: 70n }, shop: { postedMinor: 30n } },
  },
  {
    name: 'a hold past its timeout cannot be posted, and the sweep releases it',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [
      { hold: ['alice', 'shop', 30n], key: 'h1', timeoutSeconds: 60, expect: 'ok' },
      { advanceSeconds: 59 },
      { expireDue: 0 },
      { advanceSeconds: 1 },
      { post: 'h1', expect: 'hold_expired' },
      { expireDue: 1 },
      { void: 'h1', key: 'late-void', expect: 'hold_expired' },
    ],
    expected: {
      alice: { postedMinor: 100n, heldMinor: 0n, availableMinor: 100n },
      shop: { postedMinor: 0n },
    },
  },
  {
    name: 'a hold timeout outside the allowed range is refused',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [
      { hold: ['alice', 'shop', 30n], timeoutSeconds: 0, expect: 'timeout_out_of_range' },
      {
        hold: ['alice', 'shop', 30n],
        timeoutSeconds: 31 * 24 * 3600,
        expect: 'timeout_out_of_range',
      },
    ],
    expected: { alice: { postedMinor: 100n, heldMinor: 0n } },
  },
  {
    name: 'a replayed request with the same key and body moves money once',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [
      { transfer: ['alice', 'shop', 10n], key: 'k1', expect: 'ok' },
      { transfer: ['alice', 'shop', 10n], key: 'k1', expect: 'replayed' },
    ],
    expected: { alice: { postedMinor: 90n }, shop: { postedMinor: 10n } },
  },
  {
    name: 'the same key with a different body is refused and changes nothing',
    given: { alice: { ...wallet, fundedMinor: 100n }, shop },
    when: [
      { transfer: ['alice', 'shop', 10n], key: 'k1', expect: 'ok' },
      { transfer: ['alice', 'shop', 11n], key: 'k1', expect: 'exists_with_different_fields' },
    ],
    expected: { alice: { postedMinor: 90n }, shop: { postedMinor: 10n } },
  },
  {
    name: 'a refused request records nothing, so its key can be used once the money is there',
    given: { alice: { ...wallet, fundedMinor: 5n }, shop },
    when: [
      { transfer: ['alice', 'shop', 10n], key: 'k1', expect: 'exceeds_available' },
      { transfer: ['shop', 'alice', 5n], key: 'refund', expect: 'ok' },
      { transfer: ['alice', 'shop', 10n], key: 'k1', expect: 'ok' },
    ],
    expected: { alice: { postedMinor: 0n }, shop: { postedMinor: 5n } },
  },
];

describeEachStore('ledger rules', (kind) => {
  let env: Opened;
  let retailer: Caller;
  const owners = new Map<Owner, string>();
  beforeAll(async () => {
    env = await openTestEnv(kind);
    const principal = async (kind: 'retailer' | 'distributor', name: string, parentId?: string) => {
      const created = await env.principals.create(operator, { kind, name, parentId });
      if (!created.ok) throw new Error(created.code);
      return created.value;
    };
    const distributor = await principal('distributor', 'Wholesale');
    const shopkeeper = await principal('retailer', 'Corner shop', distributor.id);
    const stranger = await principal('retailer', 'Rival shop');
    retailer = {
      principal: shopkeeper,
      scopes: ['accounts:read', 'transfers:write', 'holds:write'],
    };
    owners.set('retailer', shopkeeper.id).set('distributor', distributor.id);
    owners.set('stranger', stranger.id);
  });
  afterAll(() => env.close());

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const ids = new Map<string, string>();
      const holdIds = new Map<string, string>();
      const genesis = await env.ledger.createAccount(operator, {
        ownerId: 'system',
        name: 'genesis',
        currency: 'USD',
        kind: 'equity',
        flags: [],
        creditLimitMinor: 0n,
      });
      if (!genesis.ok) throw new Error(genesis.code);
      for (const [name, given] of Object.entries(testCase.given)) {
        const currency = given.currency ?? 'USD';
        const created = await env.ledger.createAccount(operator, {
          ownerId: given.owner ? owners.get(given.owner)! : 'system',
          name,
          currency,
          kind: given.kind ?? 'liability',
          flags: given.flags ?? [],
          creditLimitMinor: given.creditLimitMinor ?? 0n,
        });
        if (!created.ok) throw new Error(created.code);
        ids.set(name, created.value.account.id);
        if (given.fundedMinor) {
          const funded = await env.ledger.transfer(operator, {
            kind: 'transfer',
            idempotencyKey: `fund-${created.value.account.id}`,
            debitAccountId: genesis.value.account.id,
            creditAccountId: created.value.account.id,
            amountMinor: given.fundedMinor,
            currency,
          });
          expect(funded.ok).toBe(true);
        }
        if (given.status)
          await env.ledger.setAccountStatus(operator, created.value.account.id, given.status);
      }
      const id = (name: string) => ids.get(name) ?? `acc_${name}`;
      let counter = 0;
      const uniqueKey = () => {
        counter += 1;
        return `${testCase.name}-${counter}`;
      };
      for (const step of testCase.when) {
        let request: TransferRequest | undefined;
        let caller = operator;
        if ('advanceSeconds' in step) {
          env.clock.advanceMs(step.advanceSeconds * 1000);
          continue;
        }
        if ('expireDue' in step) {
          expect(await env.ledger.expireDueHolds()).toBe(step.expireDue);
          continue;
        }
        const key = step.key ? `${testCase.name}:${step.key}` : uniqueKey();
        if ('transfer' in step) {
          const [debit, credit, amountMinor] = step.transfer;
          if (step.as === 'retailer') caller = retailer;
          request = {
            kind: 'transfer',
            idempotencyKey: key,
            debitAccountId: id(debit),
            creditAccountId: id(credit),
            amountMinor,
            currency: step.currency ?? 'USD',
          };
        } else if ('hold' in step) {
          const [debit, credit, amountMinor] = step.hold;
          if (step.as === 'retailer') caller = retailer;
          request = {
            kind: 'hold',
            idempotencyKey: key,
            debitAccountId: id(debit),
            creditAccountId: id(credit),
            amountMinor,
            currency: 'USD',
            timeoutSeconds: step.timeoutSeconds ?? 300,
          };
        } else if ('post' in step) {
          request = {
            kind: 'post',
            idempotencyKey: key,
            holdId: holdIds.get(step.post) ?? 'hld_none',
            amountMinor: step.amountMinor,
          };
        } else {
          request = {
            kind: 'void',
            idempotencyKey: key,
            holdId: holdIds.get(step.void) ?? 'hld_none',
          };
        }
        const outcome = await env.ledger.transfer(caller, request);
        const seen = outcome.ok ? (outcome.replayed ? 'replayed' : 'ok') : outcome.code;
        expect(
          seen,
          JSON.stringify(step, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
        ).toBe(step.expect);
        if (outcome.ok && 'hold' in step && step.key) holdIds.set(step.key, outcome.transfer.id);
      }
      for (const [name, expected] of Object.entries(testCase.expected)) {
        const view = await env.ledger.getAccount(operator, id(name));
        if (!view.ok) throw new Error(view.code);
        const { balance } = view.value;
        if (expected.postedMinor !== undefined)
          expect(balance.postedMinor, `${name} posted`).toBe(expected.postedMinor);
        if (expected.availableMinor !== undefined)
          expect(balance.availableMinor, `${name} available`).toBe(expected.availableMinor);
        if (expected.heldMinor !== undefined)
          expect(balance.heldMinor, `${name} held`).toBe(expected.heldMinor);
      }
      const totals = await env.store.ledgerReads.totals();
      for (const total of totals) {
        expect(total.debitsPostedMinor).toBe(total.creditsPostedMinor);
        expect(total.debitsPendingMinor).toBe(total.creditsPendingMinor);
      }
    });
  }

  it('stores a digest of the request, and still judges replays of transfers stored with the whole request', async () => {
    const open = async (name: string, kind: AccountKind) => {
      const created = await env.ledger.createAccount(operator, {
        ownerId: 'system',
        name,
        currency: 'USD',
        kind,
        flags: [],
        creditLimitMinor: 0n,
      });
      if (!created.ok) throw new Error(created.code);
      return created.value.account.id;
    };
    const from = await open('digest source', 'equity');
    const to = await open('digest target', 'liability');
    const send = (idempotencyKey: string, amountMinor: bigint) =>
      env.ledger.transfer(operator, {
        kind: 'transfer',
        idempotencyKey,
        debitAccountId: from,
        creditAccountId: to,
        amountMinor,
        currency: 'USD',
        memo: 'a memo that a fingerprint no longer repeats',
      });
    const fresh = await send('digest-new', 10n);
    if (!fresh.ok) throw new Error(fresh.code);
    expect(fresh.transfer.fingerprint).toMatch(/^h[A-Za-z0-9_-]{22}$/);

    // A transfer written before fingerprints were digests holds the request's canonical form.
    const legacy = await send('digest-legacy', 20n);
    if (!legacy.ok) throw new Error(legacy.code);
    const canonical = JSON.stringify([
      'transfer',
      from,
      to,
      '20',
      'USD',
      null,
      legacy.transfer.memo,
    ]);
    await env.store.db
      .updateTable('transfers')
      .set({ fingerprint: canonical })
      .where('id', '=', legacy.transfer.id)
      .execute();
    const again = await send('digest-legacy', 20n);
    expect(again.ok && again.replayed && again.transfer.id).toBe(legacy.transfer.id);
    const changed = await send('digest-legacy', 21n);
    expect(changed.ok ? 'ok' : changed.code).toBe('exists_with_different_fields');
    const repeatedFresh = await send('digest-new', 10n);
    expect(repeatedFresh.ok && repeatedFresh.replayed).toBe(true);
    expect((await send('digest-new', 11n)).ok).toBe(false);
    const balance = await env.ledger.getAccount(operator, to);
    expect(balance.ok && balance.value.balance.postedMinor).toBe(30n);
  });
});
