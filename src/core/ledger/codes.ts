// Every way the ledger can refuse a request. The codes are part of the public API: they appear
// in HTTP errors and CLI output and are listed in docs/errors.md, which a test keeps in sync.

export const ledgerRefusals = {
  exists_with_different_fields:
    'This idempotency key was already used for a different request; nothing was changed.',
  amount_must_be_positive: 'The amount must be a whole number of minor units greater than zero.',
  accounts_must_be_different: 'The debit and credit accounts must be different accounts.',
  debit_account_not_found: 'The debit account does not exist or is not visible to you.',
  credit_account_not_found: 'The credit account does not exist or you may not pay into it.',
  currency_mismatch: 'The transfer currency must match both accounts.',
  account_frozen: 'One of the accounts is frozen: no new transfers or holds until it is unfrozen.',
  account_closed: 'One of the accounts is closed.',
  exceeds_available: 'The debit account does not have enough available balance.',
  exceeds_debits: 'The credit account may not be credited beyond its debits.',
  overflows_balance: 'The transfer would take a balance beyond the 64-bit range.',
  timeout_out_of_range: 'A hold timeout must be between 1 second and the configured maximum.',
  hold_not_found: 'The hold does not exist or is not visible to you.',
  hold_expired: 'The hold has expired; its amount was or will be released.',
  hold_already_posted: 'The hold was already posted.',
  hold_already_voided: 'The hold was already voided.',
  post_exceeds_hold: 'A hold cannot be posted for more than the amount it holds.',
} as const;

export type LedgerRefusalCode = keyof typeof ledgerRefusals;

export const accountRefusals = {
  account_not_found: 'The account does not exist or is not visible to you.',
  owner_not_found: 'The owner principal does not exist.',
  currency_unknown: 'The currency is not an ISO 4217 code that Tollgate knows.',
  account_not_empty: 'An account can be closed only when its balances and holds are zero.',
  status_change_not_allowed: 'That status change is not allowed.',
} as const;

export type AccountRefusalCode = keyof typeof accountRefusals;
