// Which URLs the server calls back (disconnect callbacks, low-balance webhooks) and which
// addresses it connects to for them. A callback URL comes from a client, so every send is a
// request the server makes on a client's behalf: without these rules a switch key could make
// the server POST to its database port, to its own API or to the cloud metadata service.
//
// Pure: addresses are parsed here without node:net, and names are never resolved here. The core
// checks a URL when it is given (`callbackUrlRefusal`) and again before each send; the HTTP
// sender (adapters/webhooks) resolves the name, checks every address (`addressRefusal`), and
// connects only to an address it checked, so a second lookup cannot rebind the name.

/** What the server may call: TOLLGATE_CALLBACK_HOSTS and where the server itself listens. */
export interface CallbackRules {
  /**
   * Lower case, `host` (any port) or `host:port` (IPv6 in brackets). Empty: loopback only
   * (127.0.0.0/8, ::1, `localhost`). `*`: any host. Either way, `neverCalled` addresses and the
   * server's own port stay refused.
   */
  readonly hosts: readonly string[];
  /** Where this server listens, once it does; null before (and in processes that do not). */
  readonly server: ServerEndpoint | null;
}

/** The server's own API: a callback to it would let a client call the API as the server. */
export interface ServerEndpoint {
  readonly port: number;
  /**
   * The addresses it answers at besides loopback: its listening address, or every interface's
   * when it listens on all of them.
   */
  readonly addresses: readonly string[];
}

export type CallbackRefusalReason =
  | 'scheme_not_http'
  | 'unspecified_address'
  | 'link_local_address'
  | 'metadata_address'
  | 'not_loopback'
  | 'host_not_listed'
  | 'own_server'
  | 'address_invalid';

export interface CallbackRefusal {
  readonly reason: CallbackRefusalReason;
  /** Why, for the API answer and the outbox event's `last_error`. */
  readonly message: string;
}

/**
 * A send the server refuses to make. The event fails at once, unsent and with no retries: a
 * later attempt would be refused the same way. Thrown by the core and by event senders.
 */
export class CallbackRefusedError extends Error {
  override name = 'CallbackRefusedError';
}

/** The one host name that means loopback without being resolved. */
const loopbackName = 'localhost';

/**
 * Schemes of disconnect channels inside this server: the Kamailio agent's `kamailio:` and the
 * Diameter agent's `diameter:` (an ASR to a peer) name a connection the server already holds,
 * not a host to call, so the host rules do not apply; so does the RADIUS agent's `radius:` (a
 * Disconnect-Request to a NAS configured in TOLLGATE_RADIUS_CLIENTS, and to no other address).
 * Only the server's own adapters set such URLs, on the sessions they open; `initiate` and the
 * low-balance thresholds take http:// and https:// URLs alone from clients.
 */
export const internalCallbackSchemes: readonly string[] = ['kamailio:', 'diameter:', 'radius:'];

/** Whether a URL names one of the server's internal disconnect channels (`kamailio:…`). */
export function isInternalCallbackUrl(text: string): boolean {
  return internalCallbackSchemes.some((scheme) => text.startsWith(scheme));
}

/**
 * Why the server will not call this URL, judged without DNS (literal addresses and names against
 * the list), or null when it may. Example:
 *
 * ```ts
 * callbackUrlRefusal(new URL('http://169.254.169.254/'), { hosts: ['*'], server: null })
 * // { reason: 'metadata_address', message: '169.254.169.254 is a cloud metadata address…' }
 * ```
 */
export function callbackUrlRefusal(url: URL, rules: CallbackRules): CallbackRefusal | null {
  if (internalCallbackSchemes.includes(url.protocol)) return null;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refusal('scheme_not_http', 'Only http:// and https:// URLs are called.');
  }
  const address = parseIp(url.hostname);
  if (address) {
    const never = neverCalled(address, url.hostname);
    if (never) return never;
  }
  if (!listed(url, address, rules.hosts)) {
    return rules.hosts.length === 0
      ? notLoopback(url.hostname)
      : refusal(
          'host_not_listed',
          `The callback URL's host ${url.host} is not one this server calls (TOLLGATE_CALLBACK_HOSTS).`,
        );
  }
  const isLoopbackHost = address ? isLoopback(address) : url.hostname === loopbackName;
  if (isOwnServer(url, address, isLoopbackHost, rules.server)) return ownServer(url);
  return null;
}

/**
 * Why the server will not connect to `address` (a literal, or what the URL's name resolved to)
 * for this URL, or null when it may. Every address of a name is checked, after
 * `callbackUrlRefusal` allowed the URL.
 */
export function addressRefusal(
  url: URL,
  address: string,
  rules: CallbackRules,
): CallbackRefusal | null {
  const bytes = parseIp(address);
  if (!bytes) return refusal('address_invalid', `${url.hostname} resolved to ${address}.`);
  const never = neverCalled(bytes, address);
  if (never) return never;
  if (rules.hosts.length === 0 && !isLoopback(bytes)) {
    return notLoopback(address === url.hostname ? address : `${url.hostname} (${address})`);
  }
  if (isOwnServer(url, bytes, isLoopback(bytes), rules.server)) return ownServer(url);
  return null;
}

/** The URL's port, or its scheme's default. */
export function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function listed(url: URL, address: IpBytes | null, hosts: readonly string[]): boolean {
  if (hosts.includes('*')) return true;
  if (hosts.length === 0) return address ? isLoopback(address) : url.hostname === loopbackName;
  return (
    hosts.includes(url.hostname) ||
    hosts.includes(url.host) ||
    hosts.includes(`${url.hostname}:${portOf(url)}`)
  );
}

