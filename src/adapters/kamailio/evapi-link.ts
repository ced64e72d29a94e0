// One TCP connection from Tollgate to a Kamailio evapi socket (Kamailio listens on evapi's
// bind_addr; its clients connect). The link frames netstrings both ways, reconnects with
// exponential backoff when the connection fails or closes, and bounds what it buffers: a frame
// over the size limit, or a peer that stops reading until our unsent bytes pass their limit,
// closes the connection (it reconnects), instead of letting memory grow.

import { randomInt } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { encodeNetstring, NetstringError, NetstringReader } from './netstring.ts';

export interface EvapiAddress {
  readonly host: string;
  readonly port: number;
}

export interface EvapiLinkLimits {
  /** The longest frame accepted from Kamailio (its own receive buffer is 32 KiB). */
  readonly frameBytesMax: number;
  /** Bytes written but not yet taken by the peer before the link gives up on it. */
  readonly unsentBytesMax: number;
  /** The first reconnection delay; it doubles per failed attempt up to `reconnectDelayMaxMs`. */
  readonly reconnectDelayMinMs: number;
  readonly reconnectDelayMaxMs: number;
  /** A connection attempt that takes longer fails. */
  readonly connectTimeoutMs: number;
}

export const evapiLinkLimitsDefaults: EvapiLinkLimits = {
  frameBytesMax: 65_536,
  unsentBytesMax: 4 * 1024 * 1024,
  reconnectDelayMinMs: 250,
  reconnectDelayMaxMs: 10_000,
  connectTimeoutMs: 5000,
};

export interface EvapiLinkHandlers {
  opened(link: EvapiLink): void;
  frame(link: EvapiLink, frame: string): void;
  closed(link: EvapiLink, why: string): void;
}

export class EvapiLink {
  readonly address: EvapiAddress;
  /** `host:port`, for logs. */
  readonly name: string;
  private readonly limits: EvapiLinkLimits;
  private readonly handlers: EvapiLinkHandlers;
  private socket: Socket | null = null;
  private reader: NetstringReader;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private paused = false;
  /** Increases with every connection, so that state kept per connection can tell them apart. */
  generation = 0;

  constructor(address: EvapiAddress, handlers: EvapiLinkHandlers, limits: EvapiLinkLimits) {
    this.address = address;
    this.name = `${address.host}:${address.port}`;
    this.handlers = handlers;
    this.limits = limits;
    this.reader = new NetstringReader({ frameBytesMax: limits.frameBytesMax });
  }

  get connected(): boolean {
    return this.socket !== null && !this.socket.connecting && !this.socket.destroyed;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  /** Closes the connection for good: no reconnection. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.socket?.destroy();
  }

  /** Writes one JSON message; false (and the connection closed) when it cannot be sent. */
  send(message: object): boolean {
    const socket = this.socket;
    if (!socket || !this.connected) return false;
    const frame = encodeNetstring(JSON.stringify(message));
    if (socket.writableLength + frame.length > this.limits.unsentBytesMax) {
      this.drop(`Kamailio is not reading: over ${this.limits.unsentBytesMax} bytes unsent`);
      return false;
    }
    socket.write(frame);
    return true;
  }

  /** Ends this connection; a new one follows after the backoff delay. */
  drop(why: string): void {
    const socket = this.socket;
    if (!socket) return;
    socket.destroy(new Error(why));
  }

  /**
   * Stops reading from Kamailio (its evapi dispatcher then waits on its writes to us) until
   * `resume`, so that a burst of events cannot queue without bound here.
   */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket?.resume();
  }

  /** A successful exchange: the next failure starts the backoff from its minimum again. */
  healthy(): void {
    this.failures = 0;
  }

  /** Reconnects after the longest backoff delay (the peer refused us; retrying soon is futile). */
  backOffFully(): void {
    this.failures = Math.max(this.failures, 32);
  }

  private open(): void {
    this.retryTimer = null;
    if (this.stopped) return;
    this.generation += 1;
    this.reader = new NetstringReader({ frameBytesMax: this.limits.frameBytesMax });
    this.paused = false;
    const socket = connect({ host: this.address.host, port: this.address.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.setTimeout(this.limits.connectTimeoutMs, () => {
      if (socket.connecting) socket.destroy(new Error('connection attempt timed out'));
    });
    let why = 'closed by Kamailio';
    socket.once('connect', () => {
      socket.setTimeout(0);
      this.handlers.opened(this);
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: string[];
      try {
        frames = this.reader.push(chunk);
      } catch (error) {
        if (!(error instanceof NetstringError)) throw error;
        socket.destroy(error);
        return;
      }
      for (const frame of frames) {
        if (socket !== this.socket) return;
        this.handlers.frame(this, frame);
      }
    });
    socket.on('error', (error) => {
      why = error.message;
    });
    socket.once('close', () => {
      if (this.socket === socket) this.socket = null;
      this.handlers.closed(this, why);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    const { reconnectDelayMinMs: min, reconnectDelayMaxMs: max } = this.limits;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures, 20));
    this.failures += 1;
    // Up to a fifth less, so that agents restarted together do not reconnect in step.
    const jittered = Math.round(delay * (1 - randomInt(0, 200) / 1000));
    this.retryTimer = setTimeout(() => this.open(), jittered);
    this.retryTimer.unref();
  }
}
