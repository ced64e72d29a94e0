// Tenant isolation on every money-moving route: each principal kind names another tenant's
// account, a system account or a missing id, on the debit side and on the credit side. None
// may get a 2xx, nothing may change, and another tenant's object must get exactly the answer a
// missing one gets, so no refusal tells an outsider which ids exist.

import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PrincipalKind } from '../../src/core/shared/principal.ts';
import { fundAni, sellCallingCard, setUpCharging } from '../support/charging.ts';
import { type ApiEnv, openApi } from '../support/http.ts';
import { describeEachStore, operator } from '../support/stores.ts';

const missingAccount = 'acc_0000000000000000000000';
const missingHold = 'hld_0000000000000000000000';

interface Tenant {
  readonly kind: Exclude<PrincipalKind, 'operator'>;
  readonly id: string;
  readonly key: string;
  /** An account it owns, funded. */
  readonly own: string;
}

/** What a client can tell from an answer: status and error body. */
function answerOf(response: LightMyRequestResponse) {
  return { status: response.statusCode, body: response.json() };
}

describeEachStore('tenant isolation', (kind) => {
  let api: ApiEnv;
  let cash: string;
  let system: string;
  const tenants: Tenant[] = [];
  /** The accounts of a tenant none of the callers is related to. */
  let strangerFloat: string;
  let operatorHold: string;
  /** A sale by a retailer none of the callers is, and a live call of a switch none of them is. */
  let strangerSale: string;
  const strangerCall = 'call-of-another-switch';
  let counter = 0;
  const key = () => `iso-${++counter}`;

  async function account(ownerId: string, name: string): Promise<string> {
    const opened = await api.call('POST', '/v1/accounts', {
      body: {
        name,
        currency: 'USD',
        kind: 'liability',
        owner_id: ownerId,
        flags: ['debits_must_not_exceed_credits'],
      },
    });
    expect(opened.statusCode, opened.body).toBe(201);
    const id = opened.json().id as string;
    const funded = await api.call('POST', '/v1/transfers', {
      idempotencyKey: `fund-${id}`,
      body: { debit_account_id: cash, credit_account_id: id, amount: '1000', currency: 'USD' },
    });
    expect(funded.statusCode, funded.body).toBe(201);
    return id;
  }

  async function tenant(
    kind: Tenant['kind'],
    parentId?: string,
  ): Promise<{ id: string; key: string }> {
    const created = await api.env.principals.create(operator, {
      kind,
      name: `${kind} ${counter}`,
      parentId,
    });
    if (!created.ok) throw new Error(created.code);
    const issued = await api.env.principals.issueKey(operator, { principalId: created.value.id });
    if (!issued.ok) throw new Error(issued.code);
    return { id: created.value.id, key: issued.value.secret };
  }

  /** Every account's posted and held balance, as the operator sees them. */
  async function snapshot(): Promise<string> {
    const listed = await api.call('GET', '/v1/accounts?limit=200');
    expect(listed.statusCode).toBe(200);
    const rows = (listed.json().items as Array<{ id: string; balance: unknown }>).map(
      (a) => `${a.id} ${JSON.stringify(a.balance)}`,
    );
    return rows.sort().join('\n');
  }

  beforeAll(async () => {
    api = await openApi(kind);
    await setUpCharging(api.env);
    const opened = await api.call('POST', '/v1/accounts', {
      body: { name: 'cash', currency: 'USD', kind: 'asset' },
    });
    cash = opened.json().id;
    system = await account('system', 'operator revenue');
    const distributor = await tenant('distributor');
    const retailer = await tenant('retailer', distributor.id);
    const terminal = await tenant('terminal', retailer.id);
    const switchTenant = await tenant('switch');
    const provider = await tenant('provider');
    const stranger = await tenant('retailer');
    strangerFloat = await account(stranger.id, 'stranger float');
    for (const [kind, t] of [
      ['distributor', distributor],
      ['retailer', retailer],
      ['terminal', terminal],
      ['switch', switchTenant],
      ['provider', provider],
    ] as const) {
      tenants.push({ kind, id: t.id, key: t.key, own: await account(t.id, `${kind} own`) });
    }
    const hold = await api.call('POST', '/v1/holds', {
      idempotencyKey: 'operator-hold',
      body: {
        debit_account_id: strangerFloat,
        credit_account_id: system,
        amount: '10',
        currency: 'USD',
        timeout_seconds: 3600,
      },
    });
    expect(hold.statusCode, hold.body).toBe(201);
    operatorHold = hold.json().id;
    strangerSale = (await sellCallingCard(api.env, 500n)).saleId;
    const otherSwitch = await tenant('switch');
    await fundAni(api.env, '15550100', 1000n);
    const call = await api.call('POST', '/v1/charging/initiate', {
      key: otherSwitch.key,
      body: {
        session_id: strangerCall,
        subscriber: { ani: '15550100' },
        destination: '+12125550100',
      },
    });
    expect(call.statusCode, call.body).toBe(200);
  });
  afterAll(() => api?.close());

  it('answers another tenant’s or a system account on either side of a transfer or hold as a missing one, and moves nothing', async () => {
    const before = await snapshot();
    for (const t of tenants) {
      for (const route of ['/v1/transfers', '/v1/holds'] as const) {
        const send = (debit: string, credit: string) =>
          api.call('POST', route, {
            key: t.key,
            idempotencyKey: key(),
            body: {
              debit_account_id: debit,
              credit_account_id: credit,
              amount: '5',
              currency: 'USD',
              ...(route === '/v1/holds' ? { timeout_seconds: 60 } : {}),
            },
          });
        const creditMissing = answerOf(await send(t.own, missingAccount));
        const debitMissing = answerOf(await send(missingAccount, t.own));
        for (const answer of [creditMissing, debitMissing]) {
          expect(answer.status, `${t.kind} ${route}`).toBeGreaterThanOrEqual(400);
        }
        for (const other of [strangerFloat, system]) {
          const label = `${t.kind} ${route} naming ${other === system ? 'a system' : "another tenant's"} account`;
          expect(answerOf(await send(t.own, other)), `${label} as credit`).toEqual(creditMissing);
          expect(answerOf(await send(other, t.own)), `${label} as debit`).toEqual(debitMissing);
        }
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it('lets a non-operator pay only into its own accounts and its parent’s', async () => {
    const distributor = tenants.find((t) => t.kind === 'distributor')!;
    const retailer = tenants.find((t) => t.kind === 'retailer')!;
    const pay = (from: Tenant, credit: string) =>
      api.call('POST', '/v1/transfers', {
        key: from.key,
        idempotencyKey: key(),
        body: {
          debit_account_id: from.own,
          credit_account_id: credit,
          amount: '1',
          currency: 'USD',
        },
      });
    expect((await pay(retailer, distributor.own)).statusCode).toBe(201);
    // A distributor does not push money into its retailers' floats by a plain transfer: float
    // deposits are the operator's use case.
    expect((await pay(distributor, retailer.own)).json().error.code).toBe(
      'credit_account_not_found',
    );
  });

  it('answers another principal’s hold as a missing hold when posting or voiding it', async () => {
    const before = await snapshot();
    for (const t of tenants) {
      for (const verb of ['post', 'void'] as const) {
        const send = (holdId: string) =>
          api.call('POST', `/v1/holds/${holdId}/${verb}`, {
            key: t.key,
            idempotencyKey: key(),
            ...(verb === 'post' ? { body: { amount: '1' } } : {}),
          });
        const missing = answerOf(await send(missingHold));
        expect(missing.status).toBeGreaterThanOrEqual(400);
        expect(answerOf(await send(operatorHold)), `${t.kind} ${verb}`).toEqual(missing);
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it('answers a deposit into another tenant’s float, a void of another seller’s sale and a call on another switch’s session as missing ones', async () => {
    const before = await snapshot();
    for (const t of tenants) {
      const deposit = (accountId: string) =>
        api.call('POST', `/v1/floats/${accountId}/deposits`, {
          key: t.key,
          idempotencyKey: key(),
          body: { amount: '5', currency: 'USD' },
        });
      expect(answerOf(await deposit(strangerFloat)), `${t.kind} deposit`).toEqual(
        answerOf(await deposit(missingAccount)),
      );
      const voidSale = (saleId: string) =>
        api.call('POST', `/v1/sales/${saleId}/void`, { key: t.key, idempotencyKey: key() });
      expect(answerOf(await voidSale(strangerSale)), `${t.kind} sale void`).toEqual(
        answerOf(await voidSale('sal_0000000000000000000000')),
      );
      for (const route of ['/v1/charging/update', '/v1/charging/terminate']) {
        const send = (sessionId: string) =>
          api.call('POST', route, {
            key: t.key,
            body: { session_id: sessionId, request_number: 1, used_seconds: 1 },
          });
        expect(answerOf(await send(strangerCall)), `${t.kind} ${route}`).toEqual(
          answerOf(await send('no-such-call')),
        );
      }
    }
    expect(await snapshot()).toBe(before);
  });
});
