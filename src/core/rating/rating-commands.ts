// Rating's write commands. A tariff import is several commands: `beginTariff` stores the version
// (status importing) and its destinations, `addRoutes` stores prefix routes a chunk at a time,
// and `activateTariff` makes the version visible, superseding an earlier import of the same
// carrier and start. Until then no reader loads it, so a crash half-way leaves nothing in force.

import { auditEvent } from '../ledger/ledger-commands.ts';
import type { Caller } from '../shared/principal.ts';
import { ok, type Refusal, type Result, refuse } from '../shared/result.ts';
import { defineCommand } from '../shared/write-command.ts';
import type {
  Carrier,
  DestinationRecord,
  RouteRecord,
  RoutingPlanRecord,
  TariffVersionRecord,
} from './rating-store.ts';

export const ratingRefusals = {
  carrier_not_found: 'The carrier does not exist.',
  carrier_exists: 'A carrier with this id already exists.',
  access_code_taken: 'Another carrier already uses this access code.',
  tariff_not_found: 'The tariff version does not exist.',
  tariff_invalid: 'The tariff file has errors; nothing was imported. See details for each line.',
  price_malformed: 'A price is not a decimal number.',
  price_too_precise: 'A price has more decimal places than nine.',
  price_too_large: 'A price is too large.',
  rate_malformed: 'The rate is not well formed.',
  number_malformed: 'The dialled number is not 1 to 32 digits (an optional leading +).',
  no_route: 'No carrier has a tariff and prefix for this number at this time.',
  destination_not_allowed: 'Calls to this destination are barred.',
  routing_plan_missing:
    'There is no routing plan for this currency: set one with PUT /v1/rating/plans/{currency}.',
} as const;
export type RatingRefusalCode = keyof typeof ratingRefusals;

export function ratingRefusal<C extends RatingRefusalCode>(code: C, message?: string): Refusal<C> {
  return refuse(code, message ?? ratingRefusals[code]);
}

export const ratingCommands = {
  'rating.createCarrier': defineCommand<
    { caller: Caller; carrier: Carrier },
    Result<Carrier, 'carrier_exists' | 'access_code_taken'>
  >({
    async run({ stores, nowMs }, { caller, carrier }) {
      if (await stores.rating.getCarrier(carrier.id)) return ratingRefusal('carrier_exists');
      if (carrier.accessCode && (await stores.rating.findCarrierByAccessCode(carrier.accessCode))) {
        return ratingRefusal('access_code_taken');
      }
      await stores.rating.insertCarrier(carrier);
      await stores.audit.insertAuditEvents([
        auditEvent(caller, nowMs, 'carrier.created', { type: 'carrier', id: carrier.id }, {}),
      ]);
      return ok(carrier);
    },
  }),

  'rating.beginTariff': defineCommand<
    { version: TariffVersionRecord; destinations: readonly DestinationRecord[] },
    Result<null, 'carrier_not_found'>
  >({
    async run({ stores }, { version, destinations }) {
      if (!(await stores.rating.getCarrier(version.carrierId)))
        return ratingRefusal('carrier_not_found');
      await stores.rating.insertTariffVersion(version);
      await stores.rating.insertDestinations(version.id, destinations);
      return ok(null);
    },
  }),

  'rating.addRoutes': defineCommand<{ versionId: string; routes: readonly RouteRecord[] }, null>({
    async run({ stores }, { versionId, routes }) {
      await stores.rating.insertRoutes(versionId, routes);
      return null;
    },
  }),

  'rating.activateTariff': defineCommand<
    { caller: Caller; versionId: string },
    Result<null, 'tariff_not_found'>
  >({
    async run({ stores, nowMs }, { caller, versionId }) {
      const version = await stores.rating.getTariffVersion(versionId);
      if (!version) return ratingRefusal('tariff_not_found');
      await stores.rating.activateTariffVersion(versionId);
      await stores.audit.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'tariff.activated',
          { type: 'tariff', id: versionId },
          {
            carrierId: version.carrierId,
            routes: version.routeCount,
          },
        ),
      ]);
      return ok(null);
    },
  }),

  'rating.abandonTariff': defineCommand<{ versionId: string }, null>({
    async run({ stores }, { versionId }) {
      await stores.rating.deleteTariffVersion(versionId);
      return null;
    },
  }),

  'rating.saveRoutingPlan': defineCommand<{ caller: Caller; plan: RoutingPlanRecord }, null>({
    async run({ stores, nowMs }, { caller, plan }) {
      await stores.rating.saveRoutingPlan(plan);
      await stores.audit.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'routing_plan.saved',
          { type: 'routing_plan', id: plan.currency },
          {},
        ),
      ]);
      return null;
    },
  }),
};
