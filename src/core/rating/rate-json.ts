// The JSON form of a rate, for the store's rate column and the HTTP API. JSON has no bigint, so
// prices travel as plain decimal strings in major units ("0.0123"), exactly as tariff files write
// them; decoding checks everything a file import would.

import { ok, type Result, refuse } from '../shared/result.ts';
import { formatPriceNanos, parsePriceNanos, priceRefusalMessage } from './price.ts';
import type { IsoWeekday, Rate, RatePeriod, RateTerms } from './tariff.ts';
import { rateProblems } from './tariff.ts';

/** Terms as JSON: prices are decimal strings in the currency's major unit. */
export interface RateTermsJson {
  readonly connectFee: string;
  readonly pricePerMinute: string;
  readonly initialPricePerMinute?: string;
  readonly initialIncrementSeconds: number;
  readonly subsequentIncrementSeconds: number;
  readonly minimumCharge: string;
  readonly maximumCharge?: string;
}

export interface RatePeriodJson {
  readonly name: string;
  readonly weekdays: readonly number[];
  readonly fromSecondOfDay: number;
  readonly toSecondOfDay: number;
  readonly terms: RateTermsJson;
}

export interface RateJson {
  readonly terms: RateTermsJson;
  readonly periods: readonly RatePeriodJson[];
}

function encodeTerms(terms: RateTerms): RateTermsJson {
  return {
    connectFee: formatPriceNanos(terms.connectFeeNanos),
    pricePerMinute: formatPriceNanos(terms.pricePerMinuteNanos),
    ...(terms.initialPricePerMinuteNanos === undefined
      ? {}
      : { initialPricePerMinute: formatPriceNanos(terms.initialPricePerMinuteNanos) }),
    initialIncrementSeconds: terms.initialIncrementSeconds,
    subsequentIncrementSeconds: terms.subsequentIncrementSeconds,
    minimumCharge: formatPriceNanos(terms.minimumChargeNanos),
    ...(terms.maximumChargeNanos === undefined
      ? {}
      : { maximumCharge: formatPriceNanos(terms.maximumChargeNanos) }),
  };
}

/**
 * A rate as JSON-safe data.
 *
 * @example JSON.stringify(encodeRate(rate)) // {"terms":{"connectFee":"0.05","pricePerMinute":"0.0123",...},"periods":[]}
 */
export function encodeRate(rate: Rate): RateJson {
  return {
    terms: encodeTerms(rate.terms),
    periods: rate.periods.map((period) => ({
      name: period.name,
      weekdays: [...period.weekdays],
      fromSecondOfDay: period.fromSecondOfDay,
      toSecondOfDay: period.toSecondOfDay,
      terms: encodeTerms(period.terms),
    })),
  };
}

function decodeTerms(json: RateTermsJson, problems: string[], label: string): RateTerms {
  const money = (field: string, text: string | undefined): bigint | undefined => {
    if (text === undefined) return undefined;
    const nanos = typeof text === 'string' ? parsePriceNanos(text) : 'price_malformed';
    if (typeof nanos === 'bigint') return nanos;
    problems.push(`${label}${field}: ${priceRefusalMessage(nanos, String(text))}`);
    return 0n;
  };
  const initialPrice = money('initialPricePerMinute', json.initialPricePerMinute);
  const maximum = money('maximumCharge', json.maximumCharge);
  return {
    connectFeeNanos: money('connectFee', json.connectFee ?? 'missing') ?? 0n,
    pricePerMinuteNanos: money('pricePerMinute', json.pricePerMinute ?? 'missing') ?? 0n,
    initialIncrementSeconds: json.initialIncrementSeconds,
    subsequentIncrementSeconds: json.subsequentIncrementSeconds,
    minimumChargeNanos: money('minimumCharge', json.minimumCharge ?? 'missing') ?? 0n,
    ...(initialPrice === undefined ? {} : { initialPricePerMinuteNanos: initialPrice }),
    ...(maximum === undefined ? {} : { maximumChargeNanos: maximum }),
  };
}

/**
 * Reads a rate back from its JSON form, refusing with `rate_malformed` and every problem found
 * (bad prices, increments, windows), as a file import would.
 */
export function decodeRate(json: RateJson): Result<Rate, 'rate_malformed'> {
  const problems: string[] = [];
  if (
    typeof json !== 'object' ||
    json === null ||
    typeof json.terms !== 'object' ||
    !Array.isArray(json.periods)
  ) {
    return refuse('rate_malformed', 'a rate needs "terms" and "periods"');
  }
  const terms = decodeTerms(json.terms, problems, '');
  const periods: RatePeriod[] = json.periods.map((period) => ({
    name: period.name,
    weekdays: period.weekdays as IsoWeekday[],
    fromSecondOfDay: period.fromSecondOfDay,
    toSecondOfDay: period.toSecondOfDay,
    terms: decodeTerms(period.terms, problems, `period "${period.name}": `),
  }));
  const rate: Rate = { terms, periods };
  if (problems.length === 0) problems.push(...rateProblems(rate));
  return problems.length === 0 ? ok(rate) : refuse('rate_malformed', problems.join('; '));
}
