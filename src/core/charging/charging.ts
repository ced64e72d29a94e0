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
import type { RatingService } from '../rating/rating-service.ts';
import type { Clock } from '../shared/clock.ts';
import { firstIdAt } from '../shared/ids.ts';
import { type Caller, canSeeOwner } from '../shared/principal.ts';
import { ok, type Refusal, type Result, refuse } from '../shared/result.ts';
import { retryDelayMs } from '../shared/retry.ts';
import { callerNumberAccountId } from '../vouchers/voucher-accounts.ts';
import type { Vouchers } from '../vouchers/vouchers.ts';
import type { WriteCommitter } from '../write-commands.ts';
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
import { chargingRefusals } from './codes.ts';
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
   * (any port) or `host:port`. Null lets any host through. A URL given by a switch is a request
   * the server makes on its behalf, so an operator who does not trust every switch key closes
   * this to the switches' own addresses.
   */
  readonly callbackHosts: readonly string[] | null;
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
  callbackHosts: null,
  requestLogDays: 7,
  pruneBatchMax: 500,
};

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

  private get policy(): GrantPolicy {
    const { sliceSeconds, graceSeconds, callSecondsMax, minimumBalanceMinor } = this.settings;
    return { sliceSeconds, graceSeconds, callSecondsMax, minimumBalanceMinor };
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
    },
  ): Promise<
    Result<
      CreditAnswer & { readonly replayed: boolean },
      ResolveRefusal | InitiateRefusal | CallbackUrlRefusal
    >
  > {
    const refusedUrl =
      request.callbackUrl === undefined ? null : this.refuseCallbackUrl(request.callbackUrl);
    if (refusedUrl) return refusedUrl;
    const requestNumber = request.requestNumber ?? 0;
    const fingerprint = JSON.stringify([
      'initial',
      subscriberKey(request.subscriber),
      request.callerNumber ?? null,
      request.calledNumber,
      request.callbackUrl ?? null,
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
      };
      return submit(existing.accountId, existing.subscriber, route, null);
    }
    const r = resolved.value;
    return submit(r.accountId, r.subscriber, r.route, r.linkAni);
  }

  /** Reports the seconds used of the last grant; charges them and grants the next slice. */
  async update(
    caller: Caller,
    request: { sessionId: string; requestNumber: number; usedSeconds: number },
  ): Promise<Result<CreditAnswer, ReportRefusal>> {
    return this.committer.submit('charging.update', {
      caller,
      hint: await this.moneyHint(caller, request.sessionId),
      sessionId: request.sessionId,
      requestNumber: request.requestNumber,
      fingerprint: JSON.stringify(['update', request.usedSeconds]),
      usedSeconds: request.usedSeconds,
      policy: this.policy,
    });
  }

  /** Ends the call: charges the seconds used of the last grant, releases the rest, writes the CDR. */
  async terminate(
    caller: Caller,
    request: { sessionId: string; requestNumber: number; usedSeconds: number; reason?: string },
  ): Promise<Result<CreditAnswer, ReportRefusal>> {
    const reason = request.reason ?? 'normal';
    return this.committer.submit('charging.terminate', {
      caller,
      hint: await this.moneyHint(caller, request.sessionId),
      sessionId: request.sessionId,
      requestNumber: request.requestNumber,
      fingerprint: JSON.stringify(['terminate', request.usedSeconds, reason]),
      usedSeconds: request.usedSeconds,
      reason,
      policy: this.policy,
    });
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

  /** Why a callback or webhook URL is refused, or null when the server may call it. */
  private refuseCallbackUrl(text: string): Refusal<CallbackUrlRefusal> | null {
    const url = parseHttpUrl(text);
    if (url === null) return chargingRefusal('callback_url_invalid');
    if (!callbackHostAllowed(url, this.settings.callbackHosts)) {
      return chargingRefusal('callback_url_not_allowed');
    }
    return null;
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
   * with exponential backoff, up to `outboxAttemptsMax` attempts.
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
          if (!callbackHostAllowed(new URL(event.url), this.settings.callbackHosts)) {
            throw new CallbackRefusedError(chargingRefusals.callback_url_not_allowed);
          }
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
    });
    if (!routed.ok) return routeRefusal(routed);
    const route = routed.value;
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
      },
      rate: route.rate,
      linkAni: wantsLink ? (request.callerNumber ?? null) : null,
    });
  }

  private maxSeconds(rate: RateContext, nowMs: number, availableMinor: Minor): number {
    if (availableMinor < this.settings.minimumBalanceMinor) return 0;
    return allowance(rate, nowMs, availableMinor, {
      durationSecondsMax: this.settings.callSecondsMax,
    });
  }
}

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

/** A send the server refuses to make: the event fails at once, with no retries. */
class CallbackRefusedError extends Error {
  override name = 'CallbackRefusedError';
}

/** The URL's host is in the list (as `host` for any port, or as `host:port`), or there is none. */
function callbackHostAllowed(url: URL, hosts: readonly string[] | null): boolean {
  return hosts === null || hosts.includes(url.hostname) || hosts.includes(url.host);
}

function parseHttpUrl(text: string): URL | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}
