// The charging stores in Kysely for both dialects. On PostgreSQL a session row is locked
// (`for update`) by the request that changes it, so two processes never act on one session at
// once; on SQLite the single writer makes that so by itself.

import type { Kysely, Selectable, Transaction } from 'kysely';
import type {
  AniLink,
  BalanceThreshold,
  Cdr,
  ChargingReadStore,
  ChargingRequestRecord,
  ChargingSession,
  ChargingTxStore,
  CreditAnswer,
  OutboxEvent,
  OutboxStatus,
  RequestType,
  SessionStatus,
} from '../core/charging/charging-types.ts';
import type { Currency, Minor } from '../core/money/money.ts';
import type { RatingPlanSource } from '../core/rating/rating-plans.ts';
import { big, bigOrNull, num, numOrNull } from './rows.ts';
import type {
  AniLinksTable,
  BalanceThresholdsTable,
  CdrsTable,
  ChargingRequestsTable,
  ChargingSessionsTable,
  Database,
  Dialect,
  OutboxTable,
} from './schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** A session's key among the sessions of all switches: the switch, then its session id. */
export const switchKey = (principalId: string, sessionId: string) => `${principalId}\n${sessionId}`;

export function sessionFromRow(row: Selectable<ChargingSessionsTable>): ChargingSession {
  return {
    id: row.id,
    principalId: row.principal_id,
    sessionId: row.session_id,
    accountId: row.account_id,
    subscriber: row.subscriber,
    callerNumber: row.caller_number,
    calledNumber: row.called_number,
    carrierId: row.carrier_id,
    prefix: row.prefix,
    destinationName: row.destination_name,
    currency: row.currency as Currency,
    rateSnapshot: row.rate_snapshot,
    ratingPlanId: row.rating_plan_id,
    ratingPlanSource: row.rating_plan_source as RatingPlanSource,
    revenueAccountId: row.revenue_account_id,
    status: row.status as SessionStatus,
    startMs: num(row.start_ms),
    answerMs: numOrNull(row.answer_ms),
    endMs: numOrNull(row.end_ms),
    usedSeconds: num(row.used_seconds),
    chargedMinor: big(row.charged_minor),
    grantedSeconds: num(row.granted_seconds),
    holdId: row.hold_id,
    holdMinor: big(row.hold_minor),
    finalUnit: num(row.final_unit) === 1,
    lastRequestNumber: num(row.last_request_number),
    deadlineMs: num(row.deadline_ms),
    callbackUrl: row.callback_url,
    reason: row.reason,
  };
}

export function sessionToRow(session: ChargingSession): ChargingSessionsTable {
  return {
    id: session.id,
    principal_id: session.principalId,
    session_id: session.sessionId,
    account_id: session.accountId,
    subscriber: session.subscriber,
    caller_number: session.callerNumber,
    called_number: session.calledNumber,
    carrier_id: session.carrierId,
    prefix: session.prefix,
    destination_name: session.destinationName,
    currency: session.currency,
    rate_snapshot: session.rateSnapshot,
    rating_plan_id: session.ratingPlanId,
    rating_plan_source: session.ratingPlanSource,
    revenue_account_id: session.revenueAccountId,
    status: session.status,
    start_ms: BigInt(session.startMs),
    answer_ms: bigOrNull(session.answerMs),
    end_ms: bigOrNull(session.endMs),
    used_seconds: session.usedSeconds,
    charged_minor: session.chargedMinor,
    granted_seconds: session.grantedSeconds,
    hold_id: session.holdId,
    hold_minor: session.holdMinor,
    final_unit: session.finalUnit ? 1 : 0,
    last_request_number: session.lastRequestNumber,
    deadline_ms: BigInt(session.deadlineMs),
    callback_url: session.callbackUrl,
    reason: session.reason,
  };
}

export function encodeAnswer(answer: CreditAnswer): string {
  return JSON.stringify({ ...answer, chargedMinor: answer.chargedMinor.toString() });
}

export function decodeAnswer(text: string): CreditAnswer {
  const parsed = JSON.parse(text) as Omit<CreditAnswer, 'chargedMinor'> & { chargedMinor: string };
  return { ...parsed, chargedMinor: BigInt(parsed.chargedMinor) };
}

export function requestFromRow(row: Selectable<ChargingRequestsTable>): ChargingRequestRecord {
  return {
    sessionPk: row.session_pk,
    requestNumber: num(row.request_number),
    requestType: row.request_type as RequestType,
    fingerprint: row.fingerprint,
    answer: decodeAnswer(row.answer),
    createdAtMs: num(row.created_at_ms),
  };
}

