// The buyer's receipt for a sold PIN, as plain text (e-mail bodies, POS text printers) and as a
// PDF (printed receipts, e-mail attachments, fax pages), plus the 'receipt' channel that hands
// the rendered receipt to a printer or spool. The text layout and the value/expiry formats live
// here and are shared with the other channels.

import { formatMajor } from '../../core/money/money.ts';
import { groupPinForDisplay } from '../../core/vouchers/pin-code.ts';
import type { DeliveryChannel, DeliveryReceipt, PinDelivery } from './delivery-channel.ts';
import { DeliveryError, describeFailure } from './delivery-channel.ts';

/** "10.00 USD": the face value as a person reads it. */
export function formatFaceValue(delivery: Pick<PinDelivery, 'faceValueMinor' | 'currency'>) {
  return `${formatMajor(delivery.faceValueMinor, delivery.currency)} ${delivery.currency}`;
}

/** "2026-12-31": the UTC calendar date of an expiry, the same for every reader everywhere. */
export function formatExpiryDate(expiresAtMs: number): string {
  return new Date(expiresAtMs).toISOString().slice(0, 10);
}

const secrecyNotice = 'Keep this PIN secret: anyone who has it can use its value.';

/** The labelled lines of a receipt, in print order. The PIN is grouped for reading. */
function receiptFields(delivery: PinDelivery): [label: string, value: string][] {
  const fields: [string, string][] = [
    ['Value', formatFaceValue(delivery)],
    ['PIN', groupPinForDisplay(delivery.pin)],
    ['Serial', delivery.serial],
  ];
  if (delivery.expiresAtMs !== undefined) {
    fields.push(['Expires', `${formatExpiryDate(delivery.expiresAtMs)} (UTC)`]);
  }
  if (delivery.accessNumber !== undefined) fields.push(['Access number', delivery.accessNumber]);
  fields.push(['Sale', delivery.saleId]);
  return fields;
}

/**
 * The receipt as plain text, one field a line, for e-mail bodies and text-only printers.
 *
 * @example
 * renderReceiptText(delivery)
 * // Prepaid 10
 * // Value:          10.00 USD
 * // PIN:            1234 5678 9012 34
 * // ...
 */
export function renderReceiptText(delivery: PinDelivery): string {
  const lines = [delivery.productName];
  for (const [label, value] of receiptFields(delivery)) {
    lines.push(`${`${label}:`.padEnd(16)}${value}`);
  }
  if (delivery.instructions !== undefined) lines.push('', delivery.instructions);
  lines.push('', secrecyNotice, '');
  return lines.join('\n');
}

/**
 * Page sizes in PDF points: an 80 mm receipt roll (the common POS printer), and A4 for fax
 * gateways and e-mail attachments that people print on office paper.
 */
export const receiptPageSizes = {
  roll80: [226.77, 566.93],
  a4: [595.28, 841.89],
} as const;

export type ReceiptPageSize = keyof typeof receiptPageSizes;

/**
 * The receipt as a PDF, with two codes, each for a different reader:
 * - a QR code holding the PIN, so the buyer redeems by scanning (a phone camera, a kiosk's
 *   reader) instead of keying 14 or more characters; it is as secret as the PIN next to it;
 * - a Code 128 barcode of the serial, so a POS, support desk or returns counter can scan the
 *   receipt to find the voucher without ever seeing or keying the PIN. Code 128 is linear, read
 *   by every handheld scanner, and dense for the letters and digits a serial has.
 *
 * Text uses the PDF standard fonts (Helvetica, Courier), which cover Latin-1; product names in
 * other scripts need an embedded font, which this renderer does not carry yet.
 * `compress: false` leaves the content streams readable, for tests.
 */
