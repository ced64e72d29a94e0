// Request and response schemas. They validate what comes in (unknown fields and wrong types are
// refused, never coerced), serialise what goes out, and become the OpenAPI document.

import { type Static, Type } from 'typebox';
import { memoLengthMax, transferCodeLengthMax } from '../../core/ledger/limits.ts';
import {
  accountFlagNames,
  accountKinds,
  accountStatuses,
  holdStatuses,
  transferKinds,
} from '../../core/ledger/types.ts';
import { currencyScales } from '../../core/money/money.ts';
import { principalKinds, scopes } from '../../core/shared/principal.ts';

const literals = <const T extends readonly string[]>(values: T) =>
  Type.Enum([...values] as T[number][]);

/** Minor units as a decimal string: "1250" is 12.50 USD. Strings, because JSON numbers lose precision past 2^53. */
export const Amount = Type.String({
  pattern: '^(0|[1-9][0-9]{0,18})$',
  description: 'Amount in the currency minor unit, as a decimal string (1250 = 12.50 USD).',
  examples: ['1250'],
});
export const SignedAmount = Type.String({
  pattern: '^-?[0-9]{1,19}$',
  description: 'Signed amount in minor units.',
});
export const Currency = Type.String({
  pattern: '^[A-Z]{3}$',
  description: `ISO 4217 code, one of: ${Object.keys(currencyScales).join(', ')}`,
  examples: ['USD'],
});
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });
const Timestamp = Type.String({ format: 'date-time' });

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    result_code: Type.Optional(
      Type.Integer({ description: 'For switches: the RFC 4006 Result-Code of this refusal.' }),
    ),
    sip_status: Type.Optional(
      Type.Integer({ description: 'For switches: the SIP reply to answer the call with.' }),
    ),
    details: Type.Optional(Type.Array(Type.Unknown())),
  }),
});

/** The error answers every authenticated route may give, for its response schema. */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  413: ErrorResponse,
  415: ErrorResponse,
  422: ErrorResponse,
} as const;

/** The answers of routes that take PINs: the usual refusals and 429 for a locked-out caller. */
export const refusalResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
  429: ErrorResponse,
} as const;

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description:
        'Required. Same key and body: the first answer again. Same key, other body: 409.',
    }),
  ),
});

export const Balance = Type.Object({
  posted: SignedAmount,
  held: Amount,
  incoming: Amount,
  available: SignedAmount,
});

export const AccountView = Type.Object({
  id: Type.String(),
  owner_id: Type.String(),
  name: Type.String(),
  currency: Type.String(),
  kind: literals(accountKinds),
  flags: Type.Array(literals(accountFlagNames)),
  credit_limit: Amount,
  status: literals(accountStatuses),
  balance: Balance,
  debits_posted: Amount,
  credits_posted: Amount,
  debits_pending: Amount,
  credits_pending: Amount,
  created_at: Timestamp,
});

export const CreateAccountBody = Type.Object(
  {
    owner_id: Type.Optional(Id),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    currency: Currency,
    kind: literals(accountKinds),
    flags: Type.Optional(
      Type.Array(literals(accountFlagNames), { maxItems: 2, uniqueItems: true }),
    ),
    credit_limit: Type.Optional(Amount),
  },
  { additionalProperties: false },
);
export type CreateAccountBody = Static<typeof CreateAccountBody>;

export const AccountStatusBody = Type.Object(
  { status: literals(accountStatuses) },
  { additionalProperties: false },
);

export const TransferView = Type.Object({
  id: Type.String(),
  kind: literals(transferKinds),
  debit_account_id: Type.String(),
  credit_account_id: Type.String(),
  amount: Amount,
  currency: Type.String(),
  hold_id: Type.Union([Type.String(), Type.Null()]),
  hold_status: Type.Union([literals(holdStatuses), Type.Null()]),
  timeout_at: Type.Union([Timestamp, Type.Null()]),
  code: Type.Union([Type.String(), Type.Null()]),
  memo: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
});

const transferFields = {
  debit_account_id: Id,
  credit_account_id: Id,
  amount: Amount,
  currency: Currency,
  code: Type.Optional(Type.String({ minLength: 1, maxLength: transferCodeLengthMax })),
  memo: Type.Optional(Type.String({ maxLength: memoLengthMax })),
};

export const CreateTransferBody = Type.Object(transferFields, { additionalProperties: false });
export type CreateTransferBody = Static<typeof CreateTransferBody>;

export const CreateHoldBody = Type.Object(
  {
    ...transferFields,
    timeout_seconds: Type.Integer({
      minimum: 1,
      description: 'Seconds until the server expires the hold.',
    }),
  },
  { additionalProperties: false },
);
export type CreateHoldBody = Static<typeof CreateHoldBody>;

export const PostHoldBody = Type.Object(
  { amount: Type.Optional(Amount) },
  { additionalProperties: false, description: 'Omit amount to post the whole hold.' },
);

export const EmptyBody = Type.Union([
  Type.Object({}, { additionalProperties: false }),
  Type.Null(),
]);

export const HistoryEntryView = Type.Object({
  side: literals(['debit', 'credit'] as const),
  transfer: TransferView,
});

export const PageQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: '1-500, default 50' }),
    ),
  },
  { additionalProperties: false },
);

export const AccountsQuery = Type.Object(
  { ...PageQuery.properties, owner_id: Type.Optional(Id) },
  { additionalProperties: false },
);

export const IdParams = Type.Object({ id: Id });

export const PrincipalView = Type.Object({
  id: Type.String(),
  kind: literals(principalKinds),
  name: Type.String(),
  parent_id: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  created_at: Timestamp,
});

export const CreatePrincipalBody = Type.Object(
  {
    kind: literals(principalKinds),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    parent_id: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const CreateKeyBody = Type.Object(
  {
    scopes: Type.Optional(
      Type.Array(literals(scopes), { uniqueItems: true, maxItems: scopes.length }),
    ),
  },
  { additionalProperties: false },
);

export const IssuedKeyView = Type.Object({
  id: Type.String(),
  principal_id: Type.String(),
  scopes: Type.Array(Type.String()),
  key: Type.String({ description: 'The API key. Shown once: store it now.' }),
  created_at: Timestamp,
});
