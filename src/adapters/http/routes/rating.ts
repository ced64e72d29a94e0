// Rating over HTTP: carriers, tariff imports and versions, routing plans per currency, quotes
// (by currency, by a named rating plan, or for a subscriber). Named rating plans and their
// assignments are in rating-plans.ts.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { roundingModes } from '../../../core/money/rounding.ts';
import { a2billingColumns } from '../../../core/rating/a2billing-import.ts';
import { encodeRate } from '../../../core/rating/rate-json.ts';
import type { CallSubject } from '../../../core/rating/rating-plans.ts';
import type { Quote } from '../../../core/rating/rating-service.ts';
import { tariffFormats } from '../../../core/rating/rating-service.ts';
import type {
  Carrier,
  RoutingPlanRecord,
  TariffVersionRecord,
} from '../../../core/rating/rating-store.ts';
import type { Services } from '../../../services.ts';
import { callerOf, sendError, sendRefusal } from '../reply.ts';
import { amountOf, currencyOf } from '../request-parsing.ts';
import { Amount, Currency, errorResponses, IdParams } from '../schemas.ts';
import { iso, snakeKeys } from '../views.ts';

/** Tariff files are large: a million-prefix deck is about 60 MB of CSV. */
export const tariffBodyLimitBytes = 256 * 1024 * 1024;

const enumOf = <const T extends readonly string[]>(values: T) =>
  Type.Enum([...values] as T[number][]);
const errors = errorResponses;
const Timestamp = Type.String({ format: 'date-time' });
const Digits = (max: number) => Type.String({ pattern: `^[0-9]{1,${max}}$` });

const CarrierView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  access_code: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
});

const CreateCarrierBody = Type.Object(
  {
    id: Type.String({
      pattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
      description: 'Your name for the carrier, e.g. "acme".',
    }),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    access_code: Type.Optional(Digits(8)),
  },
  { additionalProperties: false },
);

const TariffView = Type.Object({
  id: Type.String(),
  carrier_id: Type.String(),
  currency: Type.String(),
  time_zone: Type.String(),
  rounding_mode: Type.String(),
  period_policy: Type.String(),
  effective_from: Timestamp,
  effective_to: Type.Union([Timestamp, Type.Null()]),
  status: Type.String(),
  destination_count: Type.Integer(),
  route_count: Type.Integer(),
  created_at: Timestamp,
});

const Issue = Type.Object({ file: Type.String(), line: Type.Integer(), message: Type.String() });

