// The core stays pure: no clock, no randomness outside node:crypto, no environment, no I/O.
// Biome's import rules cover the imports; this covers the calls a lint rule cannot see.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

const forbidden: Array<[RegExp, string]> = [
  [/\bDate\.now\(/, 'reads the wall clock: take a Clock or a nowMs argument'],
  [/new Date\(\)/, 'reads the wall clock: take a Clock or a nowMs argument'],
  [/\bMath\.random\(/, 'is not a secure random source: use node:crypto'],
  [/\bprocess\.env\b/, 'reads the environment: configuration comes in from main.ts'],
  [
    /from '(fastify|pg|better-sqlite3|kysely|node:http|node:fs)'/,
    'does I/O: belongs in an adapter or the store',
  ],
];

describe('src/core is a functional core', () => {
  const root = new URL('../src/core', import.meta.url).pathname;
  for (const file of sourceFiles(root)) {
    it(`${file.slice(root.length + 1)} uses no clock, randomness, environment or I/O`, () => {
      const text = readFileSync(file, 'utf8');
      const problems = forbidden.filter(([pattern]) => pattern.test(text)).map(([, why]) => why);
      expect(problems).toEqual([]);
    });
  }
});

describe('Math.random stays out of src', () => {
  it('appears in no source file outside tests', () => {
    const root = new URL('../src', import.meta.url).pathname;
    const offenders = sourceFiles(root).filter((file) =>
      /\bMath\.random\(/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});

describe('HTTP routes do not import the app that registers them', () => {
  it('takes reply helpers from reply.ts, so no route imports app.ts', () => {
    const root = new URL('../src/adapters/http/routes', import.meta.url).pathname;
    const offenders = sourceFiles(root).filter((file) =>
      /from '\.\.\/app\.ts'/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
