// Versioned schema migrations, shared by SQLite and PostgreSQL. They run at start-up; a
// database that has migrations this code does not know is newer than the code and is refused.

import { type CreateTableBuilder, type Kysely, type Migration, Migrator, sql } from 'kysely';
import { v002Rating } from './migrations-002-rating.ts';
import { v003Vouchers } from './migrations-003-vouchers.ts';
import { v004Charging } from './migrations-004-charging.ts';
import { v005Subscribers } from './migrations-005-subscribers.ts';
import { v006RatingPlans } from './migrations-006-rating-plans.ts';
import type { Dialect } from './schema.ts';

type Builder = (db: Kysely<unknown>, dialect: Dialect) => Promise<void>;

/** A table's own ascending sequence: SQLite's rowid alias, PostgreSQL's bigserial. */
function addSequence(
  table: CreateTableBuilder<string>,
  dialect: Dialect,
): CreateTableBuilder<string> {
  return dialect === 'postgres'
    ? table.addColumn('seq', 'bigserial', (c) => c.primaryKey())
    : table.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
}

const v001Foundation: Builder = async (db, dialect) => {
  await db.schema
    .createTable('principals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('principal_id', 'text', (c) => c.notNull().references('principals.id'))
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at_ms', 'bigint')
    .execute();
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('principals.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('flags', 'bigint', (c) => c.notNull())
    .addColumn('credit_limit_minor', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('debits_posted_minor', 'bigint', (c) => c.notNull())
    .addColumn('credits_posted_minor', 'bigint', (c) => c.notNull())
    .addColumn('debits_pending_minor', 'bigint', (c) => c.notNull())
    .addColumn('credits_pending_minor', 'bigint', (c) => c.notNull())
    .addColumn('last_transfer_id', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addCheckConstraint(
      'accounts_pending_not_negative',
      sql`debits_pending_minor >= 0 and credits_pending_minor >= 0`,
    )
    .execute();
  await db.schema
    .createIndex('accounts_owner')
    .on('accounts')
    .columns(['owner_id', 'id'])
    .execute();
  await addSequence(db.schema.createTable('transfers'), dialect)
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('debit_account_id', 'text', (c) => c.notNull())
    .addColumn('credit_account_id', 'text', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('hold_id', 'text')
    .addColumn('timeout_at_ms', 'bigint')
    .addColumn('hold_status', 'text')
    .addColumn('code', 'text')
    .addColumn('memo', 'text')
    .addColumn('debit_prev_id', 'text')
    .addColumn('credit_prev_id', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('transfers_idempotency', ['principal_id', 'idempotency_key'])
    .execute();
  // No index on debit or credit account: history is a chain through each account's
  // last_transfer_id and each transfer's debit_prev_id / credit_prev_id, so a commit does not
  // touch a history index page for every account it changes.
  await db.schema
    .createIndex('transfers_due_holds')
    .on('transfers')
    .column('timeout_at_ms')
    .where(sql.ref('hold_status'), '=', 'pending')
    .execute();
  await addSequence(db.schema.createTable('audit_events'), dialect)
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_events_subject')
    .on('audit_events')
    .columns(['subject_id', 'seq'])
    .execute();
};

/** Every migration, in order. Append only: never edit one that has shipped. */
export const migrationBuilders: ReadonlyArray<readonly [name: string, up: Builder]> = [
  ['001_foundation', v001Foundation],
  ['002_rating', v002Rating],
  ['003_vouchers', v003Vouchers],
  ['004_charging', v004Charging],
  ['005_subscribers', v005Subscribers],
  ['006_rating_plans', v006RatingPlans],
];

export class DatabaseNewerThanCodeError extends Error {
  override name = 'DatabaseNewerThanCodeError';
}

/** Brings the schema up to date; refuses a database that a newer Tollgate has migrated. */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: Dialect,
  schema?: string,
): Promise<string[]> {
  const migrations: Record<string, Migration> = {};
  for (const [name, up] of migrationBuilders) migrations[name] = { up: (d) => up(d, dialect) };
  // Only our own schema's migration table counts: another schema's in the same database (a
  // test run's, say) belongs to another Tollgate. Kysely's own check matches any schema unless
  // it is told which, so it is always told.
  const ownSchema =
    schema ??
    (dialect === 'postgres'
      ? (await sql<{ name: string }>`select current_schema() as name`.execute(db)).rows[0]?.name
      : undefined);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(ownSchema ? { migrationTableSchema: ownSchema } : {}),
  });
  const known = new Set(Object.keys(migrations));
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (
    tables.some(
      (t) => t.name === 'kysely_migration' && (ownSchema === undefined || t.schema === ownSchema),
    )
  ) {
    const applied = await sql<{ name: string }>`select name from ${sql.table(
      ownSchema ? `${ownSchema}.kysely_migration` : 'kysely_migration',
    )}`.execute(db);
    const unknown = applied.rows.map((row) => row.name).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new DatabaseNewerThanCodeError(
        `The database has migrations this version of Tollgate does not know (${unknown.join(', ')}): ` +
          'it was written by a newer Tollgate. Upgrade Tollgate instead of running an older one.',
      );
    }
  }
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
