// RADIUS packets on the wire: the header, the authenticators and Message-Authenticator, and the
// attributes. Attributes are decoded and encoded by the npm `radius` package through its RFC
// dictionaries and our Cisco dictionary below; the authenticators are computed here, from the
// RFCs, because the package compares MACs as UTF-8 text (two different MACs can compare equal)
// and signs Accounting and Disconnect requests in an order other implementations do not check
// (RFC 5176 section 3.3: Message-Authenticator over a zeroed Request Authenticator, then the
// Request Authenticator over the whole packet).

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import radius, { type Attribute, type AttributeValue } from 'radius';

/** Packet codes Tollgate reads or writes (RFC 2865, 2866, 5176). */
export const packetCodes = {
  accessRequest: 1,
  accessAccept: 2,
  accessReject: 3,
  accountingRequest: 4,
  accountingResponse: 5,
  disconnectRequest: 40,
  disconnectAck: 41,
  disconnectNak: 42,
} as const;

/** RFC 2865: a packet is 20 to 4096 octets. */
export const packetBytesMin = 20;
export const packetBytesMax = 4096;

const authenticatorStart = 4;
const authenticatorBytes = 16;
const messageAuthenticatorType = 80;
const messageAuthenticatorBytes = 16;

/** The Cisco vendor id, and the h323 VSAs calling-card platforms use (vendor type numbers). */
export const ciscoVendorId = 9;

/**
 * The Cisco VSAs as a FreeRADIUS-format dictionary, written from the attribute numbers. Kept in
 * a module rather than a file beside it: the build ships compiled TypeScript only. Cisco sends
 * and expects each h323 value as `name=value` text (`h323-credit-time=300`).
 */
const ciscoDictionary = `
VENDOR Cisco ${ciscoVendorId}
BEGIN-VENDOR Cisco
ATTRIBUTE Cisco-AVPair 1 string
ATTRIBUTE h323-remote-address 23 string
ATTRIBUTE h323-conf-id 24 string
ATTRIBUTE h323-setup-time 25 string
ATTRIBUTE h323-call-origin 26 string
ATTRIBUTE h323-call-type 27 string
ATTRIBUTE h323-connect-time 28 string
ATTRIBUTE h323-disconnect-time 29 string
ATTRIBUTE h323-disconnect-cause 30 string
ATTRIBUTE h323-gw-id 33 string
ATTRIBUTE h323-credit-amount 101 string
ATTRIBUTE h323-credit-time 102 string
ATTRIBUTE h323-return-code 103 string
ATTRIBUTE h323-billing-model 109 string
ATTRIBUTE h323-currency 110 string
END-VENDOR Cisco
`;

let dictionariesLoaded = false;

function loadDictionaries(): void {
  if (dictionariesLoaded) return;
  radius.load_dictionaries();
  radius._load_dictionary(ciscoDictionary);
  dictionariesLoaded = true;
}

export interface PacketHeader {
  readonly code: number;
  readonly identifier: number;
  /** The length the header states; octets after it are padding and ignored (RFC 2865). */
  readonly length: number;
  readonly authenticator: Buffer;
}

/** The header of a datagram, or null when it cannot be a RADIUS packet. */
export function readHeader(datagram: Buffer): PacketHeader | null {
  if (datagram.length < packetBytesMin) return null;
  const length = datagram.readUInt16BE(2);
  if (length < packetBytesMin || length > packetBytesMax || length > datagram.length) return null;
  return {
    code: datagram[0]!,
    identifier: datagram[1]!,
    length,
    authenticator: Buffer.from(datagram.subarray(authenticatorStart, authenticatorStart + 16)),
  };
}

/**
 * Where the Message-Authenticator's value starts: -1 when there is none, null when the
 * attributes do not parse (a length that overruns, a second Message-Authenticator, a wrong size).
 */
function messageAuthenticatorOffset(packet: Buffer): number | null {
  let found = -1;
  let offset = packetBytesMin;
  while (offset < packet.length) {
    if (offset + 2 > packet.length) return null;
    const type = packet[offset]!;
    const length = packet[offset + 1]!;
    if (length < 2 || offset + length > packet.length) return null;
    if (type === messageAuthenticatorType) {
      if (found !== -1 || length !== 2 + messageAuthenticatorBytes) return null;
      found = offset + 2;
    }
    offset += length;
  }
  return found;
}

