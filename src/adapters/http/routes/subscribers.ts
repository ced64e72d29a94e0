// Subscribers, for operators: create a caller-number account, credit or debit it from a named
// operator account, link and unlink caller numbers, and see its balance, calls and top-ups. A
// subscriber is named in the path by its caller number (`15550001234`, `+4420…`, or charging's
// `ani:15550001234`) or by its calling card's serial (`card:B2026A-000000042`); never by a PIN.
// Credits and debits move money, so they need an Idempotency-Key, as POST /v1/transfers does.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { type Static, Type } from 'typebox';
import { memoLengthMax } from '../../../core/ledger/limits.ts';
import { accountStatuses } from '../../../core/ledger/types.ts';
import type { Refusal, Result } from '../../../core/shared/result.ts';
import { subscriberNameLengthMax } from '../../../core/subscribers/create-subscriber.ts';
import type { SubscriberTransfer } from '../../../core/subscribers/subscriber-transfer.ts';
import {
  parseSubscriberRef,
  type SubscriberDetail,
  type SubscriberRef,
  type SubscriberSummary,
} from '../../../core/subscribers/subscriber-types.ts';
import type { Services } from '../../../services.ts';
import { HttpRefusal } from '../errors.ts';
import { callerOf, sendRefusal } from '../reply.ts';
import { amountOf, currencyOf, idempotencyKeyOf, limitOf } from '../request-parsing.ts';
import {
  Amount,
  Currency,
  errorResponses,
  Id,
  IdempotencyHeaders,
  PageQuery,
  SignedAmount,
  TransferView,
} from '../schemas.ts';
import { iso, transferJson } from '../views.ts';
import { CdrView, cdrJson } from './charging.ts';

const errors = errorResponses;
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const SubscriberName = Type.String({
  minLength: 1,
  maxLength: 72,
  pattern: '^((ani:)?\\+?[0-9]{1,32}|card:[A-Za-z0-9-]{1,64})$',
  description:
    'A caller number as the switch sends it (15550001234, +442071838750, ani:15550001234) ' +
    'or a calling card by its serial (card:B2026A-000000042).',
});
const CallerNumber = Type.String({
  minLength: 1,
  maxLength: 33,
  description:
    'An E.164 caller number, exactly as the switch sends it: 3-15 digits, the first not 0, ' +
    'with an optional leading +.',
  examples: ['15550001234'],
});
const LinkedNumber = Type.String({ minLength: 1, maxLength: 33, pattern: '^\\+?[0-9]{1,32}$' });

const SubscriberParams = Type.Object({ subscriber: SubscriberName });
const LinkParams = Type.Object({ subscriber: SubscriberName, ani: LinkedNumber });
const CurrencyQuery = Type.Object(
  { currency: Type.Optional(Currency) },
  { additionalProperties: false },
);

const CreateSubscriberBody = Type.Object(
  {
    ani: CallerNumber,
    currency: Currency,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: subscriberNameLengthMax })),
    status: Type.Optional(
      Type.Enum(['open', 'frozen'], { description: 'frozen: cannot call until opened.' }),
    ),
  },
  { additionalProperties: false },
);

const memo = Type.Optional(Type.String({ maxLength: memoLengthMax }));
const CreditBody = Type.Object(
  {
    amount: Amount,
    currency: Currency,
    from_account_id: Id,
    memo,
  },
  { additionalProperties: false },
);
const DebitBody = Type.Object(
  {
    amount: Amount,
    currency: Currency,
    to_account_id: Id,
    memo,
  },
  { additionalProperties: false },
);

const LinkBody = Type.Object(
  {
    ani: CallerNumber,
    currency: Type.Optional(Currency),
  },
  { additionalProperties: false },
);

const SubscriberSummaryView = Type.Object({
  subscriber: Type.String({ description: 'As charging names it in sessions and CDRs.' }),
  ani: Nullable(Type.String()),
  card_serial: Nullable(Type.String()),
  account_id: Type.String(),
  name: Type.String(),
  currency: Type.String(),
  status: Type.Enum([...accountStatuses]),
  balance: Type.Object({ posted: SignedAmount, held: Amount, available: SignedAmount }),
  created_at: Type.String(),
});

const CallerNumberView = Type.Object({ ani: Type.String(), linked_at: Type.String() });

