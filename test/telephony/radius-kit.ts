// The RADIUS test bed: FreeRADIUS's radclient (Debian freeradius-utils) as the NAS asking
// Tollgate, raw packets built here from the RFCs for what radclient will not send (no
// Message-Authenticator, the very same packet twice), and a UDP listener playing the NAS that
// takes Disconnect-Requests. Independent of src/adapters/radius on purpose: the packets are
// built and checked from RFC 2865, 2866, 3579 and 5176, not with the code under test.

import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

/** Why the RADIUS suite cannot run here, or null when it can. */
export function radclientMissing(): string | null {
  if (spawnSync('sh', ['-c', 'command -v radclient']).status === 0) return null;
  return 'RADIUS suite skipped: radclient not installed (apt-get install freeradius-utils)';
}

export interface RadclientResult {
  readonly code: string | null;
  /** Attributes of the reply, by name as radclient prints them (values unquoted). */
  readonly attributes: Readonly<Record<string, string[]>>;
  readonly output: string;
}

/** Sends one packet with radclient (`auth` or `acct`) and reads its reply; bounded. */
export function radclient(input: {
  port: number;
  kind: 'auth' | 'acct';
  secret: string;
  attributes: Readonly<Record<string, string | number>>;
  timeoutS?: number;
  retries?: number;
}): Promise<RadclientResult> {
  const lines = Object.entries(input.attributes).map(([name, value]) =>
    typeof value === 'number' || /^0x/.test(value) ? `${name} = ${value}` : `${name} = "${value}"`,
  );
  const args = [
    '-x',
    '-r',
    String(input.retries ?? 1),
    '-t',
    String(input.timeoutS ?? 2),
    `127.0.0.1:${input.port}`,
    input.kind,
    input.secret,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`radclient still running after 20 s: ${output}`));
    }, 20_000);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(parseRadclient(output));
    });
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

function parseRadclient(output: string): RadclientResult {
  const received = /Received (\S+) Id \d+[^\n]*\n((?:\s+[^\n]*\n?)*)/.exec(output);
  const attributes: Record<string, string[]> = {};
  for (const line of (received?.[2] ?? '').split('\n')) {
    const match = /^\s+(\S+) = "?(.*?)"?\s*$/.exec(line);
    if (!match) continue;
    attributes[match[1]!] ??= [];
    attributes[match[1]!]!.push(match[2]!);
  }
  return { code: received?.[1] ?? null, attributes, output };
}

// --- raw packets -------------------------------------------------------------------------------

export type RawAttribute = readonly [number, Buffer | string | number];

function attributeBytes([type, value]: RawAttribute): Buffer {
  const data =
    typeof value === 'number'
      ? Buffer.from([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255])
      : Buffer.from(value);
  return Buffer.concat([Buffer.from([type, data.length + 2]), data]);
}

