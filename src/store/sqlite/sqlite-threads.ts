// Starting the SQLite store's two threads, the writer and the checkpointer. Kept apart from
// sqlite-store.ts, and light (no Kysely, no store modules), so that both threads start before
// this thread loads the rest of the store: they load their modules, open the database and
// check the schema on their own threads meanwhile. Most of a start is loading modules.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CheckpointerData } from './sqlite-checkpointer-thread.ts';
import type { FromWriter, SerializedError } from './sqlite-writer-thread.ts';

/** How often the checkpointer copies the WAL into the database file. */
export const checkpointIntervalMs = 250;

/**
 * Where a thread's entry point is. Compiled (dist/*.js), it is the thread's own compiled module.
 * Run from the sources (tests, benchmarks, TOLLGATE_SOURCE=1), it is the `.mjs` beside the
 * `.ts`, which registers tsx first: a worker thread starts from JavaScript and inherits no
 * loader. The compiled path never loads tsx.
 */
export function threadEntry(name: 'sqlite-writer-thread' | 'sqlite-checkpointer-thread'): URL {
  const fromSources = import.meta.url.endsWith('.ts');
  return new URL(`./${name}${fromSources ? '.mjs' : '.js'}`, import.meta.url);
}

/** An error raised on the writer thread, rebuilt on this one with its name, message and code. */
export class WriterError extends Error {
  readonly code: string | undefined;
  /** Set when a thread could not open this database file, for the start-up message. */
  readonly databasePath: string | undefined;
  constructor(serialized: SerializedError, databasePath?: string) {
    super(serialized.message);
    this.name = serialized.name;
    this.code = serialized.code;
    this.databasePath = databasePath;
  }
}

export interface SqliteThreads {
  readonly writer: Worker;
  readonly checkpointer: Worker;
  /** Resolves when the writer has opened the database and brought its schema up to date. */
  readonly writerReady: Promise<void>;
  /** Resolves when the checkpointer has opened the database. */
  readonly checkpointerReady: Promise<void>;
  /** Resolves when the writer thread has exited. */
  readonly writerExited: Promise<void>;
}

/** Starts both threads on the database file, creating the file's folder if needed. */
export function startSqliteThreads(options: {
  readonly path: string;
  readonly batchSizeMax?: number | undefined;
}): SqliteThreads {
  const { path } = options;
  mkdirSync(dirname(path), { recursive: true });
  const writer = new Worker(threadEntry('sqlite-writer-thread'), {
    workerData: { path, batchSizeMax: options.batchSizeMax },
  });
  const checkpointerData: CheckpointerData = { path, intervalMs: checkpointIntervalMs };
  const checkpointer = new Worker(threadEntry('sqlite-checkpointer-thread'), {
    workerData: checkpointerData,
  });
  // Listened for at once: a worker's message, error or exit with no listener yet is lost (an
  // error with no listener even stops the process), and the caller first loads the store.
  const writerExited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
  const writerReady = new Promise<void>((resolve, reject) => {
    writer.once('message', (message: FromWriter) => {
      if (message.kind === 'ready') resolve();
      else if (message.kind === 'failed') reject(new WriterError(message.error, path));
    });
    writer.once('error', reject);
  });
  const checkpointerReady = new Promise<void>((resolve, reject) => {
    checkpointer.once('message', () => resolve());
    checkpointer.once('error', (error: Error) => {
      const code = (error as { code?: unknown }).code;
      const serialized = { name: error.name, message: error.message };
      reject(
        new WriterError(typeof code === 'string' ? { ...serialized, code } : serialized, path),
      );
    });
  });
  // Each is handled where it is awaited; until then a failure must not count as unhandled.
  writerReady.catch(() => undefined);
  checkpointerReady.catch(() => undefined);
  return { writer, checkpointer, writerReady, checkpointerReady, writerExited };
}
