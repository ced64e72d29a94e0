// Tollgate's own tariff CSV format (specified in docs/tariff-csv.md): reading it fast enough for a
// million prefixes, with progress, and writing it back.
//
// The reader streams: text arrives in chunks (`TollgateCsvLoader.push`), complete lines are split
// on commas (csv-parse handles the rare line with quotes), and each prefix goes straight into the
// index builder, so no per-row objects pile up. Rows that carry identical rate text share one
// destination: the rate fields are parsed once per distinct text, not once per row.

import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { type Currency, isCurrency } from '../money/money.ts';
import { isRoundingMode } from '../money/rounding.ts';
import { assert } from '../shared/assert.ts';
import { type ImportResult, IssueLog } from './import-issues.ts';
import { formatPriceNanos, parsePriceNanos, priceRefusalMessage } from './price.ts';
import {
  type Destination,
  isPrefix,
  type PeriodPolicy,
  periodPolicies,
  type RatePeriod,
  type RateTerms,
  rateProblems,
  roundingModeDefault,
  type TariffData,
  type TariffVersion,
  termsProblems,
  versionProblems,
} from './tariff.ts';
import {
  formatClockTime,
  formatUtcInstant,
  formatWeekdays,
  parseClockTime,
  parseUtcInstant,
  parseWeekdays,
  parseWholeSeconds,
} from './tariff-fields.ts';
import { TariffIndex, TariffIndexBuilder } from './tariff-index.ts';

/** The columns of a Tollgate tariff CSV, in the order the exporter writes them. */
export const tollgateCsvColumns = [
  'prefix',
  'destination',
  'period',
  'weekdays',
  'from',
  'to',
  'connect_fee',
  'price_per_minute',
  'initial_price_per_minute',
  'initial_increment_seconds',
  'subsequent_increment_seconds',
  'minimum_charge',
  'maximum_charge',
] as const;
type Column = (typeof tollgateCsvColumns)[number];

const requiredColumns: readonly Column[] = [
  'prefix',
  'destination',
  'price_per_minute',
  'initial_increment_seconds',
  'subsequent_increment_seconds',
];
const periodColumns: readonly Column[] = ['period', 'weekdays', 'from', 'to'];

/** The first line the exporter writes; the reader accepts files without it. */
export const tollgateCsvMarker = '# tollgate-tariff 1';

/** The prefix column's spelling of the catch-all (empty) prefix. */
export const catchAllPrefixText = '*';

/** How often, in lines, the loader reports progress. */
export const progressEveryLines = 10_000;

const metadataKeys = [
  'carrier',
  'currency',
  'time_zone',
  'rounding',
  'period_policy',
  'effective_from',
  'effective_to',
] as const;
type MetadataKey = (typeof metadataKeys)[number];

/** Options for reading a Tollgate CSV. */
export interface TollgateCsvOptions {
  /** The name issues carry (default "tariff.csv"). */
  readonly file?: string;
  /** Version settings that take precedence over the file's "# key: value" lines. */
  readonly version?: Partial<TariffVersion>;
  /** Called every `progressEveryLines` lines and once at the end, with the lines read so far. */
  readonly onProgress?: (linesDone: number) => void;
  /** A hint that sizes the index builder up front (a million for a full deck). */
  readonly expectedRoutes?: number;
}

/** A parsed group: one prefix's base row and the period rows that follow it. */
interface PendingGroup {
  readonly prefix: string;
  readonly lines: number[];
  readonly rows: (readonly string[])[];
  key: string;
  /** Set when the base row was refused: its period rows are then skipped quietly. */
  readonly refused: boolean;
}

type CachedDestination = number | { readonly messages: readonly (readonly [number, string])[] };

/**
 * Reads a Tollgate CSV in chunks. Push text as it arrives (any chunk boundaries), then `finish`.
 *
 * @example
 * const loader = new TollgateCsvLoader({ onProgress: (lines) => bar.update(lines) });
 * for await (const chunk of stream) loader.push(chunk);
 * const result = loader.finish(); // ImportResult<TariffIndex>
 */
