// A subscriber is who pays for a call: a caller-number (ANI) balance, `acc_ani_<number>_<CUR>`,
// or an activated calling card, `acc_card_<serial>`. These are the same accounts charging finds
// (charging.ts, findSubscriber), so a subscriber made here can call at once. Caller numbers can
// be linked to a subscriber's account (the `ani_links` table): a call from a linked number is
// charged to that account, as A2Billing charges a card for the caller ids on its list.

import type { AniLink, Cdr, ChargingReadStore } from '../charging/charging-types.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { LedgerReadStore } from '../ledger/ledger-store.ts';
import type { Account, Balance } from '../ledger/types.ts';
import type { Currency, Minor } from '../money/money.ts';
import type { Clock } from '../shared/clock.ts';
import { parseSerial } from '../vouchers/pin-code.ts';
import { callerNumberAccountId, callingCardAccountId } from '../vouchers/voucher-accounts.ts';
import type { WriteCommitter } from '../write-commands.ts';

/** How a request names a subscriber: by a caller number, or by a calling card's serial. */
export type SubscriberRef =
  | { readonly kind: 'ani'; readonly ani: string }
  | { readonly kind: 'card'; readonly serial: string };

/** The start of every caller-number account id (see `callerNumberAccountId`). */
export const callerNumberIdPrefix = 'acc_ani_';
const callingCardIdPrefix = 'acc_card_';

/**
 * A caller number a subscriber is created or linked with: E.164, 3 to 15 digits, the first not
 * 0. A leading + is kept as sent, since it is part of the account id and the switch must send
 * the number in the same form for charging to find it.
 */
const callerNumberPattern = /^\+?[1-9][0-9]{2,14}$/;

/** Any caller number charging accepts, for naming subscribers that already exist. */
const anyCallerNumberPattern = /^\+?[0-9]{1,32}$/;

export function isCallerNumber(text: string): boolean {
  return callerNumberPattern.test(text);
}

/**
 * Reads a subscriber's name as clients write it: a caller number (`15550001234`, `+44…`), the
 * same with charging's `ani:` in front, or `card:<serial>`. Undefined for anything else.
 *
 * @example parseSubscriberRef('card:b2026a-000000042') // { kind: 'card', serial: 'B2026A-000000042' }
 */
export function parseSubscriberRef(text: string): SubscriberRef | undefined {
  if (text.startsWith('card:')) {
    const serial = text.slice(5).trim().toUpperCase();
    return parseSerial(serial) === undefined ? undefined : { kind: 'card', serial };
  }
  const ani = text.startsWith('ani:') ? text.slice(4) : text;
  return anyCallerNumberPattern.test(ani) ? { kind: 'ani', ani } : undefined;
}

/** Who an account belongs to, as charging names subscribers in sessions and CDRs. */
export interface SubscriberIdentity {
  /** `ani:<caller number>` or `card:<serial>`. */
  readonly subscriber: string;
  readonly ani: string | null;
  readonly cardSerial: string | null;
}

/** The identity of a caller-number or calling-card account; null for any other account. */
export function identityOf(account: Account): SubscriberIdentity | null {
  const { id } = account;
  if (id.startsWith(callerNumberIdPrefix)) {
    const ani = id.slice(callerNumberIdPrefix.length, id.length - account.currency.length - 1);
    if (callerNumberAccountId(ani, account.currency) !== id) return null;
    return { subscriber: `ani:${ani}`, ani, cardSerial: null };
  }
  if (id.startsWith(callingCardIdPrefix)) {
    const serial = id.slice(callingCardIdPrefix.length);
    if (callingCardAccountId(serial) !== id) return null;
    return { subscriber: `card:${serial}`, ani: null, cardSerial: serial };
  }
  return null;
}

/** A subscriber as lists show it. */
export interface SubscriberSummary extends SubscriberIdentity {
  readonly account: Account;
  readonly balance: Balance;
}

/** A credit to the subscriber's balance: a top-up, a redemption, a refund. */
export interface TopUp {
  readonly transferId: string;
  readonly amountMinor: Minor;
  readonly currency: Currency;
  readonly fromAccountId: string;
  readonly code: string | null;
  readonly memo: string | null;
  readonly atMs: number;
}

/** A subscriber with what support asks about: its caller numbers, calls and top-ups. */
export interface SubscriberDetail extends SubscriberSummary {
  /** Caller numbers linked to this account, whose calls it pays for. */
  readonly callerNumbers: readonly AniLink[];
  readonly activeCalls: number;
  /** Newest first. */
  readonly recentCalls: readonly Cdr[];
  /** Newest first. */
  readonly recentTopUps: readonly TopUp[];
}

/** Reads the subscriber use cases need beyond the ledger's and charging's own. */
export interface SubscriberReadStore {
  /** The accounts among `ids` that exist, in id order. */
  accountsById(ids: readonly string[]): Promise<Account[]>;
  /**
   * Caller-number accounts (ids starting `acc_ani_`, numbers of digits and `+`), in id order,
   * after `afterId` when given.
   */
  listCallerNumberAccounts(query: {
    afterId?: string | undefined;
    limit: number;
  }): Promise<Account[]>;
  /** The caller numbers linked to an account, in number order. */
  listAniLinks(accountId: string, limit: number): Promise<AniLink[]>;
}

/** What the subscriber use cases work with; `Subscribers` (subscribers.ts) holds one. */
export interface SubscriberDeps {
  readonly committer: WriteCommitter;
  readonly reads: SubscriberReadStore;
  readonly ledgerReads: LedgerReadStore;
  readonly chargingReads: ChargingReadStore;
  readonly ledger: Ledger;
  readonly clock: Clock;
}
