// The ledger's use cases: open accounts, move money, hold and release it, read balances and
// history. Every write goes through the group committer; every read checks that the caller may
// see what it asks for.

import type { Currency, Minor } from '../money/money.ts';
import type { PrincipalReadStore } from '../principals/principal-store.ts';
import type { Clock } from '../shared/clock.ts';
import { newId } from '../shared/ids.ts';
import { type Caller, canSeeOwner, systemCaller } from '../shared/principal.ts';
import { ok, type Result, refuse } from '../shared/result.ts';
import type { WriteCommitter } from '../write-commands.ts';
import { type AccountRefusalCode, accountRefusals } from './codes.ts';
import type { TransferOutcome } from './ledger-batch.ts';
import type { AccountView } from './ledger-commands.ts';
import type { HistoryEntry, LedgerReadStore, Page } from './ledger-store.ts';
import { expirySweepBatchMax, pageSizeMax } from './limits.ts';
import type { TransferRequest } from './requests.ts';
import {
  type AccountFlag,
  type AccountKind,
  type AccountStatus,
  balanceOf,
  newAccount,
  type Transfer,
} from './types.ts';

export interface CreateAccountInput {
  readonly ownerId: string;
  readonly name: string;
  readonly currency: Currency;
  readonly kind: AccountKind;
  readonly flags: readonly AccountFlag[];
  readonly creditLimitMinor: Minor;
}

export type { AccountView };

function accountRefusal(code: AccountRefusalCode) {
  return refuse(code, accountRefusals[code]);
}

export class Ledger {
  private readonly committer: WriteCommitter;
  private readonly reads: LedgerReadStore;
  private readonly principals: PrincipalReadStore;
  private readonly clock: Clock;

  constructor(deps: {
    committer: WriteCommitter;
    reads: LedgerReadStore;
    principals: PrincipalReadStore;
    clock: Clock;
  }) {
    this.committer = deps.committer;
    this.reads = deps.reads;
    this.principals = deps.principals;
    this.clock = deps.clock;
  }

  /** Opens an account for an owner. Only operators open accounts. */
  async createAccount(
    caller: Caller,
    input: CreateAccountInput,
  ): Promise<Result<AccountView, AccountRefusalCode>> {
    const owner =
      input.ownerId === systemCaller.principal.id
        ? systemCaller.principal
        : await this.principals.getPrincipal(input.ownerId);
    if (!owner || !canSeeOwner(caller, owner.id)) return accountRefusal('owner_not_found');
    const account = newAccount({
      id: newId('acc'),
      ownerId: owner.id,
      name: input.name,
      currency: input.currency,
      kind: input.kind,
      flags: [...new Set(input.flags)],
      creditLimitMinor: input.creditLimitMinor,
      createdAtMs: this.clock.nowMs(),
    });
    await this.committer.submit('ledger.openAccount', { caller, account });
    return ok({ account, balance: balanceOf(account) });
  }

  /** Freezes, unfreezes or closes an account. A closed account stays closed. */
  async setAccountStatus(
    caller: Caller,
    accountId: string,
    status: AccountStatus,
  ): Promise<Result<AccountView, AccountRefusalCode>> {
    return this.committer.submit('ledger.setAccountStatus', { caller, accountId, status });
  }

  /** Creates a transfer or hold, or posts, voids or expires a hold. Idempotent by key. */
  transfer(caller: Caller, request: TransferRequest): Promise<TransferOutcome> {
    return this.committer.submit('ledger.transfer', { caller, request });
  }

  async getAccount(caller: Caller, id: string): Promise<Result<AccountView, 'account_not_found'>> {
    const account = await this.reads.getAccount(id);
    if (!account || !canSeeOwner(caller, account.ownerId)) {
      return refuse('account_not_found', accountRefusals.account_not_found);
    }
    return ok({ account, balance: balanceOf(account) });
  }

  async listAccounts(
    caller: Caller,
    query: {
      ownerId?: string | undefined;
      cursor?: string | undefined;
      limit?: number | undefined;
    },
  ): Promise<Page<AccountView>> {
    const limit = clampLimit(query.limit);
    const ownerId = caller.principal.kind === 'operator' ? query.ownerId : caller.principal.id;
    const accounts = await this.reads.listAccounts({
      ownerId,
      afterId: query.cursor,
      limit: limit + 1,
    });
    const items = accounts
      .slice(0, limit)
      .map((account) => ({ account, balance: balanceOf(account) }));
    return {
      items,
      nextCursor: accounts.length > limit ? (items.at(-1)?.account.id ?? null) : null,
    };
  }

  async getTransfer(caller: Caller, id: string): Promise<Result<Transfer, 'transfer_not_found'>> {
    const transfer = await this.reads.getTransfer(id);
    if (transfer && (await this.canSeeTransfer(caller, transfer))) return ok(transfer);
    return refuse('transfer_not_found', 'The transfer does not exist or is not visible to you.');
  }

  /** An account's transfers, newest first, a page at a time. */
  async history(
    caller: Caller,
    accountId: string,
    query: { cursor?: string | undefined; limit?: number | undefined },
  ): Promise<Result<Page<HistoryEntry>, 'account_not_found' | 'cursor_invalid'>> {
    const found = await this.getAccount(caller, accountId);
    if (!found.ok) return found;
    if (query.cursor !== undefined && !/^(trf|hld)_[0-9a-z]{20}$/.test(query.cursor)) {
      return refuse('cursor_invalid', 'The cursor is not one this server handed out.');
    }
    const limit = clampLimit(query.limit);
    const { entries, nextId } = await this.reads.accountHistory({
      accountId,
      startId: query.cursor,
      limit,
    });
    return ok({ items: entries, nextCursor: nextId });
  }

  /**
   * Expires the holds whose timeout has passed, releasing their amounts. The server runs this
   * on a timer; the deadlines are in the database, so expiry survives a restart.
   */
  async expireDueHolds(): Promise<number> {
    const ids = await this.reads.findDueHolds(this.clock.nowMs(), expirySweepBatchMax);
    const outcomes = await Promise.all(
      ids.map((holdId) =>
        this.transfer(systemCaller, { kind: 'expire', idempotencyKey: `expire:${holdId}`, holdId }),
      ),
    );
    return outcomes.filter((outcome) => outcome.ok && !outcome.replayed).length;
  }

  private async canSeeTransfer(caller: Caller, transfer: Transfer): Promise<boolean> {
    if (caller.principal.kind === 'operator' || transfer.principalId === caller.principal.id) {
      return true;
    }
    for (const id of [transfer.debitAccountId, transfer.creditAccountId]) {
      const account = await this.reads.getAccount(id);
      if (account && account.ownerId === caller.principal.id) return true;
    }
    return false;
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isInteger(limit) || limit < 1) return 50;
  return Math.min(limit, pageSizeMax);
}
