// Imports one rating plan from a CGRateS tariff plan (the CSV files cgr-loader reads):
// Destinations.csv, Rates.csv, DestinationRates.csv, Timings.csv and RatingPlans.csv.
//
// How CGRateS concepts map:
// - A destination id becomes a Tollgate destination of that name; its prefixes route to it
//   ('+' dropped; the "*any" destination becomes the catch-all prefix).
// - A rate group (Rates.csv rows sharing an id) becomes terms. Rate/RateUnit is scaled to a
//   price per minute. One interval (GroupIntervalStart 0s) gives equal initial and subsequent
//   increments; two intervals where the second starts where the first's increment ends (0s with
//   60s increments, then 60s with 1s increments) give the initial increment and its own price,
//   then the subsequent increment. Any other shape cannot be expressed and is reported.
// - DestinationRates: RoundingMethod *up, *down, *middle become up, down, half_up (one mode per
//   tariff); MaxCost with *free becomes the per-call maximum charge. MaxCost with *disconnect
//   ends the call instead of capping its price, which Tollgate rates do not do: reported.
//   RoundingDecimals other than the currency's minor digits is a warning, since Tollgate always
//   rounds a call's total to the minor unit.
// - Timings with Years, Months and MonthDays "*any" become weekly periods. As in CGRateS, a
//   timing holds from its start time to the end of each matching day; where several hold, the
//   higher weight wins, then the one that started last. The terms that hold longest in the week
//   become the base terms, the others periods named after their timing tag.

import type { Currency } from '../money/money.ts';
import { currencyScale } from '../money/money.ts';
import type { RoundingMode } from '../money/rounding.ts';
import { type CsvRecord, type ImportResult, IssueLog, readCsvRecords } from './import-issues.ts';
import { parsePriceNanos, priceRefusalMessage } from './price.ts';
import {
  type Destination,
  type IsoWeekday,
  isoWeekdays,
  isPrefix,
  type PrefixRoute,
  type RatePeriod,
  type RateTerms,
  rateProblems,
  roundingModeDefault,
  secondsPerDay,
  type TariffData,
  type TariffVersion,
  termsKey,
  termsProblems,
  versionProblems,
} from './tariff.ts';

/** The five files' texts. Issues name them by their standard file names. */
export interface CgratesTariffPlanFiles {
  readonly destinations: string;
  readonly rates: string;
  readonly destinationRates: string;
  readonly timings: string;
  readonly ratingPlans: string;
}

export interface CgratesImportOptions {
  readonly carrierId: string;
  readonly currency: Currency;
  readonly effectiveFromMs: number;
  readonly effectiveToMs?: number;
  /** The zone timings are read in (CGRateS uses its server's zone); default UTC. */
  readonly timeZone?: string;
  /** Which plan of RatingPlans.csv to import; may be omitted when the file holds one. */
  readonly ratingPlanId?: string;
  /** Overrides the rounding taken from DestinationRates.csv. */
  readonly roundingMode?: RoundingMode;
}

const files = {
  destinations: 'Destinations.csv',
  rates: 'Rates.csv',
  destinationRates: 'DestinationRates.csv',
  timings: 'Timings.csv',
  ratingPlans: 'RatingPlans.csv',
} as const;

const anyText = '*any';

interface RateSlot {
  readonly line: number;
  readonly connectFeeNanos: bigint;
  readonly rateNanos: bigint;
  readonly unitSeconds: number;
  readonly incrementSeconds: number;
  readonly groupStartSeconds: number;
}

interface DestinationRateRow {
  readonly line: number;
  readonly destinationId: string;
  readonly ratesTag: string;
  readonly roundingMode: RoundingMode | undefined;
  readonly roundingDecimals: number;
  readonly maximumChargeNanos: bigint | undefined;
}

interface Timing {
  readonly line: number;
  readonly weekdays: readonly IsoWeekday[];
  readonly startSecond: number;
}

