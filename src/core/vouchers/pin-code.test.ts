import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { AssertionError } from '../shared/assert.ts';
import type { PinAlphabet, PinFormat } from './pin-code.ts';
import {
  checkPinFormat,
  formatSerial,
  generatePins,
  groupPinForDisplay,
  isWellFormedPin,
  normalizePinInput,
  parseSerial,
  pinAlphabets,
  pinCheckCharacter,
  pinGenerateCountMax,
  pinLengthMax,
  pinLengthMin,
  pinSpaceSize,
  serialSequenceDigitsMax,
} from './pin-code.ts';

const formats: readonly PinFormat[] = [
  { length: 14, alphabet: 'digits', check: 'luhn' },
  { length: 14, alphabet: 'digits', check: 'damm' },
  { length: 12, alphabet: 'alphanumeric', check: 'damm' },
];

/** Every string that differs from `pin` in exactly one position. */
function* substitutions(pin: string, alphabet: string): Generator<string> {
  for (let i = 0; i < pin.length; i++) {
    for (const char of alphabet) {
      if (char !== pin[i]) yield pin.slice(0, i) + char + pin.slice(i + 1);
    }
  }
}

/** Every string made from `pin` by swapping two different neighbours. */
function* adjacentTranspositions(pin: string): Generator<[string, string]> {
  for (let i = 0; i + 1 < pin.length; i++) {
    const a = pin[i]!;
    const b = pin[i + 1]!;
    if (a !== b) yield [pin.slice(0, i) + b + a + pin.slice(i + 2), a + b];
  }
}

/** A valid PIN whose payload is `payload`. */
function withCheck(format: PinFormat, payload: string): string {
  return payload + pinCheckCharacter(format, payload);
}

describe('check character', () => {
  test.each([
    { alphabet: 'digits', check: 'luhn', payload: '7992739871', expected: '3' },
    { alphabet: 'digits', check: 'damm', payload: '572', expected: '4' },
  ] as const)('given the published $check example $payload, then the check is $expected', (row) => {
    expect(pinCheckCharacter(row, row.payload)).toBe(row.expected);
  });

  test.each(formats)(
    'given a valid $alphabet/$check PIN, when any one character is substituted, then it is rejected',
    (format) => {
      const alphabet = pinAlphabets[format.alphabet];
      for (const pin of generatePins({ format, count: 200 })) {
        expect(isWellFormedPin(format, pin)).toBe(true);
        for (const typo of substitutions(pin, alphabet)) {
          expect(isWellFormedPin(format, typo), `${pin} -> ${typo}`).toBe(false);
        }
      }
    },
  );

  test.each(formats.filter((format) => format.check === 'damm'))(
    'given a valid $alphabet/damm PIN, when any two different neighbours are swapped, then it is rejected',
    (format) => {
      for (const pin of generatePins({ format, count: 500 })) {
        for (const [typo] of adjacentTranspositions(pin)) {
          expect(isWellFormedPin(format, typo), `${pin} -> ${typo}`).toBe(false);
        }
      }
    },
  );

  test.each(['digits', 'alphanumeric'] as const)(
    'given %s/damm, when any ordered pair of different neighbours is swapped anywhere, then it is rejected',
    (alphabetName) => {
      const format: PinFormat = { length: 8, alphabet: alphabetName, check: 'damm' };
      const alphabet = pinAlphabets[alphabetName];
      const filler = alphabet[4]!;
      for (const a of alphabet) {
        for (const b of alphabet) {
          if (a === b) continue;
          // The pair ends the payload (so it also meets the check character) in one PIN and sits
          // inside it in the other.
          for (const payload of [
            `${filler.repeat(5)}${a}${b}`,
            `${filler.repeat(4)}${a}${b}${filler}`,
          ]) {
            const pin = withCheck(format, payload);
            for (const [typo] of adjacentTranspositions(pin)) {
              expect(isWellFormedPin(format, typo), `${pin} -> ${typo}`).toBe(false);
            }
          }
        }
      }
    },
  );

  test('given digits/luhn, then every neighbour swap is rejected except the documented 09/90 pair', () => {
    const blindPair = '09';
    const format: PinFormat = { length: 8, alphabet: 'digits', check: 'luhn' };
    const alphabet = pinAlphabets.digits;
    const filler = alphabet[4]!;
    for (const a of alphabet) {
      for (const b of alphabet) {
        if (a === b) continue;
        // Both parities: the pair sits on a doubled position in one payload, undoubled in the other.
        for (const payload of [
          `${filler.repeat(5)}${a}${b}`,
          `${filler.repeat(4)}${a}${b}${filler}`,
        ]) {
          const pin = withCheck(format, payload);
          for (const [typo, pair] of adjacentTranspositions(pin)) {
            const blind = pair === blindPair || pair === [...blindPair].reverse().join('');
            expect(isWellFormedPin(format, typo), `${pin} -> ${typo}`).toBe(blind);
          }
        }
      }
    }
  });
});

