// Outbox events over HTTP. Deliveries go to real receivers on loopback addresses only: the body
// and headers arrive as sent, a non-2xx answer fails the attempt, events are routed by their
// URL's scheme, and the connection goes to the address that was checked, not to a second
// lookup's. Refusals are proved at the point of decision: a stub resolver says what a name
// resolves to, a stub `post` records every request it is asked to make, and a refused target
// must reach none. No test here sends to, or connects to, a non-loopback address.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Received, type Receiver, startReceiver } from '../../../test/support/receiver.ts';
import { CallbackRefusedError, type CallbackRules } from '../../core/charging/callback-policy.ts';
import type { OutboxEvent } from '../../core/charging/charging-types.ts';
import type { Resolver } from './callback-target.ts';
import {
  eventSenderByScheme,
  httpEventSender,
  type PinnedPost,
  postPinned,
} from './http-event-sender.ts';

const loopbackOnly: CallbackRules = { hosts: [], server: null };
const anyHost: CallbackRules = { hosts: ['*'], server: null };

const event = (url: string): OutboxEvent => ({
  id: 'evt_1',
  topic: 'charging.disconnect',
  url,
  payload: '{"type":"charging.disconnect"}',
  status: 'pending',
  attempts: 0,
  nextAttemptMs: 0,
  lastError: null,
  createdAtMs: 0,
});

/** A resolver that answers from a table and records what it was asked. */
function stubResolver(answers: Record<string, readonly string[]>) {
  const asked: string[] = [];
  const resolve: Resolver = async (hostname) => {
    asked.push(hostname);
    const found = answers[hostname];
    if (!found) throw new Error(`stub resolver: ${hostname} is not in the table`);
    return found;
  };
  return { resolve, asked };
}

/** A resolver for tests that must not resolve anything. */
const noResolver: Resolver = async (hostname) => {
  throw new Error(`resolved ${hostname}, which this test must not do`);
};

describe('http event sender', () => {
  let receiver: Receiver;
  let base: string;
  let seen: Received[];

  beforeAll(async () => {
    receiver = await startReceiver((url) => (url === '/broken' ? 500 : 200));
    base = receiver.base;
    seen = receiver.received;
  });
  afterAll(() => receiver.close());

  const sender = (options: { secret?: string } = {}) =>
    httpEventSender({ ...options, rules: () => loopbackOnly, resolve: noResolver });

  it('POSTs the body with the event and delivery headers, unsigned without a secret', async () => {
    await sender()(event(`${base}/ok`));
    const last = seen.at(-1)!;
    expect(last.body).toBe('{"type":"charging.disconnect"}');
    expect(last.headers['x-tollgate-event']).toBe('charging.disconnect');
    expect(last.headers['x-tollgate-delivery']).toBe('evt_1');
    expect(last.headers['x-tollgate-signature']).toBeUndefined();
  });

  it('fails an attempt that the receiver answers with an error', async () => {
    await expect(sender()(event(`${base}/broken`))).rejects.toThrow('HTTP 500');
  });

  it('routes by scheme and refuses a scheme without a channel', async () => {
    const routed: string[] = [];
    const send = eventSenderByScheme({
      'radius:': async (e) => {
        routed.push(e.url);
      },
    });
    await send(event('radius://127.0.0.1:3799'));
    expect(routed).toEqual(['radius://127.0.0.1:3799']);
    await expect(send(event(`${base}/ok`))).rejects.toThrow('no disconnect channel for http:');
  });
});

