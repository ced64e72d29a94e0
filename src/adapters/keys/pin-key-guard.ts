// Loading the PIN key for a store at start-up, with the one check that needs both: a key file
// that was only just created while the database already holds PINs means the real key is lost
// or misplaced, and starting would issue PINs nobody can ever decrypt alongside ones that cannot
// be read. Tollgate refuses to start instead.

import { dirname, join } from 'node:path';
import type { Store } from '../../store/store.ts';
import { loadOrCreatePinKey, PinKeyError } from './pin-key.ts';

/** Where the key file is when TOLLGATE_PIN_KEY_FILE does not say: beside the SQLite file. */
export function defaultPinKeyFile(sqlitePath: string | undefined): string {
  return join(dirname(sqlitePath ?? './data/tollgate.db'), 'pin.key');
}

export async function loadPinKeyForStore(options: {
  store: Store;
  keyFilePath: string;
  envValue?: string | undefined;
}): Promise<Buffer> {
  const { key, source } = await loadOrCreatePinKey({
    keyFilePath: options.keyFilePath,
    ...(options.envValue !== undefined ? { envValue: options.envValue } : {}),
  });
  if (source === 'created' && (await options.store.voucherReads.countPins()) > 0) {
    throw new PinKeyError(
      `PIN key file ${options.keyFilePath} was just created, but the database already holds PINs ` +
        'made under another key. Restore the original key file (or set TOLLGATE_PIN_KEY), and ' +
        'delete the new file before starting again.',
    );
  }
  return key;
}
