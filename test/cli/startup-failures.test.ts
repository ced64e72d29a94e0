// A command that cannot start says so in one line, what went wrong and how to fix it, and exits
// 2: no stack trace. Each case runs the real binary (bin/tollgate.js) against a broken setting.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = new URL('../../bin/tollgate.js', import.meta.url).pathname;
/** A run that has not ended by then is stopped and reported: a failed start must exit. */
const runTimeoutMs = 25_000;

interface Ended {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the binary with a clean Tollgate environment plus `env`, and waits for it to exit. */
function tollgate(args: string[], env: Record<string, string> = {}): Promise<Ended> {
  // No setting from the machine's environment, only the case's own (TOLLGATE_SOURCE stays:
  // vitest.config.ts sets it so the binary runs the current sources).
  const clean: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(clean)) {
    if (name === 'DATABASE_URL' || name.startsWith('TOLLGATE_')) delete clean[name];
  }
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...clean, TOLLGATE_SOURCE: process.env.TOLLGATE_SOURCE, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`tollgate ${args.join(' ')} did not exit: ${stdout}${stderr}`));
    }, runTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      // 'exit' can come before the pipes are drained; 'close' comes after both.
      child.once('close', () => resolve({ code, stdout, stderr }));
    });
  });
}

/** Exit code 2 and exactly one line on stderr, with no stack frame in it. */
function expectOneLineFailure(ended: Ended, pattern: RegExp): void {
  expect(ended.stderr).not.toMatch(/^\s+at /m);
  const lines = ended.stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines, ended.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(ended.code).toBe(2);
}

describe('a command that cannot start', () => {
  let dir: string;
  let occupied: Server;
  let occupiedPort = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-startup-'));
    occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    const address = occupied.address();
    occupiedPort = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(async () => {
    await new Promise((resolve) => occupied.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the port in use and the flag that picks another', async () => {
    const ended = await tollgate([
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(occupiedPort),
      '--db',
      join(dir, 'port', 'tollgate.db'),
    ]);
    expectOneLineFailure(
      ended,
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${occupiedPort}: the port is in use.*--port`),
    );
  });

  it('names the PostgreSQL server it cannot reach', async () => {
    const ended = await tollgate([
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--database-url',
      'postgres://postgres@127.0.0.1:1/x',
    ]);
    expectOneLineFailure(
      ended,
      /cannot reach the database server at 127\.0\.0\.1:1 \(connection refused\).*--database-url/,
    );
  });

  it('refuses a database URL that is not PostgreSQL, without repeating it', async () => {
    const ended = await tollgate(['migrate', '--database-url', 'mysql://root:secret@db/x']);
    expectOneLineFailure(ended, /DATABASE_URL must start with postgres:\/\//);
    expect(ended.stderr).not.toContain('secret');
  });

  it('refuses a PIN key file that does not hold a key', async () => {
    const keyFile = join(dir, 'garbage.key');
    writeFileSync(keyFile, 'not a key\n', { mode: 0o600 });
    const ended = await tollgate(
      ['serve', '--host', '127.0.0.1', '--port', '0', '--db', join(dir, 'key', 'tollgate.db')],
      { TOLLGATE_PIN_KEY_FILE: keyFile },
    );
    expectOneLineFailure(
      ended,
      /PIN key file .*garbage\.key holds 10 bytes; it must hold exactly 32/,
    );
  });

  it('refuses a PIN key path that is a folder', async () => {
    const ended = await tollgate(
      ['serve', '--host', '127.0.0.1', '--port', '0', '--db', join(dir, 'key2', 'tollgate.db')],
      { TOLLGATE_PIN_KEY_FILE: dir },
    );
    expectOneLineFailure(ended, /PIN key file .* is not a regular file/);
  });

  it('refuses a database written by a newer Tollgate and says to upgrade', async () => {
    const path = join(dir, 'newer', 'tollgate.db');
    expect((await tollgate(['migrate', '--db', path])).code).toBe(0);
    const db = new Database(path);
    db.prepare(
      "insert into kysely_migration (name, timestamp) values ('999_from_the_future', '2030-01-01')",
    ).run();
    db.close();
    const ended = await tollgate(['serve', '--host', '127.0.0.1', '--port', '0', '--db', path]);
    expectOneLineFailure(ended, /does not know \(999_from_the_future\).*Upgrade Tollgate/);
  });

  it('refuses a file that is not a SQLite database and names it', async () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, Buffer.alloc(4096, 7));
    const ended = await tollgate(['account', 'list', '--db', path]);
    expectOneLineFailure(ended, /cannot open the SQLite database .*garbage\.db: .*SQLITE_NOTADB/);
  });
});
