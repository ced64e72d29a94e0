// The charging engine's write commands. Each credit-control request is one command: it locks
// its session, answers a repeated request from the stored answer, and otherwise settles the
// used seconds against the session's hold, reserves the next grant and records the answer, all
// in the transaction that the group commit makes durable before anyone hears the answer.

import type { LedgerBatch, LedgerNeeds } from '../ledger/ledger-batch.ts';
import { auditEvent } from '../ledger/ledger-commands.ts';
import type { TransferRequest } from '../ledger/requests.ts';
import { type Account, balanceOf, newAccount } from '../ledger/types.ts';
import type { Currency, Minor } from '../money/money.ts';
import { cost as costOf } from '../rating/cost.ts';
import type { RatingPlanSource } from '../rating/rating-plans.ts';
import { newId } from '../shared/ids.ts';
import { type Caller, systemCaller, systemPrincipal } from '../shared/principal.ts';
import { ok, type Refusal, type Result, refuse } from '../shared/result.ts';
import { defineCommand, type WriteContext } from '../shared/write-command.ts';
import {
  type AniLink,
  type BalanceThreshold,
  type Cdr,
  type ChargingSession,
  type CreditAnswer,
  type OutboxEvent,
  operatorDisconnectReason,
  type RequestType,
  serverEndReasons,
  supervisionReason,
} from './charging-types.ts';
import { type ChargingRefusalCode, chargingRefusals } from './codes.ts';
import { type GrantPolicy, holdMarginSeconds, nextGrant, settleUsage } from './metering.ts';
import { contextOfSnapshot } from './rate-snapshot.ts';

export function chargingRefusal<C extends ChargingRefusalCode>(code: C): Refusal<C> {
  return refuse(code, chargingRefusals[code]);
}

/** Session keys are `newId(sessionPkPrefix, start)`: they sort by the time the session began. */
export const sessionPkPrefix = 'ses';

/** The carrier's revenue account in a currency: where the money of its calls goes. */
export function carrierRevenueAccountId(carrierId: string, currency: Currency): string {
  return `acc_carrier_${carrierId}_${currency}`;
}

function revenueAccount(carrierId: string, currency: Currency, nowMs: number): Account {
  return newAccount({
    id: carrierRevenueAccountId(carrierId, currency),
    ownerId: systemPrincipal.id,
    name: `Call revenue ${carrierId} ${currency}`,
    currency,
    kind: 'revenue',
    flags: [],
    creditLimitMinor: 0n,
    createdAtMs: nowMs,
  });
}

export interface RouteSnapshot {
  readonly carrierId: string;
  readonly prefix: string;
  readonly destinationName: string;
  readonly currency: Currency;
  readonly rateSnapshot: string;
  /** The rating plan that chose the carrier, and why (core/rating/rating-plans.ts). */
  readonly ratingPlanId: string | null;
  readonly ratingPlanSource: RatingPlanSource;
}

export interface InitiatePayload {
  readonly caller: Caller;
  readonly sessionId: string;
  readonly requestNumber: number;
  readonly fingerprint: string;
  readonly accountId: string;
  readonly subscriber: string;
  readonly callerNumber: string | null;
  readonly calledNumber: string;
  readonly route: RouteSnapshot;
  readonly callbackUrl: string | null;
  /** When the call was answered, if the switch says so; else the initiate is the answer. */
  readonly answerMs: number | null;
  /** The call is still ringing: the grant and supervision count from the answer, not now. */
  readonly ringing: boolean;
  /** Link this caller number to the card, so later calls from it need no PIN. */
  readonly linkAni: string | null;
  readonly policy: GrantPolicy;
}

export interface ReportPayload {
  readonly caller: Caller;
  readonly sessionId: string;
  /**
   * The switch's request number; null: the next one. Only a report of cumulative use may leave
   * it out, because only such a report is safe to apply twice.
   */
  readonly requestNumber: number | null;
  readonly fingerprint: string;
  /** Seconds used of the last grant; ignored when `usedSecondsTotal` is given. */
  readonly usedSeconds: number;
  /** Seconds talked since the answer, in all: what the report adds is this minus what was billed. */
  readonly usedSecondsTotal: number | null;
  /** The answer time, when this report brings it (the first report after a ringing initiate). */
  readonly answerMs: number | null;
  readonly policy: GrantPolicy;
  /**
   * What the session's money was when the request arrived, read outside the transaction: the
   * batch loads (and locks) every command's accounts and hold in one go from these. A stale
   * hint costs only a load of what is missing.
   */
  readonly hint: SessionMoneyHint | null;
}

