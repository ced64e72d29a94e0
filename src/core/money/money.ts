// Money is a bigint count of a currency's minor unit (cents for USD, won for KRW). This file owns
// the currency table, the 64-bit range that the stores can hold, and the decimal-string form
// that JSON and the CLI carry. Nothing here uses floating point.

import { assert } from '../shared/assert.ts';

/** An amount in a currency's minor unit. */
export type Minor = bigint;

/** The largest amount the stores can hold: a signed 64-bit integer. */
export const minorMax: Minor = 2n ** 63n - 1n;

/**
 * Minor-unit scale (digits after the decimal point) for the ISO 4217 currencies we accept.
 * A currency not listed here is refused with `currency_unknown`, never guessed.
 */
export const currencyScales = {
  AED: 2,
  ARS: 2,
  AUD: 2,
  BDT: 2,
  BHD: 3,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CLP: 0,
  CNY: 2,
  COP: 2,
  CZK: 2,
  DKK: 2,
  EGP: 2,
  EUR: 2,
  GBP: 2,
  GHS: 2,
  HKD: 2,
  HUF: 2,
  IDR: 2,
  ILS: 2,
  INR: 2,
  ISK: 0,
  JOD: 3,
  JPY: 0,
  KES: 2,
  KRW: 0,
  KWD: 3,
  LKR: 2,
  MAD: 2,
  MXN: 2,
  MYR: 2,
  NGN: 2,
  NOK: 2,
  NZD: 2,
  OMR: 3,
  PEN: 2,
  PHP: 2,
  PKR: 2,
  PLN: 2,
  QAR: 2,
  RON: 2,
  SAR: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  TND: 3,
  TRY: 2,
  TWD: 2,
  TZS: 2,
  UAH: 2,
  UGX: 0,
  USD: 2,
  VND: 0,
  XAF: 0,
  XOF: 0,
  ZAR: 2,
  /** Loyalty points: whole units only. */
  PTS: 0,
} as const satisfies Record<string, number>;

export type Currency = keyof typeof currencyScales;

export function isCurrency(code: string): code is Currency {
  return Object.hasOwn(currencyScales, code);
}

export function currencyScale(currency: Currency): number {
  return currencyScales[currency];
}

const minorPattern = /^(0|[1-9][0-9]{0,18})$/;

/**
 * Parses a non-negative amount written in minor units as a decimal string ("1250" is 12.50 USD).
 * Returns undefined for anything else: signs, spaces, leading zeros, exponents, fractions, or a
 * value beyond 64 bits.
 *
 * @example parseMinor('1250') === 1250n
 */
export function parseMinor(text: string): Minor | undefined {
  if (!minorPattern.test(text)) return undefined;
  const value = BigInt(text);
  return value <= minorMax ? value : undefined;
}

/**
 * Parses a major-unit decimal ("12.50") into minor units for the given currency, refusing more
 * fraction digits than the currency has.
 *
 * @example parseMajor('12.5', 'USD') === 1250n
 */
export function parseMajor(text: string, currency: Currency): Minor | undefined {
  const match = /^(0|[1-9][0-9]{0,18})(?:\.([0-9]+))?$/.exec(text);
  if (!match) return undefined;
  const scale = currencyScale(currency);
  const fraction = match[2] ?? '';
  if (fraction.length > scale) return undefined;
  const value =
    BigInt(match[1]!) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0') || '0');
  return value <= minorMax ? value : undefined;
}

/**
 * Writes minor units as a major-unit decimal string for people: formatMajor(1250n, 'USD') is
 * "12.50". APIs carry minor units instead; this is for receipts, reports and the CLI.
 */
export function formatMajor(amountMinor: Minor, currency: Currency): string {
  const scale = currencyScale(currency);
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** Adds with a range check: an overflow is a bug upstream, never a silent wrap. */
export function addMinor(a: Minor, b: Minor): Minor {
  const sum = a + b;
  assert(sum <= minorMax && sum >= -minorMax, 'minor amount overflow');
  return sum;
}
