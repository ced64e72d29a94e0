// Migrations run at every start, and a database written by a newer Tollgate is refused.

import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  databaseUrl,
  describeEachStore,
  dropSchema,
  openTestEnv,
  reuseOf,
} from '../../test/support/stores.ts';
import { ManualClock } from '../core/shared/clock.ts';
import { migrationBuilders } from './migrations.ts';
import { openStore } from './store.ts';

describeEachStore('migrations', (kind) => {
  it('records every migration and runs none twice on restart', async () => {
    const first = await openTestEnv(kind);
    await first.closeKeep();
    const again = await openTestEnv(kind, {
      reuse: reuseOf(first),
    });
    try {
      const applied = await sql<{
        name: string;
      }>`select name from kysely_migration order by name`.execute(again.store.db);
      expect(applied.rows.map((row) => row.name)).toEqual(migrationBuilders.map(([name]) => name));
    } finally {
      await again.close();
    }
  });

  it('refuses to open a database that a newer Tollgate has migrated', async () => {
    const env = await openTestEnv(kind);
    await sql`insert into kysely_migration (name, timestamp) values ('999_from_the_future', '2030-01-01T00:00:00.000Z')`.execute(
      env.store.db,
    );
    await env.closeKeep();
    const reuse = reuseOf(env);
    await expect(openTestEnv(kind, { reuse })).rejects.toThrow(
      /newer Tollgate|does not know \(999_from_the_future\)/,
    );
    if (env.postgresSchema) await dropSchema(env.postgresSchema);
    if (env.sqlitePath) rmSync(dirname(env.sqlitePath), { recursive: true, force: true });
  });
});

describe.skipIf(!databaseUrl)('migrations on a shared PostgreSQL database', () => {
  it('migrates the default schema even when another schema has its own migration table', async () => {
    const name = `tollgate_mig_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
      const url = new URL(databaseUrl!);
      url.pathname = `/${name}`;
      const other = new pg.Client({ connectionString: url.toString() });
      await other.connect();
      await other.query('create schema other');
      await other.query(
        'create table other.kysely_migration (name text primary key, timestamp text)',
      );
      await other.end();
      const store = await openStore({
        databaseUrl: url.toString(),
        clock: new ManualClock(),
        postgresPoolSize: 2,
      });
      try {
        const applied = await sql<{
          name: string;
        }>`select name from public.kysely_migration`.execute(store.db);
        expect(applied.rows.length).toBe(migrationBuilders.length);
      } finally {
        await store.close();
      }
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
