import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Currency } from '../money/money.ts';
import { type RoundingMode, roundingModes } from '../money/rounding.ts';
import { allowance, cost, largestSixtiethsWithin } from './cost.ts';
import { nanosToMinor } from './price.ts';
import { type RateContext, rateContext } from './rate-context.ts';
import type { IsoWeekday, RatePeriod, RateTerms } from './tariff.ts';
import { periodPolicies } from './tariff.ts';
import { offsetAtUncachedMs } from './zone-offsets.ts';

const zones = [
  'UTC',
  'Europe/Paris',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'America/St_Johns',
];
const currencies: Currency[] = ['USD', 'KRW', 'BHD'];

const increment = fc.oneof(fc.constantFrom(1, 6, 10, 30, 60), fc.integer({ min: 1, max: 120 }));
const nanosUpTo = (max: number) => fc.integer({ min: 0, max }).map(BigInt);

const termsArbitrary: fc.Arbitrary<RateTerms> = fc
  .record({
    connect: nanosUpTo(500_000_000),
    perMinute: fc.oneof(nanosUpTo(3_000_000_000), fc.constant(0n), nanosUpTo(50_000_000)),
    initialPerMinute: fc.option(nanosUpTo(3_000_000_000), { nil: undefined }),
    initial: increment,
    subsequent: increment,
    minimum: fc.oneof(fc.constant(0n), nanosUpTo(2_000_000_000)),
    maximumExtra: fc.option(nanosUpTo(20_000_000_000), { nil: undefined }),
  })
  .map((spec) => {
    // The maximum charge is never below the connect fee or the minimum charge.
    let floor = spec.connect;
    if (spec.minimum > floor) floor = spec.minimum;
    return {
      connectFeeNanos: spec.connect,
      pricePerMinuteNanos: spec.perMinute,
      initialIncrementSeconds: spec.initial,
      subsequentIncrementSeconds: spec.subsequent,
      minimumChargeNanos: spec.minimum,
      ...(spec.initialPerMinute === undefined
        ? {}
        : { initialPricePerMinuteNanos: spec.initialPerMinute }),
      ...(spec.maximumExtra === undefined ? {} : { maximumChargeNanos: floor + spec.maximumExtra }),
    };
  });

const periodArbitrary: fc.Arbitrary<RatePeriod> = fc
  .record({
    weekdays: fc.subarray([1, 2, 3, 4, 5, 6, 7] as IsoWeekday[], { minLength: 1 }),
    from: fc.integer({ min: 0, max: 86_399 }),
    length: fc.integer({ min: 1, max: 86_400 }),
    terms: termsArbitrary,
  })
  .map(({ weekdays, from, length, terms }) => ({
    name: 'period',
    weekdays,
    fromSecondOfDay: from,
    toSecondOfDay: Math.min(86_400, from + length),
    terms,
  }));

const contextArbitrary: fc.Arbitrary<RateContext> = fc
  .record({
    terms: termsArbitrary,
    periods: fc.array(periodArbitrary, { maxLength: 3 }),
    timeZone: fc.constantFrom(...zones),
    currency: fc.constantFrom(...currencies),
    roundingMode: fc.constantFrom(...roundingModes),
    periodPolicy: fc.constantFrom(...periodPolicies),
  })
  .map((spec) =>
    rateContext(
      {
        carrierId: 'prop',
        currency: spec.currency,
        timeZone: spec.timeZone,
        roundingMode: spec.roundingMode,
        periodPolicy: spec.periodPolicy,
        effectiveFromMs: 0,
      },
      { terms: spec.terms, periods: spec.periods },
    ),
  );

// Starts anywhere in 2025-2027, to the millisecond, so calls cross periods and DST changes.
const startArbitrary = fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 0, 1) });
const balanceArbitrary = fc.oneof(
  fc.bigInt({ min: 0n, max: 500n }),
  fc.bigInt({ min: 0n, max: 50_000n }),
);

/**
 * An independent, slow model of the pricing policy: it walks the call increment by increment and
 * asks Intl for the local time at every increment's start.
 */
