// A small Diameter client for the tests and the benchmark: one TCP connection on 127.0.0.1, CER,
// CCRs (pipelined: answers are matched by hop-by-hop id), DWR, DPR, raw bytes for the error
// paths; it answers the server's ASR and RAR with 2001 and keeps them for the test to look at.

import { connect, type Socket } from 'node:net';
import { avpNamed, vendor3gpp } from '../../src/adapters/diameter/avp-dictionary.ts';
import {
  type AvpOut,
  avpOf,
  type DiameterMessage,
  decodeMessage,
  encodeMessage,
  findAvp,
  type MessageOut,
  u32Of,
} from '../../src/adapters/diameter/diameter-codec.ts';
import { DiameterFrameReader } from '../../src/adapters/diameter/frame-reader.ts';

export const a = (name: string) => avpNamed(name);

export interface CcrInput {
  readonly sessionId: string;
  /** 1 INITIAL, 2 UPDATE, 3 TERMINATION, 4 EVENT. */
  readonly type: 1 | 2 | 3 | 4;
  readonly number: number;
  readonly e164?: string | undefined;
  readonly pin?: string | undefined;
  /** The dialled number, as Service-Information/IMS-Information/Called-Party-Address. */
  readonly destination?: string | undefined;
  readonly usedSeconds?: number | undefined;
  readonly requestedSeconds?: number | undefined;
  /** Put the units in a Multiple-Services-Credit-Control with this Rating-Group. */
  readonly ratingGroup?: number | undefined;
  readonly retransmit?: boolean | undefined;
  /** The end-to-end id to use (a retransmission keeps its first one). */
  readonly endToEnd?: number | undefined;
  readonly extra?: readonly AvpOut[] | undefined;
  readonly requestedAction?: number | undefined;
}

/** The AVPs of a CCR as a Gy/Ro client sends them. */
export function ccrAvps(input: CcrInput, originHost: string): AvpOut[] {
  const avps: AvpOut[] = [
    avpOf(a('Session-Id'), input.sessionId),
    avpOf(a('Origin-Host'), originHost),
    avpOf(a('Origin-Realm'), 'test.example'),
    avpOf(a('Destination-Realm'), 'localdomain'),
    avpOf(a('Auth-Application-Id'), 4),
    avpOf(a('Service-Context-Id'), '32260@3gpp.org'),
    avpOf(a('CC-Request-Type'), input.type),
    avpOf(a('CC-Request-Number'), input.number),
  ];
  if (input.e164 !== undefined) {
    avps.push(
      avpOf(a('Subscription-Id'), [
        avpOf(a('Subscription-Id-Type'), 0),
        avpOf(a('Subscription-Id-Data'), input.e164),
      ]),
    );
  }
  if (input.pin !== undefined) {
    avps.push(
      avpOf(a('Subscription-Id'), [
        avpOf(a('Subscription-Id-Type'), 4),
        avpOf(a('Subscription-Id-Data'), input.pin),
      ]),
    );
  }
  if (input.requestedAction !== undefined) {
    avps.push(avpOf(a('Requested-Action'), input.requestedAction));
  }
  const units: AvpOut[] = [];
  if (input.requestedSeconds !== undefined) {
    units.push(avpOf(a('Requested-Service-Unit'), [avpOf(a('CC-Time'), input.requestedSeconds)]));
  }
  if (input.usedSeconds !== undefined) {
    units.push(avpOf(a('Used-Service-Unit'), [avpOf(a('CC-Time'), input.usedSeconds)]));
  }
  if (input.ratingGroup !== undefined) {
    avps.push(avpOf(a('Multiple-Services-Indicator'), 1));
    avps.push(
      avpOf(a('Multiple-Services-Credit-Control'), [
        ...units,
        avpOf(a('Rating-Group'), input.ratingGroup),
      ]),
    );
  } else avps.push(...units);
  if (input.destination !== undefined) {
    avps.push(
      avpOf(a('Service-Information'), [
        avpOf(a('IMS-Information'), [
          avpOf(a('Node-Functionality'), 6),
          avpOf(a('Called-Party-Address'), `tel:${input.destination}`),
        ]),
      ]),
    );
  }
  avps.push(...(input.extra ?? []));
  return avps;
}

