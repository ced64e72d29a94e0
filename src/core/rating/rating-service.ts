// Rating as a service: carriers, tariff imports (Tollgate CSV, CGRateS tariff plans, A2Billing
// rate cards) into the store and the in-memory catalog, routing plans per currency, named rating
// plans and their assignments, and quotes (the cost of a duration, or the allowance of a balance).
// The catalog is rebuilt from the store at start and refreshed when another process activates a
// tariff; a new catalog is swapped in whole, so a quote never waits for an import. Rating plans
// and assignments are held in memory the same way (rating-plans.ts), reloaded when the store's
// plan revision moves, so choosing the plan of a call reads nothing.

import { type Currency, isCurrency, type Minor } from '../money/money.ts';
import type { RoundingMode } from '../money/rounding.ts';
import type { Clock } from '../shared/clock.ts';
import { newId } from '../shared/ids.ts';
import type { Caller } from '../shared/principal.ts';
import { ok, type Result, refuse } from '../shared/result.ts';
import type { WriteCommitter } from '../write-commands.ts';
import { type A2BillingColumn, importA2BillingRatecard } from './a2billing-import.ts';
import { type CgratesTariffPlanFiles, importCgratesTariffPlan } from './cgrates-import.ts';
import { allowance, cost } from './cost.ts';
import type { ImportIssue, ImportResult } from './import-issues.ts';
import { decodeRate, encodeRate } from './rate-json.ts';
import { type RatingRefusalCode, ratingRefusal } from './rating-commands.ts';
import {
  type AssignmentSubjectType,
  type CallSubject,
  type PlanRouting,
  type RatingPlanAssignment,
  RatingPlanBook,
  type RatingPlanRecord,
  ratingPlanIdPattern,
} from './rating-plans.ts';
import type {
  Carrier,
  RatingReadStore,
  RoutingPlanRecord,
  TariffVersionRecord,
} from './rating-store.ts';
import { type Route, type RoutingPlan, selectRoute } from './select-route.ts';
import type { TariffData, TariffVersion } from './tariff.ts';
import { buildTariffIndex, type TariffIndex, TariffIndexBuilder } from './tariff-index.ts';
import { TariffCatalog, TariffRegistry } from './tariff-registry.ts';
import { exportTollgateCsv, loadTollgateCsv } from './tollgate-csv.ts';

export const tariffFormats = ['tollgate', 'cgrates', 'a2billing'] as const;
export type TariffFormat = (typeof tariffFormats)[number];

/** Routes stored per write command while importing: large enough to be quick, small enough to
 * keep one transaction short. */
export const importChunkRoutes = 20_000;

/** Rows read per query when the catalog is rebuilt from the store. */
const loadPageRoutes = 50_000;

export interface TariffImportInput {
  readonly carrierId: string;
  readonly format: TariffFormat;
  /** tollgate: { tariff }; a2billing: { ratecard }; cgrates: the five tariff-plan files. */
  readonly files: Readonly<Record<string, string>>;
  readonly currency?: Currency | undefined;
  readonly effectiveFromMs?: number | undefined;
  readonly effectiveToMs?: number | undefined;
  readonly timeZone?: string | undefined;
  readonly roundingMode?: RoundingMode | undefined;
  /** A2Billing: the columns after dialprefix, destination and rate, when the file has no header. */
  readonly a2billingColumns?: readonly A2BillingColumn[] | undefined;
  /** CGRateS: which plan of RatingPlans.csv, when the file holds several. */
  readonly ratingPlanId?: string | undefined;
  /** Check and count, store nothing. */
  readonly dryRun?: boolean | undefined;
  readonly onProgress?:
    | ((stage: 'parsing' | 'storing', done: number, total: number) => void)
    | undefined;
}

export interface TariffImportSummary {
  readonly versionId: string | null;
  readonly carrierId: string;
  readonly version: TariffVersion;
  readonly destinationCount: number;
  readonly routeCount: number;
  readonly dryRun: boolean;
  readonly warnings: readonly ImportIssue[];
}

export type TariffImportOutcome =
  | { readonly ok: true; readonly value: TariffImportSummary }
  | {
      readonly ok: false;
      readonly code: RatingRefusalCode;
      readonly message: string;
      readonly issues: readonly ImportIssue[];
    };

