// What a call costs, and its exact inverse: how long a call a balance pays for. Both walk the
// call's stretches of constant terms (rate-context.ts) and count whole increments per stretch
// arithmetically, so neither depends on the call's length in seconds: the charging engine asks
// for an allowance on every credit-control request.
//
// Policy, precisely:
// - A call of 0 seconds costs nothing: with no billable second it was never connected.
// - A call of d >= 1 seconds pays the connect fee once, then every increment that starts before
//   second d, each in full. The first increment starts at second 0; each next one starts where
//   the previous ended. An increment's length and price come from the terms in force at the
//   instant it starts (under the `call_start` policy, the terms at the call's start).
// - Connect fee, minimum and maximum charge come from the terms in force when the call starts.
// - The exact total is raised to the minimum charge, capped at the maximum charge, and rounded
//   once to the minor unit with the tariff's rounding mode.

import type { Minor } from '../money/money.ts';
import { currencyScale } from '../money/money.ts';
import type { RoundingMode } from '../money/rounding.ts';
import { assert } from '../shared/assert.ts';
import { nanosToMinor } from './price.ts';
import {
  type CallTimeline,
  type CompiledTerms,
  callTimeline,
  type RateContext,
} from './rate-context.ts';
import { callDurationSecondsLimit, callDurationSecondsMax } from './tariff.ts';

const sixty = 60n;

function roundSixtieths(context: RateContext, sixtieths: bigint): Minor {
  return nanosToMinor({
    numeratorNanos: sixtieths,
    denominator: sixty,
    currency: context.currency,
    mode: context.roundingMode,
  });
}

function clampToCharges(first: CompiledTerms, sixtieths: bigint): bigint {
  let total = sixtieths < first.minimumSixtieths ? first.minimumSixtieths : sixtieths;
  if (first.maximumSixtieths !== undefined && total > first.maximumSixtieths) {
    total = first.maximumSixtieths;
  }
  return total;
}

/** The exact, unrounded total of a call of `durationSeconds` >= 1, in sixtieths of a nano. */
function exactTotalSixtieths(timeline: CallTimeline, durationSeconds: number): bigint {
  const { startsSecond, terms } = timeline;
  const first = terms[0]!;
  let total = first.connectSixtieths + first.initialIncrementSixtieths;
  let second = first.initialIncrementSeconds;
  let stretch = 0;
  while (second < durationSeconds) {
    while (stretch + 1 < startsSecond.length && startsSecond[stretch + 1]! <= second) stretch += 1;
    const current = terms[stretch]!;
    const stretchEnd = Math.min(startsSecond[stretch + 1] ?? durationSeconds, durationSeconds);
    const increments = Math.ceil((stretchEnd - second) / current.subsequentIncrementSeconds);
    total += BigInt(increments) * current.subsequentIncrementSixtieths;
    second += increments * current.subsequentIncrementSeconds;
  }
  return clampToCharges(first, total);
}

/**
 * The cost of a call, in the tariff currency's minor unit, rounded once.
 *
 * @example
 * // 0.0123 USD per minute, 60/60 increments, rounding up: a 61-second call starts two
 * // minutes, 0.0246 USD exactly, charged as 3 cents.
 * cost(context, Date.UTC(2026, 0, 5, 12), 61) === 3n
 */
export function cost(context: RateContext, startMs: number, durationSeconds: number): Minor {
  assert(
    Number.isSafeInteger(durationSeconds) && durationSeconds >= 0,
    'duration must be whole seconds',
  );
  if (durationSeconds === 0) return 0n;
  const timeline = callTimeline(context, startMs, durationSeconds);
  return roundSixtieths(context, exactTotalSixtieths(timeline, durationSeconds));
}

/**
 * The largest exact total (in sixtieths of a nano) that still rounds to at most `balanceMinor`.
 * Rounding is monotonic, so "rounds to <= b" is "exact total <= this bound".
 */