export async function renderReceiptPdf(
  delivery: PinDelivery,
  options: { pageSize?: ReceiptPageSize; compress?: boolean } = {},
): Promise<Buffer> {
  const pageSize = receiptPageSizes[options.pageSize ?? 'roll80'];
  // pdfkit and bwip-js load with the first receipt, not with every start of the server or CLI:
  // together they take a quarter of a second to import.
  const [{ default: PDFDocument }, { toBuffer: barcodePng }] = await Promise.all([
    import('pdfkit'),
    import('bwip-js'),
  ]);
  const [qrPng, serialPng] = await Promise.all([
    // BWIPP's default QR error correction is level M (15%): enough for a creased paper receipt.
    barcodePng({ bcid: 'qrcode', text: delivery.pin, scale: 4 }),
    barcodePng({ bcid: 'code128', text: delivery.serial, scale: 2, height: 10 }),
  ]);

  const margin = pageSize[0] < 300 ? 14 : 56;
  const document = new PDFDocument({
    size: [...pageSize],
    margin,
    compress: options.compress ?? true,
    // The title names the serial, never the PIN: viewers show it in their window and tab titles.
    info: { Title: `Receipt ${delivery.serial}`, Producer: 'Tollgate', Creator: 'Tollgate' },
  });
  const chunks: Buffer[] = [];
  document.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    document.on('end', resolve);
    document.on('error', reject);
  });

  const width = pageSize[0] - 2 * margin;
  const large = pageSize[0] < 300 ? 1 : 1.5;
  document
    .font('Helvetica-Bold')
    .fontSize(13 * large)
    .text(delivery.productName, { width });
  document.moveDown(0.5);
  for (const [label, value] of receiptFields(delivery)) {
    if (label === 'PIN') {
      document
        .font('Helvetica')
        .fontSize(8 * large)
        .text('PIN', { width });
      document
        .font('Courier-Bold')
        .fontSize(15 * large)
        .text(value, { width });
      const qrSize = Math.min(width, 120 * large);
      document.image(qrPng, margin + (width - qrSize) / 2, document.y + 4, { width: qrSize });
      document.y += qrSize + 10;
    } else {
      document
        .font('Helvetica')
        .fontSize(9 * large)
        .text(`${label}: ${value}`, { width });
    }
  }
  document.moveDown(0.5);
  document.image(serialPng, margin, document.y, { fit: [width, 40 * large] });
  document.y += 44 * large;
  if (delivery.instructions !== undefined) {
    document
      .font('Helvetica')
      .fontSize(8 * large)
      .text(delivery.instructions, { width });
    document.moveDown(0.5);
  }
  document
    .font('Helvetica-Oblique')
    .fontSize(7 * large)
    .text(secrecyNotice, { width });
  document.end();
  await ended;
  return Buffer.concat(chunks);
}

/** A rendered receipt on its way to a printer, a spool directory or a POS download. */
export interface RenderedReceipt {
  readonly saleId: string;
  readonly serial: string;
  readonly pdf: Buffer;
  readonly text: string;
}

/**
 * The 'receipt' channel: renders the receipt and hands it to `print`, which the composition root
 * binds to a printer queue or to the POS that made the sale. A failing `print` is reported as
 * retryable `transport_unavailable`; a failing render as `render_failed`.
 */
export class ReceiptChannel implements DeliveryChannel {
  readonly kind = 'receipt' as const;
  readonly #print: (receipt: RenderedReceipt) => Promise<void>;
  readonly #pageSize: ReceiptPageSize;

  constructor(options: {
    print: (receipt: RenderedReceipt) => Promise<void>;
    pageSize?: ReceiptPageSize;
  }) {
    this.#print = options.print;
    this.#pageSize = options.pageSize ?? 'roll80';
  }

  async deliver(delivery: PinDelivery): Promise<DeliveryReceipt> {
    const failure = (code: 'render_failed' | 'transport_unavailable', error: unknown) =>
      new DeliveryError({
        kind: this.kind,
        code,
        serial: delivery.serial,
        saleId: delivery.saleId,
        retryable: code === 'transport_unavailable',
        detail: describeFailure(error, delivery.pin),
      });
    let pdf: Buffer;
    try {
      pdf = await renderReceiptPdf(delivery, { pageSize: this.#pageSize });
    } catch (error) {
      throw failure('render_failed', error);
    }
    try {
      await this.#print({
        saleId: delivery.saleId,
        serial: delivery.serial,
        pdf,
        text: renderReceiptText(delivery),
      });
    } catch (error) {
      throw failure('transport_unavailable', error);
    }
    return {
      kind: this.kind,
      saleId: delivery.saleId,
      serial: delivery.serial,
      destination: 'printer',
      transportMessageId: undefined,
    };
  }
}
