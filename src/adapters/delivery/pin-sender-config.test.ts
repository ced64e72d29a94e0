import { describe, expect, it } from 'vitest';
import { pinSenderFromConfig } from './pin-sender-config.ts';

describe('pinSenderFromConfig', () => {
  const cases: Array<[string, Parameters<typeof pinSenderFromConfig>[0], string[]]> = [
    ['nothing configured: no sender, deliveries wait', {}, []],
    ['SMTP only: e-mail', { smtpUrl: 'smtp://u:p@127.0.0.1:2525' }, ['email']],
    [
      'SMTP with a fax gateway and SMPP: all three',
      {
        smtpUrl: 'smtps://127.0.0.1',
        faxGatewayDomain: 'fax.example.net',
        smppUrl: 'smpp://id:pw@127.0.0.1:2775',
      },
      ['email', 'sms', 'fax'],
    ],
  ];
  for (const [name, config, channels] of cases) {
    it(name, async () => {
      const configured = pinSenderFromConfig(config);
      expect(configured.channels).toEqual(channels);
      expect(configured.sender === undefined).toBe(channels.length === 0);
      await configured.close();
    });
  }
});