/** A rate that may hold for a destination: the join of one RatingPlans row with one DR row. */
interface Candidate {
  readonly tag: string;
  readonly terms: RateTerms;
  readonly timing: Timing;
  readonly weight: number;
  readonly line: number;
}

const durationPattern = /^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$/;

/** Parses a CGRateS duration ("60s", "1m", "1m30s", or a bare "0") into whole seconds. */
function parseDurationSeconds(text: string): number | undefined {
  if (text === '0') return 0;
  const match = durationPattern.exec(text);
  if (!match || text === '') return undefined;
  return Number(match[1] ?? 0) * 3_600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

function expectColumns(log: IssueLog, file: string, record: CsvRecord, count: number): boolean {
  if (record.fields.length === count) return true;
  log.error(file, record.line, `expected ${count} columns, found ${record.fields.length}`);
  return false;
}

function money(
  log: IssueLog,
  file: string,
  line: number,
  label: string,
  text: string,
): bigint | undefined {
  const nanos = parsePriceNanos(text === '' ? '0' : text);
  if (typeof nanos === 'string') {
    log.error(file, line, `${label}: ${priceRefusalMessage(nanos, text)}`);
    return undefined;
  }
  return nanos;
}

function readDestinations(
  text: string,
  log: IssueLog,
): Map<string, { prefix: string; line: number }[]> {
  const byId = new Map<string, { prefix: string; line: number }[]>();
  for (const record of readCsvRecords({ text, file: files.destinations, log })) {
    if (!expectColumns(log, files.destinations, record, 2)) continue;
    const [id, prefixText] = record.fields as [string, string];
    const prefix = prefixText.startsWith('+') ? prefixText.slice(1) : prefixText;
    if (prefix === '' || !isPrefix(prefix)) {
      log.error(files.destinations, record.line, `prefix "${prefixText}" is not 1 to 20 digits`);
      continue;
    }
    const list = byId.get(id) ?? [];
    list.push({ prefix, line: record.line });
    byId.set(id, list);
  }
  return byId;
}

function readRates(text: string, log: IssueLog): Map<string, RateSlot[]> {
  const byId = new Map<string, RateSlot[]>();
  const file = files.rates;
  for (const record of readCsvRecords({ text, file, log })) {
    if (!expectColumns(log, file, record, 6)) continue;
    const [id, connectText, rateText, unitText, incrementText, startText] =
      record.fields as string[];
    const line = record.line;
    const connectFeeNanos = money(log, file, line, 'ConnectFee', connectText!);
    const rateNanos = money(log, file, line, 'Rate', rateText!);
    const seconds = (label: string, value: string) => {
      const parsed = parseDurationSeconds(value);
      if (parsed === undefined) {
        log.error(
          file,
          line,
          `${label} "${value}" must be a whole-second duration such as 60s or 1m`,
        );
      }
      return parsed;
    };
    const unitSeconds = seconds('RateUnit', unitText!);
    const incrementSeconds = seconds('RateIncrement', incrementText!);
    const groupStartSeconds = seconds('GroupIntervalStart', startText!);
    if (unitSeconds === 0) log.error(file, line, 'RateUnit must be longer than 0s');
    if (incrementSeconds === 0) log.error(file, line, 'RateIncrement must be longer than 0s');
    if (
      connectFeeNanos === undefined ||
      rateNanos === undefined ||
      !unitSeconds ||
      !incrementSeconds ||
      groupStartSeconds === undefined
    ) {
      continue;
    }
    const slots = byId.get(id!) ?? [];
    slots.push({
      line,
      connectFeeNanos,
      rateNanos,
      unitSeconds,
      incrementSeconds,
      groupStartSeconds,
    });
    byId.set(id!, slots);
  }
  return byId;
}

function perMinuteNanos(log: IssueLog, slot: RateSlot): bigint | undefined {
  const scaled = slot.rateNanos * 60n;
  if (scaled % BigInt(slot.unitSeconds) !== 0n) {
    log.error(
      files.rates,
      slot.line,
      'Rate per RateUnit is not a whole number of nanos per minute',
    );
    return undefined;
  }
  return scaled / BigInt(slot.unitSeconds);
}

/** Turns a rate group's intervals into terms (without the charges DestinationRates adds). */
function rateTerms(log: IssueLog, id: string, slots: readonly RateSlot[]): RateTerms | undefined {
  const sorted = [...slots].sort((a, b) => a.groupStartSeconds - b.groupStartSeconds);
  const first = sorted[0]!;
  if (first.groupStartSeconds !== 0) {
    log.error(files.rates, first.line, `rate ${id} has no interval starting at 0s`);
    return undefined;
  }
  const firstPrice = perMinuteNanos(log, first);
  if (firstPrice === undefined) return undefined;
  if (sorted.length === 1) {
    return {
      connectFeeNanos: first.connectFeeNanos,
      pricePerMinuteNanos: firstPrice,
      initialIncrementSeconds: first.incrementSeconds,
      subsequentIncrementSeconds: first.incrementSeconds,
      minimumChargeNanos: 0n,
    };
  }
  const second = sorted[1]!;
  if (sorted.length > 2 || second.groupStartSeconds !== first.incrementSeconds) {
    log.error(
      files.rates,
      second.line,
      `rate ${id}: Tollgate has one initial increment then one subsequent increment; intervals must be 0s then the first RateIncrement (${first.incrementSeconds}s), and no more`,
    );
    return undefined;
  }
  if (second.connectFeeNanos !== 0n && second.connectFeeNanos !== first.connectFeeNanos) {
    log.error(
      files.rates,
      second.line,
      `rate ${id}: a connect fee is charged once, on the first interval`,
    );
    return undefined;
  }
  const secondPrice = perMinuteNanos(log, second);
  if (secondPrice === undefined) return undefined;
  return {
    connectFeeNanos: first.connectFeeNanos,
    pricePerMinuteNanos: secondPrice,
    ...(firstPrice === secondPrice ? {} : { initialPricePerMinuteNanos: firstPrice }),
    initialIncrementSeconds: first.incrementSeconds,
    subsequentIncrementSeconds: second.incrementSeconds,
    minimumChargeNanos: 0n,
  };
}

const roundingMethods: Record<string, RoundingMode> = {
  '*up': 'up',
  '*down': 'down',
  '*middle': 'half_up',
};

function readDestinationRate(log: IssueLog, record: CsvRecord): DestinationRateRow | undefined {
  const file = files.destinationRates;
  const [, destinationId, ratesTag, method, decimals, maxCost, strategy] =
    record.fields as string[];
  const line = record.line;
  const roundingMode = roundingMethods[method!];
  if (method !== '' && roundingMode === undefined) {
    log.error(file, line, `RoundingMethod "${method}" must be *up, *down or *middle`);
    return undefined;
  }
  const roundingDecimals = Number(decimals === '' ? '0' : decimals);
  if (!Number.isInteger(roundingDecimals) || roundingDecimals < 0) {
    log.error(file, line, `RoundingDecimals "${decimals}" must be a whole number`);
    return undefined;
  }
  const maxNanos = money(log, file, line, 'MaxCost', maxCost!);
  if (maxNanos === undefined) return undefined;
  if (maxNanos > 0n && strategy === '*disconnect') {
    log.error(
      file,
      line,
      'MaxCostStrategy *disconnect ends the call at MaxCost; Tollgate rates can only cap the price (*free)',
    );
    return undefined;
  }
  if (maxNanos > 0n && strategy !== '*free') {
    log.error(file, line, `MaxCost ${maxCost} needs MaxCostStrategy *free`);
    return undefined;
  }
  return {
    line,
    destinationId: destinationId!,
    ratesTag: ratesTag!,
    roundingMode,
    roundingDecimals,
    maximumChargeNanos: maxNanos > 0n ? maxNanos : undefined,
  };
}

/**
 * Rows by id. An id with a refused row is kept as `refused`: its refusal is already reported,
 * and the plans that use it are skipped rather than reported again.
 */
function readDestinationRates(
  text: string,
  log: IssueLog,
): Map<string, { rows: DestinationRateRow[]; refused: boolean }> {
  const byId = new Map<string, { rows: DestinationRateRow[]; refused: boolean }>();
  const file = files.destinationRates;
  for (const record of readCsvRecords({ text, file, log })) {
    if (!expectColumns(log, file, record, 7)) continue;
    const id = record.fields[0]!;
    const entry = byId.get(id) ?? { rows: [], refused: false };
    const row = readDestinationRate(log, record);
    if (row === undefined) entry.refused = true;
    else entry.rows.push(row);
    byId.set(id, entry);
  }
  return byId;
}

/** Timings by tag; a refused timing maps to undefined (its refusal is already reported). */
function readTimings(text: string, log: IssueLog): Map<string, Timing | undefined> {
  const byTag = new Map<string, Timing | undefined>([
    [anyText, { line: 0, weekdays: isoWeekdays, startSecond: 0 }],
  ]);
  const file = files.timings;
  for (const record of readCsvRecords({ text, file, log })) {
    if (!expectColumns(log, file, record, 6)) continue;
    const [tag, years, months, monthDays, weekDays, time] = record.fields as string[];
    const line = record.line;
    byTag.set(tag!, undefined);
    if ([years, months, monthDays].some((field) => field !== anyText)) {
      log.error(
        file,
        line,
        `timing ${tag}: only weekly timings (Years, Months and MonthDays *any) can be mapped`,
      );
      continue;
    }
    let weekdays: IsoWeekday[] | undefined = [...isoWeekdays];
    if (weekDays !== anyText) {
      const days = weekDays!.split(';').map((day) => (day.trim() === '0' ? 7 : Number(day)));
      weekdays = days.every((day) => Number.isInteger(day) && day >= 1 && day <= 7)
        ? ([...new Set(days)].sort() as IsoWeekday[])
        : undefined;
    }
    if (weekdays === undefined) {
      log.error(
        file,
        line,
        `timing ${tag}: WeekDays "${weekDays}" must be *any or days 1 (Monday) to 7 (Sunday) separated by ;`,
      );
      continue;
    }
    const clock = /^([0-9]{2}):([0-9]{2}):([0-9]{2})$/.exec(time!);
    const startSecond = clock
      ? Number(clock[1]) * 3_600 + Number(clock[2]) * 60 + Number(clock[3])
      : undefined;
    if (startSecond === undefined || startSecond >= secondsPerDay) {
      log.error(
        file,
        line,
        `timing ${tag}: Time "${time}" must be a start time such as 08:00:00 (*asap depends on the load time and cannot be mapped)`,
      );
      continue;
    }
    byTag.set(tag!, { line, weekdays, startSecond });
  }
  return byTag;
}

/** The winner at one moment: higher weight, then the latest start (CGRateS's nearest left margin). */
function winnerAt(
  candidates: readonly Candidate[],
  weekday: IsoWeekday,
  second: number,
): Candidate[] {
  let best: Candidate[] = [];
  for (const candidate of candidates) {
    if (!candidate.timing.weekdays.includes(weekday) || candidate.timing.startSecond > second)
      continue;
    const leader = best[0];
    const better =
      leader === undefined ||
      candidate.weight > leader.weight ||
      (candidate.weight === leader.weight &&
        candidate.timing.startSecond > leader.timing.startSecond);
    if (better) best = [candidate];
    else if (
      candidate.weight === leader.weight &&
      candidate.timing.startSecond === leader.timing.startSecond
    ) {
      best.push(candidate);
    }
  }
  return best;
}

function clock(second: number): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(Math.floor(second / 3_600))}:${pad(Math.floor((second % 3_600) / 60))}:${pad(second % 60)}`;
}

/** Flattens a destination's candidates into base terms plus weekly periods. */
function destinationRate(
  log: IssueLog,
  destinationId: string,
  candidates: readonly Candidate[],
): { terms: RateTerms; periods: RatePeriod[] } | undefined {
  const windows: { weekday: IsoWeekday; from: number; to: number; winner: Candidate }[] = [];
  let valid = true;
  for (const weekday of isoWeekdays) {
    const starts = [
      ...new Set([
        0,
        ...candidates
          .filter((c) => c.timing.weekdays.includes(weekday))
          .map((c) => c.timing.startSecond),
      ]),
    ].sort((a, b) => a - b);
    starts.forEach((from, index) => {
      const to = starts[index + 1] ?? secondsPerDay;
      const winners = winnerAt(candidates, weekday, from);
      const keys = new Set(winners.map((winner) => termsKey(winner.terms)));
      if (winners.length === 0) {
        log.error(
          files.ratingPlans,
          candidates[0]!.line,
          `destination ${destinationId} has no rate on weekday ${weekday} from ${clock(from)} to ${clock(to)}`,
        );
        valid = false;
      } else if (keys.size > 1) {
        log.error(
          files.ratingPlans,
          winners[1]!.line,
          `destination ${destinationId}: rows on lines ${winners.map((w) => w.line).join(', ')} hold at once with equal weight and start; which rate applies is ambiguous`,
        );
        valid = false;
      } else {
        windows.push({ weekday, from, to, winner: winners[0]! });
      }
    });
  }
  if (!valid) return undefined;
  const coverage = new Map<string, number>();
  for (const window of windows) {
    const key = termsKey(window.winner.terms);
    coverage.set(key, (coverage.get(key) ?? 0) + window.to - window.from);
  }
  const baseKey = [...coverage.entries()].reduce((best, entry) =>
    entry[1] > best[1] ? entry : best,
  )[0];
  const base = windows.find((window) => termsKey(window.winner.terms) === baseKey)!.winner.terms;
  const periods = new Map<string, RatePeriod & { weekdays: IsoWeekday[] }>();
  for (const window of windows) {
    if (termsKey(window.winner.terms) === baseKey) continue;
    const key = `${window.from}-${window.to}-${window.winner.tag}-${termsKey(window.winner.terms)}`;
    const existing = periods.get(key);
    if (existing) existing.weekdays.push(window.weekday);
    else
      periods.set(key, {
        name: window.winner.tag,
        weekdays: [window.weekday],
        fromSecondOfDay: window.from,
        toSecondOfDay: window.to,
        terms: window.winner.terms,
      });
  }
  return { terms: base, periods: [...periods.values()] };
}

/** The parsed files. */
interface TariffPlan {
  readonly destinations: Map<string, { prefix: string; line: number }[]>;
  readonly rateSlots: Map<string, RateSlot[]>;
  readonly destinationRates: Map<string, { rows: DestinationRateRow[]; refused: boolean }>;
  readonly timings: Map<string, Timing | undefined>;
  readonly planRows: readonly CsvRecord[];
}

/** The plan to import: the one named, or the only one in the file. */
function choosePlan(
  log: IssueLog,
  plan: TariffPlan,
  wanted: string | undefined,
): string | undefined {
  const planIds = [...new Set(plan.planRows.map((record) => record.fields[0]!))];
  const held = planIds.join(', ') || 'none';
  const planId = wanted ?? (planIds.length === 1 ? planIds[0] : undefined);
  if (planId !== undefined && planIds.includes(planId)) return planId;
  log.error(
    files.ratingPlans,
    0,
    wanted === undefined
      ? `choose a rating plan: the file holds ${held}`
      : `rating plan ${wanted} not found (the file holds ${held})`,
  );
  return undefined;
}

/** What the chosen plan says may hold for each destination, and what it could not say. */
interface PlanCandidates {
  readonly byDestination: Map<string, Candidate[]>;
  /** Destinations that lost a rate to an error reported elsewhere: not checked for gaps. */
  readonly incomplete: Set<string>;
  readonly usedRows: DestinationRateRow[];
}

function collectCandidates(log: IssueLog, plan: TariffPlan, planId: string): PlanCandidates {
  const found: PlanCandidates = { byDestination: new Map(), incomplete: new Set(), usedRows: [] };
  const terms = new Map<string, RateTerms | undefined>();
  const termsFor = (tag: string) => {
    if (!terms.has(tag)) {
      const slots = plan.rateSlots.get(tag);
      terms.set(tag, slots === undefined ? undefined : rateTerms(log, tag, slots));
    }
    return terms.get(tag);
  };
  for (const record of plan.planRows) {
    const [id, drId, timingTag, weightText] = record.fields as string[];
    if (id !== planId) continue;
    const line = record.line;
    const entry = plan.destinationRates.get(drId!);
    const timing = plan.timings.get(timingTag!);
    const weight = Number(weightText);
    if (entry === undefined) {
      log.error(
        files.ratingPlans,
        line,
        `destination rates ${drId} not found in ${files.destinationRates}`,
      );
    }
    if (!plan.timings.has(timingTag!)) {
      log.error(files.ratingPlans, line, `timing ${timingTag} not found in ${files.timings}`);
    }
    if (weightText === '' || !Number.isFinite(weight)) {
      log.error(files.ratingPlans, line, `Weight "${weightText}" must be a number`);
    }
    if (entry === undefined) continue;
    if (entry.refused || timing === undefined || !Number.isFinite(weight)) {
      for (const row of entry.rows) found.incomplete.add(row.destinationId);
      continue;
    }
    for (const row of entry.rows) {
      const candidate = candidateOf({ log, plan, row, terms: termsFor(row.ratesTag) });
      if (candidate === 'skip') continue;
      if (candidate === undefined) {
        found.incomplete.add(row.destinationId);
        continue;
      }
      found.usedRows.push(row);
      const list = found.byDestination.get(row.destinationId) ?? [];
      list.push({ tag: timingTag!, terms: candidate, timing, weight, line });
      found.byDestination.set(row.destinationId, list);
    }
  }
  return found;
}

/** The terms one DestinationRates row gives, undefined when refused, 'skip' when dangling. */
function candidateOf(args: {
  log: IssueLog;
  plan: TariffPlan;
  row: DestinationRateRow;
  terms: RateTerms | undefined;
}): RateTerms | undefined | 'skip' {
  const { log, plan, row } = args;
  if (!plan.rateSlots.has(row.ratesTag)) {
    log.error(files.destinationRates, row.line, `rate ${row.ratesTag} not found in ${files.rates}`);
  }
  if (row.destinationId !== anyText && !plan.destinations.has(row.destinationId)) {
    log.error(
      files.destinationRates,
      row.line,
      `destination ${row.destinationId} not found in ${files.destinations}`,
    );
    return 'skip';
  }
  if (args.terms === undefined) return undefined;
  const withCharges: RateTerms = {
    ...args.terms,
    ...(row.maximumChargeNanos === undefined ? {} : { maximumChargeNanos: row.maximumChargeNanos }),
  };
  const problems = termsProblems(withCharges);
  for (const problem of problems) {
    log.error(files.destinationRates, row.line, `${row.ratesTag}: ${problem}`);
  }
  return problems.length === 0 ? withCharges : undefined;
}

/** Destinations and routes from the candidates; prefixes shared by two destinations are errors. */
function assembleTariff(
  log: IssueLog,
  plan: TariffPlan,
  planId: string,
  found: PlanCandidates,
): { destinations: Destination[]; routes: PrefixRoute[] } {
  const destinations: Destination[] = [];
  const routes: PrefixRoute[] = [];
  const routedBy = new Map<string, { destinationId: string; line: number }>();
  for (const [destinationId, candidates] of [...found.byDestination.entries()].sort()) {
    if (found.incomplete.has(destinationId)) continue;
    const rate = destinationRate(log, destinationId, candidates);
    if (rate === undefined) continue;
    for (const problem of rateProblems(rate)) {
      log.error(files.ratingPlans, candidates[0]!.line, `${destinationId}: ${problem}`);
    }
    const index = destinations.push({ name: destinationId, rate }) - 1;
    const prefixes =
      destinationId === anyText
        ? [{ prefix: '', line: candidates[0]!.line }]
        : plan.destinations.get(destinationId)!;
    for (const { prefix, line } of prefixes) {
      const earlier = routedBy.get(prefix);
      if (earlier !== undefined && earlier.destinationId !== destinationId) {
        log.error(
          files.destinations,
          line,
          `prefix ${prefix} is in both ${earlier.destinationId} (line ${earlier.line}) and ${destinationId}, both rated by plan ${planId}`,
        );
      }
      if (earlier !== undefined) continue;
      routedBy.set(prefix, { destinationId, line });
      routes.push({ prefix, destinationIndex: index });
    }
  }
  return { destinations, routes };
}

/**
 * Imports one rating plan of a CGRateS tariff plan as a Tollgate tariff version.
 *
 * @example
 * importCgratesTariffPlan(
 *   { destinations, rates, destinationRates, timings, ratingPlans },
 *   { carrierId: 'cgr', currency: 'EUR', effectiveFromMs: Date.UTC(2026, 0, 1), ratingPlanId: 'RP_RETAIL' },
 * );
 */
export function importCgratesTariffPlan(
  texts: CgratesTariffPlanFiles,
  options: CgratesImportOptions,
): ImportResult<TariffData> {
  const log = new IssueLog();
  const plan: TariffPlan = {
    destinations: readDestinations(texts.destinations, log),
    rateSlots: readRates(texts.rates, log),
    destinationRates: readDestinationRates(texts.destinationRates, log),
    timings: readTimings(texts.timings, log),
    planRows: readCsvRecords({ text: texts.ratingPlans, file: files.ratingPlans, log }).filter(
      (record) => expectColumns(log, files.ratingPlans, record, 4),
    ),
  };
  const planId = choosePlan(log, plan, options.ratingPlanId);
  const found =
    planId === undefined
      ? { byDestination: new Map(), incomplete: new Set<string>(), usedRows: [] }
      : collectCandidates(log, plan, planId);
  const roundingMode = resolveRounding(log, found.usedRows, options);
  const scale = currencyScale(options.currency);
  const warned = new Set<number>();
  for (const row of found.usedRows) {
    if (row.roundingDecimals === scale || warned.has(row.line)) continue;
    warned.add(row.line);
    log.warn(
      files.destinationRates,
      row.line,
      `RoundingDecimals ${row.roundingDecimals}: Tollgate rounds each call's total once to ${scale} decimals (the ${options.currency} minor unit)`,
    );
  }
  const version: TariffVersion = {
    carrierId: options.carrierId,
    currency: options.currency,
    timeZone: options.timeZone ?? 'UTC',
    roundingMode,
    periodPolicy: 'per_increment',
    effectiveFromMs: options.effectiveFromMs,
    ...(options.effectiveToMs === undefined ? {} : { effectiveToMs: options.effectiveToMs }),
  };
  for (const problem of versionProblems(version)) log.error(files.ratingPlans, 0, problem);
  const tariff =
    planId === undefined
      ? { destinations: [], routes: [] }
      : assembleTariff(log, plan, planId, found);
  return log.result(() => ({ version, ...tariff }));
}

function resolveRounding(
  log: IssueLog,
  rows: readonly DestinationRateRow[],
  options: CgratesImportOptions,
): RoundingMode {
  if (options.roundingMode !== undefined) return options.roundingMode;
  const first = rows.find((row) => row.roundingMode !== undefined);
  if (first === undefined) return roundingModeDefault;
  for (const row of rows) {
    if (row.roundingMode !== undefined && row.roundingMode !== first.roundingMode) {
      log.error(
        files.destinationRates,
        row.line,
        `RoundingMethod differs from line ${first.line}: a Tollgate tariff has one rounding mode (or pass one)`,
      );
    }
  }
  return first.roundingMode!;
}
