// Bad input on every route, on every store: a NUL character, a lone UTF-16 surrogate and bytes
// that are not UTF-8, put in every string field the OpenAPI document describes (body fields,
// path parameters, query values), and the transport's own failures (unknown routes, wrong
// methods, long paths, bad percent-encoding, other media types, broken JSON). Every answer must
// be a 4xx in the documented shape with a listed code, and no table may gain or lose a row.

import { Socket } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allRefusals } from '../../src/adapters/http/errors.ts';
import { type ApiEnv, openApi } from '../support/http.ts';
import { describeEachStore } from '../support/stores.ts';

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}
interface Operation {
  parameters?: Array<{ in: string; name: string; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

/** The three kinds of text no store may be handed, as JSON escapes and as raw bytes. */
const badEscapes = { nul: 'a\\u0000b', surrogate: 'a\\ud800b', lowSurrogate: '\\udc00' };

/** Paths to every string in a schema, as key lists (`[]` marks an array item). */
function stringPaths(schema: Schema | undefined, prefix: string[] = [], depth = 0): string[][] {
  if (!schema || depth > 8) return [];
  const paths: string[][] = [];
  const types = ([] as string[]).concat(schema.type ?? []);
  if (types.includes('string')) paths.push(prefix);
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    paths.push(...stringPaths(child, [...prefix, name], depth + 1));
  }
  if (schema.items) paths.push(...stringPaths(schema.items, [...prefix, '[]'], depth + 1));
  for (const child of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) {
    paths.push(...stringPaths(child, prefix, depth + 1));
  }
  return paths;
}

/** JSON text with `raw` (already JSON-escaped) at `path`. */
function bodyWith(path: string[], raw: string): string {
  let text = `"${raw}"`;
  for (const key of [...path].reverse()) text = key === '[]' ? `[${text}]` : `{"${key}":${text}}`;
  return text;
}

function expectDocumentedRefusal(response: LightMyRequestResponse, label: string) {
  expect(response.statusCode, `${label}: ${response.body}`).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, `${label}: ${response.body}`).toBeLessThan(500);
  const body = response.json();
  expect(Object.keys(body), label).toEqual(['error']);
  expect(Object.keys(allRefusals), `${label}: ${response.body}`).toContain(body.error.code);
  expect(typeof body.error.message, label).toBe('string');
}

