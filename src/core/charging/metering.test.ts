// The arithmetic of a metered call, without a store: a call metered slice by slice costs what
// `cost` says for its whole length, the grants never promise more than the money, and every
// report's charge fits the hold of the grant it reports on.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cost } from '../rating/cost.ts';
import { context, terms } from '../rating/fixtures/rates.ts';
import { type GrantPolicy, grantPolicyDefaults, nextGrant, settleUsage } from './metering.ts';

const startMs = Date.UTC(2026, 2, 2, 12, 0, 0);
// 0.10 to connect, then 1 cent a second.
const perSecond = context(terms({ perMinute: '0.60', connect: '0.10', increments: [1, 1] }));
// 1.20 a started minute, a 0.50 minimum.
const perMinute = context(terms({ perMinute: '1.20', minimum: '0.50' }));
const policy = (over: Partial<GrantPolicy> = {}): GrantPolicy => ({
  ...grantPolicyDefaults,
  sliceSeconds: 60,
  ...over,
});

describe('nextGrant', () => {
  it('grants a full slice while the money lasts, then the final units, then nothing', () => {
    const first = nextGrant({
      rate: perSecond,
      startMs,
      usedSeconds: 0,
      chargedMinor: 0n,
      availableMinor: 100n,
      policy: policy(),
    });
    expect(first).toEqual({
      grantedSeconds: 60,
      holdMinor: 70n,
      finalUnit: false,
      remainingSeconds: 90,
    });
    const second = nextGrant({
      rate: perSecond,
      startMs,
      usedSeconds: 60,
      chargedMinor: 70n,
      availableMinor: 30n,
      policy: policy(),
    });
    expect(second).toEqual({
      grantedSeconds: 30,
      holdMinor: 30n,
      finalUnit: true,
      remainingSeconds: 30,
    });
    const spent = nextGrant({
      rate: perSecond,
      startMs,
      usedSeconds: 90,
      chargedMinor: 100n,
      availableMinor: 0n,
      policy: policy(),
    });
    expect(spent).toMatchObject({ grantedSeconds: 0, holdMinor: 0n, finalUnit: true });
  });

  it('grants the paid rest of a started increment for nothing', () => {
    // 30 s into a minute already charged: the next 30 s cost nothing more.
    const grant = nextGrant({
      rate: perMinute,
      startMs,
      usedSeconds: 30,
      chargedMinor: 120n,
      availableMinor: 0n,
      policy: policy(),
    });
    expect(grant).toMatchObject({ grantedSeconds: 30, holdMinor: 0n, finalUnit: true });
  });

  it('stops at the longest call allowed even when the money would last longer', () => {
    const grant = nextGrant({
      rate: perSecond,
      startMs,
      usedSeconds: 0,
      chargedMinor: 0n,
      availableMinor: 1_000_000n,
      policy: policy({ callSecondsMax: 45 }),
    });
    expect(grant).toMatchObject({ grantedSeconds: 45, finalUnit: true, holdMinor: 55n });
  });
});

describe('settleUsage', () => {
  it('charges the connect fee and the minimum once, and caps a report at its grant', () => {
    expect(
      settleUsage({
        rate: perMinute,
        startMs,
        usedSeconds: 0,
        chargedMinor: 0n,
        grantedSeconds: 60,
        reportedSeconds: 10,
      }),
    ).toEqual({ usedSeconds: 10, dueMinor: 120n });
    expect(
      settleUsage({
        rate: perMinute,
        startMs,
        usedSeconds: 10,
        chargedMinor: 120n,
        grantedSeconds: 60,
        reportedSeconds: 500,
      }),
    ).toEqual({ usedSeconds: 70, dueMinor: 120n });
  });
});

describe('a call metered slice by slice', () => {
  it('costs what the whole call costs, and never holds more than the balance', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        (balance, slice, reports, minuteRate) => {
          const rate = minuteRate ? perMinute : perSecond;
          let available = BigInt(balance);
          let used = 0;
          let charged = 0n;
          let grant = nextGrant({
            rate,
            startMs,
            usedSeconds: 0,
            chargedMinor: 0n,
            availableMinor: available,
            policy: policy({ sliceSeconds: slice }),
          });
          for (const reported of reports) {
            if (grant.grantedSeconds === 0) break;
            expect(grant.holdMinor).toBeLessThanOrEqual(available);
            const held = grant.holdMinor;
            const settled = settleUsage({
              rate,
              startMs,
              usedSeconds: used,
              chargedMinor: charged,
              grantedSeconds: grant.grantedSeconds,
              reportedSeconds: reported,
            });
            expect(settled.dueMinor).toBeLessThanOrEqual(held);
            available -= settled.dueMinor;
            charged += settled.dueMinor;
            used = settled.usedSeconds;
            expect(charged).toBe(cost(rate, startMs, used));
            grant = nextGrant({
              rate,
              startMs,
              usedSeconds: used,
              chargedMinor: charged,
              availableMinor: available,
              policy: policy({ sliceSeconds: slice }),
            });
          }
          expect(available).toBeGreaterThanOrEqual(0n);
          expect(charged + available).toBe(BigInt(balance));
        },
      ),
      { numRuns: 300 },
    );
  });
});
