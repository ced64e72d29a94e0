// Longest-prefix match over up to millions of digit prefixes, in typed arrays.
//
// Built in two steps. The builder grows a plain digit trie (ten Int32 child slots per node), which
// makes inserting a prefix a few array writes. `build()` then packs it into one Int32Array of two
// words per node: a 10-bit mask of the digits that have children with the node's value above it,
// and the position of the node's first child. Children of a node are contiguous, so child d sits
// at first + the number of mask bits below d; blocks are laid out depth-first, so a lookup that
// descends a subtree stays in one region of memory. A lookup walks at most one node per dialled
// digit and allocates nothing but its answer.
//
// Measured in bench/rating.ts on 1,000,000 prefixes and 1,000,000 distinct dialled numbers: the
// packed trie answers 1.6 to 2.1 million lookups per second in 27 MB; a Map of prefix strings
// probed from the longest length down answers about 0.3 million in 36 MB (its keys not counted).
//
// The packed index is immutable: a new tariff version is built aside and swapped in whole
// (tariff-registry.ts), so readers never see a half-built index.

import { assert } from '../shared/assert.ts';
import { prefixDigitsMax } from './tariff.ts';

const digitCount = 10;
const maskBits = (1 << digitCount) - 1;
const wordsPerNode = 2;
const zeroCode = 48;
const noValue = -1;

/**
 * The largest value a prefix can carry: values share a 32-bit word with the 10-bit digit mask.
 * Values are destination indexes, and no tariff has two million distinct destinations.
 */
export const prefixValueMax = 2 ** (32 - digitCount) - 2;

/** Population counts of every 10-bit mask. */
const bitCounts = new Uint8Array(1 << digitCount);
for (let mask = 1; mask < bitCounts.length; mask += 1) {
  bitCounts[mask] = (mask & 1) + bitCounts[mask >> 1]!;
}

/** A longest-prefix answer: the value stored at the prefix and the prefix's length in digits. */
export interface PrefixMatch {
  readonly value: number;
  readonly length: number;
}

/** Collects prefixes and their values; `build()` turns them into an immutable `PrefixIndex`. */
export class PrefixIndexBuilder {
  private children: Int32Array;
  private values: Int32Array;
  private lines: Int32Array;
  private nodeCount = 1;
  private prefixCount = 0;
  private built = false;

  constructor(expectedPrefixes = 1_024) {
    const capacity = Math.max(16, expectedPrefixes * 2);
    this.children = new Int32Array(capacity * digitCount);
    this.values = new Int32Array(capacity).fill(noValue);
    this.lines = new Int32Array(capacity);
  }

  /** How many distinct prefixes have been added. */
  get size(): number {
    return this.prefixCount;
  }

  private grow(): void {
    const capacity = this.values.length * 2;
    const children = new Int32Array(capacity * digitCount);
    children.set(this.children);
    const values = new Int32Array(capacity).fill(noValue);
    values.set(this.values);
    const lines = new Int32Array(capacity);
    lines.set(this.lines);
    this.children = children;
    this.values = values;
    this.lines = lines;
  }

  /**
   * Adds a prefix (digits only; the empty prefix is the catch-all) with a non-negative value and
   * the source line it came from. Returns -1 when added; when the prefix is already present,
   * keeps the first value and returns the line it was added from, so an importer can report
   * "prefix 33 on line 9 repeats line 4".
   */
  add(prefix: string, value: number, line = 0): number {
    assert(!this.built, 'builder already built');
    assert(Number.isInteger(value) && value >= 0 && value <= prefixValueMax, 'value out of range');
    assert(prefix.length <= prefixDigitsMax, 'prefix too long');
    let node = 0;
    for (let position = 0; position < prefix.length; position += 1) {
      const digit = prefix.charCodeAt(position) - zeroCode;
      assert(digit >= 0 && digit < digitCount, 'prefix must be digits');
      const slot = node * digitCount + digit;
      let child = this.children[slot]!;
      if (child === 0) {
        if (this.nodeCount === this.values.length) this.grow();
        child = this.nodeCount;
        this.nodeCount += 1;
        this.children[slot] = child;
      }
      node = child;
    }
    if (this.values[node] !== noValue) return this.lines[node]!;
    this.values[node] = value;
    this.lines[node] = line;
    this.prefixCount += 1;
    return -1;
  }