/** Where a call is routed from: the number, the caller's currency, and whose call it is. */
export interface RouteInput {
  readonly number: string;
  readonly currency: Currency;
  readonly startMs: number;
  /** The caller, for plan selection; absent: the currency's plan. */
  readonly subject?: CallSubject | undefined;
  /** Rate with this named plan instead (a quote); refused when it has no rules in the currency. */
  readonly ratingPlanId?: string | undefined;
}

export interface QuoteInput extends RouteInput {
  readonly durationSeconds?: number | undefined;
  readonly balanceMinor?: Minor | undefined;
}

/**
 * What assigning a plan checks about its subject. The composition root answers from the stores;
 * each answer is null when there is no such subject.
 */
export interface AssignmentTargets {
  productCurrency(id: string): Promise<Currency | null>;
  /** The currency of a subscriber's balance account (caller-number or calling card). */
  subscriberCurrency(accountId: string): Promise<Currency | null>;
  principalKind(id: string): Promise<string | null>;
}

/** A rating plan as given to create or replace one. */
export interface RatingPlanInput {
  readonly id: string;
  readonly name: string;
  readonly routing: Readonly<Partial<Record<Currency, PlanRouting>>>;
}

/** Names of plans are short text; barred prefixes are digits, as in routing plans. */
const ratingPlanNameMax = 128;
const barredPrefixPattern = /^[0-9]{1,20}$/;

type PlanRefusal = 'rating_plan_invalid' | 'carrier_not_found';

export interface Quote {
  readonly route: Route;
  readonly costMinor: Minor | null;
  readonly allowanceSeconds: number | null;
}

export class RatingService {
  private readonly committer: WriteCommitter;
  private readonly reads: RatingReadStore;
  private readonly clock: Clock;
  private readonly targets: AssignmentTargets;
  readonly registry = new TariffRegistry();
  private plans = new Map<Currency, RoutingPlan>();
  private accessCodes: RoutingPlan['accessCodes'] = [];
  private carrierIds = new Set<string>();
  private loadedVersionIds = new Set<string>();
  /** Rating plans and assignments, as of `bookRevision` of the store (-1: not loaded yet). */
  private book = new RatingPlanBook();
  private bookRevision = -1;

  constructor(deps: {
    committer: WriteCommitter;
    reads: RatingReadStore;
    clock: Clock;
    targets: AssignmentTargets;
  }) {
    this.committer = deps.committer;
    this.reads = deps.reads;
    this.clock = deps.clock;
    this.targets = deps.targets;
  }

  /**
   * Brings the catalog and routing plans in line with the store: loads versions activated since
   * the last refresh (by this process or another), drops superseded ones, swaps the result in.
   */
  async refresh(): Promise<void> {
    const active = await this.reads.listTariffVersions({ status: 'active' });
    const activeIds = new Set(active.map((version) => version.id));
    const changed =
      activeIds.size !== this.loadedVersionIds.size ||
      active.some((v) => !this.loadedVersionIds.has(v.id));
    if (changed) {
      const current = this.registry.current();
      const kept = new Map<string, TariffIndex>();
      for (const carrierId of current.carrierIds()) {
        for (const index of current.versions(carrierId)) {
          const id = versionIdOf(index);
          if (id && activeIds.has(id)) kept.set(id, index);
        }
      }
      for (const record of active) {
        if (!kept.has(record.id)) kept.set(record.id, await this.loadIndex(record));
      }
      this.registry.swap(TariffCatalog.of(kept.values()));
      this.loadedVersionIds = activeIds;
    }
    await this.refreshPlans();
  }

  private async refreshPlans(): Promise<void> {
    const [records, carriers] = await Promise.all([
      this.reads.listRoutingPlans(),
      this.reads.listCarriers(),
    ]);
    const accessCodes = carriers
      .filter((carrier) => carrier.accessCode !== null)
      .map((carrier) => ({ code: carrier.accessCode!, carrierId: carrier.id }));
    const plans = new Map<Currency, RoutingPlan>();
    for (const record of records) {
      plans.set(record.currency, {
        currency: record.currency,
        accessCodes,
        selection: record.selection,
        barredPrefixes: record.barredPrefixes,
      });
    }
    this.plans = plans;
    this.accessCodes = accessCodes;
    this.carrierIds = new Set(carriers.map((carrier) => carrier.id));
    const revision = await this.reads.ratingPlanRevision();
    if (revision !== this.bookRevision) await this.reloadBook(revision);
  }

