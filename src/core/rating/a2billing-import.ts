// Imports an A2Billing rate card CSV, as A2Billing's own importer (CC_ratecard_import) reads it:
// three fixed columns, dialprefix, destination and rateinitial (the selling rate per minute),
// followed by the additional columns the operator picked, in the order picked. Lines starting
// with '#' are comments; fields are separated by ',' or ';' (with ';', a decimal comma is read as a
// point, as A2Billing does).
//
// How A2Billing's rating (Class.RateEngine) maps:
// - initblock is the shortest billed duration and billingblock the rounding step of the whole
//   duration. When initblock is a multiple of billingblock that is exactly Tollgate's initial
//   and subsequent increments (0 means: per second); otherwise it is reported.
// - connectcharge is the connect fee; disconnectcharge is charged once per call too, so it is
//   added to the connect fee, unless disconnectcharge_after makes it depend on the duration.
// - minimal_cost is the minimum charge.
// - starttime / endtime are minutes of the week (0 is Monday 00:00, 10079 Sunday 23:59, both
//   inclusive). Rows of one prefix with different windows become periods; A2Billing prices a call
//   by the row in force when it starts, so the tariff's period policy is `call_start`.
// - dialprefix "defaultprefix" is the catch-all route.
// - buyrate*, tag and announce_time_correction do not change what the caller pays and are ignored.
// - Progressive charges (chargea/b/c with their times), rounding_calltime, additional block
//   charges, additional_grace, package offers and per-row start/stop dates change charges in
//   ways a Tollgate rate cannot express: a row that uses them is reported.

import type { Currency } from '../money/money.ts';
import type { RoundingMode } from '../money/rounding.ts';
import { type CsvRecord, type ImportResult, IssueLog, readCsvRecords } from './import-issues.ts';
import { parsePriceNanos, priceRefusalMessage } from './price.ts';
import {
  type Destination,
  destinationKey,
  type IsoWeekday,
  incrementSecondsMax,
  isPrefix,
  type PrefixRoute,
  type RatePeriod,
  type RateTerms,
  rateProblems,
  roundingModeDefault,
  secondsPerDay,
  type TariffData,
  type TariffVersion,
  termsKey,
  versionProblems,
} from './tariff.ts';

/** The additional columns A2Billing's rate card import offers, by their database names. */
export const a2billingColumns = [
  'buyrate',
  'buyrateinitblock',
  'buyrateincrement',
  'initblock',
  'billingblock',
  'connectcharge',
  'disconnectcharge',
  'disconnectcharge_after',
  'minimal_cost',
  'stepchargea',
  'chargea',
  'timechargea',
  'billingblocka',
  'stepchargeb',
  'chargeb',
  'timechargeb',
  'billingblockb',
  'stepchargec',
  'chargec',
  'timechargec',
  'billingblockc',
  'startdate',
  'stopdate',
  'additional_grace',
  'starttime',
  'endtime',
  'tag',
  'rounding_calltime',
  'rounding_threshold',
  'additional_block_charge',
  'additional_block_charge_time',
  'announce_time_correction',
  'freetimetocall_package_offer',
] as const;
export type A2BillingColumn = (typeof a2billingColumns)[number];

const fixedColumns = ['dialprefix', 'destination', 'rateinitial'] as const;

/** The last minute of A2Billing's week (Sunday 23:59). */
const weekMinuteLast = 7 * 24 * 60 - 1;

export interface A2BillingImportOptions {
  readonly carrierId: string;
  readonly currency: Currency;
  readonly effectiveFromMs: number;
  readonly effectiveToMs?: number;
  /** The zone A2Billing's server ran in, which its week minutes refer to; default UTC. */
  readonly timeZone?: string;
  readonly roundingMode?: RoundingMode;
  /**
   * The additional columns after the three fixed ones, in file order, as chosen in A2Billing's
   * import form. May be omitted when the file starts with a header row naming its columns.
   */
  readonly columns?: readonly A2BillingColumn[];
  /** "cent": rateinitial, buyrate, connectcharge and disconnectcharge are in cents. */
  readonly currencyType?: 'unit' | 'cent';
  /** Field separator; detected from the first data line when omitted. */
  readonly delimiter?: ',' | ';';
  /** The name issues carry (default "ratecard.csv"). */
  readonly file?: string;
}