export interface SessionMoneyHint {
  readonly accountId: string;
  readonly revenueAccountId: string;
  readonly holdId: string | null;
}

function hintedNeeds(p: ReportPayload): LedgerNeeds {
  if (!p.hint) return { accountIds: [], holdIds: [], keys: [] };
  return {
    accountIds: [p.hint.accountId, p.hint.revenueAccountId],
    holdIds: p.hint.holdId ? [p.hint.holdId] : [],
    keys: [],
  };
}

export interface TerminatePayload extends ReportPayload {
  readonly reason: string;
  /**
   * How long after a session began a late terminate may still reconcile a charge the server
   * made on its own: the request-log retention, since the record of the reconciliation is what
   * keeps it from happening twice.
   */
  readonly reconcileWithinMs: number;
}

export type InitiateRefusal =
  | 'insufficient_balance'
  | 'unknown_account'
  | 'account_frozen'
  | 'session_exists'
  | 'session_closed';
export type ReportRefusal =
  | 'session_not_found'
  | 'request_number_required'
  | 'session_closed'
  | 'session_expired'
  | 'request_out_of_order'
  | 'request_conflict';

function holdKey(session: { id: string }, requestNumber: number, step: string): string {
  return `chg:${session.id}:${requestNumber}:${step}`;
}

async function ensureLoaded(ledger: LedgerBatch, needs: LedgerNeeds): Promise<void> {
  if (!ledger.isLoaded(needs)) await ledger.load(needs);
}

function systemKeys(keys: readonly string[]) {
  return keys.map((idempotencyKey) => ({ principalId: systemPrincipal.id, idempotencyKey }));
}

/** Reserves a grant's money as a hold on the subscriber's balance; null if it costs nothing. */
function reserve(
  ledger: LedgerBatch,
  session: Pick<
    ChargingSession,
    'id' | 'accountId' | 'revenueAccountId' | 'currency' | 'sessionId'
  >,
  key: string,
  amountMinor: Minor,
  grantedSeconds: number,
  policy: GrantPolicy,
  nowMs: number,
): Result<string | null, string> {
  if (amountMinor === 0n) return ok(null);
  const request: TransferRequest = {
    kind: 'hold',
    idempotencyKey: key,
    debitAccountId: session.accountId,
    creditAccountId: session.revenueAccountId,
    amountMinor,
    currency: session.currency,
    timeoutSeconds: grantedSeconds + policy.graceSeconds + holdMarginSeconds,
    code: 'call',
    memo: `call ${session.id}`,
  };
  const outcome = ledger.apply(systemCaller, request, nowMs);
  return outcome.ok ? ok(outcome.transfer.id) : outcome;
}

/**
 * Charges `dueMinor` of the session's current grant and releases the rest of its hold. A hold
 * the ledger already expired (every server was down past its margin) is replaced by a direct
 * transfer of what the balance still has: the call is charged at most what is left.
 */
function settleHold(
  ledger: LedgerBatch,
  session: ChargingSession,
  requestNumber: number,
  dueMinor: Minor,
  nowMs: number,
): Minor {
  if (session.holdId !== null) {
    const outcome =
      dueMinor > 0n
        ? ledger.apply(
            systemCaller,
            {
              kind: 'post',
              idempotencyKey: holdKey(session, requestNumber, 'post'),
              holdId: session.holdId,
              amountMinor: dueMinor,
            },
            nowMs,
          )
        : ledger.apply(
            systemCaller,
            {
              kind: 'void',
              idempotencyKey: holdKey(session, requestNumber, 'void'),
              holdId: session.holdId,
            },
            nowMs,
          );
    if (outcome.ok) return dueMinor;
  }
  if (dueMinor === 0n) return 0n;
  const account = ledger.account(session.accountId);
  const available = account ? balanceOf(account).availableMinor : 0n;
  const amountMinor = available < dueMinor ? available : dueMinor;
  if (amountMinor <= 0n) return 0n;
  const outcome = ledger.apply(
    systemCaller,
    {
      kind: 'transfer',
      idempotencyKey: holdKey(session, requestNumber, 'charge'),
      debitAccountId: session.accountId,
      creditAccountId: session.revenueAccountId,
      amountMinor,
      currency: session.currency,
      code: 'call',
      memo: `call ${session.id}`,
    },
    nowMs,
  );
  return outcome.ok ? amountMinor : 0n;
}

