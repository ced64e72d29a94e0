// The writer thread's side of the conversation with the main thread. Messages in:
// `commands` (items with an id, a type, a payload and the submitter's time) and `close`.
// Messages out: `ready` or `failed` once, then `results` (each item's value or error, and the
// sizes of the batches committed) and finally `closed`.

import { parentPort, workerData } from 'node:worker_threads';
import type { CommandItem } from '../../core/shared/write-command.ts';
import { openSqliteWriter } from './sqlite-writer.ts';

export interface WriterThreadData {
  readonly path: string;
  readonly batchSizeMax?: number | undefined;
}

export type ToWriter =
  | {
      readonly kind: 'commands';
      readonly items: ReadonlyArray<CommandItem & { readonly id: number }>;
    }
  | { readonly kind: 'close' };

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string | undefined;
}

export type ResultItem =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

export type FromWriter =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly error: SerializedError }
  | {
      readonly kind: 'results';
      readonly items: readonly ResultItem[];
      readonly batchSizes: readonly number[];
    }
  | { readonly kind: 'closed' };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}

const port = parentPort;
if (!port) throw new Error('sqlite-writer-thread must run as a worker thread');
const data = workerData as WriterThreadData;
const send = (message: FromWriter) => port.postMessage(message);

let settled: ResultItem[] = [];
let batchSizes: number[] = [];
let flushScheduled = false;

/** Sends everything settled in this turn of the event loop as one message. */
function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(() => {
    flushScheduled = false;
    const items = settled;
    const sizes = batchSizes;
    settled = [];
    batchSizes = [];
    send({ kind: 'results', items, batchSizes: sizes });
  });
}

try {
  const writer = await openSqliteWriter({
    path: data.path,
    batchSizeMax: data.batchSizeMax,
    onBatch: (size) => batchSizes.push(size),
  });
  port.on('message', (message: ToWriter) => {
    if (message.kind === 'close') {
      void writer.close().then(() => {
        send({ kind: 'closed' });
        port.close();
      });
      return;
    }
    for (const item of message.items) {
      writer.committer.enqueue(item).then(
        (value) => {
          settled.push({ id: item.id, ok: true, value });
          scheduleFlush();
        },
        (error: unknown) => {
          settled.push({ id: item.id, ok: false, error: serializeError(error) });
          scheduleFlush();
        },
      );
    }
  });
  send({ kind: 'ready' });
} catch (error) {
  send({ kind: 'failed', error: serializeError(error) });
  port.close();
}
