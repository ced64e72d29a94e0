// Netstrings (`<length>:<bytes>,`), the framing Kamailio's evapi module uses on its TCP socket
// in both directions (modparam netstring_format 1, the default). The reader is bounded: a frame
// longer than its limit, or bytes that are not a netstring, end the connection rather than grow
// a buffer without end.

/** A frame from the peer that is not a netstring, or is longer than the reader accepts. */
export class NetstringError extends Error {
  override name = 'NetstringError';
}

/** One frame, ready to write: `12:{"a":"bcd"},`. Written whole, in one `write`, so Kamailio
 * (which parses what each read returns) never sees a frame cut before its comma. */
export function encodeNetstring(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'latin1'), body, Buffer.from(',')]);
}

const colon = 0x3a;
const comma = 0x2c;

/** The longest length prefix we read: 9 digits is already far more than any limit. */
const lengthDigitsMax = 9;

/**
 * Splits a byte stream into frames. Feed it each chunk as it arrives; it returns the frames the
 * chunk completed, in order, and keeps an unfinished one for the next chunk. Whitespace between
 * frames is skipped, as Kamailio's own reader does.
 */
export class NetstringReader {
  private pending: Buffer = Buffer.alloc(0);
  private readonly frameBytesMax: number;

  constructor(options: { frameBytesMax: number }) {
    this.frameBytesMax = options.frameBytesMax;
  }

  /** The frames `chunk` completes; throws `NetstringError` on bytes that cannot be a frame. */
  push(chunk: Buffer): string[] {
    let buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: string[] = [];
    for (;;) {
      let start = 0;
      while (start < buffer.length && isSpace(buffer[start]!)) start += 1;
      buffer = buffer.subarray(start);
      const header = buffer.subarray(0, lengthDigitsMax + 1);
      const colonAt = header.indexOf(colon);
      if (colonAt < 0) {
        if (header.length > lengthDigitsMax || !allDigits(header)) {
          throw new NetstringError('a netstring length is not digits followed by a colon');
        }
        break;
      }
      const digits = buffer.subarray(0, colonAt);
      if (digits.length === 0 || !allDigits(digits)) {
        throw new NetstringError('a netstring length is not digits followed by a colon');
      }
      const length = Number(digits.toString('latin1'));
      if (length > this.frameBytesMax) {
        throw new NetstringError(`a frame of ${length} bytes is over ${this.frameBytesMax}`);
      }
      const end = colonAt + 1 + length;
      if (buffer.length <= end) break;
      if (buffer[end] !== comma) throw new NetstringError('a netstring does not end in a comma');
      frames.push(buffer.toString('utf8', colonAt + 1, end));
      buffer = buffer.subarray(end + 1);
    }
    // Copied, so the kept bytes do not pin the whole chunk they came in.
    this.pending = Buffer.from(buffer);
    return frames;
  }

  /** Bytes received that do not yet make a whole frame. */
  get bufferedBytes(): number {
    return this.pending.length;
  }
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;
}

function allDigits(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte < 0x30 || byte > 0x39) return false;
  return true;
}