/**
 * Loads (and on PostgreSQL locks) the accounts and hold of a session. Its ledger keys are new
 * by construction: the request log lets each request number of a session run once.
 */
async function loadSessionMoney(ledger: LedgerBatch, session: ChargingSession, n: number) {
  await ensureLoaded(ledger, {
    accountIds: [session.accountId, session.revenueAccountId],
    holdIds: session.holdId ? [session.holdId] : [],
    keys: [],
  });
  ledger.assumeNewKeys(
    systemKeys(
      ['post', 'void', 'charge', 'hold', 'refund'].map((step) => holdKey(session, n, step)),
    ),
  );
}

function answerOf(
  session: ChargingSession,
  requestType: RequestType,
  requestNumber: number,
  nowMs: number,
  cdrId: string | null,
): CreditAnswer {
  const live = session.status === 'active';
  const talking = live && session.answerMs !== null;
  return {
    sessionId: session.sessionId,
    requestType,
    requestNumber,
    grantedSeconds: live ? session.grantedSeconds : 0,
    finalUnit: live ? session.finalUnit : true,
    validUntilMs: talking ? nowMs + session.grantedSeconds * 1000 : null,
    deadlineMs: live ? session.deadlineMs : null,
    answerMs: session.answerMs,
    usedSeconds: session.usedSeconds,
    chargedMinor: session.chargedMinor,
    currency: session.currency,
    carrierId: session.carrierId,
    prefix: session.prefix,
    destinationName: session.destinationName,
    cdrId,
  };
}

function cdrOf(session: ChargingSession, nowMs: number): Cdr {
  return {
    id: newId('cdr', nowMs),
    sessionPk: session.id,
    principalId: session.principalId,
    sessionId: session.sessionId,
    accountId: session.accountId,
    subscriber: session.subscriber,
    callerNumber: session.callerNumber,
    calledNumber: session.calledNumber,
    carrierId: session.carrierId,
    prefix: session.prefix,
    destinationName: session.destinationName,
    currency: session.currency,
    rateSnapshot: session.rateSnapshot,
    ratingPlanId: session.ratingPlanId,
    ratingPlanSource: session.ratingPlanSource,
    startMs: session.startMs,
    answerMs: session.answerMs,
    endMs: nowMs,
    billedSeconds: session.usedSeconds,
    costMinor: session.chargedMinor,
    reason: session.reason ?? 'normal',
  };
}

/** Sends a `balance.low` event when a charge takes the balance below the account's threshold. */
async function watchThreshold(context: WriteContext, accountId: string): Promise<void> {
  const { stores, ledger, nowMs } = context;
  const threshold = await stores.charging.getThreshold(accountId);
  if (!threshold) return;
  const account = ledger.account(accountId);
  if (!account) return;
  const balance = balanceOf(account);
  const below = balance.postedMinor < threshold.thresholdMinor;
  if (below === !threshold.armed) return;
  await stores.charging.saveThreshold({ ...threshold, armed: !below, updatedAtMs: nowMs });
  if (!below) return;
  await stores.charging.insertOutbox(
    outboxEvent(threshold.url, 'balance.low', nowMs, {
      account_id: accountId,
      currency: account.currency,
      balance: balance.postedMinor.toString(),
      available: balance.availableMinor.toString(),
      threshold: threshold.thresholdMinor.toString(),
    }),
  );
}

export function outboxEvent(
  url: string,
  topic: string,
  nowMs: number,
  data: Record<string, unknown>,
): OutboxEvent {
  const id = newId('evt', nowMs);
  return {
    id,
    topic,
    url,
    payload: JSON.stringify({ id, type: topic, created_at: new Date(nowMs).toISOString(), data }),
    status: 'pending',
    attempts: 0,
    nextAttemptMs: nowMs,
    lastError: null,
    createdAtMs: nowMs,
  };
}

/**
 * The instant a call's price is computed from (time-of-day periods): its answer, or its start
 * when it was answered at initiate or never answered.
 */
function ratingStartOf(session: Pick<ChargingSession, 'answerMs' | 'startMs'>): number {
  return session.answerMs ?? session.startMs;
}

/** The seconds a report adds to the call: its own count, or its running total less what was billed. */
function reportedSecondsOf(p: ReportPayload, session: ChargingSession): number {
  if (p.usedSecondsTotal === null) return p.usedSeconds;
  return Math.max(0, p.usedSecondsTotal - session.usedSeconds);
}

