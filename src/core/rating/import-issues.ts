// What importers return: the tariff, or every problem found, each pinned to a file and line so an
// operator can fix the file. Importers never throw on bad input; a malformed file is an expected
// outcome. Warnings accompany a success when something was read differently from the source
// system without changing any charge.

import { parse } from 'csv-parse/sync';

/** One problem in one line of one input file (line 0 when it concerns the file as a whole). */
export interface ImportIssue {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export type ImportResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly ImportIssue[] }
  | {
      readonly ok: false;
      readonly errors: readonly ImportIssue[];
      readonly warnings: readonly ImportIssue[];
    };

/**
 * Errors kept per import: a file with the wrong layout fails on every line, and a million copies
 * of one message help nobody. The last kept error says how many more there were.
 */
export const importErrorsMax = 1_000;

/** Collects errors and warnings while an importer runs. */
export class IssueLog {
  private readonly errors: ImportIssue[] = [];
  private readonly warnings: ImportIssue[] = [];
  private errorsDropped = 0;

  error(file: string, line: number, message: string): void {
    if (this.errors.length < importErrorsMax) this.errors.push({ file, line, message });
    else this.errorsDropped += 1;
  }

  warn(file: string, line: number, message: string): void {
    if (this.warnings.length < importErrorsMax) this.warnings.push({ file, line, message });
  }

  get errorCount(): number {
    return this.errors.length + this.errorsDropped;
  }

  /** The value when no error was logged, else the errors. */
  result<T>(value: () => T): ImportResult<T> {
    if (this.errorCount > 0) {
      const errors = [...this.errors];
      if (this.errorsDropped > 0) {
        errors.push({ file: '', line: 0, message: `${this.errorsDropped} more errors not listed` });
      }
      return { ok: false, errors, warnings: [...this.warnings] };
    }
    return { ok: true, value: value(), warnings: [...this.warnings] };
  }
}

/** One CSV record and the line it starts on (1-based). */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

/**
 * Parses CSV text with csv-parse, keeping each record's starting line. Lines starting with '#'
 * are comments; blank lines are skipped; fields are trimmed. A syntax error (an unclosed quote)
 * is logged against its line and ends the file.
 */
export function readCsvRecords(args: {
  text: string;
  file: string;
  log: IssueLog;
  delimiter?: string;
  keepComments?: boolean;
}): CsvRecord[] {
  const text = args.text.replace(/\r\n?/g, '\n');
  try {
    const rows = parse(text, {
      delimiter: args.delimiter ?? ',',
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      ...(args.keepComments ? {} : { comment: '#', comment_no_infix: true }),
    }) as unknown as { info: { lines: number }; record: string[] }[];
    return rows.map(({ info, record }) => {
      // info.lines is the record's last line; a quoted field may span several.
      const innerBreaks = record.reduce((sum, field) => sum + field.split('\n').length - 1, 0);
      return { line: info.lines - innerBreaks, fields: record };
    });
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 0;
    args.log.error(args.file, line, `not valid CSV: ${(error as Error).message}`);
    return [];
  }
}

/** Issues as lines of text, "file:line: message", for a CLI to print. */
export function formatImportIssues(issues: readonly ImportIssue[]): string {
  return issues.map((issue) => `${issue.file}:${issue.line}: ${issue.message}`).join('\n');
}