interface RowRate {
  readonly line: number;
  readonly prefix: string;
  readonly destination: string;
  readonly terms: RateTerms;
  readonly fromMinute: number;
  readonly toMinute: number;
}

/** Which columns charge in ways Tollgate cannot express, and when a value is harmless. */
const unmappable: readonly { columns: readonly A2BillingColumn[]; what: string }[] = [
  { columns: ['chargea', 'timechargea'], what: 'progressive charge a' },
  { columns: ['chargeb', 'timechargeb'], what: 'progressive charge b' },
  { columns: ['chargec', 'timechargec'], what: 'progressive charge c' },
  { columns: ['rounding_calltime', 'rounding_threshold'], what: 'call time rounding' },
  {
    columns: ['additional_block_charge', 'additional_block_charge_time'],
    what: 'additional block charge',
  },
  { columns: ['additional_grace'], what: 'additional grace time' },
];

function detectDelimiter(text: string): ',' | ';' {
  const firstData =
    text.split('\n').find((line) => line.trim() !== '' && !line.trimStart().startsWith('#')) ?? '';
  return firstData.includes(';') ? ';' : ',';
}

function isZero(text: string | undefined): boolean {
  return text === undefined || text === '' || /^0+(\.0*)?$/.test(text);
}

/** Splits a week-minute window into day windows in seconds. */
function dayWindows(
  fromMinute: number,
  toMinute: number,
): { weekday: IsoWeekday; from: number; to: number }[] {
  const windows: { weekday: IsoWeekday; from: number; to: number }[] = [];
  const startSecond = fromMinute * 60;
  const endSecond = (toMinute + 1) * 60;
  for (
    let dayStart = Math.floor(startSecond / secondsPerDay) * secondsPerDay;
    dayStart < endSecond;
    dayStart += secondsPerDay
  ) {
    windows.push({
      weekday: (dayStart / secondsPerDay + 1) as IsoWeekday,
      from: Math.max(startSecond, dayStart) - dayStart,
      to: Math.min(endSecond, dayStart + secondsPerDay) - dayStart,
    });
  }
  return windows;
}

/**
 * Imports an A2Billing rate card as a Tollgate tariff version.
 *
 * @example
 * importA2BillingRatecard(text, {
 *   carrierId: 'a2b', currency: 'USD', effectiveFromMs: Date.UTC(2026, 0, 1),
 *   columns: ['initblock', 'billingblock', 'connectcharge', 'minimal_cost'],
 * });
 */