describe('http event sender: where it may connect, decided before any connection', () => {
  const cases: Array<
    [why: string, rules: CallbackRules, url: string, answers: readonly string[], error: RegExp]
  > = [
    [
      'unset list, a literal beyond loopback',
      loopbackOnly,
      'http://10.0.0.1/hangup',
      [],
      /not a loopback host/,
    ],
    [
      'unset list, localhost resolving beyond loopback',
      loopbackOnly,
      'http://localhost/hangup',
      ['10.0.0.1'],
      /localhost \(10\.0\.0\.1\) is not a loopback host/,
    ],
    [
      'a name resolving to the metadata service',
      anyHost,
      'http://hooks.test/hangup',
      ['169.254.169.254'],
      /169\.254\.169\.254 is a cloud metadata address/,
    ],
    [
      'a name resolving to it as IPv4-mapped IPv6',
      anyHost,
      'http://hooks.test/hangup',
      ['::ffff:169.254.169.254'],
      /cloud metadata address/,
    ],
    [
      'a name resolving to the IPv6 metadata service',
      anyHost,
      'http://hooks.test/hangup',
      ['fd00:ec2::254'],
      /cloud metadata address/,
    ],
    [
      'a name resolving to a link-local address',
      anyHost,
      'http://hooks.test/hangup',
      ['fe80::1'],
      /link-local/,
    ],
    [
      'one refused address among allowed ones',
      anyHost,
      'http://hooks.test/hangup',
      ['127.0.0.1', '10.0.0.1', '169.254.169.254'],
      /169\.254\.169\.254 is a cloud metadata address/,
    ],
    [
      "a name resolving to loopback at the server's own port",
      { hosts: ['hooks.test'], server: { port: 8080, addresses: [] } },
      'http://hooks.test:8080/v1/transfers',
      ['127.0.0.1'],
      /this server's own API/,
    ],
    [
      'a host no longer listed',
      { hosts: ['switch.example'], server: null },
      'http://hooks.test/hangup',
      ['10.0.0.1'],
      /TOLLGATE_CALLBACK_HOSTS/,
    ],
  ];

  it.each(cases)('refuses %s, unsent', async (_why, rules, url, answers, error) => {
    const { resolve } = stubResolver({ [new URL(url).hostname]: answers });
    const posts: PinnedPost[] = [];
    const send = httpEventSender({
      rules: () => rules,
      resolve,
      post: async (request) => {
        posts.push(request);
        return 204;
      },
    });
    const refused = send(event(url));
    await expect(refused).rejects.toBeInstanceOf(CallbackRefusedError);
    await expect(refused).rejects.toThrow(error);
    expect(posts).toEqual([]);
  });

  it('hands an allowed name to the connection with only the addresses it checked', async () => {
    const { resolve, asked } = stubResolver({ 'hooks.test': ['10.0.0.1', '2001:db8::1'] });
    const posts: PinnedPost[] = [];
    const send = httpEventSender({
      rules: () => anyHost,
      resolve,
      post: async (request) => {
        posts.push(request);
        return 204;
      },
    });
    await send(event('https://hooks.test/hangup'));
    expect(asked).toEqual(['hooks.test']);
    expect(posts.map((p) => [p.url.host, p.addresses])).toEqual([
      ['hooks.test', ['10.0.0.1', '2001:db8::1']],
    ]);
  });

  it('leaves a name that does not resolve to be retried, not refused', async () => {
    const posts: PinnedPost[] = [];
    const send = httpEventSender({
      rules: () => anyHost,
      resolve: async () => [],
      post: async (request) => {
        posts.push(request);
        return 204;
      },
    });
    const failed = send(event('http://hooks.test/hangup'));
    await expect(failed).rejects.toThrow('resolves to no address');
    await expect(failed).rejects.not.toBeInstanceOf(CallbackRefusedError);
    expect(posts).toEqual([]);
  });
});

describe('http event sender: the connection goes to the checked address', () => {
  // The receiver listens on 127.0.0.2 only; the system resolver would answer 127.0.0.1 or ::1
  // for localhost, where nothing listens on this port. So a delivery arrives only if the
  // connection used the stub's (checked) answer, and no lookup, right or wrong, leaves loopback.
  let pinned: Receiver;
  beforeAll(async () => {
    pinned = await startReceiver(() => 204, '127.0.0.2');
  });
  afterAll(() => pinned.close());

  it('connects to the address it checked, with the name in the Host header', async () => {
    const { resolve, asked } = stubResolver({ localhost: ['127.0.0.2'] });
    const send = httpEventSender({ rules: () => loopbackOnly, resolve });
    await send(event(`http://localhost:${pinned.port}/pinned`));
    expect(asked).toEqual(['localhost']);
    expect(pinned.received.map((r) => [r.url, r.headers.host])).toEqual([
      ['/pinned', `localhost:${pinned.port}`],
    ]);
  });

  it('refuses at send time a name that rebinds after it was checked (DNS rebinding)', async () => {
    // The name answered loopback when the URL was given and at the first send; then it answers
    // the metadata service. Each send resolves once and connects only to what it checked.
    const answers = [['127.0.0.2'], ['169.254.169.254']];
    const resolve: Resolver = async () => answers.shift() ?? [];
    const posts: string[][] = [];
    const send = httpEventSender({
      rules: () => loopbackOnly,
      resolve,
      post: async (request) => {
        posts.push([...request.addresses]);
        // Never a connection beyond loopback, even when the code under test is broken.
        if (!request.addresses.every((address) => address.startsWith('127.'))) return 599;
        return postPinned(request);
      },
    });
    const url = `http://localhost:${pinned.port}/rebound`;
    const before = pinned.received.length;
    await send(event(url));
    await expect(send(event(url))).rejects.toThrow(/169\.254\.169\.254 is a cloud metadata/);
    expect(posts).toEqual([['127.0.0.2']]);
    expect(pinned.received.length - before).toBe(1);
  });
});
