// The RFC 6733 wire format: a 20-byte header (version, length, flags R/P/E/T, command code,
// application id, hop-by-hop and end-to-end ids) and AVPs (code, flags V/M/P, length, an optional
// Vendor-Id, data padded to 4 bytes), grouped AVPs holding AVPs. Decoding checks what a receiver
// must (lengths, flag bits, fixed-size types, UTF-8, nesting depth, mandatory AVPs it does not
// know) and reports the first problem as the Result-Code and Failed-AVP the answer carries,
// instead of throwing: a peer's bad message is an outcome, answered on the wire.

import { isUtf8 } from 'node:buffer';
import { type AvpDefinition, avpDefinition, baseResultCodes } from './avp-dictionary.ts';

export const headerBytes = 20;
const avpHeaderBytes = 8;
const vendorIdBytes = 4;

export const commandFlags = { request: 0x80, proxiable: 0x40, error: 0x20, retransmit: 0x10 };
const commandFlagsReserved = 0x0f;
export const avpFlags = { vendor: 0x80, mandatory: 0x40, protected: 0x20 };
const avpFlagsReserved = 0x1f;

/** Seconds between the NTP epoch (1900), which Diameter's Time counts from, and 1970. */
const ntpEpochOffsetSeconds = 2_208_988_800;

/** An AVP to send, or one received (then `data` holds its bytes, grouped or not). */
export interface AvpOut {
  readonly code: number;
  /** 0 for an AVP without a Vendor-Id. */
  readonly vendorId: number;
  readonly mandatory: boolean;
  readonly protected?: boolean | undefined;
  /** The data, unpadded; for a grouped AVP to send, `children` instead. */
  readonly data?: Buffer | undefined;
  readonly children?: readonly AvpOut[] | null | undefined;
}

/** An AVP as received: its bytes, and its AVPs when the dictionary says it is grouped. */
export interface Avp extends AvpOut {
  readonly data: Buffer;
  readonly children: readonly Avp[] | null;
}

export interface MessageHeader {
  readonly commandCode: number;
  readonly applicationId: number;
  readonly request: boolean;
  readonly proxiable: boolean;
  readonly error: boolean;
  /** The T flag: the sender may have sent this request before. */
  readonly retransmit: boolean;
  readonly hopByHop: number;
  readonly endToEnd: number;
}

export interface DiameterMessage extends MessageHeader {
  readonly avps: readonly Avp[];
}

export interface MessageOut extends MessageHeader {
  readonly avps: readonly AvpOut[];
}

/** Why a received message cannot be served, as its answer says it. */
export interface DecodeProblem {
  readonly resultCode: number;
  readonly failedAvp: AvpOut | null;
  readonly text: string;
}

export interface DecodeLimits {
  /** Grouped AVPs inside grouped AVPs, counted from the message's own AVPs (depth 1). */
  readonly groupDepthMax: number;
}

export const decodeLimitsDefaults: DecodeLimits = { groupDepthMax: 8 };

// --- encoding ----------------------------------------------------------------------------

function dataBytesOf(avp: AvpOut): number {
  if (avp.data !== undefined) return avp.data.length;
  let total = 0;
  for (const child of avp.children ?? []) total += paddedBytesOf(child);
  return total;
}

function paddedBytesOf(avp: AvpOut): number {
  const length = avpHeaderBytes + (avp.vendorId === 0 ? 0 : vendorIdBytes) + dataBytesOf(avp);
  return (length + 3) & ~3;
}

function writeAvp(buffer: Buffer, offset: number, avp: AvpOut): number {
  const vendor = avp.vendorId !== 0;
  const dataBytes = dataBytesOf(avp);
  const length = avpHeaderBytes + (vendor ? vendorIdBytes : 0) + dataBytes;
  buffer.writeUInt32BE(avp.code >>> 0, offset);
  const flags =
    (vendor ? avpFlags.vendor : 0) |
    (avp.mandatory ? avpFlags.mandatory : 0) |
    (avp.protected ? avpFlags.protected : 0);
  buffer.writeUInt32BE(((flags << 24) | length) >>> 0, offset + 4);
  let at = offset + avpHeaderBytes;
  if (vendor) {
    buffer.writeUInt32BE(avp.vendorId >>> 0, at);
    at += vendorIdBytes;
  }
  if (avp.data !== undefined) {
    avp.data.copy(buffer, at);
    at += avp.data.length;
  } else {
    for (const child of avp.children ?? []) at = writeAvp(buffer, at, child);
  }
  const end = offset + ((length + 3) & ~3);
  buffer.fill(0, at, end);
  return end;
}

