// Charging routes for switches (RFC 4006 credit control over HTTP): authorize, initiate, update,
// terminate; sessions and CDRs for operators and switches; account reports for the IVR; and
// low-balance thresholds. A request is identified by its session id and request number, so a
// repeated request gets the first answer and never charges twice: no Idempotency-Key needed.

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { denialCodes, type SubscriberRef } from '../../../core/charging/charging.ts';
import type { Cdr, ChargingSession, CreditAnswer } from '../../../core/charging/charging-types.ts';
import type { Services } from '../../../services.ts';
import { callerOf, sendError, sendRefusal } from '../reply.ts';
import { amountOf, limitOf } from '../request-parsing.ts';
import { Amount, Currency, Id, IdParams, refusalResponses } from '../schemas.ts';
import { iso, sendTable, snakeKeys } from '../views.ts';

const errors = refusalResponses;

/** Diameter Session-Id, SIP Call-ID, or any printable ASCII id of up to 512 characters. */
const SessionId = Type.String({ minLength: 1, maxLength: 512, pattern: '^[\\x21-\\x7e]+$' });
const PhoneNumber = Type.String({
  minLength: 1,
  maxLength: 33,
  pattern: '^\\+?[0-9]{1,32}$',
  description: 'A telephone number: digits with an optional leading +.',
});
const RequestNumber = Type.Integer({ minimum: 0, maximum: 2_147_483_647 });
/** Seconds of one call: at most a day. */
const secondsRange = { minimum: 0, maximum: 86_400 } as const;
const Url = Type.String({ minLength: 1, maxLength: 2048 });

const Subscriber = Type.Union(
  [
    Type.Object(
      { pin: Type.String({ minLength: 1, maxLength: 64, description: 'A calling-card PIN.' }) },
      { additionalProperties: false },
    ),
    Type.Object(
      { ani: PhoneNumber },
      { additionalProperties: false, description: 'A caller-number (PIN-less) account.' },
    ),
  ],
  { description: 'Who pays: a calling card by its PIN, or a caller number (ANI).' },
);

const CallFields = {
  subscriber: Subscriber,
  caller: Type.Optional(PhoneNumber),
  destination: PhoneNumber,
};

const AuthorizeBody = Type.Object(
  {
    ...CallFields,
    link_ani: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const InitiateBody = Type.Object(
  {
    session_id: SessionId,
    request_number: Type.Optional(RequestNumber),
    ...CallFields,
    callback_url: Type.Optional(Url),
    answered_at: Type.Optional(Type.String({ format: 'date-time' })),
    answered: Type.Optional(
      Type.Boolean({
        description:
          'false: the call is still ringing (initiate at the INVITE). The grant and supervision ' +
          'then count from the answer that an update or terminate reports; ringing is never ' +
          'billed. Default true: answered now.',
      }),
    ),
    link_ani: Type.Optional(
      Type.Boolean({
        description: 'Link the caller number to this card, so later calls need no PIN.',
      }),
    ),
  },
  { additionalProperties: false },
);

const ReportFields = {
  session_id: SessionId,
  request_number: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 2_147_483_647,
      description: 'Needed with used_seconds; optional with used_seconds_total.',
    }),
  ),
  used_seconds: Type.Optional(
    Type.Integer({ ...secondsRange, description: 'Seconds used of the last grant.' }),
  ),
  used_seconds_total: Type.Optional(
    Type.Integer({
      ...secondsRange,
      description:
        'Seconds talked since the answer, in all (instead of used_seconds): safe to send twice.',
    }),
  ),
  answered_at: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'The answer time of a call initiated with answered: false.',
    }),
  ),
  answered: Type.Optional(
    Type.Boolean({ description: 'true: a call initiated ringing was answered now.' }),
  ),
};

const UpdateBody = Type.Object(ReportFields, { additionalProperties: false });

const TerminateBody = Type.Object(
  {
    ...ReportFields,
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_]+$' })),
  },
  { additionalProperties: false },
);

