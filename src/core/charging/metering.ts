// The arithmetic of a metered call, pure: how many seconds to grant next and how much money to
// hold for them, and what a report of used seconds costs. Everything is cumulative from the
// call's start, so the connect fee, the minimum charge and partly used increments are counted
// exactly once whatever the number of updates: the charge due after n seconds is always
// cost(n) minus what was already charged.

import type { Minor } from '../money/money.ts';
import { allowance, cost } from '../rating/cost.ts';
import type { RateContext } from '../rating/rate-context.ts';

export interface GrantPolicy {
  /** Seconds granted per credit-control round trip (the quota slice); default 300. */
  readonly sliceSeconds: number;
  /** Seconds the server waits past a grant's end for an update before it ends the session. */
  readonly graceSeconds: number;
  /** The longest call the engine will grant, in seconds (at most a day). */
  readonly callSecondsMax: number;
  /** The prescribed minimum: a call connects only if the balance is at least this much. */
  readonly minimumBalanceMinor: Minor;
  /**
   * How long a call may ring: a session opened before the answer (`answered: false`) is ended,
   * unbilled, this long after it began (plus grace) unless the switch reports the answer.
   */
  readonly ringSecondsMax: number;
}

export const grantPolicyDefaults: GrantPolicy = {
  sliceSeconds: 300,
  graceSeconds: 30,
  callSecondsMax: 4 * 3600,
  minimumBalanceMinor: 0n,
  ringSecondsMax: 300,
};

/**
 * How long a session's hold lives beyond its supervision deadline. The supervisor ends the
 * session well before this; the ledger's own expiry only matters when every server was down.
 */
export const holdMarginSeconds = 3600;

export interface Grant {
  /** Seconds the switch may use from now; 0 means the money is spent: disconnect. */
  readonly grantedSeconds: number;
  /** What to hold for them: cost(used + granted) minus what was already charged. */
  readonly holdMinor: Minor;
  /** True when this grant is the last the balance allows (RFC 4006 Final-Unit-Indication). */
  readonly finalUnit: boolean;
  /** Seconds the call could still last on this balance, counting this grant. */
  readonly remainingSeconds: number;
}

/**
 * The next grant of a call that has used `usedSeconds` (already charged `chargedMinor`) and whose
 * subscriber can still spend `availableMinor`. The cumulative cost of the call up to the end of
 * the grant never exceeds charged + available, so concurrent calls sharing one balance can never
 * be granted more than it holds.
 */
export function nextGrant(args: {
  rate: RateContext;
  startMs: number;
  usedSeconds: number;
  chargedMinor: Minor;
  availableMinor: Minor;
  policy: GrantPolicy;
}): Grant {
  const { rate, startMs, usedSeconds, chargedMinor, policy } = args;
  const budget = chargedMinor + (args.availableMinor > 0n ? args.availableMinor : 0n);
  const limit = Math.max(policy.callSecondsMax, usedSeconds);
  const total = allowance(rate, startMs, budget, { durationSecondsMax: limit });
  const remainingSeconds = Math.max(0, total - usedSeconds);
  const grantedSeconds = Math.min(policy.sliceSeconds, remainingSeconds);
  const due = grantedSeconds === 0 ? 0n : cost(rate, startMs, usedSeconds + grantedSeconds);
  const holdMinor = due > chargedMinor ? due - chargedMinor : 0n;
  return {
    grantedSeconds,
    holdMinor,
    finalUnit: remainingSeconds <= policy.sliceSeconds,
    remainingSeconds,
  };
}

/**
 * What a report of `reportedSeconds` used of the current grant adds to the call: the billable
 * seconds (never more than was granted: a switch that runs past its grant is not billed for it)
 * and the charge due for them.
 */
export function settleUsage(args: {
  rate: RateContext;
  startMs: number;
  usedSeconds: number;
  chargedMinor: Minor;
  grantedSeconds: number;
  reportedSeconds: number;
}): { usedSeconds: number; dueMinor: Minor } {
  const billable = Math.min(Math.max(0, args.reportedSeconds), args.grantedSeconds);
  const usedSeconds = args.usedSeconds + billable;
  const total = cost(args.rate, args.startMs, usedSeconds);
  return { usedSeconds, dueMinor: total > args.chargedMinor ? total - args.chargedMinor : 0n };
}
