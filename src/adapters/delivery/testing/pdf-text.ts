// Test support: reads the text lines out of a PDF that pdfkit wrote, without a PDF library.
// pdfkit draws each line of text as one TJ operator whose strings are hex-encoded WinAnsi bytes;
// content streams are inflated with node:zlib when compressed. Good for our receipts, not for
// PDFs in general.

import { inflateSync } from 'node:zlib';

const streamPattern = /<<((?:(?!>>)[\s\S])*)>>\s*stream\r?\n([\s\S]*?)\r?\nendstream/g;
const textOperatorPattern =
  /\[((?:\s*(?:<[0-9a-fA-F]*>|-?[0-9.]+))*)\s*\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj/g;

/** The text lines drawn in the PDF's content streams, in drawing order. */
export function pdfTextLines(pdf: Buffer): string[] {
  const source = pdf.toString('latin1');
  const lines: string[] = [];
  for (const [, dictionary, body] of source.matchAll(streamPattern)) {
    if (dictionary!.includes('/Subtype /Image')) continue;
    const bytes = Buffer.from(body!, 'latin1');
    const content = dictionary!.includes('/FlateDecode') ? inflateSync(bytes) : bytes;
    for (const match of content.toString('latin1').matchAll(textOperatorPattern)) {
      const hexParts =
        match[1] === undefined
          ? [match[2]!]
          : [...match[1].matchAll(/<([0-9a-fA-F]*)>/g)].map((part) => part[1]!);
      lines.push(hexParts.map((hex) => Buffer.from(hex, 'hex').toString('latin1')).join(''));
    }
  }
  return lines;
}

/** How many images the pages place: entries of the /XObject resource dictionaries (an image's
 * alpha channel is a second image object, its soft mask, which pages do not place). */
export function pdfImageCount(pdf: Buffer): number {
  let count = 0;
  for (const [, entries] of pdf.toString('latin1').matchAll(/\/XObject\s*<<([^>]*)>>/g)) {
    count += entries!.match(/\/[A-Za-z0-9]+\s+\d+\s+0\s+R/g)?.length ?? 0;
  }
  return count;
}
