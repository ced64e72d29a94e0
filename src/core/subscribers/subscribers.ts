// The subscriber use cases behind one object, as services.ts hands them to the HTTP API and the
// CLI. Each method is a use case in its own file; this class only holds what they share.

import type { Currency } from '../money/money.ts';
import type { Caller } from '../shared/principal.ts';
import { type CreateSubscriberInput, createSubscriber } from './create-subscriber.ts';
import { creditSubscriber } from './credit-subscriber.ts';
import { debitSubscriber } from './debit-subscriber.ts';
import { type LinkCallerNumberInput, linkCallerNumber } from './link-caller-number.ts';
import { listSubscribers } from './list-subscribers.ts';
import { showSubscriber } from './show-subscriber.ts';
import type { SubscriberTransferInput } from './subscriber-transfer.ts';
import type { SubscriberDeps, SubscriberRef } from './subscriber-types.ts';
import { type UnlinkCallerNumberInput, unlinkCallerNumber } from './unlink-caller-number.ts';

export class Subscribers {
  private readonly deps: SubscriberDeps;

  constructor(deps: SubscriberDeps) {
    this.deps = deps;
  }

  create(caller: Caller, input: CreateSubscriberInput) {
    return createSubscriber(this.deps, caller, input);
  }

  show(caller: Caller, ref: SubscriberRef, currency?: Currency) {
    return showSubscriber(this.deps, caller, ref, currency);
  }

  list(caller: Caller, query: { cursor?: string | undefined; limit?: number | undefined }) {
    return listSubscribers(this.deps, caller, query);
  }

  credit(caller: Caller, input: SubscriberTransferInput) {
    return creditSubscriber(this.deps, caller, input);
  }

  debit(caller: Caller, input: SubscriberTransferInput) {
    return debitSubscriber(this.deps, caller, input);
  }

  link(caller: Caller, input: LinkCallerNumberInput) {
    return linkCallerNumber(this.deps, caller, input);
  }

  unlink(caller: Caller, input: UnlinkCallerNumberInput) {
    return unlinkCallerNumber(this.deps, caller, input);
  }
}
