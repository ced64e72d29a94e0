import { describe, expect, test } from 'vitest';
import { DeliveryError, redactPin } from './delivery-channel.ts';
import type { RenderedReceipt } from './receipt.ts';
import {
  formatExpiryDate,
  formatFaceValue,
  ReceiptChannel,
  renderReceiptPdf,
  renderReceiptText,
} from './receipt.ts';
import { pdfImageCount, pdfTextLines } from './testing/pdf-text.ts';
import { pinForms, sampleDelivery, samplePin } from './testing/sample-delivery.ts';

describe('formats', () => {
  test.each([
    { faceValueMinor: 1000n, currency: 'USD', shown: '10.00 USD' },
    { faceValueMinor: 5n, currency: 'EUR', shown: '0.05 EUR' },
    { faceValueMinor: 10_000n, currency: 'KRW', shown: '10000 KRW' },
    { faceValueMinor: 1500n, currency: 'KWD', shown: '1.500 KWD' },
  ] as const)('given $faceValueMinor minor $currency, then the value reads "$shown"', (row) => {
    expect(formatFaceValue(row)).toBe(row.shown);
  });

  test('given an expiry one second before midnight UTC, then the date is that UTC day', () => {
    expect(formatExpiryDate(Date.UTC(2026, 11, 31, 23, 59, 59))).toBe('2026-12-31');
  });
});

describe('renderReceiptText', () => {
  test('given a full delivery, then every field is on its own labelled line', () => {
    expect(renderReceiptText(sampleDelivery())).toBe(
      [
        'Prepaid 10',
        'Value:          10.00 USD',
        'PIN:            8392 0174 6583 91',
        'Serial:         B2026A-000000042',
        'Expires:        2026-12-31 (UTC)',
        'Access number:  0800 123 4567',
        'Sale:           sale_01HZX3',
        '',
        'Dial the access number, then enter the PIN and the number you are calling.',
        '',
        'Keep this PIN secret: anyone who has it can use its value.',
        '',
      ].join('\n'),
    );
  });

  test('given no expiry, access number or instructions, then those lines are left out', () => {
    const { expiresAtMs, accessNumber, instructions, ...required } = sampleDelivery();
    const text = renderReceiptText(required);
    expect(text).not.toMatch(/Expires|Access number/);
    expect(text.split('\n')).toHaveLength(8);
  });
});

describe('renderReceiptPdf', () => {
  test.each([{ pageSize: 'roll80' }, { pageSize: 'a4' }] as const)(
    'given the $pageSize layout, then it is a PDF with the fields as text, a QR code and a barcode',
    async ({ pageSize }) => {
      const pdf = await renderReceiptPdf(sampleDelivery(), { pageSize, compress: false });
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(pdf.subarray(-6).toString('latin1')).toMatch(/%%EOF/);
      const lines = pdfTextLines(pdf);
      expect(lines).toEqual(
        expect.arrayContaining([
          'Prepaid 10',
          'Value: 10.00 USD',
          '8392 0174 6583 91',
          'Serial: B2026A-000000042',
          'Expires: 2026-12-31 (UTC)',
          'Access number: 0800 123 4567',
          'Sale: sale_01HZX3',
        ]),
      );
      expect(pdfImageCount(pdf)).toBe(2);
    },
  );

  test('given the default compressed output, then the text still reads back after inflating', async () => {
    const pdf = await renderReceiptPdf(sampleDelivery());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdfTextLines(pdf)).toContain('8392 0174 6583 91');
  });

  test('given a receipt, then its document title names the serial and not the PIN', async () => {
    const source = (await renderReceiptPdf(sampleDelivery(), { compress: false })).toString(
      'latin1',
    );
    expect(source).toContain('(Receipt B2026A-000000042)');
    const infoStrings = source.match(/\(([^)]*)\)/g) ?? [];
    for (const form of pinForms()) expect(infoStrings.join('')).not.toContain(form);
  });
});

describe('ReceiptChannel', () => {
  test('given a printer, when a PIN is delivered, then the printer gets the PDF and the text', async () => {
    const printed: RenderedReceipt[] = [];
    const channel = new ReceiptChannel({ print: async (receipt) => void printed.push(receipt) });
    const receipt = await channel.deliver(sampleDelivery());
    expect(receipt).toEqual({
      kind: 'receipt',
      saleId: 'sale_01HZX3',
      serial: 'B2026A-000000042',
      destination: 'printer',
      transportMessageId: undefined,
    });
    expect(printed).toHaveLength(1);
    expect(printed[0]!.pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(printed[0]!.text).toContain('8392 0174 6583 91');
  });

  test('given a printer that fails quoting the PIN, then the DeliveryError is retryable and PIN-free', async () => {
    const channel = new ReceiptChannel({
      print: async () => {
        throw new Error(`printer jammed on "${samplePin}"`);
      },
    });
    const error = await channel.deliver(sampleDelivery()).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({
      code: 'transport_unavailable',
      retryable: true,
      serial: 'B2026A-000000042',
    });
    const message = (error as DeliveryError).message;
    expect(message).toContain('B2026A-000000042');
    expect(message).toContain('printer jammed on "[PIN]"');
    for (const form of pinForms()) expect(message).not.toContain(form);
  });
});

describe('redactPin', () => {
  test.each([
    { text: `bad ${samplePin}`, redacted: 'bad [PIN]' },
    { text: 'bad 8392 0174 6583 91!', redacted: 'bad [PIN]!' },
    { text: 'ABCD2345 abcd2345', pin: 'ABCD2345', redacted: '[PIN] [PIN]' },
    { text: 'nothing secret', redacted: 'nothing secret' },
  ])('given "$text", then it reads "$redacted"', ({ text, pin, redacted }) => {
    expect(redactPin(text, pin ?? samplePin)).toBe(redacted);
  });
});
