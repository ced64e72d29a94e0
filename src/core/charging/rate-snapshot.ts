// A session keeps the rate it started with: the route's rate and its tariff version's terms,
// as JSON in the session row. Update and terminate price the call from this snapshot, so a
// tariff activated in the middle of a call never changes what the call costs, and a restart
// needs nothing from the in-memory tariff registry.

import { type RateContext, rateContext } from '../rating/rate-context.ts';
import { decodeRate, encodeRate, type RateJson } from '../rating/rate-json.ts';
import type { TariffVersion } from '../rating/tariff.ts';
import { assert } from '../shared/assert.ts';

/** The tariff version's terms (without its end, which a started call never needs) and the rate. */
export interface RateSnapshot extends Omit<TariffVersion, 'effectiveToMs'> {
  readonly rate: RateJson;
}

/** Snapshots by pricing context: a tariff's contexts live as long as its index is in use. */
const snapshots = new WeakMap<RateContext, string>();

/** The JSON snapshot of a route's rate; made once per destination of a tariff version. */
export function snapshotOf(context: RateContext, carrierId: string, effectiveFromMs: number) {
  const known = snapshots.get(context);
  if (known !== undefined) return known;
  const snapshot: RateSnapshot = {
    carrierId,
    currency: context.currency,
    timeZone: context.timeZone,
    roundingMode: context.roundingMode,
    periodPolicy: context.periodPolicy,
    effectiveFromMs,
    rate: encodeRate(context.rate),
  };
  const json = JSON.stringify(snapshot);
  snapshots.set(context, json);
  return json;
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
  const { rate: _json, ...version } = snapshot;
  const context = rateContext(version, rate.value);
  if (cache.size >= cacheMax) cache.clear();
  cache.set(json, context);
  return context;
}
