// Rating plans over HTTP: named plans (per currency: default carrier, least cost, access codes
// only, barred prefixes) and their assignments to a subscriber account, a product, or a retailer
// or distributor. Operators only (scopes rating:read and rating:write).

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import type { Currency as CurrencyCode } from '../../../core/money/money.ts';
import {
  type AssignmentSubjectType,
  assignmentSubjectTypes,
  type PlanRouting,
  type RatingPlanAssignment,
  type RatingPlanRecord,
} from '../../../core/rating/rating-plans.ts';
import type { RatingPlanInput } from '../../../core/rating/rating-service.ts';
import type { Services } from '../../../services.ts';
import { callerOf, sendRefusal } from '../reply.ts';
import { currencyOf } from '../request-parsing.ts';
import { errorResponses, Id } from '../schemas.ts';
import { iso } from '../views.ts';
import { PlanBody, selectionJson, selectionOf } from './rating.ts';

const errors = errorResponses;
const Timestamp = Type.String({ format: 'date-time' });
const PlanId = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
  description: 'Your name for the plan, e.g. "premium".',
});

const Currencies = Type.Record(Type.String({ pattern: '^[A-Z]{3}$' }), PlanBody, {
  minProperties: 1,
  maxProperties: 64,
  description: 'The rules per currency, as for PUT /v1/rating/plans/{currency}.',
});

const CreateRatingPlanBody = Type.Object(
  { id: PlanId, name: Type.String({ minLength: 1, maxLength: 128 }), currencies: Currencies },
  { additionalProperties: false },
);

const ReplaceRatingPlanBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128 }), currencies: Currencies },
  { additionalProperties: false },
);

const RatingPlanView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  currencies: Type.Record(
    Type.String(),
    Type.Object({ selection: Type.Unknown(), barred_prefixes: Type.Array(Type.String()) }),
  ),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const AssignBody = Type.Union(
  [
    Type.Object(
      { account_id: Id },
      { additionalProperties: false, description: 'A subscriber: caller-number or card account.' },
    ),
    Type.Object({ product_id: Id }, { additionalProperties: false }),
    Type.Object(
      { principal_id: Id },
      { additionalProperties: false, description: 'A retailer or distributor.' },
    ),
  ],
  { description: 'What the plan is assigned to: exactly one of these.' },
);

const AssignmentView = Type.Object({
  rating_plan_id: Type.String(),
  subject_type: Type.String({ description: 'subscriber, product, retailer or distributor' }),
  subject_id: Type.String(),
  assigned_at: Timestamp,
});

const AssignmentParams = Type.Object({
  id: Id,
  subject_type: Type.Union(assignmentSubjectTypes.map((type) => Type.Literal(type))),
  subject_id: Id,
});

function ratingPlanJson(plan: RatingPlanRecord) {
  const currencies: Record<string, { selection: unknown; barred_prefixes: string[] }> = {};
  for (const [currency, routing] of Object.entries(plan.routing)) {
    currencies[currency] = {
      selection: selectionJson(routing.selection),
      barred_prefixes: [...routing.barredPrefixes],
    };
  }
  return {
    id: plan.id,
    name: plan.name,
    currencies,
    created_at: iso(plan.createdAtMs),
    updated_at: iso(plan.updatedAtMs),
  };
}

function assignmentJson(a: RatingPlanAssignment) {
  return {
    rating_plan_id: a.ratingPlanId,
    subject_type: a.subjectType,
    subject_id: a.subjectId,
    assigned_at: iso(a.assignedAtMs),
  };
}

function planInput(
  id: string,
  body: { name: string; currencies: Static<typeof Currencies> },
): RatingPlanInput {
  const routing: Partial<Record<CurrencyCode, PlanRouting>> = {};
  for (const [code, rules] of Object.entries(body.currencies)) {
    routing[currencyOf(code)] = {
      selection: selectionOf(rules.selection),
      barredPrefixes: rules.barred_prefixes ?? [],
    };
  }
  return { id, name: body.name, routing };
}

