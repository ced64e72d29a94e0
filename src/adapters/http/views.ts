// Core objects as JSON: snake_case fields, amounts as decimal strings, times as ISO 8601.

import { stringify } from 'csv-stringify/sync';
import type { FastifyReply } from 'fastify';
import type { AccountView as CoreAccountView } from '../../core/ledger/ledger.ts';
import type { Transfer } from '../../core/ledger/types.ts';
import type { Principal } from '../../core/shared/principal.ts';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function accountJson({ account, balance }: CoreAccountView) {
  return {
    id: account.id,
    owner_id: account.ownerId,
    name: account.name,
    currency: account.currency,
    kind: account.kind,
    flags: [...account.flags],
    credit_limit: account.creditLimitMinor.toString(),
    status: account.status,
    balance: {
      posted: balance.postedMinor.toString(),
      held: balance.heldMinor.toString(),
      incoming: balance.incomingMinor.toString(),
      available: balance.availableMinor.toString(),
    },
    debits_posted: account.debitsPostedMinor.toString(),
    credits_posted: account.creditsPostedMinor.toString(),
    debits_pending: account.debitsPendingMinor.toString(),
    credits_pending: account.creditsPendingMinor.toString(),
    created_at: iso(account.createdAtMs),
  };
}

export function transferJson(transfer: Transfer) {
  return {
    id: transfer.id,
    kind: transfer.kind,
    debit_account_id: transfer.debitAccountId,
    credit_account_id: transfer.creditAccountId,
    amount: transfer.amountMinor.toString(),
    currency: transfer.currency,
    hold_id: transfer.holdId,
    hold_status: transfer.holdStatus,
    timeout_at: transfer.timeoutAtMs === null ? null : iso(transfer.timeoutAtMs),
    code: transfer.code,
    memo: transfer.memo,
    created_at: iso(transfer.createdAtMs),
  };
}

export function principalJson(principal: Principal) {
  return {
    id: principal.id,
    kind: principal.kind,
    name: principal.name,
    parent_id: principal.parentId,
    status: principal.status,
    created_at: iso(principal.createdAtMs),
  };
}

/** Rates are stored as encodeRate JSON (camelCase); the API speaks snake_case throughout. */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      snakeKeys(inner),
    ]),
  );
}

/** A list as JSON (`{items}`) or, with `format=csv`, as a CSV file with a header line. */
export function sendTable(
  reply: FastifyReply,
  format: string | undefined,
  rows: Array<Record<string, unknown>>,
) {
  if (format === 'csv') {
    return reply.type('text/csv; charset=utf-8').send(stringify(rows, { header: true }));
  }
  return reply.send({ items: rows });
}
