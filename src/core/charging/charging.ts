// The charging engine's use cases, in RFC 4006 terms: authorize, initiate, update, terminate;
// the supervisor that ends sessions the switch forgot; CDRs, account reports and low-balance
// thresholds. Subscribers and routes are resolved here, on the caller's thread, from the
// in-memory tariff catalog; the money moves in write commands (charging-commands.ts).

import type { LedgerReadStore } from '../ledger/ledger-store.ts';
import { type Account, balanceOf } from '../ledger/types.ts';
import type { Currency, Minor } from '../money/money.ts';
import { allowance } from '../rating/cost.ts';
import type { RateContext } from '../rating/rate-context.ts';
import type { RateJson } from '../rating/rate-json.ts';
import { encodeRate } from '../rating/rate-json.ts';
import type { CallSubject } from '../rating/rating-plans.ts';
import type { RatingService } from '../rating/rating-service.ts';
import { assert } from '../shared/assert.ts';
import type { Clock } from '../shared/clock.ts';
import { firstIdAt } from '../shared/ids.ts';
import { type Caller, canSeeOwner } from '../shared/principal.ts';
import { ok, type Refusal, type Result, refuse } from '../shared/result.ts';
import { retryDelayMs } from '../shared/retry.ts';
import { callerNumberAccountId } from '../vouchers/voucher-accounts.ts';
import type { Vouchers } from '../vouchers/vouchers.ts';
import type { WriteCommitter } from '../write-commands.ts';
import {
  CallbackRefusedError,
  type CallbackRules,
  callbackUrlRefusal,
  isInternalCallbackUrl,
  type ServerEndpoint,
} from './callback-policy.ts';
import {
  chargingRefusal,
  type InitiateRefusal,
  type ReportRefusal,
  type RouteSnapshot,
  type SessionMoneyHint,
  sessionPkPrefix,
} from './charging-commands.ts';
import type {
  BalanceThreshold,
  Cdr,
  ChargingReadStore,
  ChargingSession,
  CreditAnswer,
  OutboxEvent,
  SessionStatus,
} from './charging-types.ts';
import { type GrantPolicy, grantPolicyDefaults } from './metering.ts';
import { snapshotOf } from './rate-snapshot.ts';

export interface ChargingSettings extends GrantPolicy {
  /** Link the caller number to a card at its first PIN call, so later calls need no PIN. */
  readonly autoLinkAni: boolean;
  /** Sessions the supervisor ends per sweep. */
  readonly supervisionBatchMax: number;
  /** Delivery attempts of an outbox event before it is marked failed. */
  readonly outboxAttemptsMax: number;
  /** Read a session's accounts and hold before an update, so batches lock them in one go. */
  readonly prefetchSessionMoney: boolean;
  /**
   * The hosts that disconnect callbacks and low-balance webhooks may name, lower case: `host`
   * (any port) or `host:port`; `*` for any host. Empty: loopback only. A URL given by a switch
   * is a request the server makes on its behalf, so the default calls nothing beyond this
   * machine, and an operator opens it to the switches' own addresses. Link-local and metadata
   * addresses and the server's own port are refused whatever it says (callback-policy.ts).
   */
  readonly callbackHosts: readonly string[];
  /**
   * Days a session's request records (the answers kept for replays) outlive its end. Replays
   * come within seconds; afterwards a repeated request gets `session_closed`, and the session,
   * its CDR and its ledger transfers stay for good.
   */
  readonly requestLogDays: number;
  /**
   * Request records one pruning command deletes. Small, because the command shares a group
   * commit with live traffic; a sweep sends commands until the backlog is gone.
   */
  readonly pruneBatchMax: number;
}

const dayMs = 86_400_000;

export const chargingSettingsDefaults: ChargingSettings = {
  ...grantPolicyDefaults,
  autoLinkAni: false,
  supervisionBatchMax: 500,
  outboxAttemptsMax: 10,
  prefetchSessionMoney: false,
  callbackHosts: [],
  requestLogDays: 7,
  pruneBatchMax: 500,
};

