// Links a caller number to a subscriber's account, as A2Billing lists caller ids on a card:
// calls from that number are then charged to the account with no PIN (charging looks links up
// first). Linking a number already linked to this account changes nothing; a number linked to
// another account, or with a balance of its own, is refused (`caller_number_taken`).

import type { AniLink } from '../charging/charging-types.ts';
import { type Currency, currencyScales } from '../money/money.ts';
import type { Caller } from '../shared/principal.ts';
import { ok, type Result } from '../shared/result.ts';
import { callerNumberAccountId } from '../vouchers/voucher-accounts.ts';
import { findSubscriber } from './find-subscriber.ts';
import { subscriberRefusal } from './subscriber-commands.ts';
import {
  isCallerNumber,
  type SubscriberDeps,
  type SubscriberRef,
  type SubscriberSummary,
} from './subscriber-types.ts';

const currencies = Object.keys(currencyScales) as Currency[];

export interface LinkCallerNumberInput {
  readonly subscriber: SubscriberRef;
  /** The caller number to link. */
  readonly ani: string;
  /** Which of the subscriber's balances, when its caller number has several. */
  readonly currency?: Currency | undefined;
}

export interface LinkedCallerNumber {
  readonly link: AniLink;
  /** False when the number was already linked to this account. */
  readonly created: boolean;
  readonly subscriber: SubscriberSummary;
}

export async function linkCallerNumber(
  deps: SubscriberDeps,
  caller: Caller,
  input: LinkCallerNumberInput,
): Promise<
  Result<
    LinkedCallerNumber,
    | 'caller_number_invalid'
    | 'subscriber_not_found'
    | 'currency_required'
    | 'caller_number_taken'
    | 'account_closed'
  >
> {
  if (!isCallerNumber(input.ani)) return subscriberRefusal('caller_number_invalid');
  const found = await findSubscriber(deps, caller, input.subscriber, input.currency);
  if (!found.ok) return found;
  const { account } = found.value;
  // The number's own balances as they are now, and the one in this currency, which the command
  // checks again under its lock in case it is being created right now.
  const own = await deps.reads.accountsById(
    currencies.map((currency) => callerNumberAccountId(input.ani, currency)),
  );
  const ownAccountIds = [
    ...new Set([...own.map((a) => a.id), callerNumberAccountId(input.ani, account.currency)]),
  ];
  const linked = await deps.committer.submit('subscribers.link', {
    caller,
    ani: input.ani,
    accountId: account.id,
    subscriber: found.value.subscriber,
    ownAccountIds,
  });
  if (!linked.ok) return linked;
  return ok({ ...linked.value, subscriber: found.value });
}
