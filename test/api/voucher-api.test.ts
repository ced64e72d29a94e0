// Vouchers over HTTP, as clients see them: an operator sets up a product, a batch, a float and
// commissions; a terminal sells (idempotently, in parallel, refused cleanly); a switch redeems
// (once, with lockout); reports come back as JSON and CSV. Then a secrecy scan: no clear PIN
// issued during a run appears in the SQLite files, the logs, or the metrics.

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/adapters/http/app.ts';
import { pinCheckCharacter } from '../../src/core/vouchers/pin-code.ts';
import { type ApiEnv, openApi } from '../support/http.ts';
import { describeEachStore, openTestEnv, operator } from '../support/stores.ts';

async function keyFor(api: ApiEnv, kind: 'terminal' | 'retailer' | 'switch', parentId?: string) {
  const created = await api.env.principals.create(operator, {
    kind,
    name: `${kind} ${Math.random()}`,
    ...(parentId ? { parentId } : {}),
  });
  if (!created.ok) throw new Error(created.code);
  const key = await api.env.principals.issueKey(operator, { principalId: created.value.id });
  if (!key.ok) throw new Error(key.code);
  return { id: created.value.id, key: key.value.secret };
}

async function setUp(api: ApiEnv) {
  const product = await api.call('POST', '/v1/products', {
    body: {
      name: 'Top-up 10',
      currency: 'USD',
      face_value: '1000',
      pin_length: 12,
      mode: 'top_up',
      validity_days: 90,
      access_number: '+18005550100',
      instructions: 'Dial the access number.',
      low_stock_threshold: 5,
    },
  });
  expect(product.statusCode, product.body).toBe(201);
  const productId = product.json().id as string;
  const batch = await api.call('POST', '/v1/batches', {
    body: { product_id: productId, count: 60 },
  });
  expect(batch.statusCode, batch.body).toBe(201);
  const retailer = await keyFor(api, 'retailer');
  const terminal = await keyFor(api, 'terminal', retailer.id);
  const sw = await keyFor(api, 'switch');
  const float = await api.call('POST', '/v1/floats', {
    body: { principal_id: retailer.id, currency: 'USD' },
  });
  expect(float.statusCode, float.body).toBe(201);
  const deposit = await api.call('POST', `/v1/floats/${retailer.id}/deposits`, {
    idempotencyKey: 'dep-1',
    body: { currency: 'USD', amount: '50000' },
  });
  expect(deposit.statusCode, deposit.body).toBe(201);
  const rule = await api.call('POST', '/v1/commission-rules', {
    body: { level: 'retailer', rate_basis_points: 500 },
  });
  expect(rule.statusCode, rule.body).toBe(201);
  return {
    productId,
    batchId: batch.json().id as string,
    retailer,
    terminal,
    sw,
    floatId: float.json().account_id as string,
  };
}

