// What support sees of a subscriber: the balance (posted, held, available), status, the caller
// numbers linked to it, its live calls, its latest calls and its latest top-ups. Full histories
// are a page away: `/v1/cdrs?account_id=` and `/v1/accounts/{id}/transfers`.

import type { Currency } from '../money/money.ts';
import type { Caller } from '../shared/principal.ts';
import { ok, type Result } from '../shared/result.ts';
import { findSubscriber } from './find-subscriber.ts';
import type {
  SubscriberDeps,
  SubscriberDetail,
  SubscriberRef,
  SubscriberSummary,
  TopUp,
} from './subscriber-types.ts';

/** Linked caller numbers a view lists. */
export const callerNumbersShownMax = 100;
/** Calls and top-ups a view lists, newest first. */
export const recentItemsMax = 10;
/** History entries read looking for top-ups: calls add several entries each (hold, post, void). */
export const historyScanMax = 500;
/** Live calls a view counts. */
const activeCallsCountedMax = 100;

export async function showSubscriber(
  deps: SubscriberDeps,
  caller: Caller,
  ref: SubscriberRef,
  currency?: Currency,
): Promise<Result<SubscriberDetail, 'subscriber_not_found' | 'currency_required'>> {
  const found = await findSubscriber(deps, caller, ref, currency);
  if (!found.ok) return found;
  return ok(await detailOf(deps, found.value));
}

async function detailOf(deps: SubscriberDeps, found: SubscriberSummary): Promise<SubscriberDetail> {
  const accountId = found.account.id;
  const [callerNumbers, recentCalls, active, recentTopUps] = await Promise.all([
    deps.reads.listAniLinks(accountId, callerNumbersShownMax),
    deps.chargingReads.listCdrs({ accountId, newestFirst: true, limit: recentItemsMax }),
    deps.chargingReads.listSessions({ accountId, status: 'active', limit: activeCallsCountedMax }),
    topUpsOf(deps, accountId),
  ]);
  return {
    subscriber: found.subscriber,
    ani: found.ani,
    cardSerial: found.cardSerial,
    account: found.account,
    balance: found.balance,
    callerNumbers,
    activeCalls: active.length,
    recentCalls,
    recentTopUps,
  };
}

/** The latest transfers into the account, walking its history a page at a time. */
async function topUpsOf(deps: SubscriberDeps, accountId: string): Promise<TopUp[]> {
  const topUps: TopUp[] = [];
  let startId: string | undefined;
  let scanned = 0;
  while (scanned < historyScanMax) {
    const page = await deps.ledgerReads.accountHistory({ accountId, startId, limit: 100 });
    scanned += page.entries.length;
    for (const { side, transfer } of page.entries) {
      if (side !== 'credit' || transfer.kind !== 'transfer') continue;
      topUps.push({
        transferId: transfer.id,
        amountMinor: transfer.amountMinor,
        currency: transfer.currency,
        fromAccountId: transfer.debitAccountId,
        code: transfer.code,
        memo: transfer.memo,
        atMs: transfer.createdAtMs,
      });
      if (topUps.length === recentItemsMax) return topUps;
    }
    if (page.nextId === null) break;
    startId = page.nextId;
  }
  return topUps;
}
