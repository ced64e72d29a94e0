// The durable outbox end to end: a sale with a delivery commits first; the outbox then sends the
// PIN by e-mail (a local SMTP server), SMS (a local SMPP server) and fax (mail to the fax
// gateway); a failing transport is retried later, and the sale is neither lost nor repeated.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Opened, openTestEnv, operator } from '../../../test/support/stores.ts';
import type { Principal } from '../../core/shared/principal.ts';
import { EmailChannel } from './email.ts';
import { FaxChannel } from './fax.ts';
import { ChannelPinSender } from './pin-sender.ts';
import { SmsChannel } from './sms.ts';
import { type SmppCapture, startSmppCapture, submittedText } from './testing/smpp-capture.ts';
import { type SmtpCapture, startSmtpCapture } from './testing/smtp-capture.ts';

const must = <T>(result: { ok: true; value: T } | { ok: false; code: string }): T => {
  if (!result.ok) throw new Error(result.code);
  return result.value;
};

describe('voucher delivery outbox', () => {
  let env: Opened;
  let smtp: SmtpCapture;
  let smpp: SmppCapture;
  let email: EmailChannel;
  let sms: SmsChannel;
  let sender: ChannelPinSender;
  let retailer: Principal;
  let productId: string;

  beforeAll(async () => {
    [env, smtp, smpp] = await Promise.all([
      openTestEnv('sqlite'),
      startSmtpCapture(),
      startSmppCapture(),
    ]);
    email = new EmailChannel({
      smtp: {
        host: '127.0.0.1',
        port: smtp.port,
        secure: false,
        connectionTimeoutMs: 2000,
        socketTimeoutMs: 2000,
      },
      from: 'Tollgate <pins@example.net>',
    });
    sms = new SmsChannel({
      smpp: {
        host: '127.0.0.1',
        port: smpp.port,
        systemId: 'tg',
        password: 'pw',
        sourceAddr: 'Tollgate',
        responseTimeoutMs: 2000,
      },
    });
    sender = new ChannelPinSender({
      email,
      sms,
      fax: new FaxChannel({ email, gatewayDomain: 'fax.example.net' }),
    });
    retailer = must(await env.principals.create(operator, { kind: 'retailer', name: 'Shop' }));
    productId = must(
      await env.vouchers.createProduct(operator, {
        name: 'Top-up 5',
        currency: 'USD',
        faceValueMinor: 500n,
        pinLength: 12,
        pinAlphabet: 'digits',
        pinCheck: 'damm',
        mode: 'top_up',
        accessNumber: '+18005550100',
      }),
    ).id;
    must(await env.vouchers.createBatch(operator, { productId, count: 10 }));
    must(
      await env.vouchers.openFloat(operator, {
        principalId: retailer.id,
        currency: 'USD',
        creditLimitMinor: 10_000n,
      }),
    );
  });
  afterAll(async () => {
    email.close();
    await sms.close();
    await Promise.all([smtp.close(), smpp.close(), env.close()]);
  });

  const sell = async (key: string, channel: 'email' | 'sms' | 'fax', address: string) =>
    must(
      await env.vouchers.sell(
        { principal: retailer, scopes: [] },
        {
          productId,
          requestedAmountMinor: 500n,
          paidAmountMinor: 500n,
          idempotencyKey: key,
          delivery: { channel, address },
        },
      ),
    );

  it('sends each PIN once by e-mail, SMS and fax after the sale commits', async () => {
    const byMail = await sell('d1', 'email', 'buyer@example.org');
    const bySms = await sell('d2', 'sms', '15551234567');
    const byFax = await sell('d3', 'fax', '15557654321');
    expect(await env.vouchers.deliverDue(sender)).toBe(3);
    expect(await env.vouchers.deliverDue(sender)).toBe(0);
    const recipients = smtp.messages.map((m) => m.rcptTo.join(','));
    expect(recipients).toEqual(['buyer@example.org', '15557654321@fax.example.net']);
    expect(smtp.messages[0]!.raw).toContain(byMail.sale.serial);
    expect(smpp.submits.map((pdu) => submittedText(pdu)).join('\n')).toContain(bySms.pin);
    for (const sale of [byMail, bySms, byFax]) {
      const [delivery] = await env.vouchers.listDeliveries(sale.sale.id);
      expect(delivery).toMatchObject({ status: 'sent', attempts: 1 });
    }
  });

  it('keeps a delivery pending when the transport fails, and sends it on a later sweep', async () => {
    smtp.behaviour = { rejectData: { responseCode: 451, message: 'try later' } };
    const sold = await sell('d4', 'email', 'later@example.org');
    expect(await env.vouchers.deliverDue(sender)).toBe(0);
    const [pending] = await env.vouchers.listDeliveries(sold.sale.id);
    expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
    expect(pending!.lastError).not.toContain(sold.pin);
    smtp.behaviour = {};
    env.clock.advanceMs(60_000);
    expect(await env.vouchers.deliverDue(sender)).toBe(1);
    const sales = await env.store.voucherReads.listSales({ retailerId: retailer.id, limit: 50 });
    expect(sales.filter((s) => s.idempotencyKey === 'd4')).toHaveLength(1);
  });

  it('sends each delivery once when two sweeps race, as two processes sharing a database would', async () => {
    smtp.behaviour = {};
    const before = smtp.messages.length;
    for (let i = 0; i < 4; i += 1) await sell(`race-${i}`, 'email', `race${i}@example.org`);
    const [first, second] = await Promise.all([
      env.vouchers.deliverDue(sender),
      env.vouchers.deliverDue(sender),
    ]);
    expect(first + second).toBe(4);
    expect(smtp.messages.length - before).toBe(4);
  });
});
