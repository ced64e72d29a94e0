import { describe, expect, it } from 'vitest';
import type { RoundingMode } from '../money/rounding.ts';
import { allowance, cost, exactCostSixtieths } from './cost.ts';
import { context, mondayUtcMs, terms, weekdayPeak } from './fixtures/rates.ts';
import type { RateContext } from './rate-context.ts';
import { callDurationSecondsMax } from './tariff.ts';

const hourMs = 3_600_000;
const minuteMs = 60_000;

/** Monday 5 January 2026 at a local Paris wall-clock time (UTC+1 in winter). */
function parisMonday(hours: number, minutes: number, seconds = 0): number {
  return mondayUtcMs + (hours - 1) * hourMs + minutes * minuteMs + seconds * 1_000;
}

const cents0123PerMinute = context(terms({ perMinute: '0.0123' }));
const sixCentsEvery6 = context(terms({ perMinute: '0.60', increments: [30, 6] }));
const perSecond = context(terms({ perMinute: '0.60', increments: [1, 1] }));
const withConnect = context(terms({ perMinute: '1.00', connect: '0.10' }));
const withMinimum = context(terms({ perMinute: '0.60', increments: [1, 1], minimum: '0.50' }));
const withMaximum = context(terms({ perMinute: '0.60', increments: [1, 1], maximum: '1.00' }));
const firstMinuteDearer = context(
  terms({ perMinute: '0.05', initialPerMinute: '0.10', increments: [60, 1] }),
);
const parisPeak = context(
  terms({ perMinute: '0.60' }),
  [weekdayPeak(terms({ perMinute: '1.20' }))],
  { timeZone: 'Europe/Paris' },
);
const parisPeakCallStart = context(
  terms({ perMinute: '0.60' }),
  [weekdayPeak(terms({ perMinute: '1.20' }))],
  { timeZone: 'Europe/Paris', periodPolicy: 'call_start' },
);
const parisPeakFineIncrements = context(
  terms({ perMinute: '0.60', increments: [30, 6] }),
  [weekdayPeak(terms({ perMinute: '1.20', increments: [30, 6], connect: '0.50' }))],
  { timeZone: 'Europe/Paris' },
);

describe('cost', () => {
  const cases: [string, RateContext, number, number, bigint][] = [
    // [given, rate, start, duration seconds, then cost in cents]
    ['no billable second costs nothing, not even the connect fee', withConnect, mondayUtcMs, 0, 0n],
    [
      '60/60: one second pays the first minute, 0.0123 rounded up',
      cents0123PerMinute,
      mondayUtcMs,
      1,
      2n,
    ],
    ['60/60: a full minute is still one increment', cents0123PerMinute, mondayUtcMs, 60, 2n],
    [
      '60/60: second 61 starts a second minute, 0.0246 -> 3',
      cents0123PerMinute,
      mondayUtcMs,
      61,
      3n,
    ],
    ['60/60: three started minutes, 0.0369 -> 4', cents0123PerMinute, mondayUtcMs, 121, 4n],
    ['30/6: one second pays the 30-second initial increment', sixCentsEvery6, mondayUtcMs, 1, 30n],
    ['30/6: 30 seconds stay within the initial increment', sixCentsEvery6, mondayUtcMs, 30, 30n],
    ['30/6: 31 seconds add one 6-second increment', sixCentsEvery6, mondayUtcMs, 31, 36n],
    ['30/6: 37 seconds add two', sixCentsEvery6, mondayUtcMs, 37, 42n],
    ['1/1: every second is paid on its own', perSecond, mondayUtcMs, 59, 59n],
    ['connect fee is charged once with the first minute', withConnect, mondayUtcMs, 1, 110n],
    ['connect fee is not charged again for the second minute', withConnect, mondayUtcMs, 61, 210n],
    ['a short call pays the minimum charge', withMinimum, mondayUtcMs, 10, 50n],
    ['a call above the minimum pays its own cost', withMinimum, mondayUtcMs, 60, 60n],
    ['below the maximum the call pays its cost', withMaximum, mondayUtcMs, 100, 100n],
    ['the maximum caps the cost', withMaximum, mondayUtcMs, 101, 100n],
    ['the maximum caps an hour-long call', withMaximum, mondayUtcMs, 3_600, 100n],
    [
      'initial increment at its own price, then per second',
      firstMinuteDearer,
      mondayUtcMs,
      61,
      11n,
    ],
    [
      '07:58 Paris, 3 minutes: two off-peak then one peak minute',
      parisPeak,
      parisMonday(7, 58),
      180,
      240n,
    ],
    [
      '07:58:30 Paris: the third minute starts 08:00:30, in peak',
      parisPeak,
      parisMonday(7, 58, 30),
      180,
      240n,
    ],
    ['07:58 Paris, 2 minutes: the call ends before peak', parisPeak, parisMonday(7, 58), 120, 120n],
    ['18:59 Paris: peak minute, then off-peak', parisPeak, parisMonday(18, 59), 120, 180n],
    [
      'call_start policy: a 07:58 call stays off-peak throughout',
      parisPeakCallStart,
      parisMonday(7, 58),
      180,
      180n,
    ],
    [
      'call_start policy: a 08:00 call is peak throughout',
      parisPeakCallStart,
      parisMonday(8, 0),
      180,
      360n,
    ],
    [
      '07:59:40 Paris, 30/6: initial off-peak, 6-second increments at peak prices after 08:00:10',
      parisPeakFineIncrements,
      parisMonday(7, 59, 40),
      42,
      54n,
    ],
    [
      'a call starting in peak pays the peak connect fee',
      parisPeakFineIncrements,
      parisMonday(8, 0),
      30,
      110n,
    ],
    ['Saturday 10:00 Paris is off-peak', parisPeak, parisMonday(10, 0) + 5 * 24 * hourMs, 60, 60n],
    ['Friday 10:00 Paris is peak', parisPeak, parisMonday(10, 0) + 4 * 24 * hourMs, 60, 120n],
  ];
  it.each(cases)('given %s', (_given, rate, startMs, durationSeconds, expected) => {
    expect(cost(rate, startMs, durationSeconds)).toBe(expected);
  });
});

