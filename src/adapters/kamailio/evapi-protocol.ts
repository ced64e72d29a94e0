// The messages Tollgate and a Kamailio configuration exchange over evapi (protocol 1): JSON
// objects, one per netstring. Kamailio sends *events* (`event`), Tollgate sends *commands*
// (`command`). integrations/kamailio/tollgate.cfg is the other side of this file, and
// docs/integrations/kamailio.md shows every message.
//
// Kamailio's script integers are 32-bit, so times travel as Kamailio's own `$TV(Sn)` text
// ("seconds.microseconds"), and grants as milliseconds from now.

/** The version of this protocol that a `hello` announces. */
export const evapiProtocolVersion = 1;

/** A connection's first event: which switch it is, by the API key of its `switch` principal. */
export interface HelloEvent {
  readonly event: 'hello';
  readonly key: string;
  readonly node: string;
  readonly protocol: number;
}

/** An initial INVITE, suspended in Kamailio until Tollgate answers with an `auth` command. */
export interface AuthEvent {
  readonly event: 'auth';
  /** The suspended transaction ($T(id_index), $T(id_label)), echoed in the answer. */
  readonly tindex: number;
  readonly tlabel: number;
  readonly callId: string;
  /** The From user: the caller number (ANI) that pays. */
  readonly caller: string;
  /** The Request-URI user: the dialled number. */
  readonly destination: string;
  readonly atMs: number | null;
}

/** The call was answered (200 OK; dialog confirmed). */
export interface AnswerEvent {
  readonly event: 'answer';
  readonly callId: string;
  readonly atMs: number | null;
}

/**
 * The call ended: `hangup` (a BYE), `tollgate` (our disconnect), `backstop` (the proxy's own
 * cut-off when Tollgate was silent), `timeout` (the dialog's last-resort timer) or `failed`
 * (never answered).
 */
export interface EndEvent {
  readonly event: 'end';
  readonly callId: string;
  readonly answered: boolean;
  readonly reason: string;
  /** The answer time as the proxy saw it, when answered. */
  readonly answeredAtMs: number | null;
  readonly atMs: number | null;
  readonly sipCode: number | null;
}

export type SwitchEvent = HelloEvent | AuthEvent | AnswerEvent | EndEvent;

export type AgentCommand =
  | { readonly command: 'ready'; readonly principal_id: string }
  | { readonly command: 'refused'; readonly reason: string }
  | {
      readonly command: 'auth';
      readonly tindex: number;
      readonly tlabel: number;
      readonly call_id: string;
      readonly result: 'grant';
      /** The first grant, from the answer on; the proxy's backstop counts it from the 200 OK. */
      readonly grant_ms: number;
      readonly final_unit: boolean;
    }
  | {
      readonly command: 'auth';
      readonly tindex: number;
      readonly tlabel: number;
      readonly call_id: string;
      readonly result: 'refuse';
      readonly sip_code: number;
      readonly sip_reason: string;
      /** Tollgate's refusal code (docs/errors.md). */
      readonly code: string;
    }
  /** A new grant: the backstop moves to now + grant_ms (+ its margin). */
  | { readonly command: 'grant'; readonly call_id: string; readonly grant_ms: number }
  /** End the call now: a BYE to both legs. */
  | { readonly command: 'disconnect'; readonly call_id: string; readonly reason: string };

/** Why an event was not understood; the agent logs it and drops the event. */
export class EventMalformedError extends Error {
  override name = 'EventMalformedError';
}

/** Reads one frame as an event; throws `EventMalformedError` for anything else. */
export function parseEvent(frame: string): SwitchEvent {
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    throw new EventMalformedError('the frame is not JSON');
  }
  if (typeof value !== 'object' || value === null) {
    throw new EventMalformedError('the frame is not a JSON object');
  }
  const o = value as Record<string, unknown>;
  switch (o.event) {
    case 'hello':
      return {
        event: 'hello',
        key: text(o, 'key'),
        node: typeof o.node === 'string' ? o.node : '',
        protocol: typeof o.protocol === 'number' ? o.protocol : 0,
      };
    case 'auth':
      return {
        event: 'auth',
        tindex: whole(o, 'tindex'),
        tlabel: whole(o, 'tlabel'),
        callId: text(o, 'call_id'),
        caller: typeof o.caller === 'string' ? o.caller : '',
        destination: typeof o.destination === 'string' ? o.destination : '',
        atMs: timeMs(o.at),
      };
    case 'answer':
      return { event: 'answer', callId: text(o, 'call_id'), atMs: timeMs(o.at) };
    case 'end':
      return {
        event: 'end',
        callId: text(o, 'call_id'),
        answered: o.answered === true,
        reason: typeof o.reason === 'string' ? o.reason : 'hangup',
        answeredAtMs: timeMs(o.answered_at),
        atMs: timeMs(o.at),
        sipCode: typeof o.sip_code === 'number' ? o.sip_code : null,
      };
    default:
      throw new EventMalformedError(`unknown event ${JSON.stringify(o.event)}`);
  }
}

function text(o: Record<string, unknown>, field: string): string {
  const value = o[field];
  if (typeof value !== 'string' || value === '') {
    throw new EventMalformedError(`${field} must be a non-empty string`);
  }
  return value;
}

function whole(o: Record<string, unknown>, field: string): number {
  const value = o[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new EventMalformedError(`${field} must be a whole number`);
  }
  return value;
}

/**
 * Kamailio's `$TV(Sn)` ("1764432000.123456", seconds and microseconds) as epoch milliseconds;
 * null when absent or not that shape. A JSON number of seconds is accepted too.
 */
export function timeMs(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    return Math.floor(value * 1000);
  }
  if (typeof value !== 'string') return null;
  const match = /^([0-9]{1,12})(?:\.([0-9]{1,6}))?$/.exec(value);
  if (!match) return null;
  const micros = (match[2] ?? '').padEnd(6, '0');
  const ms = Number(match[1]) * 1000 + Math.floor(Number(micros) / 1000);
  return ms > 0 ? ms : null;
}
