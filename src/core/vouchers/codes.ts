// Every way the voucher domain can refuse a request. The codes are public API: HTTP maps them
// through errors.ts, the CLI prints them, docs/errors.md lists them.

export const voucherRefusals = {
  product_not_found: 'The product does not exist or is retired.',
  product_invalid: 'The product definition is invalid.',
  batch_not_found: 'The batch does not exist.',
  batch_count_out_of_range: 'A batch holds from 1 to 1,000,000 PINs.',
  serial_prefix_invalid: 'A serial prefix is 1-16 upper-case letters and digits.',
  serial_prefix_taken: 'Another batch already uses this serial prefix.',
  voucher_not_found: 'No voucher has this serial.',
  amount_mismatch:
    'The paid amount differs from the requested amount, or the requested amount is not the ' +
    "product's face value; nothing was sold.",
  out_of_stock: 'No PIN of this product is in stock; nothing was sold.',
  float_not_found: 'The seller has no float account in this currency.',
  float_insufficient: "The retailer's float is too low for this sale; nothing was sold.",
  seller_not_allowed: 'Only terminals, retailers and operators sell vouchers.',
  sale_not_found: 'The sale does not exist or is not visible to you.',
  sale_already_voided: 'The sale was already voided.',
  void_window_passed: 'The time allowed for voiding this sale has passed.',
  voucher_already_used: 'The PIN has been redeemed or frozen, so the sale cannot be voided.',
  void_not_possible: "The distributor's float cannot return its commission; nothing was voided.",
  pin_malformed: 'The PIN is mistyped: its length, characters or check digit are wrong.',
  pin_invalid: 'This PIN cannot be redeemed.',
  redeem_locked: 'Too many failed redemptions: try again later.',
  commission_rule_invalid:
    'A commission rule needs a rate from 0 to 10000 basis points and a fixed amount >= 0.',
  pin_file_invalid: 'The PIN file has errors; nothing was imported.',
  delivery_address_invalid: 'The delivery address is not a valid e-mail address or phone number.',
} as const;

export type VoucherRefusalCode = keyof typeof voucherRefusals;
