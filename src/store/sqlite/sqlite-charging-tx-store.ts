// The charging hot path on SQLite: the statements of every credit-control request prepared once
// on better-sqlite3, a fraction of a Kysely query's cost. Everything else is the shared Kysely
// store. Calls run inside the group commit's transaction on the single writer connection, so
// there is nothing to lock.

import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely, Selectable } from 'kysely';
import type {
  Cdr,
  ChargingRequestRecord,
  ChargingSession,
} from '../../core/charging/charging-types.ts';
import {
  encodeAnswer,
  KyselyChargingTxStore,
  requestFromRow,
  sessionFromRow,
  sessionToRow,
  switchKey,
  thresholdFromRow,
} from '../charging-stores.ts';
import type {
  BalanceThresholdsTable,
  ChargingRequestsTable,
  ChargingSessionsTable,
  Database,
} from '../schema.ts';
import type { RowCache, WriterCache } from './writer-cache.ts';

const sessionColumns = [
  'id',
  'principal_id',
  'session_id',
  'account_id',
  'subscriber',
  'caller_number',
  'called_number',
  'carrier_id',
  'prefix',
  'destination_name',
  'currency',
  'rate_snapshot',
  'revenue_account_id',
  'status',
  'start_ms',
  'answer_ms',
  'end_ms',
  'used_seconds',
  'charged_minor',
  'granted_seconds',
  'hold_id',
  'hold_minor',
  'final_unit',
  'last_request_number',
  'deadline_ms',
  'callback_url',
  'reason',
  'rating_plan_id',
  'rating_plan_source',
] as const satisfies ReadonlyArray<keyof ChargingSessionsTable>;
/**
 * The columns a session's life changes after initiate; the rest (who, what, where, the rate) are
 * fixed when it opens, so an update writes only these.
 */
const changingColumns = [
  'status',
  'answer_ms',
  'end_ms',
  'used_seconds',
  'charged_minor',
  'granted_seconds',
  'hold_id',
  'hold_minor',
  'final_unit',
  'last_request_number',
  'deadline_ms',
  'reason',
] as const satisfies ReadonlyArray<(typeof sessionColumns)[number]>;
const cdrColumns = [
  'id',
  'session_pk',
  'principal_id',
  'session_id',
  'account_id',
  'subscriber',
  'caller_number',
  'called_number',
  'carrier_id',
  'prefix',
  'destination_name',
  'currency',
  'rate_snapshot',
  'start_ms',
  'answer_ms',
  'end_ms',
  'billed_seconds',
  'cost_minor',
  'reason',
  'rating_plan_id',
  'rating_plan_source',
];

const toParam = (value: unknown) => (typeof value === 'number' ? BigInt(value) : value);

export class SqliteChargingTxStore extends KyselyChargingTxStore {
  private readonly selectBySwitchId: BetterSqlite3.Statement<
    [string, string],
    Selectable<ChargingSessionsTable>
  >;
  private readonly selectById: BetterSqlite3.Statement<[string], Selectable<ChargingSessionsTable>>;
  private readonly insertSessionRow: BetterSqlite3.Statement<unknown[]>;
  private readonly updateSessionRow: BetterSqlite3.Statement<unknown[]>;
  private readonly selectRequest: BetterSqlite3.Statement<
    [string, bigint],
    Selectable<ChargingRequestsTable>
  >;
  private readonly insertRequestRow: BetterSqlite3.Statement<unknown[]>;
  private readonly insertCdrRow: BetterSqlite3.Statement<unknown[]>;
  private readonly selectThreshold: BetterSqlite3.Statement<
    [string],
    Selectable<BalanceThresholdsTable>
  >;

  /** Sessions by primary key, and the primary key by switch and the switch's session id. */
  private readonly sessions: RowCache<ChargingSession>;
  private readonly sessionIds: RowCache<string>;

