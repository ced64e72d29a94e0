// Request and response schemas of the voucher routes: products, batches, sales, voids,
// redemption, floats, commission rules and reports. Same rules as schemas.ts: unknown fields
// are refused, amounts are decimal strings of minor units.

import { Type } from 'typebox';
import {
  commissionLevels,
  redemptionModes,
  voucherStatuses,
} from '../../core/vouchers/voucher-types.ts';
import { Amount, Currency, Id } from './schemas.ts';

const literals = <const T extends readonly string[]>(values: T) =>
  Type.Enum([...values] as T[number][]);
const Timestamp = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const Serial = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' });

export const CreateProductBody = Type.Object(
  {
    id: Type.Optional(Id),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    carrier_id: Type.Optional(Id),
    currency: Currency,
    face_value: Amount,
    validity_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3660 })),
    pin_length: Type.Integer({ minimum: 8, maximum: 32, description: 'Check digit included.' }),
    pin_alphabet: Type.Optional(literals(['digits', 'alphanumeric'] as const)),
    pin_check: Type.Optional(literals(['luhn', 'damm'] as const)),
    access_number: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    mode: literals(redemptionModes),
    instructions: Type.Optional(Type.String({ maxLength: 500 })),
    low_stock_threshold: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const ProductView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  carrier_id: Nullable(Type.String()),
  currency: Type.String(),
  face_value: Amount,
  validity_days: Nullable(Type.Integer()),
  pin_length: Type.Integer(),
  pin_alphabet: Type.String(),
  pin_check: Type.String(),
  access_number: Nullable(Type.String()),
  mode: literals(redemptionModes),
  instructions: Type.String(),
  low_stock_threshold: Type.Integer(),
  status: Type.String(),
  created_at: Timestamp,
});

export const CreateBatchBody = Type.Object(
  {
    product_id: Id,
    count: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    serial_prefix: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{1,16}$' })),
  },
  { additionalProperties: false },
);

export const ImportBatchBody = Type.Object(
  {
    product_id: Id,
    csv: Type.String({
      description: 'The carrier file: a header row naming serial, pin and optionally expires_at.',
    }),
    dry_run: Type.Optional(Type.Boolean()),
    serial_prefix: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{1,16}$' })),
  },
  { additionalProperties: false },
);

export const BatchView = Type.Object({
  id: Type.String(),
  product_id: Type.String(),
  serial_prefix: Type.String(),
  count_requested: Type.Integer(),
  count_created: Type.Integer(),
  source: Type.String(),
  frozen: Type.Boolean(),
  created_by: Type.String(),
  created_at: Timestamp,
});

export const Delivery = Type.Object(
  {
    channel: literals(['email', 'sms', 'fax'] as const),
    address: Type.String({ minLength: 3, maxLength: 254 }),
  },
  { additionalProperties: false },
);

export const SellBody = Type.Object(
  {
    product_id: Id,
    requested_amount: Amount,
    paid_amount: Amount,
    retailer_id: Type.Optional(Id),
    delivery: Type.Optional(Delivery),
  },
  { additionalProperties: false },
);

export const SaleView = Type.Object({
  id: Type.String(),
  status: literals(['completed', 'voided'] as const),
  product_id: Type.String(),
  serial: Type.String(),
  retailer_id: Type.String(),
  currency: Type.String(),
  face_value: Amount,
  retailer_commission: Amount,
  distributor_id: Nullable(Type.String()),
  distributor_commission: Amount,
  expires_at: Nullable(Timestamp),
  created_at: Timestamp,
  voided_at: Nullable(Timestamp),
});

export const SoldView = Type.Object({
  ...SaleView.properties,
  pin: Type.String({ description: 'The clear PIN: shown here and in the delivery only.' }),
  access_number: Nullable(Type.String()),
  instructions: Type.String(),
});

export const RedeemBody = Type.Object(
  {
    pin: Type.String({ minLength: 1, maxLength: 64 }),
    ani: Type.Optional(
      Type.String({ pattern: '^[0-9]{3,20}$', description: 'Caller number, for top-up products.' }),
    ),
  },
  { additionalProperties: false },
);

export const RedemptionView = Type.Object({
  serial: Type.String(),
  product_id: Type.String(),
  mode: literals(redemptionModes),
  account_id: Type.String(),
  amount: Amount,
  currency: Type.String(),
});

export const OpenFloatBody = Type.Object(
  { principal_id: Id, currency: Currency, credit_limit: Type.Optional(Amount) },
  { additionalProperties: false },
);

export const DepositBody = Type.Object(
  { currency: Currency, amount: Amount },
  { additionalProperties: false },
);

export const CommissionRuleBody = Type.Object(
  {
    level: literals(commissionLevels),
    rate_basis_points: Type.Integer({ minimum: 0, maximum: 10_000 }),
    fixed: Type.Optional(Amount),
    principal_id: Type.Optional(Id),
    product_id: Type.Optional(Id),
    face_value: Type.Optional(Amount),
  },
  { additionalProperties: false },
);

export const ReportQuery = Type.Object(
  {
    format: Type.Optional(literals(['json', 'csv'] as const)),
    retailer_id: Type.Optional(Id),
    currency: Type.Optional(Currency),
    from: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' })),
    to: Type.Optional(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' })),
  },
  { additionalProperties: false },
);

export const VoucherStatus = literals(voucherStatuses);
