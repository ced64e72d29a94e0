// The SIP side of every refusal a call can meet at its start. The reply code comes from the one
// refusal table all switch adapters share (core/charging/switch-answers.ts); this file adds only
// the reason phrase the proxy sends with it. Anything the table does not list, and any failure of
// Tollgate itself, is 503: the proxy fails closed, and the caller may retry elsewhere.

import { switchAnswerOf } from '../../core/charging/switch-answers.ts';

export interface SipReply {
  readonly code: number;
  readonly reason: string;
}

/** Reason phrases, where a code says more than the status's standard phrase. */
const reasons: Readonly<Record<string, string>> = {
  insufficient_balance: 'Payment Required',
  unknown_account: 'Unknown Subscriber',
  account_frozen: 'Subscriber Frozen',
  pin_malformed: 'Unknown Subscriber',
  redeem_locked: 'Subscriber Locked',
  destination_not_allowed: 'Destination Barred',
  no_route: 'No Route',
  routing_plan_missing: 'No Route',
  number_malformed: 'Address Incomplete',
  session_exists: 'Call-ID Already Used',
  session_closed: 'Call-ID Already Used',
};

/** When Tollgate cannot decide: overloaded, its database down, or a bug. */
export const sipUnavailable: SipReply = { code: 503, reason: 'Charging Unavailable' };

export function sipReplyFor(code: string): SipReply {
  const answer = switchAnswerOf(code);
  if (!answer || answer.sipStatus >= 500) return sipUnavailable;
  return { code: answer.sipStatus, reason: reasons[code] ?? 'Call Refused' };
}