/** A switch's report of a call's use: see `Charging.update`. */
export interface UsageReport {
  readonly sessionId: string;
  readonly requestNumber?: number | undefined;
  readonly usedSeconds?: number | undefined;
  readonly usedSecondsTotal?: number | undefined;
  /** The answer time of a call initiated ringing. */
  readonly answeredAtMs?: number | undefined;
  /** True: a call initiated ringing was answered now (when `answeredAtMs` is not given). */
  readonly answered?: boolean | undefined;
}

/** Who pays: a calling card by its PIN (seed 002) or a caller-number balance (seed 001). */
export type SubscriberRef = { readonly pin: string } | { readonly ani: string };

export interface CallRequest {
  readonly subscriber: SubscriberRef;
  /** The calling number (ANI), when the switch knows it. */
  readonly callerNumber?: string | undefined;
  /** The dialled number, with any carrier access code. */
  readonly calledNumber: string;
  /** Where the request came from, for the PIN lockout (an IP address, a trunk). */
  readonly source?: string | undefined;
  /** PIN calls: link the caller number to the card (default: the server's `autoLinkAni`). */
  readonly linkAni?: boolean | undefined;
}

export interface Authorization {
  readonly accountId: string;
  readonly subscriber: string;
  readonly currency: Currency;
  readonly availableMinor: Minor;
  readonly carrierId: string;
  readonly prefix: string;
  readonly destinationName: string;
  readonly rate: RateJson;
  /** The longest call the balance pays for now, at this rate. */
  readonly maxSeconds: number;
}

/** The reasons authorize gives for a call it would not connect. */
export const denialCodes = [
  'insufficient_balance',
  'unknown_account',
  'account_frozen',
  'destination_not_allowed',
  'no_route',
] as const;

type ResolveRefusal =
  | 'unknown_account'
  | 'account_frozen'
  | 'pin_malformed'
  | 'redeem_locked'
  | 'number_malformed'
  | 'no_route'
  | 'destination_not_allowed'
  | 'routing_plan_missing';

interface Resolved {
  readonly accountId: string;
  readonly subscriber: string;
  readonly currency: Currency;
  readonly availableMinor: Minor;
  readonly route: RouteSnapshot;
  /** The route's pricing context, for authorize's answer. */
  readonly rate: RateContext;
  readonly linkAni: string | null;
}

export interface AccountReport {
  readonly accountId: string;
  readonly subscriber: string;
  readonly currency: Currency;
  readonly postedMinor: Minor;
  readonly availableMinor: Minor;
  readonly heldMinor: Minor;
  /** When a destination was asked for: where it routes and the minutes the balance buys. */
  readonly destination: {
    readonly calledNumber: string;
    readonly carrierId: string;
    readonly destinationName: string;
    readonly maxSeconds: number;
  } | null;
  readonly activeCalls: number;
  readonly recentCalls: readonly Cdr[];
  /** Credits to the balance: top-ups, redemptions, purchases, refunds; newest first. */
  readonly recentCredits: ReadonlyArray<{
    readonly transferId: string;
    readonly amountMinor: Minor;
    readonly atMs: number;
    readonly memo: string | null;
  }>;
}

const reportItemsMax = 10;

export class Charging {
  private readonly committer: WriteCommitter;
  private readonly reads: ChargingReadStore;
  private readonly ledgerReads: LedgerReadStore;
  private readonly rating: RatingService;
  private readonly vouchers: Vouchers;
  private readonly clock: Clock;
  readonly settings: ChargingSettings;
  private serverEndpoint: ServerEndpoint | null = null;

  constructor(deps: {
    committer: WriteCommitter;
    reads: ChargingReadStore;
    ledgerReads: LedgerReadStore;
    rating: RatingService;
    vouchers: Vouchers;
    clock: Clock;
    settings?: Partial<ChargingSettings> | undefined;
  }) {
    this.committer = deps.committer;
    this.reads = deps.reads;
    this.ledgerReads = deps.ledgerReads;
    this.rating = deps.rating;
    this.vouchers = deps.vouchers;
    this.clock = deps.clock;
    this.settings = { ...chargingSettingsDefaults, ...deps.settings };
  }

  /** Tells the engine where the server listens, so that no callback is sent back to it. */
  serverListening(endpoint: ServerEndpoint): void {
    this.serverEndpoint = endpoint;
  }