/**
 * At the server's port, loopback and the server's own addresses are the server itself. (A name
 * is only known to be loopback when it is `localhost`; others are judged by their addresses.)
 */
function isOwnServer(
  url: URL,
  address: IpBytes | null,
  isLoopbackHost: boolean,
  server: ServerEndpoint | null,
): boolean {
  if (server === null || portOf(url) !== server.port) return false;
  if (isLoopbackHost) return true;
  if (address === null) return false;
  const key = address.join('.');
  return server.addresses.some((own) => parseIp(own)?.join('.') === key);
}

/** Addresses refused whatever TOLLGATE_CALLBACK_HOSTS says, as their reason. */
function neverCalled(address: IpBytes, shown: string): CallbackRefusal | null {
  if (isUnspecified(address)) {
    return refusal(
      'unspecified_address',
      `${shown} is an unspecified address; it is never called.`,
    );
  }
  if (isMetadata(address)) {
    return refusal('metadata_address', `${shown} is a cloud metadata address; it is never called.`);
  }
  if (isLinkLocal(address)) {
    return refusal('link_local_address', `${shown} is a link-local address; it is never called.`);
  }
  return null;
}

function notLoopback(what: string): CallbackRefusal {
  return refusal(
    'not_loopback',
    `${what} is not a loopback host, and TOLLGATE_CALLBACK_HOSTS is unset: only loopback hosts are called.`,
  );
}

function ownServer(url: URL): CallbackRefusal {
  return refusal(
    'own_server',
    `${url.hostname} port ${portOf(url)} is this server's own API; it is never called back.`,
  );
}

function refusal(reason: CallbackRefusalReason, message: string): CallbackRefusal {
  return { reason, message };
}

// --- addresses -------------------------------------------------------------------------------

/**
 * An IP address as its 4 (IPv4) or 16 (IPv6) bytes. IPv6 forms that carry an IPv4 address
 * (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d) are reduced to it, so
 * a refused IPv4 address cannot come back dressed as IPv6.
 */
type IpBytes = readonly number[];

/** Parses an IPv4 dotted quad or an IPv6 address (brackets and a `%zone` allowed), else null. */
export function parseIp(text: string): IpBytes | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v4 = parseIpv4(bare);
  if (v4) return v4;
  const v6 = parseIpv6(bare.replace(/%.*$/, ''));
  return v6 === null ? null : (embeddedIpv4(v6) ?? v6);
}

function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  // Decimal only, no leading zeros: `010` means 8 to some resolvers and 10 to others.
  const bytes = parts.map((part) => (/^(0|[1-9][0-9]{0,2})$/.test(part) ? Number(part) : 256));
  return bytes.every((byte) => byte <= 255) ? bytes : null;
}

function parseIpv6(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const compressed = halves.length === 2;
  const head = groupsOf(halves[0]!, !compressed);
  const tail = compressed ? groupsOf(halves[1]!, true) : [];
  if (head === null || tail === null) return null;
  if (!compressed) return head.length === 16 ? head : null;
  const zeroBytes = 16 - head.length - tail.length;
  if (zeroBytes < 2) return null;
  return [...head, ...new Array<number>(zeroBytes).fill(0), ...tail];
}

/** The bytes of colon-separated hex groups; the last may be a dotted quad where allowed. */
function groupsOf(text: string, quadLast: boolean): number[] | null {
  if (text === '') return [];
  const groups = text.split(':');
  const bytes: number[] = [];
  for (const [index, group] of groups.entries()) {
    if (quadLast && index === groups.length - 1 && group.includes('.')) {
      const quad = parseIpv4(group);
      if (!quad) return null;
      bytes.push(...quad);
    } else if (/^[0-9a-f]{1,4}$/i.test(group)) {
      const value = Number.parseInt(group, 16);
      bytes.push(value >> 8, value & 0xff);
    } else {
      return null;
    }
  }
  return bytes;
}

function embeddedIpv4(v6: readonly number[]): number[] | null {
  const prefix = v6.slice(0, 12).join('.');
  const last = v6.slice(12);
  const mapped = '0.0.0.0.0.0.0.0.0.0.255.255';
  const compatible = '0.0.0.0.0.0.0.0.0.0.0.0';
  const nat64 = '0.100.255.155.0.0.0.0.0.0.0.0';
  // `::` and `::1` are IPv6's own unspecified and loopback addresses, not compatible forms.
  const ownV6 = prefix === compatible && last[0] === 0 && last[1] === 0 && last[2] === 0;
  if (prefix === mapped || prefix === nat64 || (prefix === compatible && !ownV6)) return last;
  return null;
}

function isLoopback(a: IpBytes): boolean {
  return a.length === 4 ? a[0] === 127 : a.slice(0, 15).every((b) => b === 0) && a[15] === 1;
}

/** 0.0.0.0/8 ("this network": 0.0.0.0 reaches the host itself) and `::`. */
function isUnspecified(a: IpBytes): boolean {
  return a.length === 4 ? a[0] === 0 : a.every((b) => b === 0);
}

/** 169.254.0.0/16 and fe80::/10. */
function isLinkLocal(a: IpBytes): boolean {
  return a.length === 4 ? a[0] === 169 && a[1] === 254 : a[0] === 0xfe && (a[1]! & 0xc0) === 0x80;
}

/** 169.254.169.254 (AWS, GCP, Azure, OCI) and fd00:ec2::254 (AWS over IPv6). */
function isMetadata(a: IpBytes): boolean {
  return a.join('.') === (a.length === 4 ? metadataV4 : metadataV6);
}

const metadataV4 = '169.254.169.254';
const metadataV6 = parseIpv6('fd00:ec2::254')!.join('.');
