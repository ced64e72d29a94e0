// Tollgate's Kamailio agent: it connects to the evapi socket of one or more Kamailio proxies and
// turns their call events into the charging use cases the HTTP API uses (initiate at the INVITE,
// update at the answer and before each grant runs out, terminate at the end), and Tollgate's
// decisions back into commands (the INVITE's answer, a new grant, a disconnect). It only
// translates: every rule lives in the core, and refusals map to SIP through one table
// (sip-replies.ts). As CGRateS's KamailioAgent, it keeps the call's clock: it asks for the next
// slice before a grant runs out and ends the call when the last one does.
//
// Each connection is one switch: its first event (`hello`) carries the API key of a `switch`
// principal, and every call on it is charged as that principal. Disconnects that the server
// decides (supervision, an operator) reach the call as outbox events whose URL is
// `kamailio:<principal id>`; `sendOutboxEvent` delivers them on that switch's connections.

import type { Charging } from '../../core/charging/charging.ts';
import type { CreditAnswer, OutboxEvent } from '../../core/charging/charging-types.ts';
import { type Caller, hasScope } from '../../core/shared/principal.ts';
import { type EvapiAddress, EvapiLink, type EvapiLinkLimits } from './evapi-link.ts';
import {
  type AgentCommand,
  type AnswerEvent,
  type AuthEvent,
  type EndEvent,
  EventMalformedError,
  evapiProtocolVersion,
  parseEvent,
  type SwitchEvent,
} from './evapi-protocol.ts';
import { sipReplyFor, sipUnavailable } from './sip-replies.ts';

/** The charging use cases the agent calls: the same ones as the HTTP routes. */
export type ChargingPort = Pick<Charging, 'initiate' | 'update' | 'terminate' | 'session'>;

/** Pino's shape, so the server's logger fits; tests pass a quieter one. */
export interface AgentLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface KamailioAgentLimits extends EvapiLinkLimits {
  /** Events of one connection being answered at once; further INVITEs get 503 at once. */
  readonly callsInFlightMax: number;
  /** In flight at which the agent stops reading a connection, until half of them are done. */
  readonly readPauseAt: number;
  /** Calls the agent follows at once, over all connections; further INVITEs get 503. */
  readonly callsTrackedMax: number;
  /** How long before a grant runs out the agent asks for the next one. */
  readonly updateLeadMs: number;
  /** A connection that has not said `hello` this long after opening is closed. */
  readonly helloTimeoutMs: number;
  /**
   * How long the agent waits for the proxy's `end` after a disconnect before it terminates the
   * session itself, billing the talk time up to the disconnect (Kamailio 5.6 sometimes ends a
   * dialog without running dialog:end).
   */
  readonly endTimeoutMs: number;
}

export const kamailioAgentLimitsDefaults: KamailioAgentLimits = {
  frameBytesMax: 65_536,
  unsentBytesMax: 4 * 1024 * 1024,
  reconnectDelayMinMs: 250,
  reconnectDelayMaxMs: 10_000,
  connectTimeoutMs: 5000,
  callsInFlightMax: 2000,
  readPauseAt: 4000,
  callsTrackedMax: 100_000,
  updateLeadMs: 1000,
  helloTimeoutMs: 5000,
  endTimeoutMs: 5000,
};

export interface KamailioAgentOptions {
  readonly addresses: readonly EvapiAddress[];
  readonly charging: ChargingPort;
  /** The caller an API key belongs to (`Principals.authenticate`). */
  readonly authenticate: (key: string) => Promise<Caller | null>;
  readonly nowMs: () => number;
  readonly logger?: AgentLogger | undefined;
  readonly limits?: Partial<KamailioAgentLimits> | undefined;
}

/** The URL scheme of disconnects that go through this agent. */
export const kamailioCallbackScheme = 'kamailio:';

/** The callback URL of a session opened by `principalId` through the agent. */
export function kamailioCallbackUrl(principalId: string): string {
  return `${kamailioCallbackScheme}${encodeURIComponent(principalId)}`;
}