  /** The callback rules in force now, for the event senders that check resolved addresses. */
  callbackRules(): CallbackRules {
    return { hosts: this.settings.callbackHosts, server: this.serverEndpoint };
  }

  private get policy(): GrantPolicy {
    const { sliceSeconds, graceSeconds, callSecondsMax, minimumBalanceMinor, ringSecondsMax } =
      this.settings;
    return { sliceSeconds, graceSeconds, callSecondsMax, minimumBalanceMinor, ringSecondsMax };
  }

  /** May this subscriber call this number now, through which carrier, at what rate, how long. */
  async authorize(
    caller: Caller,
    request: CallRequest,
  ): Promise<Result<Authorization, ResolveRefusal | 'insufficient_balance'>> {
    const resolved = await this.resolve(caller, request);
    if (!resolved.ok) return resolved;
    const r = resolved.value;
    const maxSeconds = this.maxSeconds(r.rate, this.clock.nowMs(), r.availableMinor);
    if (maxSeconds === 0) {
      return chargingRefusal('insufficient_balance');
    }
    return ok({
      accountId: r.accountId,
      subscriber: r.subscriber,
      currency: r.currency,
      availableMinor: r.availableMinor,
      carrierId: r.route.carrierId,
      prefix: r.route.prefix,
      destinationName: r.route.destinationName,
      rate: encodeRate(r.rate.rate),
      maxSeconds,
    });
  }

  /** Authorizes the call and reserves its first grant. Repeating it returns the first answer. */
  async initiate(
    caller: Caller,
    request: CallRequest & {
      readonly sessionId: string;
      readonly requestNumber?: number | undefined;
      readonly callbackUrl?: string | undefined;
      readonly answeredAtMs?: number | undefined;
      /**
       * False: the call is still ringing (initiate at the INVITE). The grant and supervision
       * then count from the answer an update or terminate reports, and ringing is never billed.
       * Default true: the call is answered now (or at `answeredAtMs`).
       */
      readonly answered?: boolean | undefined;
      /**
       * Set only by the server's own switch adapters (the Kamailio agent), never from a
       * client's request: the callback URL may then name an internal disconnect channel
       * (`kamailio:`) instead of an http(s) URL.
       */
      readonly callbackFromAdapter?: boolean | undefined;
    },
  ): Promise<
    Result<
      CreditAnswer & { readonly replayed: boolean },
      ResolveRefusal | InitiateRefusal | CallbackUrlRefusal
    >
  > {
    const refusedUrl =
      request.callbackUrl === undefined
        ? null
        : request.callbackFromAdapter && isInternalCallbackUrl(request.callbackUrl)
          ? null
          : this.refuseCallbackUrl(request.callbackUrl);
    if (refusedUrl) return refusedUrl;
    const requestNumber = request.requestNumber ?? 0;
    const fingerprint = JSON.stringify([
      'initial',
      subscriberKey(request.subscriber),
      request.callerNumber ?? null,
      request.calledNumber,
      request.callbackUrl ?? null,
      request.answered ?? true,
    ]);
    // The payload written out in full each time: `{ ...common, more }` is slow on V8 (see
    // ledger-batch.ts).
    const submit = (
      accountId: string,
      subscriber: string,
      route: RouteSnapshot,
      linkAni: string | null,
    ) =>
      this.committer.submit('charging.initiate', {
        caller,
        sessionId: request.sessionId,
        requestNumber,
        fingerprint,
        accountId,
        subscriber,
        callerNumber: request.callerNumber ?? null,
        calledNumber: request.calledNumber,
        route,
        callbackUrl: request.callbackUrl ?? null,
        answerMs: request.answeredAtMs ?? null,
        ringing: request.answered === false,
        linkAni,
        policy: this.policy,
      });
    const resolved = await this.resolve(caller, request);
    if (!resolved.ok) {
      // A repeat of an initiate that was answered still gets its first answer, even when the
      // subscriber would now be refused (frozen since, or a card that call used up).
      const existing = await this.reads.findSession(caller.principal.id, request.sessionId);
      if (!existing) return resolved;
      const route = {
        carrierId: existing.carrierId,
        prefix: existing.prefix,
        destinationName: existing.destinationName,
        currency: existing.currency,
        rateSnapshot: existing.rateSnapshot,
        ratingPlanId: existing.ratingPlanId,
        ratingPlanSource: existing.ratingPlanSource,
      };
      return submit(existing.accountId, existing.subscriber, route, null);
    }
    const r = resolved.value;
    return submit(r.accountId, r.subscriber, r.route, r.linkAni);
  }

