// Migration 002: carriers, versioned tariffs (destinations and prefix routes) and routing plans.

import { type Kysely, sql } from 'kysely';
import type { Dialect } from './schema.ts';

export async function v002Rating(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('carriers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('access_code', 'text', (c) => c.unique())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('tariff_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('carrier_id', 'text', (c) => c.notNull().references('carriers.id'))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('rounding_mode', 'text', (c) => c.notNull())
    .addColumn('period_policy', 'text', (c) => c.notNull())
    .addColumn('effective_from_ms', 'bigint', (c) => c.notNull())
    .addColumn('effective_to_ms', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('destination_count', 'bigint', (c) => c.notNull())
    .addColumn('route_count', 'bigint', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('tariff_versions_carrier')
    .on('tariff_versions')
    .columns(['carrier_id', 'effective_from_ms'])
    .execute();
  await db.schema
    .createTable('tariff_destinations')
    .addColumn('version_id', 'text', (c) => c.notNull())
    .addColumn('destination_index', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('rate_json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('tariff_destinations_pk', ['version_id', 'destination_index'])
    .execute();
  // A million rows per full tariff: on SQLite the primary key is the table (WITHOUT ROWID).
  let routes = db.schema
    .createTable('tariff_routes')
    .addColumn('version_id', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('destination_index', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('tariff_routes_pk', ['version_id', 'prefix']);
  if (dialect === 'sqlite') routes = routes.modifyEnd(sql`without rowid`);
  await routes.execute();
  await db.schema
    .createTable('routing_plans')
    .addColumn('currency', 'text', (c) => c.primaryKey())
    .addColumn('selection_json', 'text', (c) => c.notNull())
    .addColumn('barred_prefixes_json', 'text', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
}
