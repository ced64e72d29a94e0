// Builds the outbox's PinSender from configuration: an SMTP URL (e-mail, and fax through a
// mail-to-fax gateway domain) and an SMPP URL (SMS). A channel without configuration is left
// out; its deliveries wait in the outbox until it is configured.

import { EmailChannel } from './email.ts';
import { FaxChannel } from './fax.ts';
import { ChannelPinSender } from './pin-sender.ts';
import { SmsChannel } from './sms.ts';

export interface DeliveryConfig {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465 (implicit TLS). */
  readonly smtpUrl?: string | undefined;
  readonly mailFrom?: string | undefined;
  /** The fax gateway's domain: a fax to +1 555 123 4567 goes to 15551234567@<domain>. */
  readonly faxGatewayDomain?: string | undefined;
  /** smpp://system_id:password@host:2775 (or smpps://). */
  readonly smppUrl?: string | undefined;
  /** The sender shown on phones: an international number or up to 11 characters. */
  readonly smsSender?: string | undefined;
}

export interface ConfiguredSender {
  readonly sender: ChannelPinSender | undefined;
  /** Which channels are configured, for the start-up message. */
  readonly channels: readonly string[];
  close(): Promise<void>;
}

export function pinSenderFromConfig(config: DeliveryConfig): ConfiguredSender {
  let email: EmailChannel | undefined;
  let sms: SmsChannel | undefined;
  let fax: FaxChannel | undefined;
  if (config.smtpUrl) {
    const url = new URL(config.smtpUrl);
    const secure = url.protocol === 'smtps:';
    email = new EmailChannel({
      smtp: {
        host: url.hostname,
        port: Number(url.port || (secure ? 465 : 587)),
        secure,
        ...(url.username
          ? {
              auth: {
                user: decodeURIComponent(url.username),
                pass: decodeURIComponent(url.password),
              },
            }
          : {}),
      },
      from: config.mailFrom ?? 'Tollgate <pins@localhost>',
    });
    if (config.faxGatewayDomain)
      fax = new FaxChannel({ email, gatewayDomain: config.faxGatewayDomain });
  }
  if (config.smppUrl) {
    const url = new URL(config.smppUrl);
    sms = new SmsChannel({
      smpp: {
        host: url.hostname,
        port: Number(url.port || 2775),
        tls: url.protocol === 'smpps:',
        systemId: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        sourceAddr: config.smsSender ?? 'Tollgate',
      },
    });
  }
  const channels = [email && 'email', sms && 'sms', fax && 'fax'].filter(
    (name): name is string => typeof name === 'string',
  );
  return {
    sender:
      channels.length > 0
        ? new ChannelPinSender({
            ...(email ? { email } : {}),
            ...(sms ? { sms } : {}),
            ...(fax ? { fax } : {}),
          })
        : undefined,
    channels,
    async close() {
      email?.close();
      await sms?.close();
    },
  };
}