  /**
   * Reports use of a call: the seconds used of the last grant (`usedSeconds`, with its request
   * number) or the seconds talked in all (`usedSecondsTotal`, request number optional), and the
   * answer time when the call was initiated ringing. Charges what was used and grants the next
   * slice.
   */
  async update(caller: Caller, request: UsageReport): Promise<Result<CreditAnswer, ReportRefusal>> {
    return this.committer.submit('charging.update', {
      caller,
      hint: await this.moneyHint(caller, request.sessionId),
      sessionId: request.sessionId,
      requestNumber: request.requestNumber ?? null,
      fingerprint: JSON.stringify([
        'update',
        request.usedSeconds ?? 0,
        request.usedSecondsTotal ?? null,
        request.answeredAtMs ?? request.answered ?? null,
      ]),
      usedSeconds: request.usedSeconds ?? 0,
      usedSecondsTotal: request.usedSecondsTotal ?? null,
      answerMs: this.answerOfReport(request),
      policy: this.policy,
    });
  }

  /**
   * Ends the call: charges the seconds used, releases the rest, writes the CDR. For a call the
   * server already ended on its own, reconciles that charge to the report, once.
   */
  async terminate(
    caller: Caller,
    request: UsageReport & { readonly reason?: string | undefined },
  ): Promise<Result<CreditAnswer, ReportRefusal>> {
    const reason = request.reason ?? 'normal';
    return this.committer.submit('charging.terminate', {
      caller,
      hint: await this.moneyHint(caller, request.sessionId),
      sessionId: request.sessionId,
      requestNumber: request.requestNumber ?? null,
      fingerprint: JSON.stringify([
        'terminate',
        request.usedSeconds ?? 0,
        request.usedSecondsTotal ?? null,
        request.answeredAtMs ?? request.answered ?? null,
        reason,
      ]),
      usedSeconds: request.usedSeconds ?? 0,
      usedSecondsTotal: request.usedSecondsTotal ?? null,
      answerMs: this.answerOfReport(request),
      reason,
      reconcileWithinMs: this.settings.requestLogDays * dayMs,
      policy: this.policy,
    });
  }

  /**
   * An operator ends a live call (`session` is our `ses_…` key or, for its own switch, the
   * switch's session id): the seconds talked so far are charged and the switch is told to
   * disconnect through the session's channel.
   */
  async disconnect(
    caller: Caller,
    session: string,
  ): Promise<
    Result<
      { cdrId: string; usedSeconds: number; chargedMinor: Minor },
      'session_not_found' | 'session_closed'
    >
  > {
    const found = await this.session(caller, session);
    if (!found) return chargingRefusal('session_not_found');
    return this.committer.submit('charging.disconnect', {
      sessionPk: found.id,
      policy: this.policy,
    });
  }

  private answerOfReport(request: UsageReport): number | null {
    if (request.answeredAtMs !== undefined) return request.answeredAtMs;
    return request.answered ? this.clock.nowMs() : null;
  }

  /**
   * On PostgreSQL, where every statement is a round trip, the session's accounts and hold as
   * they are now, so the batch can lock them all at once; on SQLite the writer reads them in
   * microseconds and the hint would only cost the HTTP thread a read.
   */
  private async moneyHint(caller: Caller, sessionId: string): Promise<SessionMoneyHint | null> {
    if (!this.settings.prefetchSessionMoney) return null;
    const session = await this.reads.findSession(caller.principal.id, sessionId);
    if (session?.status !== 'active') return null;
    return {
      accountId: session.accountId,
      revenueAccountId: session.revenueAccountId,
      holdId: session.holdId,
    };
  }

