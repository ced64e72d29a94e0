// The charging store inside one PostgreSQL transaction, writing behind: sessions, request
// records and CDRs are kept in memory until the transaction is about to commit, then written in
// three multi-row statements for the whole batch instead of one round trip each per request.
// Reads of what this transaction already wrote come from memory; everything else is read (and
// locked, `for update`) as the Kysely store does. The row locks that make two processes safe
// are taken by those reads, before any change, so writing later changes nothing about them.

import { type Kysely, sql, type Transaction } from 'kysely';
import type {
  Cdr,
  ChargingRequestRecord,
  ChargingSession,
} from '../../core/charging/charging-types.ts';
import type { Minor } from '../../core/money/money.ts';
import {
  cdrToRow,
  KyselyChargingTxStore,
  requestToRow,
  sessionToRow,
  switchKey,
} from '../charging-stores.ts';
import type { ChargingSessionsTable, Database } from '../schema.ts';
import { insertRows } from './insert-rows.ts';

type Db = Kysely<Database> | Transaction<Database>;

const requestKey = (sessionPk: string, requestNumber: number) => `${sessionPk}\n${requestNumber}`;

export class PostgresChargingTxStore extends KyselyChargingTxStore {
  private readonly trx: Db;
  /** Sessions inserted or changed in this transaction, by primary key, in first-touch order. */
  private readonly sessions = new Map<string, ChargingSession>();
  private readonly sessionIds = new Map<string, string>();
  private readonly requests = new Map<string, ChargingRequestRecord>();
  private readonly cdrs: Cdr[] = [];

  constructor(trx: Db) {
    super(trx, 'postgres');
    this.trx = trx;
  }

  override async findSession(principalId: string, sessionId: string) {
    const id = this.sessionIds.get(switchKey(principalId, sessionId));
    return id === undefined ? super.findSession(principalId, sessionId) : this.sessions.get(id)!;
  }

  override async lockSession(id: string) {
    return this.sessions.get(id) ?? super.lockSession(id);
  }

  override async insertSession(session: ChargingSession) {
    this.keep(session);
  }

  override async saveSession(session: ChargingSession) {
    this.keep(session);
  }

  override async findRequest(sessionPk: string, requestNumber: number) {
    return (
      this.requests.get(requestKey(sessionPk, requestNumber)) ??
      super.findRequest(sessionPk, requestNumber)
    );
  }

  override async findSessionRequest(principalId: string, sessionId: string, requestNumber: number) {
    const id = this.sessionIds.get(switchKey(principalId, sessionId));
    if (id === undefined) {
      const found = await super.findSessionRequest(principalId, sessionId, requestNumber);
      if (!found) return null;
      // Commands keep a request only with its session, so this finds nothing today; it keeps
      // the answer right for any command that someday records a request alone.
      const kept = this.requests.get(requestKey(found.session.id, requestNumber));
      return kept ? { session: found.session, request: kept } : found;
    }
    return {
      session: this.sessions.get(id)!,
      request: await this.findRequest(id, requestNumber),
    };
  }

  override async insertRequest(record: ChargingRequestRecord) {
    this.requests.set(requestKey(record.sessionPk, record.requestNumber), record);
  }

  override async insertCdr(cdr: Cdr) {
    this.cdrs.push(cdr);
  }

  override async updateCdrUsage(sessionPk: string, billedSeconds: number, costMinor: Minor) {
    const index = this.cdrs.findIndex((cdr) => cdr.sessionPk === sessionPk);
    const kept = this.cdrs[index];
    if (!kept) return super.updateCdrUsage(sessionPk, billedSeconds, costMinor);
    this.cdrs[index] = { ...kept, billedSeconds, costMinor };
    return kept.id;
  }

  /** Writes what this transaction kept. The transaction calls it last, before COMMIT. */
  async flush(): Promise<void> {
    if (this.sessions.size > 0) {
      const rows = [...this.sessions.values()].map(sessionToRow);
      const columns = Object.keys(rows[0]!).filter((column) => column !== 'id') as Array<
        keyof ChargingSessionsTable
      >;
      // New sessions are inserted; sessions read earlier (and locked) are updated in full.
      await this.trx
        .insertInto('charging_sessions')
        .values(rows)
        .onConflict((conflict) =>
          conflict
            .column('id')
            .doUpdateSet(
              Object.fromEntries(
                columns.map((column) => [column, sql.ref(`excluded.${column}`)]),
              ) as Record<keyof ChargingSessionsTable, never>,
            ),
        )
        .execute();
    }
    await insertRows(this.trx, 'charging_requests', [...this.requests.values()].map(requestToRow));
    await insertRows(this.trx, 'cdrs', this.cdrs.map(cdrToRow));
  }

  private keep(session: ChargingSession): void {
    this.sessions.set(session.id, session);
    this.sessionIds.set(switchKey(session.principalId, session.sessionId), session.id);
  }
}