/** One message, ready to write in one `write`. */
export function encodeMessage(message: MessageOut): Buffer {
  let length = headerBytes;
  for (const avp of message.avps) length += paddedBytesOf(avp);
  const buffer = Buffer.allocUnsafe(length);
  buffer.writeUInt32BE(((1 << 24) | length) >>> 0, 0);
  const flags =
    (message.request ? commandFlags.request : 0) |
    (message.proxiable ? commandFlags.proxiable : 0) |
    (message.error ? commandFlags.error : 0) |
    (message.retransmit ? commandFlags.retransmit : 0);
  buffer.writeUInt32BE(((flags << 24) | message.commandCode) >>> 0, 4);
  buffer.writeUInt32BE(message.applicationId >>> 0, 8);
  buffer.writeUInt32BE(message.hopByHop >>> 0, 12);
  buffer.writeUInt32BE(message.endToEnd >>> 0, 16);
  let at = headerBytes;
  for (const avp of message.avps) at = writeAvp(buffer, at, avp);
  return buffer;
}

/** An AVP of a dictionary definition, its value encoded by the definition's type. */
export function avpOf(
  definition: AvpDefinition,
  value: number | bigint | string | Buffer | readonly AvpOut[],
): AvpOut {
  const base = {
    code: definition.code,
    vendorId: definition.vendorId,
    mandatory: definition.mandatory,
  };
  if (Array.isArray(value)) return { ...base, children: value as readonly AvpOut[] };
  return { ...base, data: encodeValue(definition, value as number | bigint | string | Buffer) };
}

function encodeValue(definition: AvpDefinition, value: number | bigint | string | Buffer): Buffer {
  if (Buffer.isBuffer(value)) return value;
  switch (definition.type) {
    case 'Unsigned32':
    case 'Enumerated':
    case 'Integer32':
    case 'Time': {
      const data = Buffer.allocUnsafe(4);
      if (definition.type === 'Integer32') data.writeInt32BE(Number(value));
      else if (definition.type === 'Time') {
        data.writeUInt32BE((Math.floor(Number(value) / 1000) + ntpEpochOffsetSeconds) >>> 0);
      } else data.writeUInt32BE(Number(value) >>> 0);
      return data;
    }
    case 'Unsigned64':
    case 'Integer64': {
      const data = Buffer.allocUnsafe(8);
      if (definition.type === 'Integer64') data.writeBigInt64BE(BigInt(value));
      else data.writeBigUInt64BE(BigInt(value));
      return data;
    }
    case 'Address':
      return encodeAddress(String(value));
    default:
      return Buffer.from(String(value), 'utf8');
  }
}

/** An IPv4 or IPv6 address as RFC 6733's Address type: a 2-byte family, then the address. */
function encodeAddress(text: string): Buffer {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) return Buffer.from([0, 1, ...v4.slice(1).map(Number)]);
  const data = Buffer.alloc(18);
  data.writeUInt16BE(2, 0);
  const [head = '', tail = ''] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  for (const [i, group] of groups.entries()) {
    data.writeUInt16BE(Number.parseInt(group || '0', 16), 2 + i * 2);
  }
  return data;
}

// --- decoding ----------------------------------------------------------------------------

/** The header of a whole frame (the reader has checked its version and length). */
export function decodeHeader(frame: Buffer): MessageHeader {
  const flags = frame[4]!;
  return {
    commandCode: frame.readUInt32BE(4) & 0xff_ffff,
    applicationId: frame.readUInt32BE(8),
    request: (flags & commandFlags.request) !== 0,
    proxiable: (flags & commandFlags.proxiable) !== 0,
    error: (flags & commandFlags.error) !== 0,
    retransmit: (flags & commandFlags.retransmit) !== 0,
    hopByHop: frame.readUInt32BE(12),
    endToEnd: frame.readUInt32BE(16),
  };
}