export class TollgateCsvLoader {
  private readonly file: string;
  private readonly options: TollgateCsvOptions;
  private readonly log = new IssueLog();
  private readonly builder: TariffIndexBuilder;
  private readonly metadata = new Map<MetadataKey, { value: string; line: number }>();
  private readonly destinations = new Map<string, CachedDestination>();
  private columns: Map<Column, number> | undefined;
  /** False after a header error: rows are then skipped rather than each reported. */
  private headerValid = true;
  private group: PendingGroup | undefined;
  private carry = '';
  private lineNumber = 0;
  private finished = false;

  constructor(options: TollgateCsvOptions = {}) {
    this.options = options;
    this.file = options.file ?? 'tariff.csv';
    this.builder = new TariffIndexBuilder(options.expectedRoutes ?? 1_024);
  }

  /** Reads every complete line in `chunk` (plus what earlier chunks left over). */
  push(chunk: string): void {
    const text = this.carry + chunk;
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break;
      this.readLine(text.slice(start, end));
      start = end + 1;
    }
    this.carry = text.slice(start);
  }

  /** Reads the last line, checks the whole file and returns the indexed tariff or the issues. */
  finish(): ImportResult<TariffIndex> {
    if (!this.finished) {
      this.finished = true;
      if (this.carry !== '') this.readLine(this.carry);
      this.carry = '';
      this.closeGroup();
      this.options.onProgress?.(this.lineNumber);
    }
    if (this.columns === undefined) {
      this.log.error(this.file, 0, 'no header line (prefix,destination,...) found');
    }
    const version = this.resolveVersion();
    return this.log.result(() => {
      assert(version !== undefined, 'a missing or bad version setting is always reported');
      return this.builder.build(version);
    });
  }

  private readLine(raw: string): void {
    this.lineNumber += 1;
    const line = this.lineNumber;
    if (line % progressEveryLines === 0) this.options.onProgress?.(line);
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    if (text.startsWith('#')) {
      if (this.columns === undefined) this.readMetadata(text, line);
      return;
    }
    const fields = this.splitFields(text, line);
    if (fields === undefined) return;
    if (this.columns === undefined) {
      this.readHeader(fields, line);
      return;
    }
    if (this.headerValid) this.readRow(fields, text, line);
  }

  private splitFields(text: string, line: number): string[] | undefined {
    if (!text.includes('"')) return text.split(',').map((field) => field.trim());
    try {
      const records = parse(text, { trim: true, relax_column_count: true }) as string[][];
      if (records.length === 1) return records[0]!;
    } catch {
      // Reported below: a quote that does not close on its line.
    }
    this.log.error(
      this.file,
      line,
      'malformed quoting (a quoted field must close on its own line)',
    );
    return undefined;
  }

  private readMetadata(text: string, line: number): void {
    const match = /^#\s*([a-z_]+)\s*:\s*(.*?)\s*$/.exec(text);
    if (!match) return;
    const key = match[1] as MetadataKey;
    if (!metadataKeys.includes(key)) {
      this.log.error(
        this.file,
        line,
        `unknown setting "${match[1]}" (known: ${metadataKeys.join(', ')})`,
      );
      return;
    }
    if (this.metadata.has(key)) {
      this.log.error(this.file, line, `setting "${key}" given twice`);
      return;
    }
    this.metadata.set(key, { value: match[2]!, line });
  }

  private readHeader(fields: readonly string[], line: number): void {
    const errorsBefore = this.log.errorCount;
    const columns = new Map<Column, number>();
    fields.forEach((name, index) => {
      if (!(tollgateCsvColumns as readonly string[]).includes(name)) {
        this.log.error(this.file, line, `unknown column "${name}"`);
      } else if (columns.has(name as Column)) {
        this.log.error(this.file, line, `column "${name}" appears twice`);
      } else {
        columns.set(name as Column, index);
      }
    });
    for (const name of requiredColumns) {
      if (!columns.has(name)) this.log.error(this.file, line, `missing column "${name}"`);
    }
    const periodCount = periodColumns.filter((name) => columns.has(name)).length;
    if (periodCount !== 0 && periodCount !== periodColumns.length) {
      this.log.error(this.file, line, `columns ${periodColumns.join(', ')} go together`);
    }
    this.columns = columns;
    this.headerValid = this.log.errorCount === errorsBefore;
  }

  private field(fields: readonly string[], column: Column): string {
    const index = this.columns!.get(column);
    return index === undefined ? '' : (fields[index] ?? '');
  }

  private readRow(fields: readonly string[], text: string, line: number): void {
    if (fields.length !== this.columns!.size) {
      this.log.error(
        this.file,
        line,
        `expected ${this.columns!.size} fields, found ${fields.length}`,
      );
      return;
    }
    const prefixText = this.field(fields, 'prefix');
    const prefix = prefixText === catchAllPrefixText ? '' : prefixText;
    const isPeriodRow = this.field(fields, 'period') !== '';
    // The destination key is the row's text after the prefix: equal text, equal destination.
    const prefixIndex = this.columns!.get('prefix')!;
    const key =
      prefixIndex === 0 && !text.includes('"')
        ? text.slice(text.indexOf(',') + 1)
        : fields.filter((_, index) => index !== prefixIndex).join('\u0001');
    if (isPeriodRow) {
      if (this.group === undefined || this.group.prefix !== prefix) {
        this.log.error(
          this.file,
          line,
          `period row for prefix "${prefixText}" must follow that prefix's base row`,
        );
        return;
      }
      this.group.lines.push(line);
      this.group.rows.push(fields);
      this.group.key += `\u0002${key}`;
      return;
    }
    this.closeGroup();
    const refused = !isPrefix(prefix);
    if (refused) {
      this.log.error(
        this.file,
        line,
        `prefix "${prefixText}" is not 1 to 20 digits (or ${catchAllPrefixText} for every number)`,
      );
    }
    this.group = { prefix, lines: [line], rows: [fields], key, refused };
  }

  private closeGroup(): void {
    const group = this.group;
    this.group = undefined;
    if (group === undefined || group.refused) return;
    let cached = this.destinations.get(group.key);
    if (cached === undefined) {
      cached = this.parseDestination(group);
      this.destinations.set(group.key, cached);
    }
    if (typeof cached !== 'number') {
      for (const [row, message] of cached.messages) {
        this.log.error(this.file, group.lines[row]!, message);
      }
      return;
    }
    const earlier = this.builder.addRoute(group.prefix, cached, group.lines[0]!);
    if (earlier >= 0) {
      this.log.error(
        this.file,
        group.lines[0]!,
        `prefix "${group.prefix || catchAllPrefixText}" repeats line ${earlier}`,
      );
    }
  }

  private parseDestination(group: PendingGroup): CachedDestination {
    const messages: [number, string][] = [];
    const rows = group.rows;
    const name = this.field(rows[0]!, 'destination');
    if (name === '') messages.push([0, 'destination name is empty']);
    const baseTerms = this.parseTerms(rows[0]!, (message) => messages.push([0, message]));
    for (const column of ['weekdays', 'from', 'to'] as const) {
      if (this.field(rows[0]!, column) !== '') {
        messages.push([0, `"${column}" is set on a row without a period name`]);
      }
    }
    const periods: RatePeriod[] = [];
    rows.slice(1).forEach((row, offset) => {
      const report = (message: string) => messages.push([offset + 1, message]);
      const period = this.parsePeriod(row, report);
      const rowName = this.field(row, 'destination');
      if (rowName !== '' && rowName !== name) {
        report(`period row names destination "${rowName}", its base row "${name}"`);
      }
      if (period !== undefined) periods.push(period);
    });
    if (messages.length > 0 || baseTerms === undefined) return { messages };
    const destination: Destination = { name, rate: { terms: baseTerms, periods } };
    for (const problem of rateProblems(destination.rate)) messages.push([0, problem]);
    if (messages.length > 0) return { messages };
    return this.builder.addDestination(destination);
  }

  private parsePeriod(
    row: readonly string[],
    report: (message: string) => void,
  ): RatePeriod | undefined {
    const name = this.field(row, 'period');
    const weekdays = parseWeekdays(this.field(row, 'weekdays'));
    if (weekdays === undefined) {
      report(`weekdays "${this.field(row, 'weekdays')}" must be like 1-5, 6;7 or * (1 is Monday)`);
    }
    const from = parseClockTime(this.field(row, 'from'));
    const to = parseClockTime(this.field(row, 'to'));
    if (from === undefined)
      report(`from "${this.field(row, 'from')}" must be a time such as 08:00`);
    if (to === undefined)
      report(`to "${this.field(row, 'to')}" must be a time such as 19:00 or 24:00`);
    if (from !== undefined && to !== undefined && from >= to) {
      report(
        `period "${name}" must end after it starts (write a window past midnight as two rows)`,
      );
    }
    const terms = this.parseTerms(row, report);
    if (weekdays === undefined || from === undefined || to === undefined || terms === undefined) {
      return undefined;
    }
    return { name, weekdays, fromSecondOfDay: from, toSecondOfDay: to, terms };
  }

  private parseTerms(
    row: readonly string[],
    report: (message: string) => void,
  ): RateTerms | undefined {
    let valid = true;
    const money = (column: Column, required: boolean): bigint | undefined => {
      const text = this.field(row, column);
      if (text === '') {
        if (required) {
          report(`${column} is required`);
          valid = false;
        }
        return undefined;
      }
      const nanos = parsePriceNanos(text);
      if (typeof nanos === 'string') {
        report(`${column}: ${priceRefusalMessage(nanos, text)}`);
        valid = false;
        return undefined;
      }
      return nanos;
    };
    const seconds = (column: Column): number => {
      const value = parseWholeSeconds(this.field(row, column));
      if (value === undefined) {
        report(`${column} "${this.field(row, column)}" must be a whole number of seconds`);
        valid = false;
      }
      return value ?? 0;
    };
    const initialPrice = money('initial_price_per_minute', false);
    const maximum = money('maximum_charge', false);
    const terms: RateTerms = {
      connectFeeNanos: money('connect_fee', false) ?? 0n,
      pricePerMinuteNanos: money('price_per_minute', true) ?? 0n,
      initialIncrementSeconds: seconds('initial_increment_seconds'),
      subsequentIncrementSeconds: seconds('subsequent_increment_seconds'),
      minimumChargeNanos: money('minimum_charge', false) ?? 0n,
      ...(initialPrice === undefined ? {} : { initialPricePerMinuteNanos: initialPrice }),
      ...(maximum === undefined ? {} : { maximumChargeNanos: maximum }),
    };
    if (!valid) return undefined;
    const problems = termsProblems(terms);
    for (const problem of problems) report(problem);
    return problems.length === 0 ? terms : undefined;
  }

  private resolveVersion(): TariffVersion | undefined {
    return versionFromSettings({
      settings: this.metadata,
      given: this.options.version ?? {},
      report: (line, message) => this.log.error(this.file, line, message),
    });
  }
}

