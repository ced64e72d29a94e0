// Charging over HTTP, as a switch sees it: authorize, a whole call in slices, replays, the CDR as
// JSON and CSV, the account report, low-balance thresholds with a signed webhook to a real local
// receiver, and bad requests that get a clear 4xx and change nothing.

import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { httpEventSender } from '../../src/adapters/webhooks/http-event-sender.ts';
import { balanceOfAccount, fundAni, setUpCharging } from '../support/charging.ts';
import { type ApiEnv, openApi } from '../support/http.ts';
import { startReceiver } from '../support/receiver.ts';
import { describeEachStore } from '../support/stores.ts';

const us = '+12125550100';

describeEachStore('charging API', (kind) => {
  let api: ApiEnv;
  let switchKey: string;
  let otherSwitchKey: string;
  let accountId: string;

  beforeAll(async () => {
    api = await openApi(kind);
    Object.assign(api.env.charging.settings, { sliceSeconds: 60, graceSeconds: 10 });
    await setUpCharging(api.env);
    switchKey = (await api.principal('switch', 'Kamailio A')).key;
    otherSwitchKey = (await api.principal('switch', 'Kamailio B')).key;
    accountId = await fundAni(api.env, '15550100', 1000n);
  });
  afterAll(async () => {
    await api?.close();
  });

  const post = (url: string, body: unknown, key = switchKey) =>
    api.call('POST', url, { key, body });

  it('authorizes a call with carrier, rate and maximum seconds, or says why not', async () => {
    const allowed = await post('/v1/charging/authorize', {
      subscriber: { ani: '15550100' },
      destination: us,
    });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toMatchObject({
      allowed: true,
      carrier_id: 'acme',
      destination_name: 'North America',
      available: '1000',
      max_seconds: 990,
      rate: { terms: { connect_fee: '0.1', price_per_minute: '0.6' } },
    });
    const denied = await post('/v1/charging/authorize', {
      subscriber: { ani: '15559999' },
      destination: us,
    });
    expect(denied.statusCode).toBe(200);
    expect(denied.json()).toMatchObject({ allowed: false, reason: 'unknown_account' });
    const barred = await post('/v1/charging/authorize', {
      subscriber: { ani: '15550100' },
      destination: '+19005551234',
    });
    expect(barred.json()).toMatchObject({ allowed: false, reason: 'destination_not_allowed' });
  });

  it('runs a whole call: initiate, update, terminate, replays, then the CDR as JSON and CSV', async () => {
    const initiate = {
      session_id: 'call-1@switch-a',
      subscriber: { ani: '15550100' },
      caller: '15550100',
      destination: us,
    };
    const first = await post('/v1/charging/initiate', initiate);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      granted_seconds: 60,
      final_unit: false,
      charged: '0',
      replayed: false,
      request_type: 'initial',
    });
    expect((await post('/v1/charging/initiate', initiate)).json()).toMatchObject({
      replayed: true,
    });
    api.env.clock.advanceMs(60_000);
    const update = { session_id: 'call-1@switch-a', request_number: 1, used_seconds: 60 };
    const updated = await post('/v1/charging/update', update);
    expect(updated.json()).toMatchObject({ granted_seconds: 60, used_seconds: 60, charged: '70' });
    expect((await post('/v1/charging/update', update)).json()).toEqual(updated.json());
    const conflict = await post('/v1/charging/update', { ...update, used_seconds: 59 });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error.code).toBe('request_conflict');
    api.env.clock.advanceMs(15_000);
    const end = await post('/v1/charging/terminate', {
      session_id: 'call-1@switch-a',
      request_number: 2,
      used_seconds: 15,
      reason: 'caller_hangup',
    });
    expect(end.json()).toMatchObject({ used_seconds: 75, charged: '85', granted_seconds: 0 });
    expect((await balanceOfAccount(api.env, accountId)).postedMinor).toBe(1000n - 85n);

    const session = await api.call(
      'GET',
      `/v1/charging/sessions/${encodeURIComponent('call-1@switch-a')}`,
      {
        key: switchKey,
      },
    );
    expect(session.json()).toMatchObject({ status: 'terminated', reason: 'caller_hangup' });
    const cdrs = await api.call('GET', '/v1/cdrs', { key: switchKey });
    expect(cdrs.json().items).toEqual([
      expect.objectContaining({
        id: end.json().cdr_id,
        session_id: 'call-1@switch-a',
        subscriber: 'ani:15550100',
        destination: us,
        billed_seconds: 75,
        cost: '85',
        reason: 'caller_hangup',
      }),
    ]);
    const csv = await api.call('GET', '/v1/cdrs?format=csv', { key: switchKey });
    expect(csv.headers['content-type']).toContain('text/csv');
    const [header, row] = csv.body.trim().split('\n');
    expect(header).toContain('billed_seconds');
    expect(header).toContain('price_per_minute');
    expect(row).toContain('call-1@switch-a');
    expect(row).toContain(',85,');
    // Another switch sees neither the session nor its CDR.
    const foreign = await api.call('GET', '/v1/cdrs', { key: otherSwitchKey });
    expect(foreign.json().items).toEqual([]);
    const hidden = await api.call('GET', `/v1/cdrs/${end.json().cdr_id}`, { key: otherSwitchKey });
    expect(hidden.statusCode).toBe(404);
    const foreignUpdate = await post(
      '/v1/charging/update',
      { session_id: 'call-1@switch-a', request_number: 9, used_seconds: 1 },
      otherSwitchKey,
    );
    expect(foreignUpdate.json().error.code).toBe('session_not_found');
  });

  it('answers bad requests with a 4xx and a stable code, and changes nothing', async () => {
    const before = await balanceOfAccount(api.env, accountId);
    const cases: Array<[string, unknown, number, string]> = [
      [
        '/v1/charging/initiate',
        { session_id: 'bad-1', subscriber: {}, destination: us },
        400,
        'invalid_request',
      ],
      [
        '/v1/charging/initiate',
        { session_id: 'bad-2', subscriber: { ani: '15550100', pin: '1234' }, destination: us },
        400,
        'invalid_request',
      ],
      [
        '/v1/charging/initiate',
        { session_id: 'bad-3', subscriber: { ani: '15550100' }, destination: 'x' },
        400,
        'invalid_request',
      ],
      [
        '/v1/charging/initiate',
        {
          session_id: 'bad-4',
          subscriber: { ani: '15550100' },
          destination: us,
          callback_url: 'ftp://example',
        },
        400,
        'callback_url_invalid',
      ],
      [
        '/v1/charging/initiate',
        { session_id: 'bad-5', subscriber: { pin: '12' }, destination: us },
        400,
        'pin_malformed',
      ],
      [
        '/v1/charging/update',
        { session_id: 'nope', request_number: 1, used_seconds: -1 },
        400,
        'invalid_request',
      ],
      [
        '/v1/charging/update',
        { session_id: 'nope', request_number: 1, used_seconds: 1.5 },
        400,
        'invalid_request',
      ],
      [
        '/v1/charging/update',
        { session_id: 'nope', request_number: 1, used_seconds: 1 },
        404,
        'session_not_found',
      ],
      [
        '/v1/charging/terminate',
        { session_id: 'nope', request_number: 1, used_seconds: 1, extra: true },
        400,
        'invalid_request',
      ],
      [
        '/v1/charging/initiate',
        { session_id: 'poor-1', subscriber: { ani: '15550101' }, destination: us },
        422,
        'unknown_account',
      ],
    ];
    for (const [url, body, status, code] of cases) {
      const response = await post(url, body);
      expect([url, response.statusCode, response.json().error?.code]).toEqual([url, status, code]);
    }
    const noScope = await api.call('POST', '/v1/charging/initiate', {
      key: (await api.principal('retailer', 'Shop')).key,
      body: { session_id: 'r-1', subscriber: { ani: '15550100' }, destination: us },
    });
    expect(noScope.statusCode).toBe(403);
    // With TOLLGATE_CALLBACK_HOSTS set, a callback elsewhere is a 422 and no call starts.
    Object.assign(api.env.charging.settings, { callbackHosts: ['switch-a.example'] });
    try {
      const elsewhere = await post('/v1/charging/initiate', {
        session_id: 'bad-host',
        subscriber: { ani: '15550100' },
        destination: us,
        callback_url: 'http://169.254.169.254/latest/meta-data',
      });
      expect([elsewhere.statusCode, elsewhere.json().error.code]).toEqual([
        422,
        'callback_url_not_allowed',
      ]);
    } finally {
      Object.assign(api.env.charging.settings, { callbackHosts: null });
    }
    expect(await balanceOfAccount(api.env, accountId)).toEqual(before);
  });

  it('reads an account report as the IVR would, with the PIN or number in the body', async () => {
    const report = await post('/v1/charging/report', {
      subscriber: { ani: '15550100' },
      destination: us,
    });
    expect(report.statusCode).toBe(200);
    expect(report.json()).toMatchObject({
      balance: '915',
      destination: { destination_name: 'North America', max_seconds: 905, max_minutes: 15 },
      recent_calls: [expect.objectContaining({ cost: '85' })],
      recent_credits: [expect.objectContaining({ amount: '1000' })],
    });
  });

  it('sets a low-balance threshold and delivers one signed webhook when a call crosses it', async () => {
    const receiver = await startReceiver();
    const { received } = receiver;
    try {
      const url = `${receiver.base}/hooks/low`;
      const set = await api.call('PUT', `/v1/accounts/${accountId}/low-balance`, {
        body: { threshold: '900', url },
      });
      expect(set.json()).toMatchObject({ threshold: '900', armed: true });
      expect((await api.call('GET', `/v1/accounts/${accountId}/low-balance`)).statusCode).toBe(200);
      const bad = await api.call('PUT', `/v1/accounts/${accountId}/low-balance`, {
        body: { threshold: '-5', url },
      });
      expect(bad.statusCode).toBe(400);
      await post('/v1/charging/initiate', {
        session_id: 'low-1',
        subscriber: { ani: '15550100' },
        destination: us,
      });
      await post('/v1/charging/terminate', {
        session_id: 'low-1',
        request_number: 1,
        used_seconds: 20,
      });
      const delivered = await api.env.charging.deliverOutbox(httpEventSender({ secret: 's3cret' }));
      expect(delivered).toBe(1);
      expect(received).toHaveLength(1);
      const [hook] = received;
      expect(hook!.headers['x-tollgate-event']).toBe('balance.low');
      const signature = createHmac('sha256', 's3cret').update(hook!.body).digest('hex');
      expect(hook!.headers['x-tollgate-signature']).toBe(`sha256=${signature}`);
      expect(JSON.parse(hook!.body)).toMatchObject({
        type: 'balance.low',
        data: { account_id: accountId, balance: '885', threshold: '900' },
      });
      // The subscriber sets its own threshold through the switch, by caller number.
      const own = await api.call('PUT', '/v1/charging/low-balance', {
        key: switchKey,
        body: { subscriber: { ani: '15550100' }, threshold: '500', url },
      });
      expect(own.json()).toMatchObject({ account_id: accountId, threshold: '500', armed: true });
      const stranger = await api.call('PUT', '/v1/charging/low-balance', {
        key: switchKey,
        body: { subscriber: { ani: '15559999' }, threshold: '500', url },
      });
      expect(stranger.json().error.code).toBe('unknown_account');
      expect((await api.call('DELETE', `/v1/accounts/${accountId}/low-balance`)).statusCode).toBe(
        204,
      );
      expect((await api.call('GET', `/v1/accounts/${accountId}/low-balance`)).statusCode).toBe(404);
    } finally {
      await receiver.close();
    }
  });
});
