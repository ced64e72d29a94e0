import { describe, expect, it } from 'vitest';
import { type A2BillingColumn, importA2BillingRatecard } from './a2billing-import.ts';
import { cost } from './cost.ts';
import { a2billing } from './fixtures/fixtures.ts';
import { buildTariffIndex } from './tariff-index.ts';

const options = {
  carrierId: 'a2b',
  currency: 'USD',
  effectiveFromMs: Date.UTC(2026, 0, 1),
} as const;
/** The column order of A2Billing's "complex sample". */
const complexColumns: A2BillingColumn[] = [
  'initblock',
  'billingblock',
  'buyrate',
  'buyrateinitblock',
  'buyrateincrement',
  'connectcharge',
  'disconnectcharge',
  'starttime',
  'endtime',
  'tag',
];
const mondayUtcMs = Date.UTC(2026, 0, 5);
const dayMs = 86_400_000;

function indexOf(text: string, extra: Partial<Parameters<typeof importA2BillingRatecard>[1]>) {
  const result = importA2BillingRatecard(text, { ...options, ...extra });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return buildTariffIndex(result.value);
}

describe('importA2BillingRatecard', () => {
  it('given the simple sample (selling rate and buy rate), then rates are per second and defaultprefix catches all', () => {
    const index = indexOf(a2billing.simple, { columns: ['buyrate'] });
    expect(index.version.periodPolicy).toBe('call_start');
    const cases: [string, string, number, bigint][] = [
      // [dialled, then destination, seconds, then cents]: 0.70/min by the second, 61 s = 0.7117
      ['12125551234', 'New York, NY', 61, 72n],
      ['32473123456', 'Belgium Mobile', 60, 170n],
      ['4420712345', 'Rest of the world', 30, 100n],
    ];
    for (const [dialled, destination, seconds, expected] of cases) {
      const match = index.match(dialled)!;
      expect(match.destinationName).toBe(destination);
      expect(cost(match.rate, mondayUtcMs, seconds)).toBe(expected);
    }
  });

  it('given the complex sample, then blocks, connect and disconnect charges and week windows map', () => {
    const index = indexOf(a2billing.complex, { columns: complexColumns });
    const cases: [string, string, number, number, bigint][] = [
      // [given, dialled, start, seconds, then cents]
      // A2Billing: 31 s rounds up to 36 s at 1.01/min = 0.606, plus 0.12 connect = 0.726.
      ['France, 30/6 blocks plus connect charge', '33142000000', mondayUtcMs, 31, 73n],
      ['France, shorter than initblock pays 30 s', '33142000000', mondayUtcMs, 5, 63n],
      // Spain: connect 0.12 and disconnect 0.03 are both charged once.
      ['Spain, connect and disconnect charges', '34912345678', mondayUtcMs, 60, 135n],
      ['UK weekday window (minutes 0-7199)', '442071234567', mondayUtcMs + 10 * 3_600_000, 60, 60n],
      ['UK weekend window (minutes 7200-10079)', '442071234567', mondayUtcMs + 5 * dayMs, 60, 36n],
    ];
    for (const [given, dialled, startMs, seconds, expected] of cases) {
      expect(cost(index.match(dialled)!.rate, startMs, seconds), given).toBe(expected);
    }
  });

  it('given a call that starts on Friday 23:59 in the weekday window, then the whole call keeps that rate', () => {
    const index = indexOf(a2billing.complex, { columns: complexColumns });
    const fridayLate = mondayUtcMs + 4 * dayMs + (23 * 60 + 59) * 60_000;
    // 120 s at 0.54 (A2Billing rates the call by the row in force at its start) + 0.06.
    expect(cost(index.match('442071234567')!.rate, fridayLate, 120)).toBe(114n);
  });

  it('given a semicolon file with a header row and decimal commas, then columns come from the header', () => {
    const index = indexOf(a2billing.semicolon, {});
    // Berlin: 0.0123 per minute, minimum cost 0.05.
    expect(cost(index.match('4930123456')!.rate, mondayUtcMs, 60)).toBe(5n);
    // Mobile: initblock 0 and billingblock 6 bill in 6 s steps; 0.05 + 0.02 charged once.
    expect(cost(index.match('4915112345678')!.rate, mondayUtcMs, 7)).toBe(11n);
  });

  it('given prices in cents, then they are divided by 100 as A2Billing does', () => {
    const index = indexOf('33;France;101;30;6;12\n', {
      columns: ['initblock', 'billingblock', 'connectcharge'],
      currencyType: 'cent',
    });
    expect(cost(index.match('33142000000')!.rate, mondayUtcMs, 31)).toBe(73n);
  });
});

describe('importA2BillingRatecard with bad lines', () => {
  const result = importA2BillingRatecard(a2billing.bad, {
    ...options,
    file: 'ratecard-bad.csv',
    columns: [
      'initblock',
      'billingblock',
      'connectcharge',
      'disconnectcharge',
      'disconnectcharge_after',
      'chargea',
      'timechargea',
      'starttime',
      'endtime',
    ],
  });
  const cases: [string, number, string][] = [
    ['an Asterisk pattern prefix', 2, 'is an Asterisk pattern'],
    [
      'initblock not a multiple of billingblock',
      3,
      'initblock 45 is not a multiple of billingblock 30',
    ],
    ['a disconnect charge after a threshold', 4, 'disconnectcharge with disconnectcharge_after'],
    ['a progressive charge', 5, 'progressive charge a (chargea, timechargea)'],
    ['a float-like rate', 6, 'rateinitial: "1e-2" is not a plain decimal price'],
    ['overlapping week windows', 8, 'dialprefix 44: week minutes 7000-10079 overlap another row'],
    ['a week left partly unrated', 9, 'dialprefix 49: no rate for week minutes 7200-10079'],
  ];
  it.each(cases)('given %s, then line %i is reported', (_given, line, message) => {
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toContainEqual(
      expect.objectContaining({
        file: 'ratecard-bad.csv',
        line,
        message: expect.stringContaining(message),
      }),
    );
  });

  it('given the bad file, then only the bad lines are reported', () => {
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((issue) => issue.line)).toEqual([2, 3, 4, 5, 6, 8, 9]);
  });

  it('given more fields than columns, then the line says so', () => {
    const extra = importA2BillingRatecard('33,France,0.10,30,6\n', {
      ...options,
      columns: ['initblock'],
    });
    expect(extra.ok).toBe(false);
    if (extra.ok) return;
    expect(extra.errors[0]).toMatchObject({
      line: 1,
      message: expect.stringContaining('expected at most 4 fields, found 5'),
    });
  });
});
