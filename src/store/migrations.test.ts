// Migrations run at every start, and a database written by a newer Tollgate is refused.

import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachStore, dropSchema, openTestEnv } from '../../test/support/stores.ts';
import { migrationBuilders } from './migrations.ts';

describeEachStore('migrations', (kind) => {
  it('records every migration and runs none twice on restart', async () => {
    const first = await openTestEnv(kind);
    await first.closeKeep();
    const again = await openTestEnv(kind, {
      reuse: {
        ...(first.sqlitePath ? { sqlitePath: first.sqlitePath } : {}),
        ...(first.postgresSchema ? { postgresSchema: first.postgresSchema } : {}),
      },
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
    const reuse = {
      ...(env.sqlitePath ? { sqlitePath: env.sqlitePath } : {}),
      ...(env.postgresSchema ? { postgresSchema: env.postgresSchema } : {}),
    };
    await expect(openTestEnv(kind, { reuse })).rejects.toThrow(
      /newer Tollgate|does not know \(999_from_the_future\)/,
    );
    if (env.postgresSchema) await dropSchema(env.postgresSchema);
    if (env.sqlitePath) rmSync(dirname(env.sqlitePath), { recursive: true, force: true });
  });
});
