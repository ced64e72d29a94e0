// How a route answers: errors through the one errors table, and the authenticated caller. Routes
// import these from here, not from app.ts, which imports the routes (Fastify likewise keeps its
// reply helpers apart from the instance that registers plugins).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../core/shared/principal.ts';
import { type ErrorCode, errorBody, HttpRefusal, httpStatusOf } from './errors.ts';

/** Answers a core refusal: its code decides the status through the errors table. */
export function sendRefusal(reply: FastifyReply, outcome: { code: string; message: string }) {
  return sendError(reply, outcome.code as ErrorCode, outcome.message);
}

export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  message?: string,
  details?: readonly unknown[],
) {
  return reply.status(httpStatusOf[code]).send(errorBody(code, message, details));
}

/** The caller of an authenticated route; the onRequest hook guarantees there is one. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new HttpRefusal('unauthorized');
  return request.caller;
}
