// The subscriber write commands: what runs inside a group commit to create a caller-number
// account and to link or unlink a caller number. Credits and debits are plain ledger transfers
// (`ledger.transfer`). Each command re-checks, under the transaction's locks, what the caller's
// thread saw, so two requests racing for one number cannot both win: on PostgreSQL the loser's
// insert hits the unique key, its transaction is retried and then sees the winner.

import type { AniLink } from '../charging/charging-types.ts';
import { ledgerRefusals } from '../ledger/codes.ts';
import type { LedgerNeeds } from '../ledger/ledger-batch.ts';
import { auditEvent } from '../ledger/ledger-commands.ts';
import type { Account } from '../ledger/types.ts';
import type { Caller } from '../shared/principal.ts';
import { ok, type Refusal, type Result, refuse } from '../shared/result.ts';
import { defineCommand, type WriteContext } from '../shared/write-command.ts';
import { type SubscriberRefusalCode, subscriberRefusals } from './codes.ts';

export function subscriberRefusal<C extends SubscriberRefusalCode>(
  code: C,
  message?: string,
): Refusal<C> {
  return refuse(code, message ?? subscriberRefusals[code]);
}

const accountNeeds = (accountIds: readonly string[]): LedgerNeeds => ({
  accountIds,
  keys: [],
  holdIds: [],
});

async function ensureLoaded(ledger: WriteContext['ledger'], needs: LedgerNeeds): Promise<void> {
  if (!ledger.isLoaded(needs)) await ledger.load(needs);
}

export interface CreatePayload {
  readonly caller: Caller;
  readonly ani: string;
  /** The new caller-number account, open or frozen, with nothing on it. */
  readonly account: Account;
}

export interface LinkPayload {
  readonly caller: Caller;
  readonly ani: string;
  readonly accountId: string;
  /** The subscriber the account belongs to, as charging names it (`ani:…`, `card:…`). */
  readonly subscriber: string;
  /**
   * Caller-number accounts of `ani` itself. A link would hide such a balance from charging,
   * which looks for links first, so any of them existing refuses the link.
   */
  readonly ownAccountIds: readonly string[];
}

export interface UnlinkPayload {
  readonly caller: Caller;
  readonly ani: string;
  readonly accountId: string;
}

export const subscriberCommands = {
  'subscribers.create': defineCommand<
    CreatePayload,
    Result<Account, 'subscriber_exists' | 'caller_number_taken'>
  >({
    needs: ({ account }) => accountNeeds([account.id]),
    async run({ ledger, stores, nowMs }, { caller, ani, account }) {
      await ensureLoaded(ledger, accountNeeds([account.id]));
      if (ledger.account(account.id) !== null) return subscriberRefusal('subscriber_exists');
      // Charging looks for a link before a caller-number account: a linked number's own
      // balance would never pay for a call.
      if (await stores.charging.findAniLink(ani)) {
        return subscriberRefusal(
          'caller_number_taken',
          'The caller number is linked to another account: unlink it first.',
        );
      }
      ledger.addAccount(account);
      await stores.audit.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'subscriber.created',
          { type: 'account', id: account.id },
          { ani, currency: account.currency, status: account.status },
        ),
      ]);
      return ok(account);
    },
  }),

  'subscribers.link': defineCommand<
    LinkPayload,
    Result<
      { link: AniLink; created: boolean },
      'subscriber_not_found' | 'caller_number_taken' | 'account_closed'
    >
  >({
    needs: (p) => accountNeeds([p.accountId, ...p.ownAccountIds]),
    async run({ ledger, stores, nowMs }, p) {
      await ensureLoaded(ledger, accountNeeds([p.accountId, ...p.ownAccountIds]));
      const account = ledger.account(p.accountId);
      if (account === null) return subscriberRefusal('subscriber_not_found');
      if (account.status === 'closed')
        return refuse('account_closed', ledgerRefusals.account_closed);
      if (p.ownAccountIds.some((id) => ledger.account(id) !== null)) {
        return subscriberRefusal(
          'caller_number_taken',
          'The caller number has a balance of its own; a link would hide it from charging.',
        );
      }
      const existing = await stores.charging.findAniLink(p.ani);
      if (existing) {
        if (existing.accountId === p.accountId) return ok({ link: existing, created: false });
        return subscriberRefusal(
          'caller_number_taken',
          'The caller number is linked to another account: unlink it there first.',
        );
      }
      const link: AniLink = {
        ani: p.ani,
        accountId: p.accountId,
        subscriber: p.subscriber,
        createdAtMs: nowMs,
      };
      await stores.charging.insertAniLink(link);
      await stores.audit.insertAuditEvents([
        auditEvent(
          p.caller,
          nowMs,
          'subscriber.number_linked',
          { type: 'account', id: p.accountId },
          { ani: p.ani },
        ),
      ]);
      return ok({ link, created: true });
    },
  }),

  'subscribers.unlink': defineCommand<UnlinkPayload, Result<AniLink, 'caller_number_not_linked'>>({
    async run({ stores, nowMs }, p) {
      const link = await stores.charging.findAniLink(p.ani);
      if (!link || link.accountId !== p.accountId) {
        return subscriberRefusal('caller_number_not_linked');
      }
      await stores.charging.deleteAniLink(p.ani);
      await stores.audit.insertAuditEvents([
        auditEvent(
          p.caller,
          nowMs,
          'subscriber.number_unlinked',
          { type: 'account', id: p.accountId },
          { ani: p.ani },
        ),
      ]);
      return ok(link);
    },
  }),
};
