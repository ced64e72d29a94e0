// Accounts: open, read, list, freeze/unfreeze/close, and history.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { systemPrincipal } from '../../../core/shared/principal.ts';
import type { Services } from '../../../services.ts';
import { callerOf, sendError } from '../reply.ts';
import { amountOf, currencyOf, limitOf } from '../request-parsing.ts';
import {
  AccountStatusBody,
  AccountsQuery,
  AccountView,
  CreateAccountBody,
  errorResponses,
  HistoryEntryView,
  IdParams,
  PageQuery,
} from '../schemas.ts';
import { accountJson, transferJson } from '../views.ts';

const errors = errorResponses;

export const accountRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { ledger } = services;

  app.post(
    '/v1/accounts',
    {
      config: { scope: 'accounts:write' },
      schema: {
        tags: ['accounts'],
        summary: 'Open an account',
        description:
          'Operators open accounts for any principal; owner_id defaults to the system principal.',
        body: CreateAccountBody,
        response: { 201: AccountView, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await ledger.createAccount(callerOf(request), {
        ownerId: body.owner_id ?? systemPrincipal.id,
        name: body.name,
        currency: currencyOf(body.currency),
        kind: body.kind,
        flags: body.flags ?? [],
        creditLimitMinor: body.credit_limit === undefined ? 0n : amountOf(body.credit_limit),
      });
      if (!result.ok) return sendError(reply, result.code);
      return reply.status(201).send(accountJson(result.value));
    },
  );

  app.get(
    '/v1/accounts',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['accounts'],
        summary: 'List accounts you can see',
        querystring: AccountsQuery,
        response: {
          200: Type.Object({
            items: Type.Array(AccountView),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const page = await ledger.listAccounts(callerOf(request), {
        ownerId: request.query.owner_id,
        cursor: request.query.cursor,
        limit: limitOf(request.query.limit),
      });
      return { items: page.items.map(accountJson), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/accounts/:id',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['accounts'],
        summary: 'An account with its balance',
        params: IdParams,
        response: { 200: AccountView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await ledger.getAccount(callerOf(request), request.params.id);
      if (!result.ok) return sendError(reply, result.code);
      return accountJson(result.value);
    },
  );

  app.get(
    '/v1/accounts/:id/balance',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['accounts'],
        summary: 'Posted, held and available balance',
        params: IdParams,
        response: {
          200: Type.Object({
            account_id: Type.String(),
            currency: Type.String(),
            ...AccountView.properties.balance.properties,
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const result = await ledger.getAccount(callerOf(request), request.params.id);
      if (!result.ok) return sendError(reply, result.code);
      const view = accountJson(result.value);
      return { account_id: view.id, currency: view.currency, ...view.balance };
    },
  );

  app.post(
    '/v1/accounts/:id/status',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['accounts'],
        summary: 'Freeze, unfreeze (open) or close an account',
        params: IdParams,
        body: AccountStatusBody,
        response: { 200: AccountView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await ledger.setAccountStatus(
        callerOf(request),
        request.params.id,
        request.body.status,
      );
      if (!result.ok) return sendError(reply, result.code);
      return accountJson(result.value);
    },
  );

  app.get(
    '/v1/accounts/:id/transfers',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['accounts'],
        summary: "An account's transfers, newest first",
        params: IdParams,
        querystring: PageQuery,
        response: {
          200: Type.Object({
            items: Type.Array(HistoryEntryView),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const result = await ledger.history(callerOf(request), request.params.id, {
        cursor: request.query.cursor,
        limit: limitOf(request.query.limit),
      });
      if (!result.ok) return sendError(reply, result.code);
      return {
        items: result.value.items.map((entry) => ({
          side: entry.side,
          transfer: transferJson(entry.transfer),
        })),
        next_cursor: result.value.nextCursor,
      };
    },
  );
};
