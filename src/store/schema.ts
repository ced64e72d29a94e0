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
  last_transfer_id: string | null;
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
  debit_prev_id: string | null;
  credit_prev_id: string | null;
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

export interface CarriersTable {
  id: string;
  name: string;
  access_code: string | null;
  created_at_ms: bigint;
}

export interface TariffVersionsTable {
  id: string;
  carrier_id: string;
  currency: string;
  time_zone: string;
  rounding_mode: string;
  period_policy: string;
  effective_from_ms: bigint;
  effective_to_ms: bigint | null;
  /** importing (rows still arriving), active, or superseded by a later import. */
  status: string;
  destination_count: bigint;
  route_count: bigint;
  created_at_ms: bigint;
}

export interface TariffDestinationsTable {
  version_id: string;
  destination_index: bigint;
  name: string;
  /** The rate as encodeRate JSON: prices are decimal strings, exact at any precision. */
  rate_json: string;
}

export interface TariffRoutesTable {
  version_id: string;
  prefix: string;
  destination_index: bigint;
}

export interface RoutingPlansTable {
  currency: string;
  selection_json: string;
  barred_prefixes_json: string;
  updated_at_ms: bigint;
}

/** One PIN: its lookup hash (HMAC hex) and ciphertext, never the PIN itself. */

export interface Database {
  principals: PrincipalsTable;
  api_keys: ApiKeysTable;
  accounts: AccountsTable;
  transfers: TransfersTable;
  audit_events: AuditEventsTable;
  carriers: CarriersTable;
  tariff_versions: TariffVersionsTable;
  tariff_destinations: TariffDestinationsTable;
  tariff_routes: TariffRoutesTable;
  routing_plans: RoutingPlansTable;
}

export type Dialect = 'sqlite' | 'postgres';