  /**
   * Loads every rating plan and assignment. A load that read an older revision than this process
   * has already applied (its own change, made while the load ran) is dropped.
   */
  private async reloadBook(revision: number): Promise<void> {
    const [plans, assignments] = await Promise.all([
      this.reads.listRatingPlans(),
      this.reads.listAssignments({}),
    ]);
    if (revision < this.bookRevision) return;
    this.book = RatingPlanBook.of(plans, assignments);
    this.bookRevision = revision;
  }

  /**
   * After a plan command of this process: applies its change in memory when it is the only one
   * since the book was loaded (revision one more), else reloads the whole book.
   */
  private async applied(revision: number, change: (book: RatingPlanBook) => void): Promise<void> {
    if (revision === this.bookRevision + 1) {
      change(this.book);
      this.bookRevision = revision;
    } else {
      await this.reloadBook(await this.reads.ratingPlanRevision());
    }
  }

  private async loadIndex(record: TariffVersionRecord): Promise<TariffIndex> {
    const builder = new TariffIndexBuilder(record.routeCount);
    let afterIndex: number | undefined;
    for (;;) {
      const page = await this.reads.listDestinations(record.id, { afterIndex, limit: 10_000 });
      for (const destination of page) {
        const rate = decodeRate(destination.rate);
        if (!rate.ok)
          throw new Error(
            `stored rate of ${record.id}/${destination.index} is invalid: ${rate.message}`,
          );
        builder.addDestination({ name: destination.name, rate: rate.value });
      }
      if (page.length < 10_000) break;
      afterIndex = page.at(-1)!.index;
    }
    let afterPrefix: string | undefined;
    for (;;) {
      const page = await this.reads.listRoutes(record.id, { afterPrefix, limit: loadPageRoutes });
      for (const route of page) builder.addRoute(route.prefix, route.destinationIndex);
      if (page.length < loadPageRoutes) break;
      afterPrefix = page.at(-1)!.prefix;
    }
    return tagVersionId(builder.build(versionOf(record)), record.id);
  }

  async createCarrier(
    caller: Caller,
    input: { id: string; name: string; accessCode?: string | null | undefined },
  ): Promise<Result<Carrier, 'carrier_exists' | 'access_code_taken'>> {
    const carrier: Carrier = {
      id: input.id,
      name: input.name,
      accessCode: input.accessCode ?? null,
      createdAtMs: this.clock.nowMs(),
    };
    const created = await this.committer.submit('rating.createCarrier', { caller, carrier });
    if (created.ok) await this.refreshPlans();
    return created;
  }

  listCarriers(): Promise<Carrier[]> {
    return this.reads.listCarriers();
  }

  /** Parses a tariff in any supported format into an index, or line-numbered issues. */
  parseTariff(input: TariffImportInput): ImportResult<TariffIndex> {
    const effectiveFromMs = input.effectiveFromMs ?? this.clock.nowMs();
    const onProgress = input.onProgress;
    switch (input.format) {
      case 'tollgate': {
        const version: Partial<TariffVersion> = {
          carrierId: input.carrierId,
          ...(input.currency ? { currency: input.currency } : {}),
          ...(input.effectiveFromMs !== undefined
            ? { effectiveFromMs: input.effectiveFromMs }
            : {}),
          ...(input.effectiveToMs !== undefined ? { effectiveToMs: input.effectiveToMs } : {}),
          ...(input.timeZone ? { timeZone: input.timeZone } : {}),
          ...(input.roundingMode ? { roundingMode: input.roundingMode } : {}),
        };
        return loadTollgateCsv(input.files.tariff ?? '', {
          version,
          ...(onProgress ? { onProgress: (lines: number) => onProgress('parsing', lines, 0) } : {}),
        });
      }
      case 'cgrates':
      case 'a2billing': {
        if (!input.currency) {
          return {
            ok: false,
            errors: [
              { file: '(options)', line: 0, message: 'currency is required for this format' },
            ],
            warnings: [],
          };
        }
        const common = {
          carrierId: input.carrierId,
          currency: input.currency,
          effectiveFromMs,
          ...(input.effectiveToMs !== undefined ? { effectiveToMs: input.effectiveToMs } : {}),
          ...(input.timeZone ? { timeZone: input.timeZone } : {}),
          ...(input.roundingMode ? { roundingMode: input.roundingMode } : {}),
        };
        const data: ImportResult<TariffData> =
          input.format === 'cgrates'
            ? importCgratesTariffPlan(cgratesFiles(input.files), {
                ...common,
                ...(input.ratingPlanId ? { ratingPlanId: input.ratingPlanId } : {}),
              })
            : importA2BillingRatecard(input.files.ratecard ?? '', {
                ...common,
                ...(input.a2billingColumns ? { columns: input.a2billingColumns } : {}),
              });
        if (!data.ok) return data;
        return { ok: true, value: buildTariffIndex(data.value), warnings: data.warnings };
      }
    }
  }

