import { describe, expect, it } from 'vitest';
import { terms, weekdayPeak } from './fixtures/rates.ts';
import { decodeRate, encodeRate, type RateJson } from './rate-json.ts';
import type { Rate } from './tariff.ts';

const rate: Rate = {
  terms: terms({
    perMinute: '0.0123',
    connect: '0.05',
    initialPerMinute: '0.02',
    maximum: '5',
    increments: [30, 6],
  }),
  periods: [weekdayPeak(terms({ perMinute: '0.025' }))],
};

describe('rate JSON', () => {
  it('given a rate, then its JSON carries decimal strings and reads back to the same rate', () => {
    const json = JSON.parse(JSON.stringify(encodeRate(rate))) as RateJson;
    expect(json.terms).toEqual({
      connectFee: '0.05',
      pricePerMinute: '0.0123',
      initialPricePerMinute: '0.02',
      initialIncrementSeconds: 30,
      subsequentIncrementSeconds: 6,
      minimumCharge: '0',
      maximumCharge: '5',
    });
    expect(decodeRate(json)).toEqual({ ok: true, value: rate });
  });

  it.each([
    [
      'a float price',
      { ...encodeRate(rate).terms, pricePerMinute: '1e-3' },
      'pricePerMinute: "1e-3" is not a plain decimal price',
    ],
    [
      'a number where a string belongs',
      { ...encodeRate(rate).terms, connectFee: 0.05 as never },
      'connectFee',
    ],
    [
      'a zero increment',
      { ...encodeRate(rate).terms, subsequentIncrementSeconds: 0 },
      'subsequent increment',
    ],
  ])('given %s, then decoding refuses and says why', (_given, badTerms, message) => {
    const result = decodeRate({ terms: badTerms, periods: [] });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('rate_malformed');
      expect(result.message).toContain(message);
    }
  });
});
