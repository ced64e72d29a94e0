// Rating through the store, on SQLite and PostgreSQL: carriers, imports in every format, the
// catalog rebuilt after a restart, superseding imports, routing plans and quotes.

import { afterEach, expect, it } from 'vitest';
import {
  describeEachStore,
  type Opened,
  openTestEnv,
  operator,
  reuseOf,
} from '../../../test/support/stores.ts';
import { ManualClock } from '../shared/clock.ts';
import { a2billing, cgrates, tollgate } from './fixtures/fixtures.ts';

// A Wednesday, 12:00 in Paris: off-peak is not in force, the weekday peak is.
const noonParis = Date.UTC(2026, 2, 4, 11, 0, 0);
const nightParis = Date.UTC(2026, 2, 4, 22, 0, 0);

describeEachStore('rating service', (kind) => {
  let env: Opened | undefined;
  let reopened: Opened | undefined;
  afterEach(async () => {
    await reopened?.closeKeep();
    await env?.close();
    env = undefined;
    reopened = undefined;
  });

  async function withAcme(): Promise<Opened> {
    env = await openTestEnv(kind, { clock: new ManualClock(noonParis) });
    const created = await env.rating.createCarrier(operator, {
      id: 'acme',
      name: 'Acme Telecom',
      accessCode: '00700',
    });
    expect(created.ok).toBe(true);
    return env;
  }

  it('imports a Tollgate CSV, then quotes cost and allowance with peak and off-peak prices', async () => {
    const e = await withAcme();
    const imported = await e.rating.importTariff(operator, {
      carrierId: 'acme',
      format: 'tollgate',
      files: { tariff: tollgate.tariff },
    });
    if (!imported.ok) throw new Error(JSON.stringify(imported));
    expect(imported.value).toMatchObject({ routeCount: 5, destinationCount: 4, dryRun: false });
    expect(
      (
        await e.rating.saveRoutingPlan(operator, {
          currency: 'EUR',
          selection: { kind: 'default', carrierId: 'acme' },
          barredPrefixes: ['3390'],
        })
      ).ok,
    ).toBe(true);

    // France peak: 0.05 connect + 0.025/min, 60/60: 61 s is two minutes = 0.05 + 0.05 = 0.10 EUR.
    const peak = e.rating.quote({
      number: '+33123456789',
      currency: 'EUR',
      startMs: noonParis,
      durationSeconds: 61,
    });
    if (!peak.ok) throw new Error(peak.code);
    expect(peak.value.route).toMatchObject({
      carrierId: 'acme',
      prefix: '33',
      destinationName: 'France',
    });
    expect(peak.value.costMinor).toBe(10n);
    // Off-peak: 0.05 + 2 x 0.0123 = 0.0746, rounded half up to 0.07.
    const night = e.rating.quote({
      number: '33123456789',
      currency: 'EUR',
      startMs: nightParis,
      durationSeconds: 61,
    });
    expect(night.ok && night.value.costMinor).toBe(7n);
    // 1.00 EUR at peak: (100 - 5) / 2.5 = 38 whole minutes.
    const allowed = e.rating.quote({
      number: '33123456789',
      currency: 'EUR',
      startMs: noonParis,
      balanceMinor: 100n,
    });
    expect(allowed.ok && allowed.value.allowanceSeconds).toBe(38 * 60);
    // The longest prefix wins, the catch-all takes the rest, the access code picks the carrier.
    expect(
      e.rating.quote({
        number: '33612345678',
        currency: 'EUR',
        startMs: noonParis,
        durationSeconds: 1,
      }).ok && 'ok',
    ).toBe('ok');
    const mobile = e.rating.route({ number: '33612345678', currency: 'EUR', startMs: noonParis });
    expect(mobile.ok && mobile.value.destinationName).toBe('France Mobile');
    const rest = e.rating.route({ number: '99912345', currency: 'EUR', startMs: noonParis });
    expect(rest.ok && rest.value.destinationName).toBe('Rest of world');
    const viaCode = e.rating.route({
      number: '0070033123456789',
      currency: 'EUR',
      startMs: noonParis,
    });
    expect(viaCode.ok && viaCode.value).toMatchObject({
      selectedBy: 'access_code',
      numberRated: '33123456789',
    });
    // Barred prefixes and missing plans are refusals, not errors.
    const barred = e.rating.route({ number: '33901234', currency: 'EUR', startMs: noonParis });
    expect(!barred.ok && barred.code).toBe('destination_not_allowed');
    const noPlan = e.rating.route({ number: '33123', currency: 'USD', startMs: noonParis });
    expect(!noPlan.ok && noPlan.code).toBe('routing_plan_missing');
  });

  it('rebuilds the same catalog from the store after a restart', async () => {
    const e = await withAcme();
    await e.rating.importTariff(operator, {
      carrierId: 'acme',
      format: 'tollgate',
      files: { tariff: tollgate.tariff },
    });
    await e.rating.saveRoutingPlan(operator, {
      currency: 'EUR',
      selection: { kind: 'default', carrierId: 'acme' },
      barredPrefixes: [],
    });
    await e.closeKeep();
    reopened = await openTestEnv(kind, {
      clock: new ManualClock(noonParis),
      reuse: reuseOf(e),
    });
    const quote = reopened.rating.quote({
      number: '447700900123',
      currency: 'EUR',
      startMs: noonParis,
      durationSeconds: 90,
    });
    if (!quote.ok) throw new Error(quote.code);
    // UK: first 60 s at 0.05/min, then per second at 0.02/min: 0.05 + 30 x 0.02/60 = 0.06.
    expect(quote.value.route.destinationName).toBe('United Kingdom, landline');
    expect(quote.value.costMinor).toBe(6n);
    env = reopened;
    reopened = undefined;
  });

  it('supersedes an earlier import of the same carrier and start', async () => {
    const e = await withAcme();
    const first = await e.rating.importTariff(operator, {
      carrierId: 'acme',
      format: 'tollgate',
      files: { tariff: tollgate.tariff },
    });
    const cheaper = tollgate.tariff.replace('33,France,,,,,0.05,0.0123', '33,France,,,,,0,0.0100');
    const second = await e.rating.importTariff(operator, {
      carrierId: 'acme',
      format: 'tollgate',
      files: { tariff: cheaper },
    });
    if (!first.ok || !second.ok) throw new Error('import failed');
    const versions = await e.rating.listTariffs({ carrierId: 'acme' });
    expect(versions.map((v) => [v.id, v.status])).toEqual([
      [first.value.versionId, 'superseded'],
      [second.value.versionId, 'active'],
    ]);
    await e.rating.saveRoutingPlan(operator, {
      currency: 'EUR',
      selection: { kind: 'default', carrierId: 'acme' },
      barredPrefixes: [],
    });
    const night = e.rating.quote({
      number: '33123456789',
      currency: 'EUR',
      startMs: nightParis,
      durationSeconds: 60,
    });
    expect(night.ok && night.value.costMinor).toBe(1n);
  });

  it('refuses a bad file with line numbers and stores nothing; a dry run stores nothing either', async () => {
    const e = await withAcme();
    const bad = await e.rating.importTariff(operator, {
      carrierId: 'acme',
      format: 'tollgate',
      files: { tariff: tollgate.bad },
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.code).toBe('tariff_invalid');
    expect(bad.issues.length).toBeGreaterThan(3);
    expect(bad.issues.every((issue) => issue.line > 0)).toBe(true);
    const dry = await e.rating.importTariff(operator, {
      carrierId: 'acme',
      format: 'tollgate',
      files: { tariff: tollgate.tariff },
      dryRun: true,
    });
    expect(dry.ok && dry.value).toMatchObject({ dryRun: true, versionId: null, routeCount: 5 });
    expect(await e.rating.listTariffs({})).toEqual([]);
    const unknown = await e.rating.importTariff(operator, {
      carrierId: 'nobody',
      format: 'tollgate',
      files: { tariff: tollgate.tariff },
    });
    expect(!unknown.ok && unknown.code).toBe('carrier_not_found');
  });

  it('imports a CGRateS tariff plan and an A2Billing rate card and saves a least-cost plan over both', async () => {
    const e = await withAcme();
    await e.rating.createCarrier(operator, { id: 'a2b', name: 'Legacy A2Billing' });
    const fromCgrates = await e.rating.importTariff(operator, {
      carrierId: 'acme',
      format: 'cgrates',
      files: cgrates,
      ratingPlanId: 'RP_RETAIL',
      currency: 'EUR',
      effectiveFromMs: Date.UTC(2026, 0, 1),
    });
    if (!fromCgrates.ok) throw new Error(JSON.stringify(fromCgrates.issues));
    const fromA2b = await e.rating.importTariff(operator, {
      carrierId: 'a2b',
      format: 'a2billing',
      files: { ratecard: a2billing.simple },
      a2billingColumns: ['buyrate'],
      currency: 'EUR',
      effectiveFromMs: Date.UTC(2026, 0, 1),
    });
    if (!fromA2b.ok) throw new Error(JSON.stringify(fromA2b.issues));
    expect(fromCgrates.value.routeCount).toBeGreaterThan(0);
    expect(fromA2b.value.routeCount).toBeGreaterThan(0);
    await e.rating.saveRoutingPlan(operator, {
      currency: 'EUR',
      selection: { kind: 'least_cost', carrierIds: ['acme', 'a2b'] },
      barredPrefixes: [],
    });
    const plans = await e.rating.listRoutingPlans();
    expect(plans.map((p) => p.selection.kind)).toEqual(['least_cost']);
    const missing = await e.rating.saveRoutingPlan(operator, {
      currency: 'EUR',
      selection: { kind: 'default', carrierId: 'ghost' },
      barredPrefixes: [],
    });
    expect(!missing.ok && missing.code).toBe('carrier_not_found');
  });

  it('refuses a second carrier with the same id or access code', async () => {
    const e = await withAcme();
    const sameId = await e.rating.createCarrier(operator, { id: 'acme', name: 'again' });
    expect(!sameId.ok && sameId.code).toBe('carrier_exists');
    const sameCode = await e.rating.createCarrier(operator, {
      id: 'other',
      name: 'other',
      accessCode: '00700',
    });
    expect(!sameCode.ok && sameCode.code).toBe('access_code_taken');
  });
});
