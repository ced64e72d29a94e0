// Whole prepaid calls per second through the charging API: 64 keep-alive clients, each sending
// initiate, one update and terminate for a fresh session in turn (credit control, durable before
// each answer), as a switch key, on funded caller-number (ANI) accounts. Beside it, in the same
// run: the same load on one transaction per request (the baseline), on a no-op Fastify route
// (the HTTP ceiling) and on a bare route that makes each body durable with the same group commit
// (the durable floor); then the memory and database size of 100,000 open sessions.
//   npm run bench -- charging [--seconds 10] [--warmup 2] [--rounds 1] [--sessions 100000] [--postgres]
// This file is also the server under test: bench/charging.ts <mode> <store> <accounts> [sessions]
// runs one in its own process and prints one JSON line when ready (see serve below).

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  type LoadResult,
  load,
  numberFlag,
  RoundFigures,
  roundsOf,
  row,
  startChild,
  stopChild,
  storesOf,
  type Timing,
  timingOf,
  timingText,
} from './support.ts';

const connections = 64;
const benchSwitchKey = 'tg_benchmark_switch_key_0123456789abcdef';
const destination = '+12125550100';
const self = fileURLToPath(import.meta.url);
const noopServer = fileURLToPath(new URL('./ledger-server.ts', import.meta.url));
const steps = ['/v1/charging/initiate', '/v1/charging/update', '/v1/charging/terminate'];
const mib = 1024 * 1024;
/** The open sessions are spread over this many caller-number accounts. */
const sessionAccounts = 1000;

interface ChargingInfo {
  url: string;
  /** The funded caller numbers; the no-op server has none. */
  anis?: string[];
  /** The server's data directory and PostgreSQL schema, removed once it has stopped. */
  dir?: string;
  schema?: string | null;
  sessions?: SessionsReport;
}

interface SessionsReport {
  count: number;
  seconds: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  dbBeforeBytes: number;
  dbAfterBytes: number;
}

/** The JSON a switch sends for step 0, 1, 2 of a call; `path` replaces the route (the ceiling). */
export function callRequests(run: string, anis: string[], path?: string) {
  return (n: number, step: number, context: Record<string, unknown>) => {
    if (step === 0) {
      const ani = anis[n % anis.length]!;
      context.session = `${run}-${n}@bench`;
      return {
        path: path ?? steps[0]!,
        body: JSON.stringify({
          session_id: context.session,
          subscriber: { ani },
          caller: ani,
          destination,
        }),
      };
    }
    const report = { session_id: context.session, request_number: step };
    return {
      path: path ?? steps[step]!,
      body: JSON.stringify(
        step === 1
          ? { ...report, used_seconds: 60 }
          : { ...report, used_seconds: 17, reason: 'caller_hangup' },
      ),
    };
  };
}

async function measure(
  script: string,
  args: string[],
  timing: Timing,
  path?: string,
): Promise<LoadResult> {
  const { child, info } = await startChild<ChargingInfo>(script, args);
  try {
    return await load({
      url: info.url,
      serverPid: child.pid,
      connections,
      ...timing,
      headers: { authorization: `Bearer ${benchSwitchKey}` },
      steps: steps.length,
      request: callRequests(`${args[0]}-${Date.now()}`, info.anis ?? ['15550000'], path),
    });
  } finally {
    await stopChild(child);
    await cleanUp(info);
  }
}

async function openSessions(store: string, accounts: number, count: number) {
  const { child, info } = await startChild<ChargingInfo>(
    self,
    ['sessions', store, String(accounts), String(count)],
    60 * 60_000,
  );
  await stopChild(child);
  await cleanUp(info);
  return info.sessions!;
}

async function cleanUp(info: ChargingInfo): Promise<void> {
  if (info.dir) rmSync(info.dir, { recursive: true, force: true });
  if (!info.schema) return;
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await client.query(`drop schema if exists ${info.schema} cascade`);
  await client.end();
}

const calls = (result: LoadResult) => (result.requestsPerSecond / steps.length).toFixed(0);