/**
 * A ringing call's first report with its answer: the grant reserved while it rang is released
 * and the call starts afresh from the answer, so ringing is never billed and the time-of-day
 * rate is the one at the answer. The new grant is reserved by the report itself.
 */
function answerRingingCall(
  ledger: LedgerBatch,
  session: ChargingSession,
  requestNumber: number,
  answerMs: number,
  nowMs: number,
): ChargingSession {
  settleHold(ledger, session, requestNumber, 0n, nowMs);
  return {
    ...session,
    answerMs: Math.min(Math.max(answerMs, session.startMs), nowMs),
    holdId: null,
    holdMinor: 0n,
  };
}

/**
 * Ends a session: settles its last report, releases the rest of the hold and writes the CDR.
 * The session must be active and its money loaded.
 */
async function finish(
  context: WriteContext,
  session: ChargingSession,
  requestNumber: number,
  reportedSeconds: number,
  reason: string,
): Promise<{ session: ChargingSession; cdr: Cdr }> {
  const { ledger, stores, nowMs } = context;
  const rate = contextOfSnapshot(session.rateSnapshot);
  // A call that never got an answer is never billed, whatever the switch reports.
  const talked = session.answerMs === null ? 0 : reportedSeconds;
  const settled = settleUsage({
    rate,
    startMs: ratingStartOf(session),
    usedSeconds: session.usedSeconds,
    chargedMinor: session.chargedMinor,
    grantedSeconds: session.grantedSeconds,
    reportedSeconds: talked,
  });
  const charged = settleHold(ledger, session, requestNumber, settled.dueMinor, nowMs);
  const ended: ChargingSession = {
    ...session,
    status: 'terminated',
    usedSeconds: settled.usedSeconds,
    chargedMinor: session.chargedMinor + charged,
    // What the server charged of the last grant on its own, kept for a late reconciliation.
    grantedSeconds: serverEndReasons.includes(reason)
      ? settled.usedSeconds - session.usedSeconds
      : 0,
    holdId: null,
    holdMinor: 0n,
    finalUnit: true,
    lastRequestNumber: Math.max(session.lastRequestNumber, requestNumber),
    endMs: nowMs,
    reason,
  };
  const cdr = cdrOf(ended, nowMs);
  await stores.charging.saveSession(ended);
  await stores.charging.insertCdr(cdr);
  await watchThreshold(context, session.accountId);
  await markExhausted(context, ended);
  return { session: ended, cdr };
}

/** A calling card whose balance a call has used up is `exhausted`: its PIN no longer calls. */
async function markExhausted(context: WriteContext, session: ChargingSession): Promise<void> {
  if (!session.subscriber.startsWith('card:')) return;
  const account = context.ledger.account(session.accountId);
  if (!account || balanceOf(account).postedMinor > 0n) return;
  const serial = session.subscriber.slice('card:'.length);
  const pin = await context.stores.vouchers.findPinBySerial(serial);
  if (pin?.status !== 'active') return;
  await context.stores.vouchers.updatePin(pin.id, { status: 'exhausted' });
  await context.stores.vouchers.insertAuditEvents([
    auditEvent(
      systemCaller,
      context.nowMs,
      'voucher.exhausted',
      { type: 'voucher', id: serial },
      {
        session_id: session.sessionId,
      },
    ),
  ]);
}

/** Common checks of update and terminate: the session, replays, order. */
async function openReport(
  context: WriteContext,
  p: ReportPayload,
): Promise<
  | { kind: 'answer'; result: Result<CreditAnswer, ReportRefusal> }
  | { kind: 'go'; session: ChargingSession; requestNumber: number }
  | { kind: 'ended'; session: ChargingSession; requestNumber: number }
> {
  if (p.requestNumber === null && p.usedSecondsTotal === null && p.usedSeconds > 0) {
    return { kind: 'answer', result: chargingRefusal('request_number_required') };
  }
  const found =
    p.requestNumber === null
      ? await lockedSession(context, p)
      : await context.stores.charging.findSessionRequest(
          p.caller.principal.id,
          p.sessionId,
          p.requestNumber,
        );
  if (!found) return { kind: 'answer', result: chargingRefusal('session_not_found') };
  const { session, request: record } = found;
  if (record) {
    const result =
      record.fingerprint === p.fingerprint
        ? ok(record.answer)
        : chargingRefusal('request_conflict');
    return { kind: 'answer', result };
  }
  const requestNumber = p.requestNumber ?? session.lastRequestNumber + 1;
  if (session.status !== 'active') return { kind: 'ended', session, requestNumber };
  if (requestNumber <= session.lastRequestNumber) {
    return { kind: 'answer', result: chargingRefusal('request_out_of_order') };
  }
  return { kind: 'go', session, requestNumber };
}