/** What Kamailio's `end` reasons are called in the CDR. */
const endReasons: Readonly<Record<string, string>> = {
  hangup: 'normal',
  backstop: 'proxy_cutoff',
  timeout: 'dialog_timeout',
  failed: 'not_answered',
  tollgate: 'disconnected',
};

/** Telephone numbers as the HTTP API accepts them. */
const phoneNumber = /^\+?[0-9]{1,32}$/;

interface LinkState {
  readonly generation: number;
  caller: Caller | null;
  node: string;
  inFlight: number;
  helloTimer: NodeJS.Timeout | null;
}

type CallPhase = 'authorizing' | 'ringing' | 'talking';

interface CallState {
  readonly key: string;
  readonly callId: string;
  readonly caller: Caller;
  link: EvapiLink;
  phase: CallPhase;
  /** The last request number used; the next request takes one more. */
  requestNumber: number;
  /** The answer time on the proxy's clock (for talk time from its `end`), and on ours. */
  answeredAtMs: number | null;
  answeredAtLocalMs: number | null;
  /** Seconds reported to the core so far. */
  reportedSeconds: number;
  timer: NodeJS.Timeout | null;
  /** Set once the agent has asked the proxy to end the call: the reason for the CDR. */
  disconnectReason: string | null;
  /** An `end` that arrived before Tollgate had answered the INVITE. */
  endedEarly: EndEvent | null;
  /** The call's requests, one after another, so request numbers never race. */
  queue: Promise<void>;
}

/** Extra fields the core's initiate takes as it evolves; ignored by a core that does not. */
interface InitiateExtras {
  /** Still ringing: the grant and supervision count from the answer (reported by update). */
  readonly answered?: boolean;
  /** The callback URL is the agent's own (`kamailio:`), set by an adapter, not a client. */
  readonly callbackFromAdapter?: boolean;
}

interface ReportExtras {
  readonly answeredAtMs?: number;
}

export class KamailioAgent {
  private readonly options: KamailioAgentOptions;
  private readonly limits: KamailioAgentLimits;
  private readonly links: EvapiLink[];
  private readonly linkStates = new Map<EvapiLink, LinkState>();
  private readonly calls = new Map<string, CallState>();
  /** Whether the core takes `kamailio:` callback URLs; learnt from the first refusal. */
  private callbacksAccepted = true;
  private readonly log: AgentLogger;

  constructor(options: KamailioAgentOptions) {
    this.options = options;
    this.limits = { ...kamailioAgentLimitsDefaults, ...options.limits };
    this.log = options.logger ?? silentLogger;
    const handlers = {
      opened: (link: EvapiLink) => this.opened(link),
      frame: (link: EvapiLink, frame: string) => this.frame(link, frame),
      closed: (link: EvapiLink, why: string) => this.closed(link, why),
    };
    this.links = options.addresses.map((address) => new EvapiLink(address, handlers, this.limits));
  }

  start(): void {
    for (const link of this.links) link.start();
  }

  /** Closes every connection and forgets every call; the server supervises what was live. */
  stop(): void {
    for (const link of this.links) link.stop();
    for (const call of this.calls.values()) if (call.timer) clearTimeout(call.timer);
    this.calls.clear();
  }

  /** Connections that said `hello` with a valid switch key, by Kamailio address. */
  readyConnections(): string[] {
    return this.links.filter((link) => this.readyState(link)).map((link) => link.name);
  }

  /** Calls the agent follows now (authorizing, ringing or talking). */
  get callsTracked(): number {
    return this.calls.size;
  }

