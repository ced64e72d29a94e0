// How long Tollgate takes to start, beside `node -e 0` (Node starting and doing nothing)
// measured in the same run: `tollgate serve` until GET /health answers 200, on an existing SQLite
// database holding 1,000,000 PINs and 100,000 CDRs; `tollgate serve --demo` on an empty
// database, as `npm start` runs it; and `tollgate --version`.
//   npm run bench -- startup [--runs 7] [--pins 1000000] [--cdrs 100000] [--no-build]
// It runs `npm run build` first, so it measures the binary as shipped (dist/), compiled from the
// sources as they are now; `--no-build` measures bin/tollgate.js as it is (an older checkout's,
// which ran the sources through tsx, to compare). The database is built once, in a temporary folder: migrated and
// seeded by the server itself, then filled with bulk SQL (the PIN batch through the real code
// takes half a minute a million; the rows' shapes are the real ones).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startServer } from '../src/server.ts';
import { numberFlag, RoundFigures } from './support.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'tollgate.js');
/** How long one start may take before the run is given up as broken. */
const startTimeoutMs = 60_000;
/** The targets of the start-up issue, on the development machine. */
const serveTargetMs = 1500;
const versionTargetMs = 400;

/** The environment of every measured process: the compiled binary, quiet logs, SQLite. */
const childEnv: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_LOG_LEVEL: 'warn' };
for (const name of [
  'TOLLGATE_SOURCE',
  'DATABASE_URL',
  'TOLLGATE_DB',
  'TOLLGATE_PIN_KEY',
  'TOLLGATE_PIN_KEY_FILE',
  'TOLLGATE_ADMIN_KEY',
]) {
  delete childEnv[name];
}

function timedSync(args: string[]): number {
  const startedMs = performance.now();
  const result = spawnSync(process.execPath, args, { env: childEnv, stdio: 'ignore' });
  const elapsedMs = performance.now() - startedMs;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status}`);
  return elapsedMs;
}

/** Milliseconds from spawning `tollgate serve …` to its first 200 from /health; then stops it. */
async function timeServe(args: string[]): Promise<number> {
  const startedMs = performance.now();
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--host', '127.0.0.1', '--port', '0', ...args],
    {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`no start: ${output}`)), startTimeoutMs);
      child.stdout.on('data', (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-10_000);
        const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (found) {
          clearTimeout(timer);
          resolve(found[1]!);
        }
      });
      void exited.then((code) => reject(new Error(`serve exited with ${code}: ${output}`)));
    });
    const deadlineMs = startedMs + startTimeoutMs;
    while (performance.now() < deadlineMs) {
      const response = await fetch(`${url}/health`).catch(() => null);
      if (response?.status === 200) return performance.now() - startedMs;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`${url}/health did not answer 200 within ${startTimeoutMs} ms`);
  } finally {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    await exited;
  }
}

/**
 * A database as a server that has been running a while would have it: the demo's tariffs,
 * accounts and products, an admin key, the PIN key file, then `pins` PINs in one batch and
 * `cdrs` call records, inserted with bulk SQL.
 */
async function buildDatabase(dir: string, pins: number, cdrs: number): Promise<string> {
  const path = join(dir, 'tollgate.db');
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    sqlitePath: path,
    demo: true,
    logger: false,
    clock: { nowMs: () => Date.now() },
  });
  await server.stop();
  const db = new Database(path);
  try {
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const nowMs = Date.now();
    const fill = db.transaction(() => {
      db.prepare(
        `insert into voucher_batches (id, product_id, serial_prefix, count_requested, count_created,
           source, frozen, created_by, created_at_ms)
         values ('bat_bench', 'prd_demo_card_10', 'BENCH', ?, ?, 'generated', 0, 'system', ?)`,
      ).run(pins, pins, nowMs);
      // The hash and ciphertext have the length of real ones (64 hex digits; 60 characters).
      db.prepare(
        `with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
         insert into vouchers (serial, batch_id, product_id, pin_hash, pin_encrypted, status,
           frozen, created_at_ms)
         select 'BENCH-' || printf('%09d', i), 'bat_bench', 'prd_demo_card_10',
           lower(hex(randomblob(32))), hex(randomblob(30)), 'in_stock', 0, ? from n`,
      ).run(pins, nowMs);
      const rate =
        '{"terms":{"connect_fee":"0","price_per_minute":"0.01","initial_increment_seconds":60,' +
        '"subsequent_increment_seconds":6,"minimum_charge":"0"},"periods":[]}';
      db.prepare(
        `with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
         insert into cdrs (id, session_pk, principal_id, session_id, account_id, subscriber,
           caller_number, called_number, carrier_id, prefix, destination_name, currency,
           rate_snapshot, start_ms, answer_ms, end_ms, billed_seconds, cost_minor, reason)
         select 'cdr_bench_' || i, 'ses_bench_' || i, 'op_admin', 'call-' || i,
           'acc_ani_15550001234_USD', 'ani:15550001234', '15550001234',
           '+1212555' || printf('%04d', i % 10000), 'acme', '1', 'United States and Canada', 'USD',
           ?, ? - i * 60000, ? - i * 60000 + 3000, ? - i * 60000 + 63000, 60, 1, 'normal'
         from n`,
      ).run(cdrs, rate, nowMs, nowMs, nowMs);
    });
    fill();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return path;
}

export async function run(args: string[] = []): Promise<void> {
  const runs = Math.max(1, Math.floor(numberFlag(args, '--runs', 7)));
  const pins = numberFlag(args, '--pins', 1_000_000);
  const cdrs = numberFlag(args, '--cdrs', 100_000);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`startup: ${runs} runs each, node ${process.version}`);

  let startedMs = performance.now();
  if (!args.includes('--no-build')) {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    out(`  npm run build: ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-startup-'));
  try {
    startedMs = performance.now();
    const path = await buildDatabase(dir, pins, cdrs);
    out(
      `  database with ${pins} PINs and ${cdrs} CDRs built in ` +
        `${((performance.now() - startedMs) / 1000).toFixed(1)} s`,
    );
    // One start not counted: the first start after the build sets up what later ones find.
    await timeServe(['--db', path]);

    const figures = new RoundFigures();
    for (let round = 1; round <= runs; round += 1) {
      figures.add('node', timedSync(['-e', '0']));
      figures.add('version', timedSync([bin, '--version']));
      figures.add('serve', await timeServe(['--db', path]));
      const empty = join(dir, `empty-${round}`, 'tollgate.db');
      figures.add('demo', await timeServe(['--demo', '--db', empty]));
    }
    const node = figures.median('node');
    const line = (label: string, name: string, targetMs?: number) => {
      const ms = figures.median(name);
      const target =
        targetMs === undefined
          ? ''
          : `  target ${targetMs} ms: ${ms <= targetMs ? 'met' : 'not met'}`;
      out(
        `${label.padEnd(60)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / node).toFixed(1).padStart(5)}x node -e 0${target}`,
      );
    };
    out(`medians of ${runs} runs:`);
    line('node -e 0 (baseline)', 'node');
    line('tollgate --version', 'version', versionTargetMs);
    line(`tollgate serve, ${pins} PINs and ${cdrs} CDRs, to /health`, 'serve', serveTargetMs);
    line('tollgate serve --demo, empty database, to /health', 'demo');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
