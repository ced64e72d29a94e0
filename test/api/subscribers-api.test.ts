// Subscribers over HTTP, as an operator provisions them: create a caller-number subscriber, fund
// it and see charging authorize a call from its number; credits and debits that replay and
// conflict by Idempotency-Key and never overdraw; link and unlink caller numbers (to another
// caller number's balance and to a calling card); the balance, calls and top-ups view; a
// retailer's key refused; and bad requests that get a clear 4xx and change nothing.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemCaller } from '../../src/core/shared/principal.ts';
import { sellCallingCard, setUpCharging } from '../support/charging.ts';
import { type ApiEnv, openApi } from '../support/http.ts';
import { describeEachStore } from '../support/stores.ts';

const cash = 'acc_test_cash_USD';
const us = '+12125550100';

describeEachStore('subscribers API', (kind) => {
  let api: ApiEnv;
  let switchKey: string;
  let retailerKey: string;
  let keys = 0;

  beforeAll(async () => {
    api = await openApi(kind);
    Object.assign(api.env.charging.settings, { sliceSeconds: 60, graceSeconds: 10 });
    await setUpCharging(api.env);
    switchKey = (await api.principal('switch', 'Kamailio')).key;
    retailerKey = (await api.principal('retailer', 'Corner Shop')).key;
  });
  afterAll(async () => {
    await api?.close();
  });

  const nextKey = (prefix: string) => {
    keys += 1;
    return `${prefix}-${keys}`;
  };
  const create = (body: Record<string, unknown>, key?: string) =>
    api.call('POST', '/v1/subscribers', { body, ...(key ? { key } : {}) });
  const show = (subscriber: string, key?: string) =>
    api.call('GET', `/v1/subscribers/${subscriber}`, key ? { key } : {});
  const credit = (subscriber: string, body: Record<string, unknown>, idempotencyKey?: string) =>
    api.call('POST', `/v1/subscribers/${subscriber}/credits`, {
      body,
      idempotencyKey: idempotencyKey ?? nextKey('credit'),
    });
  const debit = (subscriber: string, body: Record<string, unknown>, idempotencyKey?: string) =>
    api.call('POST', `/v1/subscribers/${subscriber}/debits`, {
      body,
      idempotencyKey: idempotencyKey ?? nextKey('debit'),
    });
  const link = (subscriber: string, body: Record<string, unknown>) =>
    api.call('POST', `/v1/subscribers/${subscriber}/links`, { body });
  const authorize = (ani: string) =>
    api.call('POST', '/v1/charging/authorize', {
      key: switchKey,
      body: { subscriber: { ani }, destination: us },
    });
  const available = async (subscriber: string) => (await show(subscriber)).json().balance.available;
  const errorOf = (response: { statusCode: number; json(): { error: { code: string } } }) => ({
    status: response.statusCode,
    code: response.json().error.code,
  });

  it('creates a subscriber that charging finds: refused while empty, allowed once credited', async () => {
    const created = await create({ ani: '15551230001', currency: 'USD', name: 'Alice' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      subscriber: 'ani:15551230001',
      ani: '15551230001',
      card_serial: null,
      account_id: 'acc_ani_15551230001_USD',
      name: 'Alice',
      currency: 'USD',
      status: 'open',
      balance: { posted: '0', held: '0', available: '0' },
      created_at: expect.any(String),
      caller_numbers: [],
      active_calls: 0,
      recent_calls: [],
      recent_top_ups: [],
    });
    // The account is the one charging looks for, guarded against overdraft.
    const account = await api.call('GET', '/v1/accounts/acc_ani_15551230001_USD');
    expect(account.json()).toMatchObject({
      owner_id: 'system',
      kind: 'liability',
      flags: ['debits_must_not_exceed_credits'],
      credit_limit: '0',
    });
    expect((await authorize('15551230001')).json().error).toMatchObject({
      code: 'insufficient_balance',
    });
    const funded = await credit('15551230001', {
      amount: '1000',
      currency: 'USD',
      from_account_id: cash,
      memo: 'paid at the counter',
    });
    expect(funded.statusCode).toBe(201);
    expect(funded.json()).toMatchObject({
      kind: 'transfer',
      debit_account_id: cash,
      credit_account_id: 'acc_ani_15551230001_USD',
      amount: '1000',
      code: 'subscriber_credit',
      memo: 'paid at the counter',
    });
    expect((await authorize('15551230001')).json()).toMatchObject({
      allowed: true,
      account_id: 'acc_ani_15551230001_USD',
      subscriber: 'ani:15551230001',
      available: '1000',
      max_seconds: 990,
    });
  });

  it('refuses a second subscriber for one number and currency; several currencies need one named', async () => {
    expect((await create({ ani: '15551230002', currency: 'USD' })).statusCode).toBe(201);
    expect(errorOf(await create({ ani: '15551230002', currency: 'USD', name: 'Again' }))).toEqual({
      status: 409,
      code: 'subscriber_exists',
    });
    const eur = await create({ ani: '15551230002', currency: 'EUR', status: 'frozen' });
    expect(eur.statusCode).toBe(201);
    expect(eur.json()).toMatchObject({ status: 'frozen', name: 'Caller 15551230002' });
    expect(errorOf(await show('15551230002'))).toEqual({ status: 400, code: 'currency_required' });
    expect((await show('15551230002?currency=EUR')).json()).toMatchObject({
      account_id: 'acc_ani_15551230002_EUR',
      status: 'frozen',
    });
    // A leading + is part of the number, in the path as sent or percent-encoded.
    const plus = await create({ ani: '+442071838750', currency: 'GBP' });
    expect(plus.json().account_id).toBe('acc_ani_+442071838750_GBP');
    expect((await show('+442071838750')).json().subscriber).toBe('ani:+442071838750');
    expect((await show('%2B442071838750')).json().subscriber).toBe('ani:+442071838750');
    expect(errorOf(await show('442071838750'))).toEqual({
      status: 404,
      code: 'subscriber_not_found',
    });
    // charging's own name for it works too
    expect((await show('ani:15551230002?currency=USD')).json().account_id).toBe(
      'acc_ani_15551230002_USD',
    );
  });

  it('answers bad requests with a 4xx and a stable code, and creates nothing', async () => {
    const before = (await api.call('GET', '/v1/subscribers?limit=500')).json().items.length;
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ ani: 'abc', currency: 'USD' }, 400, 'caller_number_invalid'],
      [{ ani: '0123456789', currency: 'USD' }, 400, 'caller_number_invalid'],
      [{ ani: '+1234567890123456', currency: 'USD' }, 400, 'caller_number_invalid'],
      [{ ani: '15551239999', currency: 'XXX' }, 400, 'currency_unknown'],
      [{ ani: '15551239999', currency: 'usd' }, 400, 'invalid_request'],
      [{ ani: '15551239999', currency: 'USD', status: 'closed' }, 400, 'invalid_request'],
      [{ ani: '15551239999', currency: 'USD', name: '' }, 400, 'invalid_request'],
      [{ ani: '15551239999', currency: 'USD', balance: '100' }, 400, 'invalid_request'],
      [{ currency: 'USD' }, 400, 'invalid_request'],
    ];
    for (const [body, status, code] of cases) {
      expect(errorOf(await create(body)), JSON.stringify(body)).toEqual({ status, code });
    }
    const malformed = await api.call('POST', '/v1/subscribers', { body: '{"ani": ' });
    expect(errorOf(malformed)).toEqual({ status: 400, code: 'malformed_json' });
    expect(errorOf(await show('19999999999'))).toEqual({
      status: 404,
      code: 'subscriber_not_found',
    });
    expect(errorOf(await show('card:a_b'))).toEqual({ status: 400, code: 'invalid_request' });
    expect(errorOf(await show('card:not-a-serial'))).toEqual({
      status: 404,
      code: 'subscriber_not_found',
    });
    expect(errorOf(await show('card:NOPE-000000001'))).toEqual({
      status: 404,
      code: 'subscriber_not_found',
    });
    const after = (await api.call('GET', '/v1/subscribers?limit=500')).json().items.length;
    expect(after).toBe(before);
  });

  it('replays a credit or debit with the same key and body, and refuses the same key with another body', async () => {
    await create({ ani: '15551230003', currency: 'USD' });
    const body = { amount: '500', currency: 'USD', from_account_id: cash };
    const first = await credit('15551230003', body, 'topup-3');
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await credit('15551230003', body, 'topup-3');
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const other = await credit('15551230003', { ...body, amount: '501' }, 'topup-3');
    expect(errorOf(other)).toEqual({ status: 409, code: 'exists_with_different_fields' });
    expect(await available('15551230003')).toBe('500');

    const out = { amount: '200', currency: 'USD', to_account_id: cash };
    const taken = await debit('15551230003', out, 'fee-3');
    expect(taken.statusCode).toBe(201);
    expect(taken.json()).toMatchObject({
      debit_account_id: 'acc_ani_15551230003_USD',
      credit_account_id: cash,
      code: 'subscriber_debit',
    });
    const takenAgain = await debit('15551230003', out, 'fee-3');
    expect(takenAgain.statusCode).toBe(200);
    expect(takenAgain.headers['idempotent-replayed']).toBe('true');
    expect(errorOf(await debit('15551230003', { ...out, memo: 'x' }, 'fee-3'))).toEqual({
      status: 409,
      code: 'exists_with_different_fields',
    });
    expect(await available('15551230003')).toBe('300');

    const noKey = await api.call('POST', '/v1/subscribers/15551230003/credits', { body });
    expect(errorOf(noKey)).toEqual({ status: 400, code: 'idempotency_key_missing' });
    expect(await available('15551230003')).toBe('300');
  });

  it('never overdraws a subscriber, and moves money only to and from operator accounts', async () => {
    await create({ ani: '15551230004', currency: 'USD' });
    await credit('15551230004', { amount: '300', currency: 'USD', from_account_id: cash });
    const over = await debit('15551230004', {
      amount: '301',
      currency: 'USD',
      to_account_id: cash,
    });
    expect(errorOf(over)).toEqual({ status: 422, code: 'exceeds_available' });
    expect(await available('15551230004')).toBe('300');
    const all = await debit('15551230004', { amount: '300', currency: 'USD', to_account_id: cash });
    expect(all.statusCode).toBe(201);
    expect(await available('15551230004')).toBe('0');

    // Another subscriber's balance is not an operator account, nor is a retailer's float.
    await create({ ani: '15551230005', currency: 'USD' });
    await credit('15551230005', { amount: '100', currency: 'USD', from_account_id: cash });
    const fromSubscriber = await credit('15551230004', {
      amount: '50',
      currency: 'USD',
      from_account_id: 'acc_ani_15551230005_USD',
    });
    expect(errorOf(fromSubscriber)).toEqual({ status: 422, code: 'counterparty_not_allowed' });
    const shop = await api.env.principals.create(systemCaller, { kind: 'retailer', name: 'Shop' });
    if (!shop.ok) throw new Error(shop.code);
    const float = await api.env.vouchers.openFloat(systemCaller, {
      principalId: shop.value.id,
      currency: 'USD',
      creditLimitMinor: 1000n,
    });
    if (!float.ok) throw new Error(float.code);
    const fromFloat = await credit('15551230004', {
      amount: '50',
      currency: 'USD',
      from_account_id: float.value.accountId,
    });
    expect(errorOf(fromFloat)).toEqual({ status: 422, code: 'counterparty_not_allowed' });
    const missing = await credit('15551230004', {
      amount: '50',
      currency: 'USD',
      from_account_id: 'acc_0000000000000000000000',
    });
    expect(errorOf(missing)).toEqual({ status: 422, code: 'debit_account_not_found' });
    const zero = await credit('15551230004', {
      amount: '0',
      currency: 'USD',
      from_account_id: cash,
    });
    expect(errorOf(zero)).toEqual({ status: 400, code: 'amount_must_be_positive' });
    const wrongCurrency = await credit('15551230004', {
      amount: '5',
      currency: 'EUR',
      from_account_id: cash,
    });
    expect(errorOf(wrongCurrency)).toEqual({ status: 404, code: 'subscriber_not_found' });
    const toNobody = await credit('19999999999', {
      amount: '5',
      currency: 'USD',
      from_account_id: cash,
    });
    expect(errorOf(toNobody)).toEqual({ status: 404, code: 'subscriber_not_found' });
    expect(await available('15551230004')).toBe('0');
    expect(await available('15551230005')).toBe('100');
  });

  it('links and unlinks caller numbers: a linked number calls on the subscriber balance', async () => {
    await create({ ani: '15551230006', currency: 'USD' });
    await credit('15551230006', { amount: '800', currency: 'USD', from_account_id: cash });
    expect((await authorize('15551230007')).json().error).toMatchObject({
      code: 'unknown_account',
    });
    const linked = await link('15551230006', { ani: '15551230007' });
    expect(linked.statusCode).toBe(201);
    expect(linked.json()).toMatchObject({
      ani: '15551230007',
      account_id: 'acc_ani_15551230006_USD',
      subscriber: 'ani:15551230006',
    });
    expect((await link('15551230006', { ani: '15551230007' })).statusCode).toBe(200);
    expect((await authorize('15551230007')).json()).toMatchObject({
      allowed: true,
      account_id: 'acc_ani_15551230006_USD',
      available: '800',
    });
    const view = (await show('15551230006')).json();
    expect(view.caller_numbers).toEqual([{ ani: '15551230007', linked_at: expect.any(String) }]);
    // The linked number names the account it pays from, as charging sees it.
    expect((await show('15551230007')).json()).toMatchObject({
      subscriber: 'ani:15551230006',
      account_id: 'acc_ani_15551230006_USD',
    });

    // A number is linked once, never over a balance of its own, and is not made a subscriber
    // while linked.
    await create({ ani: '15551230008', currency: 'USD' });
    expect(errorOf(await link('15551230008', { ani: '15551230007' }))).toEqual({
      status: 409,
      code: 'caller_number_taken',
    });
    expect(errorOf(await link('15551230006', { ani: '15551230008' }))).toEqual({
      status: 409,
      code: 'caller_number_taken',
    });
    expect(errorOf(await create({ ani: '15551230007', currency: 'USD' }))).toEqual({
      status: 409,
      code: 'caller_number_taken',
    });
    expect(errorOf(await link('15551230006', { ani: '12' }))).toEqual({
      status: 400,
      code: 'caller_number_invalid',
    });
    expect(errorOf(await link('19999999999', { ani: '15551230009' }))).toEqual({
      status: 404,
      code: 'subscriber_not_found',
    });

    const wrongOwner = await api.call('DELETE', '/v1/subscribers/15551230008/links/15551230007');
    expect(errorOf(wrongOwner)).toEqual({ status: 404, code: 'caller_number_not_linked' });
    const unlinked = await api.call('DELETE', '/v1/subscribers/15551230006/links/15551230007');
    expect(unlinked.statusCode).toBe(204);
    expect((await authorize('15551230007')).json().error).toMatchObject({
      code: 'unknown_account',
    });
    expect((await show('15551230006')).json().caller_numbers).toEqual([]);
    const again = await api.call('DELETE', '/v1/subscribers/15551230006/links/15551230007');
    expect(errorOf(again)).toEqual({ status: 404, code: 'caller_number_not_linked' });
  });

  it('links a caller number to a calling card named by its serial, never by its PIN', async () => {
    const card = await sellCallingCard(api.env, 700n);
    // Before its first use a card has no balance to link to.
    expect(errorOf(await link(`card:${card.serial}`, { ani: '15551230010' }))).toEqual({
      status: 404,
      code: 'subscriber_not_found',
    });
    const activated = await api.env.vouchers.redeem(systemCaller, { pin: card.pin });
    expect(activated.ok).toBe(true);
    const linked = await link(`card:${card.serial.toLowerCase()}`, { ani: '15551230010' });
    expect(linked.statusCode).toBe(201);
    expect(linked.json()).toMatchObject({ subscriber: `card:${card.serial}` });
    expect(linked.body).not.toContain(card.pin);
    expect((await authorize('15551230010')).json()).toMatchObject({
      allowed: true,
      subscriber: `card:${card.serial}`,
      available: '700',
    });
    const view = await show(`card:${card.serial}`);
    expect(view.json()).toMatchObject({
      subscriber: `card:${card.serial}`,
      ani: null,
      card_serial: card.serial,
      balance: { available: '700' },
      caller_numbers: [{ ani: '15551230010' }],
    });
    expect(view.body).not.toContain(card.pin);
  });

  it('shows balance, held money, live and recent calls, and top-ups; lists page by page', async () => {
    await create({ ani: '15551230011', currency: 'USD', name: 'Bob' });
    await credit(
      '15551230011',
      { amount: '1000', currency: 'USD', from_account_id: cash, memo: 'first' },
      'bob-1',
    );
    await credit(
      '15551230011',
      { amount: '250', currency: 'USD', from_account_id: cash, memo: 'second' },
      'bob-2',
    );
    // A debit is not a top-up.
    await debit('15551230011', { amount: '10', currency: 'USD', to_account_id: cash });
    const call = (path: string, body: Record<string, unknown>) =>
      api.call('POST', `/v1/charging/${path}`, { key: switchKey, body });
    const started = await call('initiate', {
      session_id: 'bob-call-1',
      subscriber: { ani: '15551230011' },
      destination: us,
    });
    expect(started.statusCode).toBe(200);
    const live = (await show('15551230011')).json();
    expect(live.active_calls).toBe(1);
    expect(live.balance).toEqual({ posted: '1240', held: '70', available: '1170' });
    api.env.clock.advanceMs(30_000);
    const ended = await call('terminate', {
      session_id: 'bob-call-1',
      request_number: 1,
      used_seconds: 30,
    });
    expect(ended.json()).toMatchObject({ charged: '40' });
    const view = (await show('15551230011')).json();
    expect(view).toMatchObject({
      name: 'Bob',
      balance: { posted: '1200', held: '0', available: '1200' },
      active_calls: 0,
      recent_calls: [
        { session_id: 'bob-call-1', subscriber: 'ani:15551230011', billed_seconds: 30, cost: '40' },
      ],
    });
    expect(view.recent_top_ups).toEqual([
      expect.objectContaining({
        amount: '250',
        from_account_id: cash,
        code: 'subscriber_credit',
        memo: 'second',
      }),
      expect.objectContaining({ amount: '1000', memo: 'first' }),
    ]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await api.call('GET', `/v1/subscribers${query}`);
      expect(page.statusCode).toBe(200);
      const body = page.json();
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((s: { account_id: string }) => s.account_id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toContain('acc_ani_15551230011_USD');
    expect(seen).toContain('acc_ani_15551230002_EUR');
    // calling cards and operator accounts are not caller-number subscribers
    expect(seen.every((id) => id.startsWith('acc_ani_'))).toBe(true);
    const bad = await api.call('GET', '/v1/subscribers?cursor=acc_test_cash_USD');
    expect(errorOf(bad)).toEqual({ status: 400, code: 'cursor_invalid' });
  });

  it("refuses a retailer's key: no writes (403), and every subscriber looks missing (404)", async () => {
    await create({ ani: '15551230012', currency: 'USD' });
    const asRetailer = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) =>
      api.call(method, url, { key: retailerKey, idempotencyKey: 'retailer-1', body });
    expect(
      errorOf(await asRetailer('POST', '/v1/subscribers', { ani: '15551230013', currency: 'USD' })),
    ).toEqual({ status: 403, code: 'forbidden' });
    expect(
      errorOf(
        await asRetailer('POST', '/v1/subscribers/15551230012/credits', {
          amount: '5',
          currency: 'USD',
          from_account_id: cash,
        }),
      ),
    ).toEqual({ status: 403, code: 'forbidden' });
    expect(
      errorOf(
        await asRetailer('POST', '/v1/subscribers/15551230012/links', { ani: '15551230014' }),
      ),
    ).toEqual({ status: 403, code: 'forbidden' });
    expect(
      errorOf(await asRetailer('DELETE', '/v1/subscribers/15551230012/links/15551230014')),
    ).toEqual({ status: 403, code: 'forbidden' });
    // A read key sees no subscriber: an existing one answers exactly as a missing one.
    const existing = await show('15551230012', retailerKey);
    const missing = await show('19999999998', retailerKey);
    expect(existing.statusCode).toBe(404);
    expect(existing.json()).toEqual(missing.json());
    expect((await show('15551230012', switchKey)).statusCode).toBe(404);
    const list = await api.call('GET', '/v1/subscribers', { key: retailerKey });
    expect(list.json()).toEqual({ items: [], next_cursor: null });
    expect(errorOf(await api.call('GET', '/v1/subscribers/15551230012', { key: null }))).toEqual({
      status: 401,
      code: 'unauthorized',
    });
    expect(await available('15551230012')).toBe('0');
  });
});
