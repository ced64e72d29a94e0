// Migration 004: charging sessions, their request log, call detail records, low-balance
// thresholds, caller-number links and the event outbox (webhooks, disconnect callbacks).

import { type Kysely, sql } from 'kysely';
import type { Dialect } from './schema.ts';

export async function v004Charging(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('charging_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('subscriber', 'text', (c) => c.notNull())
    .addColumn('caller_number', 'text')
    .addColumn('called_number', 'text', (c) => c.notNull())
    .addColumn('carrier_id', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('destination_name', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('rate_snapshot', 'text', (c) => c.notNull())
    .addColumn('revenue_account_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('start_ms', 'bigint', (c) => c.notNull())
    .addColumn('answer_ms', 'bigint')
    .addColumn('end_ms', 'bigint')
    .addColumn('used_seconds', 'integer', (c) => c.notNull())
    .addColumn('charged_minor', 'bigint', (c) => c.notNull())
    .addColumn('granted_seconds', 'integer', (c) => c.notNull())
    .addColumn('hold_id', 'text')
    .addColumn('hold_minor', 'bigint', (c) => c.notNull())
    .addColumn('final_unit', 'integer', (c) => c.notNull())
    .addColumn('last_request_number', 'integer', (c) => c.notNull())
    .addColumn('deadline_ms', 'bigint', (c) => c.notNull())
    .addColumn('callback_url', 'text')
    .addColumn('reason', 'text')
    .addUniqueConstraint('charging_sessions_switch_id', ['principal_id', 'session_id'])
    .execute();
  await db.schema
    .createIndex('charging_sessions_due')
    .on('charging_sessions')
    .column('deadline_ms')
    .where(sql<boolean>`status = 'active'`)
    .execute();
  await db.schema
    .createIndex('charging_sessions_account')
    .on('charging_sessions')
    .column('account_id')
    .execute();
  await db.schema
    .createTable('charging_requests')
    .addColumn('session_pk', 'text', (c) => c.notNull())
    .addColumn('request_number', 'integer', (c) => c.notNull())
    .addColumn('request_type', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('answer', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('charging_requests_pk', ['session_pk', 'request_number'])
    .execute();
  await db.schema
    .createTable('cdrs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('session_pk', 'text', (c) => c.notNull().unique())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('session_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('subscriber', 'text', (c) => c.notNull())
    .addColumn('caller_number', 'text')
    .addColumn('called_number', 'text', (c) => c.notNull())
    .addColumn('carrier_id', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('destination_name', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('rate_snapshot', 'text', (c) => c.notNull())
    .addColumn('start_ms', 'bigint', (c) => c.notNull())
    .addColumn('answer_ms', 'bigint')
    .addColumn('end_ms', 'bigint', (c) => c.notNull())
    .addColumn('billed_seconds', 'integer', (c) => c.notNull())
    .addColumn('cost_minor', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cdrs_account').on('cdrs').columns(['account_id', 'id']).execute();
  await db.schema
    .createIndex('cdrs_principal')
    .on('cdrs')
    .columns(['principal_id', 'id'])
    .execute();
  await db.schema
    .createTable('balance_thresholds')
    .addColumn('account_id', 'text', (c) => c.primaryKey())
    .addColumn('threshold_minor', 'bigint', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('armed', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('ani_links')
    .addColumn('ani', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('subscriber', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('outbox_due')
    .on('outbox')
    .column('next_attempt_ms')
    .where(sql<boolean>`status = 'pending'`)
    .execute();
}
