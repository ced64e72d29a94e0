// Where a calling card comes from, as rating-plan selection needs it: the card's product (and
// the product's carrier) and the retailer and distributor that sold it. None of this changes
// once the card is sold (a voided sale voids its PIN for good), so each process reads it once
// per card, on the first call, and keeps it; later calls on the card read nothing.

import type { Product, VoucherReadStore } from './voucher-types.ts';

export interface CardOrigin {
  readonly serial: string;
  readonly productId: string;
  /** The product's carrier (seed 002: the PIN carries its carrier); null for none. */
  readonly carrierId: string | null;
  /** The retailer and distributor of the sale; null for a card never sold (imported active). */
  readonly retailerId: string | null;
  readonly distributorId: string | null;
}

/** Cards remembered per process; the oldest is forgotten first beyond this. */
export const cardOriginsCachedMax = 100_000;

export class CardOrigins {
  private readonly reads: Pick<VoucherReadStore, 'getVoucher' | 'getSale'>;
  private readonly product: (id: string) => Promise<Product | null>;
  private readonly cached = new Map<string, CardOrigin>();

  constructor(deps: {
    reads: Pick<VoucherReadStore, 'getVoucher' | 'getSale'>;
    product: (id: string) => Promise<Product | null>;
  }) {
    this.reads = deps.reads;
    this.product = deps.product;
  }

  /** The card's origin by serial, or null when no PIN has that serial. */
  async of(serial: string): Promise<CardOrigin | null> {
    const known = this.cached.get(serial);
    if (known) return known;
    const voucher = await this.reads.getVoucher(serial);
    if (!voucher) return null;
    const [product, sale] = await Promise.all([
      this.product(voucher.productId),
      voucher.saleId === null ? null : this.reads.getSale(voucher.saleId),
    ]);
    const origin: CardOrigin = {
      serial,
      productId: voucher.productId,
      carrierId: product?.carrierId ?? null,
      retailerId: sale?.retailerId ?? null,
      distributorId: sale?.distributorId ?? null,
    };
    if (this.cached.size >= cardOriginsCachedMax) {
      const oldest = this.cached.keys().next();
      if (!oldest.done) this.cached.delete(oldest.value);
    }
    this.cached.set(serial, origin);
    return origin;
  }
}
