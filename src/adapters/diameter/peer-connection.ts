// One TCP connection from a Diameter peer: framing, bounded buffers, the peer state (waiting
// for CER, open, closing), and the requests Tollgate sends on it (DWR, ASR, RAR) matched to
// their answers by hop-by-hop id. What the messages mean is the agent's (diameter-agent.ts).

import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Caller } from '../../core/shared/principal.ts';
import { type DiameterMessage, encodeMessage, type MessageOut } from './diameter-codec.ts';
import { DiameterFrameReader, FrameError } from './frame-reader.ts';

export type PeerState = 'wait-cer' | 'open' | 'closing';

/** Who the connection is, once its CER was accepted. */
export interface PeerInfo {
  readonly originHost: string;
  readonly originRealm: string;
  readonly caller: Caller;
}

export interface ConnectionLimits {
  /** The longest message read; a longer one closes the connection. */
  readonly frameBytesMax: number;
  /** Bytes written and not yet sent beyond which the peer is not reading: it is dropped. */
  readonly unsentBytesMax: number;
  /** Requests being answered at which reading pauses, until half of them are done. */
  readonly requestsInFlightMax: number;
}

export interface ConnectionHandlers {
  frame(connection: PeerConnection, frame: Buffer): void;
  frameError(connection: PeerConnection, error: FrameError): void;
  closed(connection: PeerConnection, why: string): void;
}

interface Pending {
  readonly resolve: (answer: DiameterMessage) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class PeerConnection {
  readonly socket: Socket;
  readonly name: string;
  state: PeerState = 'wait-cer';
  peer: PeerInfo | null = null;
  /** When the last message arrived, and whether a DWR of ours is unanswered. */
  lastHeardMs: number;
  watchdogSent = false;
  readonly openedMs: number;
  private readonly reader: DiameterFrameReader;
  private readonly limits: ConnectionLimits;
  private readonly handlers: ConnectionHandlers;
  private readonly pending = new Map<number, Pending>();
  private nextHopByHop = randomInt(0x7fff_ffff);
  private inFlight = 0;
  private paused = false;
  private corked = false;
  private closedWhy: string | null = null;

  constructor(
    socket: Socket,
    options: { limits: ConnectionLimits; handlers: ConnectionHandlers; nowMs: number },
  ) {
    this.socket = socket;
    this.name = `${socket.remoteAddress}:${socket.remotePort}`;
    this.limits = options.limits;
    this.handlers = options.handlers;
    this.reader = new DiameterFrameReader({ frameBytesMax: options.limits.frameBytesMax });
    this.lastHeardMs = options.nowMs;
    this.openedMs = options.nowMs;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', (error) => this.close(error.message));
    socket.on('close', () => this.close('closed by the peer'));
  }

  get open(): boolean {
    return this.state === 'open' && this.closedWhy === null;
  }

  get closed(): boolean {
    return this.closedWhy !== null;
  }

  private data(chunk: Buffer): void {
    if (this.closedWhy !== null) return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.handlers.frameError(this, error);
      return;
    }
    for (const frame of frames) {
      if (this.closedWhy !== null) return;
      this.handlers.frame(this, frame);
    }
  }

  /** Writes one message; false (and the connection dropped) when the peer stopped reading. */
  send(message: MessageOut | Buffer): boolean {
    if (this.closedWhy !== null) return false;
    if (this.socket.writableLength > this.limits.unsentBytesMax) {
      this.drop('the peer does not read its answers');
      return false;
    }
    // Answers of one turn of the event loop go out in as few segments as possible.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(Buffer.isBuffer(message) ? message : encodeMessage(message));
    return true;
  }

  /** Sends a request of ours and resolves with its answer, or rejects after `timeoutMs`. */
  request(
    message: Omit<MessageOut, 'hopByHop' | 'request'>,
    timeoutMs: number,
  ): Promise<DiameterMessage> {
    const hopByHop = this.nextHopByHop;
    this.nextHopByHop = (this.nextHopByHop + 1) >>> 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(hopByHop);
        reject(
          new Error(`no answer from ${this.peer?.originHost ?? this.name} in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.pending.set(hopByHop, { resolve, reject, timer });
      if (!this.send({ ...message, hopByHop, request: true })) {
        clearTimeout(timer);
        this.pending.delete(hopByHop);
        reject(new Error(`the connection to ${this.peer?.originHost ?? this.name} is closed`));
      }
    });
  }

  /** Hands an answer to the request it answers; false when no request of ours waits for it. */
  answered(message: DiameterMessage): boolean {
    const waiting = this.pending.get(message.hopByHop);
    if (!waiting) return false;
    this.pending.delete(message.hopByHop);
    clearTimeout(waiting.timer);
    waiting.resolve(message);
    return true;
  }

  /** Counts a request being answered, and pauses reading past the limit. */
  started(): void {
    this.inFlight += 1;
    if (this.inFlight >= this.limits.requestsInFlightMax && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  finished(): void {
    this.inFlight -= 1;
    if (this.paused && this.inFlight <= this.limits.requestsInFlightMax / 2) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Sends what is written, then closes. */
  end(why: string): void {
    if (this.closedWhy !== null) return;
    this.state = 'closing';
    this.socket.end();
    // A peer that never closes its side must not hold the socket.
    setTimeout(() => this.drop(why), 2000).unref();
  }

  /** Closes now, unsent bytes lost. */
  drop(why: string): void {
    this.socket.destroy();
    this.close(why);
  }

  private close(why: string): void {
    if (this.closedWhy !== null) return;
    this.closedWhy = why;
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error(`the connection closed: ${why}`));
    }
    this.pending.clear();
    this.handlers.closed(this, why);
  }
}
