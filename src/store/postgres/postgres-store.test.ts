import { sql } from 'kysely';
import pg from 'pg';
import { expect, it } from 'vitest';
import { databaseUrl, dropSchema } from '../../../test/support/stores.ts';
import { ManualClock } from '../../core/shared/clock.ts';
import { openStore } from '../store.ts';

it.skipIf(!databaseUrl)(
  'keeps working when PostgreSQL ends its idle connections (a restart, say), without crashing',
  async () => {
    const schema = `t_idle_${process.pid}`;
    const store = await openStore({
      databaseUrl,
      postgresSchema: schema,
      clock: new ManualClock(),
      postgresPoolSize: 2,
    });
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      const pid = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(store.db);
      await admin.query('select pg_terminate_backend($1)', [pid.rows[0]!.pid]);
      // Give the pool time to hear of it: an unhandled 'error' would fail this test run.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = await sql<{ one: number }>`select 1 as one`.execute(store.db);
      expect(after.rows[0]!.one).toBe(1);
    } finally {
      await admin.end();
      await store.close();
      await dropSchema(schema);
    }
  },
);