const AnswerView = Type.Object({
  session_id: Type.String(),
  request_type: Type.String(),
  request_number: Type.Integer(),
  granted_seconds: Type.Integer({ description: '0: the money is spent, disconnect now.' }),
  final_unit: Type.Boolean({ description: 'This is the last grant the balance allows.' }),
  valid_until: Type.Union([Type.String(), Type.Null()], {
    description: 'When the grant ends; null while the call rings and once it has ended.',
  }),
  valid_until_epoch: Type.Union([Type.Integer(), Type.Null()], {
    description: 'valid_until in whole seconds since 1970 (rounded down), for scripts.',
  }),
  supervision_deadline: Type.Union([Type.String(), Type.Null()], {
    description: 'When the server ends the session unless the switch speaks first.',
  }),
  supervision_deadline_epoch: Type.Union([Type.Integer(), Type.Null()]),
  answered_at: Type.Union([Type.String(), Type.Null()]),
  used_seconds: Type.Integer(),
  charged: Amount,
  currency: Currency,
  carrier_id: Type.String(),
  prefix: Type.String(),
  destination_name: Type.String(),
  cdr_id: Type.Union([Type.String(), Type.Null()]),
  replayed: Type.Optional(Type.Boolean()),
});

const AuthorizeView = Type.Object({
  allowed: Type.Boolean(),
  reason: Type.Optional(Type.String({ description: `One of: ${denialCodes.join(', ')}.` })),
  message: Type.Optional(Type.String()),
  account_id: Type.Optional(Type.String()),
  subscriber: Type.Optional(Type.String()),
  currency: Type.Optional(Currency),
  available: Type.Optional(Amount),
  carrier_id: Type.Optional(Type.String()),
  prefix: Type.Optional(Type.String()),
  destination_name: Type.Optional(Type.String()),
  rate: Type.Optional(Type.Unknown()),
  max_seconds: Type.Optional(Type.Integer()),
});

/** Which rating plan chose the carrier, and why (core/rating/rating-plans.ts). */
const ratingPlanFields = {
  rating_plan_id: Type.Union([Type.String(), Type.Null()]),
  rating_plan_source: Type.String({
    description: 'subscriber, product, product_carrier, retailer, distributor or currency',
  }),
};

const SessionView = Type.Object({
  id: Type.String(),
  session_id: Type.String(),
  principal_id: Type.String(),
  account_id: Type.String(),
  subscriber: Type.String(),
  caller: Type.Union([Type.String(), Type.Null()]),
  destination: Type.String(),
  carrier_id: Type.String(),
  prefix: Type.String(),
  destination_name: Type.String(),
  currency: Currency,
  status: Type.String(),
  started_at: Type.String(),
  answered_at: Type.Union([Type.String(), Type.Null()]),
  ended_at: Type.Union([Type.String(), Type.Null()]),
  used_seconds: Type.Integer(),
  charged: Amount,
  granted_seconds: Type.Integer(),
  held: Amount,
  final_unit: Type.Boolean(),
  last_request_number: Type.Integer(),
  deadline: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  ...ratingPlanFields,
});

export const CdrView = Type.Object({
  id: Type.String(),
  session_id: Type.String(),
  principal_id: Type.String(),
  account_id: Type.String(),
  subscriber: Type.String(),
  caller: Type.Union([Type.String(), Type.Null()]),
  destination: Type.String(),
  carrier_id: Type.String(),
  prefix: Type.String(),
  destination_name: Type.String(),
  currency: Currency,
  rate: Type.Unknown(),
  started_at: Type.String(),
  answered_at: Type.Union([Type.String(), Type.Null()]),
  ended_at: Type.String(),
  billed_seconds: Type.Integer(),
  cost: Amount,
  reason: Type.String(),
  ...ratingPlanFields,
});

const ReportBody = Type.Object(
  { subscriber: Subscriber, destination: Type.Optional(PhoneNumber) },
  { additionalProperties: false },
);

const ThresholdBody = Type.Object(
  {
    threshold: Amount,
    url: Url,
  },
  { additionalProperties: false },
);

const ThresholdView = Type.Object({
  account_id: Type.String(),
  threshold: Amount,
  url: Type.String(),
  armed: Type.Boolean(),
  updated_at: Type.String(),
});

const Limit = Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' }));

const SessionsQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum(['active', 'terminated'])),
    account_id: Type.Optional(Id),
    cursor: Type.Optional(Id),
    limit: Limit,
  },
  { additionalProperties: false },
);

const CdrsQuery = Type.Object(
  {
    account_id: Type.Optional(Id),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    cursor: Type.Optional(Id),
    limit: Limit,
    format: Type.Optional(Type.Enum(['json', 'csv'])),
  },
  { additionalProperties: false },
);

