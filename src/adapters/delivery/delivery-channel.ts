// The contract every PIN delivery channel meets (e-mail, SMS, fax, printed receipt), the message
// they deliver, what they return, and the one error they throw. A channel is a transport only:
// the caller's durable outbox decides when to send and retries what failed with `retryable`.

import { groupPinForDisplay } from '../../core/vouchers/pin-code.ts';
import type { PinMessage } from '../../core/vouchers/vouchers.ts';

export type DeliveryKind = 'email' | 'sms' | 'fax' | 'receipt';

/**
 * One sold PIN on its way to its buyer: the core's PinMessage. This is one of the few places a
 * clear PIN exists: it is built from the sale (or decrypted for a re-delivery), handed to one
 * channel, and dropped. Nothing that holds it is logged; errors name the serial instead.
 */
export type PinDelivery = PinMessage;

/** What a channel reports after the transport accepted the message. */
export interface DeliveryReceipt {
  readonly kind: DeliveryKind;
  readonly saleId: string;
  readonly serial: string;
  /** The address actually used, normalised (e.g. "15551234567@fax.example.net" for a fax). */
  readonly destination: string;
  /** The transport's own id (SMTP Message-ID, SMPP message_id), when it gives one. */
  readonly transportMessageId: string | undefined;
}

/** A transport that delivers PINs. Implementations throw `DeliveryError` and nothing else. */
export interface DeliveryChannel {
  readonly kind: DeliveryKind;
  deliver(delivery: PinDelivery): Promise<DeliveryReceipt>;
}

/**
 * - `recipient_invalid`: the address, phone or fax number cannot be used; never retryable.
 * - `transport_unavailable`: no connection, a timeout, a failed login; retry later.
 * - `transport_rejected`: the server answered and refused the message; retryable when it said
 *   the refusal is temporary (SMTP 4xx, SMPP throttling).
 * - `render_failed`: the document (PDF, barcode) could not be made; a bug, never retryable.
 */
export type DeliveryErrorCode =
  | 'recipient_invalid'
  | 'transport_unavailable'
  | 'transport_rejected'
  | 'render_failed';

/**
 * A delivery failed. The message names the channel, the serial and the sale, never the PIN; the
 * transport's own error is reduced to its code and a PIN-redacted message rather than attached as
 * `cause`, because a server may echo message content back in its reply.
 */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  readonly kind: DeliveryKind;
  readonly code: DeliveryErrorCode;
  readonly serial: string;
  readonly saleId: string;
  /** True when sending the same message again later may succeed. */
  readonly retryable: boolean;
  /** The transport's code (e.g. 'ECONNECTION', an SMTP reply code, an SMPP command_status). */
  readonly transportCode: string | undefined;

  constructor(options: {
    kind: DeliveryKind;
    code: DeliveryErrorCode;
    serial: string;
    saleId: string;
    retryable: boolean;
    detail: string;
    transportCode?: string | undefined;
  }) {
    super(
      `${options.kind} delivery of serial ${options.serial} (sale ${options.saleId}) failed: ` +
        `${options.code}: ${options.detail}`,
    );
    this.kind = options.kind;
    this.code = options.code;
    this.serial = options.serial;
    this.saleId = options.saleId;
    this.retryable = options.retryable;
    this.transportCode = options.transportCode;
  }
}

/**
 * Removes every form of the PIN a channel writes (as is, grouped for display) from a transport's
 * error text before it goes anywhere near a log.
 */
export function redactPin(text: string, pin: string): string {
  let redacted = text;
  for (const form of [pin, groupPinForDisplay(pin), pin.toLowerCase()]) {
    if (form.length > 0) redacted = redacted.split(form).join('[PIN]');
  }
  return redacted;
}

/** The message of an unknown thrown value, PIN redacted, for a DeliveryError's detail. */
export function describeFailure(error: unknown, pin: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactPin(message, pin) || 'no detail given';
}