export function importA2BillingRatecard(
  text: string,
  options: A2BillingImportOptions,
): ImportResult<TariffData> {
  const file = options.file ?? 'ratecard.csv';
  const log = new IssueLog();
  const delimiter = options.delimiter ?? detectDelimiter(text.replace(/\r\n?/g, '\n'));
  let records = readCsvRecords({ text, file, log, delimiter });
  let columns = options.columns;
  const first = records[0];
  if (first !== undefined && first.fields[0]?.toLowerCase() === 'dialprefix') {
    columns = readHeader(log, file, first, options.columns);
    records = records.slice(1);
  }
  const extra = columns ?? [];
  const rows: RowRate[] = [];
  for (const record of records) {
    const row = readRow({
      log,
      file,
      record,
      extra,
      delimiter,
      currencyType: options.currencyType ?? 'unit',
    });
    if (row !== undefined) rows.push(row);
  }

  const version: TariffVersion = {
    carrierId: options.carrierId,
    currency: options.currency,
    timeZone: options.timeZone ?? 'UTC',
    roundingMode: options.roundingMode ?? roundingModeDefault,
    periodPolicy: 'call_start',
    effectiveFromMs: options.effectiveFromMs,
    ...(options.effectiveToMs === undefined ? {} : { effectiveToMs: options.effectiveToMs }),
  };
  for (const problem of versionProblems(version)) log.error(file, 0, problem);

  const byPrefix = new Map<string, RowRate[]>();
  for (const row of rows) {
    const list = byPrefix.get(row.prefix) ?? [];
    list.push(row);
    byPrefix.set(row.prefix, list);
  }
  const destinations: Destination[] = [];
  const destinationIndexes = new Map<string, number>();
  const routes: PrefixRoute[] = [];
  for (const [prefix, prefixRows] of byPrefix) {
    const destination = prefixDestination(log, file, prefixRows);
    if (destination === undefined) continue;
    const key = destinationKey(destination);
    let index = destinationIndexes.get(key);
    if (index === undefined) {
      index = destinations.push(destination) - 1;
      destinationIndexes.set(key, index);
    }
    routes.push({ prefix, destinationIndex: index });
  }
  return log.result(() => ({ version, destinations, routes }));
}

function readHeader(
  log: IssueLog,
  file: string,
  record: CsvRecord,
  given: readonly A2BillingColumn[] | undefined,
): A2BillingColumn[] {
  const names = record.fields.map((name) => name.toLowerCase());
  fixedColumns.forEach((name, index) => {
    if (names[index] !== name) log.error(file, record.line, `column ${index + 1} must be ${name}`);
  });
  const extra: A2BillingColumn[] = [];
  for (const name of names.slice(fixedColumns.length)) {
    if ((a2billingColumns as readonly string[]).includes(name)) extra.push(name as A2BillingColumn);
    else log.error(file, record.line, `unknown column "${name}"`);
  }
  if (given !== undefined && given.join(',') !== extra.join(',')) {
    log.error(file, record.line, 'the header row and the columns option disagree');
  }
  return extra;
}

/** Reads the fields of one rate card line, logging each refusal against the line. */
class RowReader {
  private readonly log: IssueLog;
  private readonly file: string;
  private readonly fields: readonly string[];
  private readonly extra: readonly A2BillingColumn[];
  private readonly decimalComma: boolean;
  private readonly inCents: boolean;
  readonly line: number;
  valid = true;

  constructor(args: {
    log: IssueLog;
    file: string;
    record: CsvRecord;
    extra: readonly A2BillingColumn[];
    delimiter: ',' | ';';
    currencyType: 'unit' | 'cent';
  }) {
    this.log = args.log;
    this.file = args.file;
    this.fields = args.record.fields;
    this.line = args.record.line;
    this.extra = args.extra;
    this.decimalComma = args.delimiter === ';';
    this.inCents = args.currencyType === 'cent';
  }

  fail(message: string): void {
    this.log.error(this.file, this.line, message);
    this.valid = false;
  }

  /** A fixed column (0 dialprefix, 1 destination, 2 rateinitial). */
  fixed(index: 0 | 1 | 2): string {
    return this.fields[index] ?? '';
  }

  /** An additional column's text, or undefined when the file does not have that column. */
  value(column: A2BillingColumn): string | undefined {
    const index = this.extra.indexOf(column);
    if (index < 0) return undefined;
    const text = this.fields[fixedColumns.length + index] ?? '';
    // With ';' between fields, A2Billing reads a decimal comma as a point.
    return this.decimalComma ? text.replace(',', '.') : text;
  }