export function answerJson(answer: CreditAnswer & { replayed?: boolean }) {
  return {
    session_id: answer.sessionId,
    request_type: answer.requestType,
    request_number: answer.requestNumber,
    granted_seconds: answer.grantedSeconds,
    final_unit: answer.finalUnit,
    valid_until: answer.validUntilMs === null ? null : iso(answer.validUntilMs),
    valid_until_epoch: epochOf(answer.validUntilMs),
    supervision_deadline: answer.deadlineMs === null ? null : iso(answer.deadlineMs),
    supervision_deadline_epoch: epochOf(answer.deadlineMs),
    answered_at: answer.answerMs === null ? null : iso(answer.answerMs),
    used_seconds: answer.usedSeconds,
    charged: answer.chargedMinor.toString(),
    currency: answer.currency,
    carrier_id: answer.carrierId,
    prefix: answer.prefix,
    destination_name: answer.destinationName,
    cdr_id: answer.cdrId,
    ...(answer.replayed === undefined ? {} : { replayed: answer.replayed }),
  };
}

/** Whole seconds since 1970, rounded down: what a 32-bit script compares. */
function epochOf(ms: number | null): number | null {
  return ms === null ? null : Math.floor(ms / 1000);
}

/** A report's fields as the core takes them. */
function reportOf(b: Static<typeof UpdateBody>) {
  return {
    sessionId: b.session_id,
    requestNumber: b.request_number,
    usedSeconds: b.used_seconds,
    usedSecondsTotal: b.used_seconds_total,
    answeredAtMs: b.answered_at === undefined ? undefined : Date.parse(b.answered_at),
    answered: b.answered,
  };
}

export function sessionJson(s: ChargingSession) {
  return {
    id: s.id,
    session_id: s.sessionId,
    principal_id: s.principalId,
    account_id: s.accountId,
    subscriber: s.subscriber,
    caller: s.callerNumber,
    destination: s.calledNumber,
    carrier_id: s.carrierId,
    prefix: s.prefix,
    destination_name: s.destinationName,
    currency: s.currency,
    status: s.status,
    started_at: iso(s.startMs),
    answered_at: s.answerMs === null ? null : iso(s.answerMs),
    ended_at: s.endMs === null ? null : iso(s.endMs),
    used_seconds: s.usedSeconds,
    charged: s.chargedMinor.toString(),
    granted_seconds: s.grantedSeconds,
    held: s.holdMinor.toString(),
    final_unit: s.finalUnit,
    last_request_number: s.lastRequestNumber,
    deadline: iso(s.deadlineMs),
    reason: s.reason,
    rating_plan_id: s.ratingPlanId,
    rating_plan_source: s.ratingPlanSource,
  };
}

export function cdrJson(c: Cdr) {
  return {
    id: c.id,
    session_id: c.sessionId,
    principal_id: c.principalId,
    account_id: c.accountId,
    subscriber: c.subscriber,
    caller: c.callerNumber,
    destination: c.calledNumber,
    carrier_id: c.carrierId,
    prefix: c.prefix,
    destination_name: c.destinationName,
    currency: c.currency,
    rate: snakeKeys((JSON.parse(c.rateSnapshot) as { rate: unknown }).rate),
    started_at: iso(c.startMs),
    answered_at: c.answerMs === null ? null : iso(c.answerMs),
    ended_at: iso(c.endMs),
    billed_seconds: c.billedSeconds,
    cost: c.costMinor.toString(),
    reason: c.reason,
    rating_plan_id: c.ratingPlanId,
    rating_plan_source: c.ratingPlanSource,
  };
}

/** The CSV export flattens the rate to its base price terms. */
export function cdrCsvRow(c: Cdr) {
  const { rate, ...rest } = cdrJson(c);
  const terms = (rate as { terms?: Record<string, unknown> }).terms ?? {};
  return {
    ...rest,
    connect_fee: terms.connect_fee ?? '',
    price_per_minute: terms.price_per_minute ?? '',
  };
}

function subscriberOf(body: Static<typeof Subscriber>): SubscriberRef {
  return 'pin' in body ? { pin: body.pin } : { ani: body.ani };
}

/** Page sizes: 50 unless asked, at most 1,000 (the query schema allows up to 9,999). */
const pageSizeOf = (text: string | undefined) => Math.min(limitOf(text) ?? 50, 1000);

