import { describe, expect, it } from 'vitest';
import { importCgratesTariffPlan } from './cgrates-import.ts';
import { cost } from './cost.ts';
import { cgratesUnmappable, cgrates as files } from './fixtures/fixtures.ts';
import { buildTariffIndex } from './tariff-index.ts';

const options = {
  carrierId: 'cgr',
  currency: 'USD',
  effectiveFromMs: Date.UTC(2026, 0, 1),
  ratingPlanId: 'RP_RETAIL',
} as const;

const mondayUtcMs = Date.UTC(2026, 0, 5);
const hourMs = 3_600_000;

describe('importCgratesTariffPlan', () => {
  it('given the tutorial-shaped plan, then destinations, periods and charges map', () => {
    const result = importCgratesTariffPlan(files, options);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const { version, destinations, routes } = result.value;
    expect(version.roundingMode).toBe('up');
    expect(
      routes.map((route) => `${route.prefix}>${destinations[route.destinationIndex]!.name}`).sort(),
    ).toEqual([
      '1002>DST_1002',
      '1003>DST_1003',
      '10>DST_FS',
      '49151>DST_DE_MOBILE',
      '49161>DST_DE_MOBILE',
      '49171>DST_DE_MOBILE',
    ]);
    const local = destinations.find((destination) => destination.name === 'DST_1002')!;
    // Off-peak holds 113 hours a week against peak's 55, so off-peak is the base.
    expect(local.rate.terms).toEqual({
      connectFeeNanos: 200_000_000n,
      pricePerMinuteNanos: 50_000_000n,
      initialPricePerMinuteNanos: 100_000_000n,
      initialIncrementSeconds: 60,
      subsequentIncrementSeconds: 1,
      minimumChargeNanos: 0n,
    });
    expect(
      local.rate.periods.map((period) => [
        period.name,
        period.weekdays,
        period.fromSecondOfDay,
        period.toSecondOfDay,
      ]),
    ).toEqual([['PEAK', [1, 2, 3, 4, 5], 8 * 3_600, 19 * 3_600]]);
    const mobile = destinations.find((destination) => destination.name === 'DST_DE_MOBILE')!;
    expect(mobile.rate.terms.maximumChargeNanos).toBe(2_500_000_000n);
  });

  it('given the plan, then RoundingDecimals finer than cents is a warning on its line', () => {
    const result = importCgratesTariffPlan(files, options);
    expect(result.warnings).toEqual([
      {
        file: 'DestinationRates.csv',
        line: 5,
        message:
          "RoundingDecimals 4: Tollgate rounds each call's total once to 2 decimals (the USD minor unit)",
      },
    ]);
  });

  it('given the imported plan, then calls cost what CGRateS charges', () => {
    const result = importCgratesTariffPlan(files, options);
    if (!result.ok) throw new Error('fixture must import');
    const index = buildTariffIndex(result.value);
    const cases: [string, string, number, number, bigint][] = [
      // [given, dialled, start, seconds, then cents]
      [
        'peak: 0.40 connect, first minute 0.20, then 0.10/min by the second',
        '1002',
        mondayUtcMs + 10 * hourMs,
        61,
        61n,
      ],
      [
        'off-peak evening: 0.20 connect, 0.10, then 0.05/min',
        '1002',
        mondayUtcMs + 20 * hourMs,
        61,
        31n,
      ],
      ['weekend is off-peak', '1002', mondayUtcMs + 5 * 24 * hourMs + 10 * hourMs, 61, 31n],
      ['other 10xx numbers: always RT_10CNT', '1099', mondayUtcMs + 10 * hourMs, 120, 35n],
      [
        'German mobile: 0.0123/min in 30 s steps, an hour',
        '4915112345678',
        mondayUtcMs,
        3_600,
        74n,
      ],
      [
        'German mobile: MaxCost 2.5 *free caps four hours',
        '4915112345678',
        mondayUtcMs,
        4 * 3_600,
        250n,
      ],
      ['per-second destination', '1003', mondayUtcMs, 42, 42n],
    ];
    for (const [given, dialled, startMs, seconds, expected] of cases) {
      const match = index.match(dialled);
      expect(match, given).toBeDefined();
      expect(cost(match!.rate, startMs, seconds), given).toBe(expected);
    }
  });

  it('given no plan id and a file with two plans, then the import asks which', () => {
    const result = importCgratesTariffPlan(files, { ...options, ratingPlanId: undefined as never });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toContainEqual({
      file: 'RatingPlans.csv',
      line: 0,
      message: 'choose a rating plan: the file holds RP_RETAIL, RP_SPECIAL',
    });
  });

  it('given the other plan, then only its destinations are imported', () => {
    const result = importCgratesTariffPlan(files, { ...options, ratingPlanId: 'RP_SPECIAL' });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.value.routes.map((route) => route.prefix)).toEqual(['10']);
  });
});

describe('importCgratesTariffPlan with what cannot be mapped', () => {
  const result = importCgratesTariffPlan(cgratesUnmappable, {
    ...options,
    ratingPlanId: 'RP_RETAIL1',
  });
  const cases: [string, string, number, string][] = [
    // [given, file, line, message excerpt]
    ['a prefix with letters', 'Destinations.csv', 6, 'prefix "49abc" is not 1 to 20 digits'],
    [
      'a rate with a differently stepped first minute',
      'Rates.csv',
      5,
      'intervals must be 0s then the first RateIncrement (30s)',
    ],
    ['a float-like rate', 'Rates.csv', 7, 'Rate: "1e-3" is not a plain decimal price'],
    ['a RateUnit without unit', 'Rates.csv', 8, 'RateUnit "60" must be a whole-second duration'],
    [
      'MaxCost that disconnects',
      'DestinationRates.csv',
      4,
      'MaxCostStrategy *disconnect ends the call',
    ],
    [
      'an unknown rounding method',
      'DestinationRates.csv',
      5,
      'RoundingMethod "*nearest" must be *up, *down or *middle',
    ],
    ['a missing rate', 'DestinationRates.csv', 6, 'rate RT_MISSING not found in Rates.csv'],
    ['a yearly timing', 'Timings.csv', 4, 'timing CHRISTMAS: only weekly timings'],
    ['a load-time timing', 'Timings.csv', 5, 'timing ASAP: Time "*asap"'],
    ['a missing destination rate', 'RatingPlans.csv', 7, 'destination rates DR_MISSING not found'],
  ];
  it.each(cases)('given %s, then the error names %s line %i', (_given, file, line, message) => {
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(
      result.errors.some(
        (issue) => issue.file === file && issue.line === line && issue.message.includes(message),
      ),
      JSON.stringify(result.errors, null, 1),
    ).toBe(true);
  });
});
