// PIN codes: the per-product format (length, alphabet, check character), bulk generation from
// node:crypto without modulo bias, the well-formedness check that catches typos before any
// lookup, input normalisation, display grouping, and the public serial numbers that name a PIN
// everywhere the PIN itself must not appear. Pure: no I/O, no clock, no randomness outside node:crypto.

import { randomFillSync } from 'node:crypto';
import { assert } from '../shared/assert.ts';
import type { Result } from '../shared/result.ts';
import { ok, refuse } from '../shared/result.ts';

/** Shortest PIN, check character included. Eight characters is the least a scratch card uses. */
export const pinLengthMin = 8;
/** Longest PIN, check character included: long enough for any e-PIN, short enough to key in. */
export const pinLengthMax = 32;
/** Most PINs one `generatePins` call makes; larger batches are generated in several calls. */
export const pinGenerateCountMax = 1_000_000;

/**
 * The characters a PIN may use. `alphanumeric` leaves out 0, O, 1, I and L, which people confuse
 * when reading a printed card aloud; its 31 characters (a prime count) also let the Damm check
 * be built from plain modular arithmetic (see `PinCheck`).
 */
export const pinAlphabets = {
  digits: '0123456789',
  alphanumeric: '23456789ABCDEFGHJKMNPQRSTUVWXYZ',
} as const;

export type PinAlphabet = keyof typeof pinAlphabets;

/**
 * How the last character is computed from the others.
 * - `luhn`: Luhn mod 10, digits only. It catches every single-digit substitution and every
 *   adjacent transposition except 09 <-> 90. Luhn mod N needs an even alphabet size (for an odd
 *   one, doubling maps two characters to the same addend and some substitutions go unseen), and
 *   the alphanumeric alphabet has 31 characters, so it is refused there.
 * - `damm`: Damm's totally anti-symmetric quasigroup check, for both alphabets: Damm's order-10
 *   table for digits, and the mod-31 quasigroup `(2x + y) mod 31` for alphanumeric. It catches
 *   every single-character substitution and every adjacent transposition, with no exception.
 */
export type PinCheck = 'luhn' | 'damm';

/** A product's PIN format. `length` counts characters and includes the check character. */
export interface PinFormat {
  readonly length: number;
  readonly alphabet: PinAlphabet;
  readonly check: PinCheck;
}

export type PinFormatRefusalCode =
  | 'pin_length_out_of_range'
  | 'pin_alphabet_unknown'
  | 'pin_check_unknown'
  | 'pin_check_unsupported';

/**
 * Validates a PIN format as an operator typed it, for product creation. Everything past this
 * point treats an invalid format as a bug and asserts.
 *
 * @example checkPinFormat({ length: 14, alphabet: 'digits', check: 'damm' }).ok === true
 */
export function checkPinFormat(input: {
  length: number;
  alphabet: string;
  check: string;
}): Result<PinFormat, PinFormatRefusalCode> {
  if (
    !Number.isInteger(input.length) ||
    input.length < pinLengthMin ||
    input.length > pinLengthMax
  ) {
    return refuse(
      'pin_length_out_of_range',
      `PIN length must be a whole number from ${pinLengthMin} to ${pinLengthMax}, check character included`,
    );
  }
  if (!Object.hasOwn(pinAlphabets, input.alphabet)) {
    return refuse('pin_alphabet_unknown', 'PIN alphabet must be "digits" or "alphanumeric"');
  }
  if (input.check !== 'luhn' && input.check !== 'damm') {
    return refuse('pin_check_unknown', 'PIN check must be "luhn" or "damm"');
  }
  if (input.alphabet === 'alphanumeric' && input.check === 'luhn') {
    return refuse(
      'pin_check_unsupported',
      'Luhn needs an even alphabet size; use the "damm" check with the alphanumeric alphabet',
    );
  }
  return ok({
    length: input.length,
    alphabet: input.alphabet as PinAlphabet,
    check: input.check,
  });
}