export function cdrFromRow(row: Selectable<CdrsTable>): Cdr {
  return {
    id: row.id,
    sessionPk: row.session_pk,
    principalId: row.principal_id,
    sessionId: row.session_id,
    accountId: row.account_id,
    subscriber: row.subscriber,
    callerNumber: row.caller_number,
    calledNumber: row.called_number,
    carrierId: row.carrier_id,
    prefix: row.prefix,
    destinationName: row.destination_name,
    currency: row.currency as Currency,
    rateSnapshot: row.rate_snapshot,
    ratingPlanId: row.rating_plan_id,
    ratingPlanSource: row.rating_plan_source as RatingPlanSource,
    startMs: num(row.start_ms),
    answerMs: numOrNull(row.answer_ms),
    endMs: num(row.end_ms),
    billedSeconds: num(row.billed_seconds),
    costMinor: big(row.cost_minor),
    reason: row.reason,
  };
}

export function thresholdFromRow(row: Selectable<BalanceThresholdsTable>): BalanceThreshold {
  return {
    accountId: row.account_id,
    thresholdMinor: big(row.threshold_minor),
    url: row.url,
    armed: num(row.armed) === 1,
    createdBy: row.created_by,
    updatedAtMs: num(row.updated_at_ms),
  };
}

function outboxFromRow(row: Selectable<OutboxTable>): OutboxEvent {
  return {
    id: row.id,
    topic: row.topic,
    url: row.url,
    payload: row.payload,
    status: row.status as OutboxStatus,
    attempts: num(row.attempts),
    nextAttemptMs: num(row.next_attempt_ms),
    lastError: row.last_error,
    createdAtMs: num(row.created_at_ms),
  };
}

export function requestToRow(record: ChargingRequestRecord): ChargingRequestsTable {
  return {
    session_pk: record.sessionPk,
    request_number: record.requestNumber,
    request_type: record.requestType,
    fingerprint: record.fingerprint,
    answer: encodeAnswer(record.answer),
    created_at_ms: BigInt(record.createdAtMs),
  };
}

export function cdrToRow(cdr: Cdr): CdrsTable {
  return {
    id: cdr.id,
    session_pk: cdr.sessionPk,
    principal_id: cdr.principalId,
    session_id: cdr.sessionId,
    account_id: cdr.accountId,
    subscriber: cdr.subscriber,
    caller_number: cdr.callerNumber,
    called_number: cdr.calledNumber,
    carrier_id: cdr.carrierId,
    prefix: cdr.prefix,
    destination_name: cdr.destinationName,
    currency: cdr.currency,
    rate_snapshot: cdr.rateSnapshot,
    rating_plan_id: cdr.ratingPlanId,
    rating_plan_source: cdr.ratingPlanSource,
    start_ms: BigInt(cdr.startMs),
    answer_ms: bigOrNull(cdr.answerMs),
    end_ms: BigInt(cdr.endMs),
    billed_seconds: cdr.billedSeconds,
    cost_minor: cdr.costMinor,
    reason: cdr.reason,
  };
}

export class KyselyChargingTxStore implements ChargingTxStore {
  private readonly db: Db;
  private readonly dialect: Dialect;
  constructor(db: Db, dialect: Dialect) {
    this.db = db;
    this.dialect = dialect;
  }

