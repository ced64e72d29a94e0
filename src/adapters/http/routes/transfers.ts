// Transfers and holds. Every request that moves money carries an Idempotency-Key: a retry with
// the same key and body returns the first answer (status 200 and Idempotent-Replayed: true);
// the same key with another body is refused with 409 exists_with_different_fields.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { TransferOutcome } from '../../../core/ledger/ledger-batch.ts';
import type { Services } from '../../../services.ts';
import { callerOf, sendError } from '../reply.ts';
import { amountOf, currencyOf, idempotencyKeyOf } from '../request-parsing.ts';
import {
  CreateHoldBody,
  CreateTransferBody,
  errorResponses,
  IdempotencyHeaders,
  IdParams,
  PostHoldBody,
  TransferView,
} from '../schemas.ts';
import { transferJson } from '../views.ts';

const errors = errorResponses;
const created = { 200: TransferView, 201: TransferView, ...errors };

export const transferRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { ledger } = services;

  function answer(reply: FastifyReply, operation: string, outcome: TransferOutcome) {
    app.metrics.countOutcome(operation, outcome.ok ? 'ok' : outcome.code);
    if (!outcome.ok) return sendError(reply, outcome.code, outcome.message);
    if (outcome.replayed) reply.header('idempotent-replayed', 'true');
    return reply.status(outcome.replayed ? 200 : 201).send(transferJson(outcome.transfer));
  }

  app.post(
    '/v1/transfers',
    {
      config: { scope: 'transfers:write' },
      schema: {
        tags: ['transfers'],
        summary: 'Move money from one account to another, at once',
        headers: IdempotencyHeaders,
        body: CreateTransferBody,
        response: created,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const outcome = await ledger.transfer(callerOf(request), {
        kind: 'transfer',
        idempotencyKey: idempotencyKeyOf(request),
        debitAccountId: body.debit_account_id,
        creditAccountId: body.credit_account_id,
        amountMinor: amountOf(body.amount),
        currency: currencyOf(body.currency),
        code: body.code,
        memo: body.memo,
      });
      return answer(reply, 'transfer', outcome);
    },
  );

  app.get(
    '/v1/transfers/:id',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['transfers'],
        summary: 'A transfer or hold',
        params: IdParams,
        response: { 200: TransferView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await ledger.getTransfer(callerOf(request), request.params.id);
      if (!result.ok) return sendError(reply, result.code);
      return transferJson(result.value);
    },
  );

  app.post(
    '/v1/holds',
    {
      config: { scope: 'holds:write' },
      schema: {
        tags: ['holds'],
        summary: 'Hold an amount until it is posted, voided or expires',
        description:
          'The amount stops being available on the debit account at once; nothing is posted yet.',
        headers: IdempotencyHeaders,
        body: CreateHoldBody,
        response: created,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const outcome = await ledger.transfer(callerOf(request), {
        kind: 'hold',
        idempotencyKey: idempotencyKeyOf(request),
        debitAccountId: body.debit_account_id,
        creditAccountId: body.credit_account_id,
        amountMinor: amountOf(body.amount),
        currency: currencyOf(body.currency),
        timeoutSeconds: body.timeout_seconds,
        code: body.code,
        memo: body.memo,
      });
      return answer(reply, 'hold', outcome);
    },
  );

  app.get(
    '/v1/holds/:id',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['holds'],
        summary: 'A hold and its status',
        params: IdParams,
        response: { 200: TransferView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await ledger.getTransfer(callerOf(request), request.params.id);
      if (!result.ok || result.value.kind !== 'hold') return sendError(reply, 'hold_not_found');
      return transferJson(result.value);
    },
  );

  app.post(
    '/v1/holds/:id/post',
    {
      config: { scope: 'holds:write' },
      schema: {
        tags: ['holds'],
        summary: 'Post a hold, in full or in part; the rest is released',
        headers: IdempotencyHeaders,
        params: IdParams,
        body: PostHoldBody,
        response: created,
      },
    },
    async (request, reply) => {
      const amount = request.body.amount;
      const outcome = await ledger.transfer(callerOf(request), {
        kind: 'post',
        idempotencyKey: idempotencyKeyOf(request),
        holdId: request.params.id,
        amountMinor: amount === undefined ? undefined : amountOf(amount),
      });
      return answer(reply, 'post', outcome);
    },
  );

  app.post(
    '/v1/holds/:id/void',
    {
      config: { scope: 'holds:write' },
      schema: {
        tags: ['holds'],
        summary: 'Void a hold: release all of it',
        headers: IdempotencyHeaders,
        params: IdParams,
        response: created,
      },
    },
    async (request, reply) => {
      const outcome = await ledger.transfer(callerOf(request), {
        kind: 'void',
        idempotencyKey: idempotencyKeyOf(request),
        holdId: request.params.id,
      });
      return answer(reply, 'void', outcome);
    },
  );
};