/**
 * The version settings: each taken from the options when given there, else from the file's
 * "# key: value" line. A missing required setting or a value that does not parse is reported.
 */
function versionFromSettings(args: {
  settings: ReadonlyMap<MetadataKey, { value: string; line: number }>;
  given: Partial<TariffVersion>;
  report: (line: number, message: string) => void;
}): TariffVersion | undefined {
  const { settings, given, report } = args;
  const pick = <T>(
    key: MetadataKey,
    fromOptions: T | undefined,
    read: (text: string) => T | undefined,
    refusal: string,
    missing?: string,
  ): T | undefined => {
    if (fromOptions !== undefined) return fromOptions;
    const setting = settings.get(key);
    if (setting === undefined || setting.value === '') {
      if (missing !== undefined) report(setting?.line ?? 0, missing);
      return undefined;
    }
    const value = read(setting.value);
    if (value === undefined) report(setting.line, `${key} "${setting.value}" ${refusal}`);
    return value;
  };
  const text = (value: string) => value;
  const carrierId = pick(
    'carrier',
    given.carrierId,
    text,
    '',
    'no carrier: add "# carrier: <id>" or pass one',
  );
  const currency = pick<Currency>(
    'currency',
    given.currency,
    (value) => (isCurrency(value) ? value : undefined),
    'is not a currency Tollgate knows',
    'no currency: add "# currency: USD" or pass one',
  );
  const roundingMode = pick(
    'rounding',
    given.roundingMode,
    (value) => (isRoundingMode(value) ? value : undefined),
    'must be half_up, half_even, up or down',
  );
  const periodPolicy = pick<PeriodPolicy>(
    'period_policy',
    given.periodPolicy,
    (value) => periodPolicies.find((policy) => policy === value),
    `must be ${periodPolicies.join(' or ')}`,
  );
  const instant = 'must be a UTC time such as 2026-01-01T00:00:00Z';
  const effectiveFromMs = pick(
    'effective_from',
    given.effectiveFromMs,
    parseUtcInstant,
    instant,
    'no effective_from: add "# effective_from: 2026-01-01T00:00:00Z" or pass one',
  );
  const effectiveToMs = pick('effective_to', given.effectiveToMs, parseUtcInstant, instant);
  const timeZone = pick('time_zone', given.timeZone, text, '') ?? 'UTC';
  if (carrierId === undefined || currency === undefined || effectiveFromMs === undefined) {
    return undefined;
  }
  const version: TariffVersion = {
    carrierId,
    currency,
    timeZone,
    roundingMode: roundingMode ?? roundingModeDefault,
    periodPolicy: periodPolicy ?? 'per_increment',
    effectiveFromMs,
    ...(effectiveToMs === undefined ? {} : { effectiveToMs }),
  };
  for (const problem of versionProblems(version)) report(0, problem);
  return version;
}

