// The ledger's rules, applied to a working set of accounts and transfers that one database
// transaction has loaded. Many requests are applied in memory one after another, each seeing
// the effects of those before it, and the result is written back in a few set-based statements
// when the transaction commits. A refused request changes nothing in the working set, so one
// request's refusal never disturbs its neighbours in the same group commit.

import { hash } from 'node:crypto';
import { type Minor, minorMax } from '../money/money.ts';
import { assert, unreachable } from '../shared/assert.ts';
import { newId } from '../shared/ids.ts';
import { type Caller, canSeeOwner, mayCredit } from '../shared/principal.ts';
import { type Refusal, refuse } from '../shared/result.ts';
import { type LedgerRefusalCode, ledgerRefusals } from './codes.ts';
import type { LedgerTxStore, TransferKeyRef } from './ledger-store.ts';
import { holdTimeoutSecondsMax } from './limits.ts';
import type { TransferRequest } from './requests.ts';
import type { Account, Transfer, TransferKind } from './types.ts';

export type TransferOutcome =
  | { readonly ok: true; readonly transfer: Transfer; readonly replayed: boolean }
  | Refusal<LedgerRefusalCode>;

/** What a group of requests needs loaded (and, on PostgreSQL, locked) before it is applied. */
export interface LedgerNeeds {
  readonly accountIds: readonly string[];
  readonly keys: readonly TransferKeyRef[];
  readonly holdIds: readonly string[];
}

export function needsOf(principalId: string, request: TransferRequest): LedgerNeeds {
  const keys = [{ principalId, idempotencyKey: request.idempotencyKey }];
  switch (request.kind) {
    case 'transfer':
    case 'hold':
      return { accountIds: [request.debitAccountId, request.creditAccountId], keys, holdIds: [] };
    case 'post':
    case 'void':
    case 'expire':
      return { accountIds: [], keys, holdIds: [request.holdId] };
    default:
      return unreachable(request);
  }
}

function keyOf(principalId: string, idempotencyKey: string): string {
  return `${principalId}\u0000${idempotencyKey}`;
}

/**
 * What a transfer stores of its request: `h` and 22 characters of the SHA-256 of the canonical
 * form (132 bits), not the canonical form itself, which repeats the ids, amount and memo the row
 * already holds and made a sale's transfer row a third bigger (every byte goes to the WAL).
 */
function digestOf(canonical: string): string {
  return `h${hash('sha256', canonical, 'base64url').slice(0, 22)}`;
}

/**
 * Whether a stored fingerprint is the one of this request. Transfers stored before fingerprints
 * were digests hold the canonical form itself, which always starts with `[`.
 */
function sameRequest(stored: string, canonical: string): boolean {
  return stored.startsWith('[') ? stored === canonical : stored === digestOf(canonical);
}

/**
 * The canonical form of a request. Two requests with one idempotency key are the same request
 * only when their canonical forms are equal.
 */
function canonicalOf(request: TransferRequest): string {
  switch (request.kind) {
    case 'transfer':
      return JSON.stringify([
        request.kind,
        request.debitAccountId,
        request.creditAccountId,
        request.amountMinor.toString(),
        request.currency,
        request.code ?? null,
        request.memo ?? null,
      ]);
    case 'hold':
      return JSON.stringify([
        request.kind,
        request.debitAccountId,
        request.creditAccountId,
        request.amountMinor.toString(),
        request.currency,
        request.timeoutSeconds,
        request.code ?? null,
        request.memo ?? null,
      ]);
    case 'post':
      return JSON.stringify([
        request.kind,
        request.holdId,
        request.amountMinor?.toString() ?? null,
      ]);
    case 'void':
    case 'expire':
      return JSON.stringify([request.kind, request.holdId]);
    default:
      return unreachable(request);
  }
}

function refusal(code: LedgerRefusalCode): Refusal<LedgerRefusalCode> {
  return refuse(code, ledgerRefusals[code]);
}

export class LedgerBatch {
  private readonly store: LedgerTxStore;
  private readonly accounts = new Map<string, Account | null>();
  private readonly transfersByKey = new Map<string, Transfer | null>();
  private readonly holds = new Map<string, Transfer | null>();
  private readonly dirtyAccountIds = new Set<string>();
  private readonly dirtyHoldIds = new Set<string>();
  private readonly newAccounts: Account[] = [];
  private readonly newTransfers: Transfer[] = [];

  constructor(store: LedgerTxStore) {
    this.store = store;
  }