describe('cost in the tariff time zone', () => {
  const peakIn = (timeZone: string) =>
    context(terms({ perMinute: '0.60' }), [weekdayPeak(terms({ perMinute: '1.20' }))], {
      timeZone,
    });
  // Monday 5 January 2026 13:00 UTC is 08:00 in New York, 14:00 in Paris, 22:00 in Tokyo.
  const startMs = mondayUtcMs + 13 * hourMs;
  it.each([
    ['America/New_York', 120n],
    ['Europe/Paris', 120n],
    ['Asia/Tokyo', 60n],
    ['Pacific/Kiritimati', 60n], // UTC+14: already Tuesday 03:00
    ['UTC', 120n],
  ] as const)(
    'given a 13:00 UTC Monday call under a %s tariff, then the minute costs %s',
    (timeZone, expected) => {
      expect(cost(peakIn(timeZone), startMs, 60)).toBe(expected);
    },
  );

  it('given a call across the spring-forward gap in Paris, then minutes follow the local clock', () => {
    // 29 March 2026: 02:00 local becomes 03:00 at 01:00 UTC. Peak is 03:00 to 04:00 local.
    const lateNight = context(
      terms({ perMinute: '0.60' }),
      [
        {
          name: 'peak',
          weekdays: [7],
          fromSecondOfDay: 3 * 3_600,
          toSecondOfDay: 4 * 3_600,
          terms: terms({ perMinute: '1.20' }),
        },
      ],
      { timeZone: 'Europe/Paris' },
    );
    const startMs = Date.UTC(2026, 2, 29, 0, 59); // 01:59 local, winter time
    // Minutes start at 01:59 (off-peak), 03:00 and 03:01 (summer time, peak).
    expect(cost(lateNight, startMs, 180)).toBe(300n);
  });

  it('given a call across the autumn change in Paris, then the repeated hour is priced by the local clock', () => {
    // 25 October 2026: 03:00 local becomes 02:00 at 01:00 UTC. Peak is 02:00 to 03:00 local.
    const lateNight = context(
      terms({ perMinute: '0.60' }),
      [
        {
          name: 'peak',
          weekdays: [7],
          fromSecondOfDay: 2 * 3_600,
          toSecondOfDay: 3 * 3_600,
          terms: terms({ perMinute: '1.20' }),
        },
      ],
      { timeZone: 'Europe/Paris' },
    );
    // 00:59 UTC is 02:59 summer time (peak); 01:00 UTC is 02:00 winter time (peak again).
    expect(cost(lateNight, Date.UTC(2026, 9, 25, 0, 59), 120)).toBe(240n);
    // One hour later, 01:59 UTC is 02:59 winter time (peak), 02:00 UTC is 03:00 (off-peak).
    expect(cost(lateNight, Date.UTC(2026, 9, 25, 1, 59), 120)).toBe(180n);
  });
});