export const chargingRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const { charging } = services;
  const count = (name: string, outcome: { ok: boolean; code?: string }) =>
    app.metrics.countOutcome(name, outcome.ok ? 'ok' : (outcome.code ?? 'refused'));

  app.post(
    '/v1/charging/authorize',
    {
      config: { scope: 'charging:control' },
      schema: {
        tags: ['charging'],
        summary: 'May this subscriber call this number now? Carrier, rate and maximum seconds',
        description:
          'Answers 200 with allowed: true, or refuses the call exactly as initiate would: an ' +
          'error with its code (' +
          `${denialCodes.join(', ')}, ...), its RFC 4006 result_code and the SIP reply ` +
          'sip_status a proxy should send. Reserves nothing. A wrong PIN counts towards the ' +
          'redemption lockout, like POST /v1/vouchers/redeem.',
        body: AuthorizeBody,
        response: { 200: AuthorizeView, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await charging.authorize(callerOf(request), {
        subscriber: subscriberOf(b.subscriber),
        callerNumber: b.caller,
        calledNumber: b.destination,
        source: request.ip,
      });
      count('charging_authorize', result);
      if (!result.ok) return sendRefusal(reply, result);
      const a = result.value;
      return {
        allowed: true,
        account_id: a.accountId,
        subscriber: a.subscriber,
        currency: a.currency,
        available: a.availableMinor.toString(),
        carrier_id: a.carrierId,
        prefix: a.prefix,
        destination_name: a.destinationName,
        rate: snakeKeys(a.rate),
        max_seconds: a.maxSeconds,
      };
    },
  );

  app.post(
    '/v1/charging/initiate',
    {
      config: { scope: 'charging:control' },
      schema: {
        tags: ['charging'],
        summary: 'Start a call: authorize it and reserve its first grant (CCR-Initial)',
        description:
          'Reserves a slice of the call (default 300 s, or less when the balance buys less) ' +
          'as a hold on the balance and answers the granted seconds. The server ends the ' +
          'session itself when no update or terminate arrives before the grant ends plus a ' +
          'grace period, and POSTs a disconnect event to callback_url. Repeating the request ' +
          '(same session_id and request_number) returns the first answer with replayed: true.',
        body: InitiateBody,
        response: { 200: AnswerView, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const answeredAtMs = b.answered_at === undefined ? undefined : Date.parse(b.answered_at);
      const result = await charging.initiate(callerOf(request), {
        sessionId: b.session_id,
        requestNumber: b.request_number,
        subscriber: subscriberOf(b.subscriber),
        callerNumber: b.caller,
        calledNumber: b.destination,
        callbackUrl: b.callback_url,
        answeredAtMs,
        answered: b.answered,
        linkAni: b.link_ani,
        source: request.ip,
      });
      count('charging_initiate', result);
      if (!result.ok) return sendRefusal(reply, result);
      return answerJson(result.value);
    },
  );

  app.post(
    '/v1/charging/update',
    {
      config: { scope: 'charging:control' },
      schema: {
        tags: ['charging'],
        summary: 'Report the seconds used of the last grant and get the next one (CCR-Update)',
        description:
          'Charges the used seconds at the rate fixed when the call started (never more than ' +
          'was granted), and reserves the next slice. final_unit: true marks the last grant ' +
          'the balance allows; granted_seconds: 0 means disconnect now. Report either ' +
          'used_seconds (of the last grant, with request_number) or used_seconds_total (since ' +
          'the answer; request_number optional). A call initiated with answered: false reports ' +
          'its answer here (answered_at, or answered: true for now): its grant counts from then.',
        body: UpdateBody,
        response: { 200: AnswerView, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if (b.used_seconds !== undefined && b.used_seconds_total !== undefined) {
        return sendError(reply, 'invalid_request', 'Send used_seconds or used_seconds_total.');
      }
      const result = await charging.update(callerOf(request), reportOf(b));
      count('charging_update', result);
      if (!result.ok) return sendRefusal(reply, result);
      return answerJson(result.value);
    },
  );

  app.post(
    '/v1/charging/terminate',
    {
      config: { scope: 'charging:control' },
      schema: {
        tags: ['charging'],
        summary: 'End a call: charge the seconds used, release the rest, write the CDR',
        description:
          'Takes the same fields as update. A terminate for a call the server already ended ' +
          '(supervision after Tollgate was unreachable, an operator disconnect) reconciles that ' +
          'charge to the seconds reported and refunds the difference, once, while request ' +
          'records are kept (TOLLGATE_CHARGING_REQUEST_LOG_DAYS); it never charges more.',
        body: TerminateBody,
        response: { 200: AnswerView, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if (b.used_seconds !== undefined && b.used_seconds_total !== undefined) {
        return sendError(reply, 'invalid_request', 'Send used_seconds or used_seconds_total.');
      }
      const result = await charging.terminate(callerOf(request), {
        ...reportOf(b),
        ...(b.reason ? { reason: b.reason } : {}),
      });
      count('charging_terminate', result);
      if (!result.ok) return sendRefusal(reply, result);
      return answerJson(result.value);
    },
  );

  app.get(
    '/v1/charging/sessions',
    {
      config: { scope: 'charging:read' },
      schema: {
        tags: ['charging'],
        summary: 'Sessions, live or ended; a switch sees its own',
        querystring: SessionsQuery,
        response: {
          200: Type.Object({
            items: Type.Array(SessionView),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = pageSizeOf(q.limit);
      const items = await charging.listSessions(callerOf(request), {
        ...(q.status ? { status: q.status } : {}),
        ...(q.account_id ? { accountId: q.account_id } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        limit,
      });
      return {
        items: items.map(sessionJson),
        next_cursor: items.length === limit ? (items.at(-1)?.id ?? null) : null,
      };
    },
  );

  app.get(
    '/v1/charging/sessions/:id',
    {
      config: { scope: 'charging:read' },
      schema: {
        tags: ['charging'],
        summary: "A session by the switch's session id (operators may also use our ses_ id)",
        params: Type.Object({ id: SessionId }),
        response: { 200: SessionView, ...errors },
      },
    },
    async (request, reply) => {
      const session = await charging.session(callerOf(request), request.params.id);
      if (!session) return sendError(reply, 'session_not_found');
      return sessionJson(session);
    },
  );

  app.post(
    '/v1/charging/sessions/:id/disconnect',
    {
      config: { scope: 'charging:control' },
      schema: {
        tags: ['charging'],
        summary: 'End a live call now: charge the seconds talked, tell the switch to hang up',
        description:
          'An operator names the session by our ses_ id; a switch names its own sessions by ' +
          'its session id. The seconds talked in the current grant are charged, the ' +
          'rest is released, the CDR says operator_disconnect, and the switch is told through ' +
          "the session's disconnect channel (its callback URL, or the Kamailio agent).",
        params: Type.Object({ id: SessionId }),
        response: {
          200: Type.Object({
            cdr_id: Type.String(),
            used_seconds: Type.Integer(),
            charged: Amount,
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const result = await charging.disconnect(callerOf(request), request.params.id);
      count('charging_disconnect', result);
      if (!result.ok) return sendRefusal(reply, result);
      const { cdrId, usedSeconds, chargedMinor } = result.value;
      return { cdr_id: cdrId, used_seconds: usedSeconds, charged: chargedMinor.toString() };
    },
  );

  app.get(
    '/v1/cdrs',
    {
      config: { scope: 'charging:read' },
      schema: {
        tags: ['charging'],
        summary: 'Call detail records, oldest first; JSON or CSV (format=csv)',
        description: 'Filter by account and by end time (from inclusive, to exclusive).',
        querystring: CdrsQuery,
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const limit = pageSizeOf(q.limit);
      const cdrs = await charging.listCdrs(callerOf(request), {
        ...(q.account_id ? { accountId: q.account_id } : {}),
        ...(q.from ? { fromMs: Date.parse(q.from) } : {}),
        ...(q.to ? { toMs: Date.parse(q.to) } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        limit,
      });
      if (q.format === 'csv') return sendTable(reply, 'csv', cdrs.map(cdrCsvRow));
      return {
        items: cdrs.map(cdrJson),
        next_cursor: cdrs.length === limit ? (cdrs.at(-1)?.id ?? null) : null,
      };
    },
  );

  app.get(
    '/v1/cdrs/:id',
    {
      config: { scope: 'charging:read' },
      schema: {
        tags: ['charging'],
        summary: 'One call detail record',
        params: IdParams,
        response: { 200: CdrView, ...errors },
      },
    },
    async (request, reply) => {
      const cdr = await charging.cdr(callerOf(request), request.params.id);
      if (!cdr) return sendError(reply, 'cdr_not_found');
      return cdrJson(cdr);
    },
  );

  app.post(
    '/v1/charging/report',
    {
      config: { scope: 'charging:read' },
      schema: {
        tags: ['charging'],
        summary: 'A calling-card or caller-number account report, as the IVR reads it out',
        description:
          'Balance, the minutes left to a number, recent calls and recent top-ups and ' +
          'purchases. The subscriber is in the body, so a PIN never appears in a URL.',
        body: ReportBody,
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await charging.report(callerOf(request), {
        subscriber: subscriberOf(b.subscriber),
        ...(b.destination ? { calledNumber: b.destination } : {}),
        source: request.ip,
      });
      if (!result.ok) return sendRefusal(reply, result);
      const r = result.value;
      return {
        account_id: r.accountId,
        subscriber: r.subscriber,
        currency: r.currency,
        balance: r.postedMinor.toString(),
        available: r.availableMinor.toString(),
        held: r.heldMinor.toString(),
        destination: r.destination && {
          number: r.destination.calledNumber,
          carrier_id: r.destination.carrierId,
          destination_name: r.destination.destinationName,
          max_seconds: r.destination.maxSeconds,
          max_minutes: Math.floor(r.destination.maxSeconds / 60),
        },
        active_calls: r.activeCalls,
        recent_calls: r.recentCalls.map(cdrJson),
        recent_credits: r.recentCredits.map((c) => ({
          transfer_id: c.transferId,
          amount: c.amountMinor.toString(),
          at: iso(c.atMs),
          memo: c.memo,
        })),
      };
    },
  );

  const thresholdJson = (t: {
    accountId: string;
    thresholdMinor: bigint;
    url: string;
    armed: boolean;
    updatedAtMs: number;
  }) => ({
    account_id: t.accountId,
    threshold: t.thresholdMinor.toString(),
    url: t.url,
    armed: t.armed,
    updated_at: iso(t.updatedAtMs),
  });

  app.put(
    '/v1/charging/low-balance',
    {
      config: { scope: 'charging:control' },
      schema: {
        tags: ['charging'],
        summary: "A subscriber's own low-balance threshold, set through its switch or IVR",
        description:
          'The subscriber is named by PIN or caller number as for a call (a wrong PIN counts ' +
          'towards the redemption lockout). Same events as PUT /v1/accounts/{id}/low-balance.',
        body: Type.Object(
          { subscriber: Subscriber, threshold: Amount, url: Url },
          { additionalProperties: false },
        ),
        response: { 200: ThresholdView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await charging.setSubscriberThreshold(callerOf(request), {
        subscriber: subscriberOf(request.body.subscriber),
        thresholdMinor: amountOf(request.body.threshold),
        url: request.body.url,
        source: request.ip,
      });
      if (!result.ok) return sendRefusal(reply, result);
      return thresholdJson(result.value);
    },
  );

  app.put(
    '/v1/accounts/:id/low-balance',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['charging'],
        summary:
          'Set a low-balance threshold: a webhook fires when a call takes the balance under it',
        description:
          'POSTs {id, type: "balance.low", data} to the url once per crossing, retried from a ' +
          'durable outbox; re-armed when the balance is back at or above the threshold.',
        params: IdParams,
        body: ThresholdBody,
        response: { 200: ThresholdView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await charging.setThreshold(callerOf(request), {
        accountId: request.params.id,
        thresholdMinor: amountOf(request.body.threshold),
        url: request.body.url,
      });
      if (!result.ok) return sendRefusal(reply, result);
      return thresholdJson(result.value);
    },
  );

  app.get(
    '/v1/accounts/:id/low-balance',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['charging'],
        summary: "An account's low-balance threshold",
        params: IdParams,
        response: { 200: ThresholdView, ...errors },
      },
    },
    async (request, reply) => {
      const result = await charging.getThreshold(callerOf(request), request.params.id);
      if (!result.ok) return sendRefusal(reply, result);
      return thresholdJson(result.value);
    },
  );

  app.delete(
    '/v1/accounts/:id/low-balance',
    {
      config: { scope: 'accounts:read' },
      schema: {
        tags: ['charging'],
        summary: "Remove an account's low-balance threshold",
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const result = await charging.deleteThreshold(callerOf(request), request.params.id);
      if (!result.ok) return sendRefusal(reply, result);
      return reply.code(204).send(null);
    },
  );
};