/** What one round, or the medians of several, says of group commit on one store. */
interface Figure {
  readonly requests: number;
  readonly toBaseline: number;
  readonly toCeiling: number;
  readonly toFloor: number;
  readonly p99Ms: number;
}
const figureNames = ['requests', 'toBaseline', 'toCeiling', 'toFloor', 'p99Ms'] as const;

function summary(figure: Figure): string {
  return (
    `${(figure.requests / steps.length).toFixed(0)} calls/s = ${figure.requests.toFixed(0)} credit-control requests/s, ` +
    `${figure.toBaseline.toFixed(2)}x the per-request baseline, ` +
    `${figure.toCeiling.toFixed(2)}x the HTTP ceiling (target >= 0.60), ` +
    `${figure.toFloor.toFixed(2)}x the durable floor, ` +
    `p99 ${figure.p99Ms.toFixed(1)} ms (target < 25 ms)`
  );
}

export async function run(args: string[] = []): Promise<void> {
  const timing = timingOf(args);
  const sessions = numberFlag(args, '--sessions', 100_000);
  const stores = storesOf(args);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `charging: ${connections} keep-alive clients, whole calls (initiate + update + terminate), ` +
      `${timingText(timing)}, ${sessions} open sessions, node ${process.version}`,
  );
  const rounds = roundsOf(args);
  const figures = new RoundFigures();
  for (let round = 1; round <= rounds; round += 1) {
    if (rounds > 1) out(`round ${round} of ${rounds}`);
    const ceiling = await measure(noopServer, ['noop'], timing, '/noop');
    out(row('no-op Fastify route (HTTP ceiling)', ceiling));
    const floor = await measure(noopServer, ['floor'], timing, '/floor');
    const floorRatio = (floor.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2);
    out(`${row('bare route, one durable row, group commit', floor)}  ${floorRatio}x the ceiling`);
    for (const store of stores) {
      const single = await measure(self, ['single', store, String(connections)], timing);
      out(`${row(`${store}: one transaction per request`, single)}  ${calls(single)} calls/s`);
      const group = await measure(self, ['group', store, String(connections)], timing);
      out(`${row(`${store}: group commit (Tollgate)`, group)}  ${calls(group)} calls/s`);
      const shared = await measure(self, ['group', store, '4'], timing);
      out(`${row(`${store}: group commit, 4 shared accounts`, shared)}  ${calls(shared)} calls/s`);
      const figure: Figure = {
        requests: group.requestsPerSecond,
        toBaseline: group.requestsPerSecond / single.requestsPerSecond,
        toCeiling: group.requestsPerSecond / ceiling.requestsPerSecond,
        toFloor: group.requestsPerSecond / floor.requestsPerSecond,
        p99Ms: group.p99Ms,
      };
      for (const name of figureNames) figures.add(`${store} ${name}`, figure[name]);
      out(`  ${store}: ${summary(figure)}`);
    }
  }
  if (rounds > 1) out(`medians of ${rounds} rounds:`);
  for (const store of stores) {
    if (rounds > 1) {
      const median = (name: (typeof figureNames)[number]) => figures.median(`${store} ${name}`);
      out(
        `  ${store}: ${summary({ requests: median('requests'), toBaseline: median('toBaseline'), toCeiling: median('toCeiling'), toFloor: median('toFloor'), p99Ms: median('p99Ms') })}`,
      );
    }
    const open = await openSessions(store, sessionAccounts, sessions);
    out(
      `  ${store}: ${open.count} open sessions (initiate through the service, ${sessionAccounts} accounts) in ` +
        `${open.seconds.toFixed(1)} s = ${(open.count / open.seconds).toFixed(0)}/s; server RSS ` +
        `${(open.rssBeforeBytes / mib).toFixed(0)} -> ${(open.rssAfterBytes / mib).toFixed(0)} MiB ` +
        `(target < 1024 MiB), JS heap of the HTTP thread ${(open.heapBeforeBytes / mib).toFixed(0)} -> ` +
        `${(open.heapAfterBytes / mib).toFixed(0)} MiB, database ${(open.dbBeforeBytes / mib).toFixed(0)} -> ` +
        `${(open.dbAfterBytes / mib).toFixed(0)} MiB (${((open.dbAfterBytes - open.dbBeforeBytes) / open.count).toFixed(0)} bytes a session)`,
    );
  }
}