  /**
   * The outbox channel for `kamailio:` URLs: tells the session's switch to end the call. Throws
   * when none of its connections is up, so the outbox retries the event.
   */
  async sendOutboxEvent(event: OutboxEvent): Promise<void> {
    const principalId = decodeURIComponent(new URL(event.url).pathname);
    const payload = JSON.parse(event.payload) as {
      data?: { session_id?: unknown; reason?: unknown };
    };
    const callId = payload.data?.session_id;
    if (typeof callId !== 'string') throw new Error('the event names no session');
    const reason = typeof payload.data?.reason === 'string' ? payload.data.reason : 'disconnected';
    const call = this.calls.get(callKey(principalId, callId));
    if (call) {
      // The server has ended the session already; the proxy's `end` only closes our record.
      if (call.timer) clearTimeout(call.timer);
      call.timer = null;
      call.disconnectReason ??= reason;
    }
    const command: AgentCommand = { command: 'disconnect', call_id: callId, reason };
    let sent = 0;
    for (const link of this.links) {
      const state = this.readyState(link);
      if (state?.caller?.principal.id === principalId && link.send(command)) sent += 1;
    }
    if (sent === 0) throw new Error(`no Kamailio connection of ${principalId} is up`);
  }

  // --- connections -----------------------------------------------------------------------

  private opened(link: EvapiLink): void {
    const state: LinkState = {
      generation: link.generation,
      caller: null,
      node: '',
      inFlight: 0,
      helloTimer: setTimeout(() => {
        if (state.caller === null) link.drop('no hello from Kamailio');
      }, this.limits.helloTimeoutMs),
    };
    state.helloTimer?.unref();
    this.linkStates.set(link, state);
  }

  private closed(link: EvapiLink, why: string): void {
    const state = this.linkStates.get(link);
    if (state?.helloTimer) clearTimeout(state.helloTimer);
    this.linkStates.delete(link);
    if (state?.caller) {
      this.log.warn({ kamailio: link.name, why }, 'Kamailio evapi connection closed');
    }
  }

  private readyState(link: EvapiLink): LinkState | null {
    const state = this.linkStates.get(link);
    return state && state.caller !== null && link.connected ? state : null;
  }

  private frame(link: EvapiLink, frame: string): void {
    const state = this.linkStates.get(link);
    if (!state) return;
    let event: SwitchEvent;
    try {
      event = parseEvent(frame);
    } catch (error) {
      if (!(error instanceof EventMalformedError)) throw error;
      this.log.warn({ kamailio: link.name, why: error.message }, 'Kamailio event dropped');
      return;
    }
    if (event.event === 'hello') {
      this.track(link, state, this.hello(link, state, event.key, event.node, event.protocol));
      return;
    }
    const caller = state.caller;
    if (caller === null) {
      // Only a suspended INVITE waits for an answer; anything else before `hello` is dropped.
      if (event.event === 'auth') this.refuse(link, event, 'not_identified');
      return;
    }
    switch (event.event) {
      case 'auth':
        if (state.inFlight >= this.limits.callsInFlightMax) {
          this.refuse(link, event, 'overloaded');
          return;
        }
        this.track(link, state, this.authorize(link, caller, event));
        return;
      case 'answer':
        this.track(link, state, this.answered(link, caller, event));
        return;
      case 'end':
        this.track(link, state, this.ended(link, caller, event));
        return;
    }
  }

  /** Counts a handled event in flight on its connection, and pauses reading past the limit. */
  private track(link: EvapiLink, state: LinkState, work: Promise<void>): void {
    state.inFlight += 1;
    if (state.inFlight >= this.limits.readPauseAt) link.pause();
    work
      .catch((error: unknown) => {
        this.log.error({ err: error, kamailio: link.name }, 'Kamailio event failed');
      })
      .finally(() => {
        state.inFlight -= 1;
        if (state.inFlight <= this.limits.readPauseAt / 2) link.resume();
      });
  }

  private async hello(
    link: EvapiLink,
    state: LinkState,
    key: string,
    node: string,
    protocol: number,
  ): Promise<void> {
    if (protocol !== evapiProtocolVersion) {
      this.refuseSwitch(link, `protocol ${protocol} is not ${evapiProtocolVersion}`);
      return;
    }
    const caller = await this.options.authenticate(key);
    if (state.generation !== link.generation) return;
    if (caller === null || !hasScope(caller, 'charging:control')) {
      this.refuseSwitch(link, 'the key is unknown, revoked, or lacks charging:control');
      return;
    }
    if (state.helloTimer) clearTimeout(state.helloTimer);
    state.helloTimer = null;
    state.caller = caller;
    state.node = node;
    link.healthy();
    link.send({ command: 'ready', principal_id: caller.principal.id } satisfies AgentCommand);
    this.log.info(
      { kamailio: link.name, node, principal_id: caller.principal.id },
      'Kamailio evapi connection ready',
    );
  }

