import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadOrCreatePinKey, PinKeyError, parsePinKeyText } from './pin-key.ts';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tollgate-pin-key-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

function rejectionOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the action to throw');
}

const key = randomBytes(32);

describe('parsePinKeyText', () => {
  test.each([
    { form: 'lower-case hex', text: key.toString('hex') },
    { form: 'upper-case hex', text: key.toString('hex').toUpperCase() },
    { form: 'base64', text: key.toString('base64') },
    { form: 'base64 without padding', text: key.toString('base64').replace(/=$/, '') },
    { form: 'URL-safe base64', text: key.toString('base64url') },
    { form: 'base64 with a trailing newline', text: `${key.toString('base64')}\n` },
  ])('given the key as $form, then the same 32 bytes come back', ({ text }) => {
    expect(parsePinKeyText(text).equals(key)).toBe(true);
  });

  test.each([
    { form: '31 bytes of hex', text: randomBytes(31).toString('hex') },
    { form: '33 bytes of hex', text: randomBytes(33).toString('hex') },
    { form: '31 bytes of base64', text: randomBytes(31).toString('base64') },
    { form: '33 bytes of base64', text: randomBytes(33).toString('base64') },
    { form: 'hex with a stray letter', text: `${key.toString('hex').slice(0, 63)}g` },
    { form: 'a passphrase', text: 'correct horse battery staple, correct horse battery' },
    { form: 'whitespace only', text: ' \n' },
  ])(
    'given $form, then PinKeyError names the accepted forms and never echoes the value',
    ({ text }) => {
      const error = rejectionOf(() => parsePinKeyText(text));
      expect(error).toBeInstanceOf(PinKeyError);
      expect(error.message).toMatch(/TOLLGATE_PIN_KEY/);
      if (text.trim().length > 0) {
        expect(error.message).not.toContain(text.trim());
        expect(error.message).not.toContain(text.trim().slice(0, 16));
      }
    },
  );
});

describe('loadOrCreatePinKey', () => {
  test('given an environment value, then it is used and no key file is created', async () => {
    const keyFilePath = join(directory, 'pin.key');
    const loaded = await loadOrCreatePinKey({ keyFilePath, envValue: key.toString('base64') });
    expect(loaded.source).toBe('env');
    expect(loaded.key.equals(key)).toBe(true);
    await expect(stat(keyFilePath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('given an environment value and a key file, then the environment value wins', async () => {
    const keyFilePath = join(directory, 'pin.key');
    await loadOrCreatePinKey({ keyFilePath });
    const loaded = await loadOrCreatePinKey({ keyFilePath, envValue: key.toString('hex') });
    expect(loaded).toEqual({ key, source: 'env' });
  });

  test('given an invalid environment value, then it is refused even though a key file exists', async () => {
    const keyFilePath = join(directory, 'pin.key');
    await loadOrCreatePinKey({ keyFilePath });
    const error = await rejection(loadOrCreatePinKey({ keyFilePath, envValue: 'not-a-key' }));
    expect(error).toBeInstanceOf(PinKeyError);
    expect(error.message).not.toContain('not-a-key');
  });

  test('given no environment value and no file, then a 32-byte 0600 file is created in a new directory', async () => {
    const keyFilePath = join(directory, 'state', 'keys', 'pin.key');
    const created = await loadOrCreatePinKey({ keyFilePath, envValue: undefined });
    expect(created.source).toBe('created');
    expect(created.key).toHaveLength(32);

    const fileStats = await stat(keyFilePath);
    expect(fileStats.mode & 0o777).toBe(0o600);
    expect((await stat(join(directory, 'state', 'keys'))).mode & 0o777).toBe(0o700);
    expect((await readFile(keyFilePath)).equals(created.key)).toBe(true);

    const reloaded = await loadOrCreatePinKey({ keyFilePath });
    expect(reloaded.source).toBe('file');
    expect(reloaded.key.equals(created.key)).toBe(true);
  });

  test('given eight first starts at once, then all get one key and no temporary file remains', async () => {
    const keyFilePath = join(directory, 'pin.key');
    const results = await Promise.all(
      Array.from({ length: 8 }, () => loadOrCreatePinKey({ keyFilePath })),
    );
    expect(results.filter((result) => result.source === 'created')).toHaveLength(1);
    for (const result of results) expect(result.key.equals(results[0]!.key)).toBe(true);
    expect(await readdir(directory)).toEqual(['pin.key']);
  });

  test.each([0o400, 0o600])('given a key file with mode 0%o, then it is accepted', async (mode) => {
    const keyFilePath = join(directory, 'pin.key');
    await writeFile(keyFilePath, key);
    await chmod(keyFilePath, mode);
    expect(await loadOrCreatePinKey({ keyFilePath })).toEqual({ key, source: 'file' });
  });

  test.each([0o644, 0o640, 0o604, 0o700, 0o660])(
    'given a key file with mode 0%o, then it is refused with the chmod to run',
    async (mode) => {
      const keyFilePath = join(directory, 'pin.key');
      await writeFile(keyFilePath, key);
      await chmod(keyFilePath, mode);
      const error = await rejection(loadOrCreatePinKey({ keyFilePath }));
      expect(error).toBeInstanceOf(PinKeyError);
      expect(error.message).toContain(`mode 0${mode.toString(8)}`);
      expect(error.message).toContain(`chmod 600 ${keyFilePath}`);
      expect(error.message).not.toContain(key.toString('hex'));
      expect(error.message).not.toContain(key.toString('base64'));
    },
  );

  test.each([0, 31, 33, 64])(
    'given a 0600 key file of %i bytes, then it is refused and left as it is',
    async (size) => {
      const keyFilePath = join(directory, 'pin.key');
      const content = randomBytes(size);
      await writeFile(keyFilePath, content, { mode: 0o600 });
      const error = await rejection(loadOrCreatePinKey({ keyFilePath }));
      expect(error).toBeInstanceOf(PinKeyError);
      expect(error.message).toContain(`holds ${size} bytes`);
      expect((await readFile(keyFilePath)).equals(content)).toBe(true);
    },
  );

  test('given a directory where the key file should be, then it is refused', async () => {
    const keyFilePath = join(directory, 'pin.key');
    await mkdir(keyFilePath, { mode: 0o700 });
    const error = await rejection(loadOrCreatePinKey({ keyFilePath }));
    expect(error).toBeInstanceOf(PinKeyError);
    expect(error.message).toMatch(/not a regular file/);
  });
});
