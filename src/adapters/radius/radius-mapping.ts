// What RADIUS attributes mean to the charging core, and back: an Access-Request becomes an
// authorize request, its answer an Access-Accept (Session-Timeout and the Cisco h323 VSAs) or an
// Access-Reject (Reply-Message and h323-return-code); an Accounting-Request becomes an
// initiate, update or terminate. Pure functions, so the contract is tested without sockets.
// Refusals take their RADIUS answer from the one switch table (core/charging/switch-answers.ts);
// this file adds only the Cisco h323-return-code each refusal is announced with.

import type { Authorization, CallRequest, SubscriberRef } from '../../core/charging/charging.ts';
import { formatMajor } from '../../core/money/money.ts';
import {
  type Attribute,
  type Attributes,
  ciscoAttribute,
  ciscoTextOf,
  integerOf,
  textOf,
} from './radius-codec.ts';

/**
 * Cisco's h323-return-code for each refusal a call can meet at Access-Request, as Cisco IVR
 * scripts (and the calling-card platforms that copied them) announce it: 1 invalid account,
 * 4 zero balance, 7 user denied, 8 service not available, 9 called number blocked, 10 retries
 * exceeded, 11 invalid argument. Anything else is 8.
 */
export const h323ReturnCodes: Readonly<Record<string, number>> = {
  insufficient_balance: 4,
  unknown_account: 1,
  pin_malformed: 1,
  account_frozen: 7,
  redeem_locked: 10,
  destination_not_allowed: 9,
  number_malformed: 11,
  no_route: 8,
  routing_plan_missing: 8,
  invalid_request: 11,
};

/** h323-return-code of an accepted call. */
export const h323Success = 0;
const h323ServiceNotAvailable = 8;
/** h323-billing-model 1: debit (prepaid). */
const h323BillingDebit = 1;

export function h323ReturnCodeOf(code: string): number {
  return h323ReturnCodes[code] ?? h323ServiceNotAvailable;
}

/** Telephone numbers as the charging core takes them. */
const phoneNumber = /^\+?[0-9]{1,32}$/;

/**
 * A number from a Called- or Calling-Station-Id: digits with an optional +, also written as a
 * `sip:` or `tel:` URI (`sip:12125550100@gw`), which some switches send.
 */
export function numberOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const bare = text
    .trim()
    .replace(/^(sips?|tel):/i, '')
    .replace(/[@;].*$/, '');
  return phoneNumber.test(bare) ? bare : undefined;
}

/**
 * Who pays, from User-Name: the caller-number balance when User-Name is the calling number (ANI
 * authentication, as Cisco sends it), else the calling card whose PIN User-Name is.
 */
export function subscriberOf(userName: string, callerNumber: string | undefined): SubscriberRef {
  return callerNumber !== undefined && numberOf(userName) === callerNumber
    ? { ani: callerNumber }
    : { pin: userName };
}

export type CallOfPacket =
  | { readonly ok: true; readonly call: CallRequest; readonly userName: string }
  | {
      readonly ok: false;
      readonly code: 'invalid_request' | 'number_malformed';
      readonly message: string;
    };

/** The call an Access-Request or accounting Start asks for. */
export function callOf(attributes: Attributes, source: string): CallOfPacket {
  const userName = textOf(attributes, 'User-Name');
  if (userName === undefined || userName === '') {
    return {
      ok: false,
      code: 'invalid_request',
      message: 'User-Name (PIN or caller number) is required.',
    };
  }
  const calledText = textOf(attributes, 'Called-Station-Id');
  if (calledText === undefined || calledText === '') {
    return {
      ok: false,
      code: 'invalid_request',
      message: 'Called-Station-Id (destination) is required.',
    };
  }
  const calledNumber = numberOf(calledText);
  if (calledNumber === undefined) {
    return {
      ok: false,
      code: 'number_malformed',
      message: 'Called-Station-Id is not a telephone number.',
    };
  }
  const callerNumber = numberOf(textOf(attributes, 'Calling-Station-Id'));
  return {
    ok: true,
    userName,
    call: {
      subscriber: subscriberOf(userName, callerNumber),
      callerNumber,
      calledNumber,
      source,
    },
  };
}

/** Access-Accept: the allowance as Session-Timeout and in Cisco's VSAs. */
export function acceptAttributes(authorization: Authorization): Attribute[] {
  return [
    ['Session-Timeout', authorization.maxSeconds],
    ciscoAttribute('h323-return-code', h323Success),
    ciscoAttribute('h323-credit-time', authorization.maxSeconds),
    ciscoAttribute(
      'h323-credit-amount',
      formatMajor(authorization.availableMinor, authorization.currency),
    ),
    ciscoAttribute('h323-currency', authorization.currency),
    ciscoAttribute('h323-billing-model', h323BillingDebit),
  ];
}

/** RFC 2865: an attribute holds at most 253 octets. */
const attributeTextMax = 253;

