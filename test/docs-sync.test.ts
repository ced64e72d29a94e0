// docs/errors.md lists every error code a client can receive, with its HTTP status. This test
// fails when a code is added, removed or re-mapped without the page following.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allRefusals, httpStatusOf } from '../src/adapters/http/errors.ts';
import { switchAnswers } from '../src/core/charging/switch-answers.ts';

const page = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map<string, number>();
for (const match of page.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) {
  documented.set(match[1]!, Number(match[2]));
}

describe('docs/errors.md', () => {
  it('documents every error code with the status the API sends', () => {
    const missing = Object.keys(allRefusals).filter((code) => !documented.has(code));
    expect(missing, 'codes missing from docs/errors.md').toEqual([]);
    for (const [code, status] of Object.entries(httpStatusOf)) {
      expect(documented.get(code), `status of ${code}`).toBe(status);
    }
  });

  it('documents no code the API does not have', () => {
    const extra = [...documented.keys()].filter((code) => !(code in allRefusals));
    expect(extra, 'codes in docs/errors.md that the code does not know').toEqual([]);
  });

  it('prints the switch answer of every charging refusal as the code answers it', () => {
    const printed = new Map<string, string>();
    for (const match of page.matchAll(
      /^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|\s*(\d{3})\s*\|\s*([A-Za-z -]+?)\s*\|\s*(\d{4})\s*\|$/gm,
    )) {
      printed.set(match[1]!, `${match[2]} ${match[3]} ${match[4]} ${match[5]}`);
    }
    const expected = new Map(
      Object.entries(switchAnswers).map(([code, a]) => [
        code,
        `${httpStatusOf[code as keyof typeof httpStatusOf]} ${a.sipStatus} ${a.radius} ${a.resultCode}`,
      ]),
    );
    expect(printed).toEqual(expected);
  });
});
