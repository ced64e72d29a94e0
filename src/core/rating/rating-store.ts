// What rating needs from storage: carriers, tariff versions with their destinations and prefix
// routes, one routing plan per currency, and named rating plans with their assignments.

import type { Currency } from '../money/money.ts';
import type { RoundingMode } from '../money/rounding.ts';
import type { RateJson } from './rate-json.ts';
import type {
  AssignmentSubjectType,
  RatingPlanAssignment,
  RatingPlanRecord,
} from './rating-plans.ts';
import type { PeriodPolicy } from './tariff.ts';

export interface Carrier {
  readonly id: string;
  readonly name: string;
  /** Dialled before a number to choose this carrier, such as "00700"; stripped before rating. */
  readonly accessCode: string | null;
  readonly createdAtMs: number;
}

export const tariffStatuses = ['importing', 'active', 'superseded'] as const;
export type TariffStatus = (typeof tariffStatuses)[number];

export interface TariffVersionRecord {
  readonly id: string;
  readonly carrierId: string;
  readonly currency: Currency;
  readonly timeZone: string;
  readonly roundingMode: RoundingMode;
  readonly periodPolicy: PeriodPolicy;
  readonly effectiveFromMs: number;
  readonly effectiveToMs: number | null;
  readonly status: TariffStatus;
  readonly destinationCount: number;
  readonly routeCount: number;
  readonly createdAtMs: number;
}

export interface DestinationRecord {
  readonly index: number;
  readonly name: string;
  readonly rate: RateJson;
}

export interface RouteRecord {
  readonly prefix: string;
  readonly destinationIndex: number;
}

/** A routing plan as stored: the selection and barred prefixes, per currency. */
export interface RoutingPlanRecord {
  readonly currency: Currency;
  readonly selection:
    | { readonly kind: 'default'; readonly carrierId: string }
    | {
        readonly kind: 'least_cost';
        readonly carrierIds: readonly string[];
        readonly referenceDurationSeconds?: number;
      }
    | { readonly kind: 'access_code_only' };
  readonly barredPrefixes: readonly string[];
  readonly updatedAtMs: number;
}

export interface RatingTxStore {
  getCarrier(id: string): Promise<Carrier | null>;
  findCarrierByAccessCode(accessCode: string): Promise<Carrier | null>;
  insertCarrier(carrier: Carrier): Promise<void>;
  insertTariffVersion(version: TariffVersionRecord): Promise<void>;
  insertDestinations(versionId: string, destinations: readonly DestinationRecord[]): Promise<void>;
  insertRoutes(versionId: string, routes: readonly RouteRecord[]): Promise<void>;
  getTariffVersion(id: string): Promise<TariffVersionRecord | null>;
  /** Marks the version active and any other active version of its carrier and start superseded. */
  activateTariffVersion(id: string): Promise<void>;
  /** Deletes a version that never became active, with its rows. */
  deleteTariffVersion(id: string): Promise<void>;
  saveRoutingPlan(plan: RoutingPlanRecord): Promise<void>;
  getRatingPlan(id: string): Promise<RatingPlanRecord | null>;
  insertRatingPlan(plan: RatingPlanRecord): Promise<void>;
  updateRatingPlan(plan: RatingPlanRecord): Promise<void>;
  deleteRatingPlan(id: string): Promise<void>;
  /** How many subjects the plan is assigned to. */
  countAssignments(ratingPlanId: string): Promise<number>;
  getAssignment(
    subjectType: AssignmentSubjectType,
    subjectId: string,
  ): Promise<RatingPlanAssignment | null>;
  /** Assigns the plan to the subject, replacing the plan it had. */
  saveAssignment(assignment: RatingPlanAssignment): Promise<void>;
  deleteAssignment(subjectType: AssignmentSubjectType, subjectId: string): Promise<void>;
  /** Bumps the plans' revision and returns the new one (see `ratingPlanRevision`). */
  bumpRatingPlanRevision(): Promise<number>;
}

export interface RatingReadStore {
  getCarrier(id: string): Promise<Carrier | null>;
  listCarriers(): Promise<Carrier[]>;
  getTariffVersion(id: string): Promise<TariffVersionRecord | null>;
  listTariffVersions(query: {
    carrierId?: string | undefined;
    status?: TariffStatus | undefined;
  }): Promise<TariffVersionRecord[]>;
  listDestinations(
    versionId: string,
    query: { afterIndex?: number | undefined; limit: number },
  ): Promise<DestinationRecord[]>;
  /** Routes in prefix order after `afterPrefix`, optionally only those starting with `startsWith`. */
  listRoutes(
    versionId: string,
    query: { afterPrefix?: string | undefined; startsWith?: string | undefined; limit: number },
  ): Promise<RouteRecord[]>;
  listRoutingPlans(): Promise<RoutingPlanRecord[]>;
  getRatingPlan(id: string): Promise<RatingPlanRecord | null>;
  listRatingPlans(): Promise<RatingPlanRecord[]>;
  /** Assignments by subject type and id; only one plan's, or one subject type's, when asked. */
  listAssignments(query: {
    ratingPlanId?: string | undefined;
    subjectType?: AssignmentSubjectType | undefined;
  }): Promise<RatingPlanAssignment[]>;
  /** A number every change of plans or assignments increases: reload them when it moved. */
  ratingPlanRevision(): Promise<number>;
}
