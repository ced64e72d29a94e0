// Health and metrics: public, cheap, and safe to scrape.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../../services.ts';

export const systemRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Liveness and database reachability',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok'), database: Type.String() }) },
      },
    },
    async () => {
      await services.store.ledgerReads.getAccount('health-check');
      return { status: 'ok' as const, database: services.store.dialect };
    },
  );
  app.get(
    '/metrics',
    {
      config: { public: true },
      schema: { tags: ['system'], summary: 'Prometheus metrics', security: [] },
    },
    async (_request, reply) => {
      const registry = app.metrics.registry;
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    },
  );
};

declare module 'fastify' {
  interface FastifyInstance {
    metrics: import('../metrics.ts').Metrics;
  }
}
