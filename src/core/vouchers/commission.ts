// Commission rules: which rule applies to a sale at each level (retailer, distributor), and the
// amount it pays. The most specific rule wins: one principal beats every principal of the level,
// one face value beats every face value, one product beats every product. Amounts round down, so
// the operator never pays a fraction of a minor unit more than the rule says.

import type { Minor } from '../money/money.ts';
import { divideRounded } from '../money/rounding.ts';
import type { CommissionLevel, CommissionRule } from './voucher-types.ts';

/** Basis points in one whole: 10,000 bp = 100 %. */
export const basisPointsWhole = 10_000;

function specificity(rule: CommissionRule): number {
  return (
    (rule.principalId !== null ? 4 : 0) +
    (rule.productId !== null ? 2 : 0) +
    (rule.faceValueMinor !== null ? 1 : 0)
  );
}

/**
 * The rule that applies to a sale at one level, or undefined when none does. Among equally
 * specific rules the newest wins, so an operator changes a rate by adding a rule.
 */
export function selectCommissionRule(
  rules: readonly CommissionRule[],
  sale: {
    level: CommissionLevel;
    principalId: string;
    productId: string;
    faceValueMinor: Minor;
  },
): CommissionRule | undefined {
  let best: CommissionRule | undefined;
  for (const rule of rules) {
    if (rule.level !== sale.level) continue;
    if (rule.principalId !== null && rule.principalId !== sale.principalId) continue;
    if (rule.productId !== null && rule.productId !== sale.productId) continue;
    if (rule.faceValueMinor !== null && rule.faceValueMinor !== sale.faceValueMinor) continue;
    if (
      !best ||
      specificity(rule) > specificity(best) ||
      (specificity(rule) === specificity(best) && rule.createdAtMs >= best.createdAtMs)
    ) {
      best = rule;
    }
  }
  return best;
}

/**
 * The commission a rule pays on a face value: rate (rounded down) plus the fixed part, never more
 * than the face value itself.
 *
 * @example commissionOf({ rateBasisPoints: 500, fixedMinor: 0n }, 1000n) === 50n
 */
export function commissionOf(
  rule: Pick<CommissionRule, 'rateBasisPoints' | 'fixedMinor'> | undefined,
  faceValueMinor: Minor,
): Minor {
  if (!rule) return 0n;
  const rated = divideRounded(
    faceValueMinor * BigInt(rule.rateBasisPoints),
    BigInt(basisPointsWhole),
    'down',
  );
  const total = rated + rule.fixedMinor;
  return total > faceValueMinor ? faceValueMinor : total;
}
