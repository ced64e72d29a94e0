// The checkpointer thread: copies committed pages from the WAL into the database file, so the
// writer never does it inside a commit. SQLite's automatic checkpoint runs in the committing
// connection and, with synchronous=FULL, fsyncs the database file there: a few milliseconds
// added to one commit in every few dozen. A PASSIVE checkpoint from this separate connection
// runs beside the writer without blocking it.

import { parentPort, workerData } from 'node:worker_threads';
import { connectSqlite } from './sqlite-connection.ts';

export interface CheckpointerData {
  readonly path: string;
  readonly intervalMs: number;
}

const port = parentPort;
if (!port) throw new Error('sqlite-checkpointer-thread must run as a worker thread');
const data = workerData as CheckpointerData;
const db = connectSqlite(data.path);
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => checkpoint.run(), data.intervalMs);
port.on('message', (message: { kind: 'close' }) => {
  if (message.kind !== 'close') return;
  clearInterval(timer);
  checkpoint.run();
  db.close();
  port.postMessage({ kind: 'closed' });
  port.close();
});
port.postMessage({ kind: 'ready' });