export function largestSixtiethsWithin(
  context: { currency: RateContext['currency']; roundingMode: RoundingMode },
  balanceMinor: Minor,
): bigint {
  assert(balanceMinor >= 0n, 'balance must not be negative here');
  // One minor unit is `unit` sixtieths of a nano: 60 * 10^(9 - scale).
  const unit = sixty * 10n ** BigInt(9 - currencyScale(context.currency));
  const b = balanceMinor;
  switch (context.roundingMode) {
    case 'up':
      return b * unit;
    case 'down':
      return (b + 1n) * unit - 1n;
    case 'half_up':
      return ((2n * b + 1n) * unit - 1n) / 2n;
    case 'half_even':
      return ((2n * b + 1n) * unit - (b % 2n === 0n ? 0n : 1n)) / 2n;
  }
}

/**
 * The exact cost of a call before rounding, in sixtieths of a nano of the major unit. Least-cost
 * routing compares carriers with it so that two prices that round alike are still told apart.
 */
export function exactCostSixtieths(
  context: RateContext,
  startMs: number,
  durationSeconds: number,
): bigint {
  assert(
    Number.isSafeInteger(durationSeconds) && durationSeconds >= 0,
    'duration must be whole seconds',
  );
  if (durationSeconds === 0) return 0n;
  return exactTotalSixtieths(callTimeline(context, startMs, durationSeconds), durationSeconds);
}

/** Options for `allowance`. */
export interface AllowanceOptions {
  /**
   * The longest call to grant when money does not limit it (defaults to
   * `callDurationSecondsMax`, four hours; at most `callDurationSecondsLimit`).
   */
  readonly durationSecondsMax?: number;
}

/**
 * The longest call, in whole seconds, whose cost fits the balance: the exact inverse of `cost`.
 * For every balance b, cost(allowance(b)) <= b, and unless the allowance reached the duration
 * limit, cost(allowance(b) + 1) > b. The answer is always the end of an increment (or the limit).
 * It is 0 when not even the first increment, connect fee or minimum charge fits.
 *
 * @example allowance(context, Date.UTC(2026, 0, 5, 12), 100n) // seconds that 1.00 USD buys
 */
export function allowance(
  context: RateContext,
  startMs: number,
  balanceMinor: Minor,
  options: AllowanceOptions = {},
): number {
  const limitSeconds = options.durationSecondsMax ?? callDurationSecondsMax;
  assert(
    Number.isSafeInteger(limitSeconds) &&
      limitSeconds >= 0 &&
      limitSeconds <= callDurationSecondsLimit,
    'call duration limit out of range',
  );
  if (balanceMinor < 0n || limitSeconds === 0) return 0;
  const timeline = callTimeline(context, startMs, limitSeconds);
  const { startsSecond, terms } = timeline;
  const first = terms[0]!;
  // A maximum charge that fits the balance makes every duration affordable.
  if (first.maximumSixtieths !== undefined) {
    if (roundSixtieths(context, first.maximumSixtieths) <= balanceMinor) return limitSeconds;
  }
  if (roundSixtieths(context, first.minimumSixtieths) > balanceMinor) return 0;
  // With the minimum affordable and the maximum not, "cost <= b" is "exact total <= bound".
  const bound = largestSixtiethsWithin(context, balanceMinor);
  let total = first.connectSixtieths + first.initialIncrementSixtieths;
  if (total > bound) return 0;
  let second = first.initialIncrementSeconds;
  let stretch = 0;
  while (second < limitSeconds) {
    while (stretch + 1 < startsSecond.length && startsSecond[stretch + 1]! <= second) stretch += 1;
    const current = terms[stretch]!;
    const stretchEnd = Math.min(startsSecond[stretch + 1] ?? limitSeconds, limitSeconds);
    const increments = Math.ceil((stretchEnd - second) / current.subsequentIncrementSeconds);
    const price = current.subsequentIncrementSixtieths;
    if (price > 0n) {
      const affordable = (bound - total) / price;
      if (affordable < BigInt(increments)) {
        return Math.min(
          second + Number(affordable) * current.subsequentIncrementSeconds,
          limitSeconds,
        );
      }
    }
    total += BigInt(increments) * price;
    second += increments * current.subsequentIncrementSeconds;
  }
  return Math.min(second, limitSeconds);
}
