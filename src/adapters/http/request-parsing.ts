// Reading the parts of a request that the schema cannot fully check: amounts within 64 bits,
// known currencies, idempotency keys, page sizes.

import type { FastifyRequest } from 'fastify';
import { idempotencyKeyLengthMax } from '../../core/ledger/limits.ts';
import { type Currency, isCurrency, type Minor, parseMinor } from '../../core/money/money.ts';
import { HttpRefusal } from './errors.ts';

const idempotencyKeyPattern = new RegExp(`^[A-Za-z0-9._:-]{1,${idempotencyKeyLengthMax}}$`);

export function idempotencyKeyOf(request: FastifyRequest): string {
  const key = request.headers['idempotency-key'];
  if (key === undefined) throw new HttpRefusal('idempotency_key_missing');
  if (typeof key !== 'string' || !idempotencyKeyPattern.test(key)) {
    throw new HttpRefusal('idempotency_key_invalid');
  }
  return key;
}

export function amountOf(text: string): Minor {
  const amount = parseMinor(text);
  if (amount === undefined) throw new HttpRefusal('amount_invalid');
  return amount;
}

export function currencyOf(text: string): Currency {
  if (!isCurrency(text)) throw new HttpRefusal('currency_unknown');
  return text;
}

export function limitOf(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}
