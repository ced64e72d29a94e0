// The tariff model: versioned data that says what a call to a destination costs. A tariff version
// belongs to one carrier, has one currency, time zone and rounding mode, and maps dialled-number
// prefixes to destinations, each with a rate. This file owns the types, the limits and the
// checks that every importer and the store rely on; it computes no prices (see cost.ts).

import type { Currency } from '../money/money.ts';
import type { RoundingMode } from '../money/rounding.ts';

/** ISO weekday: 1 is Monday, 7 is Sunday. */
export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;
export const isoWeekdays: readonly IsoWeekday[] = [1, 2, 3, 4, 5, 6, 7];

/** Seconds in a day and in a week: the units of period boundaries. */
export const secondsPerDay = 86_400;
export const secondsPerWeek = 7 * secondsPerDay;

/** The longest billing increment we accept: one hour. */
export const incrementSecondsMax = 3_600;

/** The most digits a destination prefix may have. Real decks stop near 16. */
export const prefixDigitsMax = 20;

/**
 * The longest call an allowance may grant when money does not limit it (a per-call maximum
 * charge or a free destination makes cost flat): four hours, overridable per request.
 */
export const callDurationSecondsMax = 4 * 3_600;

/** The ceiling for an overridden call duration limit: one day. */
export const callDurationSecondsLimit = secondsPerDay;

/** Rounding used when a tariff does not name one: round up, never under-charging a fraction. */
export const roundingModeDefault: RoundingMode = 'up';

/**
 * How a call that crosses a period boundary is priced.
 * - `per_increment` (default): each increment is priced by the period in force at the instant
 *   that increment starts. Connect fee, minimum and maximum charge come from the period in force
 *   when the call starts.
 * - `call_start`: the whole call is priced by the period in force when it starts, as A2Billing
 *   does.
 */
export const periodPolicies = ['per_increment', 'call_start'] as const;
export type PeriodPolicy = (typeof periodPolicies)[number];

/**
 * What one call costs under one period. All money is in nanos (1e-9 of the tariff currency's
 * major unit) so that prices finer than a cent stay exact.
 *
 * Billing: the first increment lasts `initialIncrementSeconds` and is priced at
 * `initialPricePerMinuteNanos` (or `pricePerMinuteNanos` when absent); every later increment lasts
 * `subsequentIncrementSeconds` at `pricePerMinuteNanos`. An increment is charged in full as soon
 * as the call enters it. The connect fee is charged once per call. The total is raised to
 * `minimumChargeNanos` and capped at `maximumChargeNanos`, then rounded once to the minor unit.
 */
export interface RateTerms {
  readonly connectFeeNanos: bigint;
  readonly pricePerMinuteNanos: bigint;
  readonly initialPricePerMinuteNanos?: bigint;
  readonly initialIncrementSeconds: number;
  readonly subsequentIncrementSeconds: number;
  readonly minimumChargeNanos: bigint;
  readonly maximumChargeNanos?: bigint;
}

/**
 * A time-of-day / day-of-week window, in the tariff's local time zone, with its own terms.
 * `fromSecondOfDay` is inclusive and `toSecondOfDay` exclusive (86,400 for midnight at the end of
 * the day), so "peak, Monday to Friday, 08:00 to 19:00" is weekdays [1..5], 28,800, 68,400.
 * A window that runs past midnight is written as two periods.
 */
export interface RatePeriod {
  readonly name: string;
  readonly weekdays: readonly IsoWeekday[];
  readonly fromSecondOfDay: number;
  readonly toSecondOfDay: number;
  readonly terms: RateTerms;
}

/**
 * A destination's rate: `terms` apply whenever no period does. Periods are tried in order and
 * the first whose window holds the instant wins.
 */
export interface Rate {
  readonly terms: RateTerms;
  readonly periods: readonly RatePeriod[];
}

/** A named destination ("France Mobile") with its rate. Many prefixes may share one. */
export interface Destination {
  readonly name: string;
  readonly rate: Rate;
}

/** The version-level settings of a tariff. */
export interface TariffVersion {
  readonly carrierId: string;
  readonly currency: Currency;
  /** IANA time zone in which periods are read, such as "Europe/Paris". */
  readonly timeZone: string;
  readonly roundingMode: RoundingMode;
  readonly periodPolicy: PeriodPolicy;
  /** The version applies to calls starting at or after this instant... */
  readonly effectiveFromMs: number;
  /** ...and before this one, when set. */
  readonly effectiveToMs?: number;
}

/**
 * One prefix route: dialled numbers starting with `prefix` (the longest match wins) go to
 * `destinations[destinationIndex]`. The empty prefix is the catch-all route.
 */
export interface PrefixRoute {
  readonly prefix: string;
  readonly destinationIndex: number;
}

/** A whole tariff version as plain data: what importers produce and the store keeps. */
export interface TariffData {
  readonly version: TariffVersion;
  readonly destinations: readonly Destination[];
  readonly routes: readonly PrefixRoute[];
}

const prefixPattern = new RegExp(`^[0-9]{0,${prefixDigitsMax}}$`);

