import { describe, expect, it } from 'vitest';
import { commissionOf, selectCommissionRule } from './commission.ts';
import type { CommissionRule } from './voucher-types.ts';

const rule = (over: Partial<CommissionRule>): CommissionRule => ({
  id: 'r',
  level: 'retailer',
  principalId: null,
  productId: null,
  faceValueMinor: null,
  rateBasisPoints: 0,
  fixedMinor: 0n,
  createdAtMs: 0,
  ...over,
});

describe('commission rules', () => {
  const rules = [
    rule({ id: 'level', rateBasisPoints: 300 }),
    rule({ id: 'product', productId: 'p1', rateBasisPoints: 400 }),
    rule({ id: 'denomination', productId: 'p1', faceValueMinor: 2000n, rateBasisPoints: 450 }),
    rule({ id: 'principal', principalId: 'ret_a', rateBasisPoints: 600 }),
    rule({ id: 'distributor', level: 'distributor', rateBasisPoints: 100 }),
  ];
  const cases: Array<[string, { principalId: string; productId: string; face: bigint }, string]> = [
    [
      'any retailer, other product: the level rule',
      { principalId: 'ret_b', productId: 'p2', face: 1000n },
      'level',
    ],
    [
      'product rule beats level rule',
      { principalId: 'ret_b', productId: 'p1', face: 1000n },
      'product',
    ],
    [
      'denomination beats product',
      { principalId: 'ret_b', productId: 'p1', face: 2000n },
      'denomination',
    ],
    [
      'one principal beats everything else',
      { principalId: 'ret_a', productId: 'p1', face: 2000n },
      'principal',
    ],
  ];
  for (const [name, sale, expected] of cases) {
    it(`given the rules, when a sale matches, then ${name}`, () => {
      const chosen = selectCommissionRule(rules, {
        level: 'retailer',
        principalId: sale.principalId,
        productId: sale.productId,
        faceValueMinor: sale.face,
      });
      expect(chosen?.id).toBe(expected);
    });
  }

  it('given no rule at a level, then no commission is paid', () => {
    expect(
      selectCommissionRule([], {
        level: 'distributor',
        principalId: 'd',
        productId: 'p',
        faceValueMinor: 1n,
      }),
    ).toBeUndefined();
    expect(commissionOf(undefined, 1000n)).toBe(0n);
  });

  it('rounds the rate down, adds the fixed part, and never exceeds the face value', () => {
    expect(commissionOf({ rateBasisPoints: 333, fixedMinor: 0n }, 1000n)).toBe(33n);
    expect(commissionOf({ rateBasisPoints: 500, fixedMinor: 7n }, 1000n)).toBe(57n);
    expect(commissionOf({ rateBasisPoints: 10_000, fixedMinor: 5n }, 1000n)).toBe(1000n);
  });
});