describe('isWellFormedPin', () => {
  const format: PinFormat = { length: 14, alphabet: 'digits', check: 'damm' };
  const pin = generatePins({ format, count: 1 })[0]!;

  test.each([
    { when: 'one character short', text: pin.slice(1) },
    { when: 'one character long', text: `${pin}0` },
    { when: 'a letter inside', text: `${pin.slice(0, 5)}A${pin.slice(6)}` },
    { when: 'spaces not yet normalised', text: groupPinForDisplay(pin) },
    { when: 'a non-ASCII digit inside', text: `${pin.slice(0, 5)}\u0663${pin.slice(6)}` },
    { when: 'empty', text: '' },
  ])('given a digits PIN $when, then it is rejected', ({ text }) => {
    expect(isWellFormedPin(format, text)).toBe(false);
  });

  test.each(['0', 'O', '1', 'I', 'L'])(
    'given an alphanumeric PIN with the ambiguous character %s, then it is rejected',
    (ambiguous) => {
      const alnum: PinFormat = { length: 10, alphabet: 'alphanumeric', check: 'damm' };
      expect(pinAlphabets.alphanumeric).not.toContain(ambiguous);
      const valid = generatePins({ format: alnum, count: 1 })[0]!;
      expect(isWellFormedPin(alnum, ambiguous + valid.slice(1))).toBe(false);
    },
  );

  test('given a PIN typed with dashes, spaces and lower case, when normalised, then it is well formed', () => {
    const alnum: PinFormat = { length: 16, alphabet: 'alphanumeric', check: 'damm' };
    const valid = generatePins({ format: alnum, count: 1 })[0]!;
    const typed = ` ${groupPinForDisplay(valid).toLowerCase().replace(' ', '-')}\t`;
    expect(normalizePinInput(typed)).toBe(valid);
    expect(isWellFormedPin(alnum, normalizePinInput(typed))).toBe(true);
  });
});

