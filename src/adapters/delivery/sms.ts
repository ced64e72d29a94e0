// The SMS channel: sends a PIN to a phone over SMPP (the `smpp` package) as submit_sm on one
// bound transceiver session that is opened on first use, reopened after it drops, and unbound by
// close(). The message text, its encoding and its single-SMS limit are decided here.

import type { Pdu, PduFields, Session } from 'smpp';
import smpp from 'smpp';
import { assert } from '../../core/shared/assert.ts';
import type { DeliveryChannel, DeliveryReceipt, PinDelivery } from './delivery-channel.ts';
import { DeliveryError, redactPin } from './delivery-channel.ts';
import { normalizePhoneNumber, phoneNumberRule } from './phone-number.ts';
import { formatExpiryDate, formatFaceValue } from './receipt.ts';

/** How to reach and log in to the SMSC. */
export interface SmppOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: boolean;
  readonly systemId: string;
  readonly password: string;
  readonly systemType?: string;
  /** Sender shown on the phone: an international number, or a name of up to 11 characters. */
  readonly sourceAddr: string;
  /** How long to wait for the connection, the bind and each response. */
  readonly responseTimeoutMs?: number;
  /** Keep-alive period for the bound session. */
  readonly enquireLinkPeriodMs?: number;
}

/**
 * Characters that have the same code in ASCII and in the GSM 03.38 default alphabet, and need no
 * escape in either. Text made only of these is sent as single bytes with data_coding 0 (the SMSC
 * default alphabet), and every SMSC reads it the same way, whether it assumes GSM or ASCII.
 */
