// Migration 006: named rating plans and their assignments (to a subscriber account, a product, a
// retailer or a distributor), a revision that every change of either bumps so that other
// processes reload them only when they changed, and the plan each session and CDR was rated by.
// Sessions and CDRs written before were rated by their currency's plan, which the defaults say.

import { type Kysely, sql } from 'kysely';
import type { Dialect } from './schema.ts';

export async function v006RatingPlans(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('rating_plans')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('routing_json', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('rating_plan_assignments')
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('rating_plan_id', 'text', (c) => c.notNull().references('rating_plans.id'))
    .addColumn('assigned_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('rating_plan_assignments_pk', ['subject_type', 'subject_id'])
    .execute();
  await db.schema
    .createIndex('rating_plan_assignments_plan')
    .on('rating_plan_assignments')
    .columns(['rating_plan_id', 'subject_type', 'subject_id'])
    .execute();
  await db.schema
    .createTable('rating_plan_revision')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('revision', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into rating_plan_revision (id, revision) values (1, 0)`.execute(db);
  for (const table of ['charging_sessions', 'cdrs']) {
    await db.schema.alterTable(table).addColumn('rating_plan_id', 'text').execute();
    await db.schema
      .alterTable(table)
      .addColumn('rating_plan_source', 'text', (c) => c.notNull().defaultTo('currency'))
      .execute();
  }
}