  /** Nanos of a money field; `centsable` fields are divided by 100 in "cent" files. */
  money(label: string, text: string | undefined, centsable: boolean): bigint {
    if (text === undefined || text === '') return 0n;
    const nanos = parsePriceNanos(this.decimalComma ? text.replace(',', '.') : text);
    if (typeof nanos === 'string') {
      this.fail(`${label}: ${priceRefusalMessage(nanos, text)}`);
      return 0n;
    }
    if (!centsable || !this.inCents) return nanos;
    if (nanos % 100n !== 0n) this.fail(`${label}: ${text} cents is finer than a nano`);
    return nanos / 100n;
  }

  whole(column: A2BillingColumn, fallback: number): number {
    const text = this.value(column);
    if (text === undefined || text === '') return fallback;
    if (!/^[0-9]{1,9}$/.test(text)) {
      this.fail(`${column} "${text}" must be a whole number`);
      return fallback;
    }
    return Number(text);
  }
}

function checkPrefix(row: RowReader): string {
  const text = row.fixed(0);
  if (text.startsWith('_')) {
    row.fail(`dialprefix "${text}" is an Asterisk pattern; only digit prefixes can be imported`);
  } else if (text !== 'defaultprefix' && (text === '' || !isPrefix(text))) {
    row.fail(`dialprefix "${text}" is not 1 to 20 digits or defaultprefix`);
  }
  return text === 'defaultprefix' ? '' : text;
}

/** Reports the columns whose values change charges in ways a Tollgate rate cannot express. */
function checkUnmappable(row: RowReader): void {
  for (const { columns, what } of unmappable) {
    if (columns.every((column) => !isZero(row.value(column)))) {
      row.fail(`${what} (${columns.join(', ')}) cannot be expressed as a Tollgate rate`);
    }
  }
  for (const column of ['startdate', 'stopdate'] as const) {
    if (!isZero(row.value(column))) {
      row.fail(
        `${column}: per-row dates are not imported; import each date range as its own tariff version`,
      );
    }
  }
  const packageOffer = row.value('freetimetocall_package_offer');
  if (!isZero(packageOffer) && packageOffer !== '-1') {
    row.fail('freetimetocall_package_offer: package offers are not part of a rate');
  }
}

/** initblock and billingblock as Tollgate increments (0 means per second). */
function increments(row: RowReader): { initial: number; subsequent: number } {
  const initblock = row.whole('initblock', 0);
  const billingblock = row.whole('billingblock', 0);
  const subsequent = billingblock > 0 ? billingblock : 1;
  const initial = initblock > 0 ? initblock : subsequent;
  if (initblock > 0 && billingblock > 0 && initblock % billingblock !== 0) {
    row.fail(
      `initblock ${initblock} is not a multiple of billingblock ${billingblock}: A2Billing rounds the whole duration to billingblock, which Tollgate increments match only then`,
    );
  }
  if (initial > incrementSecondsMax || subsequent > incrementSecondsMax) {
    row.fail(`increments above ${incrementSecondsMax} s are not supported`);
  }
  return { initial, subsequent };
}

/** The connect fee: connectcharge plus a disconnectcharge that every call pays. */
function connectFee(row: RowReader): bigint {
  const connect = row.money('connectcharge', row.value('connectcharge'), true);
  const disconnect = row.money('disconnectcharge', row.value('disconnectcharge'), true);
  if (disconnect > 0n && row.whole('disconnectcharge_after', 0) > 0) {
    row.fail(
      'disconnectcharge with disconnectcharge_after depends on the call length; Tollgate charges fees once per call',
    );
  }
  return connect + disconnect;
}