/** A session by the switch's id, locked, for a report that leaves the request number out. */
async function lockedSession(
  context: WriteContext,
  p: ReportPayload,
): Promise<{ session: ChargingSession; request: null } | null> {
  const session = await context.stores.charging.findSession(p.caller.principal.id, p.sessionId);
  return session ? { session, request: null } : null;
}

/** Keeps a request's answer, so that the same request again gets it and moves nothing. */
async function recordAnswer(
  context: WriteContext,
  sessionPk: string,
  requestNumber: number,
  requestType: RequestType,
  fingerprint: string,
  answer: CreditAnswer,
): Promise<void> {
  await context.stores.charging.insertRequest({
    sessionPk,
    requestNumber,
    requestType,
    fingerprint,
    answer,
    createdAtMs: context.nowMs,
  });
}

/**
 * Settles a report on a talking call and reserves its next grant: the common core of every
 * update. The grant counts from now, the moment its answer is sent.
 */
function regrant(
  context: WriteContext,
  session: ChargingSession,
  requestNumber: number,
  reportedSeconds: number,
  policy: GrantPolicy,
): ChargingSession {
  const { ledger, nowMs } = context;
  const rate = contextOfSnapshot(session.rateSnapshot);
  const startMs = ratingStartOf(session);
  const settled = settleUsage({
    rate,
    startMs,
    usedSeconds: session.usedSeconds,
    chargedMinor: session.chargedMinor,
    grantedSeconds: session.grantedSeconds,
    reportedSeconds,
  });
  const chargedMinor =
    session.chargedMinor + settleHold(ledger, session, requestNumber, settled.dueMinor, nowMs);
  const account = ledger.account(session.accountId);
  const usable = account !== null && account.status === 'open';
  let grant = nextGrant({
    rate,
    startMs,
    usedSeconds: settled.usedSeconds,
    chargedMinor,
    availableMinor: usable ? balanceOf(account).availableMinor : 0n,
    policy,
  });
  const key = holdKey(session, requestNumber, 'hold');
  let held = reserve(ledger, session, key, grant.holdMinor, grant.grantedSeconds, policy, nowMs);
  if (!held.ok || !usable) {
    grant = { grantedSeconds: 0, holdMinor: 0n, finalUnit: true, remainingSeconds: 0 };
    held = ok(null);
  }
  return {
    ...session,
    usedSeconds: settled.usedSeconds,
    chargedMinor,
    grantedSeconds: grant.grantedSeconds,
    holdId: held.value,
    holdMinor: grant.holdMinor,
    finalUnit: grant.finalUnit,
    lastRequestNumber: requestNumber,
    deadlineMs: nowMs + (grant.grantedSeconds + policy.graceSeconds) * 1000,
  };
}

/**
 * The server ends a live call on its own (supervision, an operator): `presumedSeconds` of the
 * current grant are charged, and the switch is told to disconnect if it gave a channel.
 */
async function endByServer(
  context: WriteContext,
  session: ChargingSession,
  presumedSeconds: number,
  reason: string,
): Promise<{ cdrId: string; usedSeconds: number; chargedMinor: Minor }> {
  const { stores, ledger, nowMs } = context;
  const requestNumber = session.lastRequestNumber + 1;
  await loadSessionMoney(ledger, session, requestNumber);
  const { session: ended, cdr } = await finish(
    context,
    session,
    requestNumber,
    presumedSeconds,
    reason,
  );
  if (session.callbackUrl !== null) {
    await stores.charging.insertOutbox(
      outboxEvent(session.callbackUrl, 'charging.disconnect', nowMs, {
        session_id: ended.sessionId,
        reason,
        cdr_id: cdr.id,
        billed_seconds: ended.usedSeconds,
        cost: ended.chargedMinor.toString(),
        currency: ended.currency,
      }),
    );
  }
  return { cdrId: cdr.id, usedSeconds: ended.usedSeconds, chargedMinor: ended.chargedMinor };
}

/**
 * A terminate for a session the server already ended on its own (supervision after a lost
 * report, an operator's disconnect, Tollgate down during the call): the part of the last grant
 * the server charged without a report is set to what the switch now reports, and the difference
 * is refunded. It happens once, recorded under the request number the server used to end the
 * session, and only while request records are kept; a terminate never charges more than the
 * server already did.
 */
