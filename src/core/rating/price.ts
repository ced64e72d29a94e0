// Exact tariff prices. A tariff may quote 0.0123 USD per minute, finer than a cent, so prices are
// kept as a bigint count of nanos (1e-9 of the currency's major unit) and only a call's total is
// rounded to the minor unit, once, with an explicit mode. Nothing here uses floating point.

import { type Currency, currencyScale, type Minor, minorMax } from '../money/money.ts';
import { divideRounded, type RoundingMode } from '../money/rounding.ts';
import { assert } from '../shared/assert.ts';
import { ok, type Result, refuse } from '../shared/result.ts';

/** Digits after the decimal point that a price may carry: nanos of the major unit. */
export const priceFractionDigitsMax = 9;

/** Nanos in one major unit (1 USD = 1,000,000,000 nanos). */
export const nanosPerMajor = 1_000_000_000n;

/** Digits before the decimal point: a trillion major units is far above any real tariff. */
export const priceWholeDigitsMax = 12;

/** An exact price: `nanos` counts 1e-9 of the currency's major unit (0.0123 USD is 12,300,000). */
export interface Price {
  readonly currency: Currency;
  readonly nanos: bigint;
}

export type PriceRefusalCode = 'price_malformed' | 'price_too_precise' | 'price_too_large';

const pricePattern = /^([0-9]+)(?:\.([0-9]+))?$/;

/**
 * Parses a non-negative decimal price in major units, exactly. Refuses signs, spaces, exponents
 * ("1e-3"), a bare or trailing point, and more than nine fraction digits, each with its own code,
 * because a float-like string in a tariff file is a mistake to report, never a value to guess.
 *
 * @example parsePrice('0.0123', 'USD') // ok({ currency: 'USD', nanos: 12_300_000n })
 */
export function parsePrice(text: string, currency: Currency): Result<Price, PriceRefusalCode> {
  const nanos = parsePriceNanos(text);
  if (typeof nanos === 'string') return refuse(nanos, priceRefusalMessage(nanos, text));
  return ok({ currency, nanos });
}

/**
 * The same parser without the currency, for hot import loops: returns nanos, or the refusal code.
 */
export function parsePriceNanos(text: string): bigint | PriceRefusalCode {
  const match = pricePattern.exec(text);
  if (!match) return 'price_malformed';
  const whole = match[1]!.replace(/^0+(?=[0-9])/, '');
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > priceFractionDigitsMax) return 'price_too_precise';
  if (whole.length > priceWholeDigitsMax) return 'price_too_large';
  return BigInt(whole) * nanosPerMajor + BigInt(fraction.padEnd(priceFractionDigitsMax, '0'));
}

/** A sentence for a price refusal, naming the text that was refused. */
export function priceRefusalMessage(code: PriceRefusalCode, text: string): string {
  switch (code) {
    case 'price_malformed':
      return `"${text}" is not a plain decimal price such as 0.0123 (no sign, exponent or spaces)`;
    case 'price_too_precise':
      return `"${text}" has more than ${priceFractionDigitsMax} digits after the decimal point`;
    case 'price_too_large':
      return `"${text}" has more than ${priceWholeDigitsMax} digits before the decimal point`;
  }
}

/**
 * Writes nanos as the shortest plain decimal that parses back to the same value:
 * formatPriceNanos(12_300_000n) is "0.0123", formatPriceNanos(2_000_000_000n) is "2".
 */
export function formatPriceNanos(nanos: bigint): string {
  assert(nanos >= 0n, 'prices are never negative');
  const whole = nanos / nanosPerMajor;
  const fraction = (nanos % nanosPerMajor)
    .toString()
    .padStart(priceFractionDigitsMax, '0')
    .replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

/** Writes a price as a plain decimal in major units. */
export function formatPrice(price: Price): string {
  return formatPriceNanos(price.nanos);
}

/**
 * Rounds an exact amount to the currency's minor unit. The amount is given as a fraction
 * `numeratorNanos / denominator` of nanos so that callers can pass sums of per-second prices
 * (kept over 60) without rounding them first.
 *
 * @example nanosToMinor({ numeratorNanos: 12_300_000n, denominator: 1n, currency: 'USD', mode: 'up' }) === 2n
 */
export function nanosToMinor(args: {
  numeratorNanos: bigint;
  denominator: bigint;
  currency: Currency;
  mode: RoundingMode;
}): Minor {
  const minorPerMajor = 10n ** BigInt(currencyScale(args.currency));
  const minor = divideRounded(
    args.numeratorNanos * minorPerMajor,
    args.denominator * nanosPerMajor,
    args.mode,
  );
  assert(minor <= minorMax, 'a rated amount beyond 64 bits is a broken tariff');
  return minor;
}

/** Rounds one price to the minor unit: the cost of a connect fee alone, for example. */
export function priceToMinor(price: Price, mode: RoundingMode): Minor {
  return nanosToMinor({
    numeratorNanos: price.nanos,
    denominator: 1n,
    currency: price.currency,
    mode,
  });
}