/** Access-Reject: the refusal's message for people, its h323-return-code for IVR scripts. */
export function rejectAttributes(code: string, message: string): Attribute[] {
  const text = Buffer.from(message).subarray(0, attributeTextMax).toString();
  return [['Reply-Message', text], ciscoAttribute('h323-return-code', h323ReturnCodeOf(code))];
}

export type AccountingKind = 'start' | 'interim' | 'stop' | 'on' | 'off';

const statusTypes: Readonly<Record<string, AccountingKind>> = {
  Start: 'start',
  'Interim-Update': 'interim',
  Stop: 'stop',
  'Accounting-On': 'on',
  'Accounting-Off': 'off',
};

export type AccountingOfPacket =
  | {
      readonly ok: true;
      readonly kind: AccountingKind;
      readonly acctSessionId: string;
      /** Acct-Session-Time: seconds talked since the answer (Interim-Update and Stop). */
      readonly sessionSeconds: number | undefined;
      /** Acct-Delay-Time: how long the NAS has been trying to send this. */
      readonly delaySeconds: number;
      readonly terminateCause: string | undefined;
    }
  | { readonly ok: false; readonly message: string };

/** The longest Acct-Session-Id taken: it becomes part of a charging session id. */
const acctSessionIdMax = 200;

/** What an Accounting-Request reports. */
export function accountingOf(attributes: Attributes): AccountingOfPacket {
  const status = textOf(attributes, 'Acct-Status-Type');
  const kind = status === undefined ? undefined : statusTypes[status];
  if (kind === undefined) return { ok: false, message: `Acct-Status-Type ${status ?? 'missing'}` };
  const acctSessionId = textOf(attributes, 'Acct-Session-Id') ?? '';
  const delaySeconds = integerOf(attributes, 'Acct-Delay-Time') ?? 0;
  const sessionSeconds = integerOf(attributes, 'Acct-Session-Time');
  const terminateCause = textOf(attributes, 'Acct-Terminate-Cause');
  if (kind === 'on' || kind === 'off') {
    return { ok: true, kind, acctSessionId, sessionSeconds, delaySeconds, terminateCause };
  }
  if (!/^[\x21-\x7e]{1,200}$/.test(acctSessionId) || acctSessionId.length > acctSessionIdMax) {
    return { ok: false, message: 'Acct-Session-Id is missing or not printable ASCII' };
  }
  if (kind !== 'start' && sessionSeconds === undefined) {
    return { ok: false, message: `${status} without Acct-Session-Time` };
  }
  return { ok: true, kind, acctSessionId, sessionSeconds, delaySeconds, terminateCause };
}

/** The h323-conf-id of a Cisco call, when the NAS sends one. */
export function confIdOf(attributes: Attributes): string | undefined {
  return ciscoTextOf(attributes, 'h323-conf-id');
}

/** What an Acct-Terminate-Cause (RFC 2866) is called in the CDR. */
const terminateReasons: Readonly<Record<string, string>> = {
  'User-Request': 'normal',
  'Session-Timeout': 'session_timeout',
  'Admin-Reset': 'disconnected',
  'Lost-Carrier': 'lost_carrier',
  'Idle-Timeout': 'idle_timeout',
  'NAS-Request': 'nas_request',
  'NAS-Reboot': 'nas_reboot',
};

export function terminateReasonOf(cause: string | undefined): string {
  if (cause === undefined) return 'normal';
  return terminateReasons[cause] ?? `radius_${cause.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
}

/** The charging session id of a NAS's Acct-Session-Id: ids are unique per NAS, not per switch. */
export function sessionIdOf(clientAddress: string, acctSessionId: string): string {
  return `${clientAddress}/${acctSessionId}`;
}

/** The URL scheme of disconnects that go to a NAS as a Disconnect-Request. */
export const radiusCallbackScheme = 'radius:';

/**
 * The disconnect channel of a session: `radius:<client>/<Acct-Session-Id>`, with the caller
 * number as `?user=` when User-Name was that number. A PIN never goes in: the URL is stored.
 */
export function radiusCallbackUrl(input: {
  clientAddress: string;
  acctSessionId: string;
  userName: string;
  subscriber: SubscriberRef;
}): string {
  const base = `${radiusCallbackScheme}${encodeURIComponent(input.clientAddress)}/${encodeURIComponent(input.acctSessionId)}`;
  return 'ani' in input.subscriber ? `${base}?user=${encodeURIComponent(input.userName)}` : base;
}

export interface DisconnectTarget {
  readonly clientAddress: string;
  readonly acctSessionId: string;
  readonly userName: string | undefined;
}

/** Reads a `radius:` callback URL back; null when it is not one. */
export function disconnectTargetOf(url: string): DisconnectTarget | null {
  const match = /^radius:([^/?]+)\/([^?]+)(?:\?user=(.*))?$/.exec(url);
  if (!match) return null;
  try {
    return {
      clientAddress: decodeURIComponent(match[1]!),
      acctSessionId: decodeURIComponent(match[2]!),
      userName: match[3] === undefined ? undefined : decodeURIComponent(match[3]),
    };
  } catch {
    return null;
  }
}
