// Phone and fax numbers as the SMS and fax channels need them: international (E.164) digits,
// country code first, with no '+' and no punctuation.

/** Fewest digits of an international number (a few small countries use seven). */
export const phoneDigitsMin = 7;
/** Most digits E.164 allows. */
export const phoneDigitsMax = 15;

/** The rule `normalizePhoneNumber` applies, in words, for error messages. */
export const phoneNumberRule =
  `an international number: country code first, ${phoneDigitsMin} to ${phoneDigitsMax} digits, ` +
  'optionally written with +, spaces, dots, dashes or parentheses (e.g. +1 555 123 4567)';

/**
 * Reduces a phone or fax number to its E.164 digits, or returns undefined when it is not an
 * international number. National forms (a leading 0, or 00 for the international prefix) are
 * refused rather than guessed, because the country they belong to is unknown here.
 *
 * @example normalizePhoneNumber('+1 (555) 123-4567') === '15551234567'
 */
export function normalizePhoneNumber(text: string): string | undefined {
  const trimmed = text.trim();
  if (!/^\+?[0-9 .()-]+$/.test(trimmed)) return undefined;
  const digits = trimmed.replace(/[^0-9]/g, '');
  if (digits.length < phoneDigitsMin || digits.length > phoneDigitsMax) return undefined;
  if (digits.startsWith('0')) return undefined;
  return digits;
}
