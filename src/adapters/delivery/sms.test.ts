import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import smpp from 'smpp';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { AssertionError } from '../../core/shared/assert.ts';
import { DeliveryError } from './delivery-channel.ts';
import { normalizePhoneNumber } from './phone-number.ts';
import type { SmppOptions } from './sms.ts';
import { renderSmsText, SmsChannel, smsCharsMax, smsMessageFields } from './sms.ts';
import { pinForms, sampleDelivery, samplePin } from './testing/sample-delivery.ts';
import type { SmppCapture } from './testing/smpp-capture.ts';
import { startSmppCapture, submittedText } from './testing/smpp-capture.ts';

let smsc: SmppCapture;
const channels: SmsChannel[] = [];

beforeAll(async () => {
  smsc = await startSmppCapture();
});

afterEach(async () => {
  await Promise.all(channels.splice(0).map((channel) => channel.close()));
  smsc.binds.length = 0;
  smsc.submits.length = 0;
  smsc.unbinds = 0;
  smsc.behaviour = {};
});

afterAll(async () => {
  await smsc.close();
});

function smsChannel(overrides: Partial<SmppOptions> = {}): SmsChannel {
  const channel = new SmsChannel({
    smpp: {
      host: '127.0.0.1',
      port: smsc.port,
      systemId: 'tollgate',
      password: 'secret',
      sourceAddr: 'Tollgate',
      responseTimeoutMs: 2_000,
      ...overrides,
    },
  });
  channels.push(channel);
  return channel;
}

const phone = { recipient: '+44 7700 900123' };

async function deliveryError(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  const visible = `${(error as Error).message} ${JSON.stringify(error)}`;
  for (const form of pinForms()) expect(visible).not.toContain(form);
  return error as DeliveryError;
}

describe('renderSmsText and smsMessageFields', () => {
  test('given a full delivery, then the SMS leads with the PIN and fits one message', () => {
    const text = renderSmsText(sampleDelivery());
    expect(text).toBe(
      `PIN ${samplePin} for Prepaid 10 (10.00 USD). Serial B2026A-000000042. ` +
        'Dial 0800 123 4567. Expires 2026-12-31.',
    );
    expect(text.length).toBeLessThanOrEqual(smsCharsMax.default);
  });

  test.each([
    { text: 'x'.repeat(160), field: 'short_message', dataCoding: 0 },
    { text: 'x'.repeat(161), field: 'message_payload', dataCoding: 0 },
    { text: '가'.repeat(70), field: 'short_message', dataCoding: 8 },
    { text: '가'.repeat(71), field: 'message_payload', dataCoding: 8 },
    { text: `PIN ${samplePin} Café`, field: 'short_message', dataCoding: 8 },
    { text: 'price $5 @shop', field: 'short_message', dataCoding: 8 },
  ])(
    'given $text.length characters like "$text.0", then $field with data_coding $dataCoding',
    (row) => {
      const fields = smsMessageFields(row.text);
      expect(fields['data_coding']).toBe(row.dataCoding);
      const carried = fields[row.field] as Buffer;
      expect(carried.length).toBe(row.dataCoding === 0 ? row.text.length : row.text.length * 2);
      if (row.field === 'message_payload') expect(fields['short_message']).toEqual(Buffer.alloc(0));
      else expect(fields).not.toHaveProperty('message_payload');
    },
  );
});

