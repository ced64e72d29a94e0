// Rating's stores in Kysely, shared by SQLite and PostgreSQL.

import type { Kysely } from 'kysely';
import type { Currency } from '../core/money/money.ts';
import type { RoundingMode } from '../core/money/rounding.ts';
import type { RateJson } from '../core/rating/rate-json.ts';
import type {
  AssignmentSubjectType,
  PlanRouting,
  RatingPlanAssignment,
  RatingPlanRecord,
} from '../core/rating/rating-plans.ts';
import type {
  Carrier,
  DestinationRecord,
  RatingReadStore,
  RatingTxStore,
  RouteRecord,
  RoutingPlanRecord,
  TariffStatus,
  TariffVersionRecord,
} from '../core/rating/rating-store.ts';
import type { PeriodPolicy } from '../core/rating/tariff.ts';
import { ms } from './rows.ts';
import type {
  CarriersTable,
  Database,
  RatingPlanAssignmentsTable,
  RatingPlansTable,
  RoutingPlansTable,
  TariffVersionsTable,
} from './schema.ts';

/** Rows per INSERT: SQLite allows 32,766 bound parameters in one statement. */
const insertRowsMax = 5_000;

function carrierFromRow(row: CarriersTable): Carrier {
  return {
    id: row.id,
    name: row.name,
    accessCode: row.access_code,
    createdAtMs: ms(row.created_at_ms),
  };
}

function versionFromRow(row: TariffVersionsTable): TariffVersionRecord {
  return {
    id: row.id,
    carrierId: row.carrier_id,
    currency: row.currency as Currency,
    timeZone: row.time_zone,
    roundingMode: row.rounding_mode as RoundingMode,
    periodPolicy: row.period_policy as PeriodPolicy,
    effectiveFromMs: ms(row.effective_from_ms),
    effectiveToMs: row.effective_to_ms === null ? null : ms(row.effective_to_ms),
    status: row.status as TariffStatus,
    destinationCount: Number(row.destination_count),
    routeCount: Number(row.route_count),
    createdAtMs: ms(row.created_at_ms),
  };
}

function planFromRow(row: RoutingPlansTable): RoutingPlanRecord {
  return {
    currency: row.currency as Currency,
    selection: JSON.parse(row.selection_json) as RoutingPlanRecord['selection'],
    barredPrefixes: JSON.parse(row.barred_prefixes_json) as string[],
    updatedAtMs: ms(row.updated_at_ms),
  };
}

function ratingPlanFromRow(row: RatingPlansTable): RatingPlanRecord {
  return {
    id: row.id,
    name: row.name,
    routing: JSON.parse(row.routing_json) as Partial<Record<Currency, PlanRouting>>,
    createdAtMs: ms(row.created_at_ms),
    updatedAtMs: ms(row.updated_at_ms),
  };
}

function ratingPlanToRow(plan: RatingPlanRecord): RatingPlansTable {
  return {
    id: plan.id,
    name: plan.name,
    routing_json: JSON.stringify(plan.routing),
    created_at_ms: BigInt(plan.createdAtMs),
    updated_at_ms: BigInt(plan.updatedAtMs),
  };
}

function assignmentFromRow(row: RatingPlanAssignmentsTable): RatingPlanAssignment {
  return {
    subjectType: row.subject_type as AssignmentSubjectType,
    subjectId: row.subject_id,
    ratingPlanId: row.rating_plan_id,
    assignedAtMs: ms(row.assigned_at_ms),
  };
}

export class KyselyRatingStore implements RatingTxStore, RatingReadStore {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async getCarrier(id: string) {
    const row = await this.db
      .selectFrom('carriers')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? carrierFromRow(row) : null;
  }

  async findCarrierByAccessCode(accessCode: string) {
    const row = await this.db
      .selectFrom('carriers')
      .selectAll()
      .where('access_code', '=', accessCode)
      .executeTakeFirst();
    return row ? carrierFromRow(row) : null;
  }

  async listCarriers() {
    return (await this.db.selectFrom('carriers').selectAll().orderBy('id').execute()).map(
      carrierFromRow,
    );
  }

  async insertCarrier(carrier: Carrier) {
    await this.db
      .insertInto('carriers')
      .values({
        id: carrier.id,
        name: carrier.name,
        access_code: carrier.accessCode,
        created_at_ms: BigInt(carrier.createdAtMs),
      })
      .execute();
  }

