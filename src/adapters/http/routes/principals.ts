// Principals and their API keys. Operators create distributors, retailers, terminals, switches
// and providers, and issue keys for them; a key is returned once and only its hash is kept.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../../services.ts';
import { callerOf, sendError } from '../reply.ts';
import {
  CreateKeyBody,
  CreatePrincipalBody,
  errorResponses,
  IdParams,
  IssuedKeyView,
  PrincipalView,
} from '../schemas.ts';
import { iso, principalJson } from '../views.ts';

const errors = errorResponses;

export const principalRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { principals } = services;

  app.post(
    '/v1/principals',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['principals'],
        summary: 'Create a principal',
        body: CreatePrincipalBody,
        response: { 201: PrincipalView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await principals.create(callerOf(request), {
        kind: request.body.kind,
        name: request.body.name,
        parentId: request.body.parent_id,
      });
      if (!result.ok) return sendError(reply, result.code);
      return reply.status(201).send(principalJson(result.value));
    },
  );

  app.get(
    '/v1/principals',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['principals'],
        summary: 'Principals you can see',
        response: { 200: Type.Object({ items: Type.Array(PrincipalView) }), ...errors },
      },
    },
    async (request) => {
      const items = await principals.list(callerOf(request), { limit: 500 });
      return { items: items.map(principalJson) };
    },
  );

  app.get(
    '/v1/principals/:id',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['principals'],
        summary: 'A principal',
        params: IdParams,
        response: { 200: PrincipalView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await principals.get(callerOf(request), request.params.id);
      if (!result.ok) return sendError(reply, result.code);
      return principalJson(result.value);
    },
  );

  app.post(
    '/v1/principals/:id/keys',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['principals'],
        summary: 'Issue an API key for a principal (shown once)',
        params: IdParams,
        body: CreateKeyBody,
        response: { 201: IssuedKeyView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await principals.issueKey(callerOf(request), {
        principalId: request.params.id,
        scopes: request.body.scopes,
      });
      if (!result.ok) return sendError(reply, result.code);
      const { record, secret } = result.value;
      return reply.status(201).send({
        id: record.id,
        principal_id: record.principalId,
        scopes: [...record.scopes],
        key: secret,
        created_at: iso(record.createdAtMs),
      });
    },
  );

  app.post(
    '/v1/keys/:id/revoke',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['principals'],
        summary: 'Revoke an API key',
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const result = await principals.revokeKey(callerOf(request), request.params.id);
      if (!result.ok) return sendError(reply, result.code);
      return reply.status(204).send(null);
    },
  );
};
