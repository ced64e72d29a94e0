// The one way money moves between a subscriber and the operator: a ledger transfer between the
// subscriber's balance and a named operator account, under the client's idempotency key. The
// same key and request give the first transfer again; the same key with another request is
// refused (`exists_with_different_fields`) by the ledger, which also refuses an overdraft
// (`exceeds_available`): subscriber balances never go below zero.

import type { LedgerRefusalCode } from '../ledger/codes.ts';
import type { Transfer } from '../ledger/types.ts';
import type { Currency, Minor } from '../money/money.ts';
import { type Caller, systemPrincipal } from '../shared/principal.ts';
import { ok, type Result } from '../shared/result.ts';
import { findSubscriber } from './find-subscriber.ts';
import { subscriberRefusal } from './subscriber-commands.ts';
import {
  identityOf,
  type SubscriberDeps,
  type SubscriberRef,
  type SubscriberSummary,
} from './subscriber-types.ts';

export interface SubscriberTransferInput {
  readonly subscriber: SubscriberRef;
  /** The operator account on the other side: the source of a credit, the target of a debit. */
  readonly counterpartyAccountId: string;
  readonly amountMinor: Minor;
  readonly currency: Currency;
  readonly idempotencyKey: string;
  readonly memo?: string | undefined;
}

export type SubscriberTransferRefusal =
  | LedgerRefusalCode
  | 'subscriber_not_found'
  | 'currency_required'
  | 'counterparty_not_allowed';

export interface SubscriberTransfer {
  readonly subscriber: SubscriberSummary;
  readonly transfer: Transfer;
  /** True when the key was used before for this request: no money moved this time. */
  readonly replayed: boolean;
}

/** Moves money into (`credit`) or out of (`debit`) a subscriber's balance. */
export async function subscriberTransfer(
  deps: SubscriberDeps,
  caller: Caller,
  direction: 'credit' | 'debit',
  input: SubscriberTransferInput,
): Promise<Result<SubscriberTransfer, SubscriberTransferRefusal>> {
  const found = await findSubscriber(deps, caller, input.subscriber, input.currency);
  if (!found.ok) return found;
  // An account's owner never changes, so this check holds when the transfer commits. A missing
  // account is left to the ledger, which names the side it is on.
  const counterparty = await deps.ledgerReads.getAccount(input.counterpartyAccountId);
  if (counterparty && (counterparty.ownerId !== systemPrincipal.id || identityOf(counterparty))) {
    return subscriberRefusal('counterparty_not_allowed');
  }
  const subscriberAccountId = found.value.account.id;
  const credit = direction === 'credit';
  const outcome = await deps.ledger.transfer(caller, {
    kind: 'transfer',
    idempotencyKey: input.idempotencyKey,
    debitAccountId: credit ? input.counterpartyAccountId : subscriberAccountId,
    creditAccountId: credit ? subscriberAccountId : input.counterpartyAccountId,
    amountMinor: input.amountMinor,
    currency: input.currency,
    code: credit ? 'subscriber_credit' : 'subscriber_debit',
    memo: input.memo,
  });
  if (!outcome.ok) return outcome;
  return ok({ subscriber: found.value, transfer: outcome.transfer, replayed: outcome.replayed });
}