/**
 * Reads a whole Tollgate CSV into an indexed tariff: the fast path for large decks (a million
 * prefixes in a few seconds).
 */
export function loadTollgateCsv(
  text: string,
  options: TollgateCsvOptions = {},
): ImportResult<TariffIndex> {
  const loader = new TollgateCsvLoader(options);
  loader.push(text);
  return loader.finish();
}

/** Reads a Tollgate CSV into plain tariff data (routes in prefix order). */
export function importTollgateCsv(
  text: string,
  options: TollgateCsvOptions = {},
): ImportResult<TariffData> {
  const loaded = loadTollgateCsv(text, options);
  if (!loaded.ok) return loaded;
  return { ok: true, value: loaded.value.toData(), warnings: loaded.warnings };
}

function termsCells(terms: RateTerms): string[] {
  const money = (nanos: bigint | undefined) => (nanos === undefined ? '' : formatPriceNanos(nanos));
  return [
    money(terms.connectFeeNanos),
    money(terms.pricePerMinuteNanos),
    money(terms.initialPricePerMinuteNanos),
    String(terms.initialIncrementSeconds),
    String(terms.subsequentIncrementSeconds),
    money(terms.minimumChargeNanos),
    money(terms.maximumChargeNanos),
  ];
}

/**
 * Writes a tariff as a Tollgate CSV that `importTollgateCsv` reads back to the same tariff.
 *
 * @example exportTollgateCsv(index) // "# tollgate-tariff 1\n# carrier: acme\n...\nprefix,destination,..."
 */