  /**
   * Imports a tariff version: parse, check, store in chunks, activate, swap into the catalog.
   * A version with the same carrier and start as an active one supersedes it.
   */
  async importTariff(caller: Caller, input: TariffImportInput): Promise<TariffImportOutcome> {
    const carrier = await this.reads.getCarrier(input.carrierId);
    if (!carrier) return { ...ratingRefusal('carrier_not_found'), issues: [] };
    const parsed = this.parseTariff(input);
    if (!parsed.ok) {
      return { ...ratingRefusal('tariff_invalid'), issues: parsed.errors };
    }
    const index = parsed.value;
    const summary = {
      carrierId: input.carrierId,
      version: index.version,
      destinationCount: index.destinations.length,
      routeCount: index.prefixCount,
      warnings: parsed.warnings,
    };
    if (input.dryRun) return ok({ ...summary, versionId: null, dryRun: true });

    const versionId = newId('trv', this.clock.nowMs());
    const record: TariffVersionRecord = {
      id: versionId,
      carrierId: input.carrierId,
      currency: index.version.currency,
      timeZone: index.version.timeZone,
      roundingMode: index.version.roundingMode,
      periodPolicy: index.version.periodPolicy,
      effectiveFromMs: index.version.effectiveFromMs,
      effectiveToMs: index.version.effectiveToMs ?? null,
      status: 'importing',
      destinationCount: index.destinations.length,
      routeCount: index.prefixCount,
      createdAtMs: this.clock.nowMs(),
    };
    const destinations = index.destinations.map((destination, i) => ({
      index: i,
      name: destination.name,
      rate: encodeRate(destination.rate),
    }));
    const begun = await this.committer.submit('rating.beginTariff', {
      version: record,
      destinations,
    });
    if (!begun.ok) return { ...begun, issues: [] };
    try {
      let chunk: Array<{ prefix: string; destinationIndex: number }> = [];
      let stored = 0;
      const pending: Array<Promise<null>> = [];
      for (const route of index.routes()) {
        chunk.push({ prefix: route.prefix, destinationIndex: route.destinationIndex });
        if (chunk.length === importChunkRoutes) {
          pending.push(this.committer.submit('rating.addRoutes', { versionId, routes: chunk }));
          stored += chunk.length;
          chunk = [];
          // Keep a few chunks in flight, so storing overlaps with reading the next rows.
          if (pending.length >= 4) await pending.shift();
          input.onProgress?.('storing', stored, index.prefixCount);
        }
      }
      if (chunk.length > 0)
        pending.push(this.committer.submit('rating.addRoutes', { versionId, routes: chunk }));
      await Promise.all(pending);
      input.onProgress?.('storing', index.prefixCount, index.prefixCount);
      await this.committer.submit('rating.activateTariff', { caller, versionId });
    } catch (error) {
      await this.committer.submit('rating.abandonTariff', { versionId }).catch(() => undefined);
      throw error;
    }
    this.registry.swap(this.registry.current().withTariff(tagVersionId(index, versionId)));
    this.loadedVersionIds = new Set([...this.loadedVersionIds, versionId]);
    // Another version of the same carrier and start is now superseded: drop it from memory too.
    await this.refresh();
    return ok({ ...summary, versionId, dryRun: false });
  }

  listTariffs(query: { carrierId?: string | undefined }): Promise<TariffVersionRecord[]> {
    return this.reads.listTariffVersions({ carrierId: query.carrierId });
  }

  async getTariff(id: string): Promise<Result<TariffVersionRecord, 'tariff_not_found'>> {
    const record = await this.reads.getTariffVersion(id);
    return record ? ok(record) : ratingRefusal('tariff_not_found');
  }

