import { describe, expect, it } from 'vitest';
import { offsetAtMs, offsetAtUncachedMs, offsetSpanAt } from './zone-offsets.ts';

const hourMs = 3_600_000;

describe('zone offsets', () => {
  it.each([
    ['Europe/Paris', Date.UTC(2026, 0, 15), hourMs],
    ['Europe/Paris', Date.UTC(2026, 6, 15), 2 * hourMs],
    ['America/New_York', Date.UTC(2026, 0, 15), -5 * hourMs],
    ['Asia/Kolkata', Date.UTC(2026, 0, 15), 5.5 * hourMs],
    ['Australia/Lord_Howe', Date.UTC(2026, 0, 15), 11 * hourMs],
    ['Australia/Lord_Howe', Date.UTC(2026, 6, 15), 10.5 * hourMs],
    ['UTC', Date.UTC(2026, 0, 15), 0],
  ])('given %s at %s, then the offset is %s ms', (zone, instantMs, offsetMs) => {
    expect(offsetAtMs(zone, instantMs)).toBe(offsetMs);
  });

  it('given the Paris spring change, then the offset switches at 01:00:00 UTC to the second', () => {
    const changeMs = Date.UTC(2026, 2, 29, 1);
    expect(offsetAtMs('Europe/Paris', changeMs - 1_000)).toBe(hourMs);
    expect(offsetAtMs('Europe/Paris', changeMs)).toBe(2 * hourMs);
    expect(offsetSpanAt('Europe/Paris', changeMs - 1_000).untilMs).toBe(changeMs);
  });

  it('given instants through a year, then cached offsets equal direct Intl answers', () => {
    for (const zone of ['Europe/Paris', 'America/St_Johns', 'Australia/Lord_Howe', 'Asia/Tehran']) {
      for (
        let instantMs = Date.UTC(2026, 0, 1);
        instantMs < Date.UTC(2027, 0, 1);
        instantMs += 7 * hourMs + 13_000
      ) {
        expect(offsetAtMs(zone, instantMs)).toBe(offsetAtUncachedMs(zone, instantMs));
      }
    }
  });
});
