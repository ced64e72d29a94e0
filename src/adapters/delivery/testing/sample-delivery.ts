// Test support: a complete PinDelivery and the forms of its PIN that must never leak.

import { groupPinForDisplay } from '../../../core/vouchers/pin-code.ts';
import type { PinDelivery } from '../delivery-channel.ts';

export const samplePin = '83920174658391';

export function sampleDelivery(overrides: Partial<PinDelivery> = {}): PinDelivery {
  return {
    saleId: 'sale_01HZX3',
    recipient: 'buyer@example.com',
    productName: 'Prepaid 10',
    faceValueMinor: 1000n,
    currency: 'USD',
    pin: samplePin,
    serial: 'B2026A-000000042',
    expiresAtMs: Date.UTC(2026, 11, 31, 23, 59, 59),
    accessNumber: '0800 123 4567',
    instructions: 'Dial the access number, then enter the PIN and the number you are calling.',
    ...overrides,
  };
}

/** The PIN as written by any channel: plain and grouped for display. */
export function pinForms(pin: string = samplePin): string[] {
  return [pin, groupPinForDisplay(pin)];
}
