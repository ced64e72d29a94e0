// Rating plans: named sets of routing rules (per currency: default carrier, least cost over a set,
// access codes only, barred prefixes) assigned to a subscriber account, a product (every PIN of
// it), or the retailer or distributor that sold a card. For each call the most specific plan that
// covers the caller's currency applies; the currency's own routing plan is the fallback. The
// book of plans and assignments lives in memory, so choosing a plan costs a few map lookups.

import type { Currency } from '../money/money.ts';
import type { CarrierSelection, RoutingPlan } from './select-route.ts';

/** What a plan can be assigned to. A subscriber is a balance account (`acc_ani_…`, `acc_card_…`). */
export const assignmentSubjectTypes = ['subscriber', 'product', 'retailer', 'distributor'] as const;
export type AssignmentSubjectType = (typeof assignmentSubjectTypes)[number];

/**
 * Why a call was rated as it was, most specific first: a plan assigned to the subscriber's
 * account, to the card's product, the product's own carrier (seed 002: the PIN carries its
 * carrier's tariff), a plan assigned to the retailer or the distributor that sold the card, and
 * last the currency's routing plan.
 */
export const ratingPlanSources = [
  'subscriber',
  'product',
  'product_carrier',
  'retailer',
  'distributor',
  'currency',
] as const;
export type RatingPlanSource = (typeof ratingPlanSources)[number];

/** How a route's rules were chosen: a `RatingPlanSource`, or `requested` when a quote named the plan. */
export type RouteSource = RatingPlanSource | 'requested';

/** A plan's rules for one currency: the same shape as the currency's routing plan. */
export interface PlanRouting {
  readonly selection: CarrierSelection;
  readonly barredPrefixes: readonly string[];
}

export interface RatingPlanRecord {
  readonly id: string;
  readonly name: string;
  /** The rules per currency; a call in a currency the plan does not name passes to the next level. */
  readonly routing: Readonly<Partial<Record<Currency, PlanRouting>>>;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export interface RatingPlanAssignment {
  readonly subjectType: AssignmentSubjectType;
  readonly subjectId: string;
  readonly ratingPlanId: string;
  readonly assignedAtMs: number;
}

/** Who a call is for, as plan selection sees it. Unknown parts are null. */
export interface CallSubject {
  readonly accountId: string;
  readonly productId: string | null;
  /** The product's carrier, when it is a carrier rating knows. */
  readonly productCarrierId: string | null;
  readonly retailerId: string | null;
  readonly distributorId: string | null;
}

/** Plan ids: lower-case letters, digits, `_` and `-`, as carrier ids. */
export const ratingPlanIdPattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The carriers a plan's selection names, to check they exist. */
export function carriersOf(selection: CarrierSelection): readonly string[] {
  switch (selection.kind) {
    case 'default':
      return [selection.carrierId];
    case 'least_cost':
      return selection.carrierIds;
    case 'access_code_only':
      return [];
  }
}

/**
 * Plans and assignments in memory. Build one from the store with `of`; change it in place with
 * `put…` and `remove…` after a command this process ran (the maps are read synchronously, so a
 * reader never sees half a change).
 *
 * @example
 * const book = RatingPlanBook.of(plans, assignments);
 * book.choose({ subject, currency: 'USD', currencyPlan, accessCodes });
 */
export class RatingPlanBook {
  private readonly plans = new Map<string, RatingPlanRecord>();
  private readonly assigned: Record<AssignmentSubjectType, Map<string, string>> = {
    subscriber: new Map(),
    product: new Map(),
    retailer: new Map(),
    distributor: new Map(),
  };

  static of(
    plans: Iterable<RatingPlanRecord>,
    assignments: Iterable<RatingPlanAssignment>,
  ): RatingPlanBook {
    const book = new RatingPlanBook();
    for (const plan of plans) book.putPlan(plan);
    for (const assignment of assignments) book.putAssignment(assignment);
    return book;
  }

  putPlan(plan: RatingPlanRecord): void {
    this.plans.set(plan.id, plan);
  }

  removePlan(id: string): void {
    this.plans.delete(id);
  }

  putAssignment(assignment: RatingPlanAssignment): void {
    this.assigned[assignment.subjectType].set(assignment.subjectId, assignment.ratingPlanId);
  }

  removeAssignment(subjectType: AssignmentSubjectType, subjectId: string): void {
    this.assigned[subjectType].delete(subjectId);
  }

  plan(id: string): RatingPlanRecord | undefined {
    return this.plans.get(id);
  }

  /** True when some plan is assigned to a retailer or distributor: only then is a seller needed. */
  hasSellerAssignments(): boolean {
    return this.assigned.retailer.size > 0 || this.assigned.distributor.size > 0;
  }

  /**
   * The rules for a call in `currency`, most specific first (see `ratingPlanSources`), carrying
   * the plan's id and why it applies; undefined when nothing applies (no assignment or product
   * carrier, and no currency plan).
   */
  choose(args: {
    subject: CallSubject | undefined;
    currency: Currency;
    currencyPlan: RoutingPlan | undefined;
    accessCodes: RoutingPlan['accessCodes'];
  }): RoutingPlan | undefined {
    const { subject, currency, currencyPlan, accessCodes } = args;
    if (subject !== undefined) {
      const own =
        this.assignedPlan('subscriber', subject.accountId, currency, accessCodes) ??
        this.assignedPlan('product', subject.productId, currency, accessCodes);
      if (own) return own;
      if (subject.productCarrierId !== null) {
        return {
          currency,
          accessCodes,
          selection: { kind: 'default', carrierId: subject.productCarrierId },
          // The operator's bars hold for every card: they are the currency plan's.
          barredPrefixes: currencyPlan?.barredPrefixes ?? [],
          ratingPlanId: null,
          source: 'product_carrier',
        };
      }
      const sold =
        this.assignedPlan('retailer', subject.retailerId, currency, accessCodes) ??
        this.assignedPlan('distributor', subject.distributorId, currency, accessCodes);
      if (sold) return sold;
    }
    return currencyPlan;
  }

  /** The named plan's rules in `currency`; undefined when it has none. */
  planIn(
    id: string,
    currency: Currency,
    accessCodes: RoutingPlan['accessCodes'],
    source: RouteSource,
  ): RoutingPlan | undefined {
    const routing = this.plans.get(id)?.routing[currency];
    if (routing === undefined) return undefined;
    return {
      currency,
      accessCodes,
      selection: routing.selection,
      barredPrefixes: routing.barredPrefixes,
      ratingPlanId: id,
      source,
    };
  }

  private assignedPlan(
    type: AssignmentSubjectType,
    subjectId: string | null,
    currency: Currency,
    accessCodes: RoutingPlan['accessCodes'],
  ): RoutingPlan | undefined {
    if (subjectId === null) return undefined;
    const planId = this.assigned[type].get(subjectId);
    return planId === undefined ? undefined : this.planIn(planId, currency, accessCodes, type);
  }
}