describe('cost rounding modes', () => {
  // 0.30 per minute by the second is half a cent per second: exact halves test every mode.
  const halfCentPerSecond = (roundingMode: RoundingMode) =>
    context(terms({ perMinute: '0.30', increments: [1, 1] }), [], { roundingMode });
  const cases: [RoundingMode, number, bigint][] = [
    ['half_up', 1, 1n],
    ['half_even', 1, 0n],
    ['up', 1, 1n],
    ['down', 1, 0n],
    ['half_up', 3, 2n],
    ['half_even', 3, 2n],
    ['down', 3, 1n],
    ['half_up', 5, 3n],
    ['half_even', 5, 2n],
    ['up', 5, 3n],
    ['down', 5, 2n],
  ];
  it.each(cases)(
    'given rounding %s, when a call lasts %i s, then it costs %i cents',
    (mode, seconds, expected) => {
      expect(cost(halfCentPerSecond(mode), mondayUtcMs, seconds)).toBe(expected);
    },
  );

  it('given a sub-cent price of 0.0123 per minute by the second, then 100 s (0.0205) rounds once', () => {
    const byMode = (roundingMode: RoundingMode) =>
      cost(
        context(terms({ perMinute: '0.0123', increments: [1, 1] }), [], { roundingMode }),
        mondayUtcMs,
        100,
      );
    expect([byMode('up'), byMode('down'), byMode('half_up'), byMode('half_even')]).toEqual([
      3n,
      2n,
      2n,
      2n,
    ]);
  });

  it('given 0.0123 per minute, then rounding happens once per call, not per increment', () => {
    // Ten minutes cost 0.123 exactly: rounded up once that is 13 cents, where rounding each
    // minute up (to 2 cents) would have charged 20.
    expect(cost(cents0123PerMinute, mondayUtcMs, 600)).toBe(13n);
    expect(exactCostSixtieths(cents0123PerMinute, mondayUtcMs, 600)).toBe(123_000_000n * 60n);
  });

  it('given a currency without minor digits, then the cost rounds to whole units', () => {
    const won = context(terms({ perMinute: '12.5', increments: [1, 1] }), [], { currency: 'KRW' });
    expect(cost(won, mondayUtcMs, 60)).toBe(13n);
    expect(cost(won, mondayUtcMs, 120)).toBe(25n);
  });
});

describe('allowance', () => {
  const cases: [string, RateContext, number, bigint, number][] = [
    // [given, rate, start, balance in cents, then seconds]
    ['a balance that pays one 60/60 minute', cents0123PerMinute, mondayUtcMs, 2n, 60],
    ['a balance below the first increment', cents0123PerMinute, mondayUtcMs, 1n, 0],
    ['a balance that pays two minutes', cents0123PerMinute, mondayUtcMs, 3n, 120],
    ['30/6: 0.36 pays the initial increment and one more', sixCentsEvery6, mondayUtcMs, 36n, 36],
    ['30/6: 0.41 still pays only 36 s', sixCentsEvery6, mondayUtcMs, 41n, 36],
    ['the connect fee is taken first', withConnect, mondayUtcMs, 110n, 60],
    ['the connect fee alone does not fit', withConnect, mondayUtcMs, 109n, 0],
    ['the minimum charge does not fit', withMinimum, mondayUtcMs, 49n, 0],
    ['the minimum charge fits: 50 seconds', withMinimum, mondayUtcMs, 50n, 50],
    [
      'the maximum charge fits: the call is limited by duration only',
      withMaximum,
      mondayUtcMs,
      100n,
      callDurationSecondsMax,
    ],
    ['just below the maximum charge', withMaximum, mondayUtcMs, 99n, 99],
    [
      '07:58 Paris: 2.40 pays two off-peak and one peak minute',
      parisPeak,
      parisMonday(7, 58),
      240n,
      180,
    ],
    ['07:58 Paris: 2.39 stops before the peak minute', parisPeak, parisMonday(7, 58), 239n, 120],
    ['a negative balance', perSecond, mondayUtcMs, -5n, 0],
    ['an empty balance', perSecond, mondayUtcMs, 0n, 0],
  ];
  it.each(cases)('given %s', (_given, rate, startMs, balance, expected) => {
    expect(allowance(rate, startMs, balance)).toBe(expected);
  });

  it('given a free destination, then the allowance is the duration limit, which can be overridden', () => {
    const free = context(terms({ perMinute: '0' }));
    expect(allowance(free, mondayUtcMs, 0n)).toBe(callDurationSecondsMax);
    expect(allowance(free, mondayUtcMs, 0n, { durationSecondsMax: 600 })).toBe(600);
    expect(allowance(withMaximum, mondayUtcMs, 500n, { durationSecondsMax: 90 })).toBe(90);
  });

  it('given a balance that pays past the limit, then the allowance stops at the limit', () => {
    expect(allowance(perSecond, mondayUtcMs, 1_000_000n, { durationSecondsMax: 7_200 })).toBe(
      7_200,
    );
  });

  it('given a call starting at peak across off-peak, then the allowance follows the price change', () => {
    // 18:58 Paris: peak minutes at 1.20 until 19:00, then 0.60.
    const start = parisMonday(18, 58);
    expect(allowance(parisPeak, start, 300n)).toBe(180);
    expect(cost(parisPeak, start, 240)).toBe(360n);
    expect(allowance(parisPeak, start, 360n)).toBe(240);
    expect(cost(parisPeak, start, 241)).toBe(420n);
  });
});
