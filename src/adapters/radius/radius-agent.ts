// Tollgate's RADIUS agent, for NAS-based calling-card platforms (Cisco, Mera, FreeSWITCH
// mod_xml_radius, ...): Access-Request is answered from `authorize` (Session-Timeout = the
// allowance), and Accounting Start / Interim-Update / Stop drive `initiate` (Start is sent at
// the answer) / `update` / `terminate`, with Acct-Session-Time as the seconds talked in all.
// It only translates: every rule lives in the core, and refusals take their RADIUS answer from
// the one switch table (core/charging/switch-answers.ts).
//
// Each configured client (a NAS address with its shared secret) is one switch: its requests are
// charged as the switch principal whose API key the configuration names. Packets from other
// addresses, or whose authenticators do not check with the client's secret, are dropped
// unanswered. As the Kamailio agent, it keeps each call's clock: it reports the talk time and
// asks for the next slice before a grant runs out, since a NAS sends Interim-Update at its own
// pace, if at all. Disconnects the server decides (supervision, an operator) reach the NAS as a
// Disconnect-Request (RFC 5176) through outbox events whose URL is `radius:<client>/<session>`.

import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { CallbackRefusedError } from '../../core/charging/callback-policy.ts';
import type { Charging } from '../../core/charging/charging.ts';
import type { CreditAnswer, OutboxEvent } from '../../core/charging/charging-types.ts';
import { switchAnswerOf } from '../../core/charging/switch-answers.ts';
import { type Caller, hasScope } from '../../core/shared/principal.ts';
import { DuplicateCache } from './duplicate-cache.ts';
import {
  type Attribute,
  type Attributes,
  checkRequest,
  checkResponse,
  decodeAttributes,
  encodeRequest,
  encodeResponse,
  type PacketHeader,
  packetCodes,
  readHeader,
} from './radius-codec.ts';
import {
  acceptAttributes,
  accountingOf,
  callOf,
  disconnectTargetOf,
  radiusCallbackUrl,
  rejectAttributes,
  sessionIdOf,
  terminateReasonOf,
} from './radius-mapping.ts';

/** The charging use cases the agent calls: the same ones as the HTTP routes. */
export type ChargingPort = Pick<Charging, 'authorize' | 'initiate' | 'update' | 'terminate'>;

/** Pino's shape, so the server's logger fits; tests pass a quieter one. */
export interface AgentLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** A NAS allowed to ask: its address, shared secret, switch key, and where it takes CoA. */
export interface RadiusClient {
  readonly address: string;
  readonly secret: string;
  /** The API key of the `switch` principal its calls are charged as. */
  readonly switchKey: string;
  /** The NAS's Disconnect-Request port (RFC 5176: 3799). */
  readonly coaPort: number;
}

export interface RadiusAgentLimits {
  /** How long an answer is kept for retransmissions of its request. */
  readonly duplicateTtlMs: number;
  readonly duplicatesMax: number;
  /** Requests being answered at once; further ones are dropped (the NAS retransmits). */
  readonly requestsInFlightMax: number;
  /** Calls whose clock the agent keeps at once; further Starts are charged, not followed. */
  readonly callsTrackedMax: number;
  /** How long before a grant runs out the agent asks for the next one. */
  readonly updateLeadMs: number;
  /** How long the agent waits for a Disconnect-ACK/NAK before it sends the request again. */
  readonly disconnectTimeoutMs: number;
  /** Sends of one Disconnect-Request; then the outbox retries the event later. */
  readonly disconnectTriesMax: number;
}

export const radiusAgentLimitsDefaults: RadiusAgentLimits = {
  duplicateTtlMs: 30_000,
  duplicatesMax: 50_000,
  requestsInFlightMax: 5000,
  callsTrackedMax: 100_000,
  updateLeadMs: 1000,
  disconnectTimeoutMs: 2000,
  disconnectTriesMax: 3,
};

export interface RadiusAgentOptions {
  /** Where the listeners bind: 127.0.0.1 unless configured. */
  readonly host: string;
  /** Access-Request port (1812); 0 picks a free one. */
  readonly authPort: number;
  /** Accounting-Request port (1813); 0 picks a free one. */
  readonly acctPort: number;
  readonly clients: readonly RadiusClient[];
  readonly charging: ChargingPort;
  /** The caller an API key belongs to (`Principals.authenticate`). */
  readonly authenticate: (key: string) => Promise<Caller | null>;
  readonly nowMs: () => number;
  readonly logger?: AgentLogger | undefined;
  readonly limits?: Partial<RadiusAgentLimits> | undefined;
}

