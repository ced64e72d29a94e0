// One refusal table for every switch protocol. Each charging refusal has a code (ours), and the
// answer each kind of switch understands: the RFC 4006 Result-Code a Diameter client gets (and
// that HTTP answers carry as `result_code`), the SIP reply a proxy sends the caller, and what a
// RADIUS client hears. The HTTP, evapi, RADIUS and Diameter adapters all read this table, so a
// call refused for one reason is refused alike whichever way the switch asked. docs/errors.md
// prints it; a test keeps the two in step.

/** What a RADIUS client hears for a refusal. */
export type RadiusAnswer = 'Access-Reject' | 'Accounting-Response' | 'no answer';

export interface SwitchAnswer {
  /** RFC 4006 / RFC 6733 Result-Code. */
  readonly resultCode: number;
  /** The SIP final response a proxy answers the INVITE with. */
  readonly sipStatus: number;
  readonly radius: RadiusAnswer;
}

/** RFC 4006 and RFC 6733 Result-Codes, by name. */
export const resultCodes = {
  success: 2001,
  tooBusy: 3004,
  endUserServiceDenied: 4010,
  /** The service needs no credit control (a rating group Tollgate does not meter). */
  creditControlNotApplicable: 4011,
  creditLimitReached: 4012,
  authorizationRejected: 5003,
  invalidAvpValue: 5004,
  missingAvp: 5005,
  unableToComply: 5012,
  unknownSessionId: 5002,
  userUnknown: 5030,
  ratingFailed: 5031,
} as const;

const reject = (resultCode: number, sipStatus: number): SwitchAnswer => ({
  resultCode,
  sipStatus,
  radius: 'Access-Reject',
});
const sessionError = (resultCode: number, sipStatus: number): SwitchAnswer => ({
  resultCode,
  sipStatus,
  radius: 'Accounting-Response',
});
const serverFault = (resultCode: number): SwitchAnswer => ({
  resultCode,
  sipStatus: 503,
  radius: 'no answer',
});

/**
 * The answer to each refusal a switch can get from the charging routes. A switch that cannot
 * get a decision (Tollgate unreachable, a fault) fails the call closed with 503.
 */
export const switchAnswers = {
  insufficient_balance: reject(resultCodes.creditLimitReached, 402),
  unknown_account: reject(resultCodes.userUnknown, 403),
  account_frozen: reject(resultCodes.endUserServiceDenied, 403),
  pin_malformed: reject(resultCodes.userUnknown, 403),
  redeem_locked: reject(resultCodes.endUserServiceDenied, 403),
  destination_not_allowed: reject(resultCodes.endUserServiceDenied, 403),
  number_malformed: reject(resultCodes.invalidAvpValue, 484),
  no_route: reject(resultCodes.ratingFailed, 404),
  routing_plan_missing: reject(resultCodes.ratingFailed, 503),
  // A Call-ID used again: at the INVITE, the proxy refuses the new call as malformed.
  session_exists: reject(resultCodes.unableToComply, 400),
  session_not_found: sessionError(resultCodes.unknownSessionId, 481),
  session_closed: sessionError(resultCodes.unknownSessionId, 400),
  session_expired: sessionError(resultCodes.unknownSessionId, 481),
  request_out_of_order: sessionError(resultCodes.unableToComply, 500),
  request_conflict: sessionError(resultCodes.unableToComply, 500),
  request_number_required: sessionError(resultCodes.missingAvp, 500),
  callback_url_invalid: reject(resultCodes.invalidAvpValue, 500),
  callback_url_not_allowed: reject(resultCodes.invalidAvpValue, 500),
  invalid_request: reject(resultCodes.invalidAvpValue, 500),
  unauthorized: serverFault(resultCodes.authorizationRejected),
  forbidden: serverFault(resultCodes.authorizationRejected),
  internal_error: serverFault(resultCodes.unableToComply),
  service_unavailable: serverFault(resultCodes.tooBusy),
} as const satisfies Record<string, SwitchAnswer>;

export type SwitchRefusalCode = keyof typeof switchAnswers;

/** The switch answer of a refusal code, if a switch can get that code. */
export function switchAnswerOf(code: string): SwitchAnswer | undefined {
  return Object.hasOwn(switchAnswers, code) ? switchAnswers[code as SwitchRefusalCode] : undefined;
}
