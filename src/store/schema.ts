// The database schema as Kysely sees it. Integers that can exceed 2^53 (money, sequence numbers,
// millisecond timestamps) are BIGINT and arrive as JavaScript bigint from both drivers.

import type { Generated } from 'kysely';

export interface PrincipalsTable {
  id: string;
  kind: string;
  name: string;
  parent_id: string | null;
  status: string;
  created_at_ms: bigint;
}

export interface ApiKeysTable {
  id: string;
  principal_id: string;
  key_hash: string;
  scopes: string;
  created_at_ms: bigint;
  revoked_at_ms: bigint | null;
}

export interface AccountsTable {
  id: string;
  owner_id: string;
  name: string;
  currency: string;
  kind: string;
  flags: bigint;
  credit_limit_minor: bigint;
  status: string;
  debits_posted_minor: bigint;
  credits_posted_minor: bigint;
  debits_pending_minor: bigint;
  credits_pending_minor: bigint;
  created_at_ms: bigint;
}

export interface TransfersTable {
  seq: Generated<bigint>;
  id: string;
  principal_id: string;
  idempotency_key: string;
  fingerprint: string;
  kind: string;
  debit_account_id: string;
  credit_account_id: string;
  amount_minor: bigint;
  currency: string;
  hold_id: string | null;
  timeout_at_ms: bigint | null;
  hold_status: string | null;
  code: string | null;
  memo: string | null;
  created_at_ms: bigint;
}

export interface AuditEventsTable {
  seq: Generated<bigint>;
  id: string;
  at_ms: bigint;
  principal_id: string;
  action: string;
  subject_type: string;
  subject_id: string;
  details: string;
}

export interface Database {
  principals: PrincipalsTable;
  api_keys: ApiKeysTable;
  accounts: AccountsTable;
  transfers: TransfersTable;
  audit_events: AuditEventsTable;
}

export type Dialect = 'sqlite' | 'postgres';
