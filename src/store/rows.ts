// Conversions between database rows and core objects, shared by both dialects.

import {
  type Account,
  type AccountKind,
  type AccountStatus,
  flagsFromBits,
  flagsToBits,
  type HoldStatus,
  type Transfer,
  type TransferKind,
} from '../core/ledger/types.ts';
import type { Currency } from '../core/money/money.ts';
import type { ApiKeyRecord } from '../core/principals/principal-store.ts';
import type { AuditEvent } from '../core/shared/audit.ts';
import type { Principal, PrincipalKind, Scope } from '../core/shared/principal.ts';
import type {
  AccountsTable,
  ApiKeysTable,
  AuditEventsTable,
  PrincipalsTable,
  TransfersTable,
} from './schema.ts';

/** Drivers hand back bigint, number or string depending on the column and dialect. */
export function big(value: bigint | number | string): bigint {
  return typeof value === 'bigint' ? value : BigInt(value);
}

export const num = (value: bigint | number | string): number => Number(value);
export const numOrNull = (value: bigint | number | string | null): number | null =>
  value === null ? null : Number(value);
export const bigOrNull = (value: number | null): bigint | null =>
  value === null ? null : BigInt(value);

export function ms(value: bigint | number | string): number {
  return Number(value);
}

export function accountFromRow(row: AccountsTable): Account {
  return {
    id: row.id,
    ownerId: row.owner_id,
    name: row.name,
    currency: row.currency as Currency,
    kind: row.kind as AccountKind,
    flags: flagsFromBits(Number(row.flags)),
    creditLimitMinor: big(row.credit_limit_minor),
    status: row.status as AccountStatus,
    debitsPostedMinor: big(row.debits_posted_minor),
    creditsPostedMinor: big(row.credits_posted_minor),
    debitsPendingMinor: big(row.debits_pending_minor),
    creditsPendingMinor: big(row.credits_pending_minor),
    lastTransferId: row.last_transfer_id,
    createdAtMs: ms(row.created_at_ms),
  };
}

export function accountToRow(account: Account): AccountsTable {
  return {
    id: account.id,
    owner_id: account.ownerId,
    name: account.name,
    currency: account.currency,
    kind: account.kind,
    flags: BigInt(flagsToBits(account.flags)),
    credit_limit_minor: account.creditLimitMinor,
    status: account.status,
    debits_posted_minor: account.debitsPostedMinor,
    credits_posted_minor: account.creditsPostedMinor,
    debits_pending_minor: account.debitsPendingMinor,
    credits_pending_minor: account.creditsPendingMinor,
    last_transfer_id: account.lastTransferId,
    created_at_ms: BigInt(account.createdAtMs),
  };
}

export type TransferRow = Omit<TransfersTable, 'seq'> & { seq?: bigint | number | string };

export function transferFromRow(row: TransferRow): Transfer {
  return {
    id: row.id,
    principalId: row.principal_id,
    idempotencyKey: row.idempotency_key,
    fingerprint: row.fingerprint,
    kind: row.kind as TransferKind,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amountMinor: big(row.amount_minor),
    currency: row.currency as Currency,
    holdId: row.hold_id,
    timeoutAtMs: row.timeout_at_ms === null ? null : ms(row.timeout_at_ms),
    holdStatus: row.hold_status as HoldStatus | null,
    code: row.code,
    memo: row.memo,
    debitPrevId: row.debit_prev_id,
    creditPrevId: row.credit_prev_id,
    createdAtMs: ms(row.created_at_ms),
  };
}

export function transferToRow(transfer: Transfer): Omit<TransfersTable, 'seq'> {
  return {
    id: transfer.id,
    principal_id: transfer.principalId,
    idempotency_key: transfer.idempotencyKey,
    fingerprint: transfer.fingerprint,
    kind: transfer.kind,
    debit_account_id: transfer.debitAccountId,
    credit_account_id: transfer.creditAccountId,
    amount_minor: transfer.amountMinor,
    currency: transfer.currency,
    hold_id: transfer.holdId,
    timeout_at_ms: transfer.timeoutAtMs === null ? null : BigInt(transfer.timeoutAtMs),
    hold_status: transfer.holdStatus,
    code: transfer.code,
    memo: transfer.memo,
    debit_prev_id: transfer.debitPrevId,
    credit_prev_id: transfer.creditPrevId,
    created_at_ms: BigInt(transfer.createdAtMs),
  };
}

export function principalFromRow(row: PrincipalsTable): Principal {
  return {
    id: row.id,
    kind: row.kind as PrincipalKind,
    name: row.name,
    parentId: row.parent_id,
    status: row.status as Principal['status'],
    createdAtMs: ms(row.created_at_ms),
  };
}

export function principalToRow(principal: Principal): PrincipalsTable {
  return {
    id: principal.id,
    kind: principal.kind,
    name: principal.name,
    parent_id: principal.parentId,
    status: principal.status,
    created_at_ms: BigInt(principal.createdAtMs),
  };
}

export function apiKeyFromRow(row: ApiKeysTable): ApiKeyRecord {
  return {
    id: row.id,
    principalId: row.principal_id,
    keyHash: row.key_hash,
    scopes: JSON.parse(row.scopes) as Scope[],
    createdAtMs: ms(row.created_at_ms),
    revokedAtMs: row.revoked_at_ms === null ? null : ms(row.revoked_at_ms),
  };
}

export function apiKeyToRow(key: ApiKeyRecord): ApiKeysTable {
  return {
    id: key.id,
    principal_id: key.principalId,
    key_hash: key.keyHash,
    scopes: JSON.stringify(key.scopes),
    created_at_ms: BigInt(key.createdAtMs),
    revoked_at_ms: key.revokedAtMs === null ? null : BigInt(key.revokedAtMs),
  };
}

export function auditFromRow(row: Omit<AuditEventsTable, 'seq'>): AuditEvent {
  return {
    id: row.id,
    atMs: ms(row.at_ms),
    principalId: row.principal_id,
    action: row.action,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    details: JSON.parse(row.details) as AuditEvent['details'],
  };
}

export function auditToRow(event: AuditEvent): Omit<AuditEventsTable, 'seq'> {
  return {
    id: event.id,
    at_ms: BigInt(event.atMs),
    principal_id: event.principalId,
    action: event.action,
    subject_type: event.subjectType,
    subject_id: event.subjectId,
    details: JSON.stringify(event.details),
  };
}