function assertPinFormat(format: PinFormat): void {
  assert(
    Number.isInteger(format.length) &&
      format.length >= pinLengthMin &&
      format.length <= pinLengthMax,
    'PIN format length out of range',
  );
  assert(Object.hasOwn(pinAlphabets, format.alphabet), 'PIN format alphabet unknown');
  assert(format.check === 'luhn' || format.check === 'damm', 'PIN format check unknown');
  assert(
    format.alphabet === 'digits' || format.check === 'damm',
    'PIN format: Luhn is for digits only',
  );
}

/**
 * How many distinct PINs a format can express: the alphabet size to the power of the random
 * (non-check) characters. 14 digits give 10^13.
 */
export function pinSpaceSize(format: PinFormat): bigint {
  assertPinFormat(format);
  return BigInt(pinAlphabets[format.alphabet].length) ** BigInt(format.length - 1);
}

// Damm's order-10 table (H. M. Damm, 2004): row = interim digit, column = next digit. Its
// diagonal is zero, so the check digit equals the interim value after the payload.
const dammDecimal = Uint8Array.from([
  0, 3, 1, 7, 5, 9, 8, 6, 4, 2, 7, 0, 9, 2, 1, 5, 4, 8, 6, 3, 4, 2, 0, 6, 8, 7, 1, 3, 5, 9, 1, 7, 5,
  0, 9, 8, 3, 4, 2, 6, 6, 1, 2, 3, 0, 4, 5, 9, 7, 8, 3, 6, 7, 4, 2, 0, 9, 5, 8, 1, 5, 8, 6, 9, 7, 2,
  0, 1, 3, 4, 8, 9, 4, 5, 3, 6, 2, 0, 1, 7, 9, 4, 3, 8, 6, 1, 7, 2, 0, 5, 2, 5, 8, 1, 4, 3, 6, 7, 9,
  0,
]);

// Over the prime field of order 31, x * y = (2x + y) mod 31 is a quasigroup (every row and column
// is a permutation) and totally anti-symmetric: (c*x)*y = (c*y)*x gives (2 - 1)(x - y) = 0, so
// x = y. Those are exactly the two properties Damm's check needs.
const dammAlphanumericMultiplier = 2;

/** Interim value of a Damm check over `indexes[start, end)`. */
function dammInterim(indexes: Uint8Array, start: number, end: number, radix: number): number {
  let interim = 0;
  if (radix === 10) {
    for (let i = start; i < end; i++) interim = dammDecimal[interim * 10 + indexes[i]!]!;
  } else {
    for (let i = start; i < end; i++) {
      interim = (dammAlphanumericMultiplier * interim + indexes[i]!) % radix;
    }
  }
  return interim;
}

/** The character index that brings a Damm interim value to zero. */
function dammCheckIndex(interim: number, radix: number): number {
  if (radix === 10) return interim;
  return (radix - ((dammAlphanumericMultiplier * interim) % radix)) % radix;
}

/**
 * Luhn sum (mod `radix`, which is 10: see `PinCheck`) over `indexes[start, end)`. `doubleLast` says whether the last index is doubled:
 * true when computing a check character (the payload's last character sits next to the check),
 * false when validating a whole PIN (its last character is the check itself).
 */
function luhnSum(
  indexes: Uint8Array,
  start: number,
  end: number,
  radix: number,
  doubleLast: boolean,
): number {
  let sum = 0;
  let double = doubleLast;
  for (let i = end - 1; i >= start; i--) {
    let addend = indexes[i]!;
    if (double) {
      addend *= 2;
      // Adding the two digits of 2x: the carry is at most one because x < radix.
      if (addend >= radix) addend = addend - radix + 1;
    }
    sum += addend;
    double = !double;
  }
  return sum % radix;
}

function checkIndex(check: PinCheck, indexes: Uint8Array, payloadEnd: number, radix: number) {
  if (check === 'damm') return dammCheckIndex(dammInterim(indexes, 0, payloadEnd, radix), radix);
  return (radix - luhnSum(indexes, 0, payloadEnd, radix, true)) % radix;
}

function isCheckValid(check: PinCheck, indexes: Uint8Array, radix: number): boolean {
  if (check === 'damm') return dammInterim(indexes, 0, indexes.length, radix) === 0;
  return luhnSum(indexes, 0, indexes.length, radix, false) === 0;
}

