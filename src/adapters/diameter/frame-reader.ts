// Splits a TCP byte stream into Diameter messages by the Message Length in each header, so
// pipelined messages (many in one chunk) and split ones (one over many chunks) both come out
// whole. Bounded: a header whose version or length cannot be right, or a message longer than the
// limit, ends the stream with a `FrameError` rather than grow a buffer without end.

import { baseResultCodes } from './avp-dictionary.ts';
import { headerBytes } from './diameter-codec.ts';

/** The stream cannot be framed further; `header` is the bad message's header when it was read. */
export class FrameError extends Error {
  override name = 'FrameError';
  readonly resultCode: number;
  /** The first 20 bytes of the bad message, copied, when they had arrived; else null. */
  readonly header: Buffer | null;

  constructor(message: string, resultCode: number, header: Buffer | null) {
    super(message);
    this.resultCode = resultCode;
    this.header = header;
  }
}

export class DiameterFrameReader {
  private pending: Buffer = Buffer.alloc(0);
  /** Chunks after `pending` not yet joined to it, and the length the message there needs. */
  private waiting: { chunks: Buffer[]; bytes: number } = { chunks: [], bytes: 0 };
  private needed = 0;
  private readonly frameBytesMax: number;

  constructor(options: { readonly frameBytesMax: number }) {
    this.frameBytesMax = options.frameBytesMax;
  }

  /** The whole messages `chunk` completes, in order; throws `FrameError` when it cannot frame. */
  push(chunk: Buffer): Buffer[] {
    if (
      this.pending.length > 0 &&
      this.pending.length + this.waiting.bytes + chunk.length < this.needed
    ) {
      // Part of a long message: kept aside, and joined once, when the message is whole.
      this.waiting.chunks.push(Buffer.from(chunk));
      this.waiting.bytes += chunk.length;
      return [];
    }
    let buffer =
      this.pending.length === 0
        ? chunk
        : Buffer.concat([this.pending, ...this.waiting.chunks, chunk]);
    this.waiting = { chunks: [], bytes: 0 };
    this.needed = 0;
    const frames: Buffer[] = [];
    while (buffer.length >= 4) {
      const version = buffer[0]!;
      const length = buffer.readUInt32BE(0) & 0xff_ffff;
      const header = buffer.length >= headerBytes ? Buffer.from(buffer.subarray(0, 20)) : null;
      if (version !== 1) {
        throw new FrameError(
          `version ${version} is not 1`,
          baseResultCodes.unsupportedVersion,
          header,
        );
      }
      if (length < headerBytes || length % 4 !== 0 || length > this.frameBytesMax) {
        throw new FrameError(
          `a message length of ${length} is not a multiple of 4 from 20 to ${this.frameBytesMax}`,
          baseResultCodes.invalidMessageLength,
          header,
        );
      }
      if (buffer.length < length) {
        this.needed = length;
        break;
      }
      frames.push(buffer.subarray(0, length));
      buffer = buffer.subarray(length);
    }
    // Copied, so the kept bytes do not pin the whole chunk they came in.
    this.pending = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer);
    return frames;
  }

  /** Bytes received that do not yet make a whole message. */
  get bufferedBytes(): number {
    return this.pending.length + this.waiting.bytes;
  }
}