  private refuseSwitch(link: EvapiLink, reason: string): void {
    this.log.error({ kamailio: link.name, reason }, 'Kamailio switch refused');
    link.send({ command: 'refused', reason } satisfies AgentCommand);
    link.backOffFully();
    link.drop(reason);
  }

  // --- calls -----------------------------------------------------------------------------

  private async authorize(link: EvapiLink, caller: Caller, event: AuthEvent): Promise<void> {
    const key = callKey(caller.principal.id, event.callId);
    if (!phoneNumber.test(event.caller)) return this.refuse(link, event, 'unknown_account');
    if (!phoneNumber.test(event.destination)) return this.refuse(link, event, 'number_malformed');
    if (!this.calls.has(key) && this.calls.size >= this.limits.callsTrackedMax) {
      return this.refuse(link, event, 'overloaded');
    }
    const call: CallState = this.calls.get(key) ?? {
      key,
      callId: event.callId,
      caller,
      link,
      phase: 'authorizing',
      requestNumber: 0,
      answeredAtMs: null,
      answeredAtLocalMs: null,
      reportedSeconds: 0,
      timer: null,
      disconnectReason: null,
      endedEarly: null,
      queue: Promise.resolve(),
    };
    this.calls.set(key, call);
    let result: Awaited<ReturnType<ChargingPort['initiate']>>;
    try {
      result = await this.initiate(caller, event);
    } catch (error) {
      this.calls.delete(key);
      this.log.error({ err: error, call_id: event.callId }, 'initiate failed: the call gets 503');
      return this.refuse(link, event, 'charging_failed');
    }
    if (!result.ok) {
      this.calls.delete(key);
      return this.refuse(link, event, result.code);
    }
    const answer = result.value;
    call.requestNumber = answer.requestNumber;
    call.phase = 'ringing';
    link.send({
      command: 'auth',
      tindex: event.tindex,
      tlabel: event.tlabel,
      call_id: event.callId,
      result: 'grant',
      grant_ms: answer.grantedSeconds * 1000,
      final_unit: answer.finalUnit,
    } satisfies AgentCommand);
    const early = call.endedEarly;
    if (early) this.enqueue(call, () => this.finish(call, early));
  }

  private async initiate(caller: Caller, event: AuthEvent) {
    const callbacks = this.callbacksAccepted;
    const request: Parameters<ChargingPort['initiate']>[1] & InitiateExtras = {
      sessionId: event.callId,
      subscriber: { ani: event.caller },
      callerNumber: event.caller,
      calledNumber: event.destination,
      answered: false,
      ...(callbacks
        ? { callbackUrl: kamailioCallbackUrl(caller.principal.id), callbackFromAdapter: true }
        : {}),
    };
    const result = await this.options.charging.initiate(caller, request);
    if (
      callbacks &&
      !result.ok &&
      (result.code === 'callback_url_invalid' || result.code === 'callback_url_not_allowed')
    ) {
      // A core that does not take the agent's callback URLs yet: calls still work, ended by
      // the agent and the proxy's backstop, but supervision cannot reach them through us.
      this.callbacksAccepted = false;
      this.log.warn(
        { code: result.code },
        'the charging core refuses kamailio: callback URLs; server-side disconnects will not reach calls',
      );
      const { callbackUrl: _url, callbackFromAdapter: _adapter, ...plain } = request;
      return this.options.charging.initiate(caller, plain);
    }
    return result;
  }

