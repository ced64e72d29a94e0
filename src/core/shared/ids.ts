// Identifiers: a short type prefix, then 20 characters of lower-case Crockford base32 (ASCII
// order, so ids sort as their characters do). Ids made with a time are time-ordered: 10
// characters of milliseconds then 10 random ones (50 bits), which keeps a busy table's unique
// index appending at its end instead of touching a random page per insert. Ids made without a
// time are 20 random characters (100 bits). Either way the random part comes from node:crypto
// and an id reveals nothing about how many others there are.

import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
const poolSize = 4096;
let pool = randomBytes(poolSize);
let poolOffset = poolSize;

function randomChars(count: number): string {
  if (poolOffset + count > poolSize) {
    pool = randomBytes(poolSize);
    poolOffset = 0;
  }
  let text = '';
  for (let i = 0; i < count; i += 1) text += alphabet[pool[poolOffset + i]! & 31];
  poolOffset += count;
  return text;
}

function timeChars(nowMs: number): string {
  let text = '';
  let rest = Math.max(0, Math.floor(nowMs));
  for (let i = 0; i < 10; i += 1) {
    text = alphabet[rest % 32] + text;
    rest = Math.floor(rest / 32);
  }
  return text;
}

/**
 * A new id such as `trf_01jd8x2k3m7q4v9zc0ab`: the prefix names the object's kind.
 * Pass the current time for rows written often (transfers) so their index stays compact.
 */
export function newId(prefix: string, nowMs?: number): string {
  return `${prefix}_${nowMs === undefined ? randomChars(20) : timeChars(nowMs) + randomChars(10)}`;
}

/**
 * The first id `newId(prefix, atMs)` could give: every id made with an earlier time sorts
 * before it, every later one after it. It lets a store find old rows by a range of their key.
 */
export function firstIdAt(prefix: string, atMs: number): string {
  return `${prefix}_${timeChars(atMs)}`;
}
