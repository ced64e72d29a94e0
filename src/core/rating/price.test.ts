import { describe, expect, it } from 'vitest';
import { formatPriceNanos, nanosToMinor, parsePrice, priceToMinor } from './price.ts';

describe('parsePrice', () => {
  it.each([
    ['0.0123', 12_300_000n],
    ['0.000000001', 1n],
    ['12', 12_000_000_000n],
    ['1.50', 1_500_000_000n],
    ['0.1000000000', 100_000_000n], // trailing zeros beyond nine digits change nothing
    ['007.5', 7_500_000_000n],
  ])('given "%s", then it is %s nanos exactly', (text, nanos) => {
    expect(parsePrice(text, 'USD')).toEqual({ ok: true, value: { currency: 'USD', nanos } });
  });

  it.each([
    ['1e-3', 'price_malformed'],
    ['1.5E2', 'price_malformed'],
    ['-0.01', 'price_malformed'],
    ['+1', 'price_malformed'],
    [' 1', 'price_malformed'],
    ['1.', 'price_malformed'],
    ['.5', 'price_malformed'],
    ['1,5', 'price_malformed'],
    ['', 'price_malformed'],
    ['NaN', 'price_malformed'],
    ['0.0000000001', 'price_too_precise'],
    ['0.1234567891', 'price_too_precise'],
    ['1234567890123', 'price_too_large'],
  ])('given "%s", then it is refused with %s', (text, code) => {
    const result = parsePrice(text, 'USD');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe(code);
      expect(result.message).toContain(text);
    }
  });

  it.each(['0.0123', '2', '0.000000001', '999999999999.999999999'])(
    'given "%s", then formatting gives it back',
    (text) => {
      const parsed = parsePrice(text, 'EUR');
      expect(parsed.ok && formatPriceNanos(parsed.value.nanos)).toBe(text);
    },
  );
});

describe('rounding prices to minor units', () => {
  it.each([
    ['USD', 'up', 12_300_000n, 2n],
    ['USD', 'down', 12_300_000n, 1n],
    ['USD', 'half_up', 15_000_000n, 2n],
    ['USD', 'half_even', 15_000_000n, 2n],
    ['USD', 'half_even', 25_000_000n, 2n],
    ['KRW', 'half_up', 12_500_000_000n, 13n],
    ['BHD', 'up', 12_300_000n, 13n],
  ] as const)(
    'given %s and %s, when %s nanos are rounded, then %s minor units',
    (currency, mode, nanos, minor) => {
      expect(priceToMinor({ currency, nanos }, mode)).toBe(minor);
    },
  );

  it('given a sum kept in sixtieths, then it is rounded exactly once', () => {
    // 0.0123 per minute for 100 s is 1.23 * 100 / 60 = 2.05 cents, exactly.
    expect(
      nanosToMinor({
        numeratorNanos: 12_300_000n * 100n,
        denominator: 60n,
        currency: 'USD',
        mode: 'half_even',
      }),
    ).toBe(2n);
    expect(
      nanosToMinor({
        numeratorNanos: 12_300_000n * 100n,
        denominator: 60n,
        currency: 'USD',
        mode: 'up',
      }),
    ).toBe(3n);
  });
});