  private async answered(link: EvapiLink, caller: Caller, event: AnswerEvent): Promise<void> {
    const call = await this.callOf(link, caller, event.callId);
    if (!call) return;
    const localMs = this.options.nowMs();
    call.answeredAtMs = event.atMs ?? localMs;
    call.answeredAtLocalMs = localMs;
    call.phase = 'talking';
    this.enqueue(call, async () => {
      const answeredAtMs = call.answeredAtMs ?? localMs;
      const request: Parameters<ChargingPort['update']>[1] & ReportExtras = {
        sessionId: call.callId,
        requestNumber: call.requestNumber + 1,
        usedSeconds: 0,
        answeredAtMs,
      };
      const result = await this.options.charging.update(call.caller, request);
      call.requestNumber += 1;
      if (!result.ok) {
        this.log.warn({ call_id: call.callId, code: result.code }, 'answer refused: ending call');
        this.disconnect(call, 'session_ended');
        return;
      }
      this.granted(call, result.value);
    });
  }

  /** Follows a new grant: tells the proxy (its backstop) and sets the agent's own timer. */
  private granted(call: CallState, answer: CreditAnswer): void {
    if (call.disconnectReason !== null) return;
    const nowMs = this.options.nowMs();
    if (answer.grantedSeconds === 0) {
      this.disconnect(call, 'credit_exhausted');
      return;
    }
    const validUntilMs = answer.validUntilMs ?? nowMs + answer.grantedSeconds * 1000;
    const leftMs = Math.max(0, validUntilMs - nowMs);
    this.sendToSwitch(call, { command: 'grant', call_id: call.callId, grant_ms: leftMs });
    if (call.timer) clearTimeout(call.timer);
    if (answer.finalUnit) {
      call.timer = setTimeout(() => this.disconnect(call, 'credit_exhausted'), leftMs);
    } else {
      const lead = Math.min(this.limits.updateLeadMs, leftMs / 4);
      call.timer = setTimeout(() => this.enqueue(call, () => this.nextSlice(call)), leftMs - lead);
    }
  }

  /** Reports the seconds talked since the last report and asks for the next slice. */
  private async nextSlice(call: CallState): Promise<void> {
    call.timer = null;
    if (call.disconnectReason !== null || !this.calls.has(call.key)) return;
    const talked = talkSeconds(call.answeredAtLocalMs, this.options.nowMs());
    const usedSeconds = Math.max(0, talked - call.reportedSeconds);
    const result = await this.options.charging.update(call.caller, {
      sessionId: call.callId,
      requestNumber: call.requestNumber + 1,
      usedSeconds,
    });
    call.requestNumber += 1;
    if (!result.ok) {
      this.log.warn({ call_id: call.callId, code: result.code }, 'update refused: ending call');
      this.disconnect(call, 'session_ended');
      return;
    }
    call.reportedSeconds += usedSeconds;
    this.granted(call, result.value);
  }

  private async ended(link: EvapiLink, caller: Caller, event: EndEvent): Promise<void> {
    const known = this.calls.get(callKey(caller.principal.id, event.callId));
    if (known?.phase === 'authorizing') {
      known.endedEarly = event;
      return;
    }
    const call = known ?? (await this.callOf(link, caller, event.callId));
    if (!call) return;
    this.enqueue(call, () => this.finish(call, event));
  }

  /** Terminates the session with the talk time the proxy measured. */
  private async finish(call: CallState, event: EndEvent): Promise<void> {
    if (call.timer) clearTimeout(call.timer);
    call.timer = null;
    this.calls.delete(call.key);
    const answeredAtMs = event.answeredAtMs ?? call.answeredAtMs;
    const endMs = event.atMs ?? this.options.nowMs();
    const talked = event.answered ? talkSeconds(answeredAtMs, endMs) : 0;
    const reason =
      event.reason === 'tollgate' && call.disconnectReason !== null
        ? call.disconnectReason
        : (endReasons[event.reason] ?? 'normal');
    const request: Parameters<ChargingPort['terminate']>[1] & ReportExtras = {
      sessionId: call.callId,
      requestNumber: call.requestNumber + 1,
      usedSeconds: Math.max(0, talked - call.reportedSeconds),
      reason,
      ...(answeredAtMs === null ? {} : { answeredAtMs }),
    };
    const result = await this.options.charging.terminate(call.caller, request);
    if (!result.ok && result.code !== 'session_closed') {
      this.log.warn({ call_id: call.callId, code: result.code }, 'terminate refused');
    }
  }

