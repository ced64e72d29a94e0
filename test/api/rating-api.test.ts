// Rating over HTTP: carriers, tariff import (with line-numbered refusals), listing and export,
// routing plans and quotes.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { a2billing, cgrates, tollgate } from '../../src/core/rating/fixtures/fixtures.ts';
import { type ApiEnv, openApi } from '../support/http.ts';
import { describeEachStore } from '../support/stores.ts';

const noonParis = '2026-03-04T11:00:00.000Z';

describeEachStore('rating API', (kind) => {
  let api: ApiEnv;
  let versionId: string;

  beforeAll(async () => {
    api = await openApi(kind);
    const carrier = await api.call('POST', '/v1/carriers', {
      body: { id: 'acme', name: 'Acme Telecom', access_code: '00700' },
    });
    expect(carrier.statusCode, carrier.body).toBe(201);
    const imported = await api.call('POST', '/v1/tariffs', {
      body: { carrier_id: 'acme', format: 'tollgate', files: { tariff: tollgate.tariff } },
    });
    expect(imported.statusCode, imported.body).toBe(201);
    versionId = imported.json().tariff.id;
    const plan = await api.call('PUT', '/v1/rating/plans/EUR', {
      body: { selection: { kind: 'default', carrier_id: 'acme' } },
    });
    expect(plan.statusCode, plan.body).toBe(200);
  });
  afterAll(() => api.close());

  it('quotes the cost of a duration and the allowance of a balance', async () => {
    const quote = await api.call('POST', '/v1/rating/quote', {
      body: {
        number: '+33123456789',
        currency: 'EUR',
        at: noonParis,
        duration_seconds: 61,
        balance: '100',
      },
    });
    expect(quote.statusCode, quote.body).toBe(200);
    expect(quote.json()).toMatchObject({
      carrier_id: 'acme',
      selected_by: 'default',
      prefix: '33',
      destination: 'France',
      cost: '10',
      allowance_seconds: 38 * 60,
    });
    expect(quote.json().rate.periods[0].name).toBe('peak');
    expect(quote.json().rate.terms).toMatchObject({
      connect_fee: '0.05',
      price_per_minute: '0.0123',
    });
  });

  it('refuses a malformed number, a currency without a plan, and a bad body', async () => {
    const badNumber = await api.call('POST', '/v1/rating/quote', {
      body: { number: '12ab', currency: 'EUR', duration_seconds: 1 },
    });
    expect(badNumber.statusCode).toBe(400);
    expect(badNumber.json().error.code).toBe('number_malformed');
    const noPlan = await api.call('POST', '/v1/rating/quote', {
      body: { number: '331234', currency: 'USD', duration_seconds: 1 },
    });
    expect(noPlan.statusCode).toBe(422);
    expect(noPlan.json().error.code).toBe('routing_plan_missing');
    const negative = await api.call('POST', '/v1/rating/quote', {
      body: { number: '331234', currency: 'EUR', duration_seconds: -1 },
    });
    expect(negative.statusCode).toBe(400);
  });

  it('refuses a tariff with errors, listing each line, and stores nothing', async () => {
    const before = (await api.call('GET', '/v1/tariffs')).json().items.length;
    const bad = await api.call('POST', '/v1/tariffs', {
      body: { carrier_id: 'acme', format: 'tollgate', files: { tariff: tollgate.bad } },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe('tariff_invalid');
    const details = bad.json().error.details as Array<{
      file: string;
      line: number;
      message: string;
    }>;
    expect(details.length).toBeGreaterThan(3);
    expect(details.every((d) => d.line > 0 && d.message.length > 0)).toBe(true);
    expect((await api.call('GET', '/v1/tariffs')).json().items.length).toBe(before);
    const dry = await api.call('POST', '/v1/tariffs', {
      body: {
        carrier_id: 'acme',
        format: 'tollgate',
        files: { tariff: tollgate.tariff },
        dry_run: true,
      },
    });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ tariff: null, dry_run: true, route_count: 5 });
    expect((await api.call('GET', '/v1/tariffs')).json().items.length).toBe(before);
  });

  it('lists destinations and routes, filters routes by prefix, and exports CSV that imports again', async () => {
    const destinations = await api.call('GET', `/v1/tariffs/${versionId}/destinations`);
    expect(destinations.json().items.map((d: { name: string }) => d.name)).toEqual(
      expect.arrayContaining(['France', 'France Mobile', 'Rest of world']),
    );
    const routes = await api.call('GET', `/v1/tariffs/${versionId}/routes?prefix=33&limit=2`);
    expect(routes.json().items.map((r: { prefix: string }) => r.prefix)).toEqual(['33', '336']);
    const next = await api.call(
      'GET',
      `/v1/tariffs/${versionId}/routes?prefix=33&limit=2&cursor=${routes.json().next_cursor}`,
    );
    expect(next.json().items.map((r: { prefix: string }) => r.prefix)).toEqual(['337']);
    const exported = await api.call('GET', `/v1/tariffs/${versionId}/export`);
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toContain('text/csv');
    const again = await api.call('POST', '/v1/tariffs', {
      body: {
        carrier_id: 'acme',
        format: 'tollgate',
        files: { tariff: exported.body },
        dry_run: true,
      },
    });
    expect(again.json()).toMatchObject({ route_count: 5, destination_count: 4 });
    expect((await api.call('GET', '/v1/tariffs/trv_missing')).statusCode).toBe(404);
  });

  it('imports CGRateS and A2Billing files through the API', async () => {
    const carrier = await api.call('POST', '/v1/carriers', {
      body: { id: 'legacy', name: 'Legacy' },
    });
    expect(carrier.statusCode).toBe(201);
    const fromCgrates = await api.call('POST', '/v1/tariffs', {
      body: {
        carrier_id: 'legacy',
        format: 'cgrates',
        currency: 'EUR',
        rating_plan_id: 'RP_RETAIL',
        effective_from: '2026-01-01T00:00:00Z',
        files: {
          destinations: cgrates.destinations,
          rates: cgrates.rates,
          destination_rates: cgrates.destinationRates,
          timings: cgrates.timings,
          rating_plans: cgrates.ratingPlans,
        },
      },
    });
    expect(fromCgrates.statusCode, fromCgrates.body).toBe(201);
    const fromA2b = await api.call('POST', '/v1/tariffs', {
      body: {
        carrier_id: 'legacy',
        format: 'a2billing',
        currency: 'EUR',
        effective_from: '2026-02-01T00:00:00Z',
        a2billing_columns: ['buyrate'],
        files: { ratecard: a2billing.simple },
      },
    });
    expect(fromA2b.statusCode, fromA2b.body).toBe(201);
    const listed = await api.call('GET', '/v1/tariffs?carrier_id=legacy');
    expect(listed.json().items).toHaveLength(2);
    const duplicate = await api.call('POST', '/v1/carriers', {
      body: { id: 'legacy', name: 'again' },
    });
    expect(duplicate.statusCode).toBe(409);
  });

  it('lets a switch quote but not import, and a retailer do neither', async () => {
    const switchKey = (await api.principal('switch', 'Kamailio')).key;
    const quote = await api.call('POST', '/v1/rating/quote', {
      key: switchKey,
      body: { number: '331234', currency: 'EUR', duration_seconds: 60 },
    });
    expect(quote.statusCode).toBe(200);
    const importAttempt = await api.call('POST', '/v1/carriers', {
      key: switchKey,
      body: { id: 'x', name: 'x' },
    });
    expect(importAttempt.statusCode).toBe(403);
    const retailerKey = (await api.principal('retailer', 'Shop')).key;
    expect((await api.call('GET', '/v1/carriers', { key: retailerKey })).statusCode).toBe(403);
  });
});
