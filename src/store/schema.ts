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

export interface RatingPlansTable {
  id: string;
  name: string;
  /** Per currency: { selection, barredPrefixes }, as the routing plan stores them. */
  routing_json: string;
  created_at_ms: bigint;
  updated_at_ms: bigint;
}

export interface RatingPlanAssignmentsTable {
  /** subscriber (an account id), product, retailer or distributor (a principal id). */
  subject_type: string;
  subject_id: string;
  rating_plan_id: string;
  assigned_at_ms: bigint;
}

/** One row: bumped by every change of plans or assignments, so readers reload only then. */
export interface RatingPlanRevisionTable {
  id: number;
  revision: bigint;
}

export interface VoucherProductsTable {
  id: string;
  name: string;
  carrier_id: string | null;
  currency: string;
  face_value_minor: bigint;
  validity_days: number | null;
  pin_length: number;
  pin_alphabet: string;
  pin_check: string;
  access_number: string | null;
  mode: string;
  instructions: string;
  low_stock_threshold: number;
  status: string;
  created_at_ms: bigint;
}

export interface VoucherBatchesTable {
  id: string;
  product_id: string;
  serial_prefix: string;
  count_requested: number;
  count_created: number;
  source: string;
  frozen: number;
  created_by: string;
  created_at_ms: bigint;
}

/** One PIN: its lookup hash (HMAC hex) and ciphertext, never the PIN itself. */
export interface VouchersTable {
  id: Generated<bigint>;
  serial: string;
  batch_id: string;
  product_id: string;
  pin_hash: string;
  pin_encrypted: string;
  status: string;
  frozen: Generated<number>;
  sale_id: string | null;
  sold_at_ms: bigint | null;
  expires_at_ms: bigint | null;
  redeemed_at_ms: bigint | null;
  account_id: string | null;
  created_at_ms: bigint;
}

export interface VoucherSalesTable {
  id: string;
  principal_id: string;
  idempotency_key: string;
  fingerprint: string;
  product_id: string;
  serial: string;
  retailer_id: string;
  float_account_id: string;
  currency: string;
  face_value_minor: bigint;
  retailer_commission_minor: bigint;
  distributor_id: string | null;
  distributor_commission_minor: bigint;
  status: string;
  expires_at_ms: bigint | null;
  created_at_ms: bigint;
  voided_at_ms: bigint | null;
}

export interface VoucherCommissionRulesTable {
  id: string;
  level: string;
  principal_id: string | null;
  product_id: string | null;
  face_value_minor: bigint | null;
  rate_basis_points: number;
  fixed_minor: bigint;
  created_at_ms: bigint;
}

export interface VoucherRedeemFailuresTable {
  subject: string;
  failures: number;
  first_failure_at_ms: bigint;
  locked_until_ms: bigint | null;
}

export interface VoucherDeliveriesTable {
  id: string;
  sale_id: string;
  serial: string;
  channel: string;
  address: string;
  status: string;
  attempts: number;
  next_attempt_at_ms: bigint;
  last_error: string | null;
  created_at_ms: bigint;
}

export interface ChargingSessionsTable {
  id: string;
  principal_id: string;
  session_id: string;
  account_id: string;
  subscriber: string;
  caller_number: string | null;
  called_number: string;
  carrier_id: string;
  prefix: string;
  destination_name: string;
  currency: string;
  rate_snapshot: string;
  revenue_account_id: string;
  status: string;
  start_ms: bigint;
  answer_ms: bigint | null;
  end_ms: bigint | null;
  used_seconds: number;
  charged_minor: bigint;
  granted_seconds: number;
  hold_id: string | null;
  hold_minor: bigint;
  final_unit: number;
  last_request_number: number;
  deadline_ms: bigint;
  callback_url: string | null;
  reason: string | null;
  rating_plan_id: string | null;
  rating_plan_source: string;
}

export interface ChargingRequestsTable {
  session_pk: string;
  request_number: number;
  request_type: string;
  fingerprint: string;
  answer: string;
  created_at_ms: bigint;
}

export interface CdrsTable {
  id: string;
  session_pk: string;
  principal_id: string;
  session_id: string;
  account_id: string;
  subscriber: string;
  caller_number: string | null;
  called_number: string;
  carrier_id: string;
  prefix: string;
  destination_name: string;
  currency: string;
  rate_snapshot: string;
  start_ms: bigint;
  answer_ms: bigint | null;
  end_ms: bigint;
  billed_seconds: number;
  cost_minor: bigint;
  reason: string;
  rating_plan_id: string | null;
  rating_plan_source: string;
}

export interface BalanceThresholdsTable {
  account_id: string;
  threshold_minor: bigint;
  url: string;
  armed: number;
  created_by: string;
  updated_at_ms: bigint;
}

export interface AniLinksTable {
  ani: string;
  account_id: string;
  subscriber: string;
  created_at_ms: bigint;
}

export interface OutboxTable {
  id: string;
  topic: string;
  url: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_ms: bigint;
  last_error: string | null;
  created_at_ms: bigint;
}

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
  rating_plans: RatingPlansTable;
  rating_plan_assignments: RatingPlanAssignmentsTable;
  rating_plan_revision: RatingPlanRevisionTable;
  voucher_products: VoucherProductsTable;
  voucher_batches: VoucherBatchesTable;
  vouchers: VouchersTable;
  voucher_sales: VoucherSalesTable;
  voucher_commission_rules: VoucherCommissionRulesTable;
  voucher_redeem_failures: VoucherRedeemFailuresTable;
  voucher_deliveries: VoucherDeliveriesTable;
  charging_sessions: ChargingSessionsTable;
  charging_requests: ChargingRequestsTable;
  cdrs: CdrsTable;
  balance_thresholds: BalanceThresholdsTable;
  ani_links: AniLinksTable;
  outbox: OutboxTable;
}

export type Dialect = 'sqlite' | 'postgres';