/** True for a digit string of 0 to `prefixDigitsMax` digits (the empty prefix is the catch-all). */
export function isPrefix(text: string): boolean {
  return prefixPattern.test(text);
}

const zoneChecks = new Map<string, boolean>();

/** True when the runtime knows the IANA time zone (checked once per name). */
export function isTimeZone(name: string): boolean {
  const known = zoneChecks.get(name);
  if (known !== undefined) return known;
  let valid = name.length > 0;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  } catch {
    valid = false;
  }
  zoneChecks.set(name, valid);
  return valid;
}

function isIncrement(seconds: number): boolean {
  return Number.isInteger(seconds) && seconds >= 1 && seconds <= incrementSecondsMax;
}

/** The problems with one set of terms, as sentences; empty when they are valid. */
export function termsProblems(terms: RateTerms): string[] {
  const problems: string[] = [];
  const money: [string, bigint | undefined][] = [
    ['connect fee', terms.connectFeeNanos],
    ['price per minute', terms.pricePerMinuteNanos],
    ['initial price per minute', terms.initialPricePerMinuteNanos],
    ['minimum charge', terms.minimumChargeNanos],
    ['maximum charge', terms.maximumChargeNanos],
  ];
  for (const [label, nanos] of money) {
    if (nanos !== undefined && nanos < 0n) problems.push(`${label} is negative`);
  }
  if (!isIncrement(terms.initialIncrementSeconds)) {
    problems.push(`initial increment must be 1 to ${incrementSecondsMax} whole seconds`);
  }
  if (!isIncrement(terms.subsequentIncrementSeconds)) {
    problems.push(`subsequent increment must be 1 to ${incrementSecondsMax} whole seconds`);
  }
  if (terms.maximumChargeNanos !== undefined) {
    if (terms.maximumChargeNanos < terms.minimumChargeNanos) {
      problems.push('maximum charge is below the minimum charge');
    }
    if (terms.maximumChargeNanos < terms.connectFeeNanos) {
      problems.push('maximum charge is below the connect fee');
    }
  }
  return problems;
}

/** The problems with a rate and its periods, as sentences; empty when it is valid. */
export function rateProblems(rate: Rate): string[] {
  const problems = termsProblems(rate.terms);
  for (const period of rate.periods) {
    const label = `period "${period.name}"`;
    if (period.weekdays.length === 0) problems.push(`${label} has no weekdays`);
    if (new Set(period.weekdays).size !== period.weekdays.length) {
      problems.push(`${label} repeats a weekday`);
    }
    if (period.weekdays.some((day) => !isoWeekdays.includes(day))) {
      problems.push(`${label} has a weekday outside 1 (Monday) to 7 (Sunday)`);
    }
    const { fromSecondOfDay: from, toSecondOfDay: to } = period;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > secondsPerDay) {
      problems.push(`${label} must lie within 00:00:00 and 24:00:00`);
    } else if (from >= to) {
      problems.push(`${label} must end after it starts (split a window that runs past midnight)`);
    }
    for (const problem of termsProblems(period.terms)) problems.push(`${label}: ${problem}`);
  }
  return problems;
}

/** The problems with version settings, as sentences; empty when they are valid. */
export function versionProblems(version: TariffVersion): string[] {
  const problems: string[] = [];
  if (version.carrierId.trim() === '') problems.push('carrier id is empty');
  if (!isTimeZone(version.timeZone)) problems.push(`unknown time zone "${version.timeZone}"`);
  if (!Number.isSafeInteger(version.effectiveFromMs)) {
    problems.push('effective-from is not a whole number of milliseconds');
  }
  if (version.effectiveToMs !== undefined) {
    if (!Number.isSafeInteger(version.effectiveToMs)) {
      problems.push('effective-to is not a whole number of milliseconds');
    } else if (version.effectiveToMs <= version.effectiveFromMs) {
      problems.push('effective-to is not after effective-from');
    }
  }
  return problems;
}

/** True when the version applies to a call starting at `startMs`. */
export function isVersionInForce(version: TariffVersion, startMs: number): boolean {
  return (
    startMs >= version.effectiveFromMs &&
    (version.effectiveToMs === undefined || startMs < version.effectiveToMs)
  );
}

/**
 * A stable text key for terms, used to share one destination among the many prefixes that carry
 * identical rates (a million-prefix deck usually has a few thousand distinct rates).
 */
export function termsKey(terms: RateTerms): string {
  return [
    terms.connectFeeNanos,
    terms.pricePerMinuteNanos,
    terms.initialPricePerMinuteNanos ?? '',
    terms.initialIncrementSeconds,
    terms.subsequentIncrementSeconds,
    terms.minimumChargeNanos,
    terms.maximumChargeNanos ?? '',
  ].join('/');
}

/** A stable text key for a destination (name, terms and periods). */
export function destinationKey(destination: Destination): string {
  const periods = destination.rate.periods.map(
    (period) =>
      `${period.name}@${period.weekdays.join('')}:${period.fromSecondOfDay}-${period.toSecondOfDay}=${termsKey(period.terms)}`,
  );
  return [destination.name, termsKey(destination.rate.terms), ...periods].join('|');
}