  /**
   * Ends every session whose grant ran out (plus grace) with no word from its switch. The server
   * runs this on a timer; deadlines are in the database, so it survives a restart, and each
   * session is re-checked under its row lock, so two processes never both end one.
   */
  async superviseDue(): Promise<number> {
    const ids = await this.reads.dueSessions(this.clock.nowMs(), this.settings.supervisionBatchMax);
    const ended = await Promise.all(
      ids.map((sessionPk) => this.committer.submit('charging.supervise', { sessionPk })),
    );
    return ended.filter((cdrId) => cdrId !== null).length;
  }

  /**
   * Deletes the request records of sessions that ended and started more than `requestLogDays`
   * ago, `pruneBatchMax` at a time until none is left; returns how many. A session cannot stay
   * active that long (supervision ends it), so this never touches a call in progress.
   */
  async pruneRequestLog(): Promise<number> {
    const beforeSessionPk = firstIdAt(
      sessionPkPrefix,
      this.clock.nowMs() - this.settings.requestLogDays * dayMs,
    );
    const limit = this.settings.pruneBatchMax;
    let total = 0;
    for (;;) {
      const deleted = await this.committer.submit('charging.pruneRequests', {
        beforeSessionPk,
        limit,
      });
      total += deleted;
      if (deleted < limit) return total;
    }
  }

  // --- reads -----------------------------------------------------------------------------

  async session(caller: Caller, sessionId: string): Promise<ChargingSession | null> {
    const session =
      (await this.reads.findSession(caller.principal.id, sessionId)) ??
      (isOperator(caller) ? await this.reads.getSession(sessionId) : null);
    return session;
  }

  listSessions(
    caller: Caller,
    query: { status?: SessionStatus; accountId?: string; cursor?: string; limit: number },
  ): Promise<ChargingSession[]> {
    return this.reads.listSessions({
      status: query.status,
      accountId: query.accountId,
      afterId: query.cursor,
      principalId: isOperator(caller) ? undefined : caller.principal.id,
      limit: query.limit,
    });
  }

  async cdr(caller: Caller, id: string): Promise<Cdr | null> {
    const cdr = await this.reads.getCdr(id);
    if (!cdr || !(isOperator(caller) || cdr.principalId === caller.principal.id)) return null;
    return cdr;
  }

  listCdrs(
    caller: Caller,
    query: { accountId?: string; fromMs?: number; toMs?: number; cursor?: string; limit: number },
  ): Promise<Cdr[]> {
    return this.reads.listCdrs({
      accountId: query.accountId,
      fromMs: query.fromMs,
      toMs: query.toMs,
      afterId: query.cursor,
      principalId: isOperator(caller) ? undefined : caller.principal.id,
      limit: query.limit,
    });
  }

  /**
   * What a calling-card holder hears on request (seed 000): balance, minutes left to a number,
   * recent calls, recent top-ups and purchases.
   */
  async report(
    caller: Caller,
    request: { subscriber: SubscriberRef; calledNumber?: string; source?: string },
  ): Promise<Result<AccountReport, ResolveRefusal>> {
    const found = await this.findSubscriber(caller, request.subscriber, request.source);
    if (!found.ok) return found;
    const { account, subscriber } = found.value;
    const accountId = account.id;
    const balance = balanceOf(account);
    let destination: AccountReport['destination'] = null;
    if (request.calledNumber !== undefined) {
      const nowMs = this.clock.nowMs();
      const routed = this.rating.route({
        number: request.calledNumber,
        currency: account.currency,
        startMs: nowMs,
        subject: await this.callSubject(accountId, subscriber),
      });
      if (!routed.ok) return routeRefusal(routed);
      destination = {
        calledNumber: request.calledNumber,
        carrierId: routed.value.carrierId,
        destinationName: routed.value.destinationName,
        maxSeconds: this.maxSeconds(routed.value.rate, nowMs, balance.availableMinor),
      };
    }
    const [recentCalls, history, active] = await Promise.all([
      this.reads.listCdrs({ accountId, newestFirst: true, limit: reportItemsMax }),
      this.ledgerReads.accountHistory({ accountId, limit: 50 }),
      this.reads.listSessions({ accountId, status: 'active', limit: 100 }),
    ]);
    const recentCredits = history.entries
      .filter((entry) => entry.side === 'credit' && entry.transfer.kind !== 'hold')
      .filter((entry) => entry.transfer.kind !== 'void' && entry.transfer.kind !== 'expire')
      .slice(0, reportItemsMax)
      .map((entry) => ({
        transferId: entry.transfer.id,
        amountMinor: entry.transfer.amountMinor,
        atMs: entry.transfer.createdAtMs,
        memo: entry.transfer.memo,
      }));
    return ok({
      accountId,
      subscriber,
      currency: account.currency,
      postedMinor: balance.postedMinor,
      availableMinor: balance.availableMinor,
      heldMinor: balance.heldMinor,
      destination,
      activeCalls: active.length,
      recentCalls,
      recentCredits,
    });
  }

