// The charging engine's write commands. Each credit-control request is one command: it locks
// its session, answers a repeated request from the stored answer, and otherwise settles the
// used seconds against the session's hold, reserves the next grant and records the answer, all
// in the transaction that the group commit makes durable before anyone hears the answer.

import type { LedgerBatch, LedgerNeeds } from '../ledger/ledger-batch.ts';
import { auditEvent } from '../ledger/ledger-commands.ts';
import type { TransferRequest } from '../ledger/requests.ts';
import { type Account, balanceOf, newAccount } from '../ledger/types.ts';
import type { Currency, Minor } from '../money/money.ts';
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
  type RequestType,
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
  readonly answerMs: number | null;
  /** Link this caller number to the card, so later calls from it need no PIN. */
  readonly linkAni: string | null;
  readonly policy: GrantPolicy;
}

export interface ReportPayload {
  readonly caller: Caller;
  readonly sessionId: string;
  readonly requestNumber: number;
  readonly fingerprint: string;
  readonly usedSeconds: number;
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
}

export type InitiateRefusal =
  | 'insufficient_balance'
  | 'unknown_account'
  | 'account_frozen'
  | 'session_exists';
export type ReportRefusal =
  | 'session_not_found'
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
    systemKeys(['post', 'void', 'charge', 'hold'].map((step) => holdKey(session, n, step))),
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
  return {
    sessionId: session.sessionId,
    requestType,
    requestNumber,
    grantedSeconds: live ? session.grantedSeconds : 0,
    finalUnit: live ? session.finalUnit : true,
    validUntilMs: live ? nowMs + session.grantedSeconds * 1000 : null,
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
  const settled = settleUsage({
    rate,
    startMs: session.startMs,
    usedSeconds: session.usedSeconds,
    chargedMinor: session.chargedMinor,
    grantedSeconds: session.grantedSeconds,
    reportedSeconds,
  });
  const charged = settleHold(ledger, session, requestNumber, settled.dueMinor, nowMs);
  const ended: ChargingSession = {
    ...session,
    status: 'terminated',
    usedSeconds: settled.usedSeconds,
    chargedMinor: session.chargedMinor + charged,
    grantedSeconds: 0,
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
  | { kind: 'go'; session: ChargingSession }
> {
  const found = await context.stores.charging.findSessionRequest(
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
  if (session.status !== 'active') {
    return { kind: 'answer', result: chargingRefusal('session_closed') };
  }
  if (p.requestNumber <= session.lastRequestNumber) {
    return { kind: 'answer', result: chargingRefusal('request_out_of_order') };
  }
  return { kind: 'go', session };
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
      const grant = nextGrant({
        rate,
        startMs: nowMs,
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
        status: 'active',
        startMs: nowMs,
        answerMs: p.answerMs,
        endMs: null,
        usedSeconds: 0,
        chargedMinor: 0n,
        grantedSeconds: grant.grantedSeconds,
        holdId: held.value,
        holdMinor: grant.holdMinor,
        finalUnit: grant.finalUnit,
        lastRequestNumber: p.requestNumber,
        deadlineMs: nowMs + (grant.grantedSeconds + policy.graceSeconds) * 1000,
        callbackUrl: p.callbackUrl,
        reason: null,
      };
      const answer = answerOf(session, 'initial', p.requestNumber, nowMs, null);
      await stores.charging.insertSession(session);
      await stores.charging.insertRequest({
        sessionPk,
        requestNumber: p.requestNumber,
        requestType: 'initial',
        fingerprint: p.fingerprint,
        answer,
        createdAtMs: nowMs,
      });
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
      const { session } = opened;
      const { stores, ledger, nowMs } = context;
      if (nowMs > session.deadlineMs) return chargingRefusal('session_expired');
      await loadSessionMoney(ledger, session, p.requestNumber);
      const rate = contextOfSnapshot(session.rateSnapshot);
      const settled = settleUsage({
        rate,
        startMs: session.startMs,
        usedSeconds: session.usedSeconds,
        chargedMinor: session.chargedMinor,
        grantedSeconds: session.grantedSeconds,
        reportedSeconds: p.usedSeconds,
      });
      const chargedMinor =
        session.chargedMinor +
        settleHold(ledger, session, p.requestNumber, settled.dueMinor, nowMs);
      const account = ledger.account(session.accountId);
      const usable = account !== null && account.status === 'open';
      let grant = nextGrant({
        rate,
        startMs: session.startMs,
        usedSeconds: settled.usedSeconds,
        chargedMinor,
        availableMinor: usable ? balanceOf(account).availableMinor : 0n,
        policy: p.policy,
      });
      const key = holdKey(session, p.requestNumber, 'hold');
      let held = reserve(
        ledger,
        session,
        key,
        grant.holdMinor,
        grant.grantedSeconds,
        p.policy,
        nowMs,
      );
      if (!held.ok || !usable) {
        grant = { grantedSeconds: 0, holdMinor: 0n, finalUnit: true, remainingSeconds: 0 };
        held = ok(null);
      }
      const next: ChargingSession = {
        ...session,
        usedSeconds: settled.usedSeconds,
        chargedMinor,
        grantedSeconds: grant.grantedSeconds,
        holdId: held.value,
        holdMinor: grant.holdMinor,
        finalUnit: grant.finalUnit,
        lastRequestNumber: p.requestNumber,
        deadlineMs: nowMs + (grant.grantedSeconds + p.policy.graceSeconds) * 1000,
      };
      const answer = answerOf(next, 'update', p.requestNumber, nowMs, null);
      await stores.charging.saveSession(next);
      await stores.charging.insertRequest({
        sessionPk: session.id,
        requestNumber: p.requestNumber,
        requestType: 'update',
        fingerprint: p.fingerprint,
        answer,
        createdAtMs: nowMs,
      });
      await watchThreshold(context, session.accountId);
      return ok(answer);
    },
  }),

  'charging.terminate': defineCommand<TerminatePayload, Result<CreditAnswer, ReportRefusal>>({
    needs: hintedNeeds,
    async run(context, p) {
      const opened = await openReport(context, p);
      if (opened.kind === 'answer') return opened.result;
      const { stores, ledger, nowMs } = context;
      await loadSessionMoney(ledger, opened.session, p.requestNumber);
      const { session, cdr } = await finish(
        context,
        opened.session,
        p.requestNumber,
        p.usedSeconds,
        p.reason,
      );
      const answer = answerOf(session, 'terminate', p.requestNumber, nowMs, cdr.id);
      await stores.charging.insertRequest({
        sessionPk: session.id,
        requestNumber: p.requestNumber,
        requestType: 'terminate',
        fingerprint: p.fingerprint,
        answer,
        createdAtMs: nowMs,
      });
      return ok(answer);
    },
  }),

  /**
   * Ends a session whose grant ran out with no word from the switch. Policy: the whole grant is
   * charged (the switch was allowed to use it and has not said otherwise), the rest of the money
   * is released, the CDR says `supervision_timeout`, and the switch is told to disconnect. The
   * session row is locked and re-checked, so of two processes only one ever acts.
   */
  'charging.supervise': defineCommand<{ sessionPk: string }, string | null>({
    async run(context, { sessionPk }) {
      const { stores, ledger, nowMs } = context;
      const session = await stores.charging.lockSession(sessionPk);
      if (session?.status !== 'active' || session.deadlineMs > nowMs) return null;
      const requestNumber = session.lastRequestNumber + 1;
      await loadSessionMoney(ledger, session, requestNumber);
      const { session: ended, cdr } = await finish(
        context,
        session,
        requestNumber,
        session.grantedSeconds,
        supervisionReason,
      );
      if (session.callbackUrl !== null) {
        await stores.charging.insertOutbox(
          outboxEvent(session.callbackUrl, 'charging.disconnect', nowMs, {
            session_id: ended.sessionId,
            reason: supervisionReason,
            cdr_id: cdr.id,
            billed_seconds: ended.usedSeconds,
            cost: ended.chargedMinor.toString(),
            currency: ended.currency,
          }),
        );
      }
      return cdr.id;
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
