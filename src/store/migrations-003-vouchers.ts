// Migration 003: voucher products, PIN batches, vouchers (pool PINs as lookup hash + ciphertext,
// never clear), sales, commission rules, redemption failure counters and the delivery outbox.

import { type Kysely, sql } from 'kysely';
import type { Dialect } from './schema.ts';

export async function v003Vouchers(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('voucher_products')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('carrier_id', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('face_value_minor', 'bigint', (c) => c.notNull())
    .addColumn('validity_days', 'integer')
    .addColumn('pin_length', 'integer', (c) => c.notNull())
    .addColumn('pin_alphabet', 'text', (c) => c.notNull())
    .addColumn('pin_check', 'text', (c) => c.notNull())
    .addColumn('access_number', 'text')
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('instructions', 'text', (c) => c.notNull())
    .addColumn('low_stock_threshold', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('voucher_batches')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('product_id', 'text', (c) => c.notNull().references('voucher_products.id'))
    .addColumn('serial_prefix', 'text', (c) => c.notNull().unique())
    .addColumn('count_requested', 'integer', (c) => c.notNull())
    .addColumn('count_created', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('frozen', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  // The row id is an integer sequence: SQLite's rowid (cheap appends) or a PostgreSQL bigserial.
  // Sales take the oldest in-stock PIN, so stock leaves in the order it was made.
  await db.schema
    .createTable('vouchers')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => c.primaryKey())
    .addColumn('serial', 'text', (c) => c.notNull().unique())
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('pin_hash', 'text', (c) => c.notNull())
    .addColumn('pin_encrypted', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('frozen', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sale_id', 'text')
    .addColumn('sold_at_ms', 'bigint')
    .addColumn('expires_at_ms', 'bigint')
    .addColumn('redeemed_at_ms', 'bigint')
    .addColumn('account_id', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('vouchers_pin_hash')
    .on('vouchers')
    .column('pin_hash')
    .unique()
    .execute();
  await db.schema
    .createIndex('vouchers_batch')
    .on('vouchers')
    .columns(['batch_id', 'id'])
    .execute();
  await db.schema
    .createIndex('vouchers_sellable')
    .on('vouchers')
    .columns(['product_id', 'id'])
    .where(sql<boolean>`status = 'in_stock' and frozen = 0`)
    .execute();
  // Sold PINs by expiry, for the sweep that marks them expired.
  await db.schema
    .createIndex('vouchers_expiry')
    .on('vouchers')
    .column('expires_at_ms')
    .where(sql<boolean>`status = 'sold'`)
    .execute();
  await db.schema
    .createTable('voucher_sales')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.notNull())
    .addColumn('retailer_id', 'text', (c) => c.notNull())
    .addColumn('float_account_id', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('face_value_minor', 'bigint', (c) => c.notNull())
    .addColumn('retailer_commission_minor', 'bigint', (c) => c.notNull())
    .addColumn('distributor_id', 'text')
    .addColumn('distributor_commission_minor', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('voided_at_ms', 'bigint')
    .addUniqueConstraint('voucher_sales_idempotency', ['principal_id', 'idempotency_key'])
    .execute();
  await db.schema
    .createIndex('voucher_sales_retailer')
    .on('voucher_sales')
    .columns(['retailer_id', 'created_at_ms'])
    .execute();
  await db.schema
    .createTable('voucher_commission_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('principal_id', 'text')
    .addColumn('product_id', 'text')
    .addColumn('face_value_minor', 'bigint')
    .addColumn('rate_basis_points', 'integer', (c) => c.notNull())
    .addColumn('fixed_minor', 'bigint', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('voucher_redeem_failures')
    .addColumn('subject', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('first_failure_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('locked_until_ms', 'bigint')
    .execute();
  await db.schema
    .createTable('voucher_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sale_id', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('voucher_deliveries_due')
    .on('voucher_deliveries')
    .column('next_attempt_at_ms')
    .where(sql<boolean>`status = 'pending'`)
    .execute();
  await db.schema
    .createIndex('voucher_deliveries_sale')
    .on('voucher_deliveries')
    .column('sale_id')
    .execute();
}