  /** Packs the trie into an immutable index. The builder cannot be used afterwards. */
  build(): PrefixIndex {
    assert(!this.built, 'builder already built');
    this.built = true;
    const count = this.nodeCount;
    // Two words per packed node: [digit mask | (value + 1) << 10, first child]. Children blocks
    // are laid out depth-first, so a subtree sits in one contiguous run of memory and a lookup
    // that descends it touches few cache lines.
    const nodes = new Int32Array(count * wordsPerNode);
    const pending = new Int32Array(count * 2);
    let pendingCount = 1;
    pending[0] = 0;
    pending[1] = 0;
    let next = 1;
    while (pendingCount > 0) {
      pendingCount -= 1;
      const node = pending[pendingCount * 2]!;
      const packed = pending[pendingCount * 2 + 1]!;
      let mask = 0;
      const first = next;
      for (let digit = 0; digit < digitCount; digit += 1) {
        if (this.children[node * digitCount + digit] !== 0) {
          mask |= 1 << digit;
          next += 1;
        }
      }
      nodes[packed * wordsPerNode] = mask | ((this.values[node]! + 1) << digitCount);
      nodes[packed * wordsPerNode + 1] = first;
      // Push children last-digit first so the first child's subtree is laid out next.
      let slot = next;
      for (let digit = digitCount - 1; digit >= 0; digit -= 1) {
        const child = this.children[node * digitCount + digit]!;
        if (child !== 0) {
          slot -= 1;
          pending[pendingCount * 2] = child;
          pending[pendingCount * 2 + 1] = slot;
          pendingCount += 1;
        }
      }
    }
    assert(next === count, 'every node is placed once');
    // Release the wide arrays now rather than when the builder is dropped.
    this.children = new Int32Array(0);
    this.values = new Int32Array(0);
    this.lines = new Int32Array(0);
    return new PrefixIndex(nodes, this.prefixCount);
  }
}

/** An immutable longest-prefix-match index from digit prefixes to non-negative values. */
export class PrefixIndex {
  private readonly nodes: Int32Array;
  /** How many prefixes the index holds. */
  readonly size: number;

  constructor(nodes: Int32Array, size: number) {
    assert(nodes.length >= wordsPerNode && nodes.length % wordsPerNode === 0, 'malformed nodes');
    this.nodes = nodes;
    this.size = size;
  }

  /** Builds an index from [prefix, value] pairs; duplicate prefixes keep their first value. */
  static from(entries: Iterable<readonly [string, number]>): PrefixIndex {
    const builder = new PrefixIndexBuilder();
    for (const [prefix, value] of entries) builder.add(prefix, value);
    return builder.build();
  }

  /** Bytes held by the index's array. */
  get byteLength(): number {
    return this.nodes.byteLength;
  }

  /** The packed node reached by following `digit` from the node whose first word is `word`. */
  private child(word: number, at: number, digit: number): number {
    const mask = word & maskBits;
    if (((mask >> digit) & 1) === 0) return -1;
    return this.nodes[at * wordsPerNode + 1]! + bitCounts[mask & ((1 << digit) - 1)]!;
  }

  /**
   * The longest prefix of `digits` present in the index, or undefined. Matching stops at the
   * first character that is not a digit.
   *
   * @example PrefixIndex.from([['33', 1], ['336', 2]]).longestMatch('33612345678') // { value: 2, length: 3 }
   */
  longestMatch(digits: string): PrefixMatch | undefined {
    const nodes = this.nodes;
    let at = 0;
    let word = nodes[0]!;
    let bestValue = (word >>> digitCount) - 1;
    let bestLength = 0;
    const length = digits.length;
    for (let position = 0; position < length; position += 1) {
      const digit = digits.charCodeAt(position) - zeroCode;
      if (digit < 0 || digit >= digitCount) break;
      const mask = word & maskBits;
      if (((mask >> digit) & 1) === 0) break;
      at = nodes[at * wordsPerNode + 1]! + bitCounts[mask & ((1 << digit) - 1)]!;
      word = nodes[at * wordsPerNode]!;
      const stored = word >>> digitCount;
      if (stored !== 0) {
        bestValue = stored - 1;
        bestLength = position + 1;
      }
    }
    return bestValue === noValue ? undefined : { value: bestValue, length: bestLength };
  }

  /** The value stored at exactly this prefix, or undefined. */
  get(prefix: string): number | undefined {
    let at = 0;
    for (let position = 0; position < prefix.length; position += 1) {
      const digit = prefix.charCodeAt(position) - zeroCode;
      if (digit < 0 || digit >= digitCount) return undefined;
      at = this.child(this.nodes[at * wordsPerNode]!, at, digit);
      if (at < 0) return undefined;
    }
    const stored = this.nodes[at * wordsPerNode]! >>> digitCount;
    return stored === 0 ? undefined : stored - 1;
  }

  /** Every [prefix, value] pair, in lexicographic order of prefix (for export). */
  *entries(): IterableIterator<[string, number]> {
    const stack: [number, string][] = [[0, '']];
    while (stack.length > 0) {
      const [at, prefix] = stack.pop()!;
      const word = this.nodes[at * wordsPerNode]!;
      const stored = word >>> digitCount;
      if (stored !== 0) yield [prefix, stored - 1];
      for (let digit = digitCount - 1; digit >= 0; digit -= 1) {
        const child = this.child(word, at, digit);
        if (child >= 0) stack.push([child, prefix + String(digit)]);
      }
    }
  }
}
