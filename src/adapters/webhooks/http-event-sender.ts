// Sends outbox events (disconnect callbacks, low-balance webhooks) as HTTP POSTs. The receiver
// can tell events apart and drop repeats by X-Tollgate-Delivery (the event id: a retry after a
// lost answer sends the same id again), and, when a secret is configured, check
// X-Tollgate-Signature: sha256=<hex HMAC-SHA-256 of the body under the secret>.
//
// Before each send the URL's name is resolved and every address checked against the callback
// rules (callback-target.ts); the connection goes to a checked address, never to a second
// lookup's answer. A refused target fails the event unsent.

import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { CallbackRules } from '../../core/charging/callback-policy.ts';
import type { OutboxEvent } from '../../core/charging/charging-types.ts';
import { checkedAddresses, type Resolver, systemResolver } from './callback-target.ts';

export interface HttpEventSenderOptions {
  /** The callback rules in force, read at each send (`Charging.callbackRules`). */
  readonly rules: () => CallbackRules;
  /** TOLLGATE_WEBHOOK_SECRET: signs each body; without it events go unsigned. */
  readonly secret?: string | undefined;
  /** How long one attempt may take before it counts as failed (default 5 s). */
  readonly timeoutMs?: number | undefined;
  /** Resolves the URL's host name; default the system resolver. Tests stub it. */
  readonly resolve?: Resolver | undefined;
  /** Makes the request to the checked addresses; default `postPinned`. Tests stub it. */
  readonly post?: ((request: PinnedPost) => Promise<number>) | undefined;
}

/** A POST whose connection may go only to `addresses`, which were checked for `url`. */
export interface PinnedPost {
  readonly url: URL;
  readonly addresses: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

export function httpEventSender(options: HttpEventSenderOptions): EventSender {
  const timeoutMs = options.timeoutMs ?? 5000;
  const resolve = options.resolve ?? systemResolver;
  const post = options.post ?? postPinned;
  return async (event) => {
    const url = new URL(event.url);
    const addresses = await checkedAddresses(url, options.rules(), resolve);
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
    const status = await post({ url, addresses, headers, body: event.payload, timeoutMs });
    if (status < 200 || status >= 300) {
      throw new Error(`the receiver answered HTTP ${status}`);
    }
  };
}

/**
 * POSTs over node:http or node:https with a `lookup` that answers the checked addresses, so the
 * name in the URL still gives the Host header, TLS SNI and certificate check, but no second DNS
 * answer picks the address. A new connection for each event (no agent pool), so a connection
 * made for an earlier check is never reused; redirects are not followed. Resolves to the status.
 */
export function postPinned(request: PinnedPost): Promise<number> {
  const send = request.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers = { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
  return new Promise((resolve, reject) => {
    const outgoing = send(
      request.url,
      {
        method: 'POST',
        headers,
        agent: false,
        lookup: pinnedLookup(request.addresses),
        signal: AbortSignal.timeout(request.timeoutMs),
      },
      (response) => {
        // Read the body to the end, whatever the answer.
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

/** A `lookup` for net.connect that answers the given addresses, whatever the name. */
function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const found = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_hostname, options, callback) => {
    if (options.all) callback(null, found);
    else callback(null, found[0]!.address, found[0]!.family);
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
