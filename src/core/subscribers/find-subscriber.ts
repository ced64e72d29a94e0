// Finds the subscriber a request names, the way charging finds who pays for a call: a caller
// number linked to an account pays from that account; otherwise from its own caller-number
// account; a calling card from its card account. Only operators see subscribers: for anyone
// else every subscriber is missing, so an answer never tells an outsider which numbers exist.

import { balanceOf } from '../ledger/types.ts';
import { type Currency, currencyScales } from '../money/money.ts';
import type { Caller } from '../shared/principal.ts';
import { ok, type Result } from '../shared/result.ts';
import { callerNumberAccountId, callingCardAccountId } from '../vouchers/voucher-accounts.ts';
import { subscriberRefusal } from './subscriber-commands.ts';
import {
  identityOf,
  type SubscriberDeps,
  type SubscriberRef,
  type SubscriberSummary,
} from './subscriber-types.ts';

const currencies = Object.keys(currencyScales) as Currency[];

/**
 * The subscriber `ref` names. A caller number with balances in several currencies needs
 * `currency` to say which; a linked number always means the account it is linked to.
 */
export async function findSubscriber(
  deps: SubscriberDeps,
  caller: Caller,
  ref: SubscriberRef,
  currency?: Currency,
): Promise<Result<SubscriberSummary, 'subscriber_not_found' | 'currency_required'>> {
  if (caller.principal.kind !== 'operator') return subscriberRefusal('subscriber_not_found');
  if (ref.kind === 'card') {
    const account = await deps.ledgerReads.getAccount(callingCardAccountId(ref.serial));
    if (!account) return subscriberRefusal('subscriber_not_found');
    return ok(summaryOf(account));
  }
  const link = await deps.chargingReads.getAniLink(ref.ani);
  if (link) {
    const account = await deps.ledgerReads.getAccount(link.accountId);
    if (!account) return subscriberRefusal('subscriber_not_found');
    const identity = identityOf(account);
    return ok({
      subscriber: identity?.subscriber ?? link.subscriber,
      ani: identity?.ani ?? null,
      cardSerial: identity?.cardSerial ?? null,
      account,
      balance: balanceOf(account),
    });
  }
  const ids = (currency ? [currency] : currencies).map((c) => callerNumberAccountId(ref.ani, c));
  const accounts = await deps.reads.accountsById(ids);
  const [account] = accounts;
  if (!account) return subscriberRefusal('subscriber_not_found');
  if (accounts.length > 1) return subscriberRefusal('currency_required');
  return ok(summaryOf(account));
}

/** A caller-number or calling-card account as a subscriber. */
export function summaryOf(account: SubscriberSummary['account']): SubscriberSummary {
  const identity = identityOf(account);
  return {
    subscriber: identity?.subscriber ?? `account:${account.id}`,
    ani: identity?.ani ?? null,
    cardSerial: identity?.cardSerial ?? null,
    account,
    balance: balanceOf(account),
  };
}
