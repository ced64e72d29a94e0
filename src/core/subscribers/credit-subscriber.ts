// Credits a subscriber from an operator account (CGRateS's AddBalance, A2Billing's refill): a
// top-up paid at a counter, a goodwill credit, a refund. The transfer carries the code
// `subscriber_credit`, so it shows among the subscriber's top-ups.

import type { Caller } from '../shared/principal.ts';
import type { Result } from '../shared/result.ts';
import {
  type SubscriberTransfer,
  type SubscriberTransferInput,
  type SubscriberTransferRefusal,
  subscriberTransfer,
} from './subscriber-transfer.ts';
import type { SubscriberDeps } from './subscriber-types.ts';

/**
 * Moves `amountMinor` from the operator account `counterpartyAccountId` to the subscriber.
 *
 * @example creditSubscriber(deps, operator, { subscriber: { kind: 'ani', ani: '15550001234' },
 *   counterpartyAccountId: 'acc_cash_USD', amountMinor: 500n, currency: 'USD',
 *   idempotencyKey: 'counter-42' })
 */
export function creditSubscriber(
  deps: SubscriberDeps,
  caller: Caller,
  input: SubscriberTransferInput,
): Promise<Result<SubscriberTransfer, SubscriberTransferRefusal>> {
  return subscriberTransfer(deps, caller, 'credit', input);
}