describe('SmsChannel.deliver', () => {
  test('given a phone number, then one bind and one submit_sm carry the PIN and serial to it', async () => {
    const receipt = await smsChannel().deliver(sampleDelivery(phone));

    expect(smsc.binds).toEqual([{ systemId: 'tollgate', password: 'secret' }]);
    expect(smsc.submits).toHaveLength(1);
    const submit = smsc.submits[0]!;
    expect(submit).toMatchObject({
      destination_addr: '447700900123',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      source_addr: 'Tollgate',
      source_addr_ton: 5,
      data_coding: 0,
    });
    const text = submittedText(submit);
    expect(text).toBe(renderSmsText(sampleDelivery()));
    expect(text).toContain(samplePin);
    expect(text).toContain('B2026A-000000042');
    expect(text.length).toBeLessThanOrEqual(160);
    expect(receipt).toEqual({
      kind: 'sms',
      saleId: 'sale_01HZX3',
      serial: 'B2026A-000000042',
      destination: '447700900123',
      transportMessageId: expect.stringMatching(/^msg-\d+$/),
    });
  });

  test('given three deliveries at once, then they share one bind', async () => {
    const channel = smsChannel({ sourceAddr: '15550001111' });
    await Promise.all(
      ['+15550000001', '+15550000002', '+15550000003'].map((recipient) =>
        channel.deliver(sampleDelivery({ recipient })),
      ),
    );
    expect(smsc.binds).toHaveLength(1);
    expect(smsc.submits.map((submit) => submit['destination_addr']).sort()).toEqual([
      '15550000001',
      '15550000002',
      '15550000003',
    ]);
    expect(smsc.submits[0]).toMatchObject({ source_addr_ton: 1, source_addr_npi: 1 });
  });

  test('given a product name too long for one SMS, then the whole text goes in message_payload', async () => {
    const productName = `Worldwide calling card ${'with a very long marketing name '.repeat(3)}`;
    await smsChannel().deliver(sampleDelivery({ ...phone, productName }));
    const submit = smsc.submits[0]!;
    expect(submit['message_payload']).toBeDefined();
    expect(submittedText(submit)).toBe(renderSmsText(sampleDelivery({ productName })));
    expect(submittedText(submit).length).toBeGreaterThan(160);
  });

  test('given a Korean product name, then the text is sent as UCS-2 and arrives intact', async () => {
    const delivery = sampleDelivery({ ...phone, productName: '선불 카드', currency: 'KRW' });
    await smsChannel().deliver({ ...delivery, faceValueMinor: 10_000n });
    const submit = smsc.submits[0]!;
    expect(submit['data_coding']).toBe(8);
    expect(submittedText(submit)).toContain('선불 카드 (10000 KRW)');
    expect(submittedText(submit)).toContain(samplePin);
  });

  test('given the SMSC dropped the bound session, then the next delivery binds again', async () => {
    const channel = smsChannel();
    await channel.deliver(sampleDelivery(phone));
    smsc.dropSessions();
    // The drop may reach the channel before or after the next delivery starts. If after, that
    // delivery fails as retryable (the outbox sends it again); the one after must bind afresh.
    const raced = await channel.deliver(sampleDelivery(phone)).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (raced !== undefined) {
      expect(raced).toMatchObject({ code: 'transport_unavailable', retryable: true });
    }
    await channel.deliver(sampleDelivery(phone));
    expect(smsc.binds).toHaveLength(2);
  });

  test('given close(), then the channel unbinds and a second close is harmless', async () => {
    const channel = smsChannel();
    await channel.deliver(sampleDelivery(phone));
    await channel.close();
    await channel.close();
    expect(smsc.unbinds).toBe(1);
  });
});

describe('SmsChannel failures', () => {
  test.each([
    { status: 'ESME_RTHROTTLED', code: 'transport_rejected', retryable: true },
    { status: 'ESME_RMSGQFUL', code: 'transport_rejected', retryable: true },
    { status: 'ESME_RSYSERR', code: 'transport_rejected', retryable: true },
    { status: 'ESME_RINVDSTADR', code: 'recipient_invalid', retryable: false },
    { status: 'ESME_RINVSRCADR', code: 'transport_rejected', retryable: false },
  ])(
    'given the SMSC answers $status, then $code (retryable: $retryable) without the PIN',
    async (row) => {
      smsc.behaviour = { submitStatus: smpp.errors[row.status]! };
      const error = await deliveryError(smsChannel().deliver(sampleDelivery(phone)));
      expect(error).toMatchObject({
        kind: 'sms',
        code: row.code,
        retryable: row.retryable,
        serial: 'B2026A-000000042',
      });
      expect(error.message).toContain(row.status);
      expect(error.transportCode).toContain(row.status);
    },
  );

  test('given the bind is refused, then transport_unavailable, and a later delivery binds afresh', async () => {
    smsc.behaviour = { bindStatus: smpp.errors['ESME_RBINDFAIL']! };
    const channel = smsChannel();
    const error = await deliveryError(channel.deliver(sampleDelivery(phone)));
    expect(error).toMatchObject({ code: 'transport_unavailable', retryable: true });
    expect(error.message).toContain('bind refused: ESME_RBINDFAIL');

    smsc.behaviour = {};
    await channel.deliver(sampleDelivery(phone));
    expect(smsc.binds).toHaveLength(2);
    expect(smsc.submits).toHaveLength(1);
  });

  test('given an SMSC that never answers submit_sm, then the response timeout gives transport_unavailable', async () => {
    smsc.behaviour = { silent: true };
    const error = await deliveryError(
      smsChannel({ responseTimeoutMs: 200 }).deliver(sampleDelivery(phone)),
    );
    expect(error).toMatchObject({ code: 'transport_unavailable', retryable: true });
    expect(error.message).toContain('no response within 200 ms');
  });

  test('given no SMSC listening, then transport_unavailable without the PIN', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await deliveryError(smsChannel({ port }).deliver(sampleDelivery(phone)));
    expect(error).toMatchObject({ code: 'transport_unavailable', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
  });

  test.each(['', '12345', '07700 900123', 'buyer@example.com', '+44 7700 900123 ext 4'])(
    'given the phone number %j, then recipient_invalid and no connection',
    async (recipient) => {
      expect(normalizePhoneNumber(recipient)).toBeUndefined();
      const error = await deliveryError(smsChannel().deliver(sampleDelivery({ recipient })));
      expect(error).toMatchObject({ code: 'recipient_invalid', retryable: false });
      expect(smsc.binds).toHaveLength(0);
    },
  );

  test.each(['Tollgate Prepaid', '', '+15550001111', 'Toll_gate'])(
    'given the source address %j, then construction asserts',
    (sourceAddr) => {
      expect(() => smsChannel({ sourceAddr })).toThrow(AssertionError);
    },
  );
});