interface CallState {
  readonly key: string;
  readonly sessionId: string;
  readonly client: RadiusClient;
  readonly caller: Caller;
  readonly acctSessionId: string;
  /** User-Name, for the Disconnect-Request; kept in memory only (it may be a PIN). */
  readonly userName: string | undefined;
  /** When the call was answered, on our clock (Start's arrival less its Acct-Delay-Time). */
  answeredAtMs: number;
  /** Seconds talked reported to the core so far. */
  reportedSeconds: number;
  timer: NodeJS.Timeout | null;
  disconnecting: boolean;
  /** The call's requests, one after another, so its reports never race. */
  queue: Promise<unknown>;
}

interface PendingDisconnect {
  readonly requestAuthenticator: Buffer;
  readonly secret: string;
  readonly resolve: (answer: { code: number; attributes: Attributes }) => void;
}

type Listener = 'auth' | 'acct';

export class RadiusAgent {
  private readonly options: RadiusAgentOptions;
  private readonly limits: RadiusAgentLimits;
  private readonly log: AgentLogger;
  private readonly clients = new Map<string, RadiusClient>();
  private readonly duplicates: DuplicateCache;
  private readonly calls = new Map<string, CallState>();
  private readonly pendingDisconnects = new Map<string, PendingDisconnect>();
  private sockets: { auth: Socket; acct: Socket; coa: Socket } | null = null;
  private inFlight = 0;
  private nextIdentifier = randomInt(256);
  private readonly unknownWarned = new Set<string>();

  constructor(options: RadiusAgentOptions) {
    this.options = options;
    this.limits = { ...radiusAgentLimitsDefaults, ...options.limits };
    this.log = options.logger ?? silentLogger;
    for (const client of options.clients) this.clients.set(bareAddress(client.address), client);
    this.duplicates = new DuplicateCache({
      ttlMs: this.limits.duplicateTtlMs,
      entriesMax: this.limits.duplicatesMax,
    });
  }

