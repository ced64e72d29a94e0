// One multi-row INSERT for the rows a write-behind store kept during a transaction.

import type { InsertObject, Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.ts';

/** Inserts `rows` into `table` in one statement; does nothing when there are none. */
export async function insertRows<T extends keyof Database & string>(
  trx: Kysely<Database> | Transaction<Database>,
  table: T,
  rows: ReadonlyArray<InsertObject<Database, T>>,
): Promise<void> {
  if (rows.length > 0)
    await trx
      .insertInto(table)
      .values([...rows])
      .execute();
}