  /** A stored version as Tollgate CSV, whatever format it was imported from. */
  async exportTariff(id: string): Promise<Result<string, 'tariff_not_found'>> {
    const record = await this.reads.getTariffVersion(id);
    if (!record || record.status === 'importing') return ratingRefusal('tariff_not_found');
    return ok(exportTollgateCsv(await this.loadIndex(record)));
  }

  listDestinations(versionId: string, query: { afterIndex?: number | undefined; limit: number }) {
    return this.reads.listDestinations(versionId, query);
  }

  listRoutes(
    versionId: string,
    query: { afterPrefix?: string | undefined; startsWith?: string | undefined; limit: number },
  ) {
    return this.reads.listRoutes(versionId, query);
  }

  async saveRoutingPlan(
    caller: Caller,
    plan: Omit<RoutingPlanRecord, 'updatedAtMs'>,
  ): Promise<Result<RoutingPlanRecord, 'carrier_not_found'>> {
    const named =
      plan.selection.kind === 'default'
        ? [plan.selection.carrierId]
        : plan.selection.kind === 'least_cost'
          ? plan.selection.carrierIds
          : [];
    for (const carrierId of named) {
      if (!(await this.reads.getCarrier(carrierId))) {
        return ratingRefusal('carrier_not_found', `The carrier ${carrierId} does not exist.`);
      }
    }
    const record: RoutingPlanRecord = { ...plan, updatedAtMs: this.clock.nowMs() };
    await this.committer.submit('rating.saveRoutingPlan', { caller, plan: record });
    await this.refreshPlans();
    return ok(record);
  }

  listRoutingPlans(): Promise<RoutingPlanRecord[]> {
    return this.reads.listRoutingPlans();
  }

  /** The currencies that have a routing plan: the only ones a caller can be charged in. */
  planCurrencies(): Currency[] {
    return [...this.plans.keys()];
  }

  // --- rating plans ----------------------------------------------------------------------

  /** Creates a named rating plan; its carriers must exist. */
  async createRatingPlan(
    caller: Caller,
    input: RatingPlanInput,
  ): Promise<Result<RatingPlanRecord, PlanRefusal | 'rating_plan_exists'>> {
    const invalid = ratingPlanProblem(input);
    if (invalid) return ratingRefusal('rating_plan_invalid', invalid);
    const nowMs = this.clock.nowMs();
    const created = await this.committer.submit('rating.createRatingPlan', {
      caller,
      plan: {
        id: input.id,
        name: input.name,
        routing: input.routing,
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      },
    });
    if (!created.ok) return created;
    const { plan, revision } = created.value;
    await this.applied(revision, (book) => book.putPlan(plan));
    return ok(plan);
  }

  /** Replaces a plan's name and rules; its assignments stay. */
  async replaceRatingPlan(
    caller: Caller,
    input: RatingPlanInput,
  ): Promise<Result<RatingPlanRecord, PlanRefusal | 'rating_plan_not_found'>> {
    if (!this.book.plan(input.id) && !(await this.reads.getRatingPlan(input.id)))
      return ratingRefusal('rating_plan_not_found');
    const invalid = ratingPlanProblem(input);
    if (invalid) return ratingRefusal('rating_plan_invalid', invalid);
    const replaced = await this.committer.submit('rating.updateRatingPlan', {
      caller,
      plan: {
        id: input.id,
        name: input.name,
        routing: input.routing,
        updatedAtMs: this.clock.nowMs(),
      },
    });
    if (!replaced.ok) return replaced;
    const { plan, revision } = replaced.value;
    await this.applied(revision, (book) => book.putPlan(plan));
    return ok(plan);
  }

  /** Deletes a plan that is assigned to nothing. */
  async deleteRatingPlan(
    caller: Caller,
    id: string,
  ): Promise<Result<null, 'rating_plan_not_found' | 'rating_plan_in_use'>> {
    const deleted = await this.committer.submit('rating.deleteRatingPlan', { caller, id });
    if (!deleted.ok) return deleted;
    await this.applied(deleted.value.revision, (book) => book.removePlan(id));
    return ok(null);
  }

  listRatingPlans(): Promise<RatingPlanRecord[]> {
    return this.reads.listRatingPlans();
  }

  async getRatingPlan(id: string): Promise<Result<RatingPlanRecord, 'rating_plan_not_found'>> {
    const plan = await this.reads.getRatingPlan(id);
    return plan ? ok(plan) : ratingRefusal('rating_plan_not_found');
  }