/**
 * A whole frame (exactly its Message Length) as a message, and the first problem found in it.
 * The AVPs read before and around a problem are kept, so the answer can carry Session-Id.
 */
export function decodeMessage(
  frame: Buffer,
  limits: DecodeLimits = decodeLimitsDefaults,
): { message: DiameterMessage; problem: DecodeProblem | null } {
  const header = decodeHeader(frame);
  const state: { problem: DecodeProblem | null } = { problem: null };
  const flags = frame[4]!;
  if ((flags & commandFlagsReserved) !== 0 || (header.request && header.error)) {
    state.problem = {
      resultCode: baseResultCodes.invalidHeaderBits,
      failedAvp: null,
      text: 'the header has reserved or contradictory flag bits set',
    };
  }
  const avps = decodeAvps(frame, headerBytes, frame.length, 1, limits, state);
  return { message: { ...header, avps }, problem: state.problem };
}

function decodeAvps(
  buffer: Buffer,
  start: number,
  end: number,
  depth: number,
  limits: DecodeLimits,
  state: { problem: DecodeProblem | null },
): Avp[] {
  const avps: Avp[] = [];
  let at = start;
  while (at < end) {
    const found = decodeAvp(buffer, at, end, depth, limits, state);
    if (found === null) break;
    avps.push(found.avp);
    at = found.next;
  }
  return avps;
}

function decodeAvp(
  buffer: Buffer,
  at: number,
  end: number,
  depth: number,
  limits: DecodeLimits,
  state: { problem: DecodeProblem | null },
): { avp: Avp; next: number } | null {
  const report = (resultCode: number, failedAvp: AvpOut | null, text: string) => {
    state.problem ??= { resultCode, failedAvp, text };
  };
  if (end - at < avpHeaderBytes) {
    report(baseResultCodes.invalidMessageLength, null, 'bytes after the last AVP');
    return null;
  }
  const code = buffer.readUInt32BE(at);
  const flags = buffer[at + 4]!;
  const length = buffer.readUInt32BE(at + 4) & 0xff_ffff;
  const vendor = (flags & avpFlags.vendor) !== 0;
  const dataStart = at + avpHeaderBytes + (vendor ? vendorIdBytes : 0);
  const vendorId = vendor && at + 12 <= end ? buffer.readUInt32BE(at + 8) : 0;
  const mandatory = (flags & avpFlags.mandatory) !== 0;
  const padded = (length + 3) & ~3;
  if (length < dataStart - at || at + padded > end) {
    // The AVP's length cannot be right: nothing after it can be framed.
    const shown = Buffer.from(buffer.subarray(Math.min(dataStart, end), Math.min(at + 64, end)));
    report(
      baseResultCodes.invalidAvpLength,
      { code, vendorId, mandatory, data: shown },
      `AVP ${code} has length ${length}, which does not fit`,
    );
    return null;
  }
  const data = buffer.subarray(dataStart, at + length);
  const next = at + padded;
  const avp = (children: readonly Avp[] | null): Avp => ({
    code,
    vendorId,
    mandatory,
    protected: (flags & avpFlags.protected) !== 0,
    data,
    children,
  });
  if ((flags & avpFlagsReserved) !== 0) {
    report(baseResultCodes.invalidAvpBits, copyOf(avp(null)), `AVP ${code} has reserved bits set`);
    return { avp: avp(null), next };
  }
  const definition = avpDefinition(code, vendorId);
  if (definition === undefined) {
    if (mandatory) {
      report(baseResultCodes.avpUnsupported, copyOf(avp(null)), `AVP ${code} is not supported`);
    }
    return { avp: avp(null), next };
  }
  const invalid = typeProblem(definition, data);
  if (invalid !== null) {
    report(invalid, copyOf(avp(null)), `${definition.name} is malformed`);
    return { avp: avp(null), next };
  }
  if (definition.type !== 'Grouped') return { avp: avp(null), next };
  if (depth >= limits.groupDepthMax) {
    report(
      baseResultCodes.unableToComply,
      { code, vendorId, mandatory, data: Buffer.alloc(0) },
      `grouped AVPs nest deeper than ${limits.groupDepthMax}`,
    );
    return { avp: avp(null), next };
  }
  const inner: { problem: DecodeProblem | null } = { problem: null };
  const children = decodeAvps(buffer, dataStart, at + length, depth + 1, limits, inner);
  if (inner.problem !== null) {
    // The answer's Failed-AVP holds the grouped AVP with only the offending AVP inside.
    const failed = inner.problem.failedAvp;
    report(
      inner.problem.resultCode,
      failed === null ? null : { code, vendorId, mandatory, children: [failed] },
      inner.problem.text,
    );
  }
  return { avp: avp(children), next };
}

