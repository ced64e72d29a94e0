// Rating benchmark: a generated deck of 1,000,000 prefixes in the Tollgate CSV format, read and
// indexed; longest-prefix lookups for random dialled numbers; memory held by the index; and
// allowance speed. Baselines are measured in the same run: a naive startsWith scan over the same
// prefixes (on a small sample, it is that slow), and a Map probed from the longest length down,
// the other design the prefix index was chosen against.
//
// Run alone: node --import tsx bench/rating.ts

import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { allowance } from '../src/core/rating/cost.ts';
import type { TariffIndex } from '../src/core/rating/tariff-index.ts';
import { buildTariffIndex } from '../src/core/rating/tariff-index.ts';
import { loadTollgateCsv } from '../src/core/rating/tollgate-csv.ts';

const prefixCount = 1_000_000;
const lookupNumbers = 1_000_000;
const lookupPasses = 5;
const baselineSample = 20;
const allowanceCalls = 200_000;

/** A small deterministic generator (mulberry32), so every run rates the same deck. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const countryCodes = [
  '1',
  '7',
  '20',
  '27',
  '30',
  '31',
  '32',
  '33',
  '34',
  '36',
  '39',
  '40',
  '41',
  '43',
  '44',
  '45',
  '46',
  '47',
  '48',
  '49',
  '51',
  '52',
  '53',
  '54',
  '55',
  '56',
  '57',
  '58',
  '60',
  '61',
  '62',
  '63',
  '64',
  '65',
  '66',
  '81',
  '82',
  '84',
  '86',
  '90',
  '91',
  '92',
  '93',
  '94',
  '95',
  '98',
  '212',
  '213',
  '216',
  '218',
  '220',
  '221',
  '223',
  '224',
  '225',
  '226',
  '227',
  '228',
  '229',
  '230',
  '231',
  '233',
  '234',
  '235',
  '237',
  '238',
  '240',
  '241',
  '242',
  '243',
  '244',
  '248',
  '249',
  '250',
  '251',
  '252',
  '253',
  '254',
  '255',
  '256',
  '257',
  '258',
  '260',
  '261',
  '263',
  '264',
  '265',
  '266',
  '267',
  '268',
  '269',
  '351',
  '352',
  '353',
  '354',
  '355',
  '356',
  '357',
  '358',
  '359',
  '370',
  '371',
  '372',
  '373',
  '374',
  '375',
  '376',
  '377',
  '378',
  '380',
  '381',
  '382',
  '385',
  '386',
  '387',
  '389',
  '420',
  '421',
  '423',
  '502',
  '503',
  '504',
  '505',
  '506',
  '507',
  '509',
  '591',
  '592',
  '593',
  '595',
  '597',
  '598',
  '852',
  '853',
  '855',
  '856',
  '880',
  '886',
  '960',
  '961',
  '962',
  '963',
  '964',
  '965',
  '966',
  '967',
  '968',
  '970',
  '971',
  '972',
  '973',
  '974',
  '975',
  '976',
  '977',
  '992',
  '993',
  '994',
  '995',
  '996',
  '998',
];

interface Deck {
  readonly text: string;
  readonly prefixes: readonly string[];
  readonly lines: number;
}

/**
 * A deck shaped like a wholesale A-Z: country code, then 2 to 10 more digits; 5,000 distinct
 * rates; one prefix in ten with a weekday peak period row.
 */
function generateDeck(random: () => number): Deck {
  const prefixes = new Set<string>();
  while (prefixes.size < prefixCount) {
    let prefix = countryCodes[Math.floor(random() * countryCodes.length)]!;
    const length = prefix.length + 2 + Math.floor(random() * 9);
    while (prefix.length < length) prefix += String(Math.floor(random() * 10));
    prefixes.add(prefix);
  }
  const lines = [
    '# tollgate-tariff 1',
    '# carrier: bench',
    '# currency: USD',
    '# time_zone: Europe/Paris',
    '# rounding: up',
    '# effective_from: 2026-01-01T00:00:00Z',
    'prefix,destination,period,weekdays,from,to,connect_fee,price_per_minute,initial_price_per_minute,initial_increment_seconds,subsequent_increment_seconds,minimum_charge,maximum_charge',
  ];
  const increments = ['60,60', '30,6', '1,1', '60,1'];
  for (const prefix of prefixes) {
    const rate = Math.floor(random() * 5_000);
    const price = `0.${String(1_000 + rate * 7).padStart(5, '0')}`;
    const steps = increments[rate % increments.length]!;
    lines.push(`${prefix},Destination ${rate},,,,,0.0${rate % 10},${price},,${steps},0,`);
    if (rate % 10 === 0) {
      lines.push(
        `${prefix},Destination ${rate},peak,1-5,08:00,19:00,0.0${rate % 10},0.${String(2_000 + rate * 7).padStart(5, '0')},,${steps},0,`,
      );
    }
  }
  return { text: `${lines.join('\n')}\n`, prefixes: [...prefixes], lines: lines.length };
}