  /** True when everything `needs` names is already in the working set: no load required. */
  isLoaded(needs: LedgerNeeds): boolean {
    for (const ref of needs.keys) {
      if (!this.transfersByKey.has(keyOf(ref.principalId, ref.idempotencyKey))) return false;
    }
    for (const id of needs.accountIds) if (!this.accounts.has(id)) return false;
    for (const id of needs.holdIds) {
      const hold = this.holds.get(id);
      if (hold === undefined) return false;
      if (
        hold &&
        !(this.accounts.has(hold.debitAccountId) && this.accounts.has(hold.creditAccountId))
      ) {
        return false;
      }
    }
    return true;
  }

  /**
   * Loads what `needs` names and is not loaded yet. Holds come first because a post or void
   * names only its hold, and the hold names the accounts.
   */
  async load(needs: LedgerNeeds): Promise<void> {
    const keyRefs = needs.keys.filter(
      (ref) => !this.transfersByKey.has(keyOf(ref.principalId, ref.idempotencyKey)),
    );
    const holdIds = unique(needs.holdIds.filter((id) => !this.holds.has(id)));
    const [foundByKey, foundHolds] = await Promise.all([
      keyRefs.length > 0 ? this.store.findTransfersByKey(keyRefs) : [],
      holdIds.length > 0 ? this.store.lockHolds(holdIds) : [],
    ]);
    for (const ref of keyRefs)
      this.transfersByKey.set(keyOf(ref.principalId, ref.idempotencyKey), null);
    for (const transfer of foundByKey) {
      this.transfersByKey.set(keyOf(transfer.principalId, transfer.idempotencyKey), transfer);
    }
    for (const id of holdIds) this.holds.set(id, null);
    const accountIds = [...needs.accountIds];
    for (const hold of foundHolds) {
      this.holds.set(hold.id, hold);
      accountIds.push(hold.debitAccountId, hold.creditAccountId);
    }
    const missing = unique(accountIds.filter((id) => !this.accounts.has(id))).sort();
    if (missing.length === 0) return;
    const found = await this.store.lockAccounts(missing);
    for (const id of missing) this.accounts.set(id, null);
    for (const account of found) this.accounts.set(account.id, account);
  }

  /**
   * Marks idempotency keys as unused without looking them up. Only for keys derived from a
   * record that this transaction creates, or advances, exactly once (a charging session's
   * request number): nothing can have used them before. The unique index on keys still
   * refuses a duplicate, which would roll the batch back.
   */
  assumeNewKeys(refs: readonly TransferKeyRef[]): void {
    for (const ref of refs) {
      const key = keyOf(ref.principalId, ref.idempotencyKey);
      if (!this.transfersByKey.has(key)) this.transfersByKey.set(key, null);
    }
  }

  /** An account as this transaction sees it, including changes not yet written. */
  account(id: string): Account | null {
    const account = this.accounts.get(id);
    assert(account !== undefined, `account ${id} was not loaded`);
    return account;
  }

  /** Adds a new account; it is written when the batch is flushed. */
  addAccount(account: Account): void {
    assert(!this.accounts.get(account.id), 'account id already exists');
    this.accounts.set(account.id, account);
    this.newAccounts.push(account);
  }

  /**
   * Applies one request. The request's needs must have been loaded. A refusal leaves the
   * working set exactly as it was.
   */
  apply(caller: Caller, request: TransferRequest, nowMs: number): TransferOutcome {
    const principalId = caller.principal.id;
    const canonical = canonicalOf(request);
    const key = keyOf(principalId, request.idempotencyKey);
    const existing = this.transfersByKey.get(key);
    assert(existing !== undefined, 'idempotency key was not loaded');
    if (existing !== null) {
      if (!sameRequest(existing.fingerprint, canonical)) {
        return refusal('exists_with_different_fields');
      }
      return { ok: true, transfer: existing, replayed: true };
    }
    const fingerprint = digestOf(canonical);
    const base = { principalId, idempotencyKey: request.idempotencyKey, fingerprint };
    let outcome: TransferOutcome;
    switch (request.kind) {
      case 'transfer':
      case 'hold':
        outcome = this.applyNew(caller, request, base, nowMs);
        break;
      case 'post':
      case 'void':
      case 'expire':
        outcome = this.applyResolve(caller, request, base, nowMs);
        break;
      default:
        return unreachable(request);
    }
    if (outcome.ok) {
      this.transfersByKey.set(key, outcome.transfer);
      this.newTransfers.push(outcome.transfer);
    }
    return outcome;
  }

