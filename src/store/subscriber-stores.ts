// The subscriber reads in Kysely for both dialects: accounts by id, caller-number accounts a
// page at a time, and the caller numbers linked to an account (index `ani_links_account`).

import type { Kysely } from 'kysely';
import type { AniLink } from '../core/charging/charging-types.ts';
import {
  callerNumberIdPrefix,
  type SubscriberReadStore,
} from '../core/subscribers/subscriber-types.ts';
import { aniLinkFromRow } from './charging-stores.ts';
import { accountFromRow } from './rows.ts';
import type { Database } from './schema.ts';

/**
 * Bounds of the caller-number ids in the accounts' primary key. Caller numbers are digits and
 * `+`, which sort below `a` byte-wise and in every locale collation, so the range holds them
 * all whatever PostgreSQL's collation is; the prefix test drops the few other ids that a locale
 * collation (which ignores `_`) may sort into it.
 */
const lowest = callerNumberIdPrefix;
const beyond = `${callerNumberIdPrefix}a`;

export class KyselySubscriberReadStore implements SubscriberReadStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async accountsById(ids: readonly string[]) {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', 'in', [...ids])
      .orderBy('id')
      .execute();
    return rows.map(accountFromRow);
  }

  async listCallerNumberAccounts(query: { afterId?: string | undefined; limit: number }) {
    let select = this.db
      .selectFrom('accounts')
      .selectAll()
      .where('id', '>=', lowest)
      .where('id', '<', beyond)
      .where((eb) => eb(eb.fn('substr', ['id', eb.val(1), eb.val(lowest.length)]), '=', lowest));
    if (query.afterId !== undefined) select = select.where('id', '>', query.afterId);
    const rows = await select.orderBy('id').limit(query.limit).execute();
    return rows.map(accountFromRow);
  }

  async listAniLinks(accountId: string, limit: number): Promise<AniLink[]> {
    const rows = await this.db
      .selectFrom('ani_links')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('ani')
      .limit(limit)
      .execute();
    return rows.map(aniLinkFromRow);
  }
}
