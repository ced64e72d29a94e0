// A small, fast, seedable PRNG (mulberry32) for the seeded simulations: a run must replay
// exactly from its seed, which Math.random cannot do.

export interface Random {
  /** A whole number from 0 to max - 1. */
  int(max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** An index drawn with the given weights. */
  weighted(weights: readonly number[]): number;
}

export function prng(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (max) => Math.floor(next() * max),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
    weighted: (weights) => {
      let roll = next() * weights.reduce((sum, w) => sum + w, 0);
      for (let i = 0; i < weights.length; i += 1) {
        roll -= weights[i]!;
        if (roll < 0) return i;
      }
      return weights.length - 1;
    },
  };
}
