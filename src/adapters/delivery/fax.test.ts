import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { AssertionError } from '../../core/shared/assert.ts';
import { DeliveryError } from './delivery-channel.ts';
import { EmailChannel } from './email.ts';
import { FaxChannel, faxGatewayAddress } from './fax.ts';
import { pdfTextLines } from './testing/pdf-text.ts';
import { pinForms, sampleDelivery, samplePin } from './testing/sample-delivery.ts';
import type { SmtpCapture } from './testing/smtp-capture.ts';
import { parseMime, startSmtpCapture } from './testing/smtp-capture.ts';

let smtp: SmtpCapture;
let email: EmailChannel;
let fax: FaxChannel;

beforeAll(async () => {
  smtp = await startSmtpCapture();
  email = new EmailChannel({
    smtp: { host: '127.0.0.1', port: smtp.port, secure: false, connectionTimeoutMs: 2_000 },
    from: 'Tollgate <fax@example.net>',
  });
  fax = new FaxChannel({ email, gatewayDomain: 'Fax.Example.NET' });
});

afterEach(() => {
  smtp.messages.length = 0;
  smtp.behaviour = {};
});

afterAll(async () => {
  email.close();
  await smtp.close();
});

describe('faxGatewayAddress', () => {
  test.each([
    { faxNumber: '+1 555 123 4567', address: '15551234567@fax.example.net' },
    { faxNumber: '+44 (20) 7946-0958', address: '442079460958@fax.example.net' },
    { faxNumber: '82.2.1234.5678', address: '82212345678@fax.example.net' },
    { faxNumber: '1234567', address: '1234567@fax.example.net' },
    { faxNumber: '123456789012345', address: '123456789012345@fax.example.net' },
  ])('given $faxNumber, then the gateway address is $address', ({ faxNumber, address }) => {
    expect(faxGatewayAddress(faxNumber, 'fax.example.net')).toBe(address);
  });
});

describe('FaxChannel', () => {
  test('given a fax number, then the gateway receives the A4 PDF receipt at <digits>@<domain>', async () => {
    const receipt = await fax.deliver(sampleDelivery({ recipient: '+1 555 123 4567' }));
    expect(receipt).toMatchObject({
      kind: 'fax',
      destination: '15551234567@fax.example.net',
      serial: 'B2026A-000000042',
    });
    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0]!;
    expect(mail.rcptTo).toEqual(['15551234567@fax.example.net']);

    const { headers, parts } = parseMime(mail.raw);
    const pdf = parts.find((part) =>
      part.headers.get('content-type')?.startsWith('application/pdf'),
    );
    expect(pdf!.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf!.body.toString('latin1')).toContain('/MediaBox [0 0 595.28 841.89]');
    expect(pdfTextLines(pdf!.body)).toContain('8392 0174 6583 91');

    // Gateways print subject and body on a cover page: they carry the serial, never the PIN.
    const body = parts.find((part) => part.headers.get('content-type')?.startsWith('text/plain'));
    const cover = `${headers.get('subject')}\n${body!.body.toString('utf8')}`;
    expect(cover).toContain('B2026A-000000042');
    for (const form of pinForms()) expect(cover).not.toContain(form);
  });

  test.each([
    { recipient: '', why: 'empty' },
    { recipient: '555-123', why: 'too short' },
    { recipient: '+1234567890123456', why: 'longer than E.164' },
    { recipient: '0207 946 0958', why: 'a national number' },
    { recipient: '00 44 20 7946 0958', why: 'an international prefix instead of +' },
    { recipient: '+1 555 CALL NOW', why: 'letters' },
    { recipient: '15551234567@evil.example', why: 'an e-mail address' },
  ])(
    'given a fax number that is $why, then recipient_invalid explains the rule',
    async ({ recipient }) => {
      const error = await fax
        .deliver(sampleDelivery({ recipient }))
        .catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error).toMatchObject({ kind: 'fax', code: 'recipient_invalid', retryable: false });
      expect((error as DeliveryError).message).toContain(
        'the fax number must be an international number: country code first, 7 to 15 digits',
      );
      expect(smtp.messages).toHaveLength(0);
    },
  );

  test('given the gateway refuses the message quoting the PIN, then the fax error names the serial only', async () => {
    smtp.behaviour = { rejectData: { responseCode: 554, message: `rejected ${samplePin}` } };
    const error = (await fax
      .deliver(sampleDelivery({ recipient: '+15551234567' }))
      .catch((thrown: unknown) => thrown)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ kind: 'fax', code: 'transport_rejected', retryable: false });
    expect(error.message).toContain('B2026A-000000042');
    for (const form of pinForms()) expect(error.message).not.toContain(form);
  });

  test.each(['', 'fax', '-fax.example.net', 'fax..example.net', 'fax.example.net/x'])(
    'given the gateway domain %j, then construction asserts',
    (gatewayDomain) => {
      expect(() => new FaxChannel({ email, gatewayDomain })).toThrow(AssertionError);
    },
  );
});
