// Rating plans in real calls, on SQLite and PostgreSQL: which carrier, tariff and plan a call is
// routed and priced by, for calling cards of different products and sellers and for caller
// numbers, and what the session and CDR record about it (issue 20, seed 002).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callingCardProduct,
  chargingEpochMs,
  fundAni,
  setUpCharging,
} from '../../../test/support/charging.ts';
import {
  describeEachStore,
  type Opened,
  openTestEnv,
  testPinKey,
} from '../../../test/support/stores.ts';
import { createServices } from '../../services.ts';
import type { AssignmentSubjectType, RatingPlanSource } from '../rating/rating-plans.ts';
import { ManualClock } from '../shared/clock.ts';
import type { Caller } from '../shared/principal.ts';
import { systemCaller } from '../shared/principal.ts';
import { callingCardAccountId } from '../vouchers/voucher-accounts.ts';
import { carrierRevenueAccountId } from './charging-commands.ts';

const us = '+12125550100';

function value<T>(result: { ok: true; value: T } | { ok: false; code: string }): T {
  if (!result.ok) throw new Error(`unexpected refusal ${result.code}`);
  return result.value;
}

/** A one-destination USD tariff: North America at a connect fee and a price a minute, per second. */
function tariffOf(connectFee: string, perMinute: string): string {
  return [
    '# tollgate-tariff 1',
    '# currency: USD',
    '# time_zone: UTC',
    '# rounding: up',
    '# effective_from: 2026-01-01T00:00:00Z',
    'prefix,destination,period,weekdays,from,to,connect_fee,price_per_minute,initial_price_per_minute,initial_increment_seconds,subsequent_increment_seconds,minimum_charge,maximum_charge',
    `1,North America,,,,,${connectFee},${perMinute},,1,1,0,`,
  ].join('\n');
}

/** Carriers besides acme (set up by setUpCharging: 0.10 connect, 0.60/min). */
const carriers: Record<string, string> = {
  beta: tariffOf('0', '0.30'),
  gamma: tariffOf('0', '1.20'),
  delta: tariffOf('0.05', '0.60'),
  epsilon: tariffOf('0', '0.06'),
  zeta: tariffOf('0.20', '0.60'),
};

async function addCarriers(e: Opened, ids: readonly string[]) {
  for (const id of ids) {
    value(await e.rating.createCarrier(systemCaller, { id, name: id }));
    const imported = await e.rating.importTariff(systemCaller, {
      carrierId: id,
      format: 'tollgate',
      files: { tariff: carriers[id]! },
    });
    if (!imported.ok) throw new Error(`tariff of ${id} refused: ${imported.code}`);
  }
}

/** A distributor with a retailer under it, both with a USD float. */
async function sellers(e: Opened, name: string) {
  const distributor = value(
    await e.principals.create(systemCaller, { kind: 'distributor', name: `${name} wholesale` }),
  );
  const retailer = value(
    await e.principals.create(systemCaller, {
      kind: 'retailer',
      name: `${name} shop`,
      parentId: distributor.id,
    }),
  );
  for (const principalId of [distributor.id, retailer.id]) {
    value(
      await e.vouchers.openFloat(systemCaller, {
        principalId,
        currency: 'USD',
        creditLimitMinor: 1_000_000n,
      }),
    );
  }
  return { distributor, retailer };
}

/** A calling-card product of carrier `carrierId` (null: none) with `count` PINs in stock. */
function product(e: Opened, name: string, carrierId: string | null, count: number) {
  return callingCardProduct(e, { name, carrierId, faceValueMinor: 10_000n, count });
}

let sales = 0;

async function sell(e: Opened, retailer: Caller['principal'], productId: string) {
  sales += 1;
  const sold = value(
    await e.vouchers.sell(
      { principal: retailer, scopes: [] },
      {
        productId,
        requestedAmountMinor: 10_000n,
        paidAmountMinor: 10_000n,
        idempotencyKey: `plan-sale-${sales}`,
      },
    ),
  );
  return { pin: sold.pin, serial: sold.sale.serial };
}

let calls = 0;