  listAssignments(query: {
    ratingPlanId?: string | undefined;
    subjectType?: AssignmentSubjectType | undefined;
  }): Promise<RatingPlanAssignment[]> {
    return this.reads.listAssignments(query);
  }

  /**
   * Assigns a plan to a subscriber account, a product, or a retailer or distributor principal
   * (its kind says which), replacing the plan the subject had. A subscriber or product must be
   * in a currency the plan has rules for.
   */
  async assignRatingPlan(
    caller: Caller,
    input: {
      ratingPlanId: string;
      subject:
        | { readonly accountId: string }
        | { readonly productId: string }
        | { readonly principalId: string };
    },
  ): Promise<
    Result<
      RatingPlanAssignment,
      | 'rating_plan_not_found'
      | 'rating_plan_currency_missing'
      | 'assignment_subject_invalid'
      | 'account_not_found'
      | 'product_not_found'
      | 'principal_not_found'
    >
  > {
    const plan = await this.reads.getRatingPlan(input.ratingPlanId);
    if (!plan) return ratingRefusal('rating_plan_not_found');
    const subject = await this.assignmentSubject(input.subject);
    if (!subject.ok) return subject;
    const { subjectType, subjectId, currency } = subject.value;
    if (currency !== null && plan.routing[currency] === undefined) {
      return ratingRefusal(
        'rating_plan_currency_missing',
        `The rating plan ${plan.id} has no rules for ${currency}.`,
      );
    }
    const assigned = await this.committer.submit('rating.assignRatingPlan', {
      caller,
      assignment: {
        subjectType,
        subjectId,
        ratingPlanId: plan.id,
        assignedAtMs: this.clock.nowMs(),
      },
    });
    if (!assigned.ok) return assigned;
    const { assignment, revision } = assigned.value;
    await this.applied(revision, (book) => book.putAssignment(assignment));
    return ok(assignment);
  }

  /**
   * Removes the plan assigned to a subject (only if it is `ratingPlanId`, when given): its calls
   * fall back to the next level.
   */
  async unassignRatingPlan(
    caller: Caller,
    input: {
      subjectType: AssignmentSubjectType;
      subjectId: string;
      ratingPlanId?: string | undefined;
    },
  ): Promise<Result<RatingPlanAssignment, 'assignment_not_found'>> {
    const removed = await this.committer.submit('rating.unassignRatingPlan', {
      caller,
      subjectType: input.subjectType,
      subjectId: input.subjectId,
      ratingPlanId: input.ratingPlanId ?? null,
    });
    if (!removed.ok) return removed;
    await this.applied(removed.value.revision, (book) =>
      book.removeAssignment(input.subjectType, input.subjectId),
    );
    return ok(removed.value.assignment);
  }

  private async assignmentSubject(
    subject:
      | { readonly accountId: string }
      | { readonly productId: string }
      | { readonly principalId: string },
  ): Promise<
    Result<
      { subjectType: AssignmentSubjectType; subjectId: string; currency: Currency | null },
      | 'assignment_subject_invalid'
      | 'account_not_found'
      | 'product_not_found'
      | 'principal_not_found'
    >
  > {
    if ('accountId' in subject) {
      const currency = await this.targets.subscriberCurrency(subject.accountId);
      if (currency === null) {
        return refuse(
          'account_not_found',
          'No subscriber account (caller number or calling card) has this id.',
        );
      }
      return ok({ subjectType: 'subscriber', subjectId: subject.accountId, currency });
    }
    if ('productId' in subject) {
      const currency = await this.targets.productCurrency(subject.productId);
      if (currency === null) return refuse('product_not_found', 'The product does not exist.');
      return ok({ subjectType: 'product', subjectId: subject.productId, currency });
    }
    const kind = await this.targets.principalKind(subject.principalId);
    if (kind === null) return refuse('principal_not_found', 'The principal does not exist.');
    if (kind !== 'retailer' && kind !== 'distributor') {
      return ratingRefusal(
        'assignment_subject_invalid',
        `A ${kind} sells no cards; assign the plan to its retailer or distributor.`,
      );
    }
    return ok({ subjectType: kind, subjectId: subject.principalId, currency: null });
  }

  /** True when plan selection needs to know who sold a card (some seller has a plan). */
  needsSeller(): boolean {
    return this.book.hasSellerAssignments();
  }

