// Text forms of tariff fields shared by the importers and the exporter: clock times, weekday
// sets, UTC instants and whole-second counts. Each parser returns undefined for text it refuses;
// the caller reports the line.

import { type IsoWeekday, secondsPerDay } from './tariff.ts';

const clockPattern = /^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$/;

/** Parses "08:00", "08:00:30" or "24:00" (end of day) into seconds since midnight. */
export function parseClockTime(text: string): number | undefined {
  const match = clockPattern.exec(text);
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  const seconds = Number(match[3] ?? '0');
  if (minutes > 59 || seconds > 59) return undefined;
  const total = hours * 3_600 + minutes * 60 + seconds;
  return total <= secondsPerDay ? total : undefined;
}

/** Writes seconds since midnight as "HH:MM", or "HH:MM:SS" when seconds are not zero. */
export function formatClockTime(secondOfDay: number): string {
  const hours = Math.floor(secondOfDay / 3_600);
  const minutes = Math.floor((secondOfDay % 3_600) / 60);
  const seconds = secondOfDay % 60;
  const pad = (value: number) => String(value).padStart(2, '0');
  return seconds === 0
    ? `${pad(hours)}:${pad(minutes)}`
    : `${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
}

/**
 * Parses a weekday set: ISO numbers (1 Monday to 7 Sunday), ranges and ';' lists such as "1-5",
 * "6;7", "1-3;5", or "*" for every day. Returns the days sorted, or undefined.
 */
export function parseWeekdays(text: string): IsoWeekday[] | undefined {
  if (text === '*') return [1, 2, 3, 4, 5, 6, 7];
  const days = new Set<number>();
  for (const part of text.split(';')) {
    const range = /^([1-7])(?:-([1-7]))?$/.exec(part.trim());
    if (!range) return undefined;
    const from = Number(range[1]);
    const to = Number(range[2] ?? range[1]);
    if (to < from) return undefined;
    for (let day = from; day <= to; day += 1) days.add(day);
  }
  return [...days].sort((a, b) => a - b) as IsoWeekday[];
}

/** Writes a weekday set compactly: [1, 2, 3, 4, 5] is "1-5", [1, 3, 6, 7] is "1;3;6-7". */
export function formatWeekdays(days: readonly IsoWeekday[]): string {
  const sorted = [...days].sort((a, b) => a - b);
  const parts: string[] = [];
  let index = 0;
  while (index < sorted.length) {
    let end = index;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end += 1;
    parts.push(end === index ? `${sorted[index]}` : `${sorted[index]}-${sorted[end]}`);
    index = end + 1;
  }
  return parts.join(';');
}

const instantPattern =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{3}))?)?Z)?$/;

/** Parses "2026-01-01" or "2026-01-01T08:00:00Z" (UTC only, so no zone is guessed) into ms. */
export function parseUtcInstant(text: string): number | undefined {
  const match = instantPattern.exec(text);
  if (!match) return undefined;
  const [year, month, day, hours, minutes, seconds, millis] = match
    .slice(1)
    .map((part) => Number(part ?? '0'));
  const ms = Date.UTC(year!, month! - 1, day!, hours, minutes, seconds, millis);
  const check = new Date(ms);
  // Reject dates that Date.UTC silently rolls over, such as February 30th or hour 25.
  if (
    check.getUTCMonth() !== month! - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hours
  ) {
    return undefined;
  }
  return ms;
}

/** Writes ms as "2026-01-01T00:00:00Z", with milliseconds only when they are not zero. */
export function formatUtcInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Parses a whole number of seconds written as plain digits ("60"). */
export function parseWholeSeconds(text: string): number | undefined {
  if (!/^[0-9]{1,9}$/.test(text)) return undefined;
  return Number(text);
}
