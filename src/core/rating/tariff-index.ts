// One tariff version made ready for rating: its destinations with their rates prepared for
// pricing, and a prefix index from dialled digits to destination. Immutable once built, so a new
// version can be built aside while calls are rated against the old one.

import { assert } from '../shared/assert.ts';
import { type PrefixIndex, PrefixIndexBuilder, prefixValueMax } from './prefix-index.ts';
import { type RateContext, rateContext } from './rate-context.ts';
import {
  type Destination,
  isPrefix,
  type PrefixRoute,
  rateProblems,
  type TariffData,
  type TariffVersion,
  versionProblems,
} from './tariff.ts';

/** What a dialled number matched in one tariff version. */
export interface TariffMatch {
  /** The matched prefix: the first `prefix.length` digits of the number ('' for the catch-all). */
  readonly prefix: string;
  readonly destinationIndex: number;
  readonly destinationName: string;
  /** Pass to `cost` and `allowance`. */
  readonly rate: RateContext;
}

/** An immutable, indexed tariff version. Build it with `buildTariffIndex` or `TariffIndexBuilder`. */
export class TariffIndex {
  readonly version: TariffVersion;
  readonly destinations: readonly Destination[];
  private readonly rates: readonly RateContext[];
  private readonly prefixes: PrefixIndex;

  constructor(args: {
    version: TariffVersion;
    destinations: readonly Destination[];
    prefixes: PrefixIndex;
  }) {
    const problems = versionProblems(args.version);
    assert(problems.length === 0, `invalid tariff version: ${problems.join('; ')}`);
    this.version = args.version;
    this.destinations = args.destinations;
    this.rates = args.destinations.map((destination) =>
      rateContext(args.version, destination.rate),
    );
    this.prefixes = args.prefixes;
  }

  /** How many prefixes route to a destination. */
  get prefixCount(): number {
    return this.prefixes.size;
  }

  /** Bytes held by the prefix index's typed arrays (destinations and rates not included). */
  get prefixIndexByteLength(): number {
    return this.prefixes.byteLength;
  }

  /**
   * The destination for a normalized dialled number (digits only), by longest prefix match, or
   * undefined when no prefix (and no catch-all) matches.
   */
  match(digits: string): TariffMatch | undefined {
    const found = this.prefixes.longestMatch(digits);
    if (found === undefined) return undefined;
    return {
      prefix: digits.slice(0, found.length),
      destinationIndex: found.value,
      destinationName: this.destinations[found.value]!.name,
      rate: this.rates[found.value]!,
    };
  }

  /** The prepared rate of one destination. */
  rateOf(destinationIndex: number): RateContext {
    const rate = this.rates[destinationIndex];
    assert(rate !== undefined, 'destination index out of range');
    return rate;
  }

  /** Every prefix route, in lexicographic order of prefix. */
  *routes(): IterableIterator<PrefixRoute> {
    for (const [prefix, destinationIndex] of this.prefixes.entries()) {
      yield { prefix, destinationIndex };
    }
  }

  /** The version as plain data (what the store keeps and the exporters write). */
  toData(): TariffData {
    return { version: this.version, destinations: this.destinations, routes: [...this.routes()] };
  }
}

/**
 * Builds a tariff index incrementally, for importers that stream a million rows: destinations
 * and routes as they appear, the version settings at the end.
 */
export class TariffIndexBuilder {
  private readonly destinations: Destination[] = [];
  private readonly prefixes: PrefixIndexBuilder;

  constructor(expectedRoutes = 1_024) {
    this.prefixes = new PrefixIndexBuilder(expectedRoutes);
  }

  /** How many destinations have been added. */
  get destinationCount(): number {
    return this.destinations.length;
  }

  /** How many routes have been added. */
  get routeCount(): number {
    return this.prefixes.size;
  }

  /** Adds a destination (its rate must be valid) and returns its index. */
  addDestination(destination: Destination): number {
    assert(this.destinations.length <= prefixValueMax, 'too many destinations');
    this.destinations.push(destination);
    return this.destinations.length - 1;
  }

  /**
   * Routes a prefix to a destination. Returns -1 when added, or the line of the earlier route for
   * the same prefix (which is kept).
   */
  addRoute(prefix: string, destinationIndex: number, line = 0): number {
    assert(isPrefix(prefix), 'prefix must be 0 to 20 digits');
    assert(
      destinationIndex >= 0 && destinationIndex < this.destinations.length,
      'route to an unknown destination',
    );
    return this.prefixes.add(prefix, destinationIndex, line);
  }

  /** Packs the index. The builder cannot be used afterwards. */
  build(version: TariffVersion): TariffIndex {
    return new TariffIndex({
      version,
      destinations: this.destinations,
      prefixes: this.prefixes.build(),
    });
  }
}

/** The problems with a whole tariff's data, as sentences; empty when it can be indexed. */
export function tariffDataProblems(data: TariffData): string[] {
  const problems = versionProblems(data.version);
  data.destinations.forEach((destination, index) => {
    for (const problem of rateProblems(destination.rate)) {
      problems.push(`destination ${index} "${destination.name}": ${problem}`);
    }
  });
  const seen = new Set<string>();
  for (const route of data.routes) {
    if (!isPrefix(route.prefix)) problems.push(`prefix "${route.prefix}" is not 0 to 20 digits`);
    if (seen.has(route.prefix)) problems.push(`prefix "${route.prefix}" is routed twice`);
    seen.add(route.prefix);
    if (
      !Number.isInteger(route.destinationIndex) ||
      data.destinations[route.destinationIndex] === undefined
    ) {
      problems.push(`prefix "${route.prefix}" routes to a missing destination`);
    }
  }
  return problems;
}

/**
 * Indexes a tariff version held as plain data, for instance rows loaded from the store. The data
 * must be valid (`tariffDataProblems` empty): importers guarantee it before anything is stored,
 * so invalid data here is a bug and fails an assertion.
 *
 * @example
 * const index = buildTariffIndex({ version, destinations, routes: [{ prefix: '33', destinationIndex: 0 }] });
 * index.match('33612345678')?.destinationName // 'France'
 */
export function buildTariffIndex(data: TariffData): TariffIndex {
  const problems = tariffDataProblems(data);
  assert(problems.length === 0, `invalid tariff data: ${problems.slice(0, 5).join('; ')}`);
  const builder = new TariffIndexBuilder(data.routes.length);
  for (const destination of data.destinations) builder.addDestination(destination);
  for (const route of data.routes) builder.addRoute(route.prefix, route.destinationIndex);
  return builder.build(data.version);
}