async function reconcile(
  context: WriteContext,
  p: TerminatePayload,
  session: ChargingSession,
): Promise<Result<CreditAnswer, ReportRefusal>> {
  const { stores, ledger, nowMs } = context;
  const endNumber = session.lastRequestNumber;
  const reconcilable =
    serverEndReasons.includes(session.reason ?? '') &&
    nowMs < session.startMs + p.reconcileWithinMs;
  if (!reconcilable) return chargingRefusal('session_closed');
  const record = await stores.charging.findRequest(session.id, endNumber);
  if (record) {
    return record.fingerprint === p.fingerprint
      ? ok(record.answer)
      : chargingRefusal('session_closed');
  }
  await loadSessionMoney(ledger, session, endNumber);
  const presumed = session.grantedSeconds;
  const before = session.usedSeconds - presumed;
  const reported = p.usedSecondsTotal === null ? p.usedSeconds : p.usedSecondsTotal - before;
  const usedSeconds = before + Math.min(presumed, Math.max(0, reported));
  const cost = costOf(contextOfSnapshot(session.rateSnapshot), ratingStartOf(session), usedSeconds);
  const refundMinor = session.chargedMinor > cost ? session.chargedMinor - cost : 0n;
  let refunded = true;
  if (refundMinor > 0n) {
    const moved = ledger.apply(
      systemCaller,
      {
        kind: 'transfer',
        idempotencyKey: holdKey(session, endNumber, 'refund'),
        debitAccountId: session.revenueAccountId,
        creditAccountId: session.accountId,
        amountMinor: refundMinor,
        currency: session.currency,
        code: 'call_refund',
        memo: `call ${session.id} reconciled`,
      },
      nowMs,
    );
    refunded = moved.ok;
  }
  // A refund the ledger refuses (an operator froze the revenue account) leaves the charge as
  // the server made it; the report is still recorded, so it is not tried again.
  const reconciled: ChargingSession = {
    ...session,
    usedSeconds: refunded ? usedSeconds : session.usedSeconds,
    chargedMinor: refunded ? cost : session.chargedMinor,
    grantedSeconds: 0,
  };
  await stores.charging.saveSession(reconciled);
  const cdrId = await stores.charging.updateCdrUsage(
    session.id,
    reconciled.usedSeconds,
    reconciled.chargedMinor,
  );
  const answer = answerOf(reconciled, 'terminate', p.requestNumber ?? endNumber, nowMs, cdrId);
  // Recorded under the number the server ended the session with (what keeps this to once),
  // and under the switch's own number, so that its repeat gets this answer again.
  for (const requestNumber of new Set([endNumber, p.requestNumber ?? endNumber])) {
    await recordAnswer(context, session.id, requestNumber, 'terminate', p.fingerprint, answer);
  }
  await watchThreshold(context, session.accountId);
  return ok(answer);
}

