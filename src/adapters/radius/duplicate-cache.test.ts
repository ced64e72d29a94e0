import { describe, expect, it } from 'vitest';
import { DuplicateCache } from './duplicate-cache.ts';

describe('DuplicateCache', () => {
  it('remembers a request as pending, then its answer, until the TTL passes', () => {
    const cache = new DuplicateCache({ ttlMs: 1000, entriesMax: 10 });
    expect(cache.seen('a', 0)).toEqual({ kind: 'new' });
    expect(cache.seen('a', 10)).toEqual({ kind: 'pending' });
    const answer = Buffer.from('answer');
    cache.answered('a', answer, 20);
    expect(cache.seen('a', 1019)).toEqual({ kind: 'answered', answer });
    expect(cache.seen('a', 1020)).toEqual({ kind: 'new' });
  });

  it('forgets a request that got no answer', () => {
    const cache = new DuplicateCache({ ttlMs: 1000, entriesMax: 10 });
    cache.seen('a', 0);
    cache.forget('a');
    expect(cache.seen('a', 1)).toEqual({ kind: 'new' });
  });

  it('holds at most entriesMax, dropping the oldest', () => {
    const cache = new DuplicateCache({ ttlMs: 60_000, entriesMax: 3 });
    for (const key of ['a', 'b', 'c', 'd']) cache.seen(key, 0);
    expect(cache.size).toBe(3);
    expect(cache.seen('a', 1)).toEqual({ kind: 'new' });
    expect(cache.seen('d', 1)).toEqual({ kind: 'pending' });
  });

  it('prunes expired entries as time passes', () => {
    const cache = new DuplicateCache({ ttlMs: 100, entriesMax: 1000 });
    for (let i = 0; i < 500; i += 1) cache.seen(`k${i}`, i);
    cache.seen('late', 10_000);
    expect(cache.size).toBe(1);
  });
});
