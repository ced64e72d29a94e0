// Tollgate's Diameter server: credit control (RFC 4006/8506, Gy and Ro) for the peers that are
// configured, each mapped to a `switch` principal by its Origin-Host. It runs the RFC 6733 peer
// state machine as the responder (CER/CEA, DWR/DWA, DPR/DPA; anything before CER closes the
// connection), answers malformed messages with the Result-Code the codec found (5001 with a
// Failed-AVP for an unknown mandatory AVP), and hands CCRs to credit-control.ts. Disconnects the
// server decides (supervision, an operator) reach a session as outbox events whose URL is
// `diameter:<peer>/<session>`; `sendOutboxEvent` sends that peer an ASR.

import { createServer, type Server, type Socket } from 'node:net';
import type { OutboxEvent } from '../../core/charging/charging-types.ts';
import { type Caller, hasScope } from '../../core/shared/principal.ts';
import {
  applicationIds,
  avpNamed,
  baseResultCodes,
  commandCodes,
  vendor3gpp,
} from './avp-dictionary.ts';
import {
  type CcAnswer,
  type ChargingPort,
  CreditControl,
  type CreditControlSettings,
  ccAvps,
  parseDiameterCallbackUrl,
} from './credit-control.ts';
import {
  type AvpOut,
  avpOf,
  type DecodeLimits,
  type DiameterMessage,
  decodeHeader,
  decodeLimitsDefaults,
  decodeMessage,
  findAvp,
  findAvps,
  groupOf,
  headerBytes,
  type MessageHeader,
  textOf,
  u32Of,
} from './diameter-codec.ts';
import type { FrameError } from './frame-reader.ts';
import { type ConnectionLimits, PeerConnection } from './peer-connection.ts';

/** Pino's shape, so the server's logger fits; tests pass a quieter one. */
export interface AgentLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface DiameterAgentLimits extends ConnectionLimits, DecodeLimits {
  /** Connections open at once; further ones are closed at once. */
  readonly connectionsMax: number;
  /** A connection that has not sent CER this long after opening is closed. */
  readonly cerTimeoutMs: number;
  /** Silence after which Tollgate sends DWR (RFC 3539's Tw); no answer in as long again: closed. */
  readonly watchdogMs: number;
  /** How long Tollgate waits for the answer to its ASR, RAR or DPR. */
  readonly answerTimeoutMs: number;
}

export const diameterAgentLimitsDefaults: DiameterAgentLimits = {
  frameBytesMax: 65_536,
  unsentBytesMax: 8 * 1024 * 1024,
  requestsInFlightMax: 4096,
  groupDepthMax: decodeLimitsDefaults.groupDepthMax,
  connectionsMax: 256,
  cerTimeoutMs: 10_000,
  watchdogMs: 30_000,
  answerTimeoutMs: 5000,
};

export interface DiameterAgentOptions {
  readonly host: string;
  readonly port: number;
  /** Tollgate's own DiameterIdentity and realm. */
  readonly originHost: string;
  readonly originRealm: string;
  /** Each peer's Origin-Host and the API key of the `switch` principal it charges as. */
  readonly peers: ReadonlyMap<string, string>;
  readonly charging: ChargingPort;
  readonly authenticate: (key: string) => Promise<Caller | null>;
  readonly nowMs: () => number;
  readonly logger?: AgentLogger | undefined;
  readonly limits?: Partial<DiameterAgentLimits> | undefined;
  readonly creditControl?: Partial<CreditControlSettings> | undefined;
}

const productName = 'Tollgate';
const vendorIdNone = 0;
/** Disconnect-Cause REBOOTING: Tollgate is stopping and will be back. */
const disconnectRebooting = 0;

const avp = {
  originHost: avpNamed('Origin-Host'),
  originRealm: avpNamed('Origin-Realm'),
  destinationHost: avpNamed('Destination-Host'),
  destinationRealm: avpNamed('Destination-Realm'),
  hostIpAddress: avpNamed('Host-IP-Address'),
  vendorId: avpNamed('Vendor-Id'),
  productName: avpNamed('Product-Name'),
  originStateId: avpNamed('Origin-State-Id'),
  supportedVendorId: avpNamed('Supported-Vendor-Id'),
  authApplicationId: avpNamed('Auth-Application-Id'),
  vendorSpecificApplicationId: avpNamed('Vendor-Specific-Application-Id'),
  firmwareRevision: avpNamed('Firmware-Revision'),
  disconnectCause: avpNamed('Disconnect-Cause'),
} as const;

export class DiameterAgent {
  private readonly options: DiameterAgentOptions;
  private readonly limits: DiameterAgentLimits;
  private readonly log: AgentLogger;
  private readonly creditControl: CreditControl;
  private readonly connections = new Set<PeerConnection>();
  private readonly originStateId: number;
  private server: Server | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private endToEnd: number;

