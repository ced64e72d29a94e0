import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import { AssertionError } from '../shared/assert.ts';
import { PinVault, PinVaultError, pinLookupHashBytes, pinMasterKeyBytes } from './pin-secret.ts';

const masterKey = Buffer.alloc(pinMasterKeyBytes, 7);
const otherKey = Buffer.alloc(pinMasterKeyBytes, 8);
const pin = '83920174658391';

/** Every form of a secret that must never appear in an error or a log line. */
function secretForms(): string[] {
  return [
    pin,
    masterKey.toString('hex'),
    masterKey.toString('base64'),
    otherKey.toString('hex'),
    otherKey.toString('base64'),
  ];
}

function thrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the action to throw');
}

/** Flips one bit of the decoded form at `byteIndex` and re-encodes it. */
function flipBit(encrypted: string, byteIndex: number): string {
  const bytes = Buffer.from(encrypted, 'base64');
  bytes[byteIndex] = bytes[byteIndex]! ^ 0x01;
  return bytes.toString('base64');
}

describe('lookupHash', () => {
  test('given the same key and PIN, then the hash is the same 32 bytes every time and across vaults', () => {
    const first = new PinVault({ masterKey }).lookupHash(pin);
    const second = new PinVault({ masterKey: Buffer.from(masterKey) }).lookupHash(pin);
    expect(first).toBeInstanceOf(Buffer);
    expect(first).toHaveLength(pinLookupHashBytes);
    expect(second.equals(first)).toBe(true);
  });

  test('given a different master key, then the hash of the same PIN differs', () => {
    const hash = new PinVault({ masterKey }).lookupHash(pin);
    expect(new PinVault({ masterKey: otherKey }).lookupHash(pin).equals(hash)).toBe(false);
  });

  test('given PINs one digit apart, then their hashes differ', () => {
    const vault = new PinVault({ masterKey });
    expect(vault.lookupHash(pin).equals(vault.lookupHash(`${pin.slice(0, -1)}2`))).toBe(false);
  });

  test('given a known key and PIN, then the hash is pinned so a change of derivation is noticed', () => {
    // Changing the HKDF labels or the hash would orphan every stored PIN; this value catches it.
    // It was computed with node:crypto directly: HKDF-SHA-256(master key, salt
    // "tollgate/pin-vault", info "tollgate/pin-vault/lookup-hmac-sha256/v1"), then HMAC-SHA-256.
    const hash = new PinVault({ masterKey }).lookupHash(pin).toString('hex');
    expect(hash).toBe('975360582c6ec3213a4e93969afea89a1d08f5af102d1fbcb395ff349a46b446');
  });

  test('given the master key itself as the HMAC key, then the lookup hash differs (keys are derived)', async () => {
    const { createHmac } = await import('node:crypto');
    const naive = createHmac('sha256', masterKey).update(pin).digest();
    expect(new PinVault({ masterKey }).lookupHash(pin).equals(naive)).toBe(false);
  });
});