/** One call of `seconds` to `us`: its session and CDR as stored. */
async function call(
  e: Opened,
  sw: Caller,
  subscriber: { pin: string } | { ani: string },
  seconds = 30,
  extra: { callerNumber?: string; linkAni?: boolean } = {},
) {
  calls += 1;
  const sessionId = `plan-call-${calls}`;
  value(await e.charging.initiate(sw, { sessionId, subscriber, calledNumber: us, ...extra }));
  const session = await e.charging.session(sw, sessionId);
  e.clock.advanceMs(seconds * 1000);
  const end = value(
    await e.charging.terminate(sw, { sessionId, requestNumber: 1, usedSeconds: seconds }),
  );
  const cdr = await e.charging.cdr(sw, end.cdrId!);
  return { session: session!, cdr: cdr! };
}

describeEachStore('rating plans in calls', (kind) => {
  it('routes and prices two PINs of different products by their own carriers and tariffs (seed 002)', async () => {
    const e = await openTestEnv(kind, { clock: new ManualClock(chargingEpochMs) });
    try {
      const { switchCaller: sw } = await setUpCharging(e);
      await addCarriers(e, ['beta', 'gamma']);
      // The currency's plan sends calls to gamma: neither card's carrier.
      value(
        await e.rating.saveRoutingPlan(systemCaller, {
          currency: 'USD',
          selection: { kind: 'default', carrierId: 'gamma' },
          barredPrefixes: ['1900'],
        }),
      );
      const { retailer } = await sellers(e, 'Corner');
      const acmeCard = await sell(e, retailer, (await product(e, 'Acme card', 'acme', 1)).id);
      const betaCard = await sell(e, retailer, (await product(e, 'Beta card', 'beta', 1)).id);
      await fundAni(e, '15550001', 1_000n);

      // The same number, 30 s each: acme 0.10 + 30 x 0.01 = 40 cents; beta 30 x 0.005 = 15
      // cents; a caller number without a card goes by the currency's plan, gamma at 1.20/min.
      const byAcme = await call(e, sw, { pin: acmeCard.pin });
      const byBeta = await call(e, sw, { pin: betaCard.pin });
      const byAni = await call(e, sw, { ani: '15550001' });
      const seen = [byAcme, byBeta, byAni].map(({ session, cdr }) => ({
        carrier: cdr.carrierId,
        cost: cdr.costMinor,
        plan: cdr.ratingPlanId,
        source: cdr.ratingPlanSource,
        sessionSource: session.ratingPlanSource,
        account: cdr.accountId,
      }));
      expect(seen).toEqual([
        {
          carrier: 'acme',
          cost: 40n,
          plan: null,
          source: 'product_carrier',
          sessionSource: 'product_carrier',
          account: callingCardAccountId(acmeCard.serial),
        },
        {
          carrier: 'beta',
          cost: 15n,
          plan: null,
          source: 'product_carrier',
          sessionSource: 'product_carrier',
          account: callingCardAccountId(betaCard.serial),
        },
        {
          carrier: 'gamma',
          cost: 60n,
          plan: null,
          source: 'currency',
          sessionSource: 'currency',
          account: 'acc_ani_15550001_USD',
        },
      ]);
      // Each carrier's revenue account holds exactly its own calls.
      for (const [carrierId, minor] of [
        ['acme', 40n],
        ['beta', 15n],
        ['gamma', 60n],
      ] as const) {
        const revenue = value(
          await e.ledger.getAccount(systemCaller, carrierRevenueAccountId(carrierId, 'USD')),
        );
        expect(revenue.balance.postedMinor, carrierId).toBe(minor);
      }
    } finally {
      await e.close();
    }
  });

  describe('selection by assignment', () => {
    let e: Opened;
    let sw: Caller;
    let cardA: { pin: string; serial: string };
    let cardB: { pin: string; serial: string };
    const subjectIds = {} as Record<string, string>;

    beforeAll(async () => {
      e = await openTestEnv(kind, { clock: new ManualClock(chargingEpochMs) });
      sw = (await setUpCharging(e)).switchCaller;
      await addCarriers(e, ['beta', 'gamma', 'delta', 'epsilon', 'zeta']);
      const { retailer, distributor } = await sellers(e, 'High street');
      const plain = await product(e, 'Plain card', null, 2);
      const beta = await product(e, 'Beta card', 'beta', 1);
      cardA = await sell(e, retailer, plain.id);
      cardB = await sell(e, retailer, beta.id);
      await fundAni(e, '15550002', 10_000n);
      for (const [id, carrierId] of [
        ['plan-subscriber', 'zeta'],
        ['plan-product', 'epsilon'],
        ['plan-retailer', 'delta'],
        ['plan-distributor', 'gamma'],
      ] as const) {
        value(
          await e.rating.createRatingPlan(systemCaller, {
            id,
            name: id,
            routing: { USD: { selection: { kind: 'default', carrierId }, barredPrefixes: [] } },
          }),
        );
      }
      value(
        await e.rating.createRatingPlan(systemCaller, {
          id: 'plan-eur',
          name: 'Euro only',
          routing: {
            EUR: { selection: { kind: 'default', carrierId: 'zeta' }, barredPrefixes: [] },
          },
        }),
      );
      Object.assign(subjectIds, {
        cardA: callingCardAccountId(cardA.serial),
        cardB: callingCardAccountId(cardB.serial),
        ani: 'acc_ani_15550002_USD',
        plain: plain.id,
        beta: beta.id,
        retailer: retailer.id,
        distributor: distributor.id,
      });
      // Card A's first call links a caller number, so later calls from it need no PIN.
      await call(e, sw, { pin: cardA.pin }, 1, { callerNumber: '15550777', linkAni: true });
    }, 60_000);

    afterAll(async () => {
      await e?.close();
    });

    /** Makes the assignments exactly these: plan id -> subject (a key of subjectIds). */
    async function assignOnly(assigned: Record<string, string>) {
      for (const a of await e.rating.listAssignments({})) {
        value(await e.rating.unassignRatingPlan(systemCaller, a));
      }
      for (const [ratingPlanId, key] of Object.entries(assigned)) {
        const id = subjectIds[key]!;
        const subject =
          key.startsWith('card') || key === 'ani'
            ? { accountId: id }
            : key === 'plain' || key === 'beta'
              ? { productId: id }
              : { principalId: id };
        value(await e.rating.assignRatingPlan(systemCaller, { ratingPlanId, subject }));
      }
    }

    const table: Array<
      [
        given: string,
        assigned: Record<string, string>,
        caller: 'card A' | 'card A by its linked number' | 'card B' | 'caller number',
        thenCarrier: string,
        thenPlanId: string | null,
        thenSource: RatingPlanSource,
      ]
    > = [
      ['nothing assigned', {}, 'card A', 'acme', null, 'currency'],
      ['nothing assigned, a product with a carrier', {}, 'card B', 'beta', null, 'product_carrier'],
      ['nothing assigned, a caller number', {}, 'caller number', 'acme', null, 'currency'],
      [
        "the card's distributor",
        { 'plan-distributor': 'distributor' },
        'card A',
        'gamma',
        'plan-distributor',
        'distributor',
      ],
      [
        "the card's retailer over its distributor",
        { 'plan-retailer': 'retailer', 'plan-distributor': 'distributor' },
        'card A',
        'delta',
        'plan-retailer',
        'retailer',
      ],
      [
        "the card's product over its retailer",
        { 'plan-product': 'plain', 'plan-retailer': 'retailer' },
        'card A',
        'epsilon',
        'plan-product',
        'product',
      ],
      [
        'the subscriber over its product',
        { 'plan-subscriber': 'cardA', 'plan-product': 'plain' },
        'card A',
        'zeta',
        'plan-subscriber',
        'subscriber',
      ],
      [
        'the product through a linked caller number',
        { 'plan-product': 'plain' },
        'card A by its linked number',
        'epsilon',
        'plan-product',
        'product',
      ],
      [
        "the product's carrier over the retailer",
        { 'plan-retailer': 'retailer' },
        'card B',
        'beta',
        null,
        'product_carrier',
      ],
      [
        "a product plan over the product's carrier",
        { 'plan-product': 'beta' },
        'card B',
        'epsilon',
        'plan-product',
        'product',
      ],
      [
        'a caller-number subscriber',
        { 'plan-subscriber': 'ani' },
        'caller number',
        'zeta',
        'plan-subscriber',
        'subscriber',
      ],
      [
        'a caller number has no seller',
        { 'plan-retailer': 'retailer' },
        'caller number',
        'acme',
        null,
        'currency',
      ],
      [
        'a plan without USD falls back',
        { 'plan-eur': 'distributor' },
        'card A',
        'acme',
        null,
        'currency',
      ],
    ];

    it.each(table)('given %s', async (_given, assigned, who, carrierId, planId, source) => {
      await assignOnly(assigned);
      const subscriber =
        who === 'card A'
          ? { pin: cardA.pin }
          : who === 'card B'
            ? { pin: cardB.pin }
            : who === 'card A by its linked number'
              ? { ani: '15550777' }
              : { ani: '15550002' };
      const { session, cdr } = await call(e, sw, subscriber, 10);
      expect([session.carrierId, session.ratingPlanId, session.ratingPlanSource]).toEqual([
        carrierId,
        planId,
        source,
      ]);
      expect([cdr.carrierId, cdr.ratingPlanId, cdr.ratingPlanSource]).toEqual([
        carrierId,
        planId,
        source,
      ]);
    });

    it('another process picks up plan changes at its next refresh, not before', async () => {
      await assignOnly({});
      const other = await createServices(e.store, e.clock, { pinKey: testPinKey });
      const subject = {
        accountId: subjectIds.ani!,
        productId: null,
        productCarrierId: null,
        retailerId: null,
        distributorId: null,
      };
      const sourceIn = (services: { rating: Opened['rating'] }) => {
        const routed = services.rating.route({
          number: us,
          currency: 'USD',
          startMs: e.clock.nowMs(),
          subject,
        });
        return routed.ok ? [routed.value.carrierId, routed.value.ratingPlanSource] : routed.code;
      };
      await assignOnly({ 'plan-subscriber': 'ani' });
      expect(sourceIn(e)).toEqual(['zeta', 'subscriber']);
      expect(sourceIn(other)).toEqual(['acme', 'currency']);
      await other.rating.refresh();
      expect(sourceIn(other)).toEqual(['zeta', 'subscriber']);
      await assignOnly({});
      await other.rating.refresh();
      expect(sourceIn(other)).toEqual(['acme', 'currency']);
    });

    it('refuses bad assignments and plans, changing nothing', async () => {
      await assignOnly({ 'plan-retailer': 'retailer' });
      const before = await e.rating.listAssignments({});
      const refusals = [
        await e.rating.assignRatingPlan(systemCaller, {
          ratingPlanId: 'nope',
          subject: { productId: subjectIds.plain! },
        }),
        await e.rating.assignRatingPlan(systemCaller, {
          ratingPlanId: 'plan-eur',
          subject: { productId: subjectIds.plain! },
        }),
        await e.rating.assignRatingPlan(systemCaller, {
          ratingPlanId: 'plan-product',
          subject: { productId: 'prd_missing' },
        }),
        await e.rating.assignRatingPlan(systemCaller, {
          ratingPlanId: 'plan-product',
          subject: { accountId: 'acc_test_cash_USD' },
        }),
        await e.rating.assignRatingPlan(systemCaller, {
          ratingPlanId: 'plan-product',
          subject: { principalId: sw.principal.id },
        }),
        await e.rating.unassignRatingPlan(systemCaller, {
          subjectType: 'retailer' as AssignmentSubjectType,
          subjectId: subjectIds.retailer!,
          ratingPlanId: 'plan-product',
        }),
        await e.rating.deleteRatingPlan(systemCaller, 'plan-retailer'),
        await e.rating.createRatingPlan(systemCaller, {
          id: 'plan-product',
          name: 'again',
          routing: { USD: { selection: { kind: 'access_code_only' }, barredPrefixes: [] } },
        }),
        await e.rating.createRatingPlan(systemCaller, {
          id: 'ghostly',
          name: 'ghost',
          routing: {
            USD: { selection: { kind: 'default', carrierId: 'ghost' }, barredPrefixes: [] },
          },
        }),
        await e.rating.createRatingPlan(systemCaller, { id: 'empty', name: 'empty', routing: {} }),
      ].map((result) => (result.ok ? 'ok' : result.code));
      expect(refusals).toEqual([
        'rating_plan_not_found',
        'rating_plan_currency_missing',
        'product_not_found',
        'account_not_found',
        'assignment_subject_invalid',
        'assignment_not_found',
        'rating_plan_in_use',
        'rating_plan_exists',
        'carrier_not_found',
        'rating_plan_invalid',
      ]);
      expect(await e.rating.listAssignments({})).toEqual(before);
      expect((await e.rating.listRatingPlans()).map((plan) => plan.id)).toEqual([
        'plan-distributor',
        'plan-eur',
        'plan-product',
        'plan-retailer',
        'plan-subscriber',
      ]);
    });
  });
});
