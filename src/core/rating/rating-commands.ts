// Rating's write commands. A tariff import is several commands: `beginTariff` stores the version
// (status importing) and its destinations, `addRoutes` stores prefix routes a chunk at a time,
// and `activateTariff` makes the version visible, superseding an earlier import of the same
// carrier and start. Until then no reader loads it, so a crash half-way leaves nothing in force.
// Rating plans and their assignments are one command per change; each bumps the plans' revision
// and returns it, so a process knows whether its own change is the only one since it last looked.

import { auditEvent } from '../ledger/ledger-commands.ts';
import type { Caller } from '../shared/principal.ts';
import { ok, type Refusal, type Result, refuse } from '../shared/result.ts';
import { defineCommand } from '../shared/write-command.ts';
import {
  type AssignmentSubjectType,
  carriersOf,
  type RatingPlanAssignment,
  type RatingPlanRecord,
} from './rating-plans.ts';
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
  rating_plan_not_found: 'The rating plan does not exist.',
  rating_plan_exists: 'A rating plan with this id already exists.',
  rating_plan_invalid:
    'A rating plan needs an id (a-z, 0-9, _ and -), a name, and rules for at least one currency.',
  rating_plan_in_use: 'The rating plan is assigned; unassign it everywhere before deleting it.',
  rating_plan_currency_missing:
    'The rating plan has no rules for the currency of this subscriber account or product.',
  assignment_subject_invalid:
    'A rating plan is assigned to a subscriber account, a product, or a retailer or distributor.',
  assignment_not_found: 'No rating plan is assigned to this subject.',
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

  'rating.createRatingPlan': defineCommand<
    { caller: Caller; plan: RatingPlanRecord },
    Result<{ plan: RatingPlanRecord; revision: number }, 'rating_plan_exists' | 'carrier_not_found'>
  >({
    async run({ stores, nowMs }, { caller, plan }) {
      if (await stores.rating.getRatingPlan(plan.id)) return ratingRefusal('rating_plan_exists');
      const missing = await missingCarrier(stores.rating, plan);
      if (missing) return missing;
      await stores.rating.insertRatingPlan(plan);
      await stores.audit.insertAuditEvents([
        auditEvent(caller, nowMs, 'rating_plan.created', { type: 'rating_plan', id: plan.id }, {}),
      ]);
      return ok({ plan, revision: await stores.rating.bumpRatingPlanRevision() });
    },
  }),

  'rating.updateRatingPlan': defineCommand<
    { caller: Caller; plan: Omit<RatingPlanRecord, 'createdAtMs'> },
    Result<
      { plan: RatingPlanRecord; revision: number },
      'rating_plan_not_found' | 'carrier_not_found'
    >
  >({
    async run({ stores, nowMs }, { caller, plan }) {
      const existing = await stores.rating.getRatingPlan(plan.id);
      if (!existing) return ratingRefusal('rating_plan_not_found');
      const missing = await missingCarrier(stores.rating, plan);
      if (missing) return missing;
      const saved: RatingPlanRecord = {
        id: plan.id,
        name: plan.name,
        routing: plan.routing,
        createdAtMs: existing.createdAtMs,
        updatedAtMs: plan.updatedAtMs,
      };
      await stores.rating.updateRatingPlan(saved);
      await stores.audit.insertAuditEvents([
        auditEvent(caller, nowMs, 'rating_plan.updated', { type: 'rating_plan', id: plan.id }, {}),
      ]);
      return ok({ plan: saved, revision: await stores.rating.bumpRatingPlanRevision() });
    },
  }),

  'rating.deleteRatingPlan': defineCommand<
    { caller: Caller; id: string },
    Result<{ revision: number }, 'rating_plan_not_found' | 'rating_plan_in_use'>
  >({
    async run({ stores, nowMs }, { caller, id }) {
      if (!(await stores.rating.getRatingPlan(id))) return ratingRefusal('rating_plan_not_found');
      if ((await stores.rating.countAssignments(id)) > 0)
        return ratingRefusal('rating_plan_in_use');
      await stores.rating.deleteRatingPlan(id);
      await stores.audit.insertAuditEvents([
        auditEvent(caller, nowMs, 'rating_plan.deleted', { type: 'rating_plan', id }, {}),
      ]);
      return ok({ revision: await stores.rating.bumpRatingPlanRevision() });
    },
  }),

  'rating.assignRatingPlan': defineCommand<
    { caller: Caller; assignment: RatingPlanAssignment },
    Result<{ assignment: RatingPlanAssignment; revision: number }, 'rating_plan_not_found'>
  >({
    async run({ stores, nowMs }, { caller, assignment }) {
      if (!(await stores.rating.getRatingPlan(assignment.ratingPlanId)))
        return ratingRefusal('rating_plan_not_found');
      await stores.rating.saveAssignment(assignment);
      await stores.audit.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'rating_plan.assigned',
          { type: 'rating_plan', id: assignment.ratingPlanId },
          { subject_type: assignment.subjectType, subject_id: assignment.subjectId },
        ),
      ]);
      return ok({ assignment, revision: await stores.rating.bumpRatingPlanRevision() });
    },
  }),

  'rating.unassignRatingPlan': defineCommand<
    {
      caller: Caller;
      subjectType: AssignmentSubjectType;
      subjectId: string;
      /** Only when the subject has this plan (null: whatever plan it has). */
      ratingPlanId: string | null;
    },
    Result<{ assignment: RatingPlanAssignment; revision: number }, 'assignment_not_found'>
  >({
    async run({ stores, nowMs }, { caller, subjectType, subjectId, ratingPlanId }) {
      const assignment = await stores.rating.getAssignment(subjectType, subjectId);
      if (!assignment || (ratingPlanId !== null && assignment.ratingPlanId !== ratingPlanId))
        return ratingRefusal('assignment_not_found');
      await stores.rating.deleteAssignment(subjectType, subjectId);
      await stores.audit.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'rating_plan.unassigned',
          { type: 'rating_plan', id: assignment.ratingPlanId },
          { subject_type: subjectType, subject_id: subjectId },
        ),
      ]);
      return ok({ assignment, revision: await stores.rating.bumpRatingPlanRevision() });
    },
  }),
};

/** A refusal naming the first carrier of the plan that does not exist, or null. */
async function missingCarrier(
  store: { getCarrier(id: string): Promise<Carrier | null> },
  plan: Pick<RatingPlanRecord, 'routing'>,
): Promise<Refusal<'carrier_not_found'> | null> {
  for (const routing of Object.values(plan.routing)) {
    for (const carrierId of carriersOf(routing.selection)) {
      if (!(await store.getCarrier(carrierId))) {
        return ratingRefusal('carrier_not_found', `The carrier ${carrierId} does not exist.`);
      }
    }
  }
  return null;
}
