// Test support: an SMSC made with the `smpp` package's own server, on 127.0.0.1 and an
// ephemeral port. It accepts transceiver binds, keeps every submit_sm, and can be told to refuse
// binds or submissions, to stay silent, or to drop its connections.

import type { AddressInfo } from 'node:net';
import type { Pdu, Session } from 'smpp';
import smpp from 'smpp';

export interface SmppBehaviour {
  bindStatus?: number;
  submitStatus?: number;
  /** Never answer submit_sm (to exercise response timeouts). */
  silent?: boolean;
}

export interface SmppCapture {
  readonly port: number;
  readonly binds: { systemId: string; password: string }[];
  readonly submits: Pdu[];
  unbinds: number;
  behaviour: SmppBehaviour;
  /** Closes every connection from the server side, as an SMSC restart would. */
  dropSessions(): void;
  close(): Promise<void>;
}

export async function startSmppCapture(): Promise<SmppCapture> {
  const sessions = new Set<Session>();
  const capture: SmppCapture = {
    port: 0,
    binds: [],
    submits: [],
    unbinds: 0,
    behaviour: {},
    dropSessions: () => {
      for (const session of sessions) session.destroy();
    },
    close: async () => {
      capture.dropSessions();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  let messageCount = 0;
  const server = smpp.createServer((session: Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
    session.on('bind_transceiver', (pdu: Pdu) => {
      capture.binds.push({ systemId: String(pdu['system_id']), password: String(pdu['password']) });
      session.send(pdu.response({ command_status: capture.behaviour.bindStatus ?? 0 }));
    });
    session.on('submit_sm', (pdu: Pdu) => {
      capture.submits.push(pdu);
      if (capture.behaviour.silent === true) return;
      const status = capture.behaviour.submitStatus ?? 0;
      messageCount += 1;
      session.send(
        pdu.response(
          status === 0 ? { message_id: `msg-${messageCount}` } : { command_status: status },
        ),
      );
    });
    session.on('enquire_link', (pdu: Pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: Pdu) => {
      capture.unbinds += 1;
      session.send(pdu.response());
      session.close();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return Object.assign(capture, { port: (server.address() as AddressInfo).port });
}

/** The text a submit_sm carried, from message_payload when present, else short_message. */
export function submittedText(pdu: Pdu): string {
  const field = pdu['message_payload'] ?? pdu['short_message'];
  if (typeof field === 'object' && field !== null && 'message' in field) {
    const message = (field as { message: unknown }).message;
    return Buffer.isBuffer(message) ? message.toString('latin1') : String(message);
  }
  return '';
}
