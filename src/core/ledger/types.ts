// The ledger's nouns: accounts, transfers and holds (pending transfers), in TigerBeetle's model.
// Money only ever changes by a transfer that debits one account and credits another by the same
// amount, so the sum of debits equals the sum of credits in every currency at all times.

import type { Currency, Minor } from '../money/money.ts';

export const accountKinds = ['asset', 'liability', 'equity', 'revenue', 'expense'] as const;
export type AccountKind = (typeof accountKinds)[number];

export const accountStatuses = ['open', 'frozen', 'closed'] as const;
export type AccountStatus = (typeof accountStatuses)[number];

/** Flags as stored: a bit mask, so new flags never need a migration. */
export const accountFlagBits = {
  debits_must_not_exceed_credits: 1,
  credits_must_not_exceed_debits: 2,
} as const;
export type AccountFlag = keyof typeof accountFlagBits;
export const accountFlagNames = Object.keys(accountFlagBits) as AccountFlag[];

export interface Account {
  readonly id: string;
  readonly ownerId: string;
  readonly name: string;
  readonly currency: Currency;
  readonly kind: AccountKind;
  readonly flags: readonly AccountFlag[];
  /** How far the flag-guarded side may go past the other: an overdraft or credit line. */
  readonly creditLimitMinor: Minor;
  readonly status: AccountStatus;
  readonly debitsPostedMinor: Minor;
  readonly creditsPostedMinor: Minor;
  readonly debitsPendingMinor: Minor;
  readonly creditsPendingMinor: Minor;
  /**
   * The newest transfer touching this account: the head of its history chain. Each transfer
   * points back to the previous one on each side, so an account's history is read by walking
   * the chain instead of through a secondary index that every commit would have to update.
   */
  readonly lastTransferId: string | null;
  readonly createdAtMs: number;
}

/**
 * `transfer` moves money at once. `hold` is a pending transfer: it holds the amount on both
 * accounts until a `post` (full or partial), a `void`, or an `expire` when its timeout passes.
 */
export const transferKinds = ['transfer', 'hold', 'post', 'void', 'expire'] as const;
export type TransferKind = (typeof transferKinds)[number];

export const holdStatuses = ['pending', 'posted', 'voided', 'expired'] as const;
export type HoldStatus = (typeof holdStatuses)[number];

export interface Transfer {
  readonly id: string;
  /** The principal whose idempotency key this is; keys are unique per principal. */
  readonly principalId: string;
  readonly idempotencyKey: string;
  /** The request as first sent, in canonical form: a replay must match it exactly. */
  readonly fingerprint: string;
  readonly kind: TransferKind;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amountMinor: Minor;
  readonly currency: Currency;
  /** For post, void and expire: the hold they resolve. */
  readonly holdId: string | null;
  /** For holds: when the server expires the hold if it is still pending. */
  readonly timeoutAtMs: number | null;
  /** For holds: where the hold stands now; the only field of a transfer that ever changes. */
  readonly holdStatus: HoldStatus | null;
  readonly code: string | null;
  readonly memo: string | null;
  /** The previous transfer of the debit account's history chain (null for its first). */
  readonly debitPrevId: string | null;
  /** The previous transfer of the credit account's history chain. */
  readonly creditPrevId: string | null;
  readonly createdAtMs: number;
}

/** A new account: open, with nothing posted or held and no history yet. */
export function newAccount(
  fields: Pick<
    Account,
    'id' | 'ownerId' | 'name' | 'currency' | 'kind' | 'flags' | 'creditLimitMinor'
  > & { readonly createdAtMs: number },
): Account {
  return {
    id: fields.id,
    ownerId: fields.ownerId,
    name: fields.name,
    currency: fields.currency,
    kind: fields.kind,
    flags: fields.flags,
    creditLimitMinor: fields.creditLimitMinor,
    status: 'open',
    debitsPostedMinor: 0n,
    creditsPostedMinor: 0n,
    debitsPendingMinor: 0n,
    creditsPendingMinor: 0n,
    lastTransferId: null,
    createdAtMs: fields.createdAtMs,
  };
}

/** What a balance looks like from the account's normal side. */
export interface Balance {
  readonly accountId: string;
  readonly currency: Currency;
  /** Posted balance on the account's normal side (credits - debits for a liability). */
  readonly postedMinor: Minor;
  /** Amount held by pending transfers that would reduce the balance. */
  readonly heldMinor: Minor;
  /** Amount held by pending transfers that would increase the balance. */
  readonly incomingMinor: Minor;
  /** What can still be spent: posted - held, plus any credit limit for guarded accounts. */
  readonly availableMinor: Minor;
}

export function isCreditNormal(kind: AccountKind): boolean {
  return kind === 'liability' || kind === 'equity' || kind === 'revenue';
}

export function balanceOf(account: Account): Balance {
  const creditNormal = isCreditNormal(account.kind);
  const postedMinor = creditNormal
    ? account.creditsPostedMinor - account.debitsPostedMinor
    : account.debitsPostedMinor - account.creditsPostedMinor;
  const heldMinor = creditNormal ? account.debitsPendingMinor : account.creditsPendingMinor;
  const incomingMinor = creditNormal ? account.creditsPendingMinor : account.debitsPendingMinor;
  const guarded = account.flags.includes(
    creditNormal ? 'debits_must_not_exceed_credits' : 'credits_must_not_exceed_debits',
  );
  const availableMinor = postedMinor - heldMinor + (guarded ? account.creditLimitMinor : 0n);
  return {
    accountId: account.id,
    currency: account.currency,
    postedMinor,
    heldMinor,
    incomingMinor,
    availableMinor,
  };
}

export function flagsToBits(flags: readonly AccountFlag[]): number {
  let bits = 0;
  for (const flag of flags) bits |= accountFlagBits[flag];
  return bits;
}

export function flagsFromBits(bits: number): AccountFlag[] {
  return accountFlagNames.filter((flag) => (bits & accountFlagBits[flag]) !== 0);
}
