import { describe, expect, it } from 'vitest';
import { newId } from './ids.ts';

describe('newId', () => {
  it('makes time-ordered ids that sort by their time', () => {
    const ids = [1_000, 2_000, 1_700_000_000_000, 1_800_000_000_000].map((ms) => newId('trf', ms));
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(/^trf_[0-9a-hjkmnp-tv-z]{20}$/);
  });

  it('makes distinct ids at the same millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('trf', 1_700_000_000_000)));
    expect(ids.size).toBe(10_000);
  });

  it('makes random ids without a time', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('acc')));
    expect(ids.size).toBe(10_000);
  });
});
