// Creates a caller-number subscriber: the account `acc_ani_<number>_<CUR>` that charging finds
// for calls from that number (as CGRateS's SetAccount makes an account that AddBalance fills).
// It can never go below zero, like the caller-number accounts that redemption opens, and starts
// empty: money arrives by a credit (credit-subscriber.ts), a redemption or a transfer.

import type { AccountStatus } from '../ledger/types.ts';
import type { Currency } from '../money/money.ts';
import { type Caller, systemPrincipal } from '../shared/principal.ts';
import { ok, type Result } from '../shared/result.ts';
import { callerNumberAccountId, spendableAccount } from '../vouchers/voucher-accounts.ts';
import { summaryOf } from './find-subscriber.ts';
import { subscriberRefusal } from './subscriber-commands.ts';
import { isCallerNumber, type SubscriberDeps, type SubscriberDetail } from './subscriber-types.ts';

/** Longest subscriber name (the account's name), checked by the adapters. */
export const subscriberNameLengthMax = 128;

export interface CreateSubscriberInput {
  readonly ani: string;
  readonly currency: Currency;
  /** Defaults to `Caller <ani>`, the name redemption gives caller-number accounts. */
  readonly name?: string | undefined;
  /** `frozen` creates a subscriber that cannot call or be charged until it is opened. */
  readonly status?: Extract<AccountStatus, 'open' | 'frozen'> | undefined;
}

/**
 * Creates the subscriber of a caller number in a currency. Refuses a number that already has
 * one in that currency (`subscriber_exists`) or that is linked to another account
 * (`caller_number_taken`).
 *
 * @example createSubscriber(deps, operator, { ani: '15550001234', currency: 'USD' })
 */
export async function createSubscriber(
  deps: SubscriberDeps,
  caller: Caller,
  input: CreateSubscriberInput,
): Promise<
  Result<
    SubscriberDetail,
    'subscriber_not_found' | 'caller_number_invalid' | 'subscriber_exists' | 'caller_number_taken'
  >
> {
  if (caller.principal.kind !== 'operator') return subscriberRefusal('subscriber_not_found');
  if (!isCallerNumber(input.ani)) return subscriberRefusal('caller_number_invalid');
  const account = spendableAccount({
    id: callerNumberAccountId(input.ani, input.currency),
    ownerId: systemPrincipal.id,
    name: input.name ?? `Caller ${input.ani}`,
    currency: input.currency,
    creditLimitMinor: 0n,
    nowMs: deps.clock.nowMs(),
  });
  const created = await deps.committer.submit('subscribers.create', {
    caller,
    ani: input.ani,
    account: input.status === 'frozen' ? { ...account, status: 'frozen' } : account,
  });
  if (!created.ok) return created;
  return ok({
    ...summaryOf(created.value),
    callerNumbers: [],
    activeCalls: 0,
    recentCalls: [],
    recentTopUps: [],
  });
}