describe('generatePins', () => {
  test.each(
    (['digits', 'alphanumeric'] as const).flatMap((alphabet) =>
      (alphabet === 'digits' ? (['luhn', 'damm'] as const) : (['damm'] as const)).flatMap((check) =>
        [pinLengthMin, 14, pinLengthMax].map((length) => ({ length, alphabet, check })),
      ),
    ),
  )(
    'given length $length, $alphabet, $check, then every PIN has that length, alphabet and a valid check',
    (format) => {
      const pins = generatePins({ format, count: 300 });
      expect(pins).toHaveLength(300);
      expect(new Set(pins).size).toBe(300);
      const allowed = new RegExp(`^[${pinAlphabets[format.alphabet]}]{${format.length}}$`);
      for (const pin of pins) {
        expect(pin).toMatch(allowed);
        expect(isWellFormedPin(format, pin)).toBe(true);
      }
    },
  );

  test.each([
    { alphabet: 'digits' as PinAlphabet, count: 50_000 },
    { alphabet: 'alphanumeric' as PinAlphabet, count: 50_000 },
  ])(
    'given $count $alphabet PINs, then each payload character is uniform (chi-square far below a generous bound)',
    ({ alphabet: alphabetName, count }) => {
      const format: PinFormat = { length: 13, alphabet: alphabetName, check: 'damm' };
      const alphabet = pinAlphabets[alphabetName];
      const radix = alphabet.length;
      const counts = new Map<string, number>([...alphabet].map((char) => [char, 0]));
      let samples = 0;
      for (const pin of generatePins({ format, count })) {
        for (const char of pin.slice(0, -1)) {
          counts.set(char, counts.get(char)! + 1);
          samples += 1;
        }
      }
      const expected = samples / radix;
      let chiSquare = 0;
      for (const observed of counts.values()) chiSquare += (observed - expected) ** 2 / expected;
      // With radix - 1 degrees of freedom the statistic averages radix - 1. The bias a plain
      // `byte % radix` would cause pushes it to about 220 for digits and 1,700 for alphanumeric at
      // this sample size, while an unbiased source exceeds four times the degrees of freedom plus
      // 40 with a probability below 10^-9.
      expect(chiSquare).toBeLessThan(4 * (radix - 1) + 40);
    },
  );

  test('given random bytes at or above the rejection threshold, then they are skipped, never folded', () => {
    // 250..255 would map to 0..5 under a plain modulo; the generator must discard them.
    const script = [255, 250, 251, 7, 252, 253, 254, 3, 249, 0, 1, 2, 4, 5, 6, 8, 9, 10];
    let call = 0;
    const randomFill = (buffer: Uint8Array) => {
      buffer.fill(0);
      if (call++ === 0) buffer.set(script);
    };
    const format: PinFormat = { length: 16, alphabet: 'digits', check: 'luhn' };
    const [pin] = generatePins({ format, count: 1, randomFill });
    expect(pin!.slice(0, 15)).toBe('739012456890000');
  });

  test('given a zero count, then no PINs are made', () => {
    expect(generatePins({ format: formats[0]!, count: 0 })).toEqual([]);
  });

  test('given pinGenerateCountMax + 1, then it asserts', () => {
    expect(() => generatePins({ format: formats[0]!, count: pinGenerateCountMax + 1 })).toThrow(
      AssertionError,
    );
  });

  test('given a count too large for the format space, then it asserts instead of looping', () => {
    const small: PinFormat = { length: 8, alphabet: 'digits', check: 'luhn' };
    expect(pinSpaceSize(small)).toBe(10_000_000n);
    expect(() => generatePins({ format: small, count: 2_500_001 })).toThrow(AssertionError);
  });

  test.each([
    { length: pinLengthMin - 1, alphabet: 'digits', check: 'luhn' },
    { length: pinLengthMax + 1, alphabet: 'digits', check: 'luhn' },
    { length: 13.5, alphabet: 'digits', check: 'luhn' },
    { length: 12, alphabet: 'alphanumeric', check: 'luhn' },
  ] as const)(
    'given the invalid format $length/$alphabet/$check, then generation asserts',
    (format) => {
      expect(() => generatePins({ format, count: 1 })).toThrow(AssertionError);
    },
  );
});