/** Dialled numbers: 95% extend a deck prefix to 11-13 digits, 5% are random digits. */
function generateNumbers(prefixes: readonly string[], random: () => number): string[] {
  const numbers: string[] = [];
  for (let index = 0; index < lookupNumbers; index += 1) {
    let number = random() < 0.95 ? prefixes[Math.floor(random() * prefixes.length)]! : '';
    const length = 11 + Math.floor(random() * 3);
    while (number.length < length) number += String(Math.floor(random() * 10));
    // Flatten the concatenated string now, so lookups time the index, not string repair.
    numbers.push(number.split('').join(''));
  }
  return numbers;
}

function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

/**
 * A way to force garbage collection, so heap figures measure what is retained: global.gc when
 * node runs with --expose-gc, else one obtained by setting that flag at run time.
 */
function findCollector(): { gc: (() => void) | undefined; method: string } {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) {
    return {
      gc: exposed,
      method: 'global.gc (--expose-gc): heapUsed + arrayBuffers after forced collections',
    };
  }
  try {
    setFlagsFromString('--expose-gc');
    const obtained = runInNewContext('gc') as () => void;
    return {
      gc: obtained,
      method:
        'gc obtained via v8.setFlagsFromString: heapUsed + arrayBuffers after forced collections',
    };
  } catch {
    return {
      gc: undefined,
      method:
        'no gc available: process.memoryUsage() deltas without forced collection (approximate)',
    };
  }
}

const { gc, method: memoryMethod } = findCollector();

