// A rate made ready for pricing: terms turned into exact per-increment amounts, periods turned
// into one weekly schedule, and the walk that cuts a call into stretches with constant terms.
// cost.ts prices those stretches; this file decides which terms hold when.

import type { Currency } from '../money/money.ts';
import type { RoundingMode } from '../money/rounding.ts';
import { assert } from '../shared/assert.ts';
import {
  type IsoWeekday,
  type PeriodPolicy,
  type Rate,
  type RateTerms,
  rateProblems,
  secondsPerDay,
  secondsPerWeek,
  type TariffVersion,
} from './tariff.ts';
import { offsetSpanAt } from './zone-offsets.ts';

/**
 * Terms in the unit the pricing loop adds up: nanos times 60 ("sixtieths"), because an increment
 * of L seconds at P nanos per minute costs exactly P * L / 60 nanos, and keeping the factor 60
 * makes every sum an integer.
 */
export interface CompiledTerms {
  readonly connectSixtieths: bigint;
  readonly initialIncrementSeconds: number;
  readonly initialIncrementSixtieths: bigint;
  readonly subsequentIncrementSeconds: number;
  readonly subsequentIncrementSixtieths: bigint;
  readonly minimumSixtieths: bigint;
  readonly maximumSixtieths: bigint | undefined;
}

/**
 * Everything `cost` and `allowance` need to price calls to one destination under one tariff
 * version. Build it with `rateContext`; a `TariffIndex` builds one per destination.
 */
export interface RateContext {
  readonly currency: Currency;
  readonly roundingMode: RoundingMode;
  readonly timeZone: string;
  readonly periodPolicy: PeriodPolicy;
  readonly rate: Rate;
  /** Terms by schedule index: 0 is the rate's own terms, i + 1 is period i's. */
  readonly compiledTerms: readonly CompiledTerms[];
  /** Local second-of-week (0 is Monday 00:00:00) at which each schedule stretch starts. */
  readonly scheduleStartsSecondOfWeek: readonly number[];
  /** Index into `compiledTerms` for each stretch. */
  readonly scheduleTerms: readonly number[];
}

/** The stretches of one call: from `startsSecond[i]` (seconds into the call) `terms[i]` hold. */
export interface CallTimeline {
  readonly startsSecond: readonly number[];
  readonly terms: readonly CompiledTerms[];
}

const sixty = 60n;
const msPerSecond = 1_000;
/** 1970-01-05 was a Monday: local week arithmetic starts there. */
const firstMondayMs = 4 * secondsPerDay * msPerSecond;
const msPerWeek = secondsPerWeek * msPerSecond;

function compileTerms(terms: RateTerms): CompiledTerms {
  const initialPrice = terms.initialPricePerMinuteNanos ?? terms.pricePerMinuteNanos;
  return {
    connectSixtieths: terms.connectFeeNanos * sixty,
    initialIncrementSeconds: terms.initialIncrementSeconds,
    initialIncrementSixtieths: initialPrice * BigInt(terms.initialIncrementSeconds),
    subsequentIncrementSeconds: terms.subsequentIncrementSeconds,
    subsequentIncrementSixtieths:
      terms.pricePerMinuteNanos * BigInt(terms.subsequentIncrementSeconds),
    minimumSixtieths: terms.minimumChargeNanos * sixty,
    maximumSixtieths:
      terms.maximumChargeNanos === undefined ? undefined : terms.maximumChargeNanos * sixty,
  };
}

/** Which terms hold at a local second of the week: the first period that covers it, else 0. */
function termsIndexAt(rate: Rate, secondOfWeek: number): number {
  const weekday = Math.floor(secondOfWeek / secondsPerDay) + 1;
  const secondOfDay = secondOfWeek % secondsPerDay;
  const index = rate.periods.findIndex(
    (period) =>
      period.weekdays.includes(weekday as IsoWeekday) &&
      secondOfDay >= period.fromSecondOfDay &&
      secondOfDay < period.toSecondOfDay,
  );
  return index + 1;
}

