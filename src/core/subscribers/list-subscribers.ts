// Lists caller-number subscribers a page at a time, in account id order (which is caller number
// order within the `acc_ani_` ids). Calling cards are listed with their vouchers.

import type { Page } from '../ledger/ledger-store.ts';
import { pageSizeMax } from '../ledger/limits.ts';
import type { Caller } from '../shared/principal.ts';
import { ok, type Result, refuse } from '../shared/result.ts';
import { summaryOf } from './find-subscriber.ts';
import {
  callerNumberIdPrefix,
  type SubscriberDeps,
  type SubscriberSummary,
} from './subscriber-types.ts';

/** A page when the client names no size. */
const pageSizeDefault = 50;

/**
 * One page of subscribers and the cursor of the next (the last account id of this one). Only
 * operators see subscribers: anyone else gets an empty page.
 */
export async function listSubscribers(
  deps: SubscriberDeps,
  caller: Caller,
  query: { cursor?: string | undefined; limit?: number | undefined },
): Promise<Result<Page<SubscriberSummary>, 'cursor_invalid'>> {
  const { cursor } = query;
  if (cursor !== undefined && !(cursor.startsWith(callerNumberIdPrefix) && cursor.length <= 64)) {
    return refuse('cursor_invalid', 'The cursor is not one this server handed out.');
  }
  if (caller.principal.kind !== 'operator') return ok({ items: [], nextCursor: null });
  const limit = Math.min(Math.max(query.limit ?? pageSizeDefault, 1), pageSizeMax);
  const accounts = await deps.reads.listCallerNumberAccounts({ afterId: cursor, limit: limit + 1 });
  const items = accounts.slice(0, limit).map(summaryOf);
  return ok({
    items,
    nextCursor: accounts.length > limit ? (items.at(-1)?.account.id ?? null) : null,
  });
}