describe('encrypt and decrypt', () => {
  test.each([pin, 'ABCD2345EFGH6789', '12345678', 'Z'.repeat(32)])(
    'given the PIN %s, then decrypt(encrypt(pin)) returns it',
    (clear) => {
      const vault = new PinVault({ masterKey });
      expect(vault.decrypt(vault.encrypt(clear))).toBe(clear);
    },
  );

  test('given the same PIN twice, then the ciphertexts differ (fresh IV) and both decrypt', () => {
    const vault = new PinVault({ masterKey });
    const first = vault.encrypt(pin);
    const second = vault.encrypt(pin);
    expect(first).not.toBe(second);
    expect(vault.decrypt(second)).toBe(pin);
  });

  test('given 10,000 encryptions, then no IV repeats across the IV pool refills', () => {
    const vault = new PinVault({ masterKey });
    const ivs = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      ivs.add(Buffer.from(vault.encrypt(pin), 'base64').subarray(1, 13).toString('hex'));
    }
    expect(ivs.size).toBe(10_000);
  });

  test('given a 14-character PIN, then the encoding is version | IV | tag | ciphertext in base64', () => {
    const vault = new PinVault({ masterKey, keyVersion: 3 });
    const bytes = Buffer.from(vault.encrypt(pin), 'base64');
    expect(bytes).toHaveLength(1 + 12 + 16 + pin.length);
    expect(bytes[0]).toBe(3);
    expect(bytes.toString('latin1')).not.toContain(pin);
  });

  test('given a ciphertext from another key, then decrypt throws PinVaultError without secrets', () => {
    const encrypted = new PinVault({ masterKey: otherKey }).encrypt(pin);
    const error = thrownBy(() => new PinVault({ masterKey }).decrypt(encrypted));
    expect(error).toBeInstanceOf(PinVaultError);
    expect(error.message).toMatch(/failed authentication/);
    for (const secret of secretForms()) expect(error.message).not.toContain(secret);
  });

  test('given any single bit flipped in IV, tag or ciphertext, then decrypt throws PinVaultError', () => {
    const vault = new PinVault({ masterKey });
    const encrypted = vault.encrypt(pin);
    const length = Buffer.from(encrypted, 'base64').length;
    for (let byteIndex = 1; byteIndex < length; byteIndex++) {
      const error = thrownBy(() => vault.decrypt(flipBit(encrypted, byteIndex)));
      expect(error, `byte ${byteIndex}`).toBeInstanceOf(PinVaultError);
      for (const secret of secretForms()) expect(error.message).not.toContain(secret);
    }
  });

  test('given a version byte changed, then decrypt names both versions and throws', () => {
    const vault = new PinVault({ masterKey });
    const error = thrownBy(() => vault.decrypt(flipBit(vault.encrypt(pin), 0)));
    expect(error).toBeInstanceOf(PinVaultError);
    expect(error.message).toBe(
      'encrypted PIN is from key version 0; this vault holds key version 1',
    );
  });

  test.each([
    { when: 'empty', text: '' },
    { when: 'not base64', text: '!!!!' },
    { when: 'only a header', text: Buffer.alloc(29).toString('base64') },
    { when: 'longer than any PIN', text: Buffer.alloc(29 + 65, 1).toString('base64') },
    { when: 'truncated base64', text: 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA' },
  ])('given text that is $when, then decrypt throws PinVaultError', ({ text }) => {
    expect(() => new PinVault({ masterKey }).decrypt(text)).toThrow(PinVaultError);
  });
});

describe('construction and limits', () => {
  test.each([0, 16, 31, 33, 64])('given a %i-byte master key, then it asserts', (size) => {
    const error = thrownBy(() => new PinVault({ masterKey: randomBytes(size) }));
    expect(error).toBeInstanceOf(AssertionError);
  });

  test.each([0, 256, 1.5])('given key version %s, then it asserts', (keyVersion) => {
    expect(() => new PinVault({ masterKey, keyVersion })).toThrow(AssertionError);
  });

  test.each([1, 255])('given key version %i at the edge, then it is accepted', (keyVersion) => {
    const vault = new PinVault({ masterKey, keyVersion });
    expect(vault.decrypt(vault.encrypt(pin))).toBe(pin);
  });

  test.each([
    { when: 'empty', text: '' },
    { when: 'with a space', text: '1234 5678' },
    { when: '65 characters', text: '1'.repeat(65) },
  ])('given a PIN $when, then hashing and encrypting assert without quoting it', ({ text }) => {
    const vault = new PinVault({ masterKey });
    for (const action of [() => vault.lookupHash(text), () => vault.encrypt(text)]) {
      const error = thrownBy(action);
      expect(error).toBeInstanceOf(AssertionError);
      if (text.length > 0) expect(error.message).not.toContain(text);
    }
  });

  test('given a vault printed or serialised by mistake, then no key material shows', () => {
    const vault = new PinVault({ masterKey });
    const shown = `${inspect(vault, { showHidden: true, depth: 5 })}${JSON.stringify(vault)}`;
    for (const secret of secretForms()) expect(shown).not.toContain(secret);
    expect(shown).not.toContain('KeyObject');
  });
});
