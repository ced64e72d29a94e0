// Carrier selection from the dialled digits: which carrier carries the call, which number is
// rated, which destination and rate apply. The order is fixed:
// 1. a carrier access code at the start of the number (the longest that matches) selects its
//    carrier and is stripped before rating; there is no fallback, since the caller chose;
// 2. otherwise the plan's selection: one default carrier, or the least-cost carrier among those
//    allowed (cheapest exact cost of a reference call, ties broken by carrier id).

import type { Currency } from '../money/money.ts';
import { ok, type Result, refuse } from '../shared/result.ts';
import { exactCostSixtieths } from './cost.ts';
import type { RateContext } from './rate-context.ts';
import type { RouteSource } from './rating-plans.ts';
import type { TariffIndex } from './tariff-index.ts';
import type { TariffCatalog } from './tariff-registry.ts';

/** The longest dialled number we rate, in digits (E.164 allows 15; access codes add a few). */
export const dialledDigitsMax = 32;

/** The call length least-cost routing compares carriers on when the plan names none. */
export const referenceDurationSecondsDefault = 60;

/** How calls without an access code pick their carrier. */
export type CarrierSelection =
  | { readonly kind: 'default'; readonly carrierId: string }
  | {
      readonly kind: 'least_cost';
      readonly carrierIds: readonly string[];
      readonly referenceDurationSeconds?: number;
    }
  | { readonly kind: 'access_code_only' };

/** A routing plan: the rules for one class of callers (their account currency included). */
export interface RoutingPlan {
  /** Only tariffs in this currency can charge the caller's balance. */
  readonly currency: Currency;
  /** Carrier access codes such as { code: '00700', carrierId: 'carrier-a' }. */
  readonly accessCodes: readonly { readonly code: string; readonly carrierId: string }[];
  readonly selection: CarrierSelection;
  /** Rated numbers starting with one of these are refused (premium, satellite...). */
  readonly barredPrefixes?: readonly string[];
  /** The named rating plan these rules come from; absent or null for the currency's plan. */
  readonly ratingPlanId?: string | null;
  /** Why these rules apply to the call (rating-plans.ts); absent: the currency's plan. */
  readonly source?: RouteSource;
}

export type RouteRefusalCode = 'number_malformed' | 'no_route' | 'destination_not_allowed';

/** The outcome of carrier selection: everything the charging engine needs to price the call. */
export interface Route {
  readonly carrierId: string;
  readonly selectedBy: 'access_code' | 'default' | 'least_cost';
  /** The digits that were rated: the dialled number without '+' and without the access code. */
  readonly numberRated: string;
  readonly prefix: string;
  readonly destinationIndex: number;
  readonly destinationName: string;
  /** Pass to `cost` and `allowance`. */
  readonly rate: RateContext;
  readonly tariff: TariffIndex;
  /** The rating plan that chose the carrier (null: the currency's plan or the product's carrier). */
  readonly ratingPlanId: string | null;
  readonly ratingPlanSource: RouteSource;
}

const dialledPattern = new RegExp(`^\\+?[0-9]{1,${dialledDigitsMax}}$`);

function routeIn(args: {
  tariff: TariffIndex | undefined;
  plan: RoutingPlan;
  carrierId: string;
  numberRated: string;
  selectedBy: Route['selectedBy'];
}): Result<Route, RouteRefusalCode> {
  const { tariff, carrierId } = args;
  if (tariff === undefined) {
    return refuse('no_route', `carrier ${carrierId} has no tariff in force`);
  }
  if (tariff.version.currency !== args.plan.currency) {
    return refuse(
      'no_route',
      `carrier ${carrierId} rates in ${tariff.version.currency}, the caller pays in ${args.plan.currency}`,
    );
  }
  const match = tariff.match(args.numberRated);
  if (match === undefined) {
    return refuse('no_route', `carrier ${carrierId} has no prefix for ${args.numberRated}`);
  }
  return ok({
    carrierId,
    selectedBy: args.selectedBy,
    numberRated: args.numberRated,
    prefix: match.prefix,
    destinationIndex: match.destinationIndex,
    destinationName: match.destinationName,
    rate: match.rate,
    tariff,
    ratingPlanId: args.plan.ratingPlanId ?? null,
    ratingPlanSource: args.plan.source ?? 'currency',
  });
}