  async insertTariffVersion(v: TariffVersionRecord) {
    await this.db
      .insertInto('tariff_versions')
      .values({
        id: v.id,
        carrier_id: v.carrierId,
        currency: v.currency,
        time_zone: v.timeZone,
        rounding_mode: v.roundingMode,
        period_policy: v.periodPolicy,
        effective_from_ms: BigInt(v.effectiveFromMs),
        effective_to_ms: v.effectiveToMs === null ? null : BigInt(v.effectiveToMs),
        status: v.status,
        destination_count: BigInt(v.destinationCount),
        route_count: BigInt(v.routeCount),
        created_at_ms: BigInt(v.createdAtMs),
      })
      .execute();
  }

  async insertDestinations(versionId: string, destinations: readonly DestinationRecord[]) {
    for (let i = 0; i < destinations.length; i += insertRowsMax) {
      const rows = destinations.slice(i, i + insertRowsMax).map((d) => ({
        version_id: versionId,
        destination_index: BigInt(d.index),
        name: d.name,
        rate_json: JSON.stringify(d.rate),
      }));
      await this.db.insertInto('tariff_destinations').values(rows).execute();
    }
  }

  async insertRoutes(versionId: string, routes: readonly RouteRecord[]) {
    for (let i = 0; i < routes.length; i += insertRowsMax) {
      const rows = routes.slice(i, i + insertRowsMax).map((r) => ({
        version_id: versionId,
        prefix: r.prefix,
        destination_index: BigInt(r.destinationIndex),
      }));
      await this.db.insertInto('tariff_routes').values(rows).execute();
    }
  }

