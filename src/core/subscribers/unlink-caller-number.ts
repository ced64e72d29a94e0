// Unlinks a caller number from a subscriber's account: its calls are charged to it no more, and
// go back to the number's own balance if it has one, or are refused as `unknown_account`.

import type { AniLink } from '../charging/charging-types.ts';
import type { Currency } from '../money/money.ts';
import type { Caller } from '../shared/principal.ts';
import { ok, type Result } from '../shared/result.ts';
import { findSubscriber } from './find-subscriber.ts';
import type { SubscriberDeps, SubscriberRef } from './subscriber-types.ts';

export interface UnlinkCallerNumberInput {
  readonly subscriber: SubscriberRef;
  /** The linked caller number. */
  readonly ani: string;
  readonly currency?: Currency | undefined;
}

export async function unlinkCallerNumber(
  deps: SubscriberDeps,
  caller: Caller,
  input: UnlinkCallerNumberInput,
): Promise<
  Result<AniLink, 'subscriber_not_found' | 'currency_required' | 'caller_number_not_linked'>
> {
  const found = await findSubscriber(deps, caller, input.subscriber, input.currency);
  if (!found.ok) return found;
  const unlinked = await deps.committer.submit('subscribers.unlink', {
    caller,
    ani: input.ani,
    accountId: found.value.account.id,
  });
  if (!unlinked.ok) return unlinked;
  return ok(unlinked.value);
}
