// Wires the core's use cases to a store. The HTTP API, the CLI and the tests all go through
// this one object, so they share every rule.

import { Charging, type ChargingSettings } from './core/charging/charging.ts';
import { Ledger } from './core/ledger/ledger.ts';
import { Principals } from './core/principals/principals.ts';
import { RatingService } from './core/rating/rating-service.ts';
import type { Clock } from './core/shared/clock.ts';
import { identityOf } from './core/subscribers/subscriber-types.ts';
import { Subscribers } from './core/subscribers/subscribers.ts';
import { PinVault } from './core/vouchers/pin-secret.ts';
import { type VoucherSettings, Vouchers } from './core/vouchers/vouchers.ts';
import type { Store } from './store/store.ts';

export interface Services {
  readonly store: Store;
  readonly clock: Clock;
  readonly ledger: Ledger;
  readonly principals: Principals;
  readonly rating: RatingService;
  readonly vouchers: Vouchers;
  readonly charging: Charging;
  readonly subscribers: Subscribers;
}

export interface ServiceOptions {
  /** The 32-byte PIN master key; without it, voucher operations that touch PINs throw. */
  readonly pinKey?: Uint8Array | undefined;
  readonly voucherSettings?: Partial<VoucherSettings> | undefined;
  readonly chargingSettings?: Partial<ChargingSettings> | undefined;
}

export async function createServices(
  store: Store,
  clock: Clock,
  options: ServiceOptions = {},
): Promise<Services> {
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
  const rating = new RatingService({
    committer: store.committer,
    reads: store.ratingReads,
    clock,
    targets: {
      productCurrency: async (id) => (await store.voucherReads.getProduct(id))?.currency ?? null,
      subscriberCurrency: async (accountId) => {
        const account = await store.ledgerReads.getAccount(accountId);
        return account && identityOf(account) ? account.currency : null;
      },
      principalKind: async (id) => (await store.principalReads.getPrincipal(id))?.kind ?? null,
    },
  });
  await rating.refresh();
  const vouchers = new Vouchers({
    committer: store.committer,
    reads: store.voucherReads,
    ledgerReads: store.ledgerReads,
    principals: store.principalReads,
    audit: store.auditReads,
    ledger,
    clock,
    vault: options.pinKey ? new PinVault({ masterKey: options.pinKey }) : null,
    settings: options.voucherSettings,
  });
  const charging = new Charging({
    committer: store.committer,
    reads: store.chargingReads,
    ledgerReads: store.ledgerReads,
    rating,
    vouchers,
    clock,
    settings: {
      prefetchSessionMoney: store.dialect === 'postgres',
      ...options.chargingSettings,
    },
  });
  const subscribers = new Subscribers({
    committer: store.committer,
    reads: store.subscriberReads,
    ledgerReads: store.ledgerReads,
    chargingReads: store.chargingReads,
    ledger,
    clock,
  });
  return { store, clock, ledger, principals, rating, vouchers, charging, subscribers };
}
