// Rating as a service: carriers, tariff imports (Tollgate CSV, CGRateS tariff plans, A2Billing
// rate cards) into the store and the in-memory catalog, routing plans per currency, and quotes
// (the cost of a duration, or the allowance of a balance). The catalog is rebuilt from the store
// at start and refreshed when another process activates a tariff; a new catalog is swapped in
// whole, so a quote never waits for an import.

import type { Currency, Minor } from '../money/money.ts';
import type { RoundingMode } from '../money/rounding.ts';
import type { Clock } from '../shared/clock.ts';
import { newId } from '../shared/ids.ts';
import type { Caller } from '../shared/principal.ts';
import { ok, type Result } from '../shared/result.ts';
import type { WriteCommitter } from '../write-commands.ts';
import { type A2BillingColumn, importA2BillingRatecard } from './a2billing-import.ts';
import { type CgratesTariffPlanFiles, importCgratesTariffPlan } from './cgrates-import.ts';
import { allowance, cost } from './cost.ts';
import type { ImportIssue, ImportResult } from './import-issues.ts';
import { decodeRate, encodeRate } from './rate-json.ts';
import { type RatingRefusalCode, ratingRefusal } from './rating-commands.ts';
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

export interface QuoteInput {
  readonly number: string;
  readonly currency: Currency;
  readonly startMs: number;
  readonly durationSeconds?: number | undefined;
  readonly balanceMinor?: Minor | undefined;
}

export interface Quote {
  readonly route: Route;
  readonly costMinor: Minor | null;
  readonly allowanceSeconds: number | null;
}

export class RatingService {
  private readonly committer: WriteCommitter;
  private readonly reads: RatingReadStore;
  private readonly clock: Clock;
  readonly registry = new TariffRegistry();
  private plans = new Map<Currency, RoutingPlan>();
  private loadedVersionIds = new Set<string>();

  constructor(deps: { committer: WriteCommitter; reads: RatingReadStore; clock: Clock }) {
    this.committer = deps.committer;
    this.reads = deps.reads;
    this.clock = deps.clock;
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

  /** Chooses the carrier and rate for a number, as the charging engine will. */
  route(input: {
    number: string;
    currency: Currency;
    startMs: number;
  }): Result<Route, RatingRefusalCode> {
    const plan = this.plans.get(input.currency);
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