  // --- low-balance thresholds ------------------------------------------------------------

  /**
   * Why a callback or webhook URL is refused, or null when the server may call it. Judged
   * without DNS; the sender checks the addresses the name resolves to when it sends.
   */
  private refuseCallbackUrl(text: string): Refusal<CallbackUrlRefusal> | null {
    const url = parseHttpUrl(text);
    if (url === null) return chargingRefusal('callback_url_invalid');
    const refused = callbackUrlRefusal(url, this.callbackRules());
    return refused ? refuse('callback_url_not_allowed', refused.message) : null;
  }

  async setThreshold(
    caller: Caller,
    input: { accountId: string; thresholdMinor: Minor; url: string },
  ): Promise<Result<BalanceThreshold, 'account_not_found' | CallbackUrlRefusal>> {
    const refusedUrl = this.refuseCallbackUrl(input.url);
    if (refusedUrl) return refusedUrl;
    const account = await this.ledgerReads.getAccount(input.accountId);
    if (!account || !canSeeOwner(caller, account.ownerId)) {
      return refuse('account_not_found', 'The account does not exist or is not visible to you.');
    }
    return ok(await this.saveThreshold(caller, account, input));
  }

  /**
   * A subscriber sets its own threshold through its switch or IVR: the account is found by PIN
   * (under the redemption lockout) or caller number, as for a call.
   */
  async setSubscriberThreshold(
    caller: Caller,
    input: { subscriber: SubscriberRef; thresholdMinor: Minor; url: string; source?: string },
  ): Promise<
    Result<
      BalanceThreshold,
      CallbackUrlRefusal | 'unknown_account' | 'pin_malformed' | 'redeem_locked'
    >
  > {
    const refusedUrl = this.refuseCallbackUrl(input.url);
    if (refusedUrl) return refusedUrl;
    const found = await this.findSubscriber(caller, input.subscriber, input.source);
    if (!found.ok) return found;
    return ok(await this.saveThreshold(caller, found.value.account, input));
  }

  private async saveThreshold(
    caller: Caller,
    account: Account,
    input: { thresholdMinor: Minor; url: string },
  ): Promise<BalanceThreshold> {
    const threshold: BalanceThreshold = {
      accountId: account.id,
      thresholdMinor: input.thresholdMinor,
      url: input.url,
      armed: balanceOf(account).postedMinor >= input.thresholdMinor,
      createdBy: caller.principal.id,
      updatedAtMs: this.clock.nowMs(),
    };
    await this.committer.submit('charging.setThreshold', { threshold });
    return threshold;
  }

  async getThreshold(
    caller: Caller,
    accountId: string,
  ): Promise<Result<BalanceThreshold, 'threshold_not_found'>> {
    const threshold = await this.reads.getThreshold(accountId);
    const account = threshold ? await this.ledgerReads.getAccount(accountId) : null;
    if (!threshold || !account || !canSeeOwner(caller, account.ownerId)) {
      return chargingRefusal('threshold_not_found');
    }
    return ok(threshold);
  }

  async deleteThreshold(
    caller: Caller,
    accountId: string,
  ): Promise<Result<null, 'threshold_not_found'>> {
    const found = await this.getThreshold(caller, accountId);
    if (!found.ok) return found;
    await this.committer.submit('charging.deleteThreshold', { accountId });
    return ok(null);
  }

  // --- the outbox ------------------------------------------------------------------------

