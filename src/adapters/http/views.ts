// Core objects as JSON: snake_case fields, amounts as decimal strings, times as ISO 8601.

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