function md5(...parts: Buffer[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

const messageAuthenticator = 80;

/**
 * A request as a NAS sends it. Access-Request: random authenticator, Message-Authenticator
 * (`mac: 'valid' | 'bad' | 'none'`) over the packet. Accounting-Request: Message-Authenticator
 * over the packet with a zero authenticator, then the Request Authenticator (RFC 2866, 5176).
 */
export function rawRequest(input: {
  code: 1 | 4;
  identifier: number;
  secret: string;
  attributes: readonly RawAttribute[];
  mac?: 'valid' | 'bad' | 'none';
}): Buffer {
  const mac = input.mac ?? (input.code === 1 ? 'valid' : 'none');
  const attrs = [
    ...(mac === 'none' ? [] : [attributeBytes([messageAuthenticator, Buffer.alloc(16)])]),
    ...input.attributes.map(attributeBytes),
  ];
  const body = Buffer.concat(attrs);
  const packet = Buffer.alloc(20 + body.length);
  packet[0] = input.code;
  packet[1] = input.identifier;
  packet.writeUInt16BE(packet.length, 2);
  if (input.code === 1) randomBytes(16).copy(packet, 4);
  body.copy(packet, 20);
  if (mac !== 'none') {
    const hmac = createHmac('md5', input.secret).update(packet).digest();
    if (mac === 'bad') hmac[0] = hmac[0]! ^ 0xff;
    hmac.copy(packet, 22);
  }
  if (input.code === 4) md5(packet, Buffer.from(input.secret)).copy(packet, 4);
  return packet;
}

/**
 * Sends `packet` from one socket (on `fromPort`, or any) `times` times and collects what comes
 * back within `waitMs`.
 */
export async function sendRaw(
  port: number,
  packet: Buffer,
  options: { times?: number; waitMs?: number; fromPort?: number } = {},
): Promise<Buffer[]> {
  const socket = createSocket('udp4');
  const replies: Buffer[] = [];
  socket.on('message', (msg) => replies.push(msg));
  await new Promise<void>((resolve) => socket.bind(options.fromPort ?? 0, '127.0.0.1', resolve));
  for (let i = 0; i < (options.times ?? 1); i += 1) {
    socket.send(packet, port, '127.0.0.1');
    await sleep(100);
  }
  await sleep(options.waitMs ?? 1000);
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return replies;
}

/** Whether `reply` is a response to `request` signed with `secret` (Response Authenticator). */
export function isSignedReply(reply: Buffer, request: Buffer, secret: string): boolean {
  const copy = Buffer.from(reply);
  request.copy(copy, 4, 4, 20);
  return md5(copy, Buffer.from(secret)).equals(reply.subarray(4, 20));
}

/** The attributes of a packet, by type (first value of each). */
export function attributesOf(packet: Buffer): Map<number, Buffer> {
  const found = new Map<number, Buffer>();
  let offset = 20;
  while (offset + 2 <= packet.length) {
    const length = packet[offset + 1]!;
    if (length < 2) break;
    if (!found.has(packet[offset]!)) {
      found.set(packet[offset]!, packet.subarray(offset + 2, offset + length));
    }
    offset += length;
  }
  return found;
}

// --- the NAS's CoA port ------------------------------------------------------------------------

export interface DisconnectSeen {
  readonly packet: Buffer;
  /** Whether its Request Authenticator and Message-Authenticator check with the secret. */
  readonly authentic: boolean;
  readonly acctSessionId: string | undefined;
  readonly userName: string | undefined;
}

/**
 * A NAS's Disconnect-Request port: records each request and answers ACK, or NAK (Error-Cause
 * `nakCause`) to the first `naks` of them. Answers are signed as RFC 5176 says.
 */
export class NasCoaListener {
  readonly seen: DisconnectSeen[] = [];
  private socket: Socket | null = null;
  private naksLeft: number;
  private readonly secret: string;
  private readonly nakCause: number;

  constructor(options: { secret: string; naks?: number; nakCause?: number }) {
    this.secret = options.secret;
    this.naksLeft = options.naks ?? 0;
    this.nakCause = options.nakCause ?? 506;
  }

  async listen(port: number): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      if (msg[0] !== 40) return;
      const attrs = attributesOf(msg);
      this.seen.push({
        packet: msg,
        authentic: this.authentic(msg),
        acctSessionId: attrs.get(44)?.toString(),
        userName: attrs.get(1)?.toString(),
      });
      const nak = this.naksLeft > 0;
      if (nak) this.naksLeft -= 1;
      socket.send(this.answer(msg, nak), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    this.socket = socket;
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private authentic(packet: Buffer): boolean {
    const zeroed = Buffer.from(packet);
    zeroed.fill(0, 4, 20);
    if (!md5(zeroed, Buffer.from(this.secret)).equals(packet.subarray(4, 20))) return false;
    let offset = 20;
    while (offset + 2 <= packet.length) {
      const length = packet[offset + 1]!;
      if (packet[offset] === messageAuthenticator && length === 18) {
        const mac = Buffer.from(packet.subarray(offset + 2, offset + 18));
        zeroed.fill(0, offset + 2, offset + 18);
        return createHmac('md5', this.secret).update(zeroed).digest().equals(mac);
      }
      if (length < 2) return false;
      offset += length;
    }
    return false;
  }

  private answer(request: Buffer, nak: boolean): Buffer {
    const body = nak ? attributeBytes([101, this.nakCause]) : Buffer.alloc(0);
    const packet = Buffer.alloc(20 + body.length);
    packet[0] = nak ? 42 : 41;
    packet[1] = request[1]!;
    packet.writeUInt16BE(packet.length, 2);
    request.copy(packet, 4, 4, 20);
    body.copy(packet, 20);
    md5(packet, Buffer.from(this.secret)).copy(packet, 4);
    return packet;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
