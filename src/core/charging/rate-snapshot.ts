// A session keeps the rate it started with: the route's rate and its tariff version's terms,
// as JSON in the session row. Update and terminate price the call from this snapshot, so a
// tariff activated in the middle of a call never changes what the call costs, and a restart
// needs nothing from the in-memory tariff registry.

import type { Currency } from '../money/money.ts';
import type { RoundingMode } from '../money/rounding.ts';
import { type RateContext, rateContext } from '../rating/rate-context.ts';
import { decodeRate, encodeRate, type RateJson } from '../rating/rate-json.ts';
import type { PeriodPolicy, TariffVersion } from '../rating/tariff.ts';
import { assert } from '../shared/assert.ts';

export interface RateSnapshot {
  readonly carrierId: string;
  readonly currency: Currency;
  readonly timeZone: string;
  readonly roundingMode: RoundingMode;
  readonly periodPolicy: PeriodPolicy;
  readonly effectiveFromMs: number;
  readonly rate: RateJson;
}

export function snapshotOf(context: RateContext, carrierId: string, effectiveFromMs: number) {
  const snapshot: RateSnapshot = {
    carrierId,
    currency: context.currency,
    timeZone: context.timeZone,
    roundingMode: context.roundingMode,
    periodPolicy: context.periodPolicy,
    effectiveFromMs,
    rate: encodeRate(context.rate),
  };
  return JSON.stringify(snapshot);
}

const cacheMax = 1024;
const cache = new Map<string, RateContext>();

/** The pricing context of a stored snapshot; compiled once per distinct snapshot. */
export function contextOfSnapshot(json: string): RateContext {
  const cached = cache.get(json);
  if (cached) return cached;
  const snapshot = JSON.parse(json) as RateSnapshot;
  const rate = decodeRate(snapshot.rate);
  assert(rate.ok, 'a stored rate snapshot decodes');
  const version: TariffVersion = {
    carrierId: snapshot.carrierId,
    currency: snapshot.currency,
    timeZone: snapshot.timeZone,
    roundingMode: snapshot.roundingMode,
    periodPolicy: snapshot.periodPolicy,
    effectiveFromMs: snapshot.effectiveFromMs,
  };
  const context = rateContext(version, rate.value);
  if (cache.size >= cacheMax) cache.clear();
  cache.set(json, context);
  return context;
}