/** Flattens first-match periods into one sorted weekly schedule of stretches. */
function compileSchedule(rate: Rate): { starts: number[]; terms: number[] } {
  const boundaries = new Set<number>([0]);
  for (const period of rate.periods) {
    for (const weekday of period.weekdays) {
      const dayStart = (weekday - 1) * secondsPerDay;
      boundaries.add(dayStart + period.fromSecondOfDay);
      // A period ending at 24:00 ends where the next day starts (Sunday's wraps to Monday 00:00).
      boundaries.add((dayStart + period.toSecondOfDay) % secondsPerWeek);
    }
  }
  const starts: number[] = [];
  const terms: number[] = [];
  for (const boundary of [...boundaries].sort((a, b) => a - b)) {
    const index = termsIndexAt(rate, boundary);
    if (terms[terms.length - 1] === index) continue;
    starts.push(boundary);
    terms.push(index);
  }
  return { starts, terms };
}

/**
 * Prepares a rate for pricing under a tariff version. Assumes the rate passed `rateProblems`
 * (importers check it and report each problem against its line).
 */
export function rateContext(version: TariffVersion, rate: Rate): RateContext {
  assert(rateProblems(rate).length === 0, `invalid rate: ${rateProblems(rate).join('; ')}`);
  const schedule = compileSchedule(rate);
  return {
    currency: version.currency,
    roundingMode: version.roundingMode,
    timeZone: version.timeZone,
    periodPolicy: version.periodPolicy,
    rate,
    compiledTerms: [rate.terms, ...rate.periods.map((period) => period.terms)].map(compileTerms),
    scheduleStartsSecondOfWeek: schedule.starts,
    scheduleTerms: schedule.terms,
  };
}

function stretchAt(context: RateContext, secondOfWeek: number): number {
  const starts = context.scheduleStartsSecondOfWeek;
  let index = 0;
  while (index + 1 < starts.length && starts[index + 1]! <= secondOfWeek) index += 1;
  return index;
}

function positiveModulo(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

/**
 * Cuts the first `horizonSeconds` of a call starting at `startMs` into stretches of constant
 * terms. Second x of the call is the instant startMs + 1000x; the terms at that instant are those
 * of the local wall-clock second it falls in. Daylight-saving changes move the local clock and so
 * the stretches, never the call's elapsed seconds.
 */
export function callTimeline(
  context: RateContext,
  startMs: number,
  horizonSeconds: number,
): CallTimeline {
  assert(Number.isSafeInteger(startMs), 'call start must be a whole number of ms');
  const compiled = context.compiledTerms;
  if (context.scheduleTerms.length === 1) {
    return { startsSecond: [0], terms: [compiled[context.scheduleTerms[0]!]!] };
  }
  const startsSecond: number[] = [];
  const terms: CompiledTerms[] = [];
  let lastIndex = -1;
  let second = 0;
  const limit = context.periodPolicy === 'call_start' ? 1 : Math.max(1, horizonSeconds);
  while (second < limit) {
    const instantMs = startMs + second * msPerSecond;
    const { offsetMs, untilMs } = offsetSpanAt(context.timeZone, instantMs);
    const localMs = instantMs + offsetMs;
    const intoWeekMs = positiveModulo(localMs - firstMondayMs, msPerWeek);
    const stretch = stretchAt(context, Math.floor(intoWeekMs / msPerSecond));
    const termsIndex = context.scheduleTerms[stretch]!;
    if (termsIndex !== lastIndex) {
      startsSecond.push(second);
      terms.push(compiled[termsIndex]!);
      lastIndex = termsIndex;
    }
    const nextStartSecondOfWeek = context.scheduleStartsSecondOfWeek[stretch + 1] ?? secondsPerWeek;
    const boundaryMs = localMs - intoWeekMs + nextStartSecondOfWeek * msPerSecond - offsetMs;
    const changeMs = Math.min(boundaryMs, untilMs);
    second = Math.ceil((changeMs - startMs) / msPerSecond);
  }
  return { startsSecond, terms };
}