describe('checkPinFormat', () => {
  test.each([
    { length: pinLengthMin, alphabet: 'digits', check: 'luhn', code: undefined },
    { length: pinLengthMax, alphabet: 'alphanumeric', check: 'damm', code: undefined },
    {
      length: pinLengthMin - 1,
      alphabet: 'digits',
      check: 'luhn',
      code: 'pin_length_out_of_range',
    },
    {
      length: pinLengthMax + 1,
      alphabet: 'digits',
      check: 'luhn',
      code: 'pin_length_out_of_range',
    },
    { length: 12.5, alphabet: 'digits', check: 'luhn', code: 'pin_length_out_of_range' },
    { length: 12, alphabet: 'hex', check: 'luhn', code: 'pin_alphabet_unknown' },
    { length: 12, alphabet: 'toString', check: 'luhn', code: 'pin_alphabet_unknown' },
    { length: 12, alphabet: 'digits', check: 'verhoeff', code: 'pin_check_unknown' },
    { length: 12, alphabet: 'alphanumeric', check: 'luhn', code: 'pin_check_unsupported' },
  ])('given length $length, $alphabet, $check, then $code', ({ code, ...input }) => {
    const result = checkPinFormat(input);
    if (code === undefined) expect(result).toEqual({ ok: true, value: input });
    else expect(result).toMatchObject({ ok: false, code });
  });
});

describe('serials', () => {
  test.each([
    { batchPrefix: 'B2026A', sequence: 42, sequenceDigits: undefined, serial: 'B2026A-000000042' },
    { batchPrefix: 'X', sequence: 0, sequenceDigits: 1, serial: 'X-0' },
    { batchPrefix: 'X', sequence: 9, sequenceDigits: 1, serial: 'X-9' },
    {
      batchPrefix: 'ABCDEFGHIJKLMNOP',
      sequence: 10 ** serialSequenceDigitsMax - 1,
      sequenceDigits: serialSequenceDigitsMax,
      serial: `ABCDEFGHIJKLMNOP-${'9'.repeat(serialSequenceDigitsMax)}`,
    },
  ])('given $batchPrefix #$sequence, then the serial is $serial and parses back', (row) => {
    const { serial, sequenceDigits, ...rest } = row;
    const options = sequenceDigits === undefined ? rest : { ...rest, sequenceDigits };
    expect(formatSerial(options)).toBe(serial);
    expect(parseSerial(serial.toLowerCase())).toEqual(rest);
  });

  test.each([
    { batchPrefix: 'b1', sequence: 1 },
    { batchPrefix: '', sequence: 1 },
    { batchPrefix: 'ABCDEFGHIJKLMNOPQ', sequence: 1 },
    { batchPrefix: 'B1', sequence: -1 },
    { batchPrefix: 'B1', sequence: 1.5 },
    { batchPrefix: 'B1', sequence: 10, sequenceDigits: 1 },
    { batchPrefix: 'B1', sequence: 1, sequenceDigits: serialSequenceDigitsMax + 1 },
  ])('given $batchPrefix #$sequence, then formatting asserts', (options) => {
    expect(() => formatSerial(options)).toThrow(AssertionError);
  });

  test.each(['', 'B1', 'B1-', '-1', 'B1-12a', 'B 1-1', `B1-${'1'.repeat(16)}`])(
    'given the text %j, then it is not a serial',
    (text) => {
      expect(parseSerial(text)).toBeUndefined();
    },
  );

  test('given any prefix and sequence, then format and parse round-trip', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Z0-9]{1,16}$/),
        fc.integer({ min: 0, max: 999_999_999 }),
        (batchPrefix, sequence) => {
          expect(parseSerial(formatSerial({ batchPrefix, sequence }))).toEqual({
            batchPrefix,
            sequence,
          });
        },
      ),
    );
  });
});

describe('groupPinForDisplay', () => {
  test.each([
    { pin: '12345678901234', groupLength: undefined, shown: '1234 5678 9012 34' },
    { pin: 'ABCDEFGH', groupLength: 3, shown: 'ABC DEF GH' },
  ])('given $pin, then it shows as "$shown" and normalises back', ({ pin, groupLength, shown }) => {
    const options = groupLength === undefined ? {} : { groupLength };
    expect(groupPinForDisplay(pin, options)).toBe(shown);
    expect(normalizePinInput(shown)).toBe(pin);
  });
});