  async findSession(principalId: string, sessionId: string) {
    let query = this.db
      .selectFrom('charging_sessions')
      .selectAll()
      .where('principal_id', '=', principalId)
      .where('session_id', '=', sessionId);
    if (this.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? sessionFromRow(row) : null;
  }

  async lockSession(id: string) {
    let query = this.db.selectFrom('charging_sessions').selectAll().where('id', '=', id);
    if (this.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? sessionFromRow(row) : null;
  }

  async insertSession(session: ChargingSession) {
    await this.db.insertInto('charging_sessions').values(sessionToRow(session)).execute();
  }

  async saveSession(session: ChargingSession) {
    const { id, ...row } = sessionToRow(session);
    await this.db.updateTable('charging_sessions').set(row).where('id', '=', id).execute();
  }

  async findRequest(sessionPk: string, requestNumber: number) {
    const row = await this.db
      .selectFrom('charging_requests')
      .selectAll()
      .where('session_pk', '=', sessionPk)
      .where('request_number', '=', requestNumber)
      .executeTakeFirst();
    return row ? requestFromRow(row) : null;
  }

  async findSessionRequest(principalId: string, sessionId: string, requestNumber: number) {
    let query = this.db
      .selectFrom('charging_sessions as s')
      .leftJoin('charging_requests as r', (join) =>
        join.onRef('r.session_pk', '=', 's.id').on('r.request_number', '=', requestNumber),
      )
      .selectAll('s')
      .select([
        'r.request_type as r_request_type',
        'r.fingerprint as r_fingerprint',
        'r.answer as r_answer',
        'r.created_at_ms as r_created_at_ms',
      ])
      .where('s.principal_id', '=', principalId)
      .where('s.session_id', '=', sessionId);
    if (this.dialect === 'postgres') query = query.forUpdate('s');
    const row = await query.executeTakeFirst();
    if (!row) return null;
    const session = sessionFromRow(row);
    const request: ChargingRequestRecord | null =
      row.r_answer === null || row.r_fingerprint === null
        ? null
        : {
            sessionPk: session.id,
            requestNumber,
            requestType: row.r_request_type as RequestType,
            fingerprint: row.r_fingerprint,
            answer: decodeAnswer(row.r_answer),
            createdAtMs: num(row.r_created_at_ms ?? 0),
          };
    return { session, request };
  }

  async insertRequest(record: ChargingRequestRecord) {
    await this.db.insertInto('charging_requests').values(requestToRow(record)).execute();
  }

  async pruneRequests(beforeSessionPk: string, limit: number) {
    const doomed = this.db
      .selectFrom('charging_requests as r')
      .innerJoin('charging_sessions as s', 's.id', 'r.session_pk')
      .select(['r.session_pk', 'r.request_number'])
      .where('r.session_pk', '<', beforeSessionPk)
      .where('s.status', '<>', 'active')
      .orderBy('r.session_pk')
      .limit(limit)
      .$asTuple('session_pk', 'request_number');
    const result = await this.db
      .deleteFrom('charging_requests')
      .where((eb) => eb(eb.refTuple('session_pk', 'request_number'), 'in', doomed))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async insertCdr(cdr: Cdr) {
    await this.db.insertInto('cdrs').values(cdrToRow(cdr)).execute();
  }

  async updateCdrUsage(sessionPk: string, billedSeconds: number, costMinor: Minor) {
    const row = await this.db
      .updateTable('cdrs')
      .set({ billed_seconds: billedSeconds, cost_minor: costMinor })
      .where('session_pk', '=', sessionPk)
      .returning('id')
      .executeTakeFirst();
    return row?.id ?? null;
  }

  async getThreshold(accountId: string) {
    let query = this.db
      .selectFrom('balance_thresholds')
      .selectAll()
      .where('account_id', '=', accountId);
    if (this.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? thresholdFromRow(row) : null;
  }

  async saveThreshold(threshold: BalanceThreshold) {
    const row = {
      account_id: threshold.accountId,
      threshold_minor: threshold.thresholdMinor,
      url: threshold.url,
      armed: threshold.armed ? 1 : 0,
      created_by: threshold.createdBy,
      updated_at_ms: BigInt(threshold.updatedAtMs),
    };
    await this.db
      .insertInto('balance_thresholds')
      .values(row)
      .onConflict((oc) =>
        oc.column('account_id').doUpdateSet({
          threshold_minor: row.threshold_minor,
          url: row.url,
          armed: row.armed,
          created_by: row.created_by,
          updated_at_ms: row.updated_at_ms,
        }),
      )
      .execute();
  }

  async deleteThreshold(accountId: string) {
    const result = await this.db
      .deleteFrom('balance_thresholds')
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async insertOutbox(event: OutboxEvent) {
    await this.db
      .insertInto('outbox')
      .values({
        id: event.id,
        topic: event.topic,
        url: event.url,
        payload: event.payload,
        status: event.status,
        attempts: event.attempts,
        next_attempt_ms: BigInt(event.nextAttemptMs),
        last_error: event.lastError,
        created_at_ms: BigInt(event.createdAtMs),
      })
      .execute();
  }

  async claimOutbox(id: string, expectedNextAttemptMs: number, leaseUntilMs: number) {
    // Compare-and-set: of two processes that read the same due event, only one moves it.
    const result = await this.db
      .updateTable('outbox')
      .set({ next_attempt_ms: BigInt(leaseUntilMs) })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('next_attempt_ms', '=', BigInt(expectedNextAttemptMs))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async updateOutbox(
    id: string,
    change: Pick<OutboxEvent, 'status' | 'attempts' | 'nextAttemptMs' | 'lastError'>,
  ) {
    await this.db
      .updateTable('outbox')
      .set({
        status: change.status,
        attempts: change.attempts,
        next_attempt_ms: BigInt(change.nextAttemptMs),
        last_error: change.lastError,
      })
      .where('id', '=', id)
      .execute();
  }

  async saveAniLink(link: AniLink) {
    const row = {
      ani: link.ani,
      account_id: link.accountId,
      subscriber: link.subscriber,
      created_at_ms: BigInt(link.createdAtMs),
    };
    await this.db
      .insertInto('ani_links')
      .values(row)
      .onConflict((oc) =>
        oc.column('ani').doUpdateSet({
          account_id: row.account_id,
          subscriber: row.subscriber,
          created_at_ms: row.created_at_ms,
        }),
      )
      .execute();
  }

  async findAniLink(ani: string) {
    let query = this.db.selectFrom('ani_links').selectAll().where('ani', '=', ani);
    if (this.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? aniLinkFromRow(row) : null;
  }

  async insertAniLink(link: AniLink) {
    await this.db
      .insertInto('ani_links')
      .values({
        ani: link.ani,
        account_id: link.accountId,
        subscriber: link.subscriber,
        created_at_ms: BigInt(link.createdAtMs),
      })
      .execute();
  }

  async deleteAniLink(ani: string) {
    await this.db.deleteFrom('ani_links').where('ani', '=', ani).execute();
  }
}

export class KyselyChargingReadStore implements ChargingReadStore {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async getSession(id: string) {
    const row = await this.db
      .selectFrom('charging_sessions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? sessionFromRow(row) : null;
  }

  async findSession(principalId: string, sessionId: string) {
    const row = await this.db
      .selectFrom('charging_sessions')
      .selectAll()
      .where('principal_id', '=', principalId)
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return row ? sessionFromRow(row) : null;
  }

  async listSessions(query: {
    status?: SessionStatus | undefined;
    principalId?: string | undefined;
    accountId?: string | undefined;
    afterId?: string | undefined;
    limit: number;
  }) {
    let select = this.db.selectFrom('charging_sessions').selectAll();
    if (query.status) select = select.where('status', '=', query.status);
    if (query.principalId) select = select.where('principal_id', '=', query.principalId);
    if (query.accountId) select = select.where('account_id', '=', query.accountId);
    if (query.afterId) select = select.where('id', '>', query.afterId);
    const rows = await select.orderBy('id').limit(query.limit).execute();
    return rows.map(sessionFromRow);
  }

  async dueSessions(nowMs: number, limit: number) {
    const rows = await this.db
      .selectFrom('charging_sessions')
      .select('id')
      .where('status', '=', 'active')
      .where('deadline_ms', '<=', BigInt(nowMs))
      .orderBy('deadline_ms')
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }

  async countSessions(status: SessionStatus) {
    const row = await this.db
      .selectFrom('charging_sessions')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('status', '=', status)
      .executeTakeFirst();
    return num(row?.count ?? 0);
  }

  async getCdr(id: string) {
    const row = await this.db
      .selectFrom('cdrs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? cdrFromRow(row) : null;
  }

  async listCdrs(query: {
    principalId?: string | undefined;
    accountId?: string | undefined;
    fromMs?: number | undefined;
    toMs?: number | undefined;
    afterId?: string | undefined;
    newestFirst?: boolean;
    limit: number;
  }) {
    let select = this.db.selectFrom('cdrs').selectAll();
    if (query.principalId) select = select.where('principal_id', '=', query.principalId);
    if (query.accountId) select = select.where('account_id', '=', query.accountId);
    if (query.fromMs !== undefined) select = select.where('end_ms', '>=', BigInt(query.fromMs));
    if (query.toMs !== undefined) select = select.where('end_ms', '<', BigInt(query.toMs));
    if (query.afterId) {
      select = select.where('id', query.newestFirst ? '<' : '>', query.afterId);
    }
    const rows = await select
      .orderBy('id', query.newestFirst ? 'desc' : 'asc')
      .limit(query.limit)
      .execute();
    return rows.map(cdrFromRow);
  }

  async getThreshold(accountId: string) {
    const row = await this.db
      .selectFrom('balance_thresholds')
      .selectAll()
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row ? thresholdFromRow(row) : null;
  }

  async listThresholds() {
    const rows = await this.db
      .selectFrom('balance_thresholds')
      .selectAll()
      .orderBy('account_id')
      .execute();
    return rows.map(thresholdFromRow);
  }

  async dueOutbox(nowMs: number, limit: number) {
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_ms', '<=', BigInt(nowMs))
      .orderBy('next_attempt_ms')
      .limit(limit)
      .execute();
    return rows.map(outboxFromRow);
  }

  async listOutbox(query: { topic?: string | undefined; limit: number }) {
    let select = this.db.selectFrom('outbox').selectAll();
    if (query.topic) select = select.where('topic', '=', query.topic);
    const rows = await select.orderBy('id').limit(query.limit).execute();
    return rows.map(outboxFromRow);
  }

  async getAniLink(ani: string) {
    const row = await this.db
      .selectFrom('ani_links')
      .selectAll()
      .where('ani', '=', ani)
      .executeTakeFirst();
    return row ? aniLinkFromRow(row) : null;
  }
}

export function aniLinkFromRow(row: Selectable<AniLinksTable>): AniLink {
  return {
    ani: row.ani,
    accountId: row.account_id,
    subscriber: row.subscriber,
    createdAtMs: num(row.created_at_ms),
  };
}
