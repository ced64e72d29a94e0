// The fax channel: the patents' "transmit by facsimile", done the way fax services take mail
// today. The receipt is rendered as an A4 PDF and e-mailed to `<digits>@<gatewayDomain>`; the
// gateway dials the number in the local part and faxes the attached document. It reuses the
// e-mail channel's SMTP path, so transport failures map the same way.

import { assert } from '../../core/shared/assert.ts';
import type { DeliveryChannel, DeliveryReceipt, PinDelivery } from './delivery-channel.ts';
import { DeliveryError } from './delivery-channel.ts';
import type { EmailChannel } from './email.ts';
import { renderPdfOrThrow } from './email.ts';
import { normalizePhoneNumber, phoneNumberRule } from './phone-number.ts';

const domainPattern =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * The mail-to-fax address for a fax number, or undefined when the number is not an
 * international number (see `normalizePhoneNumber`).
 *
 * @example faxGatewayAddress('+1 555 123 4567', 'fax.example.net') === '15551234567@fax.example.net'
 */
export function faxGatewayAddress(faxNumber: string, gatewayDomain: string): string | undefined {
  const digits = normalizePhoneNumber(faxNumber);
  return digits === undefined ? undefined : `${digits}@${gatewayDomain}`;
}

/**
 * Delivers PINs by fax through a mail-to-fax gateway. The subject and body, which many gateways
 * print on a cover page, carry the serial only; the PIN is in the attached document.
 *
 * @example
 * const fax = new FaxChannel({ email, gatewayDomain: 'fax.example.net' });
 * await fax.deliver({ ...delivery, recipient: '+1 555 123 4567' });
 */
export class FaxChannel implements DeliveryChannel {
  readonly kind = 'fax' as const;
  readonly #email: EmailChannel;
  readonly #gatewayDomain: string;

  constructor(options: { email: EmailChannel; gatewayDomain: string }) {
    const gatewayDomain = options.gatewayDomain.toLowerCase();
    assert(domainPattern.test(gatewayDomain), 'fax gateway domain must be a DNS name');
    this.#email = options.email;
    this.#gatewayDomain = gatewayDomain;
  }

  async deliver(delivery: PinDelivery): Promise<DeliveryReceipt> {
    const to = faxGatewayAddress(delivery.recipient, this.#gatewayDomain);
    if (to === undefined) {
      throw new DeliveryError({
        kind: this.kind,
        code: 'recipient_invalid',
        serial: delivery.serial,
        saleId: delivery.saleId,
        retryable: false,
        detail: `the fax number must be ${phoneNumberRule}`,
      });
    }
    const pdf = await renderPdfOrThrow(this.kind, delivery, 'a4');
    return this.#email.sendMail({
      kind: this.kind,
      to,
      subject: `${delivery.productName} receipt, serial ${delivery.serial}`,
      text: `Receipt for serial ${delivery.serial} (sale ${delivery.saleId}) attached.\n`,
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
}