describeEachStore('malformed input', (kind) => {
  let api: ApiEnv;
  let operations: Array<{ method: string; path: string; operation: Operation }>;

  /** Rows in every table: what a refused request must leave as it was. */
  async function rowCounts(): Promise<Record<string, number>> {
    const { db } = api.env.store;
    const schema = api.env.postgresSchema;
    const tables = (await db.introspection.getTables()).filter(
      (table) => !schema || table.schema === schema,
    );
    expect(tables.length).toBeGreaterThan(10);
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const row = await sql<{
        n: string | number;
      }>`select count(*) as n from ${sql.table(table.name)}`.execute(db);
      counts[table.name] = Number(row.rows[0]?.n);
    }
    return counts;
  }

  beforeAll(async () => {
    api = await openApi(kind);
    const spec = (await api.call('GET', '/openapi.json', { key: null })).json();
    operations = [];
    for (const [path, methods] of Object.entries(spec.paths as Record<string, object>)) {
      for (const [method, operation] of Object.entries(methods as Record<string, Operation>)) {
        operations.push({ method: method.toUpperCase(), path, operation });
      }
    }
    expect(operations.length).toBeGreaterThan(40);
  });
  afterAll(() => api?.close());

  it('refuses NUL, lone surrogates and invalid UTF-8 in every body field of every route with 400 invalid_characters, storing nothing', async () => {
    const before = await rowCounts();
    let tried = 0;
    for (const { method, path, operation } of operations) {
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      if (!schema) continue;
      const url = path.replace(/\{[^}]+\}/g, 'x1');
      for (const field of stringPaths(schema)) {
        for (const [name, raw] of Object.entries(badEscapes)) {
          const response = await api.call(method as 'POST', url, {
            body: bodyWith(field, raw),
            idempotencyKey: `bad-${tried}`,
          });
          const label = `${method} ${path} ${field.join('.')} ${name}`;
          expectDocumentedRefusal(response, label);
          expect(response.json().error.code, label).toBe('invalid_characters');
          tried += 1;
        }
      }
      const notUtf8 = Buffer.concat([
        Buffer.from('{"name":"a'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}'),
      ]);
      const response = await api.app.inject({
        method: method as 'POST',
        url,
        headers: {
          authorization: `Bearer ${api.adminKey}`,
          'content-type': 'application/json',
          'idempotency-key': `utf8-${tried}`,
        },
        payload: notUtf8,
      });
      expectDocumentedRefusal(response, `${method} ${path} invalid UTF-8`);
      expect(response.json().error.code).toBe('invalid_characters');
    }
    expect(tried).toBeGreaterThan(100);
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses an otherwise valid request with NUL or a lone surrogate in a name, memo or id, on both stores alike', async () => {
    const opened = await api.call('POST', '/v1/accounts', {
      body: { name: 'cash', currency: 'USD', kind: 'asset' },
    });
    const wallet = await api.call('POST', '/v1/accounts', {
      body: { name: 'wallet', currency: 'USD', kind: 'liability' },
    });
    const [cash, walletId] = [opened.json().id, wallet.json().id];
    const before = await rowCounts();
    const requests: Array<[string, string, Record<string, unknown>]> = [
      ['POST', '/v1/accounts', { name: '<>', currency: 'USD', kind: 'asset' }],
      ['POST', '/v1/principals', { kind: 'retailer', name: '<>' }],
      [
        'POST',
        '/v1/transfers',
        {
          debit_account_id: cash,
          credit_account_id: walletId,
          amount: '5',
          currency: 'USD',
          memo: '<>',
        },
      ],
      ['POST', '/v1/carriers', { id: 'acme<>', name: 'Acme' }],
      ['POST', '/v1/carriers', { id: 'acme2', name: '<>' }],
    ];
    let n = 0;
    for (const [method, url, template] of requests) {
      for (const raw of Object.values(badEscapes)) {
        const body = JSON.stringify(template).replace('<>', raw);
        const response = await api.call(method as 'POST', url, {
          body,
          idempotencyKey: `v-${n++}`,
        });
        expectDocumentedRefusal(response, `${url} ${body}`);
        expect(response.json().error.code, `${url} ${body}`).toBe('invalid_characters');
      }
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses NUL and broken percent-encoding in every path parameter and query value', async () => {
    const before = await rowCounts();
    let tried = 0;
    for (const { method, path, operation } of operations) {
      const params = operation.parameters ?? [];
      const pathNames = params.filter((p) => p.in === 'path').map((p) => p.name);
      for (const target of pathNames) {
        for (const bad of ['a%00b', '%ED%A0%80', '%FF', 'x'.repeat(700)]) {
          const url = path.replace(/\{([^}]+)\}/g, (_all, name) => (name === target ? bad : 'x1'));
          const response = await api.call(method as 'GET', url, { idempotencyKey: `p-${tried}` });
          expectDocumentedRefusal(response, `${method} ${path} ${target}=${bad.slice(0, 12)}`);
          tried += 1;
        }
      }
      const url = path.replace(/\{[^}]+\}/g, 'x1');
      for (const query of params.filter((p) => p.in === 'query')) {
        for (const bad of ['a%00b', '%ED%A0%80', '%FF']) {
          const response = await api.call(method as 'GET', `${url}?${query.name}=${bad}`, {
            idempotencyKey: `q-${tried}`,
          });
          const label = `${method} ${path} ?${query.name}=${bad}`;
          tried += 1;
          if (bad === 'a%00b') {
            expectDocumentedRefusal(response, label);
            continue;
          }
          // A query value whose percent-encoding is not UTF-8 is kept as the literal text it
          // is (plain ASCII, storable anywhere); it may match nothing, but never fails.
          expect(response.statusCode, label).toBeLessThan(500);
          if (response.statusCode >= 400) expectDocumentedRefusal(response, label);
        }
      }
    }
    expect(tried).toBeGreaterThan(50);
    expect(await rowCounts()).toEqual(before);
  });

  it('answers transport failures in the documented shape: 404, 405 with Allow, 413, 414, 415, bad JSON, bad URL', async () => {
    const cases: Array<[string, Promise<LightMyRequestResponse>, number, string]> = [
      ['unknown route', api.call('GET', '/v1/no-such-thing'), 404, 'not_found'],
      ['wrong method', api.call('DELETE', '/v1/accounts'), 405, 'method_not_allowed'],
      [
        'long path segment',
        api.call('GET', `/v1/accounts/${'a'.repeat(2000)}`),
        414,
        'url_too_long',
      ],
      ['bad percent-encoding', api.call('GET', '/v1/accounts/%E0%A4%A'), 400, 'url_invalid'],
      [
        'text body',
        api.call('POST', '/v1/transfers', {
          body: 'hello',
          headers: { 'content-type': 'text/plain' },
          idempotencyKey: 't1',
        }),
        415,
        'unsupported_media_type',
      ],
      [
        'too large',
        api.call('POST', '/v1/transfers', {
          body: JSON.stringify({ memo: 'x'.repeat(100_000) }),
          idempotencyKey: 't2',
        }),
        413,
        'body_too_large',
      ],
      [
        'broken JSON',
        api.call('POST', '/v1/transfers', { body: '{"a":', idempotencyKey: 't3' }),
        400,
        'malformed_json',
      ],
      [
        'prototype poisoning',
        api.call('POST', '/v1/accounts', { body: '{"__proto__":{"admin":true}}' }),
        400,
        'malformed_json',
      ],
    ];
    for (const [label, pending, status, code] of cases) {
      const response = await pending;
      expectDocumentedRefusal(response, label);
      expect(response.statusCode, label).toBe(status);
      expect(response.json().error.code, label).toBe(code);
    }
    const wrongMethod = await api.call('DELETE', '/v1/accounts');
    expect(wrongMethod.headers.allow).toBe('GET, HEAD, POST');
  });

  it('answers a request Node cannot parse, on a real socket, in the documented shape', async () => {
    const address = await api.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(address);
    const answers: string[] = [];
    for (const raw of [
      'GET /v1/accounts HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n',
      'NOT A REQUEST\r\n\r\n',
    ]) {
      answers.push(
        await new Promise<string>((resolve, reject) => {
          const socket = new Socket();
          let text = '';
          const timer = setTimeout(() => {
            socket.destroy();
            reject(new Error('no answer within 5 s'));
          }, 5000);
          socket.on('data', (chunk) => {
            text += chunk.toString('latin1');
          });
          socket.on('close', () => {
            clearTimeout(timer);
            resolve(text);
          });
          socket.on('error', () => undefined);
          socket.connect(Number(port), '127.0.0.1', () => socket.write(raw, 'latin1'));
        }),
      );
    }
    for (const answer of answers) {
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      expect(body).toEqual({
        error: { code: 'http_malformed', message: allRefusals.http_malformed },
      });
    }
  });
});
