// The charging engine's records and what it needs from storage. A session is one call as the
// switch and the server see it; its state lives in the database so that any process sharing the
// database can continue it, and a restart loses nothing.

import type { Currency, Minor } from '../money/money.ts';
import type { RatingPlanSource } from '../rating/rating-plans.ts';

export const sessionStatuses = ['active', 'terminated'] as const;
export type SessionStatus = (typeof sessionStatuses)[number];

/** RFC 4006 CC-Request-Type, in our words. */
export const requestTypes = ['initial', 'update', 'terminate'] as const;
export type RequestType = (typeof requestTypes)[number];

/** Why a session ended. Switches send their own cause; the server uses `supervision_timeout`. */
export const supervisionReason = 'supervision_timeout';

/** Why a session ended when an operator ended the call (`POST …/sessions/{id}/disconnect`). */
export const operatorDisconnectReason = 'operator_disconnect';

/**
 * Sessions the server ended on its own: their last grant was charged as the server presumed it,
 * and a late report from the switch may reconcile that charge (once) to what was really used.
 */
export const serverEndReasons: readonly string[] = [supervisionReason, operatorDisconnectReason];

export interface ChargingSession {
  /** Our id (`ses_…`). */
  readonly id: string;
  /** The switch (principal) that opened the session; session ids are unique per switch. */
  readonly principalId: string;
  /** The switch's own session id (Diameter Session-Id, SIP Call-ID, ...). */
  readonly sessionId: string;
  /** The subscriber's balance account. */
  readonly accountId: string;
  /** How the subscriber was found: `card:<serial>` or `ani:<caller number>`; never a PIN. */
  readonly subscriber: string;
  readonly callerNumber: string | null;
  readonly calledNumber: string;
  readonly carrierId: string;
  readonly prefix: string;
  readonly destinationName: string;
  readonly currency: Currency;
  /** The rate the call is priced at, fixed at initiate (rate-snapshot.ts). */
  readonly rateSnapshot: string;
  /** The rating plan that chose the carrier; null for the currency's plan and the product's carrier. */
  readonly ratingPlanId: string | null;
  /** Why that plan applied (core/rating/rating-plans.ts): subscriber, product, …, currency. */
  readonly ratingPlanSource: RatingPlanSource;
  /** Where the call's money goes: the carrier's revenue account in this currency. */
  readonly revenueAccountId: string;
  readonly status: SessionStatus;
  readonly startMs: number;
  readonly answerMs: number | null;
  readonly endMs: number | null;
  /** Seconds billed so far (reported, capped at each grant). */
  readonly usedSeconds: number;
  /** Money posted so far: always cost(usedSeconds) unless a hold was lost. */
  readonly chargedMinor: Minor;
  /**
   * The current grant in seconds, from the last answer. Once the server has ended a session
   * itself, the seconds of the last grant it charged without a report (see `serverEndReasons`).
   */
  readonly grantedSeconds: number;
  /** The hold that reserves the current grant; null when it costs nothing. */
  readonly holdId: string | null;
  readonly holdMinor: Minor;
  readonly finalUnit: boolean;
  readonly lastRequestNumber: number;
  /** When the supervisor ends the session unless an update or terminate comes first. */
  readonly deadlineMs: number;
  /** Where to send a disconnect when the server ends the call; null: the switch polls. */
  readonly callbackUrl: string | null;
  readonly reason: string | null;
}

/** The answer to a credit-control request, as stored for replays and sent to the switch. */
export interface CreditAnswer {
  readonly sessionId: string;
  readonly requestType: RequestType;
  readonly requestNumber: number;
  /** Seconds the switch may use from this answer on; 0 tells it to disconnect now. */
  readonly grantedSeconds: number;
  readonly finalUnit: boolean;
  /**
   * The grant is valid until this instant (start of the grant + granted seconds); null while the
   * call rings (the grant counts from the answer) and once it has ended.
   */
  readonly validUntilMs: number | null;
  /** When the server ends the session unless the switch speaks first; null once ended. */
  readonly deadlineMs: number | null;
  /** When the call was answered; null while it rings, and for a call never answered. */
  readonly answerMs: number | null;
  readonly usedSeconds: number;
  readonly chargedMinor: Minor;
  readonly currency: Currency;
  readonly carrierId: string;
  readonly prefix: string;
  readonly destinationName: string;
  /** The call record written at terminate. */
  readonly cdrId: string | null;
}

export interface ChargingRequestRecord {
  readonly sessionPk: string;
  readonly requestNumber: number;
  readonly requestType: RequestType;
  readonly fingerprint: string;
  readonly answer: CreditAnswer;
  readonly createdAtMs: number;
}

/** A call detail record: one per session that reserved money, written when it ends. */
export interface Cdr {
  readonly id: string;
  readonly sessionPk: string;
  readonly principalId: string;
  readonly sessionId: string;
  readonly accountId: string;
  readonly subscriber: string;
  readonly callerNumber: string | null;
  readonly calledNumber: string;
  readonly carrierId: string;
  readonly prefix: string;
  readonly destinationName: string;
  readonly currency: Currency;
  readonly rateSnapshot: string;
  /** The rating plan that chose the carrier, and why (as on the session). */
  readonly ratingPlanId: string | null;
  readonly ratingPlanSource: RatingPlanSource;
  readonly startMs: number;
  readonly answerMs: number | null;
  readonly endMs: number;
  readonly billedSeconds: number;
  readonly costMinor: Minor;
  readonly reason: string;
}

