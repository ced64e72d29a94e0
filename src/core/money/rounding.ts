// The one place where an exact quotient becomes a whole number of minor units. Rounding happens
// at named edges (a call's total cost, a commission), each with an explicit mode.

import { assert } from '../shared/assert.ts';

export const roundingModes = ['half_up', 'half_even', 'up', 'down'] as const;
export type RoundingMode = (typeof roundingModes)[number];

export function isRoundingMode(text: string): text is RoundingMode {
  return (roundingModes as readonly string[]).includes(text);
}

/**
 * Divides two integers and rounds the quotient to a whole number with the given mode.
 * `up` and `down` round away from and toward zero; the `half_*` modes round to nearest.
 *
 * @example divideRounded(7n, 2n, 'half_even') === 4n
 */
export function divideRounded(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  assert(denominator !== 0n, 'division by zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const quotient = magnitude / denominator;
  const remainder = magnitude % denominator;
  let rounded = quotient;
  if (remainder !== 0n) {
    switch (mode) {
      case 'down':
        break;
      case 'up':
        rounded += 1n;
        break;
      case 'half_up':
        if (remainder * 2n >= denominator) rounded += 1n;
        break;
      case 'half_even': {
        const twice = remainder * 2n;
        if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) rounded += 1n;
        break;
      }
    }
  }
  return negative ? -rounded : rounded;
}
