// Migration 005: the caller numbers linked to an account, found by account, for the subscriber
// views (`GET /v1/subscribers/{subscriber}`), without a scan of every link.

import type { Kysely } from 'kysely';
import type { Dialect } from './schema.ts';

export async function v005Subscribers(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createIndex('ani_links_account')
    .on('ani_links')
    .columns(['account_id', 'ani'])
    .execute();
}