  private applyNew(
    caller: Caller,
    request: Extract<TransferRequest, { kind: 'transfer' | 'hold' }>,
    base: Pick<Transfer, 'principalId' | 'idempotencyKey' | 'fingerprint'>,
    nowMs: number,
  ): TransferOutcome {
    const { amountMinor } = request;
    if (amountMinor <= 0n || amountMinor > minorMax) return refusal('amount_must_be_positive');
    if (request.debitAccountId === request.creditAccountId) {
      return refusal('accounts_must_be_different');
    }
    const debit = this.account(request.debitAccountId);
    const credit = this.account(request.creditAccountId);
    if (debit === null || !canSeeOwner(caller, debit.ownerId)) {
      return refusal('debit_account_not_found');
    }
    // Another tenant's account and a missing one get the same answer, so a refusal never tells
    // an outsider which account ids exist.
    if (credit === null || !mayCredit(caller, credit.ownerId)) {
      return refusal('credit_account_not_found');
    }
    if (debit.currency !== request.currency || credit.currency !== request.currency) {
      return refusal('currency_mismatch');
    }
    for (const account of [debit, credit]) {
      if (account.status === 'frozen') return refusal('account_frozen');
      if (account.status === 'closed') return refusal('account_closed');
    }
    const debitExposure = debit.debitsPostedMinor + debit.debitsPendingMinor + amountMinor;
    const creditExposure = credit.creditsPostedMinor + credit.creditsPendingMinor + amountMinor;
    if (debitExposure > minorMax || creditExposure > minorMax) return refusal('overflows_balance');
    if (
      debit.flags.includes('debits_must_not_exceed_credits') &&
      debitExposure > debit.creditsPostedMinor + debit.creditLimitMinor
    ) {
      return refusal('exceeds_available');
    }
    if (
      credit.flags.includes('credits_must_not_exceed_debits') &&
      creditExposure > credit.debitsPostedMinor + credit.creditLimitMinor
    ) {
      return refusal('exceeds_debits');
    }
    let timeoutAtMs: number | null = null;
    if (request.kind === 'hold') {
      const seconds = request.timeoutSeconds;
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > holdTimeoutSecondsMax) {
        return refusal('timeout_out_of_range');
      }
      timeoutAtMs = nowMs + seconds * 1000;
    }
    const id = newId(request.kind === 'hold' ? 'hld' : 'trf', nowMs);
    this.moveBalances(debit, credit, {
      pendingMinor: request.kind === 'hold' ? amountMinor : 0n,
      postedMinor: request.kind === 'hold' ? 0n : amountMinor,
      transferId: id,
    });
    // Every field written out, no spread: V8 (Node 20) builds an object literal that starts with
    // a spread and then adds fields on a slow path, ~1 µs a field: more than the rest of this
    // method together. A spread followed only by fields it already has stays fast.
    const transfer: Transfer = {
      id,
      principalId: base.principalId,
      idempotencyKey: base.idempotencyKey,
      fingerprint: base.fingerprint,
      kind: request.kind,
      debitAccountId: debit.id,
      creditAccountId: credit.id,
      amountMinor,
      currency: request.currency,
      holdId: null,
      timeoutAtMs,
      holdStatus: request.kind === 'hold' ? 'pending' : null,
      code: request.code ?? null,
      memo: request.memo ?? null,
      debitPrevId: debit.lastTransferId,
      creditPrevId: credit.lastTransferId,
      createdAtMs: nowMs,
    };
    if (transfer.kind === 'hold') {
      this.holds.set(transfer.id, transfer);
    }
    return { ok: true, transfer, replayed: false };
  }

  private applyResolve(
    caller: Caller,
    request: Extract<TransferRequest, { kind: 'post' | 'void' | 'expire' }>,
    base: Pick<Transfer, 'principalId' | 'idempotencyKey' | 'fingerprint'>,
    nowMs: number,
  ): TransferOutcome {
    const hold = this.holds.get(request.holdId);
    assert(hold !== undefined, 'hold was not loaded');
    if (hold === null || hold.kind !== 'hold') return refusal('hold_not_found');
    if (caller.principal.kind !== 'operator' && hold.principalId !== caller.principal.id) {
      return refusal('hold_not_found');
    }
    switch (hold.holdStatus) {
      case 'posted':
        return refusal('hold_already_posted');
      case 'voided':
        return refusal('hold_already_voided');
      case 'expired':
        return refusal('hold_expired');
      case 'pending':
        break;
      default:
        assert(false, `hold ${hold.id} has no status`);
    }
    assert(hold.timeoutAtMs !== null, 'a pending hold has a timeout');
    const due = hold.timeoutAtMs <= nowMs;
    if (request.kind === 'expire' ? !due : due) {
      // A post or void after the deadline is too late, even if the sweeper has not run yet;
      // an expiry before it is too early. Either way nothing changes.
      return refusal('hold_expired');
    }
    let postedMinor = 0n;
    if (request.kind === 'post') {
      postedMinor = request.amountMinor ?? hold.amountMinor;
      if (postedMinor <= 0n) return refusal('amount_must_be_positive');
      if (postedMinor > hold.amountMinor) return refusal('post_exceeds_hold');
    }
    const debit = this.account(hold.debitAccountId);
    const credit = this.account(hold.creditAccountId);
    assert(debit !== null && credit !== null, 'a hold names existing accounts');
    const id = newId('trf', nowMs);
    this.moveBalances(debit, credit, {
      pendingMinor: -hold.amountMinor,
      postedMinor,
      transferId: id,
    });
    const holdStatus = ({ post: 'posted', void: 'voided', expire: 'expired' } as const)[
      request.kind
    ];
    this.holds.set(hold.id, { ...hold, holdStatus });
    this.dirtyHoldIds.add(hold.id);
    const kind: TransferKind = request.kind;
    const transfer: Transfer = {
      id,
      principalId: base.principalId,
      idempotencyKey: base.idempotencyKey,
      fingerprint: base.fingerprint,
      kind,
      debitAccountId: hold.debitAccountId,
      creditAccountId: hold.creditAccountId,
      amountMinor: request.kind === 'post' ? postedMinor : hold.amountMinor,
      currency: hold.currency,
      holdId: hold.id,
      timeoutAtMs: null,
      holdStatus: null,
      code: hold.code,
      memo: null,
      debitPrevId: debit.lastTransferId,
      creditPrevId: credit.lastTransferId,
      createdAtMs: nowMs,
    };
    return { ok: true, transfer, replayed: false };
  }

  private moveBalances(
    debit: Account,
    credit: Account,
    delta: { pendingMinor: Minor; postedMinor: Minor; transferId: string },
  ): void {
    this.replaceAccount({
      ...debit,
      debitsPendingMinor: debit.debitsPendingMinor + delta.pendingMinor,
      debitsPostedMinor: debit.debitsPostedMinor + delta.postedMinor,
      lastTransferId: delta.transferId,
    });
    this.replaceAccount({
      ...credit,
      creditsPendingMinor: credit.creditsPendingMinor + delta.pendingMinor,
      creditsPostedMinor: credit.creditsPostedMinor + delta.postedMinor,
      lastTransferId: delta.transferId,
    });
  }

  /** Replaces an account's state, for changes other than balances (status, for example). */
  replaceAccount(account: Account): void {
    assert(account.debitsPendingMinor >= 0n && account.creditsPendingMinor >= 0n, 'pending < 0');
    this.accounts.set(account.id, account);
    this.dirtyAccountIds.add(account.id);
  }

  /** The transfers this batch created, in order: for callers that need to see them. */
  createdTransfers(): readonly Transfer[] {
    return this.newTransfers;
  }

  /** Writes everything this batch changed, in a fixed order, inside the caller's transaction. */
  async flush(): Promise<void> {
    const newAccountIds = new Set(this.newAccounts.map((account) => account.id));
    if (this.newAccounts.length > 0) {
      await this.store.insertAccounts(this.newAccounts.map((a) => this.account(a.id)!));
    }
    if (this.newTransfers.length > 0) {
      // A hold created and resolved in this batch is inserted with its final status.
      const rows = this.newTransfers.map((t) => (t.kind === 'hold' ? this.holds.get(t.id)! : t));
      await this.store.insertTransfers(rows);
    }
    const changed: Account[] = [];
    for (const id of this.dirtyAccountIds) {
      if (!newAccountIds.has(id)) changed.push(this.account(id)!);
    }
    if (changed.length > 0) await this.store.saveAccounts(changed);
    const newTransferIds = new Set(this.newTransfers.map((transfer) => transfer.id));
    const holds: Transfer[] = [];
    for (const id of this.dirtyHoldIds) {
      if (newTransferIds.has(id)) continue;
      holds.push(this.holds.get(id)!);
    }
    if (holds.length > 0) await this.store.saveHoldStatuses(holds);
  }
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