const TopUpView = Type.Object({
  transfer_id: Type.String(),
  amount: Amount,
  currency: Type.String(),
  from_account_id: Type.String(),
  code: Nullable(Type.String()),
  memo: Nullable(Type.String()),
  created_at: Type.String(),
});

const SubscriberView = Type.Object({
  ...SubscriberSummaryView.properties,
  caller_numbers: Type.Array(CallerNumberView, {
    description: 'Caller numbers linked to this account: their calls are charged to it.',
  }),
  active_calls: Type.Integer(),
  recent_calls: Type.Array(CdrView, { description: 'Newest first.' }),
  recent_top_ups: Type.Array(TopUpView, { description: 'Newest first.' }),
});

const LinkView = Type.Object({
  ani: Type.String(),
  account_id: Type.String(),
  subscriber: Type.String(),
  linked_at: Type.String(),
});

export function subscriberSummaryJson(s: SubscriberSummary) {
  return {
    subscriber: s.subscriber,
    ani: s.ani,
    card_serial: s.cardSerial,
    account_id: s.account.id,
    name: s.account.name,
    currency: s.account.currency,
    status: s.account.status,
    balance: {
      posted: s.balance.postedMinor.toString(),
      held: s.balance.heldMinor.toString(),
      available: s.balance.availableMinor.toString(),
    },
    created_at: iso(s.account.createdAtMs),
  };
}

export function subscriberJson(s: SubscriberDetail) {
  return {
    ...subscriberSummaryJson(s),
    caller_numbers: s.callerNumbers.map((link) => ({
      ani: link.ani,
      linked_at: iso(link.createdAtMs),
    })),
    active_calls: s.activeCalls,
    recent_calls: s.recentCalls.map(cdrJson),
    recent_top_ups: s.recentTopUps.map((t) => ({
      transfer_id: t.transferId,
      amount: t.amountMinor.toString(),
      currency: t.currency,
      from_account_id: t.fromAccountId,
      code: t.code,
      memo: t.memo,
      created_at: iso(t.atMs),
    })),
  };
}

