// Debits a subscriber to an operator account (CGRateS's DebitBalance): a correction, a fee, a
// cash refund paid out. The balance never goes below zero: a debit beyond what is available
// is refused with `exceeds_available` and moves nothing.

import type { Caller } from '../shared/principal.ts';
import type { Result } from '../shared/result.ts';
import {
  type SubscriberTransfer,
  type SubscriberTransferInput,
  type SubscriberTransferRefusal,
  subscriberTransfer,
} from './subscriber-transfer.ts';
import type { SubscriberDeps } from './subscriber-types.ts';

/** Moves `amountMinor` from the subscriber to the operator account `counterpartyAccountId`. */
export function debitSubscriber(
  deps: SubscriberDeps,
  caller: Caller,
  input: SubscriberTransferInput,
): Promise<Result<SubscriberTransfer, SubscriberTransferRefusal>> {
  return subscriberTransfer(deps, caller, 'debit', input);
}