const gsmAsciiCommon = /^[A-Za-z0-9 \n!"#%&'()*+,\-./:;<=>?]*$/;

/** Characters in one SMS: 160 in the default alphabet, 70 UTF-16 units in UCS-2. */
export const smsCharsMax = { default: 160, ucs2: 70 } as const;

/** The SMPP data_coding values used here. */
const dataCoding = { smscDefault: 0x00, ucs2: 0x08 } as const;

export type SmsEncoding = keyof typeof smsCharsMax;

/**
 * The SMS text for a delivery: PIN first (the part a truncating phone or SMSC must keep), then
 * product, value, serial, and the access number and expiry when known. Instructions are left to
 * the e-mail and printed receipts to keep the SMS short. The PIN is not grouped, so phones offer
 * it as one tappable, copyable number.
 *
 * @example renderSmsText(delivery)
 * // 'PIN 83920174658391 for Prepaid 10 (10.00 USD). Serial B2026A-000000042. Dial 0800 123 4567. Expires 2026-12-31.'
 */
export function renderSmsText(delivery: PinDelivery): string {
  const parts = [
    `PIN ${delivery.pin} for ${delivery.productName} (${formatFaceValue(delivery)}).`,
    `Serial ${delivery.serial}.`,
  ];
  if (delivery.accessNumber !== undefined) parts.push(`Dial ${delivery.accessNumber}.`);
  if (delivery.expiresAtMs !== undefined) {
    parts.push(`Expires ${formatExpiryDate(delivery.expiresAtMs)}.`);
  }
  return parts.join(' ');
}

/** The encoding a text needs: the default alphabet when it can, UCS-2 otherwise. */
export function smsEncodingOf(text: string): SmsEncoding {
  return gsmAsciiCommon.test(text) ? 'default' : 'ucs2';
}

/**
 * The submit_sm fields for a text. A text that fits one SMS goes in `short_message`. A longer one
 * (a long product name, or any non-Latin character, which forces UCS-2 and its 70-character
 * limit) goes in the `message_payload` TLV with an empty `short_message`: the SMSC then splits it
 * into a concatenated SMS that the phone shows as one message, and no UDH bookkeeping is needed
 * here. SMPP 3.4 and later define message_payload for exactly this.
 */
export function smsMessageFields(text: string): PduFields {
  const encoding = smsEncodingOf(text);
  // Encoded here, not by the package, so the bytes and data_coding are always the pair above.
  const bytes = encoding === 'default' ? Buffer.from(text, 'latin1') : utf16be(text);
  const fits = text.length <= smsCharsMax[encoding];
  return {
    data_coding: encoding === 'default' ? dataCoding.smscDefault : dataCoding.ucs2,
    ...(fits
      ? { short_message: bytes }
      : { short_message: Buffer.alloc(0), message_payload: bytes }),
  };
}

function utf16be(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf16le');
  bytes.swap16();
  return bytes;
}

// SMPP type of number / numbering plan indicator: international ISDN numbers, or a name.
const ton = { international: 1, alphanumeric: 5 } as const;
const npi = { isdn: 1, unknown: 0 } as const;

/** command_status values after which the same message may succeed later. */
const retryableStatuses = new Set(
  ['ESME_RSYSERR', 'ESME_RMSGQFUL', 'ESME_RTHROTTLED', 'ESME_RX_T_APPN', 'ESME_RSUBMITFAIL'].map(
    (name) => smpp.errors[name],
  ),
);
/** command_status values that blame the destination number. */
const recipientStatuses = new Set(
  ['ESME_RINVDSTADR', 'ESME_RINVDSTTON', 'ESME_RINVDSTNPI'].map((name) => smpp.errors[name]),
);

function statusName(status: number): string {
  const name = Object.entries(smpp.errors).find(([, value]) => value === status)?.[0];
  return `${name ?? 'unknown status'} (0x${status.toString(16).padStart(4, '0')})`;
}

/** A transport failure before the SMSC judged the message: always retryable. */
class SmppUnavailable extends Error {}

/**
 * Delivers PINs by SMS through an SMSC. Binds as a transceiver on first use and keeps the bind;
 * call close() at shutdown to unbind.
 *
 * @example
 * const sms = new SmsChannel({ smpp: { host, port: 2775, systemId, password, sourceAddr: 'Tollgate' } });
 * await sms.deliver({ ...delivery, recipient: '+44 7700 900123' });
 * await sms.close();
 */
export class SmsChannel implements DeliveryChannel {
  readonly kind = 'sms' as const;
  readonly #options: SmppOptions;
  readonly #timeoutMs: number;
  /** The session being opened or in use; cleared as soon as it drops, so the next use reopens. */
  #session: Promise<Session> | undefined;
  /** Per session, the rejecters of requests waiting for a response, failed when it drops. */
  readonly #pending = new WeakMap<Session, Set<(error: Error) => void>>();

  constructor(options: { smpp: SmppOptions }) {
    const { sourceAddr } = options.smpp;
    assert(
      normalizePhoneNumber(sourceAddr) === sourceAddr || /^[A-Za-z0-9 ]{1,11}$/.test(sourceAddr),
      'SMS source address must be international digits or a name of up to 11 characters',
    );
    this.#options = options.smpp;
    this.#timeoutMs = options.smpp.responseTimeoutMs ?? 10_000;
  }

  async deliver(delivery: PinDelivery): Promise<DeliveryReceipt> {
    const destination = normalizePhoneNumber(delivery.recipient);
    const fail = (
      code: DeliveryError['code'],
      retryable: boolean,
      detail: string,
      status?: number,
    ) =>
      new DeliveryError({
        kind: this.kind,
        code,
        serial: delivery.serial,
        saleId: delivery.saleId,
        retryable,
        detail: redactPin(detail, delivery.pin),
        transportCode: status === undefined ? undefined : statusName(status),
      });
    if (destination === undefined) {
      throw fail('recipient_invalid', false, `the phone number must be ${phoneNumberRule}`);
    }
    const numericSource = /^[0-9]+$/.test(this.#options.sourceAddr);
    let response: Pdu;
    try {
      const session = await this.#bound();
      response = await this.#request(session, (callback) =>
        session.submit_sm(
          {
            source_addr_ton: numericSource ? ton.international : ton.alphanumeric,
            source_addr_npi: numericSource ? npi.isdn : npi.unknown,
            source_addr: this.#options.sourceAddr,
            dest_addr_ton: ton.international,
            dest_addr_npi: npi.isdn,
            destination_addr: destination,
            registered_delivery: 0,
            ...smsMessageFields(renderSmsText(delivery)),
          },
          callback,
        ),
      );
    } catch (error) {
      throw fail('transport_unavailable', true, error instanceof Error ? error.message : 'failed');
    }
    const status = response.command_status;
    if (status !== 0) {
      const detail = `the SMSC answered ${statusName(status)}`;
      if (recipientStatuses.has(status)) throw fail('recipient_invalid', false, detail, status);
      throw fail('transport_rejected', retryableStatuses.has(status), detail, status);
    }
    const messageId = response['message_id'];
    return {
      kind: this.kind,
      saleId: delivery.saleId,
      serial: delivery.serial,
      destination,
      transportMessageId: typeof messageId === 'string' && messageId !== '' ? messageId : undefined,
    };
  }

  /** Unbinds and closes the session, if one is open. Safe to call more than once. */
  async close(): Promise<void> {
    const opening = this.#session;
    this.#session = undefined;
    if (opening === undefined) return;
    const session = await opening.catch(() => undefined);
    if (session === undefined) return;
    await this.#request(session, (callback) => session.unbind({}, callback)).catch(() => undefined);
    await new Promise<void>((resolve) => {
      if (session.socket.destroyed) resolve();
      else session.close(resolve);
    });
  }

  /** The bound session, connecting and binding first when there is none. */
  #bound(): Promise<Session> {
    if (this.#session === undefined) {
      const opening = this.#connectAndBind();
      this.#session = opening;
      opening.catch(() => {
        if (this.#session === opening) this.#session = undefined;
      });
    }
    return this.#session;
  }

  #connectAndBind(): Promise<Session> {
    const options = this.#options;
    const opening = new Promise<Session>((resolve, reject) => {
      const session = smpp.connect({
        host: options.host,
        port: options.port,
        tls: options.tls ?? false,
        auto_enquire_link_period: options.enquireLinkPeriodMs ?? 30_000,
      });
      let settled = false;
      const settle = (error: Error | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) {
          resolve(session);
        } else {
          session.destroy();
          reject(error);
        }
      };
      const timer = setTimeout(
        () => settle(new SmppUnavailable(`no bind within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      this.#watch(session, (error) => {
        settle(error);
        // A drop after the bind: forget this session so the next delivery opens a new one.
        if (this.#session === opening) this.#session = undefined;
      });
      session.once(options.tls ? 'secureConnect' : 'connect', () => {
        session.bind_transceiver(
          {
            system_id: options.systemId,
            password: options.password,
            system_type: options.systemType ?? '',
          },
          (pdu) =>
            settle(
              pdu.command_status === 0
                ? undefined
                : new SmppUnavailable(`bind refused: ${statusName(pdu.command_status)}`),
            ),
        );
      });
    });
    return opening;
  }

  /**
   * Keeps a session healthy and observable: answers the SMSC's keep-alives and deliveries,
   * forgets the session when it drops, and fails whatever waited on it. Without an 'error'
   * listener a dropped socket would crash the process.
   */
  #watch(session: Session, onDown: (error: Error) => void): void {
    const pending = new Set<(error: Error) => void>();
    this.#pending.set(session, pending);
    const down = (reason: string) => {
      const error = new SmppUnavailable(reason);
      onDown(error);
      for (const reject of pending) reject(error);
    };
    session.on('error', (error: Error) =>
      down(`connection error: ${'code' in error ? String(error.code) : error.message}`),
    );
    session.on('close', () => down('connection closed'));
    session.on('enquire_link', (pdu: Pdu) => session.send(pdu.response()));
    session.on('deliver_sm', (pdu: Pdu) => session.send(pdu.response()));
    session.on('unbind', (pdu: Pdu) => {
      session.send(pdu.response());
      session.close();
    });
  }

  /** Sends one request and waits for its response, the session dropping, or the timeout. */
  #request(session: Session, send: (callback: (pdu: Pdu) => void) => boolean): Promise<Pdu> {
    const pending = this.#pending.get(session);
    assert(pending !== undefined, 'SMPP session is not watched');
    return new Promise<Pdu>((resolve, reject) => {
      const finish = (error: Error | undefined, pdu?: Pdu) => {
        clearTimeout(timer);
        pending.delete(fail);
        if (error === undefined) resolve(pdu!);
        else reject(error);
      };
      const fail = (error: Error) => finish(error);
      const timer = setTimeout(
        () => finish(new SmppUnavailable(`no response within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      pending.add(fail);
      if (!send((pdu) => finish(undefined, pdu))) {
        finish(new SmppUnavailable('the SMPP connection is not writable'));
      }
    });
  }
}
