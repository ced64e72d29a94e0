// Callbacks of a started server (startServer on a loopback port, as `tollgate serve` runs it):
// once it listens it knows its own port and refuses callback URLs that point back at its API,
// and its supervisor sends a disconnect callback through the default sender (name resolved,
// address checked, connection pinned) to a receiver on loopback. Nothing leaves loopback.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/shared/clock.ts';
import { systemCaller } from '../../src/core/shared/principal.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { chargingEpochMs, fundAni, setUpCharging } from '../support/charging.ts';
import { type Receiver, startReceiver } from '../support/receiver.ts';

const us = '+12125550100';

describe('a started server calling back', () => {
  let dir: string;
  let server: RunningServer;
  let receiver: Receiver;
  let switchKey: string;
  const clock = new ManualClock(chargingEpochMs);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-callbacks-'));
    receiver = await startReceiver();
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      sqlitePath: join(dir, 'callbacks.db'),
      logger: false,
      clock,
      chargingSettings: { sliceSeconds: 60, graceSeconds: 10 },
    });
    const { switchCaller } = await setUpCharging(server.services);
    const key = await server.services.principals.issueKey(systemCaller, {
      principalId: switchCaller.principal.id,
    });
    if (!key.ok) throw new Error(key.code);
    switchKey = key.value.secret;
    await fundAni(server.services, '15550300', 1000n);
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const initiate = (sessionId: string, callbackUrl: string) =>
    fetch(`${server.url}/v1/charging/initiate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${switchKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        session_id: sessionId,
        subscriber: { ani: '15550300' },
        destination: us,
        callback_url: callbackUrl,
      }),
    });

  it('refuses a callback URL naming its own port on loopback, with 422', async () => {
    const port = new URL(server.url).port;
    for (const url of [
      `${server.url}/v1/transfers`,
      `http://localhost:${port}/v1/transfers`,
      `http://[::1]:${port}/v1/transfers`,
    ]) {
      const refused = await initiate('own-port', url);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect([url, refused.status, body.error.code]).toEqual([
        url,
        422,
        'callback_url_not_allowed',
      ]);
      expect(body.error.message).toContain("this server's own API");
    }
  });

  it('sends the disconnect callback of a silent call to a loopback receiver', async () => {
    const started = await initiate('silent-1', `${receiver.base}/disconnect`);
    expect(started.status).toBe(200);
    clock.advanceMs(71_000); // the grant of 60 s and the grace of 10 s are over
    const deadlineMs = Date.now() + 10_000;
    while (receiver.received.length === 0 && Date.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(receiver.received.map((r) => [r.url, r.headers['x-tollgate-event']])).toEqual([
      ['/disconnect', 'charging.disconnect'],
    ]);
  });
});