function md5(...parts: Buffer[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function hmacMd5(secret: string, packet: Buffer): Buffer {
  return createHmac('md5', secret).update(packet).digest();
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A copy with the Request/Response Authenticator set to `authenticator` and the MAC zeroed. */
function withAuthenticator(packet: Buffer, authenticator: Buffer, macOffset: number): Buffer {
  const copy = Buffer.from(packet);
  authenticator.copy(copy, authenticatorStart);
  if (macOffset >= 0) copy.fill(0, macOffset, macOffset + messageAuthenticatorBytes);
  return copy;
}

const zeroAuthenticator = Buffer.alloc(authenticatorBytes);

export type RequestCheck =
  | 'ok'
  | 'attributes_malformed'
  | 'mac_missing'
  | 'mac_invalid'
  | 'authenticator_invalid';

/**
 * Whether a request (`packet` cut to its stated length) was sent with `secret`. An
 * Access-Request must carry a valid Message-Authenticator (RFC 3579, and the BlastRADIUS fix);
 * an Accounting-Request or Disconnect-Request must carry a valid Request Authenticator (RFC 2866,
 * 5176) and, when it has one, a valid Message-Authenticator.
 */
export function checkRequest(packet: Buffer, secret: string): RequestCheck {
  const macOffset = messageAuthenticatorOffset(packet);
  if (macOffset === null) return 'attributes_malformed';
  const isAccess = packet[0] === packetCodes.accessRequest;
  if (isAccess && macOffset === -1) return 'mac_missing';
  const signed = isAccess
    ? withAuthenticator(packet, packet.subarray(authenticatorStart, 20), macOffset)
    : withAuthenticator(packet, zeroAuthenticator, macOffset);
  if (!isAccess) {
    const copy = Buffer.from(packet);
    zeroAuthenticator.copy(copy, authenticatorStart);
    const expected = md5(copy, Buffer.from(secret));
    if (!same(expected, packet.subarray(authenticatorStart, 20))) return 'authenticator_invalid';
  }
  if (macOffset === -1) return 'ok';
  const mac = packet.subarray(macOffset, macOffset + messageAuthenticatorBytes);
  return same(hmacMd5(secret, signed), mac) ? 'ok' : 'mac_invalid';
}

/**
 * Whether a response (Disconnect-ACK/NAK) answers the request whose authenticator was
 * `requestAuthenticator`, sent with `secret`: its Response Authenticator and, when present,
 * its Message-Authenticator.
 */
export function checkResponse(
  packet: Buffer,
  requestAuthenticator: Buffer,
  secret: string,
): boolean {
  const macOffset = messageAuthenticatorOffset(packet);
  if (macOffset === null) return false;
  if (macOffset >= 0) {
    // RFC 5176 computes it with the request's authenticator; FreeRADIUS signs its own
    // Disconnect-ACK/NAK with zeros there. Either needs the secret.
    const mac = packet.subarray(macOffset, macOffset + messageAuthenticatorBytes);
    const valid = [requestAuthenticator, zeroAuthenticator].some((authenticator) =>
      same(hmacMd5(secret, withAuthenticator(packet, authenticator, macOffset)), mac),
    );
    if (!valid) return false;
  }
  const unsigned = withAuthenticator(packet, requestAuthenticator, -1);
  return same(md5(unsigned, Buffer.from(secret)), packet.subarray(authenticatorStart, 20));
}

/** Decoded attributes by dictionary name (VSAs under `Vendor-Specific`), or null if malformed. */
export type Attributes = Readonly<Record<string, unknown>>;

export function decodeAttributes(packet: Buffer): Attributes | null {
  loadDictionaries();
  try {
    return radius.decode_without_secret({ packet }).attributes;
  } catch {
    return null;
  }
}

/** One attribute as text (the first, if repeated), or undefined. */
export function textOf(attributes: Attributes, name: string): string | undefined {
  const value = firstOf(attributes[name]);
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** One integer attribute (not enumerated), or undefined. */
export function integerOf(attributes: Attributes, name: string): number | undefined {
  const value = firstOf(attributes[name]);
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/** A Cisco h323 VSA's value, without the `name=` Cisco writes in front of it. */
export function ciscoTextOf(attributes: Attributes, name: string): string | undefined {
  const vendor = attributes['Vendor-Specific'];
  if (typeof vendor !== 'object' || vendor === null) return undefined;
  const value = firstOf((vendor as Record<string, unknown>)[name]);
  if (typeof value !== 'string') return undefined;
  return value.startsWith(`${name}=`) ? value.slice(name.length + 1) : value;
}

function firstOf(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

/** A Cisco h323 VSA as Cisco writes it: `h323-credit-time=300`. */
export function ciscoAttribute(name: string, value: string | number): Attribute {
  return ['Vendor-Specific', ciscoVendorId, [[name, `${name}=${value}`]]];
}

export type { Attribute, AttributeValue };

const codeNames: Readonly<Record<number, string>> = {
  [packetCodes.accessAccept]: 'Access-Accept',
  [packetCodes.accessReject]: 'Access-Reject',
  [packetCodes.accountingResponse]: 'Accounting-Response',
  [packetCodes.disconnectRequest]: 'Disconnect-Request',
};

function encodeWith(input: {
  code: number;
  identifier: number;
  secret: string;
  attributes: readonly Attribute[];
  messageAuthenticator: boolean;
}): Buffer {
  loadDictionaries();
  const name = codeNames[input.code];
  if (name === undefined) throw new Error(`cannot encode RADIUS code ${input.code}`);
  // The Message-Authenticator goes first (the BlastRADIUS advice), as zeros until it is signed.
  const mac: Attribute[] = input.messageAuthenticator
    ? [['Message-Authenticator', Buffer.alloc(messageAuthenticatorBytes)]]
    : [];
  return radius.encode({
    code: name,
    identifier: input.identifier,
    secret: input.secret,
    authenticator: zeroAuthenticator,
    attributes: [...mac, ...input.attributes],
    add_message_authenticator: false,
  });
}

/**
 * An answer to a request: Access-Accept or -Reject, Accounting-Response. Access answers carry a
 * Message-Authenticator computed over the packet with the request's authenticator (RFC 3579
 * section 3.2); then the Response Authenticator is computed over the whole packet. Accounting
 * answers carry none: RFC 2866 does not ask for it, and clients disagree on how it is computed
 * (FreeRADIUS's radclient expects a zero authenticator there, RFC 3579 the request's).
 */
export function encodeResponse(input: {
  code: number;
  identifier: number;
  requestAuthenticator: Buffer;
  secret: string;
  attributes: readonly Attribute[];
}): Buffer {
  const withMac = input.code !== packetCodes.accountingResponse;
  const packet = encodeWith({ ...input, messageAuthenticator: withMac });
  input.requestAuthenticator.copy(packet, authenticatorStart);
  if (withMac) hmacMd5(input.secret, packet).copy(packet, macValueOffset);
  md5(packet, Buffer.from(input.secret)).copy(packet, authenticatorStart);
  return packet;
}

/**
 * A request Tollgate sends (Disconnect-Request): Message-Authenticator over the packet with a
 * zero Request Authenticator, then the Request Authenticator over the whole packet (RFC 5176
 * section 3.3).
 */
export function encodeRequest(input: {
  code: number;
  identifier: number;
  secret: string;
  attributes: readonly Attribute[];
}): Buffer {
  const packet = encodeWith({ ...input, messageAuthenticator: true });
  zeroAuthenticator.copy(packet, authenticatorStart);
  hmacMd5(input.secret, packet).copy(packet, macValueOffset);
  md5(packet, Buffer.from(input.secret)).copy(packet, authenticatorStart);
  return packet;
}

/** Where the value of a Message-Authenticator written first by `encodeWith` starts. */
const macValueOffset = packetBytesMin + 2;
