// What text the API accepts. JSON bodies must be UTF-8, and no string anywhere in a request (a
// body field or key, a path parameter, a query value) may hold U+0000 or a lone UTF-16
// surrogate: PostgreSQL cannot store NUL in text and refuses the whole statement, SQLite would
// store both, and a lone surrogate is not text at all. Refusing them here, before any route
// runs, makes both stores accept exactly the same inputs.

import { isUtf8 } from 'node:buffer';
import secureJson from 'secure-json-parse';

/** A JSON escape that decodes to NUL or to half of a surrogate pair: the only ways either reaches a parsed string. */
const suspectEscape = /\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/;

/** Nesting deeper than any request of ours; deeper input is refused rather than walked. */
const depthMax = 32;

export type BodyProblem = 'not_utf8' | 'malformed_json' | { readonly badTextAt: string };

/**
 * Parses a JSON body, or says why not. Invalid UTF-8 is refused rather than turned into U+FFFD;
 * prototype-poisoning keys (`__proto__`, `constructor.prototype`) are refused as Fastify's own
 * parser refuses them. Most bodies hold no `\u` escape of NUL or a surrogate, so the parsed value
 * is walked only when the text has one.
 */
export function parseJsonBody(
  raw: Buffer,
): { ok: true; value: unknown } | { ok: false; problem: BodyProblem } {
  if (!isUtf8(raw)) return { ok: false, problem: 'not_utf8' };
  const text = raw.toString('utf8');
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    return { ok: false, problem: 'malformed_json' };
  }
  if (suspectEscape.test(text)) {
    const where = badTextIn(value, 'body', 0);
    if (where !== null) return { ok: false, problem: { badTextAt: where } };
  }
  return { ok: true, value };
}

/** Whether a string is storable text: no NUL, no lone surrogate. */
export function isCleanText(text: string): boolean {
  return !text.includes('\u0000') && (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Where the first string that is not clean text sits in a parsed value (`body/memo`,
 * `querystring/owner_id`), or null. Keys count as strings too.
 */
export function badTextIn(value: unknown, path: string, depth: number): string | null {
  if (typeof value === 'string') return isCleanText(value) ? null : path;
  if (value === null || typeof value !== 'object') return null;
  if (depth >= depthMax) return path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = badTextIn(value[i], `${path}/${i}`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const shown = `${path}/${isCleanText(key) ? key : '?'}`;
    if (!isCleanText(key)) return shown;
    const found = badTextIn((value as Record<string, unknown>)[key], shown, depth + 1);
    if (found !== null) return found;
  }
  return null;
}
