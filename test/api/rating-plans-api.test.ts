// Rating plans over HTTP: create, list, show, replace and delete a plan; assign it to a product,
// a subscriber account or a seller and unassign it; quotes by plan and by subscriber; a call
// whose CDR names the plan; and the refusals, each of which changes nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCaller } from '../../src/core/shared/principal.ts';
import { fundAni, setUpCharging } from '../support/charging.ts';
import { type ApiEnv, openApi } from '../support/http.ts';
import { describeEachStore } from '../support/stores.ts';

const us = '+12125550100';

const betaTariff = [
  '# tollgate-tariff 1',
  '# currency: USD',
  '# time_zone: UTC',
  '# rounding: up',
  '# effective_from: 2026-01-01T00:00:00Z',
  'prefix,destination,period,weekdays,from,to,connect_fee,price_per_minute,initial_price_per_minute,initial_increment_seconds,subsequent_increment_seconds,minimum_charge,maximum_charge',
  '1,North America,,,,,0,0.30,,1,1,0,',
].join('\n');

const premium = {
  id: 'premium',
  name: 'Premium card',
  currencies: {
    USD: { selection: { kind: 'default', carrier_id: 'beta' }, barred_prefixes: ['1900'] },
  },
};

describeEachStore('rating plans API', (kind) => {
  let api: ApiEnv;
  let switchKey: string;
  let productId: string;
  let pin: string;
  let cardAccountId: string;

  beforeAll(async () => {
    api = await openApi(kind);
    await setUpCharging(api.env);
    switchKey = (await api.principal('switch', 'Kamailio')).key;
    expect(
      (await api.call('POST', '/v1/carriers', { body: { id: 'beta', name: 'Beta' } })).statusCode,
    ).toBe(201);
    const imported = await api.call('POST', '/v1/tariffs', {
      body: { carrier_id: 'beta', format: 'tollgate', files: { tariff: betaTariff } },
    });
    expect(imported.statusCode, imported.body).toBe(201);
    await fundAni(api.env, '15550300', 1_000n);
    // A card of a product without a carrier of its own: the currency plan (acme) rates it.
    const { vouchers, principals } = api.env;
    const product = await vouchers.createProduct(systemCaller, {
      name: 'Plain card',
      currency: 'USD',
      faceValueMinor: 500n,
      pinLength: 12,
      pinAlphabet: 'digits',
      pinCheck: 'damm',
      mode: 'calling_card',
    });
    if (!product.ok) throw new Error(product.code);
    productId = product.value.id;
    await vouchers.createBatch(systemCaller, { productId, count: 1 });
    const retailer = await principals.create(systemCaller, { kind: 'retailer', name: 'Shop' });
    if (!retailer.ok) throw new Error(retailer.code);
    await vouchers.openFloat(systemCaller, {
      principalId: retailer.value.id,
      currency: 'USD',
      creditLimitMinor: 500n,
    });
    const sale = await vouchers.sell(
      { principal: retailer.value, scopes: [] },
      { productId, requestedAmountMinor: 500n, paidAmountMinor: 500n, idempotencyKey: 'plan-api' },
    );
    if (!sale.ok) throw new Error(sale.code);
    pin = sale.value.pin;
    cardAccountId = `acc_card_${sale.value.sale.serial}`;
  });
  afterAll(async () => {
    await api?.close();
  });

  const quote = (body: Record<string, unknown>) =>
    api.call('POST', '/v1/rating/quote', { body: { number: us, duration_seconds: 60, ...body } });

  it('creates, lists, shows and replaces a plan', async () => {
    const created = await api.call('POST', '/v1/rating/rating-plans', { body: premium });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      id: 'premium',
      name: 'Premium card',
      currencies: {
        USD: { selection: { kind: 'default', carrier_id: 'beta' }, barred_prefixes: ['1900'] },
      },
    });
    const listed = await api.call('GET', '/v1/rating/rating-plans');
    expect(listed.json().items.map((p: { id: string }) => p.id)).toEqual(['premium']);
    const replaced = await api.call('PUT', '/v1/rating/rating-plans/premium', {
      body: { name: 'Premium', currencies: premium.currencies },
    });
    expect(replaced.statusCode, replaced.body).toBe(200);
    const shown = await api.call('GET', '/v1/rating/rating-plans/premium');
    expect(shown.json()).toMatchObject({ id: 'premium', name: 'Premium' });
  });

  it('quotes by a named plan, and by subscriber (a PIN in the body) before and after assigning', async () => {
    const byPlan = await quote({ currency: 'USD', rating_plan_id: 'premium' });
    expect(byPlan.statusCode, byPlan.body).toBe(200);
    expect(byPlan.json()).toMatchObject({
      carrier_id: 'beta',
      rating_plan_id: 'premium',
      rating_plan_source: 'requested',
      cost: '30',
    });
    const before = await quote({ subscriber: { pin } });
    expect(before.json()).toMatchObject({
      carrier_id: 'acme',
      rating_plan_id: null,
      rating_plan_source: 'currency',
      currency: 'USD',
      cost: '70',
    });
    const assigned = await api.call('PUT', '/v1/rating/rating-plans/premium/assignments', {
      body: { product_id: productId },
    });
    expect(assigned.statusCode, assigned.body).toBe(200);
    expect(assigned.json()).toMatchObject({
      rating_plan_id: 'premium',
      subject_type: 'product',
      subject_id: productId,
    });
    const after = await quote({ subscriber: { pin } });
    expect(after.json()).toMatchObject({
      carrier_id: 'beta',
      rating_plan_id: 'premium',
      rating_plan_source: 'product',
      cost: '30',
      // Without a balance, the card's own: 500 cents at 0.5 cent a second.
      balance: '500',
      allowance_seconds: 1000,
    });
    const byAni = await quote({ subscriber: { ani: '15550300' } });
    expect(byAni.json()).toMatchObject({ carrier_id: 'acme', rating_plan_source: 'currency' });
    const listed = await api.call('GET', '/v1/rating/rating-plans/premium/assignments');
    expect(listed.json().items).toEqual([
      expect.objectContaining({ subject_type: 'product', subject_id: productId }),
    ]);
  });

  it('records the plan on the session and the CDR of a call by PIN', async () => {
    const post = (url: string, body: unknown) => api.call('POST', url, { key: switchKey, body });
    const started = await post('/v1/charging/initiate', {
      session_id: 'plan-call-1',
      subscriber: { pin },
      destination: us,
    });
    expect(started.statusCode, started.body).toBe(200);
    expect(started.json().carrier_id).toBe('beta');
    const session = await api.call('GET', '/v1/charging/sessions/plan-call-1', { key: switchKey });
    expect(session.json()).toMatchObject({
      carrier_id: 'beta',
      rating_plan_id: 'premium',
      rating_plan_source: 'product',
    });
    api.env.clock.advanceMs(20_000);
    const end = await post('/v1/charging/terminate', {
      session_id: 'plan-call-1',
      request_number: 1,
      used_seconds: 20,
    });
    expect(end.statusCode, end.body).toBe(200);
    const cdr = await api.call('GET', `/v1/cdrs/${end.json().cdr_id}`, { key: switchKey });
    expect(cdr.json()).toMatchObject({
      carrier_id: 'beta',
      cost: '10',
      account_id: cardAccountId,
      rating_plan_id: 'premium',
      rating_plan_source: 'product',
    });
  });

  describe('refusals change nothing', () => {
    const cases: Array<[string, 'POST' | 'PUT' | 'DELETE', string, unknown, number, string]> = [
      [
        'a second plan with the same id',
        'POST',
        '/v1/rating/rating-plans',
        premium,
        409,
        'rating_plan_exists',
      ],
      [
        'a plan naming an unknown carrier',
        'POST',
        '/v1/rating/rating-plans',
        {
          ...premium,
          id: 'ghostly',
          currencies: { USD: { selection: { kind: 'default', carrier_id: 'ghost' } } },
        },
        422,
        'carrier_not_found',
      ],
      [
        'a plan with no currency',
        'POST',
        '/v1/rating/rating-plans',
        { ...premium, id: 'empty', currencies: {} },
        400,
        'invalid_request',
      ],
      [
        'a plan in an unknown currency',
        'POST',
        '/v1/rating/rating-plans',
        { ...premium, id: 'odd', currencies: { XXX: premium.currencies.USD } },
        400,
        'currency_unknown',
      ],
      [
        'a plan id with capitals',
        'POST',
        '/v1/rating/rating-plans',
        { ...premium, id: 'Premium' },
        400,
        'invalid_request',
      ],
      [
        'replacing a missing plan',
        'PUT',
        '/v1/rating/rating-plans/nope',
        { name: 'x', currencies: premium.currencies },
        404,
        'rating_plan_not_found',
      ],
      [
        'deleting a plan still assigned',
        'DELETE',
        '/v1/rating/rating-plans/premium',
        undefined,
        409,
        'rating_plan_in_use',
      ],
      [
        'assigning to two subjects at once',
        'PUT',
        '/v1/rating/rating-plans/premium/assignments',
        { product_id: 'a', account_id: 'b' },
        400,
        'invalid_request',
      ],
      [
        'assigning to a missing product',
        'PUT',
        '/v1/rating/rating-plans/premium/assignments',
        { product_id: 'prd_missing' },
        404,
        'product_not_found',
      ],
      [
        'assigning to an account that is no subscriber',
        'PUT',
        '/v1/rating/rating-plans/premium/assignments',
        { account_id: 'acc_test_cash_USD' },
        404,
        'account_not_found',
      ],
      [
        'assigning to the operator',
        'PUT',
        '/v1/rating/rating-plans/premium/assignments',
        { principal_id: 'system' },
        422,
        'assignment_subject_invalid',
      ],
      [
        'assigning a missing plan',
        'PUT',
        '/v1/rating/rating-plans/nope/assignments',
        { account_id: 'acc_ani_15550300_USD' },
        404,
        'rating_plan_not_found',
      ],
      [
        'unassigning what has another plan',
        'DELETE',
        '/v1/rating/rating-plans/nope/assignments/product/x',
        undefined,
        404,
        'assignment_not_found',
      ],
      [
        'unassigning an unknown kind of subject',
        'DELETE',
        '/v1/rating/rating-plans/premium/assignments/terminal/x',
        undefined,
        400,
        'invalid_request',
      ],
      [
        'a quote without currency or subscriber',
        'POST',
        '/v1/rating/quote',
        { number: us },
        400,
        'currency_required',
      ],
      [
        'a quote by a missing plan',
        'POST',
        '/v1/rating/quote',
        { number: us, currency: 'USD', rating_plan_id: 'nope' },
        404,
        'rating_plan_not_found',
      ],
      [
        'a quote by a plan without the currency',
        'POST',
        '/v1/rating/quote',
        { number: us, currency: 'EUR', rating_plan_id: 'premium' },
        422,
        'rating_plan_currency_missing',
      ],
      [
        'a quote by plan and subscriber',
        'POST',
        '/v1/rating/quote',
        { number: us, rating_plan_id: 'premium', subscriber: { ani: '15550300' } },
        400,
        'invalid_request',
      ],
      [
        'a quote for a subscriber in another currency',
        'POST',
        '/v1/rating/quote',
        { number: us, currency: 'EUR', subscriber: { ani: '15550300' } },
        422,
        'currency_mismatch',
      ],
      [
        'a quote for an unknown subscriber',
        'POST',
        '/v1/rating/quote',
        { number: us, subscriber: { ani: '15559999' } },
        422,
        'unknown_account',
      ],
    ];
    it.each(cases)('refuses %s', async (_given, method, url, body, status, code) => {
      const plansBefore = (await api.call('GET', '/v1/rating/rating-plans')).body;
      const assignedBefore = await api.env.rating.listAssignments({});
      const answer = await api.call(method, url, body === undefined ? {} : { body });
      expect(answer.statusCode, answer.body).toBe(status);
      expect(answer.json().error.code).toBe(code);
      expect((await api.call('GET', '/v1/rating/rating-plans')).body).toBe(plansBefore);
      expect(await api.env.rating.listAssignments({})).toEqual(assignedBefore);
    });

    it('is for operators: a retailer key may not manage plans', async () => {
      const retailer = await api.principal('retailer', 'Kiosk');
      const answer = await api.call('POST', '/v1/rating/rating-plans', {
        key: retailer.key,
        body: { ...premium, id: 'mine' },
      });
      expect(answer.statusCode).toBe(403);
    });
  });

  it('unassigns, then deletes the plan', async () => {
    const unassigned = await api.call(
      'DELETE',
      `/v1/rating/rating-plans/premium/assignments/product/${productId}`,
    );
    expect(unassigned.statusCode, unassigned.body).toBe(204);
    const back = await quote({ subscriber: { pin } });
    expect(back.json()).toMatchObject({ carrier_id: 'acme', rating_plan_source: 'currency' });
    const deleted = await api.call('DELETE', '/v1/rating/rating-plans/premium');
    expect(deleted.statusCode, deleted.body).toBe(204);
    const gone = await api.call('GET', '/v1/rating/rating-plans/premium');
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('rating_plan_not_found');
  });
});