function leastCostRoute(args: {
  catalog: TariffCatalog;
  plan: RoutingPlan;
  carrierIds: readonly string[];
  referenceDurationSeconds: number;
  numberRated: string;
  startMs: number;
}): Result<Route, RouteRefusalCode> {
  let best: { route: Route; cost: bigint } | undefined;
  for (const carrierId of args.carrierIds) {
    const found = routeIn({
      tariff: args.catalog.tariffAt(carrierId, args.startMs),
      plan: args.plan,
      carrierId,
      numberRated: args.numberRated,
      selectedBy: 'least_cost',
    });
    if (!found.ok) continue;
    const cost = exactCostSixtieths(found.value.rate, args.startMs, args.referenceDurationSeconds);
    const better =
      best === undefined ||
      cost < best.cost ||
      (cost === best.cost && carrierId < best.route.carrierId);
    if (better) best = { route: found.value, cost };
  }
  if (best === undefined) {
    return refuse('no_route', `no allowed carrier has a prefix for ${args.numberRated}`);
  }
  return ok(best.route);
}

/**
 * Chooses the carrier, destination and rate for a dialled number at a call's start instant.
 *
 * @example
 * const route = selectRoute({ catalog: registry.current(), plan, dialled: '0070033612345678', startMs });
 * if (route.ok) allowance(route.value.rate, startMs, balanceMinor);
 */
export function selectRoute(args: {
  catalog: TariffCatalog;
  plan: RoutingPlan;
  dialled: string;
  startMs: number;
}): Result<Route, RouteRefusalCode> {
  const { catalog, plan, startMs } = args;
  if (!dialledPattern.test(args.dialled)) {
    return refuse(
      'number_malformed',
      `"${args.dialled}" is not a dialled number of 1 to ${dialledDigitsMax} digits`,
    );
  }
  const digits = args.dialled.startsWith('+') ? args.dialled.slice(1) : args.dialled;
  let accessCode: { readonly code: string; readonly carrierId: string } | undefined;
  for (const candidate of plan.accessCodes) {
    if (
      digits.startsWith(candidate.code) &&
      candidate.code.length > (accessCode?.code.length ?? 0)
    ) {
      accessCode = candidate;
    }
  }
  const numberRated = accessCode === undefined ? digits : digits.slice(accessCode.code.length);
  if (numberRated === '') {
    return refuse(
      'number_malformed',
      'the number holds a carrier access code and nothing after it',
    );
  }
  const barred = plan.barredPrefixes?.find((prefix) => numberRated.startsWith(prefix));
  if (barred !== undefined) {
    return refuse('destination_not_allowed', `numbers starting with ${barred} are barred`);
  }
  if (accessCode !== undefined) {
    return routeIn({
      tariff: catalog.tariffAt(accessCode.carrierId, startMs),
      plan,
      carrierId: accessCode.carrierId,
      numberRated,
      selectedBy: 'access_code',
    });
  }
  const selection = plan.selection;
  switch (selection.kind) {
    case 'default':
      return routeIn({
        tariff: catalog.tariffAt(selection.carrierId, startMs),
        plan,
        carrierId: selection.carrierId,
        numberRated,
        selectedBy: 'default',
      });
    case 'least_cost':
      return leastCostRoute({
        catalog,
        plan,
        carrierIds: selection.carrierIds,
        referenceDurationSeconds:
          selection.referenceDurationSeconds ?? referenceDurationSecondsDefault,
        numberRated,
        startMs,
      });
    case 'access_code_only':
      return refuse('no_route', 'this plan routes only numbers dialled with a carrier access code');
  }
}