export const chargingCommands = {
  'charging.initiate': defineCommand<
    InitiatePayload,
    Result<CreditAnswer & { readonly replayed: boolean }, InitiateRefusal>
  >({
    needs: (p) => ({
      accountIds: [p.accountId, carrierRevenueAccountId(p.route.carrierId, p.route.currency)],
      keys: [],
      holdIds: [],
    }),
    async run(context, p) {
      const { stores, ledger, nowMs } = context;
      const existing = await stores.charging.findSessionRequest(
        p.caller.principal.id,
        p.sessionId,
        p.requestNumber,
      );
      if (existing) {
        // A session id is one call: once it has ended, a new initiate with it is refused, never
        // answered with the old grant (a switch reusing a Call-ID would otherwise talk for free).
        if (existing.session.status !== 'active') return chargingRefusal('session_closed');
        const record = existing.request;
        if (record && record.fingerprint === p.fingerprint) {
          return ok({ ...record.answer, replayed: true });
        }
        return chargingRefusal('session_exists');
      }
      const { route, policy } = p;
      const sessionPk = newId(sessionPkPrefix, nowMs);
      const revenueId = carrierRevenueAccountId(route.carrierId, route.currency);
      const key = holdKey({ id: sessionPk }, p.requestNumber, 'hold');
      await ensureLoaded(ledger, { accountIds: [p.accountId, revenueId], keys: [], holdIds: [] });
      ledger.assumeNewKeys(systemKeys([key]));
      const account = ledger.account(p.accountId);
      if (!account || account.status === 'closed' || account.currency !== route.currency) {
        return chargingRefusal('unknown_account');
      }
      if (account.status === 'frozen') {
        return refuse('account_frozen', 'The subscriber account is frozen.');
      }
      const availableMinor = balanceOf(account).availableMinor;
      if (availableMinor < policy.minimumBalanceMinor) {
        return chargingRefusal('insufficient_balance');
      }
      const rate = contextOfSnapshot(route.rateSnapshot);
      const answerMs = p.ringing ? null : Math.min(p.answerMs ?? nowMs, nowMs);
      const grant = nextGrant({
        rate,
        startMs: answerMs ?? nowMs,
        usedSeconds: 0,
        chargedMinor: 0n,
        availableMinor,
        policy,
      });
      if (grant.grantedSeconds === 0) return chargingRefusal('insufficient_balance');
      if (ledger.account(revenueId) === null) {
        ledger.addAccount(revenueAccount(route.carrierId, route.currency, nowMs));
      }
      const base = {
        id: sessionPk,
        accountId: account.id,
        revenueAccountId: revenueId,
        currency: route.currency,
        sessionId: p.sessionId,
      };
      const held = reserve(ledger, base, key, grant.holdMinor, grant.grantedSeconds, policy, nowMs);
      if (!held.ok) return chargingRefusal('insufficient_balance');
      // Fields written out, no spread: V8 builds `{ ...base, more }` one field at a time, which
      // cost more than the rest of an initiate (see ledger-batch.ts).
      const session: ChargingSession = {
        id: base.id,
        accountId: base.accountId,
        revenueAccountId: base.revenueAccountId,
        currency: base.currency,
        sessionId: base.sessionId,
        principalId: p.caller.principal.id,
        subscriber: p.subscriber,
        callerNumber: p.callerNumber,
        calledNumber: p.calledNumber,
        carrierId: route.carrierId,
        prefix: route.prefix,
        destinationName: route.destinationName,
        rateSnapshot: route.rateSnapshot,
        ratingPlanId: route.ratingPlanId,
        ratingPlanSource: route.ratingPlanSource,
        status: 'active',
        startMs: nowMs,
        answerMs,
        endMs: null,
        usedSeconds: 0,
        chargedMinor: 0n,
        grantedSeconds: grant.grantedSeconds,
        holdId: held.value,
        holdMinor: grant.holdMinor,
        finalUnit: grant.finalUnit,
        lastRequestNumber: p.requestNumber,
        // A ringing call is supervised against the longest ring; its grant starts at the answer.
        deadlineMs:
          nowMs +
          ((p.ringing ? policy.ringSecondsMax : grant.grantedSeconds) + policy.graceSeconds) * 1000,
        callbackUrl: p.callbackUrl,
        reason: null,
      };
      const answer = answerOf(session, 'initial', p.requestNumber, nowMs, null);
      await stores.charging.insertSession(session);
      await recordAnswer(context, sessionPk, p.requestNumber, 'initial', p.fingerprint, answer);
      if (p.linkAni !== null) {
        const link: AniLink = {
          ani: p.linkAni,
          accountId: account.id,
          subscriber: p.subscriber,
          createdAtMs: nowMs,
        };
        await stores.charging.saveAniLink(link);
      }
      return ok({ ...answer, replayed: false });
    },
  }),

  'charging.update': defineCommand<ReportPayload, Result<CreditAnswer, ReportRefusal>>({
    needs: hintedNeeds,
    async run(context, p) {
      const opened = await openReport(context, p);
      if (opened.kind === 'answer') return opened.result;
      if (opened.kind === 'ended') return chargingRefusal('session_closed');
      const { requestNumber } = opened;
      const { stores, ledger, nowMs } = context;
      if (nowMs > opened.session.deadlineMs) return chargingRefusal('session_expired');
      await loadSessionMoney(ledger, opened.session, requestNumber);
      let session = opened.session;
      let next: ChargingSession;
      if (session.answerMs === null && p.answerMs === null) {
        // Still ringing: nothing is billed and the grant waits for the answer; the deadline
        // stays the ring limit set at initiate.
        next = { ...session, lastRequestNumber: requestNumber };
      } else {
        if (session.answerMs === null && p.answerMs !== null) {
          session = answerRingingCall(ledger, session, requestNumber, p.answerMs, nowMs);
        }
        next = regrant(context, session, requestNumber, reportedSecondsOf(p, session), p.policy);
      }
      const answer = answerOf(next, 'update', requestNumber, nowMs, null);
      await stores.charging.saveSession(next);
      await recordAnswer(context, session.id, requestNumber, 'update', p.fingerprint, answer);
      await watchThreshold(context, session.accountId);
      return ok(answer);
    },
  }),

  'charging.terminate': defineCommand<TerminatePayload, Result<CreditAnswer, ReportRefusal>>({
    needs: hintedNeeds,
    async run(context, p) {
      const opened = await openReport(context, p);
      if (opened.kind === 'answer') return opened.result;
      if (opened.kind === 'ended') return reconcile(context, p, opened.session);
      const { requestNumber } = opened;
      const { ledger, nowMs } = context;
      await loadSessionMoney(ledger, opened.session, requestNumber);
      let live = opened.session;
      if (live.answerMs === null && p.answerMs !== null) {
        live = answerRingingCall(ledger, live, requestNumber, p.answerMs, nowMs);
      }
      const { session, cdr } = await finish(
        context,
        live,
        requestNumber,
        reportedSecondsOf(p, live),
        p.reason,
      );
      const answer = answerOf(session, 'terminate', requestNumber, nowMs, cdr.id);
      await recordAnswer(context, session.id, requestNumber, 'terminate', p.fingerprint, answer);
      return ok(answer);
    },
  }),

  /**
   * Ends a session whose grant ran out with no word from the switch. Policy: the whole grant is
   * charged (the switch was allowed to use it and has not said otherwise; a call that never got
   * its answer is charged nothing), the rest of the money is released, the CDR says
   * `supervision_timeout`, and the switch is told to disconnect. A terminate that arrives later
   * reconciles the charge to what the switch reports. The session row is locked and re-checked,
   * so of two processes only one ever acts.
   */
  'charging.supervise': defineCommand<{ sessionPk: string }, string | null>({
    async run(context, { sessionPk }) {
      const session = await context.stores.charging.lockSession(sessionPk);
      if (session?.status !== 'active' || session.deadlineMs > context.nowMs) return null;
      const ended = await endByServer(context, session, session.grantedSeconds, supervisionReason);
      return ended.cdrId;
    },
  }),

  /**
   * An operator ends a live call now: the seconds talked in the current grant so far are
   * charged, the rest is released, and the switch is told to disconnect through the session's
   * disconnect channel. A later terminate from the switch reconciles the charge, once.
   */
  'charging.disconnect': defineCommand<
    { sessionPk: string; policy: GrantPolicy },
    Result<
      { cdrId: string; usedSeconds: number; chargedMinor: Minor },
      'session_not_found' | 'session_closed'
    >
  >({
    async run(context, { sessionPk, policy }) {
      const session = await context.stores.charging.lockSession(sessionPk);
      if (!session) return chargingRefusal('session_not_found');
      if (session.status !== 'active') return chargingRefusal('session_closed');
      // The current grant began when its answer was sent: its deadline less the grant and grace.
      const grantStartMs =
        session.deadlineMs - (session.grantedSeconds + policy.graceSeconds) * 1000;
      const talked = Math.floor((context.nowMs - grantStartMs) / 1000);
      const presumed = Math.min(session.grantedSeconds, Math.max(0, talked));
      const ended = await endByServer(context, session, presumed, operatorDisconnectReason);
      return ok(ended);
    },
  }),

  'charging.setThreshold': defineCommand<{ threshold: BalanceThreshold }, null>({
    async run({ stores }, { threshold }) {
      await stores.charging.saveThreshold(threshold);
      return null;
    },
  }),

  'charging.deleteThreshold': defineCommand<{ accountId: string }, boolean>({
    async run({ stores }, { accountId }) {
      return stores.charging.deleteThreshold(accountId);
    },
  }),

  /** Forgets the request records of long-ended sessions: see `Charging.pruneRequestLog`. */
  'charging.pruneRequests': defineCommand<{ beforeSessionPk: string; limit: number }, number>({
    async run({ stores }, p) {
      return stores.charging.pruneRequests(p.beforeSessionPk, p.limit);
    },
  }),

  'outbox.claim': defineCommand<
    { id: string; expectedNextAttemptMs: number; leaseUntilMs: number },
    boolean
  >({
    async run({ stores }, p) {
      return stores.charging.claimOutbox(p.id, p.expectedNextAttemptMs, p.leaseUntilMs);
    },
  }),

  'outbox.settle': defineCommand<
    {
      id: string;
      change: Pick<OutboxEvent, 'status' | 'attempts' | 'nextAttemptMs' | 'lastError'>;
    },
    null
  >({
    async run({ stores }, { id, change }) {
      await stores.charging.updateOutbox(id, change);
      return null;
    },
  }),
};