  /**
   * Sends due outbox events (disconnect callbacks, low-balance webhooks) through `send`, each
   * claimed first so two processes never send one event at once. A failed send is retried
   * with exponential backoff, up to `outboxAttemptsMax` attempts; a refused one (the URL here,
   * or a `CallbackRefusedError` from `send`, which checks the resolved addresses) fails at once.
   */
  async deliverOutbox(
    send: (event: OutboxEvent) => Promise<void>,
    options: { leaseMs?: number; limit?: number } = {},
  ): Promise<number> {
    const nowMs = this.clock.nowMs();
    const leaseMs = options.leaseMs ?? 30_000;
    const due = await this.reads.dueOutbox(nowMs, options.limit ?? 100);
    let delivered = 0;
    await Promise.all(
      due.map(async (event) => {
        const claimed = await this.committer.submit('outbox.claim', {
          id: event.id,
          expectedNextAttemptMs: event.nextAttemptMs,
          leaseUntilMs: nowMs + leaseMs,
        });
        if (!claimed) return;
        const attempts = event.attempts + 1;
        try {
          // Checked again at sending: the event may predate a narrower TOLLGATE_CALLBACK_HOSTS.
          const refused = callbackUrlRefusal(new URL(event.url), this.callbackRules());
          if (refused) throw new CallbackRefusedError(refused.message);
          await send(event);
          delivered += 1;
          await this.committer.submit('outbox.settle', {
            id: event.id,
            change: { status: 'delivered', attempts, nextAttemptMs: nowMs, lastError: null },
          });
        } catch (error) {
          const failed =
            attempts >= this.settings.outboxAttemptsMax || error instanceof CallbackRefusedError;
          await this.committer.submit('outbox.settle', {
            id: event.id,
            change: {
              status: failed ? 'failed' : 'pending',
              attempts,
              nextAttemptMs: this.clock.nowMs() + retryDelayMs(attempts),
              lastError: error instanceof Error ? error.message.slice(0, 500) : 'send failed',
            },
          });
        }
      }),
    );
    return delivered;
  }

  listOutbox(query: { topic?: string; limit: number }): Promise<OutboxEvent[]> {
    return this.reads.listOutbox(query);
  }

  // --- resolution ------------------------------------------------------------------------

  private async findSubscriber(
    caller: Caller,
    ref: SubscriberRef,
    source: string | undefined,
    callerNumber?: string,
  ): Promise<
    Result<
      { account: Account; subscriber: string; card: boolean },
      'unknown_account' | 'pin_malformed' | 'redeem_locked'
    >
  > {
    let found: { accountId: string; subscriber: string; card: boolean } | undefined;
    if ('pin' in ref) {
      const card = await this.vouchers.resolveCard(caller, {
        pin: ref.pin,
        ani: callerNumber,
        source,
      });
      if (!card.ok) {
        if (card.code === 'pin_malformed' || card.code === 'redeem_locked') {
          return refuse(card.code, card.message);
        }
        return chargingRefusal('unknown_account');
      }
      found = {
        accountId: card.value.accountId,
        subscriber: `card:${card.value.serial}`,
        card: true,
      };
    } else {
      const link = await this.reads.getAniLink(ref.ani);
      if (link) found = { accountId: link.accountId, subscriber: link.subscriber, card: false };
    }
    if (found) {
      const account = await this.ledgerReads.getAccount(found.accountId);
      if (!account) return chargingRefusal('unknown_account');
      return ok({ account, subscriber: found.subscriber, card: found.card });
    }
    const ani = (ref as { ani: string }).ani;
    for (const currency of this.rating.planCurrencies()) {
      const account = await this.ledgerReads.getAccount(callerNumberAccountId(ani, currency));
      if (account) return ok({ account, subscriber: `ani:${ani}`, card: false });
    }
    return chargingRefusal('unknown_account');
  }

