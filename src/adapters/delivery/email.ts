// The e-mail channel: sends a PIN to its buyer over SMTP (nodemailer), with the text receipt as
// the body and the PDF receipt attached. It also exposes `sendMail`, the single SMTP path the fax
// channel reuses, so both map transport failures to DeliveryError the same way.

import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type {
  DeliveryChannel,
  DeliveryErrorCode,
  DeliveryKind,
  DeliveryReceipt,
  PinDelivery,
} from './delivery-channel.ts';
import { DeliveryError, describeFailure } from './delivery-channel.ts';
import { renderReceiptPdf, renderReceiptText } from './receipt.ts';

/** How to reach the SMTP server. Passed to nodemailer's `createTransport` as given. */
export interface SmtpOptions {
  readonly host: string;
  readonly port: number;
  /** True for implicit TLS (port 465); false for plain SMTP upgraded with STARTTLS when offered. */
  readonly secure: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Refuse to send unless the server upgrades the connection with STARTTLS. */
  readonly requireTls?: boolean;
  readonly connectionTimeoutMs?: number;
  readonly socketTimeoutMs?: number;
}

/** One message on the shared SMTP path. `pin` is used only to redact transport error texts. */
export interface MailMessage {
  readonly kind: DeliveryKind;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly attachments: readonly { filename: string; content: Buffer; contentType: string }[];
  readonly serial: string;
  readonly saleId: string;
  readonly pin: string;
}

// A pragmatic shape check: one @, no spaces or angle brackets, a dotted domain. The SMTP server
// has the last word; this only stops obvious typos before they reach the outbox.
const emailAddressPattern =
  /^[^\s@<>()",;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** True when `address` looks deliverable; a sale can check this before it commits. */
export function isEmailAddress(address: string): boolean {
  return address.length <= 254 && emailAddressPattern.test(address);
}

/**
 * Delivers PINs by e-mail. The subject names the product and serial but never the PIN, since
 * subjects show in notifications and mail server logs; the PIN is in the body and the PDF.
 *
 * @example
 * const email = new EmailChannel({
 *   smtp: { host: 'smtp.example.net', port: 587, secure: false, auth: { user, pass } },
 *   from: 'Tollgate <pins@example.net>',
 * });
 * await email.deliver(delivery);
 * email.close();
 */
export class EmailChannel implements DeliveryChannel {
  readonly kind = 'email' as const;
  readonly #smtp: SmtpOptions;
  readonly #from: string;
  #transporter: Promise<Transporter<SMTPTransport.SentMessageInfo>> | undefined;

  constructor(options: { smtp: SmtpOptions; from: string }) {
    this.#smtp = options.smtp;
    this.#from = options.from;
  }

  /**
   * The SMTP transport, made for the first message: nodemailer is imported then, not with every
   * start of the server, whose voucher routes import this module.
   */
  #transport(): Promise<Transporter<SMTPTransport.SentMessageInfo>> {
    const smtp = this.#smtp;
    this.#transporter ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        ...(smtp.auth === undefined
          ? {}
          : { auth: { user: smtp.auth.user, pass: smtp.auth.pass } }),
        requireTLS: smtp.requireTls ?? false,
        connectionTimeout: smtp.connectionTimeoutMs ?? 10_000,
        greetingTimeout: smtp.connectionTimeoutMs ?? 10_000,
        socketTimeout: smtp.socketTimeoutMs ?? 30_000,
        // nodemailer can log whole messages; these keep it silent so no PIN reaches a log.
        logger: false,
        debug: false,
      }),
    );
    return this.#transporter;
  }

  async deliver(delivery: PinDelivery): Promise<DeliveryReceipt> {
    if (!isEmailAddress(delivery.recipient)) {
      throw new DeliveryError({
        kind: this.kind,
        code: 'recipient_invalid',
        serial: delivery.serial,
        saleId: delivery.saleId,
        retryable: false,
        detail: 'the recipient is not an e-mail address',
      });
    }
    const pdf = await renderPdfOrThrow(this.kind, delivery, 'a4');
    return this.sendMail({
      kind: this.kind,
      to: delivery.recipient,
      subject: `Your ${delivery.productName} PIN (serial ${delivery.serial})`,
      text: renderReceiptText(delivery),
      attachments: [
        {
          filename: `receipt-${delivery.serial}.pdf`,
          content: pdf,
          contentType: 'application/pdf',
        },
      ],
      serial: delivery.serial,
      saleId: delivery.saleId,
      pin: delivery.pin,
    });
  }

  /**
   * Sends one message over this channel's SMTP connection and maps any failure to a
   * DeliveryError: SMTP 5xx replies are permanent, 4xx replies and connection or login failures
   * are retryable, and a rejected recipient is `recipient_invalid`.
   */
  async sendMail(message: MailMessage): Promise<DeliveryReceipt> {
    let info: SMTPTransport.SentMessageInfo;
    try {
      info = await (await this.#transport()).sendMail({
        from: this.#from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        attachments: message.attachments.map((attachment) => ({ ...attachment })),
      });
    } catch (error) {
      throw smtpFailure(message, error);
    }
    if (info.rejected.length > 0) {
      throw new DeliveryError({
        kind: message.kind,
        code: 'recipient_invalid',
        serial: message.serial,
        saleId: message.saleId,
        retryable: false,
        detail: 'the SMTP server rejected the recipient',
      });
    }
    return {
      kind: message.kind,
      saleId: message.saleId,
      serial: message.serial,
      destination: message.to,
      transportMessageId: info.messageId,
    };
  }

  /** Closes pooled SMTP connections. */
  close(): void {
    void this.#transporter?.then((transporter) => transporter.close());
  }
}

/** Renders the PDF receipt, reporting a failure as `render_failed`. Shared with the fax channel. */
export async function renderPdfOrThrow(
  kind: DeliveryKind,
  delivery: PinDelivery,
  pageSize: 'a4' | 'roll80',
): Promise<Buffer> {
  try {
    return await renderReceiptPdf(delivery, { pageSize });
  } catch (error) {
    throw new DeliveryError({
      kind,
      code: 'render_failed',
      serial: delivery.serial,
      saleId: delivery.saleId,
      retryable: false,
      detail: describeFailure(error, delivery.pin),
    });
  }
}

function smtpFailure(message: MailMessage, error: unknown): DeliveryError {
  const code = transportField(error, 'code');
  const errorCode = typeof code === 'string' ? code : undefined;
  const responseCode = transportField(error, 'responseCode');
  const reply = typeof responseCode === 'number' ? responseCode : undefined;
  // A failed login is the operator's to fix; the message itself stays good, so it is retryable.
  const isAuth = errorCode === 'EAUTH';
  const permanent = reply !== undefined && reply >= 500 && !isAuth;
  let deliveryCode: DeliveryErrorCode = 'transport_unavailable';
  if (errorCode === 'EENVELOPE' && permanent) deliveryCode = 'recipient_invalid';
  else if (reply !== undefined && !isAuth) deliveryCode = 'transport_rejected';
  return new DeliveryError({
    kind: message.kind,
    code: deliveryCode,
    serial: message.serial,
    saleId: message.saleId,
    retryable: !permanent,
    detail: describeFailure(error, message.pin),
    transportCode: [errorCode, reply].filter((part) => part !== undefined).join(' ') || undefined,
  });
}

function transportField(error: unknown, field: 'code' | 'responseCode'): unknown {
  return typeof error === 'object' && error !== null && field in error
    ? (error as Record<string, unknown>)[field]
    : undefined;
}