function readRow(args: ConstructorParameters<typeof RowReader>[0]): RowRate | undefined {
  const allowed = fixedColumns.length + args.extra.length;
  if (args.record.fields.length > allowed) {
    args.log.error(
      args.file,
      args.record.line,
      `expected at most ${allowed} fields, found ${args.record.fields.length} (pass the columns your file has)`,
    );
    return undefined;
  }
  const row = new RowReader(args);
  const prefix = checkPrefix(row);
  const destination = row.fixed(1);
  if (destination === '') row.fail('destination is empty');
  if (row.fixed(2) === '') row.fail('rateinitial is required');
  const pricePerMinuteNanos = row.money('rateinitial', row.fixed(2), true);
  checkUnmappable(row);
  const { initial, subsequent } = increments(row);
  const connectFeeNanos = connectFee(row);
  const minimumChargeNanos = row.money('minimal_cost', row.value('minimal_cost'), false);
  const fromMinute = row.whole('starttime', 0);
  const toMinute = row.whole('endtime', weekMinuteLast);
  if (fromMinute > toMinute || toMinute > weekMinuteLast) {
    row.fail(
      `starttime ${fromMinute} to endtime ${toMinute} must be minutes of the week, 0 to ${weekMinuteLast}, in order`,
    );
  }
  if (!row.valid) return undefined;
  return {
    line: row.line,
    prefix,
    destination,
    fromMinute,
    toMinute,
    terms: {
      connectFeeNanos,
      pricePerMinuteNanos,
      initialIncrementSeconds: initial,
      subsequentIncrementSeconds: subsequent,
      minimumChargeNanos,
    },
  };
}

/** One prefix's rows (one per week window) as one destination, or undefined after reporting. */
function prefixDestination(
  log: IssueLog,
  file: string,
  rows: readonly RowRate[],
): Destination | undefined {
  const sorted = [...rows].sort((a, b) => a.fromMinute - b.fromMinute);
  let expected = 0;
  let valid = true;
  const label = sorted[0]!.prefix === '' ? 'defaultprefix' : sorted[0]!.prefix;
  for (const row of sorted) {
    if (row.fromMinute < expected) {
      log.error(
        file,
        row.line,
        `dialprefix ${label}: week minutes ${row.fromMinute}-${row.toMinute} overlap another row`,
      );
      valid = false;
    } else if (row.fromMinute > expected) {
      log.error(
        file,
        row.line,
        `dialprefix ${label}: no rate for week minutes ${expected}-${row.fromMinute - 1}`,
      );
      valid = false;
    }
    expected = Math.max(expected, row.toMinute + 1);
  }
  if (expected <= weekMinuteLast) {
    log.error(
      file,
      sorted[sorted.length - 1]!.line,
      `dialprefix ${label}: no rate for week minutes ${expected}-${weekMinuteLast}`,
    );
    valid = false;
  }
  if (!valid) return undefined;
  const coverage = new Map<string, number>();
  for (const row of sorted) {
    coverage.set(
      termsKey(row.terms),
      (coverage.get(termsKey(row.terms)) ?? 0) + row.toMinute - row.fromMinute + 1,
    );
  }
  const baseKey = [...coverage.entries()].reduce((best, entry) =>
    entry[1] > best[1] ? entry : best,
  )[0];
  const base = sorted.find((row) => termsKey(row.terms) === baseKey)!;
  const periods = new Map<string, RatePeriod & { weekdays: IsoWeekday[] }>();
  for (const row of sorted) {
    if (termsKey(row.terms) === baseKey) continue;
    for (const window of dayWindows(row.fromMinute, row.toMinute)) {
      const key = `${window.from}-${window.to}-${termsKey(row.terms)}`;
      const existing = periods.get(key);
      if (existing) existing.weekdays.push(window.weekday);
      else
        periods.set(key, {
          name: `minutes ${row.fromMinute}-${row.toMinute}`,
          weekdays: [window.weekday],
          fromSecondOfDay: window.from,
          toSecondOfDay: window.to,
          terms: row.terms,
        });
    }
  }
  const destination: Destination = {
    name: base.destination,
    rate: { terms: base.terms, periods: [...periods.values()] },
  };
  const problems = rateProblems(destination.rate);
  for (const problem of problems) log.error(file, base.line, `dialprefix ${label}: ${problem}`);
  return problems.length === 0 ? destination : undefined;
}
