// Sends outbox events (disconnect callbacks, low-balance webhooks) as HTTP POSTs. The receiver
// can tell events apart and drop repeats by X-Tollgate-Delivery (the event id: a retry after a
// lost answer sends the same id again), and, when a secret is configured, check
// X-Tollgate-Signature: sha256=<hex HMAC-SHA-256 of the body under the secret>.

import { createHmac } from 'node:crypto';
import type { OutboxEvent } from '../../core/charging/charging-types.ts';

export interface HttpEventSenderOptions {
  /** TOLLGATE_WEBHOOK_SECRET: signs each body; without it events go unsigned. */
  readonly secret?: string | undefined;
  /** How long one attempt may take before it counts as failed (default 5 s). */
  readonly timeoutMs?: number | undefined;
}

export function httpEventSender(options: HttpEventSenderOptions = {}): EventSender {
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (event) => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'tollgate-webhooks',
      'x-tollgate-event': event.topic,
      'x-tollgate-delivery': event.id,
    };
    if (options.secret) {
      const mac = createHmac('sha256', options.secret).update(event.payload).digest('hex');
      headers['x-tollgate-signature'] = `sha256=${mac}`;
    }
    const response = await fetch(event.url, {
      method: 'POST',
      headers,
      body: event.payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Read the body to the end so the connection can be reused, whatever the answer.
    await response.arrayBuffer();
    if (response.status < 200 || response.status >= 300) {
      throw new Error(`the receiver answered HTTP ${response.status}`);
    }
  };
}

export type EventSender = (event: OutboxEvent) => Promise<void>;

/**
 * Routes each event to the channel of its URL's scheme: `http:` and `https:` today; RADIUS
 * Disconnect-Request and Diameter ASR channels plug in here under their own schemes. An event
 * whose scheme has no channel fails its attempt (and is retried, then marked failed).
 */
export function eventSenderByScheme(channels: Readonly<Record<string, EventSender>>): EventSender {
  return async (event) => {
    const scheme = new URL(event.url).protocol;
    const channel = channels[scheme];
    if (!channel) throw new Error(`no disconnect channel for ${scheme} URLs`);
    await channel(event);
  };
}