  /** Binds the authentication, accounting and CoA sockets. */
  async start(): Promise<void> {
    const type = this.options.host.includes(':') ? 'udp6' : 'udp4';
    const bind = async (port: number, onMessage: (msg: Buffer, rinfo: RemoteInfo) => void) => {
      const socket = createSocket(type);
      socket.on('message', (msg, rinfo) => {
        try {
          onMessage(msg, rinfo);
        } catch (error) {
          this.log.error({ err: error }, 'RADIUS packet failed');
        }
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, this.options.host, () => {
          socket.off('error', reject);
          socket.on('error', (error) => this.log.error({ err: error }, 'RADIUS socket error'));
          resolve();
        });
      });
      return socket;
    };
    const opened: Socket[] = [];
    try {
      const auth = await bind(this.options.authPort, (msg, rinfo) =>
        this.received('auth', msg, rinfo),
      );
      opened.push(auth);
      const acct = await bind(this.options.acctPort, (msg, rinfo) =>
        this.received('acct', msg, rinfo),
      );
      opened.push(acct);
      const coa = await bind(0, (msg, rinfo) => this.disconnectAnswered(msg, rinfo));
      opened.push(coa);
      this.sockets = { auth, acct, coa };
    } catch (error) {
      for (const socket of opened) socket.close();
      throw error;
    }
    this.log.info(
      { host: this.options.host, ...this.ports(), clients: this.clients.size },
      'RADIUS listening',
    );
  }

  /** The ports the listeners are bound to. */
  ports(): { authPort: number; acctPort: number } {
    return {
      authPort: this.sockets?.auth.address().port ?? this.options.authPort,
      acctPort: this.sockets?.acct.address().port ?? this.options.acctPort,
    };
  }

  /** Closes the sockets and forgets every call; the server supervises what was live. */
  async stop(): Promise<void> {
    for (const call of this.calls.values()) if (call.timer) clearTimeout(call.timer);
    this.calls.clear();
    const sockets = this.sockets;
    this.sockets = null;
    if (!sockets) return;
    await Promise.all(
      [sockets.auth, sockets.acct, sockets.coa].map(
        (socket) => new Promise<void>((resolve) => socket.close(() => resolve())),
      ),
    );
  }

  /** Calls whose clock the agent keeps now. */
  get callsTracked(): number {
    return this.calls.size;
  }

  // --- requests ----------------------------------------------------------------------------

  private received(listener: Listener, datagram: Buffer, rinfo: RemoteInfo): void {
    const address = bareAddress(rinfo.address);
    const client = this.clients.get(address);
    if (!client) {
      if (!this.unknownWarned.has(address) && this.unknownWarned.size < 1000) {
        this.unknownWarned.add(address);
        this.log.warn({ address }, 'RADIUS packet from an unknown client dropped');
      }
      return;
    }
    const header = readHeader(datagram);
    const expected =
      listener === 'auth' ? packetCodes.accessRequest : packetCodes.accountingRequest;
    if (!header || header.code !== expected) {
      this.log.warn(
        { address, code: header?.code ?? null },
        'RADIUS packet malformed or unexpected',
      );
      return;
    }
    const packet = datagram.subarray(0, header.length);
    const check = checkRequest(packet, client.secret);
    if (check !== 'ok') {
      // Never answered: an answer would tell a guesser something about the secret.
      this.log.warn({ address, why: check }, 'RADIUS request not authentic: dropped');
      return;
    }
    const key = `${address}|${rinfo.port}|${header.code}|${header.identifier}|${header.authenticator.toString('hex')}`;
    const nowMs = this.options.nowMs();
    const seen = this.duplicates.seen(key, nowMs);
    if (seen.kind === 'answered') {
      this.reply(listener, seen.answer, rinfo);
      return;
    }
    if (seen.kind === 'pending') return;
    const attributes = decodeAttributes(packet);
    if (attributes === null || this.inFlight >= this.limits.requestsInFlightMax) {
      this.duplicates.forget(key);
      if (attributes === null) this.log.warn({ address }, 'RADIUS attributes malformed: dropped');
      return;
    }
    this.inFlight += 1;
    const work =
      listener === 'auth'
        ? this.access(client, header, attributes)
        : this.accounting(client, header, attributes);
    work
      .then((answer) => {
        if (answer === null) {
          this.duplicates.forget(key);
          return;
        }
        this.duplicates.answered(key, answer, this.options.nowMs());
        this.reply(listener, answer, rinfo);
      })
      .catch((error: unknown) => {
        this.duplicates.forget(key);
        this.log.error({ err: error, address }, 'RADIUS request failed: not answered');
      })
      .finally(() => {
        this.inFlight -= 1;
      });
  }

  private reply(listener: Listener, answer: Buffer, rinfo: RemoteInfo): void {
    const socket = this.sockets?.[listener];
    socket?.send(answer, rinfo.port, rinfo.address);
  }

  /** The switch a client's calls are charged as; null (no answer) when its key does not work. */
  private async callerOf(client: RadiusClient): Promise<Caller | null> {
    const caller = await this.options.authenticate(client.switchKey);
    if (caller === null || !hasScope(caller, 'charging:control')) {
      this.log.error(
        { address: client.address },
        "the RADIUS client's switch key is unknown, revoked, or lacks charging:control",
      );
      return null;
    }
    return caller;
  }

  private answer(
    code: number,
    client: RadiusClient,
    header: PacketHeader,
    attributes: readonly Attribute[],
  ): Buffer {
    return encodeResponse({
      code,
      identifier: header.identifier,
      requestAuthenticator: header.authenticator,
      secret: client.secret,
      attributes,
    });
  }

  /** Access-Request: may this caller call this number, and for how long. */
  private async access(
    client: RadiusClient,
    header: PacketHeader,
    attributes: Attributes,
  ): Promise<Buffer | null> {
    const caller = await this.callerOf(client);
    if (!caller) return null;
    const parsed = callOf(attributes, `radius:${client.address}`);
    if (!parsed.ok) {
      return this.answer(
        packetCodes.accessReject,
        client,
        header,
        rejectAttributes(parsed.code, parsed.message),
      );
    }
    const result = await this.options.charging.authorize(caller, parsed.call);
    if (result.ok) {
      return this.answer(packetCodes.accessAccept, client, header, acceptAttributes(result.value));
    }
    if (switchAnswerOf(result.code)?.radius === 'no answer') return null;
    return this.answer(
      packetCodes.accessReject,
      client,
      header,
      rejectAttributes(result.code, result.message),
    );
  }

  /** Accounting-Request: answered only once the core has committed what it reports. */
  private async accounting(
    client: RadiusClient,
    header: PacketHeader,
    attributes: Attributes,
  ): Promise<Buffer | null> {
    const acknowledged = this.answer(packetCodes.accountingResponse, client, header, []);
    const report = accountingOf(attributes);
    if (!report.ok) {
      // Acknowledged all the same: the NAS would retransmit it unchanged, for nothing.
      this.log.warn({ address: client.address, why: report.message }, 'RADIUS accounting ignored');
      return acknowledged;
    }
    if (report.kind === 'on' || report.kind === 'off') return acknowledged;
    const caller = await this.callerOf(client);
    if (!caller) return null;
    const sessionId = sessionIdOf(client.address, report.acctSessionId);
    const key = callKey(caller, sessionId);
    const known = this.calls.get(key);
    let acted: Promise<boolean>;
    if (report.kind === 'start') {
      acted = this.started(client, caller, report.acctSessionId, attributes, report.delaySeconds);
    } else {
      const call =
        known ??
        this.follow({
          key,
          sessionId,
          client,
          caller,
          acctSessionId: report.acctSessionId,
          userName: undefined,
          answeredAtMs:
            this.options.nowMs() - ((report.sessionSeconds ?? 0) + report.delaySeconds) * 1000,
        });
      const total = report.sessionSeconds ?? 0;
      acted =
        report.kind === 'interim'
          ? this.enqueue(call, () => this.reported(call, total))
          : this.enqueue(call, () =>
              this.stopped(call, total, terminateReasonOf(report.terminateCause)),
            );
    }
    return (await acted) ? acknowledged : null;
  }

  /** Start: the call was answered; initiate it. False: leave the NAS to retransmit. */
  private async started(
    client: RadiusClient,
    caller: Caller,
    acctSessionId: string,
    attributes: Attributes,
    delaySeconds: number,
  ): Promise<boolean> {
    const parsed = callOf(attributes, `radius:${client.address}`);
    const sessionId = sessionIdOf(client.address, acctSessionId);
    const userName = parsed.ok ? parsed.userName : undefined;
    if (!parsed.ok) {
      this.log.warn(
        { session_id: sessionId, why: parsed.message },
        'RADIUS Start cannot be charged',
      );
      this.disconnectNas(client, acctSessionId, userName, 'not_chargeable');
      return true;
    }
    const answeredAtMs = this.options.nowMs() - delaySeconds * 1000;
    const call = this.follow({
      key: callKey(caller, sessionId),
      sessionId,
      client,
      caller,
      acctSessionId,
      userName,
      answeredAtMs,
    });
    return this.enqueue(call, async () => {
      const result = await this.options.charging.initiate(caller, {
        ...parsed.call,
        sessionId,
        answeredAtMs,
        callbackUrl: radiusCallbackUrl({
          clientAddress: client.address,
          acctSessionId,
          userName: parsed.userName,
          subscriber: parsed.call.subscriber,
        }),
        callbackFromAdapter: true,
      });
      if (result.ok) {
        this.granted(call, result.value);
        return true;
      }
      const radiusAnswer = switchAnswerOf(result.code)?.radius;
      this.unfollow(call);
      if (radiusAnswer === 'no answer') return false;
      if (result.code !== 'session_closed' && result.code !== 'session_exists') {
        // Authorized at its Access-Request, but the money or the subscriber is gone since:
        // the call cannot be charged, so it is ended rather than left free.
        this.log.warn(
          { session_id: sessionId, code: result.code },
          'RADIUS Start refused: disconnecting',
        );
        this.disconnectNas(client, acctSessionId, userName, result.code);
      }
      return true;
    });
  }

  /** Interim-Update, or the agent's own report before a grant runs out. */
  private async reported(call: CallState, totalSeconds: number): Promise<boolean> {
    const result = await this.options.charging.update(call.caller, {
      sessionId: call.sessionId,
      usedSecondsTotal: totalSeconds,
    });
    if (result.ok) {
      call.reportedSeconds = Math.max(call.reportedSeconds, totalSeconds);
      this.granted(call, result.value);
      return true;
    }
    this.unfollow(call);
    if (switchAnswerOf(result.code)?.radius === 'no answer') return false;
    this.log.warn({ session_id: call.sessionId, code: result.code }, 'RADIUS update refused');
    return true;
  }

  private async stopped(call: CallState, totalSeconds: number, reason: string): Promise<boolean> {
    this.unfollow(call);
    const result = await this.options.charging.terminate(call.caller, {
      sessionId: call.sessionId,
      usedSecondsTotal: totalSeconds,
      reason,
    });
    if (result.ok) return true;
    if (switchAnswerOf(result.code)?.radius === 'no answer') return false;
    if (result.code !== 'session_closed') {
      this.log.warn({ session_id: call.sessionId, code: result.code }, 'RADIUS Stop refused');
    }
    return true;
  }

  // --- the call's clock --------------------------------------------------------------------

  /** The call's state, created when new (bounded: past the limit it is charged, not kept). */
  private follow(
    state: Omit<CallState, 'reportedSeconds' | 'timer' | 'disconnecting' | 'queue'>,
  ): CallState {
    const known = this.calls.get(state.key);
    if (known) return known;
    const call: CallState = {
      ...state,
      reportedSeconds: 0,
      timer: null,
      disconnecting: false,
      queue: Promise.resolve(),
    };
    if (this.calls.size < this.limits.callsTrackedMax) this.calls.set(call.key, call);
    return call;
  }

  private unfollow(call: CallState): void {
    if (call.timer) clearTimeout(call.timer);
    call.timer = null;
    if (this.calls.get(call.key) === call) this.calls.delete(call.key);
  }

  private enqueue<T>(call: CallState, work: () => Promise<T>): Promise<T> {
    const done = call.queue.then(work);
    call.queue = done.catch(() => undefined);
    return done;
  }

  /** Follows a new grant: the next report before it runs out, or the end of the final one. */
  private granted(call: CallState, answer: CreditAnswer): void {
    if (call.timer) clearTimeout(call.timer);
    call.timer = null;
    if (call.disconnecting || this.calls.get(call.key) !== call) return;
    const nowMs = this.options.nowMs();
    if (answer.grantedSeconds === 0) {
      this.disconnectCall(call, 'credit_exhausted');
      return;
    }
    const validUntilMs = answer.validUntilMs ?? nowMs + answer.grantedSeconds * 1000;
    const leftMs = Math.max(0, validUntilMs - nowMs);
    if (answer.finalUnit) {
      call.timer = setTimeout(() => this.disconnectCall(call, 'credit_exhausted'), leftMs);
    } else {
      const leadMs = Math.min(this.limits.updateLeadMs, leftMs / 4);
      call.timer = setTimeout(() => {
        call.timer = null;
        this.enqueue(call, () => this.reported(call, this.talkedSeconds(call))).catch(
          (error: unknown) => {
            this.log.error({ err: error, session_id: call.sessionId }, 'RADIUS update failed');
          },
        );
      }, leftMs - leadMs);
    }
    call.timer.unref();
  }

  /** Whole seconds talked so far on our clock, never less than reported already. */
  private talkedSeconds(call: CallState): number {
    const talked = Math.floor((this.options.nowMs() - call.answeredAtMs) / 1000);
    return Math.max(call.reportedSeconds, talked);
  }

  /** Asks the NAS to end a call; its Stop then terminates the session. */
  private disconnectCall(call: CallState, reason: string): void {
    if (call.disconnecting) return;
    call.disconnecting = true;
    if (call.timer) clearTimeout(call.timer);
    call.timer = null;
    this.disconnectNas(call.client, call.acctSessionId, call.userName, reason);
  }

  private disconnectNas(
    client: RadiusClient,
    acctSessionId: string,
    userName: string | undefined,
    reason: string,
  ): void {
    this.log.info(
      { address: client.address, acct_session_id: acctSessionId, reason },
      'ending call',
    );
    this.sendDisconnect(client, acctSessionId, userName).catch((error: unknown) => {
      this.log.warn(
        { err: error, address: client.address, acct_session_id: acctSessionId },
        'Disconnect-Request failed; supervision ends the session',
      );
    });
  }

  // --- Disconnect-Request --------------------------------------------------------------------

  /**
   * The outbox channel for `radius:` URLs: a Disconnect-Request to the session's NAS. Throws when
   * the NAS does not answer or refuses (NAK), so the outbox retries the event; a NAK saying the
   * session is unknown there (Error-Cause 503) counts as done: the call is over.
   */
  async sendOutboxEvent(event: OutboxEvent): Promise<void> {
    const target = disconnectTargetOf(event.url);
    if (!target) throw new CallbackRefusedError(`${event.url} is not a radius: disconnect URL`);
    const client = this.clients.get(bareAddress(target.clientAddress));
    if (!client) {
      throw new CallbackRefusedError(`${target.clientAddress} is not a configured RADIUS client`);
    }
    let userName = target.userName;
    for (const call of this.calls.values()) {
      if (call.client !== client || call.acctSessionId !== target.acctSessionId) continue;
      // The server has ended the session already; the NAS's Stop only reconciles it.
      if (call.timer) clearTimeout(call.timer);
      call.timer = null;
      call.disconnecting = true;
      userName ??= call.userName;
    }
    await this.sendDisconnect(client, target.acctSessionId, userName);
  }

  private async sendDisconnect(
    client: RadiusClient,
    acctSessionId: string,
    userName: string | undefined,
  ): Promise<void> {
    const coa = this.sockets?.coa;
    if (!coa) throw new Error('the RADIUS agent is stopped');
    const destination = `${bareAddress(client.address)}|${client.coaPort}`;
    const identifier = this.freeIdentifier(destination);
    const attributes: Attribute[] = [['Acct-Session-Id', acctSessionId]];
    if (userName !== undefined) attributes.push(['User-Name', userName]);
    const packet = encodeRequest({
      code: packetCodes.disconnectRequest,
      identifier,
      secret: client.secret,
      attributes,
    });
    const pendingKey = `${destination}|${identifier}`;
    const answered = new Promise<{ code: number; attributes: Attributes }>((resolve) => {
      this.pendingDisconnects.set(pendingKey, {
        requestAuthenticator: Buffer.from(packet.subarray(4, 20)),
        secret: client.secret,
        resolve,
      });
    });
    try {
      for (let attempt = 0; attempt < this.limits.disconnectTriesMax; attempt += 1) {
        coa.send(packet, client.coaPort, client.address);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), this.limits.disconnectTimeoutMs);
        });
        const answer = await Promise.race([answered, timedOut]);
        clearTimeout(timer);
        if (answer === null) continue;
        if (answer.code === packetCodes.disconnectAck) return;
        const cause = answer.attributes['Error-Cause'];
        if (cause === 'Session-Context-Not-Found' || cause === 503) {
          this.log.info(
            { acct_session_id: acctSessionId },
            'Disconnect-NAK: the NAS has no such session',
          );
          return;
        }
        throw new Error(
          `Disconnect-NAK from ${client.address} (Error-Cause ${String(cause ?? 'none')})`,
        );
      }
      throw new Error(`no answer to Disconnect-Request from ${client.address}:${client.coaPort}`);
    } finally {
      this.pendingDisconnects.delete(pendingKey);
    }
  }

  /** An identifier not in use towards this NAS port (RFC 5080: one outstanding per id). */
  private freeIdentifier(destination: string): number {
    for (let tries = 0; tries < 256; tries += 1) {
      const identifier = this.nextIdentifier;
      this.nextIdentifier = (this.nextIdentifier + 1) % 256;
      if (!this.pendingDisconnects.has(`${destination}|${identifier}`)) return identifier;
    }
    throw new Error('256 Disconnect-Requests outstanding to one NAS');
  }

  private disconnectAnswered(datagram: Buffer, rinfo: RemoteInfo): void {
    const header = readHeader(datagram);
    if (!header) return;
    if (header.code !== packetCodes.disconnectAck && header.code !== packetCodes.disconnectNak) {
      return;
    }
    const pendingKey = `${bareAddress(rinfo.address)}|${rinfo.port}|${header.identifier}`;
    const pending = this.pendingDisconnects.get(pendingKey);
    if (!pending) return;
    const packet = datagram.subarray(0, header.length);
    if (!checkResponse(packet, pending.requestAuthenticator, pending.secret)) {
      this.log.warn({ address: rinfo.address }, 'Disconnect answer not authentic: dropped');
      return;
    }
    pending.resolve({ code: header.code, attributes: decodeAttributes(packet) ?? {} });
  }
}

function callKey(caller: Caller, sessionId: string): string {
  return `${caller.principal.id}\n${sessionId}`;
}

/** `::ffff:127.0.0.1` (an IPv4 peer on an IPv6 socket) is 127.0.0.1. */
function bareAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

const silentLogger: AgentLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