describeEachStore('voucher API', (kind) => {
  let api: ApiEnv;
  let s: Awaited<ReturnType<typeof setUp>>;
  let n = 0;
  const nextKey = () => {
    n += 1;
    return `k-${n}`;
  };
  const sell = (body: Record<string, unknown> = {}, idempotencyKey = nextKey()) =>
    api.call('POST', '/v1/sales', {
      key: s.terminal.key,
      idempotencyKey,
      body: { product_id: s.productId, requested_amount: '1000', paid_amount: '1000', ...body },
    });

  beforeAll(async () => {
    api = await openApi(kind);
    s = await setUp(api);
  });
  afterAll(() => api.close());

  it('sells a PIN with serial, face value, expiry, access number and instructions', async () => {
    const response = await sell();
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({
      face_value: '1000',
      retailer_commission: '50',
      currency: 'USD',
      access_number: '+18005550100',
      instructions: 'Dial the access number.',
      status: 'completed',
    });
    expect(body.pin).toMatch(/^[0-9]{12}$/);
    expect(body.serial).toMatch(/-[0-9]{9}$/);
    expect(body.expires_at).not.toBeNull();
    const balance = await api.call('GET', `/v1/accounts/${s.floatId}/balance`);
    expect(balance.json().posted).toBe('49050');
  });

  it('returns the same PIN on a retry with the same Idempotency-Key', async () => {
    const first = await sell({}, 'same-key');
    const again = await sell({}, 'same-key');
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().pin).toBe(first.json().pin);
  });

  const refusals: Array<[string, Record<string, unknown>, number, string]> = [
    ['paid differs from requested', { paid_amount: '900' }, 422, 'amount_mismatch'],
    ['unknown product', { product_id: 'prd_x' }, 404, 'product_not_found'],
    ['unknown field', { tip: '1' }, 400, 'invalid_request'],
    [
      'bad delivery address',
      { delivery: { channel: 'email', address: 'not-mail' } },
      400,
      'delivery_address_invalid',
    ],
  ];
  for (const [name, body, status, code] of refusals) {
    it(`refuses a sale when ${name} (${status} ${code})`, async () => {
      const response = await sell(body);
      expect(response.statusCode).toBe(status);
      expect(response.json().error.code).toBe(code);
    });
  }

  it('needs an Idempotency-Key and the sell scope', async () => {
    const noKey = await api.call('POST', '/v1/sales', {
      key: s.terminal.key,
      body: { product_id: s.productId, requested_amount: '1000', paid_amount: '1000' },
    });
    expect(noKey.json().error.code).toBe('idempotency_key_missing');
    const wrongScope = await api.call('POST', '/v1/sales', {
      key: s.sw.key,
      idempotencyKey: 'x',
      body: { product_id: s.productId, requested_amount: '1000', paid_amount: '1000' },
    });
    expect(wrongScope.statusCode).toBe(403);
  });

  it('gives 30 parallel sales 30 different PINs', async () => {
    const responses = await Promise.all(Array.from({ length: 30 }, () => sell()));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(30).fill(201));
    expect(new Set(responses.map((r) => r.json().pin)).size).toBe(30);
  });

  it('redeems once: 20 simultaneous redemptions of one PIN, exactly one 200', async () => {
    const pin = (await sell()).json().pin as string;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api.call('POST', '/v1/vouchers/redeem', {
          key: s.sw.key,
          body: { pin, ani: `1555000${10 + i}` },
        }),
      ),
    );
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(1);
    const won = responses.find((r) => r.statusCode === 200)!.json();
    expect(won).toMatchObject({ mode: 'top_up', amount: '1000', currency: 'USD' });
  });

  it('prints the receipt as text and PDF for the seller only, and audits each print', async () => {
    const sold = (await sell()).json();
    const text = await api.call('GET', `/v1/sales/${sold.id}/receipt`, { key: s.terminal.key });
    expect(text.statusCode, text.body).toBe(200);
    expect(text.body).toContain(sold.serial);
    const pdf = await api.call('GET', `/v1/sales/${sold.id}/receipt?format=pdf`, {
      key: s.terminal.key,
    });
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const other = await keyFor(api, 'retailer');
    const denied = await api.call('GET', `/v1/sales/${sold.id}/receipt`, { key: other.key });
    expect(denied.statusCode).toBe(404);
    const history = await api.call('GET', `/v1/vouchers/${sold.serial}`);
    const actions = history.json().history.map((h: { action: string }) => h.action);
    expect(actions.filter((a: string) => a === 'voucher.receipt_printed')).toHaveLength(2);
  });

  it('voids an unused sale and shows the PIN history by serial', async () => {
    const sold = (await sell()).json();
    const voided = await api.call('POST', `/v1/sales/${sold.id}/void`, { key: s.terminal.key });
    expect(voided.statusCode, voided.body).toBe(200);
    expect(voided.json().status).toBe('voided');
    const history = await api.call('GET', `/v1/vouchers/${sold.serial}`);
    expect(history.json().status).toBe('voided');
    expect(history.json().history.map((h: { action: string }) => h.action)).toEqual([
      'voucher.sold',
      'voucher.sale_voided',
    ]);
    expect(history.body).not.toContain(sold.pin);
  });

  it('imports a carrier file over HTTP after a dry run, and lists problems of a bad one', async () => {
    const payload = (i: number) => `5${kind === 'sqlite' ? 1 : 2}00000000${i}`;
    const pin = (i: number) =>
      payload(i) + pinCheckCharacter({ alphabet: 'digits', check: 'damm' }, payload(i));
    const csv = `serial,pin,expires_at\nHTTP-${kind}-1,${pin(1)},2031-01-01\nHTTP-${kind}-2,${pin(2)},\n`;
    const dry = await api.call('POST', '/v1/batches/import', {
      body: { product_id: s.productId, csv, dry_run: true },
    });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ batch: null, count: 2, issues: [] });
    const bad = await api.call('POST', '/v1/batches/import', {
      body: { product_id: s.productId, csv: `serial,pin\nX-1,123\n` },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().issues[0].line).toBe(2);
    const done = await api.call('POST', '/v1/batches/import', {
      body: { product_id: s.productId, csv },
    });
    expect(done.statusCode, done.body).toBe(201);
    expect(done.json().batch.count_created).toBe(2);
  });

  it('freezes one PIN by serial: it cannot be redeemed until unfrozen', async () => {
    // A fresh switch: the source of earlier tests is locked after their deliberate failures.
    const sw = await keyFor(api, 'switch');
    const sold = (await sell()).json();
    const frozen = await api.call('POST', `/v1/vouchers/${sold.serial}/freeze`);
    expect(frozen.json()).toEqual({ changed: 1 });
    const refused = await api.call('POST', '/v1/vouchers/redeem', {
      key: sw.key,
      body: { pin: sold.pin, ani: '15559990001' },
    });
    expect(refused.json().error.code).toBe('pin_invalid');
    await api.call('POST', `/v1/vouchers/${sold.serial}/unfreeze`);
    const redeemed = await api.call('POST', '/v1/vouchers/redeem', {
      key: sw.key,
      body: { pin: sold.pin, ani: '15559990002' },
    });
    expect(redeemed.statusCode, redeemed.body).toBe(200);
  });

  it('describes the voucher routes in OpenAPI', async () => {
    const spec = (await api.call('GET', '/openapi.json', { key: null })).json();
    for (const path of [
      '/v1/products',
      '/v1/batches',
      '/v1/sales',
      '/v1/sales/{id}/void',
      '/v1/vouchers/redeem',
      '/v1/floats',
      '/v1/commission-rules',
      '/v1/reports/stock',
    ]) {
      expect(Object.keys(spec.paths), path).toContain(path);
    }
  });

  it('reports stock, sales and the retailer statement as JSON and CSV', async () => {
    const stock = await api.call('GET', '/v1/reports/stock');
    expect(stock.json().items[0]).toMatchObject({ product_id: s.productId });
    const csv = await api.call('GET', '/v1/reports/sales?format=csv');
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\n')[0]).toBe(
      'day,retailer_id,product_id,count,face_value,retailer_commission,distributor_commission',
    );
    const statement = await api.call('GET', '/v1/reports/statement?currency=USD', {
      key: s.retailer.key,
    });
    expect(statement.statusCode, statement.body).toBe(200);
    expect(statement.json().retailer_id).toBe(s.retailer.id);
  });
});