export const subscriberRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { subscribers } = services;

  /** The subscriber a path names; the schema has checked its form already. */
  function refOf(params: Static<typeof SubscriberParams>): SubscriberRef {
    const ref = parseSubscriberRef(params.subscriber);
    if (!ref) throw new HttpRefusal('subscriber_not_found');
    return ref;
  }

  function answerTransfer(
    reply: FastifyReply,
    operation: string,
    outcome: Result<SubscriberTransfer, string>,
  ) {
    app.metrics.countOutcome(operation, outcome.ok ? 'ok' : outcome.code);
    if (!outcome.ok) return sendRefusal(reply, outcome as Refusal);
    const { transfer, replayed } = outcome.value;
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.status(replayed ? 200 : 201).send(transferJson(transfer));
  }

  app.post(
    '/v1/subscribers',
    {
      config: { scope: 'accounts:write' },
      schema: {
        tags: ['subscribers'],
        summary: 'Create a caller-number subscriber, ready to call once credited',
        description:
          'Opens the account charging finds for calls from `ani` in `currency` ' +
          '(`acc_ani_<ani>_<currency>`), empty and never below zero. A second one for the ' +
          'same number and currency is refused with 409 subscriber_exists.',
        body: CreateSubscriberBody,
        response: { 201: SubscriberView, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await subscribers.create(callerOf(request), {
        ani: b.ani,
        currency: currencyOf(b.currency),
        name: b.name,
        status: b.status,
      });
      if (!result.ok) return sendRefusal(reply, result);
      return reply.status(201).send(subscriberJson(result.value));
    },
  );

  app.get(
    '/v1/subscribers',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['subscribers'],
        summary: 'Caller-number subscribers with their balances, a page at a time',
        querystring: PageQuery,
        response: {
          200: Type.Object({
            items: Type.Array(SubscriberSummaryView),
            next_cursor: Nullable(Type.String()),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const result = await subscribers.list(callerOf(request), {
        cursor: request.query.cursor,
        limit: limitOf(request.query.limit),
      });
      if (!result.ok) return sendRefusal(reply, result);
      return {
        items: result.value.items.map(subscriberSummaryJson),
        next_cursor: result.value.nextCursor,
      };
    },
  );

  app.get(
    '/v1/subscribers/:subscriber',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['subscribers'],
        summary: 'A subscriber: balance, status, linked caller numbers, recent calls and top-ups',
        description:
          'A caller number linked to an account shows that account, as charging would charge ' +
          'it. `currency` picks one balance of a number that has several.',
        params: SubscriberParams,
        querystring: CurrencyQuery,
        response: { 200: SubscriberView, ...errors },
      },
    },
    async (request, reply) => {
      const currency = request.query.currency;
      const result = await subscribers.show(
        callerOf(request),
        refOf(request.params),
        currency === undefined ? undefined : currencyOf(currency),
      );
      if (!result.ok) return sendRefusal(reply, result);
      return subscriberJson(result.value);
    },
  );

  app.post(
    '/v1/subscribers/:subscriber/credits',
    {
      config: { scope: 'accounts:write' },
      schema: {
        tags: ['subscribers'],
        summary: 'Credit a subscriber from an operator account (a top-up, a refund)',
        description:
          '`from_account_id` is an operator (system) account such as cash, never another ' +
          "subscriber's balance. The same Idempotency-Key and body return the first transfer " +
          'again (200, Idempotent-Replayed: true); the same key with another body is refused ' +
          'with 409 exists_with_different_fields.',
        headers: IdempotencyHeaders,
        params: SubscriberParams,
        body: CreditBody,
        response: { 200: TransferView, 201: TransferView, ...errors },
      },
    },
    async (request, reply) => {
      const idempotencyKey = idempotencyKeyOf(request);
      const b = request.body;
      const outcome = await subscribers.credit(callerOf(request), {
        subscriber: refOf(request.params),
        counterpartyAccountId: b.from_account_id,
        amountMinor: amountOf(b.amount),
        currency: currencyOf(b.currency),
        idempotencyKey,
        memo: b.memo,
      });
      return answerTransfer(reply, 'subscriber_credit', outcome);
    },
  );

  app.post(
    '/v1/subscribers/:subscriber/debits',
    {
      config: { scope: 'accounts:write' },
      schema: {
        tags: ['subscribers'],
        summary: 'Debit a subscriber to an operator account; never below zero',
        description:
          '`to_account_id` is an operator (system) account. More than the available balance ' +
          'is refused with 422 exceeds_available and moves nothing.',
        headers: IdempotencyHeaders,
        params: SubscriberParams,
        body: DebitBody,
        response: { 200: TransferView, 201: TransferView, ...errors },
      },
    },
    async (request, reply) => {
      const idempotencyKey = idempotencyKeyOf(request);
      const b = request.body;
      const outcome = await subscribers.debit(callerOf(request), {
        subscriber: refOf(request.params),
        counterpartyAccountId: b.to_account_id,
        amountMinor: amountOf(b.amount),
        currency: currencyOf(b.currency),
        idempotencyKey,
        memo: b.memo,
      });
      return answerTransfer(reply, 'subscriber_debit', outcome);
    },
  );

  app.post(
    '/v1/subscribers/:subscriber/links',
    {
      config: { scope: 'accounts:write' },
      schema: {
        tags: ['subscribers'],
        summary: "Link a caller number: its calls are charged to this subscriber's account",
        description:
          'Answers 201 for a new link and 200 when the number was already linked here. A number ' +
          'linked to another account, or with a balance of its own, is refused with 409 ' +
          'caller_number_taken.',
        params: SubscriberParams,
        body: LinkBody,
        response: { 200: LinkView, 201: LinkView, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await subscribers.link(callerOf(request), {
        subscriber: refOf(request.params),
        ani: b.ani,
        currency: b.currency === undefined ? undefined : currencyOf(b.currency),
      });
      if (!result.ok) return sendRefusal(reply, result);
      const { link, created } = result.value;
      return reply.status(created ? 201 : 200).send({
        ani: link.ani,
        account_id: link.accountId,
        subscriber: link.subscriber,
        linked_at: iso(link.createdAtMs),
      });
    },
  );

  app.delete(
    '/v1/subscribers/:subscriber/links/:ani',
    {
      config: { scope: 'accounts:write' },
      schema: {
        tags: ['subscribers'],
        summary: 'Unlink a caller number from this subscriber',
        params: LinkParams,
        querystring: CurrencyQuery,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const currency = request.query.currency;
      const result = await subscribers.unlink(callerOf(request), {
        subscriber: refOf(request.params),
        ani: request.params.ani,
        currency: currency === undefined ? undefined : currencyOf(currency),
      });
      if (!result.ok) return sendRefusal(reply, result);
      return reply.code(204).send(null);
    },
  );
};
