// Where a callback goes, decided at send time: the URL is checked against the callback rules,
// its name is resolved once, every address is checked, and only checked addresses are handed
// to the connection (see `postPinned`), so a name that answers loopback when it is checked and
// the metadata service a moment later (DNS rebinding) never gets a request through.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import {
  addressRefusal,
  CallbackRefusedError,
  type CallbackRules,
  callbackUrlRefusal,
  type ServerEndpoint,
} from '../../core/charging/callback-policy.ts';

/** Every address a host name resolves to, IPv4 and IPv6, in the resolver's order. */
export type Resolver = (hostname: string) => Promise<readonly string[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), all addresses. */
export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((found) => found.address);

/**
 * The addresses this URL may be sent to: all of them checked, none refused. Throws
 * `CallbackRefusedError` when the URL or any address of its name is refused (the event then
 * fails unsent), and a plain Error when the name does not resolve (the event is retried).
 */
export async function checkedAddresses(
  url: URL,
  rules: CallbackRules,
  resolve: Resolver,
): Promise<readonly string[]> {
  const refusedUrl = callbackUrlRefusal(url, rules);
  if (refusedUrl) throw new CallbackRefusedError(refusedUrl.message);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(host) ? [host] : await resolve(host);
  if (addresses.length === 0) throw new Error(`${host} resolves to no address`);
  // One refused address refuses the name: the connection might otherwise pick that one.
  for (const address of addresses) {
    const refused = addressRefusal(url, address, rules);
    if (refused) throw new CallbackRefusedError(refused.message);
  }
  return addresses;
}

/**
 * Where a listening server answers, from its listening addresses and port: when it listens on
 * all interfaces (0.0.0.0 or ::), every address of this machine.
 */
export function serverEndpointOf(
  listening: ReadonlyArray<{ readonly address: string } | string>,
  port: number,
): ServerEndpoint {
  const addresses = listening.flatMap((info) => (typeof info === 'string' ? [] : [info.address]));
  const everywhere = addresses.some((address) => address === '0.0.0.0' || address === '::');
  if (!everywhere) return { port, addresses };
  const local = Object.values(networkInterfaces()).flatMap((infos) =>
    (infos ?? []).map((info) => info.address),
  );
  return { port, addresses: [...addresses, ...local] };
}