  async getTariffVersion(id: string) {
    const row = await this.db
      .selectFrom('tariff_versions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? versionFromRow(row) : null;
  }

  async activateTariffVersion(id: string) {
    const version = await this.getTariffVersion(id);
    if (!version) return;
    await this.db
      .updateTable('tariff_versions')
      .set({ status: 'superseded' })
      .where('carrier_id', '=', version.carrierId)
      .where('effective_from_ms', '=', BigInt(version.effectiveFromMs))
      .where('status', '=', 'active')
      .where('id', '!=', id)
      .execute();
    await this.db
      .updateTable('tariff_versions')
      .set({ status: 'active' })
      .where('id', '=', id)
      .execute();
  }

  async deleteTariffVersion(id: string) {
    await this.db.deleteFrom('tariff_routes').where('version_id', '=', id).execute();
    await this.db.deleteFrom('tariff_destinations').where('version_id', '=', id).execute();
    await this.db
      .deleteFrom('tariff_versions')
      .where('id', '=', id)
      .where('status', '=', 'importing')
      .execute();
  }

  async listTariffVersions(query: {
    carrierId?: string | undefined;
    status?: TariffStatus | undefined;
  }) {
    let q = this.db
      .selectFrom('tariff_versions')
      .selectAll()
      .orderBy('carrier_id')
      .orderBy('effective_from_ms');
    if (query.carrierId !== undefined) q = q.where('carrier_id', '=', query.carrierId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    return (await q.execute()).map(versionFromRow);
  }

  async listDestinations(
    versionId: string,
    query: { afterIndex?: number | undefined; limit: number },
  ) {
    let q = this.db
      .selectFrom('tariff_destinations')
      .selectAll()
      .where('version_id', '=', versionId)
      .orderBy('destination_index')
      .limit(query.limit);
    if (query.afterIndex !== undefined)
      q = q.where('destination_index', '>', BigInt(query.afterIndex));
    return (await q.execute()).map((row) => ({
      index: Number(row.destination_index),
      name: row.name,
      rate: JSON.parse(row.rate_json) as RateJson,
    }));
  }

  async listRoutes(
    versionId: string,
    query: { afterPrefix?: string | undefined; startsWith?: string | undefined; limit: number },
  ) {
    let q = this.db
      .selectFrom('tariff_routes')
      .select(['prefix', 'destination_index'])
      .where('version_id', '=', versionId)
      .orderBy('prefix')
      .limit(query.limit);
    if (query.afterPrefix !== undefined) q = q.where('prefix', '>', query.afterPrefix);
    if (query.startsWith) {
      // Digits only (checked by the caller), so a range scan stands in for LIKE 'p%'.
      q = q.where('prefix', '>=', query.startsWith).where('prefix', '<', `${query.startsWith}:`);
    }
    return (await q.execute()).map((row) => ({
      prefix: row.prefix,
      destinationIndex: Number(row.destination_index),
    }));
  }

  async saveRoutingPlan(plan: RoutingPlanRecord) {
    const values = {
      currency: plan.currency,
      selection_json: JSON.stringify(plan.selection),
      barred_prefixes_json: JSON.stringify(plan.barredPrefixes),
      updated_at_ms: BigInt(plan.updatedAtMs),
    };
    await this.db
      .insertInto('routing_plans')
      .values(values)
      .onConflict((oc) => oc.column('currency').doUpdateSet(values))
      .execute();
  }

  async listRoutingPlans() {
    return (
      await this.db.selectFrom('routing_plans').selectAll().orderBy('currency').execute()
    ).map(planFromRow);
  }

  async getRatingPlan(id: string) {
    const row = await this.db
      .selectFrom('rating_plans')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? ratingPlanFromRow(row) : null;
  }

  async listRatingPlans() {
    return (await this.db.selectFrom('rating_plans').selectAll().orderBy('id').execute()).map(
      ratingPlanFromRow,
    );
  }

  async insertRatingPlan(plan: RatingPlanRecord) {
    await this.db.insertInto('rating_plans').values(ratingPlanToRow(plan)).execute();
  }

  async updateRatingPlan(plan: RatingPlanRecord) {
    const { id: _id, created_at_ms: _created, ...changes } = ratingPlanToRow(plan);
    await this.db.updateTable('rating_plans').set(changes).where('id', '=', plan.id).execute();
  }

  async deleteRatingPlan(id: string) {
    await this.db.deleteFrom('rating_plans').where('id', '=', id).execute();
  }

  async countAssignments(ratingPlanId: string) {
    const row = await this.db
      .selectFrom('rating_plan_assignments')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('rating_plan_id', '=', ratingPlanId)
      .executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  async getAssignment(subjectType: AssignmentSubjectType, subjectId: string) {
    const row = await this.db
      .selectFrom('rating_plan_assignments')
      .selectAll()
      .where('subject_type', '=', subjectType)
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    return row ? assignmentFromRow(row) : null;
  }

  async saveAssignment(assignment: RatingPlanAssignment) {
    const values = {
      subject_type: assignment.subjectType,
      subject_id: assignment.subjectId,
      rating_plan_id: assignment.ratingPlanId,
      assigned_at_ms: BigInt(assignment.assignedAtMs),
    };
    await this.db
      .insertInto('rating_plan_assignments')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['subject_type', 'subject_id']).doUpdateSet({
          rating_plan_id: values.rating_plan_id,
          assigned_at_ms: values.assigned_at_ms,
        }),
      )
      .execute();
  }

  async deleteAssignment(subjectType: AssignmentSubjectType, subjectId: string) {
    await this.db
      .deleteFrom('rating_plan_assignments')
      .where('subject_type', '=', subjectType)
      .where('subject_id', '=', subjectId)
      .execute();
  }

  async listAssignments(query: {
    ratingPlanId?: string | undefined;
    subjectType?: AssignmentSubjectType | undefined;
  }) {
    let q = this.db
      .selectFrom('rating_plan_assignments')
      .selectAll()
      .orderBy('subject_type')
      .orderBy('subject_id');
    if (query.ratingPlanId !== undefined) q = q.where('rating_plan_id', '=', query.ratingPlanId);
    if (query.subjectType !== undefined) q = q.where('subject_type', '=', query.subjectType);
    return (await q.execute()).map(assignmentFromRow);
  }

  async bumpRatingPlanRevision() {
    const row = await this.db
      .updateTable('rating_plan_revision')
      .set((eb) => ({ revision: eb('revision', '+', 1n) }))
      .where('id', '=', 1)
      .returning('revision')
      .executeTakeFirstOrThrow();
    return Number(row.revision);
  }

  async ratingPlanRevision() {
    const row = await this.db
      .selectFrom('rating_plan_revision')
      .select('revision')
      .where('id', '=', 1)
      .executeTakeFirst();
    return Number(row?.revision ?? 0);
  }
}
