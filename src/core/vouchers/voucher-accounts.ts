// The ledger accounts the voucher domain moves money between. Their ids are derived from what
// they belong to, so a sale finds them without a lookup table and two processes that create one
// at the same time create the same row (the loser retries and finds it).
//
// Who pays whom, at a sale of face value F with retailer commission R and distributor commission D:
//   retailer float        -> voucher liability   F - R   (the retailer keeps R of the cash it took)
//   commission expense    -> voucher liability   R       (the operator pays the retailer's share)
//   commission expense    -> distributor float   D       (and the distributor's)
// so the liability always grows by exactly F. Redemption moves F from the liability to the
// caller-number account (top-up) or to the PIN's own calling-card account.

import { type Account, newAccount } from '../ledger/types.ts';
import type { Currency } from '../money/money.ts';
import { systemPrincipal } from '../shared/principal.ts';

export function voucherLiabilityAccountId(currency: Currency): string {
  return `acc_voucher_liability_${currency}`;
}

export function commissionExpenseAccountId(currency: Currency): string {
  return `acc_voucher_commission_${currency}`;
}

/** The operator's cash: float deposits are recorded as cash -> float. */
export function floatCashAccountId(currency: Currency): string {
  return `acc_voucher_cash_${currency}`;
}

export function floatAccountId(principalId: string, currency: Currency): string {
  return `acc_float_${principalId}_${currency}`;
}

export function callerNumberAccountId(ani: string, currency: Currency): string {
  return `acc_ani_${ani}_${currency}`;
}

export function callingCardAccountId(serial: string): string {
  return `acc_card_${serial}`;
}

/** The operator's accounts for one currency, as new rows. */
export function systemVoucherAccounts(currency: Currency, nowMs: number): Account[] {
  const base = {
    ownerId: systemPrincipal.id,
    currency,
    flags: [],
    creditLimitMinor: 0n,
    createdAtMs: nowMs,
  } as const;
  return [
    newAccount({
      ...base,
      id: voucherLiabilityAccountId(currency),
      name: `Voucher liability ${currency}`,
      kind: 'liability',
    }),
    newAccount({
      ...base,
      id: commissionExpenseAccountId(currency),
      name: `Voucher commissions ${currency}`,
      kind: 'expense',
    }),
    newAccount({
      ...base,
      id: floatCashAccountId(currency),
      name: `Float deposits cash ${currency}`,
      kind: 'asset',
    }),
  ];
}

/** A balance account that can never go below zero: a float, a caller number, a calling card. */
export function spendableAccount(options: {
  id: string;
  ownerId: string;
  name: string;
  currency: Currency;
  creditLimitMinor: bigint;
  nowMs: number;
}): Account {
  return newAccount({
    id: options.id,
    ownerId: options.ownerId,
    name: options.name,
    currency: options.currency,
    kind: 'liability',
    flags: ['debits_must_not_exceed_credits'],
    creditLimitMinor: options.creditLimitMinor,
    createdAtMs: options.nowMs,
  });
}
