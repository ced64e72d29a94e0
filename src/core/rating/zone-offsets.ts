// UTC offsets of IANA time zones, read through Intl.DateTimeFormat and cached, because a period
// such as "peak from 08:00" is local wall-clock time while calls are timed in UTC milliseconds.
//
// One Intl lookup costs about 4 microseconds, too slow to call several times on every
// credit-control request. So for each zone and UTC calendar year we find the offset transitions
// once (a daily scan, then a bisection to the exact second) and answer later questions with a
// short search. The daily scan would miss two transitions within one day that cancel out; no
// zone's rules do that.

import { assert } from '../shared/assert.ts';

const msPerSecond = 1_000;
const msPerDay = 86_400_000;

/** Zone-years kept before the cache is cleared: far more than a running system touches. */
export const zoneYearsCachedMax = 4_096;

interface ZoneYear {
  /** Instants (ms) at which the offset changes, ascending, within the year. */
  readonly transitionsMs: readonly number[];
  /** Offsets in ms: offsetsMs[i] holds before transitionsMs[i]; the last holds after them all. */
  readonly offsetsMs: readonly number[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const zoneYears = new Map<string, ZoneYear>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Reads the offset at one instant straight from Intl: exact, and slow. */
export function offsetAtUncachedMs(timeZone: string, instantMs: number): number {
  const wholeSecondMs = Math.floor(instantMs / msPerSecond) * msPerSecond;
  const fields: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(wholeSecondMs)) {
    fields[part.type] = part.value;
  }
  let year = Number(fields['year']);
  if (fields['era'] === 'BC') year = 1 - year;
  const localMs = Date.UTC(
    year,
    Number(fields['month']) - 1,
    Number(fields['day']),
    Number(fields['hour']),
    Number(fields['minute']),
    Number(fields['second']),
  );
  return localMs - wholeSecondMs;
}

function yearStartMs(year: number): number {
  return Date.UTC(year, 0, 1);
}

function scanYear(timeZone: string, year: number): ZoneYear {
  const startMs = yearStartMs(year);
  const endMs = yearStartMs(year + 1);
  const transitionsMs: number[] = [];
  const offsetsMs: number[] = [offsetAtUncachedMs(timeZone, startMs)];
  let previousMs = startMs;
  for (let probeMs = startMs + msPerDay; previousMs < endMs; probeMs += msPerDay) {
    const atMs = Math.min(probeMs, endMs);
    const before = offsetsMs[offsetsMs.length - 1]!;
    const after = offsetAtUncachedMs(timeZone, atMs);
    if (after !== before) {
      // Bisect to the first whole second that carries the new offset.
      let low = previousMs / msPerSecond;
      let high = atMs / msPerSecond;
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (offsetAtUncachedMs(timeZone, middle * msPerSecond) === before) low = middle;
        else high = middle;
      }
      transitionsMs.push(high * msPerSecond);
      offsetsMs.push(after);
    }
    previousMs = atMs;
  }
  return { transitionsMs, offsetsMs };
}

function zoneYear(timeZone: string, year: number): ZoneYear {
  const key = `${timeZone}\u0000${year}`;
  let cached = zoneYears.get(key);
  if (cached === undefined) {
    if (zoneYears.size >= zoneYearsCachedMax) zoneYears.clear();
    cached = scanYear(timeZone, year);
    zoneYears.set(key, cached);
  }
  return cached;
}

/**
 * The zone's offset from UTC at an instant, in ms (Europe/Paris in July: 7,200,000), and the
 * instant until which that offset is certain to hold (the next transition or the end of the UTC
 * year), so that callers walking a call's timeline ask once per constant stretch.
 */
export function offsetSpanAt(
  timeZone: string,
  instantMs: number,
): { offsetMs: number; untilMs: number } {
  assert(Number.isFinite(instantMs), 'instant must be finite');
  const year = new Date(instantMs).getUTCFullYear();
  const { transitionsMs, offsetsMs } = zoneYear(timeZone, year);
  let index = 0;
  while (index < transitionsMs.length && transitionsMs[index]! <= instantMs) index += 1;
  return {
    offsetMs: offsetsMs[index]!,
    untilMs: transitionsMs[index] ?? yearStartMs(year + 1),
  };
}

/** The zone's offset from UTC at an instant, in ms. */
export function offsetAtMs(timeZone: string, instantMs: number): number {
  return offsetSpanAt(timeZone, instantMs).offsetMs;
}
