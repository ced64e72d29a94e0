// One server under test for bench/ledger.ts, in its own process so the load generator does not
// share its event loop. Modes: `group` (Tollgate as shipped), `single` (the same app with one
// transaction per request: the baseline group commit must beat), `noop` (a bare Fastify
// route that parses the same JSON body: the HTTP ceiling) and `floor` (a bare Fastify route that
// makes each body durable as one row, group-committed on a writer thread exactly as Tollgate
// commits: the most any durable write can do here). Prints one JSON line when ready.

import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import { systemCaller } from '../src/core/shared/principal.ts';
import { startServer } from '../src/server.ts';
import { benchAdminKey } from './support.ts';

const benchAccounts = 64;

const [mode = 'group', store = 'sqlite'] = process.argv.slice(2);

async function main(): Promise<void> {
  if (mode === 'noop') {
    const app = Fastify({ logger: false });
    app.post('/noop', async (request, reply) =>
      reply.status(201).send({ ok: true, body: request.body !== undefined }),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
    return;
  }
  if (mode === 'floor') {
    await serveFloor();
    return;
  }
  const databaseUrl = store === 'postgres' ? process.env.DATABASE_URL : undefined;
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    sqlitePath: join(mkdtempSync(join(tmpdir(), 'tollgate-bench-')), 'bench.db'),
    databaseUrl,
    postgresSchema: databaseUrl ? `bench_${process.pid}` : undefined,
    batchSizeMax: mode === 'single' ? 1 : undefined,
    adminKey: benchAdminKey,
    logger: false,
    clock: { nowMs: () => Date.now() },
  });
  const { ledger } = server.services;
  const open = async (name: string, kind: 'asset' | 'liability' | 'revenue') => {
    const created = await ledger.createAccount(systemCaller, {
      ownerId: 'system',
      name,
      currency: 'USD',
      kind,
      flags: kind === 'liability' ? ['debits_must_not_exceed_credits'] : [],
      creditLimitMinor: 0n,
    });
    if (!created.ok) throw new Error(created.code);
    return created.value.account.id;
  };
  const cash = await open('cash', 'asset');
  const revenue = await open('revenue', 'revenue');
  const wallets: string[] = [];
  for (let i = 0; i < benchAccounts; i += 1) {
    const wallet = await open(`wallet ${i}`, 'liability');
    const funded = await ledger.transfer(systemCaller, {
      kind: 'transfer',
      idempotencyKey: `fund-${i}`,
      debitAccountId: cash,
      creditAccountId: wallet,
      amountMinor: 10n ** 15n,
      currency: 'USD',
    });
    if (!funded.ok) throw new Error(funded.code);
    wallets.push(wallet);
  }
  process.stdout.write(`${JSON.stringify({ url: server.url, wallets, revenue })}\n`);
  process.once('SIGTERM', () => {
    void server.stop().then(async () => {
      if (databaseUrl) {
        const pg = (await import('pg')).default;
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`drop schema if exists bench_${process.pid} cascade`);
        await client.end();
      }
      process.exit(0);
    });
  });
}

/**
 * The writer thread of the floor: the same connection settings as Tollgate's writer (WAL,
 * synchronous=FULL), one insert per request and one commit per batch of what arrived.
 */
const floorWriter = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('create table requests (id integer primary key, body text not null)');
const insert = db.prepare('insert into requests (body) values (?)');
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
parentPort.on('message', (bodies) => {
  begin.run();
  const ids = bodies.map((body) => Number(insert.run(body).lastInsertRowid));
  commit.run();
  parentPort.postMessage(ids);
});
parentPort.postMessage('ready');
`;

async function serveFloor(): Promise<void> {
  const worker = new Worker(floorWriter, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      path: join(mkdtempSync(join(tmpdir(), 'tollgate-bench-')), 'floor.db'),
    },
  });
  await new Promise((resolve) => worker.once('message', resolve));
  // Group commit as Tollgate does it: what arrives while a batch is out goes in the next one.
  let queued: Array<{ body: string; done: (id: number) => void }> = [];
  let inFlight: typeof queued = [];
  const send = () => {
    if (inFlight.length > 0 || queued.length === 0) return;
    inFlight = queued;
    queued = [];
    worker.postMessage(inFlight.map((each) => each.body));
  };
  worker.on('message', (ids: number[]) => {
    const done = inFlight;
    inFlight = [];
    for (let i = 0; i < done.length; i += 1) done[i]!.done(ids[i]!);
    send();
  });
  const app = Fastify({ logger: false });
  app.post('/floor', async (request, reply) => {
    const id = await new Promise<number>((done) => {
      queued.push({ body: JSON.stringify(request.body), done });
      if (queued.length === 1) setImmediate(send);
    });
    return reply.status(201).send({ id });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
}

await main();
