// Every way the charging engine can refuse a request. The first five are the authorize reasons
// that RFC 4006 switches expect as a denial; the rest are protocol errors of a session.

export const chargingRefusals = {
  insufficient_balance:
    'The balance does not cover the prescribed minimum or the first billing increment.',
  unknown_account: 'No usable balance belongs to this subscriber (PIN or caller number).',
  session_exists: 'A session with this id was started with a different request.',
  session_not_found: 'No session has this id for your principal.',
  session_closed: 'The session has ended; nothing was charged by this request.',
  session_expired:
    'The grant of this session ran out before this update arrived; the server ends the session.',
  request_out_of_order: 'A later request of this session was already answered; nothing changed.',
  request_conflict: 'This request number was already used with a different request.',
  request_number_required:
    'A report of used_seconds needs its request_number; only used_seconds_total may leave it out.',
  callback_url_invalid: 'The callback URL must be an http:// or https:// URL.',
  callback_url_not_allowed:
    "The server does not call this URL: its host is not in TOLLGATE_CALLBACK_HOSTS (unset: loopback only), or it is a link-local, metadata or unspecified address, or the server's own port.",
  threshold_not_found: 'The account has no low-balance threshold.',
} as const;
export type ChargingRefusalCode = keyof typeof chargingRefusals;