/** A Failed-AVP must not keep a view of the whole frame alive: copy its bytes. */
function copyOf(avp: Avp): AvpOut {
  return {
    code: avp.code,
    vendorId: avp.vendorId,
    mandatory: avp.mandatory,
    data: Buffer.from(avp.data),
  };
}

function typeProblem(definition: AvpDefinition, data: Buffer): number | null {
  switch (definition.type) {
    case 'Unsigned32':
    case 'Integer32':
    case 'Enumerated':
    case 'Time':
      return data.length === 4 ? null : baseResultCodes.invalidAvpLength;
    case 'Unsigned64':
    case 'Integer64':
      return data.length === 8 ? null : baseResultCodes.invalidAvpLength;
    case 'Address': {
      if (data.length < 2) return baseResultCodes.invalidAvpLength;
      const family = data.readUInt16BE(0);
      if (family === 1 && data.length !== 6) return baseResultCodes.invalidAvpLength;
      if (family === 2 && data.length !== 18) return baseResultCodes.invalidAvpLength;
      return null;
    }
    case 'UTF8String':
    case 'DiameterIdentity':
      return isUtf8(data) ? null : baseResultCodes.invalidAvpValue;
    default:
      return null;
  }
}

// --- reading values ----------------------------------------------------------------------

/** The first AVP of a definition among `avps`, or undefined. */
export function findAvp(avps: readonly Avp[], definition: AvpDefinition): Avp | undefined {
  for (const avp of avps) {
    if (avp.code === definition.code && avp.vendorId === definition.vendorId) return avp;
  }
  return undefined;
}

/** Every AVP of a definition among `avps`, in order. */
export function findAvps(avps: readonly Avp[], definition: AvpDefinition): Avp[] {
  return avps.filter((avp) => avp.code === definition.code && avp.vendorId === definition.vendorId);
}

/**
 * The first AVP with this code and vendor anywhere in the message, depth first: for values
 * a client may put at the top or inside Service-Information.
 */
export function findDeep(
  avps: readonly Avp[],
  key: { readonly code: number; readonly vendorId: number },
): Avp | undefined {
  for (const avp of avps) {
    if (avp.code === key.code && avp.vendorId === key.vendorId) return avp;
    if (avp.children) {
      const inner = findDeep(avp.children, key);
      if (inner) return inner;
    }
  }
  return undefined;
}

export function u32Of(avp: Avp | undefined): number | undefined {
  return avp && avp.data.length === 4 ? avp.data.readUInt32BE(0) : undefined;
}

export function u64Of(avp: Avp | undefined): bigint | undefined {
  return avp && avp.data.length === 8 ? avp.data.readBigUInt64BE(0) : undefined;
}

export function i64Of(avp: Avp | undefined): bigint | undefined {
  return avp && avp.data.length === 8 ? avp.data.readBigInt64BE(0) : undefined;
}

export function i32Of(avp: Avp | undefined): number | undefined {
  return avp && avp.data.length === 4 ? avp.data.readInt32BE(0) : undefined;
}

export function textOf(avp: Avp | undefined): string | undefined {
  return avp ? avp.data.toString('utf8') : undefined;
}

/** A Time AVP as epoch milliseconds. */
export function timeOf(avp: Avp | undefined): number | undefined {
  const seconds = u32Of(avp);
  return seconds === undefined ? undefined : (seconds - ntpEpochOffsetSeconds) * 1000;
}

/** The AVPs of a grouped AVP (empty when it is absent or not grouped). */
export function groupOf(avp: Avp | undefined): readonly Avp[] {
  return avp?.children ?? [];
}