export const ratingPlanRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { rating } = services;

  app.post(
    '/v1/rating/rating-plans',
    {
      config: { scope: 'rating:write' },
      schema: {
        tags: ['rating'],
        summary: 'Create a rating plan: which carriers price a call, per currency',
        description:
          'Assign it with PUT /v1/rating/rating-plans/{id}/assignments. A call uses the most ' +
          'specific plan that has rules for its currency: subscriber account, product, the ' +
          "product's own carrier, retailer, distributor, then the currency's routing plan.",
        body: CreateRatingPlanBody,
        response: { 201: RatingPlanView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await rating.createRatingPlan(
        callerOf(request),
        planInput(request.body.id, request.body),
      );
      if (!result.ok) return sendRefusal(reply, result);
      return reply.status(201).send(ratingPlanJson(result.value));
    },
  );

  app.get(
    '/v1/rating/rating-plans',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary: 'Rating plans',
        response: { 200: Type.Object({ items: Type.Array(RatingPlanView) }), ...errors },
      },
    },
    async () => ({ items: (await rating.listRatingPlans()).map(ratingPlanJson) }),
  );

  app.get(
    '/v1/rating/rating-plans/:id',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary: 'A rating plan',
        params: Type.Object({ id: Id }),
        response: { 200: RatingPlanView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await rating.getRatingPlan(request.params.id);
      if (!result.ok) return sendRefusal(reply, result);
      return ratingPlanJson(result.value);
    },
  );

  app.put(
    '/v1/rating/rating-plans/:id',
    {
      config: { scope: 'rating:write' },
      schema: {
        tags: ['rating'],
        summary: "Replace a rating plan's name and rules; its assignments stay",
        params: Type.Object({ id: Id }),
        body: ReplaceRatingPlanBody,
        response: { 200: RatingPlanView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await rating.replaceRatingPlan(
        callerOf(request),
        planInput(request.params.id, request.body),
      );
      if (!result.ok) return sendRefusal(reply, result);
      return ratingPlanJson(result.value);
    },
  );

  app.delete(
    '/v1/rating/rating-plans/:id',
    {
      config: { scope: 'rating:write' },
      schema: {
        tags: ['rating'],
        summary: 'Delete a rating plan that is assigned to nothing',
        params: Type.Object({ id: Id }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const result = await rating.deleteRatingPlan(callerOf(request), request.params.id);
      if (!result.ok) return sendRefusal(reply, result);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/rating/rating-plans/:id/assignments',
    {
      config: { scope: 'rating:read' },
      schema: {
        tags: ['rating'],
        summary: 'What a rating plan is assigned to',
        params: Type.Object({ id: Id }),
        response: { 200: Type.Object({ items: Type.Array(AssignmentView) }), ...errors },
      },
    },
    async (request, reply) => {
      const plan = await rating.getRatingPlan(request.params.id);
      if (!plan.ok) return sendRefusal(reply, plan);
      const items = await rating.listAssignments({ ratingPlanId: plan.value.id });
      return { items: items.map(assignmentJson) };
    },
  );

  app.put(
    '/v1/rating/rating-plans/:id/assignments',
    {
      config: { scope: 'rating:write' },
      schema: {
        tags: ['rating'],
        summary:
          'Assign a rating plan to a subscriber account, a product, a retailer or distributor',
        description:
          'Replaces the plan the subject had. A subscriber account or product must be in a ' +
          'currency the plan has rules for (rating_plan_currency_missing); a principal must be ' +
          'a retailer or distributor (assignment_subject_invalid).',
        params: Type.Object({ id: Id }),
        body: AssignBody,
        response: { 200: AssignmentView, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const subject =
        'account_id' in body
          ? { accountId: body.account_id }
          : 'product_id' in body
            ? { productId: body.product_id }
            : { principalId: body.principal_id };
      const result = await rating.assignRatingPlan(callerOf(request), {
        ratingPlanId: request.params.id,
        subject,
      });
      if (!result.ok) return sendRefusal(reply, result);
      return assignmentJson(result.value);
    },
  );

  app.delete(
    '/v1/rating/rating-plans/:id/assignments/:subject_type/:subject_id',
    {
      config: { scope: 'rating:write' },
      schema: {
        tags: ['rating'],
        summary: 'Unassign a rating plan: the subject falls back to the next level',
        params: AssignmentParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { id, subject_type: subjectType, subject_id: subjectId } = request.params;
      const result = await rating.unassignRatingPlan(callerOf(request), {
        subjectType: subjectType as AssignmentSubjectType,
        subjectId,
        ratingPlanId: id,
      });
      if (!result.ok) return sendRefusal(reply, result);
      return reply.code(204).send(null);
    },
  );
};
