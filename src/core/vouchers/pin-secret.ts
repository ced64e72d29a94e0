// PIN secrecy: the PinVault turns a clear PIN into what the database may hold, a keyed lookup
// hash (HMAC-SHA-256) and an encrypted copy (AES-256-GCM) for the re-delivery e-PIN sales
// need, and decrypts that copy again. The master key comes from an adapter (key file or
// environment); only keys derived from it live here, and no error ever quotes a key or a PIN.

import type { KeyObject } from 'node:crypto';
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomFillSync,
} from 'node:crypto';
import { assert } from '../shared/assert.ts';

/** Size of the master key that `loadOrCreatePinKey` provides. */
export const pinMasterKeyBytes = 32;
/** Size of a lookup hash: the full HMAC-SHA-256 output. */
export const pinLookupHashBytes = 32;
/** Longest PIN the vault encrypts; matches `pinLengthMax` with room for a future wider format. */
export const pinEncryptedCharsMax = 64;

const ivBytes = 12;
const tagBytes = 16;
const headerBytes = 1;
const encryptedOverheadBytes = headerBytes + ivBytes + tagBytes;

// HKDF domain separation: each subkey has its own `info`, so the lookup key and the encryption
// key are independent even though they come from one master key. The salt is fixed because the
// master key is already uniformly random; HKDF's extract step needs no secret salt then.
const hkdfSalt = Buffer.from('tollgate/pin-vault', 'utf8');
const lookupInfo = Buffer.from('tollgate/pin-vault/lookup-hmac-sha256/v1', 'utf8');
const encryptInfo = Buffer.from('tollgate/pin-vault/encrypt-aes-256-gcm/v1', 'utf8');

/**
 * Decrypting a PIN failed: the data was tampered with, or it was encrypted under another key.
 * That is a broken invariant or a configuration outage, never a client error, so it is thrown.
 * Its message names the cause and never contains the key, the ciphertext or the PIN.
 */
export class PinVaultError extends Error {
  override name = 'PinVaultError';
}

/** Random IVs are drawn in blocks so a batch of a million PINs does not make a million calls. */
const ivPoolBytes = ivBytes * 4096;

/**
 * Hashes and encrypts PINs under keys derived (HKDF-SHA-256) from one 32-byte master key.
 *
 * - `lookupHash(pin)` returns a 32-byte Buffer, HMAC-SHA-256 of the PIN under the lookup key.
 *   It is deterministic, so the store keeps it under a unique index and finds a PIN by it; it is
 *   keyed, so a stolen database alone does not let anyone test guesses.
 * - `encrypt(pin)` returns base64 of `version (1 byte) | IV (12) | GCM tag (16) | ciphertext`, with
 *   a fresh random IV each time. The version byte is the key version the vault was built with,
 *   and is authenticated as associated data: when keys rotate, a reader picks the vault by it.
 *   Random 96-bit IVs stay safe for 2^32 encryptions under one key, far beyond any PIN stock.
 * - `decrypt(encrypted)` returns the PIN, or throws PinVaultError on any mismatch.
 *
 * Callers pass the PIN in its normalised form (see `normalizePinInput`): the hash of
 * "1234 5678" is not the hash of "12345678".
 *
 * @example
 * const vault = new PinVault({ masterKey });
 * const row = { pinLookupHash: vault.lookupHash(pin), pinEncrypted: vault.encrypt(pin) };
 * vault.decrypt(row.pinEncrypted) === pin;
 */
export class PinVault {
  /** The key version written into, and required of, every encrypted PIN (1..255). */
  readonly keyVersion: number;
  // Private fields and KeyObjects keep the key bytes out of util.inspect and JSON.stringify, so
  // logging a vault by mistake shows no secret.
  readonly #lookupKey: KeyObject;
  readonly #encryptKey: KeyObject;
  readonly #ivPool = Buffer.alloc(ivPoolBytes);
  #ivAt = ivPoolBytes;