function heapBytes(): number {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

function perSecond(count: number, ms: number): string {
  return `${Math.round(count / (ms / 1_000)).toLocaleString('en-US')}/s`;
}

function measureLookups(
  index: TariffIndex,
  numbers: readonly string[],
): { ms: number; matched: number } {
  let matched = 0;
  const startNs = process.hrtime.bigint();
  for (let pass = 0; pass < lookupPasses; pass += 1) {
    for (let at = 0; at < numbers.length; at += 1) {
      if (index.match(numbers[at]!) !== undefined) matched += 1;
    }
  }
  return { ms: elapsedMs(startNs), matched };
}

function measureLinearScan(prefixes: readonly string[], numbers: readonly string[]): number {
  const startNs = process.hrtime.bigint();
  for (let at = 0; at < baselineSample; at += 1) {
    const number = numbers[at]!;
    let best = '';
    for (const prefix of prefixes) {
      if (prefix.length > best.length && number.startsWith(prefix)) best = prefix;
    }
    if (best === 'impossible') throw new Error('unreachable');
  }
  return elapsedMs(startNs);
}

function measureMapProbe(
  prefixes: readonly string[],
  numbers: readonly string[],
): { buildMs: number; lookupMs: number; bytes: number } {
  const before = heapBytes();
  const buildStartNs = process.hrtime.bigint();
  const map = new Map<string, number>();
  for (const [value, prefix] of prefixes.entries()) map.set(prefix, value);
  const lengths = [...new Set(prefixes.map((prefix) => prefix.length))].sort((a, b) => b - a);
  const buildMs = elapsedMs(buildStartNs);
  const bytes = heapBytes() - before;
  let found = 0;
  const startNs = process.hrtime.bigint();
  for (const number of numbers) {
    for (const length of lengths) {
      if (length <= number.length && map.has(number.slice(0, length))) {
        found += 1;
        break;
      }
    }
  }
  const lookupMs = elapsedMs(startNs);
  if (found < 0) throw new Error('unreachable');
  return { buildMs, lookupMs, bytes };
}

export async function run(): Promise<void> {
  const random = generator(20_260_105);
  console.log('rating benchmark: 1,000,000-prefix Tollgate CSV deck');
  const deck = generateDeck(random);
  const numbers = generateNumbers(deck.prefixes, random);
  console.log(
    `  deck: ${deck.lines.toLocaleString('en-US')} lines, ${megabytes(deck.text.length)} of CSV text`,
  );

  const before = heapBytes();
  let progressReports = 0;
  const buildStartNs = process.hrtime.bigint();
  const loaded = loadTollgateCsv(deck.text, {
    expectedRoutes: prefixCount,
    onProgress: () => {
      progressReports += 1;
    },
  });
  const buildMs = elapsedMs(buildStartNs);
  if (!loaded.ok) throw new Error(`bench deck failed to load: ${loaded.errors[0]?.message}`);
  const index = loaded.value;
  const indexBytes = heapBytes() - before;
  console.log(
    `  build (CSV text -> parsed -> index): ${buildMs.toFixed(0)} ms for ${index.prefixCount.toLocaleString('en-US')} prefixes, ${index.destinations.length} destinations, ${progressReports} progress reports`,
  );
  console.log(
    `  index memory: ${megabytes(indexBytes)} on the heap (${memoryMethod}); prefix trie arrays ${megabytes(index.prefixIndexByteLength)}`,
  );

  const rebuildStartNs = process.hrtime.bigint();
  const data = index.toData();
  const rebuilt = buildTariffIndex(data);
  const rebuildMs = elapsedMs(rebuildStartNs);
  console.log(
    `  rebuild from plain rows (store path: toData + buildTariffIndex): ${rebuildMs.toFixed(0)} ms for ${rebuilt.prefixCount.toLocaleString('en-US')} routes`,
  );

  const lookups = measureLookups(index, numbers);
  const lookupCount = numbers.length * lookupPasses;
  console.log(
    `  lookups: ${lookupCount.toLocaleString('en-US')} random dialled numbers in ${lookups.ms.toFixed(0)} ms = ${perSecond(lookupCount, lookups.ms)} (${((lookups.matched / lookupCount) * 100).toFixed(1)}% matched)`,
  );

  const scanMs = measureLinearScan(deck.prefixes, numbers);
  const indexRate = lookupCount / lookups.ms;
  const scanRate = baselineSample / scanMs;
  console.log(
    `  baseline, naive startsWith scan of all prefixes: ${baselineSample} lookups in ${scanMs.toFixed(0)} ms = ${perSecond(baselineSample, scanMs)}; index is ${Math.round(indexRate / scanRate).toLocaleString('en-US')}x faster`,
  );

  const map = measureMapProbe(deck.prefixes, numbers);
  console.log(
    `  alternative, Map probed longest length first: build ${map.buildMs.toFixed(0)} ms, ${megabytes(map.bytes)} (keys shared with the deck array), ${perSecond(numbers.length, map.lookupMs)}; index is ${(indexRate / (numbers.length / map.lookupMs)).toFixed(1)}x faster`,
  );

  const startMs = Date.UTC(2026, 0, 5, 6, 58);
  const rates = numbers
    .slice(0, 1_000)
    .map((number) => index.match(number)?.rate)
    .filter((rate) => rate !== undefined);
  const peakRates = rates.filter((rate) => rate.rate.periods.length > 0);
  for (const [label, sample] of [
    ['flat rates', rates.filter((rate) => rate.rate.periods.length === 0)],
    ['rates with a peak period (Paris, call at 07:58)', peakRates],
  ] as const) {
    let granted = 0;
    const allowanceStartNs = process.hrtime.bigint();
    for (let call = 0; call < allowanceCalls; call += 1) {
      granted += allowance(
        sample[call % sample.length]!,
        startMs + (call % 600) * 1_000,
        BigInt(50 + (call % 5_000)),
      );
    }
    const allowanceMs = elapsedMs(allowanceStartNs);
    console.log(
      `  allowance, ${label}: ${((allowanceMs * 1_000) / allowanceCalls).toFixed(2)} us per call (${perSecond(allowanceCalls, allowanceMs)}, ${granted > 0 ? 'granted' : 'none'})`,
    );
  }
  await measureStoreImport(deck.text);
}

/**
 * The whole import as `tollgate tariff import` runs it: parse and check every line, store the
 * version in chunks on the SQLite writer thread, activate it, swap it into the catalog; then
 * the rebuild a restarted server does from the stored rows.
 */
async function measureStoreImport(text: string): Promise<void> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { openStore } = await import('../src/store/store.ts');
  const { createServices } = await import('../src/services.ts');
  const { systemCaller } = await import('../src/core/shared/principal.ts');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-rating-bench-'));
  const clock = { nowMs: () => Date.now() };
  try {
    const sqlitePath = join(dir, 'rating.db');
    const store = await openStore({ sqlitePath, clock });
    const services = await createServices(store, clock);
    await services.rating.createCarrier(systemCaller, { id: 'bench', name: 'Bench' });
    const startNs = process.hrtime.bigint();
    const imported = await services.rating.importTariff(systemCaller, {
      carrierId: 'bench',
      format: 'tollgate',
      files: { tariff: text },
    });
    const importMs = elapsedMs(startNs);
    if (!imported.ok) throw new Error(`store import failed: ${imported.message}`);
    console.log(
      `  full import into SQLite (parse, check, store ${imported.value.routeCount.toLocaleString('en-US')} routes, activate, swap in): ${importMs.toFixed(0)} ms`,
    );
    await store.close();
    const reopenNs = process.hrtime.bigint();
    const again = await openStore({ sqlitePath, clock });
    const restarted = await createServices(again, clock);
    const reloadMs = elapsedMs(reopenNs);
    const loadedPrefixes =
      restarted.rating.registry.current().tariffAt('bench', Date.now())?.prefixCount ?? 0;
    console.log(
      `  restart: open the store and rebuild the catalog from stored rows: ${reloadMs.toFixed(0)} ms (${loadedPrefixes.toLocaleString('en-US')} prefixes)`,
    );
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