function naiveCost(context: RateContext, startMs: number, durationSeconds: number): bigint {
  if (durationSeconds === 0) return 0n;
  const { rate } = context;
  const termsAt = (instantMs: number): RateTerms => {
    const localMs = instantMs + offsetAtUncachedMs(context.timeZone, instantMs);
    const weekday = ((new Date(localMs).getUTCDay() + 6) % 7) + 1;
    const secondOfDay = Math.floor((((localMs % 86_400_000) + 86_400_000) % 86_400_000) / 1_000);
    const period = rate.periods.find(
      (candidate) =>
        candidate.weekdays.includes(weekday as IsoWeekday) &&
        secondOfDay >= candidate.fromSecondOfDay &&
        secondOfDay < candidate.toSecondOfDay,
    );
    return period?.terms ?? rate.terms;
  };
  const first = termsAt(startMs);
  let total =
    first.connectFeeNanos * 60n +
    (first.initialPricePerMinuteNanos ?? first.pricePerMinuteNanos) *
      BigInt(first.initialIncrementSeconds);
  let second = first.initialIncrementSeconds;
  while (second < durationSeconds) {
    const current =
      context.periodPolicy === 'call_start' ? first : termsAt(startMs + second * 1_000);
    total += current.pricePerMinuteNanos * BigInt(current.subsequentIncrementSeconds);
    second += current.subsequentIncrementSeconds;
  }
  if (total < first.minimumChargeNanos * 60n) total = first.minimumChargeNanos * 60n;
  if (first.maximumChargeNanos !== undefined && total > first.maximumChargeNanos * 60n) {
    total = first.maximumChargeNanos * 60n;
  }
  return nanosToMinor({
    numeratorNanos: total,
    denominator: 60n,
    currency: context.currency,
    mode: context.roundingMode,
  });
}

describe('cost and allowance properties', () => {
  it('given any tariff, start and duration, then cost agrees with an increment-by-increment model', () => {
    fc.assert(
      fc.property(
        contextArbitrary,
        startArbitrary,
        fc.integer({ min: 0, max: 2_000 }),
        (context, startMs, seconds) => {
          expect(cost(context, startMs, seconds)).toBe(naiveCost(context, startMs, seconds));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('given calls that start on a period boundary or a daylight-saving change, then cost agrees with the model', () => {
    // Starts a few seconds (and milliseconds) around local midnight, 08:00 and the 2026 changes.
    const edges = [
      Date.UTC(2026, 0, 5, 6, 59, 58),
      Date.UTC(2026, 0, 4, 22, 59, 59),
      Date.UTC(2026, 2, 29, 0, 59, 30),
      Date.UTC(2026, 9, 25, 0, 59, 30),
      Date.UTC(2026, 2, 8, 6, 59, 30),
    ];
    fc.assert(
      fc.property(
        contextArbitrary,
        fc.constantFrom(...edges),
        fc.integer({ min: -5_000, max: 5_000 }),
        fc.integer({ min: 0, max: 600 }),
        (context, edgeMs, jitterMs, seconds) => {
          expect(cost(context, edgeMs + jitterMs, seconds)).toBe(
            naiveCost(context, edgeMs + jitterMs, seconds),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('given any tariff, when a call grows longer, then its cost never decreases', () => {
    fc.assert(
      fc.property(
        contextArbitrary,
        startArbitrary,
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 1, max: 3_000 }),
        (context, startMs, durationSeconds, extraSeconds) => {
          expect(cost(context, startMs, durationSeconds)).toBeLessThanOrEqual(
            cost(context, startMs, durationSeconds + extraSeconds),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('given any tariff and balance, then cost(allowance(b)) <= b < cost(allowance(b) + 1) unless capped', () => {
    fc.assert(
      fc.property(
        contextArbitrary,
        startArbitrary,
        balanceArbitrary,
        fc.integer({ min: 0, max: 86_400 }),
        (context, startMs, balance, limit) => {
          const seconds = allowance(context, startMs, balance, { durationSecondsMax: limit });
          expect(seconds).toBeGreaterThanOrEqual(0);
          expect(seconds).toBeLessThanOrEqual(limit);
          expect(cost(context, startMs, seconds)).toBeLessThanOrEqual(balance);
          if (seconds < limit) {
            expect(cost(context, startMs, seconds + 1)).toBeGreaterThan(balance);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('given a short duration limit, then allowance equals a second-by-second search', () => {
    fc.assert(
      fc.property(
        contextArbitrary,
        startArbitrary,
        balanceArbitrary,
        fc.integer({ min: 0, max: 400 }),
        (context, startMs, balance, limit) => {
          let longest = 0;
          for (let seconds = 1; seconds <= limit; seconds += 1) {
            if (cost(context, startMs, seconds) <= balance) longest = seconds;
          }
          expect(allowance(context, startMs, balance, { durationSecondsMax: limit })).toBe(longest);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('given any balance and mode, then the exact bound rounds within it and one more does not', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.constantFrom<RoundingMode>(...roundingModes),
        fc.constantFrom(...currencies),
        (balance, roundingMode, currency) => {
          const bound = largestSixtiethsWithin({ currency, roundingMode }, balance);
          const round = (sixtieths: bigint) =>
            nanosToMinor({
              numeratorNanos: sixtieths,
              denominator: 60n,
              currency,
              mode: roundingMode,
            });
          expect(round(bound)).toBeLessThanOrEqual(balance);
          expect(round(bound + 1n)).toBeGreaterThan(balance);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