  constructor(options: DiameterAgentOptions) {
    this.options = options;
    this.limits = { ...diameterAgentLimitsDefaults, ...options.limits };
    this.log = options.logger ?? silentLogger;
    this.creditControl = new CreditControl({
      charging: options.charging,
      settings: options.creditControl ?? {},
    });
    const nowSeconds = Math.floor(options.nowMs() / 1000);
    this.originStateId = nowSeconds >>> 0;
    // RFC 6733: the high 12 bits from the clock at start, the low 20 counting.
    this.endToEnd = ((nowSeconds & 0xfff) << 20) >>> 0;
  }

  /** Listens; resolves with the port (useful with port 0). */
  async start(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.watchdog = setInterval(() => this.watch(), 1000);
    this.watchdog.unref();
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  /** Says DPR to every open peer (waiting a moment for DPA), then closes everything. */
  async stop(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    const server = this.server;
    this.server = null;
    const closing = server ? new Promise((resolve) => server.close(resolve)) : null;
    await Promise.all(
      [...this.connections].map(async (connection) => {
        if (connection.open) {
          connection.state = 'closing';
          await connection
            .request(
              {
                ...this.base(commandCodes.disconnectPeer, applicationIds.common),
                avps: [...this.origin(), avpOf(avp.disconnectCause, disconnectRebooting)],
              },
              Math.min(this.limits.answerTimeoutMs, 1000),
            )
            .catch(() => undefined);
        }
        connection.drop('Tollgate is stopping');
      }),
    );
    await closing;
  }

  /** Open peer connections, by Origin-Host. */
  openPeers(): string[] {
    return [...this.connections].filter((c) => c.open).map((c) => c.peer!.originHost);
  }

  /**
   * The outbox channel for `diameter:` URLs: an Abort-Session-Request to the session's peer.
   * Throws when the peer has no open connection or does not confirm, so the outbox retries; an
   * ASA of 5002 (the peer no longer knows the session) counts as done.
   */
  async sendOutboxEvent(event: OutboxEvent): Promise<void> {
    const target = parseDiameterCallbackUrl(event.url);
    if (!target) throw new Error(`${event.url} is not a diameter: URL`);
    const connection = [...this.connections].find(
      (c) => c.open && c.peer?.originHost === target.originHost,
    );
    if (!connection?.peer) throw new Error(`no connection of Diameter peer ${target.originHost}`);
    const answer = await connection.request(
      {
        ...this.base(commandCodes.abortSession, applicationIds.creditControl),
        proxiable: true,
        avps: [
          avpOf(ccAvps.sessionId, target.sessionId),
          ...this.origin(),
          avpOf(avp.destinationRealm, connection.peer.originRealm),
          avpOf(avp.destinationHost, connection.peer.originHost),
          avpOf(avp.authApplicationId, applicationIds.creditControl),
        ],
      },
      this.limits.answerTimeoutMs,
    );
    const resultCode = u32Of(findAvp(answer.avps, ccAvps.resultCode));
    if (resultCode === baseResultCodes.success || resultCode === baseResultCodes.unknownSessionId) {
      return;
    }
    throw new Error(`the peer answered the ASR with Result-Code ${resultCode ?? 'none'}`);
  }

  // --- connections -----------------------------------------------------------------------

  private accept(socket: Socket): void {
    if (this.connections.size >= this.limits.connectionsMax) {
      this.log.warn({ remote: socket.remoteAddress }, 'Diameter connection refused: too many');
      socket.destroy();
      return;
    }
    const connection = new PeerConnection(socket, {
      limits: this.limits,
      nowMs: this.options.nowMs(),
      handlers: {
        frame: (c, frame) => this.frame(c, frame),
        frameError: (c, error) => this.frameError(c, error),
        closed: (c, why) => this.closed(c, why),
      },
    });
    this.connections.add(connection);
  }

  private closed(connection: PeerConnection, why: string): void {
    this.connections.delete(connection);
    if (connection.peer) {
      this.log.warn({ peer: connection.peer.originHost, why }, 'Diameter peer connection closed');
    }
  }

  /** CER deadlines and the watchdog, once a second over every connection. */
  private watch(): void {
    const nowMs = this.options.nowMs();
    for (const connection of this.connections) {
      if (connection.state === 'wait-cer') {
        if (nowMs - connection.openedMs > this.limits.cerTimeoutMs) connection.drop('no CER');
        continue;
      }
      if (!connection.open) continue;
      const silentMs = nowMs - connection.lastHeardMs;
      if (silentMs > 2 * this.limits.watchdogMs && connection.watchdogSent) {
        connection.drop('no answer to the watchdog');
      } else if (silentMs > this.limits.watchdogMs && !connection.watchdogSent) {
        connection.watchdogSent = true;
        connection
          .request(
            {
              ...this.base(commandCodes.deviceWatchdog, applicationIds.common),
              avps: [...this.origin(), avpOf(avp.originStateId, this.originStateId)],
            },
            this.limits.watchdogMs,
          )
          .catch(() => undefined);
      }
    }
  }

  /** A stream that cannot be framed: answered when its header arrived, then closed. */
  private frameError(connection: PeerConnection, error: FrameError): void {
    this.log.warn({ remote: connection.name, why: error.message }, 'Diameter stream malformed');
    if (error.header && error.header.length >= headerBytes && (error.header[4]! & 0x80) !== 0) {
      const header = decodeHeader(error.header);
      connection.send(this.errorAnswer(header, [], error.resultCode, error.message, null));
    }
    connection.end(error.message);
  }

  private frame(connection: PeerConnection, frame: Buffer): void {
    connection.lastHeardMs = this.options.nowMs();
    connection.watchdogSent = false;
    const { message, problem } = decodeMessage(frame, this.limits);
    if (!message.request) {
      // Answers to our DWR, ASR, RAR, DPR; one we did not ask for is dropped.
      if (connection.state === 'wait-cer') connection.drop('an answer before CER');
      else connection.answered(message);
      return;
    }
    if (connection.state === 'wait-cer') {
      if (message.commandCode !== commandCodes.capabilitiesExchange) {
        connection.drop('a request before CER');
        return;
      }
      if (problem) {
        connection.send(
          this.errorAnswer(
            message,
            message.avps,
            problem.resultCode,
            problem.text,
            problem.failedAvp,
          ),
        );
        connection.end(problem.text);
        return;
      }
      connection.started();
      void this.capabilities(connection, message).finally(() => connection.finished());
      return;
    }
    if (connection.state !== 'open') return;
    if (problem) {
      connection.send(
        this.errorAnswer(
          message,
          message.avps,
          problem.resultCode,
          problem.text,
          problem.failedAvp,
        ),
      );
      return;
    }
    switch (message.commandCode) {
      case commandCodes.creditControl:
        this.creditControlRequest(connection, message);
        return;
      case commandCodes.deviceWatchdog:
        connection.send(
          this.answer(message, baseResultCodes.success, [
            avpOf(avp.originStateId, this.originStateId),
          ]),
        );
        return;
      case commandCodes.disconnectPeer:
        connection.send(this.answer(message, baseResultCodes.success, []));
        connection.end('the peer said DPR');
        return;
      case commandCodes.capabilitiesExchange:
        connection.send(
          this.answer(message, baseResultCodes.success, this.capabilityAvps(connection)),
        );
        return;
      default:
        connection.send(
          this.errorAnswer(
            message,
            message.avps,
            baseResultCodes.commandUnsupported,
            `command ${message.commandCode} is not served`,
            null,
          ),
        );
    }
  }

  private async capabilities(connection: PeerConnection, cer: DiameterMessage): Promise<void> {
    const originHost = textOf(findAvp(cer.avps, avp.originHost));
    const originRealm = textOf(findAvp(cer.avps, avp.originRealm));
    const refuse = (resultCode: number, text: string) => {
      this.log.error(
        { remote: connection.name, peer: originHost, why: text },
        'Diameter peer refused',
      );
      connection.send(
        this.errorAnswer(cer, cer.avps, resultCode, text, null, this.capabilityAvps(connection)),
      );
      connection.end(text);
    };
    if (originHost === undefined || originRealm === undefined) {
      return refuse(baseResultCodes.missingAvp, 'CER needs Origin-Host and Origin-Realm');
    }
    if (!offersCreditControl(cer)) {
      return refuse(
        baseResultCodes.noCommonApplication,
        'the peer does not offer credit control (4)',
      );
    }
    const key = this.options.peers.get(originHost);
    const caller = key === undefined ? null : await this.options.authenticate(key);
    if (connection.closed) return;
    if (caller === null || !hasScope(caller, 'charging:control')) {
      return refuse(
        baseResultCodes.unknownPeer,
        key === undefined
          ? `${originHost} is not a configured peer`
          : `the key of ${originHost} is unknown, revoked, or lacks charging:control`,
      );
    }
    connection.peer = { originHost, originRealm, caller };
    connection.state = 'open';
    connection.send(this.answer(cer, baseResultCodes.success, this.capabilityAvps(connection)));
    this.log.info(
      { peer: originHost, principal_id: caller.principal.id },
      'Diameter peer connected',
    );
  }

  private creditControlRequest(connection: PeerConnection, request: DiameterMessage): void {
    if (request.applicationId !== applicationIds.creditControl) {
      connection.send(
        this.errorAnswer(
          request,
          request.avps,
          baseResultCodes.applicationUnsupported,
          `application ${request.applicationId} is not served`,
          null,
        ),
      );
      return;
    }
    const peer = connection.peer!;
    connection.started();
    this.creditControl
      .answer(peer, request)
      .catch((error: unknown): CcAnswer => {
        this.log.error({ err: error, peer: peer.originHost }, 'credit control failed');
        return {
          resultCode: baseResultCodes.unableToComply,
          avps: [],
          errorMessage: 'Tollgate could not decide; try again',
        };
      })
      .then((answer) => {
        connection.send(this.ccAnswer(request, answer));
      })
      .finally(() => connection.finished());
  }

  // --- answers ---------------------------------------------------------------------------

  private ccAnswer(
    request: DiameterMessage,
    answer: CcAnswer,
  ): Buffer | ReturnType<DiameterAgent['answer']> {
    const extra: AvpOut[] = [...answer.avps];
    if (answer.errorMessage !== undefined)
      extra.push(avpOf(ccAvps.errorMessage, answer.errorMessage));
    if (answer.failedAvp !== undefined) extra.push(avpOf(ccAvps.failedAvp, [answer.failedAvp]));
    return this.answer(request, answer.resultCode, extra);
  }

  private base(commandCode: number, applicationId: number) {
    this.endToEnd = (this.endToEnd & 0xfff0_0000) | ((this.endToEnd + 1) & 0xf_ffff);
    return {
      commandCode,
      applicationId,
      proxiable: false,
      error: false,
      retransmit: false,
      endToEnd: this.endToEnd >>> 0,
    };
  }

  private origin(): AvpOut[] {
    return [
      avpOf(avp.originHost, this.options.originHost),
      avpOf(avp.originRealm, this.options.originRealm),
    ];
  }

  /** An answer: Session-Id first when the request had one, Result-Code, Origin-Host/Realm. */
  private answer(
    request: MessageHeader & { avps: DiameterMessage['avps'] },
    resultCode: number,
    extra: readonly AvpOut[],
  ) {
    const session = findAvp(request.avps, ccAvps.sessionId);
    return {
      commandCode: request.commandCode,
      applicationId: request.applicationId,
      request: false,
      proxiable: request.proxiable,
      error: resultCode >= 3000 && resultCode < 4000,
      retransmit: false,
      hopByHop: request.hopByHop,
      endToEnd: request.endToEnd,
      avps: [
        ...(session ? [session] : []),
        avpOf(ccAvps.resultCode, resultCode),
        ...this.origin(),
        ...extra,
      ],
    };
  }

  /** The answer to a request Tollgate cannot serve, with what the request carried that helps. */
  private errorAnswer(
    request: MessageHeader,
    avps: DiameterMessage['avps'],
    resultCode: number,
    text: string,
    failedAvp: AvpOut | null,
    more: readonly AvpOut[] = [],
  ) {
    const echo: AvpOut[] = [];
    if (
      request.commandCode === commandCodes.creditControl &&
      !(resultCode >= 3000 && resultCode < 4000)
    ) {
      echo.push(avpOf(avp.authApplicationId, applicationIds.creditControl));
      const type = findAvp(avps, ccAvps.ccRequestType);
      const number = findAvp(avps, ccAvps.ccRequestNumber);
      if (type && type.data.length === 4) echo.push(type);
      if (number && number.data.length === 4) echo.push(number);
    }
    return this.answer({ ...request, avps }, resultCode, [
      ...more,
      ...echo,
      avpOf(ccAvps.errorMessage, text.slice(0, 200)),
      ...(failedAvp ? [avpOf(ccAvps.failedAvp, [failedAvp])] : []),
    ]);
  }

  private capabilityAvps(connection: PeerConnection): AvpOut[] {
    return [
      avpOf(avp.hostIpAddress, localAddressOf(connection.socket)),
      avpOf(avp.vendorId, vendorIdNone),
      avpOf(avp.productName, productName),
      avpOf(avp.originStateId, this.originStateId),
      avpOf(avp.supportedVendorId, vendor3gpp),
      avpOf(avp.authApplicationId, applicationIds.creditControl),
      avpOf(avp.firmwareRevision, 1),
    ];
  }
}

/** Whether a CER offers credit control (4), or relays everything, at the top or vendor-specific. */
function offersCreditControl(cer: DiameterMessage): boolean {
  const offered = [
    ...findAvps(cer.avps, avp.authApplicationId),
    ...findAvps(cer.avps, avp.vendorSpecificApplicationId).flatMap((vsa) =>
      findAvps(groupOf(vsa), avp.authApplicationId),
    ),
  ].map((found) => u32Of(found));
  return offered.includes(applicationIds.creditControl) || offered.includes(applicationIds.relay);
}

function localAddressOf(socket: Socket): string {
  const address = socket.localAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

const silentLogger: AgentLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