  /**
   * The call's state, or (after a restart of Tollgate, which forgets calls) rebuilt from its
   * session; null for calls Tollgate never charged.
   */
  private async callOf(link: EvapiLink, caller: Caller, callId: string): Promise<CallState | null> {
    const key = callKey(caller.principal.id, callId);
    const known = this.calls.get(key);
    if (known) return known;
    const session = await this.options.charging.session(caller, callId);
    if (session?.status !== 'active') return this.calls.get(key) ?? null;
    const call: CallState = this.calls.get(key) ?? {
      key,
      callId,
      caller,
      link,
      phase: session.answerMs === null ? 'ringing' : 'talking',
      requestNumber: session.lastRequestNumber,
      answeredAtMs: session.answerMs,
      answeredAtLocalMs: session.answerMs,
      reportedSeconds: session.usedSeconds,
      timer: null,
      disconnectReason: null,
      endedEarly: null,
      queue: Promise.resolve(),
    };
    this.calls.set(key, call);
    return call;
  }

  private enqueue(call: CallState, work: () => Promise<void>): void {
    call.queue = call.queue.then(work).catch((error: unknown) => {
      this.log.error({ err: error, call_id: call.callId }, 'charging request failed');
    });
  }

  /** Asks the proxy to end the call (BYE to both legs); its `end` event terminates the session. */
  private disconnect(call: CallState, reason: string): void {
    if (call.disconnectReason !== null) return;
    this.log.info({ call_id: call.callId, reason }, 'ending call');
    call.disconnectReason = reason;
    if (call.timer) clearTimeout(call.timer);
    const atMs = this.options.nowMs();
    call.timer = setTimeout(() => {
      if (this.calls.get(call.key) !== call) return;
      this.log.warn({ call_id: call.callId }, 'no end from the proxy: terminating the session');
      const ended: EndEvent = {
        event: 'end',
        callId: call.callId,
        answered: call.answeredAtLocalMs !== null,
        reason: 'tollgate',
        answeredAtMs: call.answeredAtLocalMs,
        atMs,
        sipCode: null,
      };
      this.enqueue(call, () => this.finish(call, ended));
    }, this.limits.endTimeoutMs);
    this.sendToSwitch(call, { command: 'disconnect', call_id: call.callId, reason });
  }

  /** Sends on the call's own connection, or another of its switch's when that one is down. */
  private sendToSwitch(call: CallState, command: AgentCommand): void {
    if (this.readyState(call.link) && call.link.send(command)) return;
    const principalId = call.caller.principal.id;
    for (const link of this.links) {
      if (this.readyState(link)?.caller?.principal.id === principalId && link.send(command)) {
        call.link = link;
        return;
      }
    }
    this.log.warn({ call_id: call.callId, command: command.command }, 'no connection for call');
  }

  private refuse(link: EvapiLink, event: AuthEvent, code: string): void {
    const reply =
      code === 'overloaded' || code === 'not_identified' ? sipUnavailable : sipReplyFor(code);
    link.send({
      command: 'auth',
      tindex: event.tindex,
      tlabel: event.tlabel,
      call_id: event.callId,
      result: 'refuse',
      sip_code: reply.code,
      sip_reason: reply.reason,
      code,
    } satisfies AgentCommand);
  }
}

function callKey(principalId: string, callId: string): string {
  return `${principalId}\n${callId}`;
}

/** Whole seconds talked, to the nearest second (the tariff's increments round up from there). */
function talkSeconds(answeredAtMs: number | null, atMs: number): number {
  if (answeredAtMs === null) return 0;
  return Math.max(0, Math.round((atMs - answeredAtMs) / 1000));
}

const silentLogger: AgentLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