export class DiameterClient {
  readonly originHost: string;
  private readonly socket: Socket;
  private readonly reader = new DiameterFrameReader({ frameBytesMax: 1 << 20 });
  private readonly waiting = new Map<number, (answer: DiameterMessage) => void>();
  private hopByHop = 1;
  private endToEnd = 0x10_0000;
  /** Requests the server sent us (ASR, RAR), answered with 2001. */
  readonly serverRequests: DiameterMessage[] = [];
  /** Answers that matched no request of ours. */
  readonly strayAnswers: DiameterMessage[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  /** Result-Code to answer the server's ASR with. */
  abortAnswerCode = 2001;

  private constructor(socket: Socket, originHost: string) {
    this.socket = socket;
    this.originHost = originHost;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) this.received(frame);
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number, originHost = 'ocs-client.test'): Promise<DiameterClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new DiameterClient(socket, originHost);
  }

  private received(frame: Buffer): void {
    const { message } = decodeMessage(frame);
    if (message.request) {
      this.serverRequests.push(message);
      const code = message.commandCode === 274 ? this.abortAnswerCode : 2001;
      const session = findAvp(message.avps, a('Session-Id'));
      this.write(
        encodeMessage({
          ...message,
          request: false,
          retransmit: false,
          avps: [
            ...(session ? [session] : []),
            avpOf(a('Result-Code'), code),
            avpOf(a('Origin-Host'), this.originHost),
            avpOf(a('Origin-Realm'), 'test.example'),
          ],
        }),
      );
      return;
    }
    const resolve = this.waiting.get(message.hopByHop);
    if (!resolve) {
      this.strayAnswers.push(message);
      return;
    }
    this.waiting.delete(message.hopByHop);
    resolve(message);
  }

  write(bytes: Buffer): void {
    if (!this.isClosed) this.socket.write(bytes);
  }

  /** Sends a request and resolves with its answer; rejects when the connection closes first. */
  request(
    message: Omit<MessageOut, 'hopByHop' | 'endToEnd' | 'request' | 'error'> & {
      endToEnd?: number | undefined;
      hopByHop?: number | undefined;
    },
    timeoutMs = 10_000,
  ): Promise<DiameterMessage> {
    const hopByHop = message.hopByHop ?? this.hopByHop++;
    const endToEnd = message.endToEnd ?? this.endToEnd++;
    const answer = this.answerTo(hopByHop, timeoutMs);
    this.write(encodeMessage({ ...message, hopByHop, endToEnd, request: true, error: false }));
    return answer;
  }

  /** The answer to the request with this hop-by-hop id, sent by other means (raw bytes). */
  answerTo(hopByHop: number, timeoutMs = 10_000): Promise<DiameterMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(hopByHop);
        reject(new Error(`no answer to hop-by-hop ${hopByHop} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(hopByHop, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      void this.closed.then(() => {
        if (!this.waiting.has(hopByHop)) return;
        this.waiting.delete(hopByHop);
        clearTimeout(timer);
        reject(new Error('the connection closed'));
      });
    });
  }

  nextHopByHop(): number {
    return this.hopByHop++;
  }

  cer(applicationId = 4): Promise<DiameterMessage> {
    return this.request({
      commandCode: 257,
      applicationId: 0,
      proxiable: false,
      retransmit: false,
      avps: [
        avpOf(a('Origin-Host'), this.originHost),
        avpOf(a('Origin-Realm'), 'test.example'),
        avpOf(a('Host-IP-Address'), '127.0.0.1'),
        avpOf(a('Vendor-Id'), 0),
        avpOf(a('Product-Name'), 'tollgate-test-client'),
        avpOf(a('Supported-Vendor-Id'), vendor3gpp),
        avpOf(a('Auth-Application-Id'), applicationId),
      ],
    });
  }

  ccr(input: CcrInput): Promise<DiameterMessage> {
    return this.request({
      commandCode: 272,
      applicationId: 4,
      proxiable: true,
      retransmit: input.retransmit ?? false,
      endToEnd: input.endToEnd,
      avps: ccrAvps(input, this.originHost),
    });
  }

  dwr(): Promise<DiameterMessage> {
    return this.request({
      commandCode: 280,
      applicationId: 0,
      proxiable: false,
      retransmit: false,
      avps: [avpOf(a('Origin-Host'), this.originHost), avpOf(a('Origin-Realm'), 'test.example')],
    });
  }

  dpr(): Promise<DiameterMessage> {
    return this.request({
      commandCode: 282,
      applicationId: 0,
      proxiable: false,
      retransmit: false,
      avps: [
        avpOf(a('Origin-Host'), this.originHost),
        avpOf(a('Origin-Realm'), 'test.example'),
        avpOf(a('Disconnect-Cause'), 2),
      ],
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export function resultCodeOf(message: DiameterMessage): number | undefined {
  return u32Of(findAvp(message.avps, a('Result-Code')));
}

/** A CC-Time inside a grouped AVP (Granted-Service-Unit) at the top or inside the MSCC. */
export function grantedSecondsOf(message: DiameterMessage): number | undefined {
  const mscc = findAvp(message.avps, a('Multiple-Services-Credit-Control'));
  const scope = mscc?.children ?? message.avps;
  const gsu = findAvp(scope, a('Granted-Service-Unit'));
  return u32Of(findAvp(gsu?.children ?? [], a('CC-Time')));
}
