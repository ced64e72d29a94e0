// Two Tollgate servers starting at the same moment on one empty PostgreSQL schema: both create
// the admin principal and register the same TOLLGATE_ADMIN_KEY; one wins each race and the other
// must start all the same.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/shared/clock.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { databaseUrl, dropSchema } from '../support/stores.ts';

describe.skipIf(!databaseUrl)('two servers starting at once on an empty database', () => {
  it('both start, share one admin principal, and both accept the admin key', async () => {
    const adminKey = `tg_${randomBytes(20).toString('hex')}`;
    const pinKey = randomBytes(32).toString('hex');
    for (let round = 0; round < 8; round += 1) {
      const postgresSchema = `t_start_${randomBytes(5).toString('hex')}`;
      const start = () =>
        startServer({
          host: '127.0.0.1',
          port: 0,
          databaseUrl,
          postgresSchema,
          adminKey,
          pinKey,
          logger: false,
          clock: new ManualClock(),
        });
      const outcomes = await Promise.allSettled([start(), start()]);
      const servers = outcomes
        .filter((o): o is PromiseFulfilledResult<RunningServer> => o.status === 'fulfilled')
        .map((o) => o.value);
      try {
        expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual([
          'ok',
          'ok',
        ]);
        for (const server of servers) {
          const response = await fetch(`${server.url}/v1/principals`, {
            headers: { authorization: `Bearer ${adminKey}` },
          });
          expect(response.status).toBe(200);
          const body = (await response.json()) as { items: Array<{ id: string }> };
          expect(body.items.filter((p) => p.id === 'op_admin')).toHaveLength(1);
        }
      } finally {
        await Promise.all(servers.map((server) => server.stop()));
        await dropSchema(postgresSchema);
      }
    }
  }, 60_000);
});
