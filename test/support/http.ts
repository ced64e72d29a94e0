// An HTTP app over a test store, with an operator key and helpers to call it through inject().

import type { LightMyRequestResponse } from 'fastify';
import { type App, buildApp } from '../../src/adapters/http/app.ts';
import type { Caller } from '../../src/core/shared/principal.ts';
import { type Opened, openTestEnv, operator, type StoreKind } from './stores.ts';

export interface ApiEnv {
  readonly env: Opened;
  readonly app: App;
  readonly adminKey: string;
  call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    options?: {
      key?: string | null;
      body?: unknown;
      idempotencyKey?: string;
      headers?: Record<string, string>;
    },
  ): Promise<LightMyRequestResponse>;
  /** Creates a principal and returns its caller and a fresh API key. */
  principal(
    kind: 'retailer' | 'terminal' | 'distributor' | 'switch',
    name: string,
  ): Promise<{ caller: Caller; key: string }>;
  close(): Promise<void>;
}

export async function openApi(kind: StoreKind): Promise<ApiEnv> {
  const env = await openTestEnv(kind);
  const issued = await env.principals.issueKey(operator, { principalId: 'system' });
  if (!issued.ok) throw new Error(issued.code);
  const app = await buildApp({ services: env });
  const adminKey = issued.value.secret;
  return {
    env,
    app,
    adminKey,
    call(method, url, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const key = options.key === undefined ? adminKey : options.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
      const payload =
        options.body === undefined
          ? undefined
          : typeof options.body === 'string'
            ? options.body
            : JSON.stringify(options.body);
      if (payload !== undefined && !headers['content-type'])
        headers['content-type'] = 'application/json';
      return app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
    },
    async principal(kind, name) {
      const created = await env.principals.create(operator, { kind, name });
      if (!created.ok) throw new Error(created.code);
      const key = await env.principals.issueKey(operator, { principalId: created.value.id });
      if (!key.ok) throw new Error(key.code);
      return {
        caller: { principal: created.value, scopes: key.value.record.scopes },
        key: key.value.secret,
      };
    },
    async close() {
      await app.close();
      await env.close();
    },
  };
}