  /** True when `carrierId` is a carrier rating knows (a product's carrier may be only a name). */
  isCarrier(carrierId: string): boolean {
    return this.carrierIds.has(carrierId);
  }

  /**
   * Chooses the carrier and rate for a number, as the charging engine will: by the named plan
   * when one is given, else by the most specific plan for the subject (rating-plans.ts).
   */
  route(input: RouteInput): Result<Route, RatingRefusalCode> {
    let plan: RoutingPlan | undefined;
    if (input.ratingPlanId !== undefined) {
      if (!this.book.plan(input.ratingPlanId)) return ratingRefusal('rating_plan_not_found');
      plan = this.book.planIn(input.ratingPlanId, input.currency, this.accessCodes, 'requested');
      if (!plan) {
        return ratingRefusal(
          'rating_plan_currency_missing',
          `The rating plan ${input.ratingPlanId} has no rules for ${input.currency}.`,
        );
      }
    } else {
      plan = this.book.choose({
        subject: input.subject,
        currency: input.currency,
        currencyPlan: this.plans.get(input.currency),
        accessCodes: this.accessCodes,
      });
    }
    if (!plan) return ratingRefusal('routing_plan_missing');
    return selectRoute({
      catalog: this.registry.current(),
      plan,
      dialled: input.number,
      startMs: input.startMs,
    });
  }

  /** The cost of a call of a given length, and/or the longest call a balance pays for. */
  quote(input: QuoteInput): Result<Quote, RatingRefusalCode> {
    const routed = this.route(input);
    if (!routed.ok) return routed;
    const route = routed.value;
    const costMinor =
      input.durationSeconds === undefined
        ? null
        : cost(route.rate, input.startMs, input.durationSeconds);
    const allowanceSeconds =
      input.balanceMinor === undefined
        ? null
        : allowance(route.rate, input.startMs, input.balanceMinor);
    return ok({ route, costMinor, allowanceSeconds });
  }
}

/** What is wrong with a plan's id, name or rules, in a sentence; null when nothing is. */
function ratingPlanProblem(input: RatingPlanInput): string | null {
  if (!ratingPlanIdPattern.test(input.id))
    return 'A rating plan id is 1-64 of a-z, 0-9, _ and -, starting with a letter or digit.';
  if (input.name.trim() === '' || input.name.length > ratingPlanNameMax)
    return `A rating plan name is 1-${ratingPlanNameMax} characters.`;
  const currencies = Object.keys(input.routing);
  if (currencies.length === 0) return 'A rating plan needs rules for at least one currency.';
  for (const currency of currencies) {
    if (!isCurrency(currency)) return `${currency} is not a currency Tollgate knows.`;
    const routing = input.routing[currency]!;
    if (routing.selection.kind === 'least_cost' && routing.selection.carrierIds.length === 0)
      return `The ${currency} rules name no carrier to choose the least cost from.`;
    const bad = routing.barredPrefixes.find((prefix) => !barredPrefixPattern.test(prefix));
    if (bad !== undefined) return `The barred prefix "${bad}" is not 1-20 digits.`;
  }
  return null;
}

function cgratesFiles(files: Readonly<Record<string, string>>): CgratesTariffPlanFiles {
  return {
    destinations: files.destinations ?? '',
    rates: files.rates ?? '',
    destinationRates: files.destinationRates ?? files.destination_rates ?? '',
    timings: files.timings ?? '',
    ratingPlans: files.ratingPlans ?? files.rating_plans ?? '',
  };
}

function versionOf(record: TariffVersionRecord): TariffVersion {
  return {
    carrierId: record.carrierId,
    currency: record.currency,
    timeZone: record.timeZone,
    roundingMode: record.roundingMode,
    periodPolicy: record.periodPolicy,
    effectiveFromMs: record.effectiveFromMs,
    ...(record.effectiveToMs !== null ? { effectiveToMs: record.effectiveToMs } : {}),
  };
}

/** Which stored version an in-memory index came from, so a refresh can keep what it has. */
const versionIds = new WeakMap<TariffIndex, string>();

function tagVersionId(index: TariffIndex, versionId: string): TariffIndex {
  versionIds.set(index, versionId);
  return index;
}

function versionIdOf(index: TariffIndex): string | undefined {
  return versionIds.get(index);
}