  /** Sessions seen by earlier transactions come from `cache`, not the database. */
  constructor(db: BetterSqlite3.Database, kysely: Kysely<Database>, cache: WriterCache) {
    super(kysely, 'sqlite');
    this.sessions = cache.rows<ChargingSession>();
    this.sessionIds = cache.rows<string>();
    const marks = (count: number) => Array.from({ length: count }, () => '?').join(', ');
    this.selectBySwitchId = db.prepare(
      'select * from charging_sessions where principal_id = ? and session_id = ?',
    );
    this.selectById = db.prepare('select * from charging_sessions where id = ?');
    this.insertSessionRow = db.prepare(
      `insert into charging_sessions (${sessionColumns.join(', ')}) values (${marks(sessionColumns.length)})`,
    );
    this.updateSessionRow = db.prepare(
      `update charging_sessions set ${changingColumns.map((c) => `${c} = ?`).join(', ')} where id = ?`,
    );
    this.selectRequest = db.prepare(
      'select * from charging_requests where session_pk = ? and request_number = ?',
    );
    this.insertRequestRow = db.prepare(
      'insert into charging_requests (session_pk, request_number, request_type, fingerprint, ' +
        'answer, created_at_ms) values (?, ?, ?, ?, ?, ?)',
    );
    this.insertCdrRow = db.prepare(
      `insert into cdrs (${cdrColumns.join(', ')}) values (${marks(cdrColumns.length)})`,
    );
    this.selectThreshold = db.prepare('select * from balance_thresholds where account_id = ?');
  }

  override async findSession(principalId: string, sessionId: string) {
    const id = this.sessionIds.get(switchKey(principalId, sessionId));
    const cached = id === undefined ? undefined : this.sessions.get(id);
    if (cached) return cached;
    const row = this.selectBySwitchId.get(principalId, sessionId);
    return row ? this.staged(sessionFromRow(row)) : null;
  }

  override async lockSession(id: string) {
    const cached = this.sessions.get(id);
    if (cached) return cached;
    const row = this.selectById.get(id);
    return row ? this.staged(sessionFromRow(row)) : null;
  }

  override async insertSession(session: ChargingSession) {
    const row = sessionToRow(session);
    this.insertSessionRow.run(...sessionColumns.map((column) => toParam(row[column])));
    this.staged(session);
  }

  override async saveSession(session: ChargingSession) {
    // In changingColumns order.
    this.updateSessionRow.run(
      session.status,
      session.answerMs === null ? null : BigInt(session.answerMs),
      session.endMs === null ? null : BigInt(session.endMs),
      BigInt(session.usedSeconds),
      session.chargedMinor,
      BigInt(session.grantedSeconds),
      session.holdId,
      session.holdMinor,
      session.finalUnit ? 1n : 0n,
      BigInt(session.lastRequestNumber),
      BigInt(session.deadlineMs),
      session.reason,
      session.id,
    );
    this.staged(session);
  }

  private staged(session: ChargingSession): ChargingSession {
    this.sessions.stage(session.id, session);
    this.sessionIds.stage(switchKey(session.principalId, session.sessionId), session.id);
    return session;
  }

  override async findRequest(sessionPk: string, requestNumber: number) {
    const row = this.selectRequest.get(sessionPk, BigInt(requestNumber));
    return row ? requestFromRow(row) : null;
  }

  override async findSessionRequest(principalId: string, sessionId: string, requestNumber: number) {
    const session = await this.findSession(principalId, sessionId);
    if (!session) return null;
    return { session, request: await this.findRequest(session.id, requestNumber) };
  }

  override async insertRequest(record: ChargingRequestRecord) {
    this.insertRequestRow.run(
      record.sessionPk,
      BigInt(record.requestNumber),
      record.requestType,
      record.fingerprint,
      encodeAnswer(record.answer),
      BigInt(record.createdAtMs),
    );
  }

  override async insertCdr(cdr: Cdr) {
    this.insertCdrRow.run(
      cdr.id,
      cdr.sessionPk,
      cdr.principalId,
      cdr.sessionId,
      cdr.accountId,
      cdr.subscriber,
      cdr.callerNumber,
      cdr.calledNumber,
      cdr.carrierId,
      cdr.prefix,
      cdr.destinationName,
      cdr.currency,
      cdr.rateSnapshot,
      BigInt(cdr.startMs),
      cdr.answerMs === null ? null : BigInt(cdr.answerMs),
      BigInt(cdr.endMs),
      BigInt(cdr.billedSeconds),
      cdr.costMinor,
      cdr.reason,
      cdr.ratingPlanId,
      cdr.ratingPlanSource,
    );
  }

  override async getThreshold(accountId: string) {
    const row = this.selectThreshold.get(accountId);
    return row ? thresholdFromRow(row) : null;
  }
}
