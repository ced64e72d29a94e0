import { describe, expect, it } from 'vitest';
import { terms, version } from './fixtures/rates.ts';
import { type RouteRefusalCode, type RoutingPlan, selectRoute } from './select-route.ts';
import type { TariffData } from './tariff.ts';
import { buildTariffIndex } from './tariff-index.ts';
import { TariffCatalog } from './tariff-registry.ts';

function carrier(
  carrierId: string,
  routes: [string, string, string][],
  currency: 'USD' | 'EUR' = 'USD',
): TariffData {
  return {
    version: version({ carrierId, currency }),
    destinations: routes.map(([, name, perMinute]) => ({
      name,
      rate: { terms: terms({ perMinute }), periods: [] },
    })),
    routes: routes.map(([prefix], destinationIndex) => ({ prefix, destinationIndex })),
  };
}

const catalog = TariffCatalog.of(
  [
    carrier('alpha', [
      ['33', 'France', '0.10'],
      ['336', 'France Mobile', '0.30'],
      ['44', 'UK', '0.05'],
    ]),
    carrier('beta', [
      ['33', 'France', '0.08'],
      ['336', 'France Mobile', '0.30'],
      ['1', 'NANP', '0.01'],
    ]),
    carrier('gamma', [['33', 'France', '0.08']]),
    carrier('euro', [['33', 'France', '0.01']], 'EUR'),
  ].map(buildTariffIndex),
);

const startMs = Date.UTC(2026, 0, 5, 12);
const accessCodes = [
  { code: '00700', carrierId: 'alpha' },
  { code: '00701', carrierId: 'beta' },
  { code: '007011', carrierId: 'gamma' },
];
const defaultPlan: RoutingPlan = {
  currency: 'USD',
  accessCodes,
  selection: { kind: 'default', carrierId: 'alpha' },
  barredPrefixes: ['1900'],
};
const leastCostPlan: RoutingPlan = {
  currency: 'USD',
  accessCodes,
  selection: { kind: 'least_cost', carrierIds: ['alpha', 'beta', 'gamma', 'euro'] },
};

describe('selectRoute', () => {
  const routed: [string, RoutingPlan, string, string, string, string, string][] = [
    // [given, plan, dialled, then carrier, selected by, number rated, prefix]
    [
      'an access code selects its carrier and is stripped',
      defaultPlan,
      '0070033612345678',
      'alpha',
      'access_code',
      '33612345678',
      '336',
    ],
    [
      'the longest access code wins',
      defaultPlan,
      '0070113312345678',
      'gamma',
      'access_code',
      '3312345678',
      '33',
    ],
    [
      'no access code: the default carrier',
      defaultPlan,
      '+33142000000',
      'alpha',
      'default',
      '33142000000',
      '33',
    ],
    [
      'least cost: beta and gamma tie at 0.08, the id breaks the tie',
      leastCostPlan,
      '33142000000',
      'beta',
      'least_cost',
      '33142000000',
      '33',
    ],
    [
      'least cost: only one carrier knows the number',
      leastCostPlan,
      '447700900000',
      'alpha',
      'least_cost',
      '447700900000',
      '44',
    ],
    [
      'least cost compares prices, not prefix lengths: gamma rates mobiles as 33',
      leastCostPlan,
      '33612345678',
      'gamma',
      'least_cost',
      '33612345678',
      '33',
    ],
  ];
  it.each(routed)(
    'given %s',
    (_given, plan, dialled, carrierId, selectedBy, numberRated, prefix) => {
      const route = selectRoute({ catalog, plan, dialled, startMs });
      expect(route.ok).toBe(true);
      if (!route.ok) return;
      expect(route.value).toMatchObject({ carrierId, selectedBy, numberRated, prefix });
      expect(route.value.rate).toBe(route.value.tariff.match(numberRated)!.rate);
    },
  );

  const refused: [string, RoutingPlan, string, RouteRefusalCode][] = [
    ['letters in the number', defaultPlan, '33-1-42', 'number_malformed'],
    ['an access code and nothing else', defaultPlan, '00700', 'number_malformed'],
    ['a barred premium number', defaultPlan, '19005551234', 'destination_not_allowed'],
    [
      'a barred number behind an access code',
      defaultPlan,
      '0070019005551234',
      'destination_not_allowed',
    ],
    ['the default carrier has no prefix', defaultPlan, '81312345678', 'no_route'],
    ['the chosen carrier has no prefix (no fallback)', defaultPlan, '0070081312345', 'no_route'],
    ['no allowed carrier has a prefix', leastCostPlan, '81312345678', 'no_route'],
    [
      'an access code for a carrier without tariff',
      { ...defaultPlan, accessCodes: [{ code: '009', carrierId: 'ghost' }] },
      '00933',
      'no_route',
    ],
    [
      'a carrier rating in another currency',
      { ...defaultPlan, selection: { kind: 'default', carrierId: 'euro' } },
      '33142000000',
      'no_route',
    ],
    [
      'a plan that routes access codes only',
      { ...defaultPlan, selection: { kind: 'access_code_only' } },
      '33142000000',
      'no_route',
    ],
  ];
  it.each(refused)('given %s, then %s', (_given, plan, dialled, code) => {
    const route = selectRoute({ catalog, plan, dialled, startMs });
    expect(route.ok).toBe(false);
    if (!route.ok) expect(route.code).toBe(code);
  });
});