  constructor(options: { masterKey: Uint8Array; keyVersion?: number }) {
    const keyVersion = options.keyVersion ?? 1;
    assert(
      options.masterKey.byteLength === pinMasterKeyBytes,
      `PIN master key must be ${pinMasterKeyBytes} bytes`,
    );
    assert(
      Number.isInteger(keyVersion) && keyVersion >= 1 && keyVersion <= 255,
      'PIN key version must be 1..255',
    );
    this.keyVersion = keyVersion;
    this.#lookupKey = deriveKey(options.masterKey, lookupInfo);
    this.#encryptKey = deriveKey(options.masterKey, encryptInfo);
  }

  /** HMAC-SHA-256 of the PIN under the lookup key: a 32-byte Buffer (`pinLookupHashBytes`). */
  lookupHash(pin: string): Buffer {
    assertPinShape(pin);
    return createHmac('sha256', this.#lookupKey).update(pin, 'latin1').digest();
  }

  /** Encrypts the PIN with AES-256-GCM under a fresh random IV; the class comment gives the form. */
  encrypt(pin: string): string {
    assertPinShape(pin);
    const encrypted = Buffer.allocUnsafe(encryptedOverheadBytes + pin.length);
    encrypted[0] = this.keyVersion;
    const iv = this.#nextIv();
    iv.copy(encrypted, headerBytes);
    const cipher = createCipheriv('aes-256-gcm', this.#encryptKey, iv);
    cipher.setAAD(encrypted.subarray(0, headerBytes));
    const written = cipher.update(pin, 'latin1').copy(encrypted, encryptedOverheadBytes);
    cipher.final();
    assert(written === pin.length, 'AES-GCM wrote an unexpected ciphertext length');
    cipher.getAuthTag().copy(encrypted, headerBytes + ivBytes);
    return encrypted.toString('base64');
  }

  /** Decrypts a PIN. Throws PinVaultError when the text is malformed, tampered with or foreign. */
  decrypt(encryptedText: string): string {
    const encrypted = Buffer.from(encryptedText, 'base64');
    if (
      encrypted.length <= encryptedOverheadBytes ||
      encrypted.length > encryptedOverheadBytes + pinEncryptedCharsMax ||
      encrypted.toString('base64') !== encryptedText
    ) {
      throw new PinVaultError('encrypted PIN is malformed: not the base64 form PinVault writes');
    }
    const version = encrypted[0]!;
    if (version !== this.keyVersion) {
      throw new PinVaultError(
        `encrypted PIN is from key version ${version}; this vault holds key version ${this.keyVersion}`,
      );
    }
    const iv = encrypted.subarray(headerBytes, headerBytes + ivBytes);
    const decipher = createDecipheriv('aes-256-gcm', this.#encryptKey, iv);
    decipher.setAAD(encrypted.subarray(0, headerBytes));
    decipher.setAuthTag(encrypted.subarray(headerBytes + ivBytes, encryptedOverheadBytes));
    const clear = decipher.update(encrypted.subarray(encryptedOverheadBytes));
    try {
      decipher.final();
    } catch {
      // OpenSSL's own message says only "Unsupported state or unable to authenticate data"; ours
      // says what it means for an operator.
      throw new PinVaultError(
        'encrypted PIN failed authentication: it was tampered with or encrypted under another key',
      );
    }
    return clear.toString('latin1');
  }

  #nextIv(): Buffer {
    if (this.#ivAt === ivPoolBytes) {
      randomFillSync(this.#ivPool);
      this.#ivAt = 0;
    }
    const iv = this.#ivPool.subarray(this.#ivAt, this.#ivAt + ivBytes);
    this.#ivAt += ivBytes;
    return iv;
  }
}

function deriveKey(masterKey: Uint8Array, info: Buffer): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', masterKey, hkdfSalt, info, 32)));
}

// PINs are printable ASCII (see pinAlphabets); latin1 encoding then maps one character to one
// byte, which keeps the encrypted size exact and the hash independent of any text encoding choice.
function assertPinShape(pin: string): void {
  assert(
    pin.length > 0 && pin.length <= pinEncryptedCharsMax && /^[\x21-\x7e]+$/.test(pin),
    'PIN must be 1..64 printable ASCII characters',
  );
}
