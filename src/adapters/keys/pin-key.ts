// The PIN master key: where it comes from (the TOLLGATE_PIN_KEY value the composition root reads,
// else a key file), how it is validated, and how a first start creates the key file safely. The
// key lives outside the database by design; losing it makes every stored PIN unreadable, so the
// file is created exclusively, written durably, and never overwritten.

import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pinMasterKeyBytes } from '../../core/vouchers/pin-secret.ts';

/** Where the key came from: the environment value, an existing key file, or a file just made. */
export type PinKeySource = 'env' | 'file' | 'created';

/**
 * The PIN key could not be loaded or created. The message says what is wrong and how to fix it,
 * and never contains the key or the value it was given.
 */
export class PinKeyError extends Error {
  override name = 'PinKeyError';
}

/** The only permission bits a key file may have: read and write for its owner. */
const keyFileModeAllowed = 0o600;

const hexPattern = /^[0-9a-fA-F]{64}$/;
// 32 bytes are 43 base64 characters plus one '=' of padding; both alphabets are accepted.
const base64Pattern = /^[A-Za-z0-9+/]{43}=?$|^[A-Za-z0-9_-]{43}=?$/;

/**
 * Decodes a PIN key written as 64 hex digits or as base64 (standard or URL-safe, padding
 * optional) of exactly 32 bytes. Surrounding whitespace, such as a trailing newline, is ignored.
 *
 * @example parsePinKeyText('00'.repeat(32)).length === 32
 */
export function parsePinKeyText(text: string): Buffer {
  const trimmed = text.trim();
  if (trimmed.length === 0) {
    throw new PinKeyError(
      'TOLLGATE_PIN_KEY is set but empty: unset it to use the key file, or give 32 bytes ' +
        'as 64 hex digits or base64 (for example: openssl rand -base64 32)',
    );
  }
  let key: Buffer | undefined;
  if (hexPattern.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (base64Pattern.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  if (key?.length !== pinMasterKeyBytes) {
    throw new PinKeyError(
      `TOLLGATE_PIN_KEY must be ${pinMasterKeyBytes} bytes written as 64 hex digits or as ` +
        `base64 (44 characters); the value given has ${trimmed.length} characters and is ` +
        'neither (for example: openssl rand -base64 32)',
    );
  }
  return key;
}

/**
 * Loads the 32-byte PIN master key.
 *
 * 1. If `envValue` is given (the caller passes `process.env.TOLLGATE_PIN_KEY`; this module does
 *    not read the environment), it is decoded with `parsePinKeyText` and the file is not touched.
 * 2. Otherwise the key file is read: it must be a regular file of exactly 32 raw bytes whose mode
 *    allows nothing beyond 0600.
 * 3. Otherwise the file is created with 32 random bytes, mode 0600, in a directory created with
 *    mode 0700 if missing. Creation is atomic and exclusive (a hard link from a temporary file),
 *    so two processes starting at once agree on one key and neither reads a partial file.
 *
 * A result with source 'created' on a database that already holds PINs means the old key is
 * lost; the caller should refuse to start rather than issue PINs under a new key.
 *
 * @example
 * const { key, source } = await loadOrCreatePinKey({
 *   keyFilePath: '/var/lib/tollgate/pin.key',
 *   envValue: process.env.TOLLGATE_PIN_KEY,
 * });
 */
export async function loadOrCreatePinKey(options: {
  keyFilePath: string;
  envValue?: string | undefined;
}): Promise<{ key: Buffer; source: PinKeySource }> {
  if (options.envValue !== undefined) {
    return { key: parsePinKeyText(options.envValue), source: 'env' };
  }
  const existing = await readKeyFile(options.keyFilePath);
  if (existing !== undefined) return { key: existing, source: 'file' };
  const created = await createKeyFile(options.keyFilePath);
  if (created !== undefined) return { key: created, source: 'created' };
  // Another process created the file between our read and our exclusive create: use its key.
  const raced = await readKeyFile(options.keyFilePath);
  if (raced === undefined) {
    throw new PinKeyError(`PIN key file ${options.keyFilePath} vanished while it was being read`);
  }
  return { key: raced, source: 'file' };
}

/** Reads and checks the key file; undefined when it does not exist. */
async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new PinKeyError(
      `cannot open PIN key file ${path}: ${errorCode(error) ?? 'unknown error'}`,
    );
  }
  try {
    // Checking the opened handle, not the path, so the file checked is the file read.
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new PinKeyError(`PIN key file ${path} is not a regular file`);
    }
    const mode = stats.mode & 0o777;
    if (process.platform !== 'win32' && (mode & ~keyFileModeAllowed) !== 0) {
      throw new PinKeyError(
        `PIN key file ${path} has mode ${formatMode(mode)}, which lets others than its owner ` +
          `reach it; it must be 0600 or stricter (chmod 600 ${path})`,
      );
    }
    if (stats.size !== pinMasterKeyBytes) {
      throw new PinKeyError(
        `PIN key file ${path} holds ${stats.size} bytes; it must hold exactly ` +
          `${pinMasterKeyBytes} raw bytes`,
      );
    }
    const key = Buffer.alloc(pinMasterKeyBytes);
    const { bytesRead } = await handle.read(key, 0, pinMasterKeyBytes, 0);
    if (bytesRead !== pinMasterKeyBytes) {
      throw new PinKeyError(`PIN key file ${path} shrank while it was being read`);
    }
    return key;
  } finally {
    await handle.close();
  }
}

/**
 * Creates the key file; undefined when another process created it first. The key is written to
 * a private temporary file, made durable, then hard-linked into place: the link is atomic and
 * fails if the name exists, so no reader ever sees a half-written key and no existing key is
 * ever replaced.
 */
async function createKeyFile(path: string): Promise<Buffer | undefined> {
  const directory = dirname(path);
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new PinKeyError(
      `cannot create the PIN key directory ${directory}: ${errorCode(error) ?? 'unknown error'}`,
    );
  }
  const temporaryPath = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const key = randomBytes(pinMasterKeyBytes);
  try {
    const handle = await open(temporaryPath, 'wx', keyFileModeAllowed);
    try {
      // The umask may have narrowed the mode; set it exactly so the next start accepts the file.
      await handle.chmod(keyFileModeAllowed);
      await handle.writeFile(key);
      // The key must survive a crash that follows its first use, or every PIN sold is lost.
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temporaryPath, path);
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return undefined;
      throw error;
    }
  } catch (error) {
    throw new PinKeyError(
      `cannot create PIN key file ${path}: ${errorCode(error) ?? 'unknown error'}`,
    );
  } finally {
    await unlink(temporaryPath).catch(() => undefined);
  }
  await syncDirectory(directory);
  return key;
}

/** Makes the new directory entry durable; platforms that cannot open a directory skip this. */
async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function formatMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