export function exportTollgateCsv(tariff: TariffData | TariffIndex): string {
  const data = tariff instanceof TariffIndex ? tariff.toData() : tariff;
  const { version } = data;
  const header = [
    tollgateCsvMarker,
    `# carrier: ${version.carrierId}`,
    `# currency: ${version.currency}`,
    `# time_zone: ${version.timeZone}`,
    `# rounding: ${version.roundingMode}`,
    `# period_policy: ${version.periodPolicy}`,
    `# effective_from: ${formatUtcInstant(version.effectiveFromMs)}`,
    ...(version.effectiveToMs === undefined
      ? []
      : [`# effective_to: ${formatUtcInstant(version.effectiveToMs)}`]),
  ];
  const destinationRows = data.destinations.map((destination) => [
    [destination.name, '', '', '', '', ...termsCells(destination.rate.terms)],
    ...destination.rate.periods.map((period) => [
      destination.name,
      period.name,
      formatWeekdays(period.weekdays),
      formatClockTime(period.fromSecondOfDay),
      formatClockTime(period.toSecondOfDay),
      ...termsCells(period.terms),
    ]),
  ]);
  const routes = [...data.routes].sort((a, b) =>
    a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0,
  );
  const rows: string[][] = [[...tollgateCsvColumns]];
  for (const route of routes) {
    const prefix = route.prefix === '' ? catchAllPrefixText : route.prefix;
    for (const cells of destinationRows[route.destinationIndex]!) rows.push([prefix, ...cells]);
  }
  return `${header.join('\n')}\n${stringify(rows)}`;
}
