// Plan selection as a table: given these assignments and this caller, then this plan applies,
// for this reason. The most specific level that has rules in the caller's currency wins:
// subscriber account > product > the product's carrier > retailer > distributor > currency.

import { describe, expect, it } from 'vitest';
import {
  type AssignmentSubjectType,
  type CallSubject,
  RatingPlanBook,
  type RatingPlanRecord,
  type RatingPlanSource,
} from './rating-plans.ts';
import type { RoutingPlan } from './select-route.ts';

function plan(id: string, carrierId: string, currency: 'USD' | 'EUR' = 'USD'): RatingPlanRecord {
  return {
    id,
    name: id,
    routing: { [currency]: { selection: { kind: 'default', carrierId }, barredPrefixes: [] } },
    createdAtMs: 0,
    updatedAtMs: 0,
  };
}

const plans = [
  plan('for-subscriber', 'sub-carrier'),
  plan('for-product', 'product-carrier-plan'),
  plan('for-retailer', 'retailer-carrier'),
  plan('for-distributor', 'distributor-carrier'),
  plan('euro-only', 'euro-carrier', 'EUR'),
];

const currencyPlan: RoutingPlan = {
  currency: 'USD',
  accessCodes: [],
  selection: { kind: 'default', carrierId: 'house' },
  barredPrefixes: ['1900'],
};

const card: CallSubject = {
  accountId: 'acc_card_A-1',
  productId: 'prd_1',
  productCarrierId: null,
  retailerId: 'ret_1',
  distributorId: 'dis_1',
};

type Assigned = Partial<Record<AssignmentSubjectType, string>>;

describe('RatingPlanBook.choose', () => {
  const table: Array<
    [
      given: string,
      assigned: Assigned,
      subject: CallSubject | undefined,
      thenCarrier: string,
      thenPlanId: string | null,
      thenSource: RatingPlanSource,
    ]
  > = [
    ['nothing assigned', {}, card, 'house', null, 'currency'],
    [
      'no subject (a plain quote)',
      { subscriber: 'for-subscriber' },
      undefined,
      'house',
      null,
      'currency',
    ],
    [
      'a distributor plan',
      { distributor: 'for-distributor' },
      card,
      'distributor-carrier',
      'for-distributor',
      'distributor',
    ],
    [
      'retailer beats distributor',
      { retailer: 'for-retailer', distributor: 'for-distributor' },
      card,
      'retailer-carrier',
      'for-retailer',
      'retailer',
    ],
    [
      'product beats retailer',
      { product: 'for-product', retailer: 'for-retailer' },
      card,
      'product-carrier-plan',
      'for-product',
      'product',
    ],
    [
      'subscriber beats product',
      { subscriber: 'for-subscriber', product: 'for-product' },
      card,
      'sub-carrier',
      'for-subscriber',
      'subscriber',
    ],
    [
      "the product's carrier beats the retailer",
      { retailer: 'for-retailer' },
      { ...card, productCarrierId: 'pin-carrier' },
      'pin-carrier',
      null,
      'product_carrier',
    ],
    [
      "a product plan beats the product's carrier",
      { product: 'for-product' },
      { ...card, productCarrierId: 'pin-carrier' },
      'product-carrier-plan',
      'for-product',
      'product',
    ],
    [
      'a plan without the currency passes to the next level',
      { subscriber: 'euro-only', retailer: 'for-retailer' },
      card,
      'retailer-carrier',
      'for-retailer',
      'retailer',
    ],
    [
      'a caller number has no product or sellers',
      { product: 'for-product', retailer: 'for-retailer' },
      { ...card, productId: null, retailerId: null, distributorId: null },
      'house',
      null,
      'currency',
    ],
  ];

  it.each(table)('given %s', (_given, assigned, subject, carrierId, planId, source) => {
    const book = RatingPlanBook.of(
      plans,
      Object.entries(assigned).map(([subjectType, ratingPlanId]) => ({
        subjectType: subjectType as AssignmentSubjectType,
        subjectId: {
          subscriber: card.accountId,
          product: card.productId!,
          retailer: card.retailerId!,
          distributor: card.distributorId!,
        }[subjectType as AssignmentSubjectType],
        ratingPlanId,
        assignedAtMs: 0,
      })),
    );
    const chosen = book.choose({ subject, currency: 'USD', currencyPlan, accessCodes: [] });
    expect(chosen?.selection).toEqual({ kind: 'default', carrierId });
    expect(chosen?.ratingPlanId ?? null).toBe(planId);
    expect(chosen?.source ?? 'currency').toBe(source);
  });

  it("keeps the currency plan's barred prefixes for a product's carrier", () => {
    const chosen = new RatingPlanBook().choose({
      subject: { ...card, productCarrierId: 'pin-carrier' },
      currency: 'USD',
      currencyPlan,
      accessCodes: [],
    });
    expect(chosen?.barredPrefixes).toEqual(['1900']);
  });

  it('chooses nothing without an assignment, a product carrier or a currency plan', () => {
    const book = RatingPlanBook.of(plans, []);
    expect(
      book.choose({ subject: card, currency: 'USD', currencyPlan: undefined, accessCodes: [] }),
    ).toBeUndefined();
  });

  it('forgets a removed assignment and a removed plan', () => {
    const book = RatingPlanBook.of(plans, [
      {
        subjectType: 'retailer',
        subjectId: 'ret_1',
        ratingPlanId: 'for-retailer',
        assignedAtMs: 0,
      },
    ]);
    expect(book.hasSellerAssignments()).toBe(true);
    book.removeAssignment('retailer', 'ret_1');
    expect(book.hasSellerAssignments()).toBe(false);
    expect(book.choose({ subject: card, currency: 'USD', currencyPlan, accessCodes: [] })).toBe(
      currencyPlan,
    );
    book.removePlan('for-subscriber');
    expect(book.plan('for-subscriber')).toBeUndefined();
  });
});
