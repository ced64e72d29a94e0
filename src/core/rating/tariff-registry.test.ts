import { describe, expect, it } from 'vitest';
import { terms, version } from './fixtures/rates.ts';
import type { TariffData, TariffVersion } from './tariff.ts';
import { buildTariffIndex, tariffDataProblems } from './tariff-index.ts';
import { TariffCatalog, TariffRegistry } from './tariff-registry.ts';

function tariff(overrides: Partial<TariffVersion>, perMinute: string): TariffData {
  return {
    version: version(overrides),
    destinations: [{ name: 'France', rate: { terms: terms({ perMinute }), periods: [] } }],
    routes: [{ prefix: '33', destinationIndex: 0 }],
  };
}

const januaryMs = Date.UTC(2026, 0, 1);
const februaryMs = Date.UTC(2026, 1, 1);
const marchMs = Date.UTC(2026, 2, 1);

describe('TariffCatalog', () => {
  const january = buildTariffIndex(tariff({ effectiveFromMs: januaryMs }, '0.10'));
  const february = buildTariffIndex(
    tariff({ effectiveFromMs: februaryMs, effectiveToMs: marchMs }, '0.20'),
  );
  const catalog = TariffCatalog.of([january, february]);

  it.each([
    ['before any version', januaryMs - 1, undefined],
    ['in January', januaryMs + 1, '0.10'],
    ['at the instant February starts', februaryMs, '0.20'],
    ['after February ended, with no later version', marchMs, undefined],
  ])('given a call %s, then the version in force is chosen', (_given, startMs, expected) => {
    const found = catalog.tariffAt('acme', startMs);
    const expectedNanos =
      expected === undefined ? undefined : expected === '0.10' ? 100_000_000n : 200_000_000n;
    expect(found?.destinations[0]?.rate.terms.pricePerMinuteNanos).toBe(expectedNanos);
  });

  it('given a corrected version with the same start, then it replaces the old one', () => {
    const corrected = buildTariffIndex(tariff({ effectiveFromMs: januaryMs }, '0.11'));
    const next = catalog.withTariff(corrected);
    expect(next.versions('acme')).toHaveLength(2);
    expect(next.tariffAt('acme', januaryMs)).toBe(corrected);
    expect(catalog.tariffAt('acme', januaryMs)).toBe(january);
  });

  it('given a removal, then the carrier disappears with its last version', () => {
    const next = catalog.withoutTariff('acme', januaryMs).withoutTariff('acme', februaryMs);
    expect(next.carrierIds()).toEqual([]);
    expect(catalog.carrierIds()).toEqual(['acme']);
  });
});

describe('TariffRegistry', () => {
  it('given a reader holding a snapshot, when a new version is installed, then the reader keeps its snapshot', () => {
    const registry = new TariffRegistry();
    registry.install(buildTariffIndex(tariff({ effectiveFromMs: januaryMs }, '0.10')));
    const reader = registry.current();
    const previous = registry.install(
      buildTariffIndex(tariff({ effectiveFromMs: januaryMs }, '0.20')),
    );
    expect(previous).toBe(reader);
    expect(
      reader.tariffAt('acme', februaryMs)?.match('33')?.rate.rate.terms.pricePerMinuteNanos,
    ).toBe(100_000_000n);
    expect(
      registry.current().tariffAt('acme', februaryMs)?.match('33')?.rate.rate.terms
        .pricePerMinuteNanos,
    ).toBe(200_000_000n);
  });

  it('given swap, then the whole catalog is replaced at once', () => {
    const registry = new TariffRegistry();
    const next = TariffCatalog.of([
      buildTariffIndex(tariff({ effectiveFromMs: januaryMs }, '0.10')),
    ]);
    expect(registry.swap(next).carrierIds()).toEqual([]);
    expect(registry.current()).toBe(next);
  });
});

describe('buildTariffIndex', () => {
  it('given data from the store, then it matches and prices', () => {
    const index = buildTariffIndex(tariff({}, '0.10'));
    expect(index.match('33612345678')).toMatchObject({
      prefix: '33',
      destinationName: 'France',
      destinationIndex: 0,
    });
    expect(index.match('44')).toBeUndefined();
    expect(index.prefixCount).toBe(1);
    expect(index.toData()).toEqual(tariff({}, '0.10'));
  });

  it.each([
    [
      'a route to a missing destination',
      { routes: [{ prefix: '33', destinationIndex: 3 }] },
      'routes to a missing destination',
    ],
    [
      'a prefix routed twice',
      {
        routes: [
          { prefix: '33', destinationIndex: 0 },
          { prefix: '33', destinationIndex: 0 },
        ],
      },
      'routed twice',
    ],
    [
      'a prefix with letters',
      { routes: [{ prefix: '3x', destinationIndex: 0 }] },
      'is not 0 to 20 digits',
    ],
    [
      'a zero increment',
      {
        destinations: [
          {
            name: 'F',
            rate: { terms: terms({ perMinute: '1', increments: [0, 60] }), periods: [] },
          },
        ],
      },
      'initial increment',
    ],
  ])('given %s, then the problem is named and indexing refuses', (_given, change, message) => {
    const data = { ...tariff({}, '0.10'), ...change } as TariffData;
    expect(tariffDataProblems(data).join('; ')).toContain(message);
    expect(() => buildTariffIndex(data)).toThrow('invalid tariff data');
  });
});