/** Character code -> alphabet index, 255 for characters outside the alphabet. */
function indexTable(alphabet: string): Uint8Array {
  const table = new Uint8Array(128).fill(255);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

const indexTables = {
  digits: indexTable(pinAlphabets.digits),
  alphanumeric: indexTable(pinAlphabets.alphanumeric),
} as const;

/**
 * Fills a buffer with cryptographically strong random bytes. Defaults to node:crypto's
 * `randomFillSync`; tests inject a scripted source to prove the rejection sampling.
 */
export type RandomFill = (buffer: Uint8Array) => void;

/** Random bytes are drawn in blocks of this size, so one call to the CSPRNG serves many PINs. */
const randomBlockBytes = 64 * 1024;

/**
 * Generates `count` distinct PINs of `format`: uniform random characters from node:crypto and a
 * check character. Bytes are mapped to characters by rejection sampling (a byte at or above the
 * largest multiple of the alphabet size is thrown away), so every character is equally likely.
 *
 * PINs are distinct within one call; distinctness across calls and batches is the store's unique
 * index on the lookup hash, which the caller must handle by generating a replacement.
 *
 * @example generatePins({ format: { length: 14, alphabet: 'digits', check: 'damm' }, count: 2 })
 *   // ['83920174658391', '20485716394027'] (random)
 */
export function generatePins(options: {
  format: PinFormat;
  count: number;
  randomFill?: RandomFill;
}): string[] {
  const { format, count } = options;
  assertPinFormat(format);
  assert(Number.isInteger(count) && count >= 0, 'PIN count must be a non-negative integer');
  assert(count <= pinGenerateCountMax, `PIN count exceeds pinGenerateCountMax`);
  // Keeping the count far below the space bounds the redraws that distinctness costs, and a format
  // this small for the batch would make PINs guessable anyway.
  assert(BigInt(count) * 4n <= pinSpaceSize(format), 'PIN format too small for this many PINs');

  const randomFill = options.randomFill ?? randomFillSync;
  const alphabet = pinAlphabets[format.alphabet];
  const radix = alphabet.length;
  const acceptBelow = 256 - (256 % radix);
  const alphabetCodes = Uint8Array.from(alphabet, (char) => char.charCodeAt(0));
  const payloadLength = format.length - 1;

  const random = new Uint8Array(randomBlockBytes);
  let randomAt = random.length;
  const nextIndex = (): number => {
    for (;;) {
      if (randomAt === random.length) {
        randomFill(random);
        randomAt = 0;
      }
      const byte = random[randomAt++]!;
      if (byte < acceptBelow) return byte % radix;
    }
  };

  const indexes = new Uint8Array(format.length);
  const text = Buffer.allocUnsafe(format.length);
  const pins = new Set<string>();
  while (pins.size < count) {
    for (let i = 0; i < payloadLength; i++) indexes[i] = nextIndex();
    indexes[payloadLength] = checkIndex(format.check, indexes, payloadLength, radix);
    for (let i = 0; i < format.length; i++) text[i] = alphabetCodes[indexes[i]!]!;
    pins.add(text.toString('latin1', 0, format.length));
  }
  return [...pins];
}

/**
 * Computes the check character for a payload (the PIN without its last character). For tests,
 * tools that print specimen cards, and importing PINs made elsewhere.
 *
 * @example pinCheckCharacter({ alphabet: 'digits', check: 'luhn' }, '7992739871') === '3'
 */
export function pinCheckCharacter(
  format: Pick<PinFormat, 'alphabet' | 'check'>,
  payload: string,
): string {
  assert(format.alphabet === 'digits' || format.check === 'damm', 'Luhn is for digits only');
  const alphabet = pinAlphabets[format.alphabet];
  const indexes = toIndexes(indexTables[format.alphabet], payload);
  assert(indexes !== undefined, 'PIN payload has a character outside its alphabet');
  return alphabet[checkIndex(format.check, indexes, indexes.length, alphabet.length)]!;
}

function toIndexes(table: Uint8Array, text: string): Uint8Array | undefined {
  const indexes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const index = code < 128 ? table[code]! : 255;
    if (index === 255) return undefined;
    indexes[i] = index;
  }
  return indexes;
}

