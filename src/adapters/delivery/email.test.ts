import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { DeliveryError } from './delivery-channel.ts';
import { EmailChannel, isEmailAddress } from './email.ts';
import { pdfTextLines } from './testing/pdf-text.ts';
import { pinForms, sampleDelivery, samplePin } from './testing/sample-delivery.ts';
import type { SmtpCapture } from './testing/smtp-capture.ts';
import { parseMime, startSmtpCapture } from './testing/smtp-capture.ts';

let smtp: SmtpCapture;
const channels: EmailChannel[] = [];

beforeAll(async () => {
  smtp = await startSmtpCapture();
});

afterEach(() => {
  smtp.messages.length = 0;
  smtp.behaviour = {};
  for (const channel of channels.splice(0)) channel.close();
});

afterAll(async () => {
  await smtp.close();
});

function emailChannel(overrides: { port?: number; auth?: { user: string; pass: string } } = {}) {
  const channel = new EmailChannel({
    smtp: {
      host: '127.0.0.1',
      port: overrides.port ?? smtp.port,
      secure: false,
      connectionTimeoutMs: 2_000,
      socketTimeoutMs: 2_000,
      ...(overrides.auth === undefined ? {} : { auth: overrides.auth }),
    },
    from: 'Tollgate <pins@example.net>',
  });
  channels.push(channel);
  return channel;
}

async function deliveryError(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

function expectNoPin(error: DeliveryError): void {
  const visible = `${error.message} ${error.stack ?? ''} ${JSON.stringify(error)}`;
  for (const form of pinForms()) expect(visible).not.toContain(form);
  expect(error.cause).toBeUndefined();
}

describe('EmailChannel.deliver', () => {
  test('given a buyer address, then one message reaches it with the PIN, serial and PDF receipt', async () => {
    const receipt = await emailChannel().deliver(sampleDelivery());

    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0]!;
    expect(mail.mailFrom).toBe('pins@example.net');
    expect(mail.rcptTo).toEqual(['buyer@example.com']);
    expect(receipt).toMatchObject({
      kind: 'email',
      saleId: 'sale_01HZX3',
      serial: 'B2026A-000000042',
      destination: 'buyer@example.com',
    });
    expect(receipt.transportMessageId).toMatch(/^<.+@example\.net>$/);

    const { headers, parts } = parseMime(mail.raw);
    expect(headers.get('to')).toBe('buyer@example.com');
    expect(headers.get('subject')).toBe('Your Prepaid 10 PIN (serial B2026A-000000042)');
    for (const form of pinForms()) expect(headers.get('subject')).not.toContain(form);

    const body = parts.find((part) => part.headers.get('content-type')?.startsWith('text/plain'));
    const bodyText = body!.body.toString('utf8');
    expect(bodyText).toContain('PIN:            8392 0174 6583 91');
    expect(bodyText).toContain('Serial:         B2026A-000000042');

    const attachment = parts.find((part) =>
      part.headers.get('content-type')?.startsWith('application/pdf'),
    );
    expect(attachment!.headers.get('content-disposition')).toBe(
      'attachment; filename=receipt-B2026A-000000042.pdf',
    );
    expect(attachment!.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdfTextLines(attachment!.body)).toContain('8392 0174 6583 91');
  });

  test('given SMTP credentials, then the channel logs in with them', async () => {
    smtp.behaviour = { users: { tollgate: 's3cret' } };
    await emailChannel({ auth: { user: 'tollgate', pass: 's3cret' } }).deliver(sampleDelivery());
    expect(smtp.messages[0]!.auth).toEqual({ username: 'tollgate', password: 's3cret' });
  });

  test('given two deliveries on one channel, then both arrive', async () => {
    const channel = emailChannel();
    await channel.deliver(sampleDelivery({ recipient: 'a@example.com' }));
    await channel.deliver(
      sampleDelivery({ recipient: 'b@example.com', serial: 'B2026A-000000043' }),
    );
    expect(smtp.messages.map((mail) => mail.rcptTo[0])).toEqual(['a@example.com', 'b@example.com']);
  });
});

describe('EmailChannel failures', () => {
  test.each(['', 'buyer', 'buyer@', '@example.com', 'a b@example.com', 'buyer@example', '<x>@y.z'])(
    'given the recipient %j, then recipient_invalid is thrown before any connection',
    async (recipient) => {
      expect(isEmailAddress(recipient)).toBe(false);
      const error = await deliveryError(emailChannel().deliver(sampleDelivery({ recipient })));
      expect(error).toMatchObject({ code: 'recipient_invalid', retryable: false });
      expect(smtp.messages).toHaveLength(0);
    },
  );

  test.each([
    {
      given: 'the server refuses the recipient with 550',
      behaviour: { rejectRcpt: { responseCode: 550, message: 'no such user' } },
      code: 'recipient_invalid',
      retryable: false,
    },
    {
      given: 'the server refuses the recipient with 450 (mailbox busy)',
      behaviour: { rejectRcpt: { responseCode: 450, message: 'mailbox busy' } },
      code: 'transport_rejected',
      retryable: true,
    },
    {
      given: 'the server refuses the content with 554, quoting the PIN',
      behaviour: { rejectData: { responseCode: 554, message: `spam: ${samplePin}` } },
      code: 'transport_rejected',
      retryable: false,
    },
    {
      given: 'the server defers the content with 451, quoting the grouped PIN',
      behaviour: { rejectData: { responseCode: 451, message: 'try later: 8392 0174 6583 91' } },
      code: 'transport_rejected',
      retryable: true,
    },
    {
      given: 'the login is refused',
      behaviour: { users: { tollgate: 'right' } },
      auth: { user: 'tollgate', pass: 'wrong' },
      code: 'transport_unavailable',
      retryable: true,
    },
  ] as const)(
    'given $given, then $code (retryable: $retryable) naming the serial, never the PIN',
    async (row) => {
      smtp.behaviour = row.behaviour;
      const channel = 'auth' in row ? emailChannel({ auth: row.auth }) : emailChannel();
      const error = await deliveryError(channel.deliver(sampleDelivery()));
      expect(error).toMatchObject({
        kind: 'email',
        code: row.code,
        retryable: row.retryable,
        serial: 'B2026A-000000042',
        saleId: 'sale_01HZX3',
      });
      expect(error.message).toContain('serial B2026A-000000042');
      // The server's reply is kept for the operator, with the PIN it quoted cut out.
      if ('rejectData' in row.behaviour) expect(error.message).toContain('[PIN]');
      expectNoPin(error);
      expect(smtp.messages).toHaveLength(0);
    },
  );

  test('given no server listening, then transport_unavailable, retryable, without the PIN', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await deliveryError(emailChannel({ port }).deliver(sampleDelivery()));
    expect(error).toMatchObject({ code: 'transport_unavailable', retryable: true });
    expect(error.transportCode).toMatch(/ECONNECTION|ESOCKET/);
    expectNoPin(error);
  });
});
