import { describe, expect, it } from 'vitest';
import {
  formatClockTime,
  formatWeekdays,
  parseClockTime,
  parseUtcInstant,
  parseWeekdays,
} from './tariff-fields.ts';

describe('tariff field text', () => {
  it.each([
    ['08:00', 28_800],
    ['8:00', 28_800],
    ['19:00:30', 68_430],
    ['00:00', 0],
    ['24:00', 86_400],
    ['24:01', undefined],
    ['08:60', undefined],
    ['0800', undefined],
  ])('given the time "%s", then %s seconds', (text, seconds) => {
    expect(parseClockTime(text)).toBe(seconds);
  });

  it.each([
    ['1-5', [1, 2, 3, 4, 5]],
    ['6;7', [6, 7]],
    ['1-3;5', [1, 2, 3, 5]],
    ['*', [1, 2, 3, 4, 5, 6, 7]],
    ['7;1', [1, 7]],
    ['0', undefined],
    ['5-1', undefined],
    ['mon', undefined],
  ])('given the weekdays "%s", then %j', (text, days) => {
    expect(parseWeekdays(text)).toEqual(days);
  });

  it('given days and times, then formatting reads back', () => {
    expect(formatWeekdays([1, 2, 3, 4, 5])).toBe('1-5');
    expect(formatWeekdays([1, 3, 6, 7])).toBe('1;3;6-7');
    expect(formatClockTime(68_430)).toBe('19:00:30');
    expect(formatClockTime(86_400)).toBe('24:00');
  });

  it.each([
    ['2026-01-01', Date.UTC(2026, 0, 1)],
    ['2026-01-01T08:30:00Z', Date.UTC(2026, 0, 1, 8, 30)],
    ['2026-01-01T08:30:00.250Z', Date.UTC(2026, 0, 1, 8, 30, 0, 250)],
    ['2026-02-30', undefined],
    ['2026-01-01T08:30:00', undefined],
    ['2026-01-01T08:30:00+01:00', undefined],
  ])('given the instant "%s", then %s', (text, ms) => {
    expect(parseUtcInstant(text)).toBe(ms);
  });
});