const ImportTariffBody = Type.Object(
  {
    carrier_id: Type.String({ minLength: 1, maxLength: 64 }),
    format: enumOf(tariffFormats),
    files: Type.Record(Type.String({ pattern: '^[a-z_A-Z]{1,32}$' }), Type.String(), {
      description:
        'File contents by name. tollgate: {"tariff"}; a2billing: {"ratecard"}; cgrates: ' +
        '{"destinations", "rates", "destination_rates", "timings", "rating_plans"}.',
    }),
    currency: Type.Optional(Currency),
    effective_from: Type.Optional(Timestamp),
    effective_to: Type.Optional(Timestamp),
    time_zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    rounding_mode: Type.Optional(enumOf(roundingModes)),
    rating_plan_id: Type.Optional(Type.String({ maxLength: 128 })),
    a2billing_columns: Type.Optional(Type.Array(enumOf(a2billingColumns), { maxItems: 32 })),
    dry_run: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ImportResultView = Type.Object({
  tariff: Type.Union([TariffView, Type.Null()]),
  dry_run: Type.Boolean(),
  destination_count: Type.Integer(),
  route_count: Type.Integer(),
  warnings: Type.Array(Issue),
});

export const Selection = Type.Union([
  Type.Object(
    { kind: Type.Literal('default'), carrier_id: Type.String() },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('least_cost'),
      carrier_ids: Type.Array(Type.String(), { minItems: 1, maxItems: 64 }),
      reference_duration_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('access_code_only') }, { additionalProperties: false }),
]);

export const PlanBody = Type.Object(
  {
    selection: Selection,
    barred_prefixes: Type.Optional(Type.Array(Digits(20), { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

const PlanView = Type.Object({
  currency: Type.String(),
  selection: Type.Unknown(),
  barred_prefixes: Type.Array(Type.String()),
  updated_at: Timestamp,
});

const QuoteBody = Type.Object(
  {
    number: Type.String({
      minLength: 1,
      maxLength: 40,
      description: 'Dialled digits, optionally with + and a carrier access code.',
    }),
    currency: Type.Optional(Currency),
    rating_plan_id: Type.Optional(
      Type.String({ maxLength: 64, description: 'Rate with this rating plan.' }),
    ),
    subscriber: Type.Optional(
      Type.Union(
        [
          Type.Object(
            {
              pin: Type.String({ minLength: 1, maxLength: 64, description: 'A calling-card PIN.' }),
            },
            { additionalProperties: false },
          ),
          Type.Object(
            { ani: Type.String({ minLength: 1, maxLength: 33, pattern: '^\\+?[0-9]{1,32}$' }) },
            { additionalProperties: false },
          ),
        ],
        {
          description:
            'Rate as this subscriber would be, by the plan chosen for it; without `balance`, its ' +
            'available balance is turned into seconds.',
        },
      ),
    ),
    at: Type.Optional(Timestamp),
    duration_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
    balance: Type.Optional(Amount),
  },
  { additionalProperties: false },
);

const QuoteView = Type.Object({
  at: Timestamp,
  carrier_id: Type.String(),
  selected_by: Type.String(),
  rating_plan_id: Type.Union([Type.String(), Type.Null()]),
  rating_plan_source: Type.String({
    description:
      'Why the plan applied: subscriber, product, product_carrier, retailer, distributor, ' +
      'currency, or requested (the quote named it).',
  }),
  currency: Type.String(),
  number_rated: Type.String(),
  prefix: Type.String(),
  destination: Type.String(),
  rate: Type.Unknown({
    description: 'The rate applied: terms and periods, prices as exact decimal strings.',
  }),
  duration_seconds: Type.Union([Type.Integer(), Type.Null()]),
  cost: Type.Union([Amount, Type.Null()]),
  balance: Type.Union([Amount, Type.Null()]),
  allowance_seconds: Type.Union([Type.Integer(), Type.Null()]),
});

const PageQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
    prefix: Type.Optional(Digits(20)),
  },
  { additionalProperties: false },
);

function carrierJson(carrier: Carrier) {
  return {
    id: carrier.id,
    name: carrier.name,
    access_code: carrier.accessCode,
    created_at: iso(carrier.createdAtMs),
  };
}

function tariffJson(t: TariffVersionRecord) {
  return {
    id: t.id,
    carrier_id: t.carrierId,
    currency: t.currency,
    time_zone: t.timeZone,
    rounding_mode: t.roundingMode,
    period_policy: t.periodPolicy,
    effective_from: iso(t.effectiveFromMs),
    effective_to: t.effectiveToMs === null ? null : iso(t.effectiveToMs),
    status: t.status,
    destination_count: t.destinationCount,
    route_count: t.routeCount,
    created_at: iso(t.createdAtMs),
  };
}

export function selectionJson(s: RoutingPlanRecord['selection']) {
  return s.kind === 'default'
    ? { kind: s.kind, carrier_id: s.carrierId }
    : s.kind === 'least_cost'
      ? {
          kind: s.kind,
          carrier_ids: s.carrierIds,
          ...(s.referenceDurationSeconds
            ? { reference_duration_seconds: s.referenceDurationSeconds }
            : {}),
        }
      : { kind: s.kind };
}

function planJson(plan: RoutingPlanRecord) {
  return {
    currency: plan.currency,
    selection: selectionJson(plan.selection),
    barred_prefixes: [...plan.barredPrefixes],
    updated_at: iso(plan.updatedAtMs),
  };
}

export function selectionOf(body: Static<typeof Selection>): RoutingPlanRecord['selection'] {
  switch (body.kind) {
    case 'default':
      return { kind: 'default', carrierId: body.carrier_id };
    case 'least_cost':
      return {
        kind: 'least_cost',
        carrierIds: body.carrier_ids,
        ...(body.reference_duration_seconds
          ? { referenceDurationSeconds: body.reference_duration_seconds }
          : {}),
      };
    case 'access_code_only':
      return { kind: 'access_code_only' };
  }
}

function quoteJson(
  quote: Quote,
  atMs: number,
  durationSeconds: number | null,
  balance: bigint | null,
) {
  const { route } = quote;
  return {
    at: iso(atMs),
    carrier_id: route.carrierId,
    selected_by: route.selectedBy,
    rating_plan_id: route.ratingPlanId,
    rating_plan_source: route.ratingPlanSource,
    currency: route.tariff.version.currency,
    number_rated: route.numberRated,
    prefix: route.prefix,
    destination: route.destinationName,
    rate: snakeKeys(encodeRate(route.rate.rate)),
    duration_seconds: durationSeconds,
    cost: quote.costMinor === null ? null : quote.costMinor.toString(),
    balance: balance === null ? null : balance.toString(),
    allowance_seconds: quote.allowanceSeconds,
  };
}

export const ratingRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { rating, charging, clock } = services;

  app.post(
    '/v1/carriers',
    {
      config: { scope: 'rating:write' },
      schema: {
        tags: ['rating'],
        summary: 'Add a carrier (communication company)',
        body: CreateCarrierBody,
        response: { 201: CarrierView, ...errors },
      },
    },
    async (request, reply) => {
      const { id, name, access_code: accessCode } = request.body;
      const result = await rating.createCarrier(callerOf(request), { id, name, accessCode });
      if (!result.ok) return sendError(reply, result.code);
      return reply.status(201).send(carrierJson(result.value));
    },
  );

  app.get(
    '/v1/carriers',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary: 'Carriers',
        response: { 200: Type.Object({ items: Type.Array(CarrierView) }), ...errors },
      },
    },
    async () => ({ items: (await rating.listCarriers()).map(carrierJson) }),
  );

  app.post(
    '/v1/tariffs',
    {
      bodyLimit: tariffBodyLimitBytes,
      config: { scope: 'rating:write' },
      schema: {
        tags: ['rating'],
        summary:
          'Import a tariff version (Tollgate CSV, CGRateS tariff plan or A2Billing rate card)',
        description:
          'Checks every line first: a file with errors is refused with 422 tariff_invalid and ' +
          'details [{file, line, message}], and nothing is stored. A version with the same carrier ' +
          'and start as an active one supersedes it. With dry_run nothing is stored.',
        body: ImportTariffBody,
        response: { 200: ImportResultView, 201: ImportResultView, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const outcome = await rating.importTariff(callerOf(request), {
        carrierId: body.carrier_id,
        format: body.format,
        files: body.files,
        currency: body.currency === undefined ? undefined : currencyOf(body.currency),
        effectiveFromMs:
          body.effective_from === undefined ? undefined : Date.parse(body.effective_from),
        effectiveToMs: body.effective_to === undefined ? undefined : Date.parse(body.effective_to),
        timeZone: body.time_zone,
        roundingMode: body.rounding_mode,
        ratingPlanId: body.rating_plan_id,
        a2billingColumns: body.a2billing_columns,
        dryRun: body.dry_run,
      });
      if (!outcome.ok) {
        return sendError(reply, outcome.code, outcome.message, outcome.issues.slice(0, 1000));
      }
      const summary = outcome.value;
      const tariff = summary.versionId === null ? null : await rating.getTariff(summary.versionId);
      return reply.status(summary.dryRun ? 200 : 201).send({
        tariff: tariff?.ok ? tariffJson(tariff.value) : null,
        dry_run: summary.dryRun,
        destination_count: summary.destinationCount,
        route_count: summary.routeCount,
        warnings: summary.warnings.slice(0, 1000).map((w) => ({ ...w })),
      });
    },
  );

  app.get(
    '/v1/tariffs',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary: 'Tariff versions, by carrier and start',
        querystring: Type.Object(
          { carrier_id: Type.Optional(Type.String({ maxLength: 64 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(TariffView) }), ...errors },
      },
    },
    async (request) => ({
      items: (await rating.listTariffs({ carrierId: request.query.carrier_id })).map(tariffJson),
    }),
  );

  app.get(
    '/v1/tariffs/:id',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary: 'A tariff version',
        params: IdParams,
        response: { 200: TariffView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await rating.getTariff(request.params.id);
      if (!result.ok) return sendError(reply, result.code);
      return tariffJson(result.value);
    },
  );

  app.get(
    '/v1/tariffs/:id/destinations',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary: "A tariff version's destinations and their rates",
        params: IdParams,
        querystring: PageQuery,
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({ index: Type.Integer(), name: Type.String(), rate: Type.Unknown() }),
            ),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const found = await rating.getTariff(request.params.id);
      if (!found.ok) return sendError(reply, found.code);
      const limit = Number(request.query.limit ?? 100);
      const after = request.query.cursor;
      if (after !== undefined && !/^[0-9]{1,9}$/.test(after))
        return sendError(reply, 'cursor_invalid');
      const items = await rating.listDestinations(request.params.id, {
        afterIndex: after === undefined ? undefined : Number(after),
        limit,
      });
      return {
        items: items.map((d) => ({ index: d.index, name: d.name, rate: snakeKeys(d.rate) })),
        next_cursor: items.length === limit ? String(items.at(-1)!.index) : null,
      };
    },
  );

  app.get(
    '/v1/tariffs/:id/routes',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary: "A tariff version's prefix routes, in prefix order (filter with ?prefix=)",
        params: IdParams,
        querystring: PageQuery,
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({ prefix: Type.String(), destination_index: Type.Integer() }),
            ),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const found = await rating.getTariff(request.params.id);
      if (!found.ok) return sendError(reply, found.code);
      const limit = Number(request.query.limit ?? 100);
      const after = request.query.cursor;
      if (after !== undefined && !/^[0-9]{0,20}$/.test(after))
        return sendError(reply, 'cursor_invalid');
      const routes = await rating.listRoutes(request.params.id, {
        afterPrefix: after,
        startsWith: request.query.prefix,
        limit,
      });
      return {
        items: routes.map((r) => ({ prefix: r.prefix, destination_index: r.destinationIndex })),
        next_cursor: routes.length === limit ? routes.at(-1)!.prefix : null,
      };
    },
  );

  app.get(
    '/v1/tariffs/:id/export',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary: 'A tariff version as Tollgate CSV',
        params: IdParams,
        produces: ['text/csv'],
      },
    },
    async (request, reply) => {
      const result = await rating.exportTariff(request.params.id);
      if (!result.ok) return sendError(reply, result.code);
      return reply.header('content-type', 'text/csv; charset=utf-8').send(result.value);
    },
  );

  app.put(
    '/v1/rating/plans/:currency',
    {
      config: { scope: 'rating:write' },
      schema: {
        tags: ['rating'],
        summary: 'Set how calls charged in a currency pick their carrier',
        params: Type.Object({ currency: Currency }),
        body: PlanBody,
        response: { 200: PlanView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await rating.saveRoutingPlan(callerOf(request), {
        currency: currencyOf(request.params.currency),
        selection: selectionOf(request.body.selection),
        barredPrefixes: request.body.barred_prefixes ?? [],
      });
      if (!result.ok) return sendError(reply, result.code, result.message);
      return planJson(result.value);
    },
  );

  app.get(
    '/v1/rating/plans',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary: 'Routing plans',
        response: { 200: Type.Object({ items: Type.Array(PlanView) }), ...errors },
      },
    },
    async () => ({ items: (await rating.listRoutingPlans()).map(planJson) }),
  );

  app.post(
    '/v1/rating/quote',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary:
          'Rate a number: the carrier and rate, the cost of a duration and/or the allowance of a balance',
        body: QuoteBody,
        response: { 200: QuoteView, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const atMs = body.at === undefined ? clock.nowMs() : Date.parse(body.at);
      let balance = body.balance === undefined ? null : amountOf(body.balance);
      let currency = body.currency === undefined ? undefined : currencyOf(body.currency);
      let subject: CallSubject | undefined;
      if (body.subscriber !== undefined) {
        if (body.rating_plan_id !== undefined) {
          return sendError(
            reply,
            'invalid_request',
            'Give rating_plan_id or subscriber, not both.',
          );
        }
        const found = await charging.ratingSubject(callerOf(request), {
          subscriber: body.subscriber,
          source: request.ip,
        });
        if (!found.ok) return sendRefusal(reply, found);
        if (currency !== undefined && currency !== found.value.currency) {
          return sendError(
            reply,
            'currency_mismatch',
            `The subscriber pays in ${found.value.currency}, not ${currency}.`,
          );
        }
        currency = found.value.currency;
        subject = found.value.subject;
        balance ??= found.value.availableMinor;
      }
      if (currency === undefined) {
        return sendError(reply, 'currency_required', 'Name the currency of the quote.');
      }
      const result = rating.quote({
        number: body.number,
        currency,
        startMs: atMs,
        subject,
        ratingPlanId: body.rating_plan_id,
        durationSeconds: body.duration_seconds,
        balanceMinor: balance ?? undefined,
      });
      if (!result.ok) return sendError(reply, result.code, result.message);
      return quoteJson(result.value, atMs, body.duration_seconds ?? null, balance);
    },
  );
};
