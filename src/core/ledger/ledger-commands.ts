// The ledger's write commands: what runs inside a group commit for each request that changes
// the ledger. The Ledger service builds their payloads; the committer runs them.

import type { AuditEvent } from '../shared/audit.ts';
import { newId } from '../shared/ids.ts';
import { type Caller, canSeeOwner } from '../shared/principal.ts';
import { ok, type Result, refuse } from '../shared/result.ts';
import { defineCommand } from '../shared/write-command.ts';
import { type AccountRefusalCode, accountRefusals } from './codes.ts';
import { needsOf, type TransferOutcome } from './ledger-batch.ts';
import type { TransferRequest } from './requests.ts';
import { type Account, type AccountStatus, type Balance, balanceOf } from './types.ts';

export interface AccountView {
  readonly account: Account;
  readonly balance: Balance;
}

function accountRefusal(code: AccountRefusalCode) {
  return refuse(code, accountRefusals[code]);
}

export function auditEvent(
  caller: Caller,
  nowMs: number,
  action: string,
  subject: { type: string; id: string },
  details: AuditEvent['details'],
): AuditEvent {
  return {
    id: newId('aud', nowMs),
    atMs: nowMs,
    principalId: caller.principal.id,
    action,
    subjectType: subject.type,
    subjectId: subject.id,
    details,
  };
}

export const ledgerCommands = {
  'ledger.openAccount': defineCommand<{ caller: Caller; account: Account }, null>({
    async run({ ledger, stores, nowMs }, { caller, account }) {
      ledger.addAccount(account);
      await stores.audit.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'account.opened',
          { type: 'account', id: account.id },
          { currency: account.currency },
        ),
      ]);
      return null;
    },
  }),

  'ledger.setAccountStatus': defineCommand<
    { caller: Caller; accountId: string; status: AccountStatus },
    Result<AccountView, AccountRefusalCode>
  >({
    needs: ({ accountId }) => ({ accountIds: [accountId], keys: [], holdIds: [] }),
    async run({ ledger, stores, nowMs }, { caller, accountId, status }) {
      const account = ledger.account(accountId);
      if (!account || !canSeeOwner(caller, account.ownerId))
        return accountRefusal('account_not_found');
      if (account.status === status) return ok({ account, balance: balanceOf(account) });
      if (account.status === 'closed') return accountRefusal('status_change_not_allowed');
      if (status === 'closed') {
        const empty =
          account.debitsPostedMinor === account.creditsPostedMinor &&
          account.debitsPendingMinor === 0n &&
          account.creditsPendingMinor === 0n;
        if (!empty) return accountRefusal('account_not_empty');
      }
      const changed: Account = { ...account, status };
      ledger.replaceAccount(changed);
      const action = {
        open: 'account.unfrozen',
        frozen: 'account.frozen',
        closed: 'account.closed',
      }[status];
      await stores.audit.insertAuditEvents([
        auditEvent(caller, nowMs, action, { type: 'account', id: account.id }, {}),
      ]);
      return ok({ account: changed, balance: balanceOf(changed) });
    },
  }),

  'ledger.transfer': defineCommand<{ caller: Caller; request: TransferRequest }, TransferOutcome>({
    needs: ({ caller, request }) => needsOf(caller.principal.id, request),
    async run({ ledger, nowMs }, { caller, request }) {
      // The committer loads every command's needs for the whole batch in one go; this load
      // only runs when a command is retried alone.
      const needs = needsOf(caller.principal.id, request);
      if (!ledger.isLoaded(needs)) await ledger.load(needs);
      return ledger.apply(caller, request, nowMs);
    },
  }),
};