  private async resolve(
    caller: Caller,
    request: CallRequest,
  ): Promise<Result<Resolved, ResolveRefusal>> {
    const found = await this.findSubscriber(
      caller,
      request.subscriber,
      request.source,
      request.callerNumber,
    );
    if (!found.ok) return found;
    const { account } = found.value;
    if (account.status === 'closed') return chargingRefusal('unknown_account');
    if (account.status === 'frozen') {
      return refuse('account_frozen', 'The subscriber account is frozen.');
    }
    const nowMs = this.clock.nowMs();
    const routed = this.rating.route({
      number: request.calledNumber,
      currency: account.currency,
      startMs: nowMs,
      subject: await this.callSubject(account.id, found.value.subscriber),
    });
    if (!routed.ok) return routeRefusal(routed);
    const route = routed.value;
    // Only a quote names its plan; a call's plan is always chosen for its subscriber.
    assert(route.ratingPlanSource !== 'requested', 'a call is rated by a chosen plan');
    const availableMinor = balanceOf(account).availableMinor;
    const wantsLink =
      found.value.card &&
      (request.linkAni ?? this.settings.autoLinkAni) &&
      request.callerNumber !== undefined;
    return ok({
      accountId: account.id,
      subscriber: found.value.subscriber,
      currency: account.currency,
      availableMinor,
      route: {
        carrierId: route.carrierId,
        prefix: route.prefix,
        destinationName: route.destinationName,
        currency: account.currency,
        rateSnapshot: snapshotOf(route.rate, route.carrierId, route.tariff.version.effectiveFromMs),
        ratingPlanId: route.ratingPlanId,
        ratingPlanSource: route.ratingPlanSource,
      },
      rate: route.rate,
      linkAni: wantsLink ? (request.callerNumber ?? null) : null,
    });
  }

  /**
   * Who the call is for, as rating-plan selection sees it: the account, and for a calling card
   * its product, the product's carrier (when rating knows it) and the card's sellers. A card's
   * origin is read once per process and kept (vouchers/card-origin.ts).
   */
  private async callSubject(accountId: string, subscriber: string): Promise<CallSubject> {
    const origin = subscriber.startsWith(cardSubjectPrefix)
      ? await this.vouchers.cardOrigin(subscriber.slice(cardSubjectPrefix.length))
      : null;
    const carrierId = origin?.carrierId ?? null;
    return {
      accountId,
      productId: origin?.productId ?? null,
      productCarrierId: carrierId !== null && this.rating.isCarrier(carrierId) ? carrierId : null,
      retailerId: origin?.retailerId ?? null,
      distributorId: origin?.distributorId ?? null,
    };
  }

  /**
   * A subscriber as rating sees it, for a quote by subscriber: the currency of its balance, what
   * is available, and the subject that picks its rating plan. A PIN is looked up as for a call
   * (under the redemption lockout).
   */
  async ratingSubject(
    caller: Caller,
    request: { subscriber: SubscriberRef; source?: string | undefined },
  ): Promise<
    Result<
      { currency: Currency; availableMinor: Minor; subject: CallSubject },
      'unknown_account' | 'pin_malformed' | 'redeem_locked'
    >
  > {
    const found = await this.findSubscriber(caller, request.subscriber, request.source);
    if (!found.ok) return found;
    const { account, subscriber } = found.value;
    return ok({
      currency: account.currency,
      availableMinor: balanceOf(account).availableMinor,
      subject: await this.callSubject(account.id, subscriber),
    });
  }

  private maxSeconds(rate: RateContext, nowMs: number, availableMinor: Minor): number {
    if (availableMinor < this.settings.minimumBalanceMinor) return 0;
    return allowance(rate, nowMs, availableMinor, {
      durationSecondsMax: this.settings.callSecondsMax,
    });
  }
}

/** Sessions and CDRs name a calling card `card:<serial>`. */
const cardSubjectPrefix = 'card:';

function routeRefusal(refusal: { code: string; message: string }) {
  // A currency without a routing plan has no route for any number.
  const code =
    refusal.code === 'destination_not_allowed' || refusal.code === 'number_malformed'
      ? refusal.code
      : 'no_route';
  return refuse(code, refusal.message);
}

function isOperator(caller: Caller): boolean {
  return caller.principal.kind === 'operator';
}

function subscriberKey(ref: SubscriberRef): string {
  // The fingerprint never holds a PIN, only whether one was used.
  return 'pin' in ref ? 'pin' : `ani:${ref.ani}`;
}

type CallbackUrlRefusal = 'callback_url_invalid' | 'callback_url_not_allowed';

function parseHttpUrl(text: string): URL | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}
