// The bridge from the voucher outbox to the delivery channels: the core asks for a PIN to go by
// e-mail, SMS or fax; this picks the configured channel and hands it the message. A channel that
// is not configured is a retryable failure, so the delivery stays in the outbox until it is.

import type { DeliveryRequest } from '../../core/vouchers/voucher-types.ts';
import type { PinMessage, PinSender } from '../../core/vouchers/vouchers.ts';
import type { DeliveryChannel } from './delivery-channel.ts';

export class ChannelNotConfiguredError extends Error {
  override name = 'ChannelNotConfiguredError';
  readonly retryable = true;
}

/**
 * Sends outbox deliveries through the channels it is given.
 *
 * @example new ChannelPinSender({ email: new EmailChannel({ smtp, from }), sms: new SmsChannel({ smpp }) })
 */
export class ChannelPinSender implements PinSender {
  readonly #channels: Partial<Record<DeliveryRequest['channel'], DeliveryChannel>>;

  constructor(channels: Partial<Record<DeliveryRequest['channel'], DeliveryChannel>>) {
    this.#channels = channels;
  }

  async send(channel: DeliveryRequest['channel'], message: PinMessage): Promise<void> {
    const transport = this.#channels[channel];
    if (!transport) {
      throw new ChannelNotConfiguredError(
        `no ${channel} channel is configured; delivery of serial ${message.serial} waits`,
      );
    }
    await transport.deliver(message);
  }
}
