// The HTTP side of every refusal code: one table from code to status. Codes come from the core
// (ledger, principals, ...) and from the HTTP layer itself (validation, auth). docs/errors.md
// lists them all; a test fails when the two drift apart.

import { chargingRefusals } from '../../core/charging/codes.ts';
import { switchAnswerOf } from '../../core/charging/switch-answers.ts';
import { accountRefusals, ledgerRefusals } from '../../core/ledger/codes.ts';
import { principalRefusals } from '../../core/principals/principals.ts';
import { ratingRefusals } from '../../core/rating/rating-commands.ts';
import { subscriberRefusals } from '../../core/subscribers/codes.ts';
import { voucherRefusals } from '../../core/vouchers/codes.ts';

/** Codes that only the HTTP layer produces, with their meaning. */
export const httpRefusals = {
  invalid_request:
    'The request does not match the schema: a field is missing, unknown or of the wrong type.',
  malformed_json: 'The body is not valid JSON.',
  body_too_large: 'The body is larger than the server accepts.',
  unsupported_media_type: 'Send JSON with Content-Type: application/json.',
  unauthorized: 'A valid API key is required (Authorization: Bearer <key>).',
  forbidden: 'The API key does not have the scope this request needs.',
  not_found: 'No such route.',
  method_not_allowed: 'That method is not allowed here; the Allow header lists those that are.',
  invalid_characters:
    'A text field holds a NUL character or a lone UTF-16 surrogate, or the body is not UTF-8.',
  url_invalid: 'The URL is not valid: a percent-encoded part is not UTF-8.',
  url_too_long: 'A path segment is longer than the server accepts.',
  http_malformed: 'The request is not valid HTTP (request line or headers).',
  request_header_too_large: 'The request headers are larger than the server accepts.',
  request_timeout: 'The request took too long to arrive.',
  idempotency_key_missing: 'Money-moving requests need an Idempotency-Key header.',
  idempotency_key_invalid: 'The Idempotency-Key must be 1-128 characters of A-Z a-z 0-9 . _ : -',
  amount_invalid:
    'Amounts are strings of digits in minor units, without sign, leading zeros or fraction.',
  transfer_not_found: 'The transfer does not exist or is not visible to you.',
  cursor_invalid: 'The cursor is not one this server handed out.',
  cdr_not_found: 'The call detail record does not exist or is not visible to you.',
  internal_error:
    'Something failed inside Tollgate; nothing you sent caused it. It has been logged.',
  service_unavailable: 'The server is shutting down or its database is unreachable; retry shortly.',
} as const;

export const allRefusals = {
  ...httpRefusals,
  ...ledgerRefusals,
  ...accountRefusals,
  ...principalRefusals,
  ...ratingRefusals,
  ...voucherRefusals,
  ...chargingRefusals,
  ...subscriberRefusals,
};
export type ErrorCode = keyof typeof allRefusals;

export const httpStatusOf: Record<ErrorCode, number> = {
  invalid_request: 400,
  malformed_json: 400,
  amount_invalid: 400,
  amount_must_be_positive: 400,
  accounts_must_be_different: 400,
  timeout_out_of_range: 400,
  cursor_invalid: 400,
  currency_unknown: 400,
  idempotency_key_missing: 400,
  idempotency_key_invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  account_not_found: 404,
  transfer_not_found: 404,
  hold_not_found: 404,
  principal_not_found: 404,
  api_key_not_found: 404,
  method_not_allowed: 405,
  invalid_characters: 400,
  url_invalid: 400,
  url_too_long: 414,
  http_malformed: 400,
  request_header_too_large: 431,
  request_timeout: 408,
  exists_with_different_fields: 409,
  hold_already_posted: 409,
  hold_already_voided: 409,
  hold_expired: 409,
  account_not_empty: 409,
  status_change_not_allowed: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  debit_account_not_found: 422,
  credit_account_not_found: 422,
  owner_not_found: 422,
  currency_mismatch: 422,
  account_frozen: 422,
  account_closed: 422,
  exceeds_available: 422,
  exceeds_debits: 422,
  overflows_balance: 422,
  post_exceeds_hold: 422,
  parent_not_allowed: 422,
  scope_not_allowed: 422,
  carrier_not_found: 422,
  carrier_exists: 409,
  access_code_taken: 409,
  tariff_not_found: 404,
  tariff_invalid: 422,
  price_malformed: 422,
  price_too_precise: 422,
  price_too_large: 422,
  rate_malformed: 422,
  number_malformed: 400,
  no_route: 422,
  destination_not_allowed: 422,
  routing_plan_missing: 422,
  rating_plan_not_found: 404,
  rating_plan_exists: 409,
  rating_plan_invalid: 422,
  rating_plan_in_use: 409,
  rating_plan_currency_missing: 422,
  assignment_subject_invalid: 422,
  assignment_not_found: 404,
  internal_error: 500,
  service_unavailable: 503,
  product_not_found: 404,
  product_invalid: 422,
  batch_not_found: 404,
  batch_count_out_of_range: 400,
  serial_prefix_invalid: 400,
  serial_prefix_taken: 409,
  voucher_not_found: 404,
  amount_mismatch: 422,
  out_of_stock: 409,
  float_not_found: 422,
  float_insufficient: 422,
  seller_not_allowed: 403,
  sale_not_found: 404,
  sale_already_voided: 409,
  void_window_passed: 409,
  voucher_already_used: 409,
  void_not_possible: 409,
  pin_malformed: 400,
  pin_invalid: 422,
  redeem_locked: 429,
  commission_rule_invalid: 400,
  pin_file_invalid: 422,
  delivery_address_invalid: 400,
  insufficient_balance: 422,
  unknown_account: 422,
  session_exists: 409,
  session_not_found: 404,
  session_closed: 409,
  session_expired: 409,
  request_out_of_order: 409,
  request_conflict: 409,
  request_number_required: 400,
  callback_url_invalid: 400,
  callback_url_not_allowed: 422,
  threshold_not_found: 404,
  cdr_not_found: 404,
  subscriber_exists: 409,
  subscriber_not_found: 404,
  caller_number_invalid: 400,
  caller_number_taken: 409,
  caller_number_not_linked: 404,
  counterparty_not_allowed: 422,
  currency_required: 400,
};

/**
 * The body of every error response; `details` lists per-item problems (a tariff's lines). A
 * refusal a switch can get also carries its RFC 4006 `result_code` and the SIP reply
 * (`sip_status`) a proxy should answer the call with (core/charging/switch-answers.ts).
 */
export function errorBody(code: ErrorCode, message?: string, details?: readonly unknown[]) {
  const answer = switchAnswerOf(code);
  return {
    error: {
      code,
      message: message ?? allRefusals[code],
      ...(answer ? { result_code: answer.resultCode, sip_status: answer.sipStatus } : {}),
      ...(details ? { details } : {}),
    },
  };
}

/** Thrown inside a handler to answer with an error; caught by the app's error handler. */
export class HttpRefusal extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string) {
    super(message ?? allRefusals[code]);
    this.code = code;
  }
}
