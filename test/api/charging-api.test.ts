// Charging over HTTP, as a switch sees it: authorize, a whole call in slices, replays, the CDR as
// JSON and CSV, the account report, low-balance thresholds with a signed webhook to a real local
// receiver, callback URLs the server will not call (refused when given, or when sent after their
// name rebinds), and bad requests that get a clear 4xx and change nothing.

import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Resolver } from '../../src/adapters/webhooks/callback-target.ts';
import { httpEventSender, postPinned } from '../../src/adapters/webhooks/http-event-sender.ts';
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
    // A refusal has one shape on every route: the code, its RFC 4006 Result-Code and the SIP
    // reply a proxy answers the call with.
    expect(denied.statusCode).toBe(422);
    expect(denied.json().error).toMatchObject({
      code: 'unknown_account',
      result_code: 5030,
      sip_status: 403,
    });
    const barred = await post('/v1/charging/authorize', {
      subscriber: { ani: '15550100' },
      destination: '+19005551234',
    });
    expect(barred.json().error).toMatchObject({
      code: 'destination_not_allowed',
      result_code: 4010,
      sip_status: 403,
    });
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
    // A callback the server will not call is a 422 and no call starts: beyond loopback while
    // TOLLGATE_CALLBACK_HOSTS is unset, elsewhere than the list when it is set, and the
    // metadata service whatever it says.
    const callbackTo = (sessionId: string, url: string) =>
      post('/v1/charging/initiate', {
        session_id: sessionId,
        subscriber: { ani: '15550100' },
        destination: us,
        callback_url: url,
      });
    const refusedHosts: Array<[hosts: string[], url: string]> = [
      [[], 'http://10.0.0.1/hangup'],
      [[], 'http://switch-a.example/hangup'],
      [['switch-a.example'], 'http://switch-b.example/hangup'],
      [['switch-a.example'], 'http://127.0.0.1:9000/hangup'],
      [['*'], 'http://169.254.169.254/latest/meta-data'],
      [['*'], 'http://[::ffff:169.254.169.254]/latest/meta-data'],
    ];
    try {
      for (const [hosts, url] of refusedHosts) {
        Object.assign(api.env.charging.settings, { callbackHosts: hosts });
        const refused = await callbackTo('bad-host', url);
        expect([url, refused.statusCode, refused.json().error.code]).toEqual([
          url,
          422,
          'callback_url_not_allowed',
        ]);
      }
    } finally {
      Object.assign(api.env.charging.settings, { callbackHosts: [] });
    }
    expect((await api.call('GET', '/v1/charging/sessions/bad-host')).statusCode).toBe(404);
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
      const delivered = await api.env.charging.deliverOutbox(
        httpEventSender({ secret: 's3cret', rules: () => api.env.charging.callbackRules() }),
      );
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

  it('refuses at send time a webhook whose name rebinds to the metadata service, unsent', async () => {
    // The URL names localhost, which the loopback-only default accepts when it is given. The
    // stub resolver answers 127.0.0.2 (where the receiver is) for the first event and then the
    // metadata service: the second event fails at once, and nothing is asked to connect to it.
    const receiver = await startReceiver(() => 204, '127.0.0.2');
    const answers = [['127.0.0.2'], ['169.254.169.254']];
    const resolve: Resolver = async () => answers.shift() ?? [];
    const connections: string[][] = [];
    const send = httpEventSender({
      rules: () => api.env.charging.callbackRules(),
      resolve,
      post: async (request) => {
        connections.push([...request.addresses]);
        // Never a connection beyond loopback, even when the code under test is broken.
        if (!request.addresses.every((address) => address.startsWith('127.'))) return 599;
        return postPinned(request);
      },
    });
    const url = `http://localhost:${receiver.port}/hooks/rebind`;
    try {
      for (const ani of ['15550200', '15550201']) {
        const account = await fundAni(api.env, ani, 1000n);
        const set = await api.call('PUT', `/v1/accounts/${account}/low-balance`, {
          body: { threshold: '990', url },
        });
        expect(set.statusCode).toBe(200);
        await post('/v1/charging/initiate', {
          session_id: `rebind-${ani}`,
          subscriber: { ani },
          destination: us,
        });
        await post('/v1/charging/terminate', {
          session_id: `rebind-${ani}`,
          request_number: 1,
          used_seconds: 20,
        }); // 1000 - 30: under 990
        await api.env.charging.deliverOutbox(send);
      }
      expect(connections).toEqual([['127.0.0.2']]);
      expect(receiver.received.map((r) => r.url)).toEqual(['/hooks/rebind']);
      const events = (await api.env.charging.listOutbox({ topic: 'balance.low', limit: 100 }))
        .filter((event) => event.url === url)
        .map((event) => [event.status, event.attempts, event.lastError]);
      expect(events).toEqual(
        expect.arrayContaining([
          ['delivered', 1, null],
          ['failed', 1, expect.stringMatching(/169\.254\.169\.254 is a cloud metadata address/)],
        ]),
      );
      expect(events).toHaveLength(2);
    } finally {
      await receiver.close();
    }
  });

  it('bills a call initiated ringing from its answer, with epoch seconds for scripts', async () => {
    await fundAni(api.env, '15550300', 1000n);
    const callId = `${'a'.repeat(500)}@proxy`;
    const ringing = await post('/v1/charging/initiate', {
      session_id: callId,
      subscriber: { ani: '15550300' },
      destination: us,
      answered: false,
    });
    expect(ringing.statusCode, ringing.body).toBe(200);
    const startMs = api.env.clock.nowMs();
    expect(ringing.json()).toMatchObject({
      granted_seconds: 60,
      valid_until: null,
      valid_until_epoch: null,
      answered_at: null,
      supervision_deadline_epoch: Math.floor(startMs / 1000) + 310,
    });
    api.env.clock.advanceMs(15_000);
    const answered = await post('/v1/charging/update', { session_id: callId, answered: true });
    expect(answered.statusCode, answered.body).toBe(200);
    const answerMs = api.env.clock.nowMs();
    expect(answered.json()).toMatchObject({
      request_number: 1,
      charged: '0',
      answered_at: new Date(answerMs).toISOString(),
      valid_until: new Date(answerMs + 60_000).toISOString(),
      valid_until_epoch: Math.floor(answerMs / 1000) + 60,
      supervision_deadline_epoch: Math.floor(answerMs / 1000) + 70,
    });
    api.env.clock.advanceMs(5_000);
    const end = await post('/v1/charging/terminate', { session_id: callId, used_seconds_total: 5 });
    expect(end.json()).toMatchObject({ used_seconds: 5, charged: '15' });
    // The long Call-ID works in a path too, percent-encoded.
    const shown = await api.call('GET', `/v1/charging/sessions/${encodeURIComponent(callId)}`, {
      key: switchKey,
    });
    expect(shown.statusCode, shown.body).toBe(200);
    expect(shown.json()).toMatchObject({ used_seconds: 5, status: 'terminated' });
    const cdr = await api.call('GET', `/v1/cdrs/${end.json().cdr_id}`, { key: switchKey });
    expect(cdr.json()).toMatchObject({
      answered_at: new Date(answerMs).toISOString(),
      billed_seconds: 5,
      cost: '15',
    });
    const reused = await post('/v1/charging/initiate', {
      session_id: callId,
      subscriber: { ani: '15550300' },
      destination: us,
    });
    expect(reused.statusCode).toBe(409);
    expect(reused.json().error).toMatchObject({ code: 'session_closed', sip_status: 400 });
    const tooLong = await post('/v1/charging/initiate', {
      session_id: 'x'.repeat(513),
      subscriber: { ani: '15550300' },
      destination: us,
    });
    expect(tooLong.json().error.code).toBe('invalid_request');
  });

  it('lets an operator end a live call through the API, and a late terminate reconciles it once', async () => {
    const accountId = await fundAni(api.env, '15550301', 1000n);
    await post('/v1/charging/initiate', {
      session_id: 'cut@proxy',
      subscriber: { ani: '15550301' },
      destination: us,
    });
    api.env.clock.advanceMs(30_000);
    const refusedToOther = await api.call('POST', '/v1/charging/sessions/cut@proxy/disconnect', {
      key: otherSwitchKey,
    });
    expect(refusedToOther.statusCode).toBe(404);
    const session = (
      await api.call('GET', '/v1/charging/sessions/cut@proxy', { key: switchKey })
    ).json();
    const cut = await api.call('POST', `/v1/charging/sessions/${session.id}/disconnect`);
    expect(cut.statusCode, cut.body).toBe(200);
    expect(cut.json()).toMatchObject({ used_seconds: 30, charged: '40' });
    expect((await balanceOfAccount(api.env, accountId)).postedMinor).toBe(960n);
    // The proxy's BYE came 2 s before the operator's cut reached it: 28 s.
    const late = await post('/v1/charging/terminate', {
      session_id: 'cut@proxy',
      request_number: 1,
      used_seconds: 28,
    });
    expect(late.statusCode, late.body).toBe(200);
    expect(late.json()).toMatchObject({ used_seconds: 28, charged: '38' });
    expect((await balanceOfAccount(api.env, accountId)).postedMinor).toBe(962n);
    const again = await post('/v1/charging/terminate', {
      session_id: 'cut@proxy',
      request_number: 2,
      used_seconds: 1,
    });
    expect(again.json().error.code).toBe('session_closed');
    const twice = await api.call('POST', `/v1/charging/sessions/${session.id}/disconnect`);
    expect(twice.json().error.code).toBe('session_closed');
  });
});
