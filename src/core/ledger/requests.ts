// The requests the ledger accepts, already validated for shape by an adapter. Each carries the
// client's idempotency key; the ledger checks the business rules.

import type { Currency, Minor } from '../money/money.ts';

export type TransferRequest =
  | {
      readonly kind: 'transfer';
      readonly idempotencyKey: string;
      readonly debitAccountId: string;
      readonly creditAccountId: string;
      readonly amountMinor: Minor;
      readonly currency: Currency;
      readonly code?: string | undefined;
      readonly memo?: string | undefined;
    }
  | {
      readonly kind: 'hold';
      readonly idempotencyKey: string;
      readonly debitAccountId: string;
      readonly creditAccountId: string;
      readonly amountMinor: Minor;
      readonly currency: Currency;
      readonly timeoutSeconds: number;
      readonly code?: string | undefined;
      readonly memo?: string | undefined;
    }
  | {
      readonly kind: 'post';
      readonly idempotencyKey: string;
      readonly holdId: string;
      /** Omitted: post the whole hold. Less: post part and release the rest. */
      readonly amountMinor?: Minor | undefined;
    }
  | { readonly kind: 'void'; readonly idempotencyKey: string; readonly holdId: string }
  | { readonly kind: 'expire'; readonly idempotencyKey: string; readonly holdId: string };
