// Every way the subscriber use cases can refuse a request. The codes are public API: HTTP maps
// them through errors.ts, the CLI prints them, docs/errors.md lists them. Money moves also
// answer with the ledger's own codes (exceeds_available, exists_with_different_fields, ...).

export const subscriberRefusals = {
  subscriber_exists: 'A subscriber with this caller number and currency already exists.',
  subscriber_not_found:
    'No subscriber has this caller number or calling card, or it is not visible to you.',
  caller_number_invalid:
    'A caller number is an E.164 number: 3 to 15 digits, the first not 0, with an optional +.',
  caller_number_taken:
    'The caller number is already linked to another account or has a balance of its own.',
  caller_number_not_linked: 'The caller number is not linked to this subscriber.',
  counterparty_not_allowed:
    "A subscriber is credited from, and debited to, an operator (system) account only, never another subscriber's balance.",
  currency_required: 'This caller number has balances in several currencies: name one.',
} as const;

export type SubscriberRefusalCode = keyof typeof subscriberRefusals;