describe('PIN secrecy', () => {
  it('leaves no clear PIN in the SQLite files, the logs or the metrics', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const env = await openTestEnv('sqlite');
    const app = await buildApp({ services: env, logger: pino({ level: 'trace' }, sink) });
    const api: ApiEnv = {
      env,
      app,
      adminKey: '',
      call: (method, url, options = {}) => {
        const headers: Record<string, string> = {
          authorization: `Bearer ${options.key ?? adminKey}`,
        };
        if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
        if (options.body !== undefined) headers['content-type'] = 'application/json';
        return app.inject({
          method,
          url,
          headers,
          ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
        });
      },
      principal: () => Promise.reject(new Error('unused')),
      close: async () => {},
    };
    const issued = await env.principals.issueKey(operator, { principalId: 'system' });
    if (!issued.ok) throw new Error(issued.code);
    const adminKey = issued.value.secret;
    const s = await setUp(api);
    const pins: string[] = [];
    const serials: string[] = [];
    for (let i = 0; i < 25; i += 1) {
      const sold = await api.call('POST', '/v1/sales', {
        key: s.terminal.key,
        idempotencyKey: `secret-${i}`,
        body: {
          product_id: s.productId,
          requested_amount: '1000',
          paid_amount: '1000',
          delivery: { channel: 'sms', address: '+15551234567' },
        },
      });
      expect(sold.statusCode, sold.body).toBe(201);
      pins.push(sold.json().pin);
      serials.push(sold.json().serial);
    }
    for (const pin of pins.slice(0, 5)) {
      await api.call('POST', '/v1/vouchers/redeem', {
        key: s.sw.key,
        body: { pin, ani: '15550001' },
      });
      await api.call('POST', '/v1/vouchers/redeem', {
        key: s.sw.key,
        body: { pin, ani: '15550001' },
      });
    }
    await api.call('POST', '/v1/vouchers/redeem', { key: s.sw.key, body: { pin: `${pins[6]}9` } });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    const dir = dirname(env.sqlitePath!);
    const before = readdirSync(dir).map((name) => readFileSync(join(dir, name)));
    await app.close();
    await env.closeKeep();
    const after = readdirSync(dir).map((name) => readFileSync(join(dir, name)));
    const haystacks = [...before, ...after, Buffer.from(lines.join('')), Buffer.from(metrics.body)];
    expect(lines.length).toBeGreaterThan(0);
    // A control: the scan does see what is stored in the clear, such as serials.
    expect(after.some((bytes) => bytes.includes(Buffer.from(serials[0]!)))).toBe(true);
    expect(lines.join('')).toContain(serials[0]!);
    for (const pin of pins) {
      for (const haystack of haystacks) {
        expect(haystack.includes(Buffer.from(pin, 'latin1')), `PIN found in stored bytes`).toBe(
          false,
        );
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