/**
 * Strips what people add when they copy or type a PIN (spaces, tabs, hyphens, en dashes) and
 * upper-cases it, so "1234-5678 9012 34" and "abcd efgh" reach `isWellFormedPin` as printed.
 * It does not map look-alike characters: the alphanumeric alphabet leaves them out instead.
 *
 * @example normalizePinInput(' 1234-5678 9012 34 ') === '12345678901234'
 */
export function normalizePinInput(text: string): string {
  return text.replace(/[\s\-\u2010-\u2015]/g, '').toUpperCase();
}

/**
 * True when `pin` (already normalised with `normalizePinInput`) has the format's length, only
 * its alphabet's characters, and a valid check character. A PIN with one character mistyped, or
 * (with Damm) two neighbours swapped, fails here and never reaches a lookup or a lockout count.
 *
 * @example isWellFormedPin({ length: 8, alphabet: 'digits', check: 'luhn' }, '79927398') === true
 */
export function isWellFormedPin(format: PinFormat, pin: string): boolean {
  assertPinFormat(format);
  if (pin.length !== format.length) return false;
  const indexes = toIndexes(indexTables[format.alphabet], pin);
  if (indexes === undefined) return false;
  return isCheckValid(format.check, indexes, pinAlphabets[format.alphabet].length);
}

/**
 * Splits a PIN into groups for people to read ("1234 5678 9012 34"). `normalizePinInput` undoes
 * it, so a buyer may type the PIN with or without the spaces.
 */
export function groupPinForDisplay(pin: string, options: { groupLength?: number } = {}): string {
  const groupLength = options.groupLength ?? 4;
  assert(Number.isInteger(groupLength) && groupLength > 0, 'PIN group length must be positive');
  const groups: string[] = [];
  for (let i = 0; i < pin.length; i += groupLength) groups.push(pin.slice(i, i + groupLength));
  return groups.join(' ');
}

/** A batch prefix: 1 to 16 upper-case letters and digits, e.g. "B2026A". */
export const serialPrefixPattern = /^[A-Z0-9]{1,16}$/;
/** Digits of the zero-padded sequence when a batch does not say otherwise. */
export const serialSequenceDigitsDefault = 9;
/** Most sequence digits: keeps every sequence a safe integer. */
export const serialSequenceDigitsMax = 15;

/**
 * Formats a PIN's public serial number: the batch prefix, a hyphen and the zero-padded sequence
 * within the batch. Serials are not secret and carry no information about the PIN; support,
 * reports and logs name a PIN by its serial.
 *
 * @example formatSerial({ batchPrefix: 'B2026A', sequence: 42 }) === 'B2026A-000000042'
 */
export function formatSerial(options: {
  batchPrefix: string;
  sequence: number;
  sequenceDigits?: number;
}): string {
  const sequenceDigits = options.sequenceDigits ?? serialSequenceDigitsDefault;
  assert(serialPrefixPattern.test(options.batchPrefix), 'serial batch prefix is malformed');
  assert(
    Number.isInteger(sequenceDigits) &&
      sequenceDigits >= 1 &&
      sequenceDigits <= serialSequenceDigitsMax,
    'serial sequence digits out of range',
  );
  assert(
    Number.isInteger(options.sequence) &&
      options.sequence >= 0 &&
      options.sequence < 10 ** sequenceDigits,
    'serial sequence out of range for its digits',
  );
  return `${options.batchPrefix}-${String(options.sequence).padStart(sequenceDigits, '0')}`;
}

/**
 * Reads a serial typed by support staff or scanned from a receipt's barcode. Returns undefined
 * for anything `formatSerial` could not have produced.
 *
 * @example parseSerial('b2026a-000000042') // { batchPrefix: 'B2026A', sequence: 42 }
 */
export function parseSerial(text: string): { batchPrefix: string; sequence: number } | undefined {
  const match = /^([A-Z0-9]{1,16})-([0-9]{1,15})$/.exec(text.trim().toUpperCase());
  if (!match) return undefined;
  return { batchPrefix: match[1]!, sequence: Number(match[2]!) };
}
