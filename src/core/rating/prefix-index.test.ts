import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PrefixIndex, PrefixIndexBuilder, prefixValueMax } from './prefix-index.ts';

const deck: [string, number][] = [
  ['1', 0],
  ['1212', 1],
  ['33', 2],
  ['336', 3],
  ['3361', 4],
  ['44', 5],
  ['4420', 6],
  ['0', 7],
];

describe('PrefixIndex.longestMatch', () => {
  const index = PrefixIndex.from(deck);
  const cases: [string, string, { value: number; length: number } | undefined][] = [
    // [given, dialled, then match]
    ['a number whose longest prefix is 336', '33698765432', { value: 3, length: 3 }],
    ['a number under the deeper 3361', '33612345678', { value: 4, length: 4 }],
    ['a number under 33 only', '33142000000', { value: 2, length: 2 }],
    ['a number that stops inside a prefix path', '3', undefined],
    ['a number equal to a prefix', '44', { value: 5, length: 2 }],
    ['a number whose longer path does not exist', '4421234', { value: 5, length: 2 }],
    ['NANP under the one-digit prefix', '12125551234', { value: 1, length: 4 }],
    ['another NANP number', '14155551234', { value: 0, length: 1 }],
    ['no prefix at all', '81312345678', undefined],
    ['an empty number', '', undefined],
    ['a non-digit stops matching', '33a6', { value: 2, length: 2 }],
    ['prefix zero', '0800', { value: 7, length: 1 }],
  ];
  it.each(cases)('given %s (%s)', (_given, dialled, expected) => {
    expect(index.longestMatch(dialled)).toEqual(expected);
  });

  it('given a catch-all (empty prefix), then every number matches at least it', () => {
    const withDefault = PrefixIndex.from([...deck, ['', 99]]);
    expect(withDefault.longestMatch('81312345678')).toEqual({ value: 99, length: 0 });
    expect(withDefault.longestMatch('')).toEqual({ value: 99, length: 0 });
    expect(withDefault.longestMatch('336')).toEqual({ value: 3, length: 3 });
  });

  it('given the deck, then exact lookups and enumeration return what was added', () => {
    const index = PrefixIndex.from(deck);
    for (const [prefix, value] of deck) expect(index.get(prefix)).toBe(value);
    expect(index.get('3')).toBeUndefined();
    expect(index.get('99')).toBeUndefined();
    expect([...index.entries()]).toEqual([...deck].sort(([a], [b]) => (a < b ? -1 : 1)));
    expect(index.size).toBe(deck.length);
  });
});

describe('PrefixIndexBuilder', () => {
  it('given a repeated prefix, then the first value stays and its line is returned', () => {
    const builder = new PrefixIndexBuilder();
    expect(builder.add('33', 1, 10)).toBe(-1);
    expect(builder.add('33', 2, 11)).toBe(10);
    const index = builder.build();
    expect(index.get('33')).toBe(1);
    expect(index.size).toBe(1);
  });

  it('given the largest value a node holds, then it round-trips', () => {
    const index = PrefixIndex.from([['9', prefixValueMax]]);
    expect(index.longestMatch('99')).toEqual({ value: prefixValueMax, length: 1 });
  });

  it('given a built builder, then adding again is a bug', () => {
    const builder = new PrefixIndexBuilder();
    builder.build();
    expect(() => builder.add('1', 0)).toThrow('builder already built');
  });

  it('given random decks, then longestMatch equals a scan of every prefix', () => {
    const prefix = fc.stringMatching(/^[0-9]{1,8}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(prefix, { maxLength: 200 }),
        fc.array(fc.stringMatching(/^[0-9]{0,12}$/), { maxLength: 50 }),
        (prefixes, numbers) => {
          const index = PrefixIndex.from(prefixes.map((p, value) => [p, value] as const));
          for (const number of numbers) {
            let best: { value: number; length: number } | undefined;
            prefixes.forEach((p, value) => {
              if (number.startsWith(p) && (best === undefined || p.length > best.length))
                best = { value, length: p.length };
            });
            expect(index.longestMatch(number)).toEqual(best);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('PrefixIndex with a million prefixes', () => {
  it('given 1,000,000 generated prefixes, then sampled lookups match a scan of the sample', () => {
    // A deterministic generator: country-like heads, then 3 to 9 more digits.
    let state = 20_260_105;
    const next = () => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state;
    };
    const heads = ['1', '33', '44', '49', '86', '91', '234', '880', '972', '7'];
    const prefixes = new Set<string>();
    while (prefixes.size < 1_000_000) {
      let prefix = heads[next() % heads.length]!;
      const length = prefix.length + 3 + (next() % 7);
      while (prefix.length < length) prefix += String(next() % 10);
      prefixes.add(prefix);
    }
    const all = [...prefixes];
    const builder = new PrefixIndexBuilder(all.length);
    for (const [value, prefix] of all.entries()) builder.add(prefix, value);
    const index = builder.build();
    expect(index.size).toBe(1_000_000);
    for (let sample = 0; sample < 2_000; sample += 1) {
      const value = next() % all.length;
      const prefix = all[value]!;
      expect(index.get(prefix)).toBe(value);
      // A number extending the prefix matches it or a longer prefix that is itself a prefix of it.
      const number = `${prefix}${String(next()).slice(0, 4)}`;
      const match = index.longestMatch(number)!;
      expect(match.length).toBeGreaterThanOrEqual(prefix.length);
      expect(all[match.value]).toBe(number.slice(0, match.length));
    }
  });
});
