// Which tariff versions are live. A TariffCatalog is an immutable snapshot of every carrier's
// indexed versions; the TariffRegistry holds the current snapshot and replaces it in one
// assignment. A reader takes `current()` once per request and rates against that snapshot to the
// end, so a swap never pauses readers and never shows them a half-installed tariff.

import { assert } from '../shared/assert.ts';
import { isVersionInForce } from './tariff.ts';
import type { TariffIndex } from './tariff-index.ts';

/** An immutable set of indexed tariff versions, by carrier. */
export class TariffCatalog {
  /** Per carrier, versions sorted by effective-from, latest first. */
  private readonly byCarrier: ReadonlyMap<string, readonly TariffIndex[]>;

  private constructor(byCarrier: ReadonlyMap<string, readonly TariffIndex[]>) {
    this.byCarrier = byCarrier;
  }

  /** A catalog with no tariffs. */
  static empty(): TariffCatalog {
    return new TariffCatalog(new Map());
  }

  /** A catalog holding the given versions. */
  static of(indexes: Iterable<TariffIndex>): TariffCatalog {
    let catalog = TariffCatalog.empty();
    for (const index of indexes) catalog = catalog.withTariff(index);
    return catalog;
  }

  /**
   * A new catalog with this version added; a version of the same carrier with the same
   * effective-from instant is replaced (that is how a corrected tariff is re-imported).
   */
  withTariff(index: TariffIndex): TariffCatalog {
    const { carrierId, effectiveFromMs } = index.version;
    const kept = (this.byCarrier.get(carrierId) ?? []).filter(
      (existing) => existing.version.effectiveFromMs !== effectiveFromMs,
    );
    const versions = [...kept, index].sort(
      (a, b) => b.version.effectiveFromMs - a.version.effectiveFromMs,
    );
    const byCarrier = new Map(this.byCarrier);
    byCarrier.set(carrierId, versions);
    return new TariffCatalog(byCarrier);
  }

  /** A new catalog without the carrier's version that starts at `effectiveFromMs`. */
  withoutTariff(carrierId: string, effectiveFromMs: number): TariffCatalog {
    const versions = (this.byCarrier.get(carrierId) ?? []).filter(
      (existing) => existing.version.effectiveFromMs !== effectiveFromMs,
    );
    const byCarrier = new Map(this.byCarrier);
    if (versions.length === 0) byCarrier.delete(carrierId);
    else byCarrier.set(carrierId, versions);
    return new TariffCatalog(byCarrier);
  }

  /**
   * The carrier's version in force for a call starting at `startMs`: the latest effective-from
   * at or before it whose effective-to (if any) is after it.
   */
  tariffAt(carrierId: string, startMs: number): TariffIndex | undefined {
    for (const index of this.byCarrier.get(carrierId) ?? []) {
      if (index.version.effectiveFromMs <= startMs) {
        return isVersionInForce(index.version, startMs) ? index : undefined;
      }
    }
    return undefined;
  }

  /** Carriers that have at least one version, sorted. */
  carrierIds(): string[] {
    return [...this.byCarrier.keys()].sort();
  }

  /** A carrier's versions, latest effective-from first. */
  versions(carrierId: string): readonly TariffIndex[] {
    return this.byCarrier.get(carrierId) ?? [];
  }
}

/**
 * Holds the live catalog. Build a new `TariffIndex` aside (seconds for a million prefixes), then
 * `install` it: readers that already took `current()` finish on the old snapshot, later ones see
 * the new one.
 *
 * @example
 * const registry = new TariffRegistry();
 * registry.install(buildTariffIndex(data));
 * const catalog = registry.current(); // use this one snapshot for the whole request
 */
export class TariffRegistry {
  private catalog: TariffCatalog;

  constructor(initial: TariffCatalog = TariffCatalog.empty()) {
    this.catalog = initial;
  }

  /** The live snapshot. */
  current(): TariffCatalog {
    return this.catalog;
  }

  /** Replaces the live snapshot and returns the previous one. */
  swap(next: TariffCatalog): TariffCatalog {
    assert(next instanceof TariffCatalog, 'swap takes a TariffCatalog');
    const previous = this.catalog;
    this.catalog = next;
    return previous;
  }

  /** Adds or replaces one version in the live snapshot (copy on write); returns the previous. */
  install(index: TariffIndex): TariffCatalog {
    return this.swap(this.catalog.withTariff(index));
  }
}