// --- the server under test ---------------------------------------------------------------

/** Bytes the database takes: SQLite pages (WAL included), or the PostgreSQL schema's relations. */
async function databaseBytes(sqlitePath: string, schema: string | null): Promise<number> {
  if (!schema) {
    const Sqlite = (await import('better-sqlite3')).default;
    const db = new Sqlite(sqlitePath, { readonly: true });
    const pages = db.pragma('page_count', { simple: true }) as number;
    const size = db.pragma('page_size', { simple: true }) as number;
    db.close();
    return Math.max(pages * size, statSync(sqlitePath).size);
  }
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  const { rows } = await client.query<{ bytes: string }>(
    `select coalesce(sum(pg_total_relation_size(c.oid)), 0)::text as bytes from pg_class c
       join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'r'`,
    [schema],
  );
  await client.end();
  return Number(rows[0]?.bytes ?? 0);
}

async function serve([mode, store, accountsText, sessionsText]: string[]): Promise<void> {
  const { startServer } = await import('../src/server.ts');
  const { systemCaller } = await import('../src/core/shared/principal.ts');
  const { fundAni, setUpCharging } = await import('../test/support/charging.ts');
  const databaseUrl = store === 'postgres' ? process.env.DATABASE_URL : undefined;
  const schema = databaseUrl ? `cbench_${process.pid}` : null;
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cbench-'));
  const sqlitePath = join(dir, 'bench.db');
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    sqlitePath,
    databaseUrl,
    postgresSchema: schema ?? undefined,
    batchSizeMax: mode === 'single' ? 1 : undefined,
    logger: false,
    clock: { nowMs: () => Date.now() },
  });
  const { services } = server;
  const { switchCaller } = await setUpCharging(services);
  const key = await services.principals.issueKey(systemCaller, {
    principalId: switchCaller.principal.id,
    secret: benchSwitchKey,
  });
  if (!key.ok) throw new Error(key.code);
  const anis = Array.from({ length: Number(accountsText) }, (_, i) => `1555${1_000_000 + i}`);
  await Promise.all(anis.map((ani) => fundAni(services, ani, 10n ** 12n)));
  let sessions: SessionsReport | undefined;
  if (mode === 'sessions') {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const count = Number(sessionsText);
    gc();
    const before = process.memoryUsage();
    const dbBeforeBytes = await databaseBytes(sqlitePath, schema);
    const startedMs = performance.now();
    let next = 0;
    // 512 switches' worth of initiates in flight: enough to fill each group commit.
    const worker = async () => {
      for (let n = next++; n < count; n = next++) {
        const ani = anis[n % anis.length]!;
        const answer = await services.charging.initiate(switchCaller, {
          sessionId: `open-${n}@bench`,
          subscriber: { ani },
          callerNumber: ani,
          calledNumber: destination,
        });
        if (!answer.ok) throw new Error(`initiate ${n}: ${answer.code}`);
      }
    };
    await Promise.all(Array.from({ length: 512 }, worker));
    const seconds = (performance.now() - startedMs) / 1000;
    gc();
    const after = process.memoryUsage();
    sessions = {
      count,
      seconds,
      rssBeforeBytes: before.rss,
      rssAfterBytes: after.rss,
      heapBeforeBytes: before.heapUsed,
      heapAfterBytes: after.heapUsed,
      dbBeforeBytes,
      dbAfterBytes: await databaseBytes(sqlitePath, schema),
    };
  }
  const info: ChargingInfo = {
    url: server.url,
    anis,
    dir,
    schema,
    ...(sessions ? { sessions } : {}),
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
  process.once('SIGTERM', () => {
    void server.stop().then(() => process.exit(0));
  });
}

if (process.argv[1] === self) await serve(process.argv.slice(2));
