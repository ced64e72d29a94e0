// The real binary: `tollgate serve --demo` on a loopback port, as `npm start` runs it. The test
// starts one process, talks to it over HTTP, and stops it by its PID.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const startTimeoutMs = 30_000;

describe('tollgate serve --demo', () => {
  let dir: string;
  let child: ChildProcess;
  let url = '';
  let key = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-serve-'));
    const bin = new URL('../../bin/tollgate.js', import.meta.url).pathname;
    // The Node running the suite, not the first `node` on PATH: better-sqlite3 is built for one.
    child = spawn(
      process.execPath,
      [bin, 'serve', '--demo', '--host', '127.0.0.1', '--port', '0', '--db', join(dir, 'demo.db')],
      {
        env: { ...process.env, DATABASE_URL: '', TOLLGATE_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not start: ${output}`)),
        startTimeoutMs,
      );
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        const demoKey = /demo admin key: (tg_[a-z0-9]+)/.exec(output);
        if (listening && demoKey) {
          url = listening[1]!;
          key = demoKey[1]!;
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
    });
  }, startTimeoutMs + 5000);

  afterAll(async () => {
    if (child.pid && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves health, docs and the seeded demo accounts to the printed key', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/docs`)).status).toBeLessThan(400);
    const response = await fetch(`${url}/v1/accounts`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: Array<{ name: string }> };
    expect(body.items.map((a) => a.name)).toEqual(
      expect.arrayContaining(['Operator cash', 'Corner Shop float']),
    );
    expect(statSync(join(dir, 'demo-admin-key')).mode & 0o777).toBe(0o600);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^tollgate_charging_sessions_active 0$/m);
  });

  it('authorizes a first call for the demo caller number, as the start-up message suggests', async () => {
    const response = await fetch(`${url}/v1/charging/authorize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subscriber: { ani: '15550001234' }, destination: '+12125550100' }),
    });
    expect(response.status).toBe(200);
    // 5.00 USD at 0.01 a minute in 60/6 increments buys the four-hour call limit.
    expect(await response.json()).toMatchObject({
      allowed: true,
      carrier_id: 'acme',
      available: '500',
      max_seconds: 14_400,
    });
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    process.kill(child.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
  });
});
