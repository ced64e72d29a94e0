// The ledger over HTTP, as a client sees it: status codes, error codes, idempotency, scopes and
// ownership, and that bad input changes nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiEnv, openApi } from '../support/http.ts';
import { describeEachStore, operator } from '../support/stores.ts';

describeEachStore('ledger API', (kind) => {
  let api: ApiEnv;
  let cash: string;
  let wallet: string;

  async function openAccount(body: Record<string, unknown>, key?: string) {
    const response = await api.call('POST', '/v1/accounts', { body, ...(key ? { key } : {}) });
    expect(response.statusCode, response.body).toBe(201);
    return response.json().id as string;
  }

  async function balanceOf(id: string) {
    const response = await api.call('GET', `/v1/accounts/${id}/balance`);
    expect(response.statusCode).toBe(200);
    return response.json();
  }

  beforeAll(async () => {
    api = await openApi(kind);
    cash = await openAccount({ name: 'cash', currency: 'USD', kind: 'asset' });
    wallet = await openAccount({
      name: 'wallet',
      currency: 'USD',
      kind: 'liability',
      flags: ['debits_must_not_exceed_credits'],
    });
    const funded = await api.call('POST', '/v1/transfers', {
      idempotencyKey: 'fund-wallet',
      body: { debit_account_id: cash, credit_account_id: wallet, amount: '10000', currency: 'USD' },
    });
    expect(funded.statusCode).toBe(201);
  });
  afterAll(() => api.close());

  it('moves money with a transfer and shows it in both balances', async () => {
    const revenue = await openAccount({ name: 'revenue', currency: 'USD', kind: 'revenue' });
    const response = await api.call('POST', '/v1/transfers', {
      idempotencyKey: 'pay-1',
      body: {
        debit_account_id: wallet,
        credit_account_id: revenue,
        amount: '250',
        currency: 'USD',
        code: 'call',
      },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ kind: 'transfer', amount: '250', code: 'call' });
    expect((await balanceOf(revenue)).posted).toBe('250');
    expect((await balanceOf(wallet)).available).toBe('9750');
  });

  it('returns the first answer for a retried request and moves the money once', async () => {
    const body = {
      debit_account_id: cash,
      credit_account_id: wallet,
      amount: '5',
      currency: 'USD',
    };
    const first = await api.call('POST', '/v1/transfers', { idempotencyKey: 'retry-me', body });
    const second = await api.call('POST', '/v1/transfers', { idempotencyKey: 'retry-me', body });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().id).toBe(first.json().id);
    const changed = await api.call('POST', '/v1/transfers', {
      idempotencyKey: 'retry-me',
      body: { ...body, amount: '6' },
    });
    expect(changed.statusCode).toBe(409);
    expect(changed.json().error.code).toBe('exists_with_different_fields');
    expect((await balanceOf(wallet)).posted).toBe('9755');
  });

  it('holds, posts part of a hold and releases the rest', async () => {
    const shop = await openAccount({ name: 'shop', currency: 'USD', kind: 'revenue' });
    const hold = await api.call('POST', '/v1/holds', {
      idempotencyKey: 'hold-1',
      body: {
        debit_account_id: wallet,
        credit_account_id: shop,
        amount: '1000',
        currency: 'USD',
        timeout_seconds: 60,
      },
    });
    expect(hold.statusCode).toBe(201);
    const holdId = hold.json().id as string;
    const before = await balanceOf(wallet);
    expect(before.held).toBe('1000');
    const posted = await api.call('POST', `/v1/holds/${holdId}/post`, {
      idempotencyKey: 'post-1',
      body: { amount: '400' },
    });
    expect(posted.statusCode).toBe(201);
    expect(posted.json()).toMatchObject({ kind: 'post', amount: '400', hold_id: holdId });
    const after = await balanceOf(wallet);
    expect(after.held).toBe('0');
    expect(BigInt(after.posted)).toBe(BigInt(before.posted) - 400n);
    const again = await api.call('POST', `/v1/holds/${holdId}/void`, { idempotencyKey: 'void-1' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('hold_already_posted');
    const shown = await api.call('GET', `/v1/holds/${holdId}`);
    expect(shown.json().hold_status).toBe('posted');
  });

  it('refuses to overdraw a guarded account with 422 exceeds_available', async () => {
    const response = await api.call('POST', '/v1/transfers', {
      idempotencyKey: 'too-much',
      body: {
        debit_account_id: wallet,
        credit_account_id: cash,
        amount: '99999999',
        currency: 'USD',
      },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe('exceeds_available');
  });

  it('pages through history with a cursor, newest first', async () => {
    const account = await openAccount({ name: 'paged', currency: 'USD', kind: 'liability' });
    for (let i = 1; i <= 5; i += 1) {
      const r = await api.call('POST', '/v1/transfers', {
        idempotencyKey: `page-${i}`,
        body: {
          debit_account_id: cash,
          credit_account_id: account,
          amount: String(i),
          currency: 'USD',
        },
      });
      expect(r.statusCode).toBe(201);
    }
    const amounts: string[] = [];
    let url = `/v1/accounts/${account}/transfers?limit=2`;
    for (let page = 0; page < 10; page += 1) {
      const response = await api.call('GET', url);
      expect(response.statusCode).toBe(200);
      const body = response.json();
      amounts.push(
        ...body.items.map((item: { transfer: { amount: string } }) => item.transfer.amount),
      );
      if (!body.next_cursor) break;
      url = `/v1/accounts/${account}/transfers?limit=2&cursor=${body.next_cursor}`;
    }
    expect(amounts).toEqual(['5', '4', '3', '2', '1']);
  });

  describe('bad input gets a 4xx with a stable code and changes nothing', () => {
    // Cases are declared before the accounts exist, so they name them by placeholder.
    const valid = () => ({
      debit_account_id: '$cash',
      credit_account_id: '$wallet',
      amount: '1',
      currency: 'USD',
    });
    const resolve = (body: unknown) =>
      typeof body === 'string'
        ? body
        : JSON.stringify(body).replaceAll('$cash', cash).replaceAll('$wallet', wallet);
    const cases: Array<{
      name: string;
      body: unknown;
      headers?: Record<string, string>;
      key?: string | null;
      status: number;
      code: string;
    }> = [
      { name: 'malformed JSON', body: '{"amount": ', status: 400, code: 'malformed_json' },
      {
        name: 'amount as a number',
        body: { ...valid(), amount: 1 },
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'negative amount',
        body: { ...valid(), amount: '-1' },
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'fractional amount',
        body: { ...valid(), amount: '1.5' },
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'amount with leading zeros',
        body: { ...valid(), amount: '007' },
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'amount beyond 64 bits',
        body: { ...valid(), amount: '9999999999999999999' },
        status: 400,
        code: 'amount_invalid',
      },
      {
        name: 'zero amount',
        body: { ...valid(), amount: '0' },
        status: 400,
        code: 'amount_must_be_positive',
      },
      {
        name: 'unknown field',
        body: { ...valid(), surprise: true },
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'missing field',
        body: { debit_account_id: '$cash', amount: '1', currency: 'USD' },
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'unknown currency',
        body: { ...valid(), currency: 'XYZ' },
        status: 400,
        code: 'currency_unknown',
      },
      { name: 'an array body', body: [valid()], status: 400, code: 'invalid_request' },
      {
        name: 'a huge body',
        body: { ...valid(), memo: 'x'.repeat(100_000) },
        status: 413,
        code: 'body_too_large',
      },
      {
        name: 'no idempotency key',
        body: valid(),
        key: null,
        status: 400,
        code: 'idempotency_key_missing',
      },
      {
        name: 'an idempotency key with spaces',
        body: valid(),
        key: 'has space',
        status: 400,
        code: 'idempotency_key_invalid',
      },
      {
        name: 'form-encoded body',
        body: 'amount=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        status: 415,
        code: 'unsupported_media_type',
      },
      {
        name: 'same account on both sides',
        body: { ...valid(), credit_account_id: '$cash' },
        status: 400,
        code: 'accounts_must_be_different',
      },
      {
        name: 'unknown account',
        body: { ...valid(), debit_account_id: 'acc_nope' },
        status: 422,
        code: 'debit_account_not_found',
      },
    ];
    for (const testCase of cases) {
      it(`${testCase.name} -> ${testCase.status} ${testCase.code}`, async () => {
        const before = await balanceOf(wallet);
        const response = await api.call('POST', '/v1/transfers', {
          body: resolve(testCase.body),
          ...(testCase.key === null
            ? {}
            : { idempotencyKey: testCase.key ?? `bad-${testCase.name.replace(/\W/g, '-')}` }),
          ...(testCase.headers ? { headers: testCase.headers } : {}),
        });
        expect(response.statusCode, response.body).toBe(testCase.status);
        expect(response.json().error.code, response.body).toBe(testCase.code);
        expect(await balanceOf(wallet)).toEqual(before);
      });
    }

    it('never answers 500 to random junk', async () => {
      const junk = [
        '',
        'null',
        '[]',
        '{}',
        '"x"',
        '{"amount":{"$gt":0}}',
        '{"__proto__":{"a":1}}',
        '\u0000',
        '{"a":'.repeat(50),
      ];
      for (const body of junk) {
        for (const url of ['/v1/transfers', '/v1/holds', '/v1/accounts', '/v1/holds/hld_x/post']) {
          const response = await api.call('POST', url, { body, idempotencyKey: 'junk' });
          expect(
            response.statusCode,
            `${url} ${JSON.stringify(body)}: ${response.body}`,
          ).toBeGreaterThanOrEqual(400);
          expect(response.statusCode).toBeLessThan(500);
          expect(typeof response.json().error.code).toBe('string');
        }
      }
    });
  });

  describe('principals see and move only their own objects', () => {
    it('takes the key as an HTTP Basic password, for clients that can send nothing else', async () => {
      const basic = (user: string, password: string) => ({
        key: null,
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
        },
      });
      const ok = await api.call('GET', '/v1/accounts', basic('kamailio', api.adminKey));
      expect(ok.statusCode, ok.body).toBe(200);
      for (const [user, password] of [
        ['kamailio', 'tg_not_a_key'],
        [api.adminKey, ''],
      ]) {
        const refused = await api.call('GET', '/v1/accounts', basic(user!, password!));
        expect(refused.statusCode).toBe(401);
      }
    });

    it('refuses a request without a valid key', async () => {
      for (const key of [null, 'tg_not_a_key']) {
        const response = await api.call('GET', '/v1/accounts', { key });
        expect(response.statusCode).toBe(401);
        expect(response.json().error.code).toBe('unauthorized');
      }
    });

    it('lets a retailer see and spend only its own float', async () => {
      const retailer = await api.principal('retailer', 'Shop A');
      const other = await api.principal('retailer', 'Shop B');
      const float = await openAccount({
        owner_id: retailer.caller.principal.id,
        name: 'float A',
        currency: 'USD',
        kind: 'liability',
        flags: ['debits_must_not_exceed_credits'],
      });
      const otherFloat = await openAccount({
        owner_id: other.caller.principal.id,
        name: 'float B',
        currency: 'USD',
        kind: 'liability',
        flags: ['debits_must_not_exceed_credits'],
      });
      await api.call('POST', '/v1/transfers', {
        idempotencyKey: 'fund-a',
        body: { debit_account_id: cash, credit_account_id: float, amount: '100', currency: 'USD' },
      });

      const list = await api.call('GET', '/v1/accounts', { key: retailer.key });
      expect(list.json().items.map((a: { id: string }) => a.id)).toEqual([float]);
      expect(
        (await api.call('GET', `/v1/accounts/${otherFloat}`, { key: retailer.key })).statusCode,
      ).toBe(404);
      const steal = await api.call('POST', '/v1/transfers', {
        key: retailer.key,
        idempotencyKey: 'steal',
        body: {
          debit_account_id: otherFloat,
          credit_account_id: float,
          amount: '1',
          currency: 'USD',
        },
      });
      expect(steal.statusCode).toBe(422);
      expect(steal.json().error.code).toBe('debit_account_not_found');
      // Paying into another tenant's account is refused as if the account did not exist.
      const push = await api.call('POST', '/v1/transfers', {
        key: retailer.key,
        idempotencyKey: 'push',
        body: {
          debit_account_id: float,
          credit_account_id: otherFloat,
          amount: '30',
          currency: 'USD',
        },
      });
      expect(push.statusCode).toBe(422);
      expect(push.json().error.code).toBe('credit_account_not_found');
      expect((await balanceOf(otherFloat)).posted).toBe('0');
      const till = await openAccount({
        owner_id: retailer.caller.principal.id,
        name: 'till A',
        currency: 'USD',
        kind: 'liability',
      });
      const spend = await api.call('POST', '/v1/transfers', {
        key: retailer.key,
        idempotencyKey: 'spend',
        body: { debit_account_id: float, credit_account_id: till, amount: '30', currency: 'USD' },
      });
      expect(spend.statusCode).toBe(201);
      const opened = await api.call('POST', '/v1/accounts', {
        key: retailer.key,
        body: { name: 'x', currency: 'USD', kind: 'asset' },
      });
      expect(opened.statusCode).toBe(403);
      expect(opened.json().error.code).toBe('forbidden');
      // Idempotency keys belong to their principal: another principal's key does not collide.
      const otherTill = await openAccount({
        owner_id: other.caller.principal.id,
        name: 'till B',
        currency: 'USD',
        kind: 'asset',
      });
      const sameKey = await api.call('POST', '/v1/transfers', {
        key: other.key,
        idempotencyKey: 'spend',
        body: {
          debit_account_id: otherTill,
          credit_account_id: otherFloat,
          amount: '1',
          currency: 'USD',
        },
      });
      expect(sameKey.statusCode).toBe(201);
    });

    it('refuses a key without the transfer scope with 403 forbidden', async () => {
      const retailer = await api.principal('retailer', 'Shop C');
      const narrowed = await api.env.principals.issueKey(operator, {
        principalId: retailer.caller.principal.id,
        scopes: ['accounts:read'],
      });
      if (!narrowed.ok) throw new Error(narrowed.code);
      const response = await api.call('POST', '/v1/transfers', {
        key: narrowed.value.secret,
        idempotencyKey: 'nope',
        body: { debit_account_id: cash, credit_account_id: wallet, amount: '1', currency: 'USD' },
      });
      expect(response.statusCode).toBe(403);
    });

    it('stops a revoked key', async () => {
      const retailer = await api.principal('retailer', 'Shop D');
      const keys = await api.env.store.principalReads.listApiKeys(retailer.caller.principal.id);
      expect((await api.call('GET', '/v1/accounts', { key: retailer.key })).statusCode).toBe(200);
      const revoked = await api.call('POST', `/v1/keys/${keys[0]!.id}/revoke`);
      expect(revoked.statusCode).toBe(204);
      expect((await api.call('GET', '/v1/accounts', { key: retailer.key })).statusCode).toBe(401);
    });
  });

  it('serves OpenAPI, docs, health, metrics and JSON 404s', async () => {
    const openapi = await api.call('GET', '/openapi.json', { key: null });
    expect(openapi.statusCode).toBe(200);
    expect(Object.keys(openapi.json().paths)).toEqual(
      expect.arrayContaining([
        '/v1/transfers',
        '/v1/holds/{id}/post',
        '/v1/accounts/{id}/transfers',
      ]),
    );
    expect((await api.call('GET', '/docs', { key: null })).statusCode).toBeLessThan(400);
    expect((await api.call('GET', '/health', { key: null })).json()).toEqual({
      status: 'ok',
      database: kind,
    });
    const metrics = await api.call('GET', '/metrics', { key: null });
    expect(metrics.body).toContain('tollgate_http_request_duration_seconds');
    const missing = await api.call('GET', '/v1/nothing-here');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });
});