/** A low-balance threshold on an account: crossing it downwards sends one webhook event. */
export interface BalanceThreshold {
  readonly accountId: string;
  readonly thresholdMinor: Minor;
  readonly url: string;
  /** True until the balance falls below; re-armed when it rises to the threshold again. */
  readonly armed: boolean;
  readonly createdBy: string;
  readonly updatedAtMs: number;
}

export const outboxStatuses = ['pending', 'delivered', 'failed'] as const;
export type OutboxStatus = (typeof outboxStatuses)[number];

/** An event to POST to a URL, written in the transaction that caused it and sent after. */
export interface OutboxEvent {
  readonly id: string;
  readonly topic: string;
  readonly url: string;
  /** The JSON body. */
  readonly payload: string;
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly nextAttemptMs: number;
  readonly lastError: string | null;
  readonly createdAtMs: number;
}

/** A caller number linked to a calling card after a PIN login: later calls need no PIN. */
export interface AniLink {
  readonly ani: string;
  readonly accountId: string;
  readonly subscriber: string;
  readonly createdAtMs: number;
}

/** Statements inside one write transaction; reads lock the rows on PostgreSQL. */
export interface ChargingTxStore {
  findSession(principalId: string, sessionId: string): Promise<ChargingSession | null>;
  lockSession(id: string): Promise<ChargingSession | null>;
  insertSession(session: ChargingSession): Promise<void>;
  saveSession(session: ChargingSession): Promise<void>;
  findRequest(sessionPk: string, requestNumber: number): Promise<ChargingRequestRecord | null>;
  /** A session (locked) with its record of request `requestNumber`, in one round trip. */
  findSessionRequest(
    principalId: string,
    sessionId: string,
    requestNumber: number,
  ): Promise<{ session: ChargingSession; request: ChargingRequestRecord | null } | null>;
  insertRequest(record: ChargingRequestRecord): Promise<void>;
  /**
   * Deletes up to `limit` request records of sessions that have ended and whose key sorts
   * before `beforeSessionPk` (session keys start with their creation time); returns how many.
   */
  pruneRequests(beforeSessionPk: string, limit: number): Promise<number>;
  insertCdr(cdr: Cdr): Promise<void>;
  /** Rewrites the billed seconds and cost of a session's CDR; returns its id, or null. */
  updateCdrUsage(
    sessionPk: string,
    billedSeconds: number,
    costMinor: Minor,
  ): Promise<string | null>;
  getThreshold(accountId: string): Promise<BalanceThreshold | null>;
  saveThreshold(threshold: BalanceThreshold): Promise<void>;
  deleteThreshold(accountId: string): Promise<boolean>;
  insertOutbox(event: OutboxEvent): Promise<void>;
  /** Moves a pending event's next attempt to `leaseUntilMs` if still due as expected. */
  claimOutbox(id: string, expectedNextAttemptMs: number, leaseUntilMs: number): Promise<boolean>;
  updateOutbox(
    id: string,
    change: Pick<OutboxEvent, 'status' | 'attempts' | 'nextAttemptMs' | 'lastError'>,
  ): Promise<void>;
  saveAniLink(link: AniLink): Promise<void>;
  /** A caller number's link, locked on PostgreSQL. */
  findAniLink(ani: string): Promise<AniLink | null>;
  /** Adds a link; fails (and the transaction is retried) if another process added one first. */
  insertAniLink(link: AniLink): Promise<void>;
  deleteAniLink(ani: string): Promise<void>;
}

/** Reads outside a write transaction: the last committed state. */
export interface ChargingReadStore {
  getSession(id: string): Promise<ChargingSession | null>;
  findSession(principalId: string, sessionId: string): Promise<ChargingSession | null>;
  listSessions(query: {
    status?: SessionStatus | undefined;
    principalId?: string | undefined;
    accountId?: string | undefined;
    afterId?: string | undefined;
    limit: number;
  }): Promise<ChargingSession[]>;
  /** Ids of active sessions whose deadline is at or before `nowMs`, oldest deadline first. */
  dueSessions(nowMs: number, limit: number): Promise<string[]>;
  countSessions(status: SessionStatus): Promise<number>;
  getCdr(id: string): Promise<Cdr | null>;
  listCdrs(query: {
    principalId?: string | undefined;
    accountId?: string | undefined;
    fromMs?: number | undefined;
    toMs?: number | undefined;
    /** Continue after this CDR id (ids are time-ordered). */
    afterId?: string | undefined;
    /** Newest first instead of oldest first. */
    newestFirst?: boolean;
    limit: number;
  }): Promise<Cdr[]>;
  getThreshold(accountId: string): Promise<BalanceThreshold | null>;
  listThresholds(): Promise<BalanceThreshold[]>;
  dueOutbox(nowMs: number, limit: number): Promise<OutboxEvent[]>;
  listOutbox(query: { topic?: string | undefined; limit: number }): Promise<OutboxEvent[]>;
  getAniLink(ani: string): Promise<AniLink | null>;
}
