// Identifiers: a short type prefix and 16 random base32 characters (80 bits) from node:crypto.
// Random rather than sequential so an id reveals nothing about volume or order; ordering for
// pagination comes from each table's own sequence column.

import { randomBytes } from 'node:crypto';

const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
const poolSize = 4096;
let pool = randomBytes(poolSize);
let poolOffset = poolSize;

/** A new random id such as `acc_3k9x...`: the prefix names the object's kind. */
export function newId(prefix: string): string {
  if (poolOffset + 16 > poolSize) {
    pool = randomBytes(poolSize);
    poolOffset = 0;
  }
  let text = `${prefix}_`;
  for (let i = 0; i < 16; i += 1) text += alphabet[pool[poolOffset + i]! & 31];
  poolOffset += 16;
  return text;
}
