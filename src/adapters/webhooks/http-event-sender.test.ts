// Outbox events over HTTP against a real receiver on 127.0.0.1: the body and headers arrive
// as sent, a non-2xx answer fails the attempt, and events are routed by their URL's scheme.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Received, type Receiver, startReceiver } from '../../../test/support/receiver.ts';
import type { OutboxEvent } from '../../core/charging/charging-types.ts';
import { eventSenderByScheme, httpEventSender } from './http-event-sender.ts';

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

  it('POSTs the body with the event and delivery headers, unsigned without a secret', async () => {
    await httpEventSender()(event(`${base}/ok`));
    const last = seen.at(-1)!;
    expect(last.body).toBe('{"type":"charging.disconnect"}');
    expect(last.headers['x-tollgate-event']).toBe('charging.disconnect');
    expect(last.headers['x-tollgate-delivery']).toBe('evt_1');
    expect(last.headers['x-tollgate-signature']).toBeUndefined();
  });

  it('fails an attempt that the receiver answers with an error', async () => {
    await expect(httpEventSender()(event(`${base}/broken`))).rejects.toThrow('HTTP 500');
  });

  it('routes by scheme and refuses a scheme without a channel', async () => {
    const routed: string[] = [];
    const send = eventSenderByScheme({
      'radius:': async (e) => {
        routed.push(e.url);
      },
    });
    await send(event('radius://10.0.0.1:3799'));
    expect(routed).toEqual(['radius://10.0.0.1:3799']);
    await expect(send(event(`${base}/ok`))).rejects.toThrow('no disconnect channel for http:');
  });
});
