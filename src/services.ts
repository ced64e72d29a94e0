// Wires the core's use cases to a store. The HTTP API, the CLI and the tests all go through
// this one object, so they share every rule.

import { Ledger } from './core/ledger/ledger.ts';
import { Principals } from './core/principals/principals.ts';
import { RatingService } from './core/rating/rating-service.ts';
import type { Clock } from './core/shared/clock.ts';
import type { Store } from './store/store.ts';

export interface Services {
  readonly store: Store;
  readonly clock: Clock;
  readonly ledger: Ledger;
  readonly principals: Principals;
  readonly rating: RatingService;
}

export async function createServices(store: Store, clock: Clock): Promise<Services> {
  const principals = new Principals({
    committer: store.committer,
    reads: store.principalReads,
    clock,
  });
  await principals.ensureSystemPrincipal();
  const ledger = new Ledger({
    committer: store.committer,
    reads: store.ledgerReads,
    principals: store.principalReads,
    clock,
  });
  const rating = new RatingService({ committer: store.committer, reads: store.ratingReads, clock });
  await rating.refresh();
  return { store, clock, ledger, principals, rating };
}
