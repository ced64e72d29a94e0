// Test support: an SMTP server on 127.0.0.1, on an ephemeral port, that keeps every message it
// accepts and can be told to refuse recipients or data; plus a minimal MIME reader for the
// messages nodemailer writes (multipart/mixed, 7bit, quoted-printable or base64 parts).

import type { AddressInfo } from 'node:net';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { SMTPServer } from 'smtp-server';

export interface CapturedMail {
  readonly mailFrom: string;
  readonly rcptTo: string[];
  readonly raw: string;
  readonly auth: { username: string; password: string } | undefined;
}

export interface MimePart {
  readonly headers: Map<string, string>;
  readonly body: Buffer;
}

/** How the capture server answers; an Error with `responseCode` becomes that SMTP reply. */
export interface SmtpBehaviour {
  rejectRcpt?: { responseCode: number; message: string };
  rejectData?: { responseCode: number; message: string };
  users?: Record<string, string>;
}

export interface SmtpCapture {
  readonly port: number;
  readonly messages: CapturedMail[];
  behaviour: SmtpBehaviour;
  close(): Promise<void>;
}

function smtpError(reply: { responseCode: number; message: string }): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.responseCode });
}

export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const authBySession = new Map<string, { username: string; password: string }>();
  const capture: SmtpCapture = {
    port: 0,
    messages,
    behaviour: {},
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, session, callback) {
      const users = capture.behaviour.users;
      const password = users?.[auth.username ?? ''];
      if (users !== undefined && password !== auth.password) {
        callback(smtpError({ responseCode: 535, message: 'authentication failed' }));
        return;
      }
      authBySession.set(session.id, {
        username: auth.username ?? '',
        password: auth.password ?? '',
      });
      callback(null, { user: auth.username });
    },
    onRcptTo(_address, _session, callback) {
      const reject = capture.behaviour.rejectRcpt;
      callback(reject === undefined ? undefined : smtpError(reject));
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const reject = capture.behaviour.rejectData;
        if (reject !== undefined) {
          callback(smtpError(reject));
          return;
        }
        const mailFrom = session.envelope.mailFrom;
        messages.push({
          mailFrom: mailFrom === false ? '' : mailFrom.address,
          rcptTo: session.envelope.rcptTo.map((recipient) => recipient.address),
          raw: Buffer.concat(chunks).toString('latin1'),
          auth: authBySession.get(session.id),
        });
        callback(null);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return Object.assign(capture, { port: (server.server.address() as AddressInfo).port });
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function decodeBody(body: string, encoding: string | undefined): Buffer {
  switch (encoding?.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64');
    case 'quoted-printable':
      return Buffer.from(
        body
          .replace(/=\r?\n/g, '')
          .replace(/=([0-9A-F]{2})/g, (_, hex: string) =>
            String.fromCharCode(Number.parseInt(hex, 16)),
          ),
        'latin1',
      );
    default:
      return Buffer.from(body, 'latin1');
  }
}

/** Splits a message into its top-level headers and its parts (one part when not multipart). */
export function parseMime(raw: string): { headers: Map<string, string>; parts: MimePart[] } {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = parseHeaders(raw.slice(0, split));
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
  const sections = boundary === undefined ? [raw] : body.split(`--${boundary}`).slice(1, -1);
  const parts = sections.map((section) => {
    const trimmed = boundary === undefined ? section : section.replace(/^\r?\n/, '');
    const end = trimmed.search(/\r?\n\r?\n/);
    const partHeaders = parseHeaders(trimmed.slice(0, end));
    const partBody = trimmed
      .slice(end)
      .replace(/^\r?\n\r?\n/, '')
      .replace(/\r?\n$/, '');
    return {
      headers: partHeaders,
      body: decodeBody(partBody, partHeaders.get('content-transfer-encoding')),
    };
  });
  return { headers, parts };
}
