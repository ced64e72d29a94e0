// The reads on the HTTP thread's path of every call, as prepared statements on the reader
// connection: a Kysely query costs more to build and run than the read itself. Everything
// else is the shared Kysely store.

import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely, Selectable } from 'kysely';
import { aniLinkFromRow, KyselyChargingReadStore } from '../charging-stores.ts';
import { KyselyLedgerReadStore } from '../kysely-stores.ts';
import { accountFromRow } from '../rows.ts';
import type { AccountsTable, AniLinksTable, Database } from '../schema.ts';

export class SqliteLedgerReadStore extends KyselyLedgerReadStore {
  private readonly selectAccount: BetterSqlite3.Statement<[string], AccountsTable>;

  constructor(db: Kysely<Database>, reader: BetterSqlite3.Database) {
    super(db);
    this.selectAccount = reader.prepare('select * from accounts where id = ?');
  }

  override async getAccount(id: string) {
    const row = this.selectAccount.get(id);
    return row ? accountFromRow(row) : null;
  }
}

export class SqliteChargingReadStore extends KyselyChargingReadStore {
  private readonly selectAniLink: BetterSqlite3.Statement<[string], Selectable<AniLinksTable>>;

  constructor(db: Kysely<Database>, reader: BetterSqlite3.Database) {
    super(db);
    this.selectAniLink = reader.prepare('select * from ani_links where ani = ?');
  }

  override async getAniLink(ani: string) {
    const row = this.selectAniLink.get(ani);
    return row ? aniLinkFromRow(row) : null;
  }
}
