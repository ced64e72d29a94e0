import { describe, expect, it } from 'vitest';
import { cost } from './cost.ts';
import { tollgate } from './fixtures/fixtures.ts';
import { destinationKey, type TariffData } from './tariff.ts';
import { buildTariffIndex } from './tariff-index.ts';
import {
  exportTollgateCsv,
  importTollgateCsv,
  loadTollgateCsv,
  progressEveryLines,
  TollgateCsvLoader,
} from './tollgate-csv.ts';

/** Routes as prefix -> destination content, so tariffs compare whatever their numbering. */
function routeContents(data: TariffData): Map<string, string> {
  return new Map(
    data.routes.map((route) => [
      route.prefix,
      destinationKey(data.destinations[route.destinationIndex]!),
    ]),
  );
}

describe('importTollgateCsv', () => {
  it('given the fixture deck, then version, destinations and routes are read', () => {
    const result = importTollgateCsv(tollgate.tariff, { file: 'tariff.csv' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { version, destinations, routes } = result.value;
    expect(version).toEqual({
      carrierId: 'acme',
      currency: 'EUR',
      timeZone: 'Europe/Paris',
      roundingMode: 'half_up',
      periodPolicy: 'per_increment',
      effectiveFromMs: Date.UTC(2026, 0, 1),
    });
    expect(routes.map((route) => route.prefix)).toEqual(['', '33', '336', '337', '44']);
    // 336 and 337 carry the same rate text, so they share one destination.
    expect(destinations.map((destination) => destination.name).sort()).toEqual([
      'France',
      'France Mobile',
      'Rest of world',
      'United Kingdom, landline',
    ]);
    const france = destinations.find((destination) => destination.name === 'France')!;
    expect(france.rate.periods).toEqual([
      {
        name: 'peak',
        weekdays: [1, 2, 3, 4, 5],
        fromSecondOfDay: 8 * 3_600,
        toSecondOfDay: 19 * 3_600,
        terms: {
          connectFeeNanos: 50_000_000n,
          pricePerMinuteNanos: 25_000_000n,
          initialIncrementSeconds: 60,
          subsequentIncrementSeconds: 60,
          minimumChargeNanos: 0n,
        },
      },
    ]);
    const uk = destinations.find((destination) => destination.name.startsWith('United'))!;
    expect(uk.rate.terms.initialPricePerMinuteNanos).toBe(50_000_000n);
  });

  it('given the fixture deck, then calls are priced by its rates', () => {
    const loaded = loadTollgateCsv(tollgate.tariff);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const index = loaded.value;
    const mondayTenParis = Date.UTC(2026, 0, 5, 9);
    const cases: [string, number, bigint][] = [
      // [dialled, seconds, then cents]: peak France is 0.05 + 0.025 = 0.075, half_up -> 8.
      ['33142000000', 60, 8n],
      // French mobile: 30/6 at 0.09, minimum 0.10.
      ['33612345678', 31, 10n],
      ['33612345678', 600, 90n],
      // UK: first minute at 0.05, then per second at 0.02.
      ['442071234567', 90, 6n],
      // Anything else: the catch-all at 0.50 per minute.
      ['81312345678', 61, 100n],
    ];
    // The example of docs/tariff-csv.md: 07:59:30 Paris, 90 s = 0.05 + 0.0123 + 0.025 -> 0.09.
    expect(cost(index.match('33142000000')!.rate, Date.UTC(2026, 0, 5, 6, 59, 30), 90)).toBe(9n);
    for (const [dialled, seconds, expected] of cases) {
      const match = index.match(dialled)!;
      expect(cost(match.rate, mondayTenParis, seconds), dialled).toBe(expected);
    }
  });

  it('given an exported deck, when it is imported again, then it is the same tariff', () => {
    const first = importTollgateCsv(tollgate.tariff);
    if (!first.ok) throw new Error('fixture must import');
    const exported = exportTollgateCsv(first.value);
    const second = importTollgateCsv(exported);
    if (!second.ok) throw new Error(JSON.stringify(second.errors));
    expect(second.value.version).toEqual(first.value.version);
    expect(routeContents(second.value)).toEqual(routeContents(first.value));
    expect(exportTollgateCsv(second.value)).toBe(exported);
  });

  it('given an index, when it is exported and re-indexed, then every prefix matches alike', () => {
    const loaded = loadTollgateCsv(tollgate.tariff);
    if (!loaded.ok) throw new Error('fixture must load');
    const reloaded = loadTollgateCsv(exportTollgateCsv(loaded.value));
    if (!reloaded.ok) throw new Error('export must load');
    const rebuilt = buildTariffIndex(reloaded.value.toData());
    for (const dialled of ['33142000000', '33612345678', '33712345678', '447700900000', '1555']) {
      expect(rebuilt.match(dialled)?.destinationName).toBe(
        loaded.value.match(dialled)?.destinationName,
      );
      expect(rebuilt.match(dialled)?.prefix).toBe(loaded.value.match(dialled)?.prefix);
    }
  });
});

describe('importTollgateCsv with bad lines', () => {
  it('given the bad fixture, then every bad line is reported with its number and nothing is imported', () => {
    const result = importTollgateCsv(tollgate.bad, { file: 'bad.csv' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const lines = result.errors.map((issue) => [issue.line, issue.message]);
    const expected: [number, string][] = [
      [6, 'prefix "33" repeats line 5'],
      [7, 'price_per_minute: "1e-3" is not a plain decimal price'],
      [8, 'price_per_minute: "0.1234567891" has more than 9 digits after the decimal point'],
      [9, 'prefix "3a" is not 1 to 20 digits'],
      [10, 'initial increment must be 1 to 3600 whole seconds'],
      [12, 'period "night" must end after it starts'],
      [13, 'expected 13 fields, found 12'],
      [15, 'weekdays "mon-fri" must be like 1-5'],
      [16, 'maximum charge is below the connect fee'],
    ];
    for (const [line, message] of expected) {
      expect(
        lines.some(([at, text]) => at === line && String(text).includes(message)),
        `line ${line}: ${message}`,
      ).toBe(true);
    }
    expect(result.errors.every((issue) => issue.file === 'bad.csv')).toBe(true);
    expect(new Set(result.errors.map((issue) => issue.line))).toEqual(
      new Set(expected.map(([line]) => line)),
    );
  });

  const header =
    'prefix,destination,price_per_minute,initial_increment_seconds,subsequent_increment_seconds';
  it.each([
    [
      'no settings at all',
      `${header}\n33,France,0.01,60,60\n`,
      [
        [0, 'no carrier'],
        [0, 'no currency'],
        [0, 'no effective_from'],
      ],
    ],
    [
      'an unknown currency',
      `# carrier: a\n# currency: XYZ\n# effective_from: 2026-01-01\n${header}\n`,
      [[2, 'currency "XYZ" is not a currency Tollgate knows']],
    ],
    [
      'an empty effective_from',
      `# carrier: a\n# currency: USD\n# effective_from:\n${header}\n`,
      [[3, 'no effective_from']],
    ],
    [
      'a local time without zone',
      `# carrier: a\n# currency: USD\n# effective_from: 2026-01-01 08:00\n${header}\n`,
      [[3, 'must be a UTC time']],
    ],
    [
      'an unknown time zone',
      `# carrier: a\n# currency: USD\n# time_zone: Mars/Olympus\n# effective_from: 2026-01-01\n${header}\n`,
      [[0, 'unknown time zone "Mars/Olympus"']],
    ],
    [
      'an unknown column',
      `# carrier: a\n# currency: USD\n# effective_from: 2026-01-01\n${header},colour\n`,
      [[4, 'unknown column "colour"']],
    ],
    [
      'a missing column',
      '# carrier: a\n# currency: USD\n# effective_from: 2026-01-01\nprefix,destination\n',
      [[4, 'missing column "price_per_minute"']],
    ],
    [
      'an orphan period row',
      `# carrier: a\n# currency: USD\n# effective_from: 2026-01-01\n${header},period,weekdays,from,to\n33,France,0.02,60,60,peak,1-5,08:00,19:00\n`,
      [[5, "must follow that prefix's base row"]],
    ],
    [
      'a quote left open',
      `# carrier: a\n# currency: USD\n# effective_from: 2026-01-01\n${header}\n33,"France,0.01,60,60\n`,
      [[5, 'malformed quoting']],
    ],
  ] as const)('given %s, then the issue names its line', (_given, text, expected) => {
    const result = importTollgateCsv(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    for (const [line, message] of expected) {
      expect(
        result.errors.some((issue) => issue.line === line && issue.message.includes(message)),
        message,
      ).toBe(true);
    }
  });

  it('given settings as options, then a file without them imports', () => {
    const result = importTollgateCsv(`${header}\n33,France,0.01,60,60\n`, {
      version: { carrierId: 'acme', currency: 'USD', effectiveFromMs: 0 },
    });
    expect(result.ok).toBe(true);
  });
});

describe('TollgateCsvLoader', () => {
  it('given the deck pushed in odd chunks, then the result equals a whole-text load', () => {
    const whole = loadTollgateCsv(tollgate.tariff);
    if (!whole.ok) throw new Error('fixture must load');
    for (const size of [1, 7, 64]) {
      const loader = new TollgateCsvLoader();
      for (let at = 0; at < tollgate.tariff.length; at += size)
        loader.push(tollgate.tariff.slice(at, at + size));
      const chunked = loader.finish();
      if (!chunked.ok) throw new Error(JSON.stringify(chunked.errors));
      expect(exportTollgateCsv(chunked.value)).toBe(exportTollgateCsv(whole.value));
    }
  });

  it('given a long deck, then progress is reported every 10,000 lines and at the end', () => {
    const rows = Array.from(
      { length: 25_000 },
      (_, index) => `${1_000_000 + index},Somewhere,0.01,60,60`,
    );
    const text = `# carrier: a\n# currency: USD\n# effective_from: 2026-01-01\nprefix,destination,price_per_minute,initial_increment_seconds,subsequent_increment_seconds\n${rows.join('\n')}\n`;
    const reports: number[] = [];
    const result = loadTollgateCsv(text, { onProgress: (lines) => reports.push(lines) });
    expect(result.ok && result.value.prefixCount).toBe(25_000);
    expect(reports).toEqual([progressEveryLines, 2 * progressEveryLines, 25_004]);
    // Twenty-five thousand prefixes with one rate text share a single destination.
    expect(result.ok && result.value.destinations.length).toBe(1);
  });
});
