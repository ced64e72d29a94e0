// The rating commands of the CLI: carriers, tariff import with line-numbered errors, plans and
// quotes, against a real SQLite database.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliHarness, cliHarness } from '../support/cli.ts';

const fixtures = new URL('../../src/core/rating/fixtures/', import.meta.url).pathname;

describe('tollgate rating commands', () => {
  let harness: CliHarness;
  const cli = (...argv: string[]) => harness.run(...argv);

  beforeAll(() => {
    harness = cliHarness('rating-cli');
  });
  afterAll(() => harness.remove());

  it('imports a tariff, sets a plan and quotes a call', async () => {
    expect(
      (await cli('carrier', 'create', '--id', 'acme', '--name', 'Acme', '--access-code', '00700'))
        .code,
    ).toBe(0);
    const imported = await cli(
      'tariff',
      'import',
      '--carrier',
      'acme',
      '--file',
      join(fixtures, 'tollgate/tariff.csv'),
    );
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(
      /^imported trv_\w+: 5 prefixes, 4 destinations, carrier acme, EUR/,
    );
    expect(
      (await cli('rating', 'plan', 'set', '--currency', 'EUR', '--default-carrier', 'acme')).code,
    ).toBe(0);
    const quote = await cli(
      'rate',
      'quote',
      '--number',
      '33123456789',
      '--duration-seconds',
      '61',
      '--at',
      '2026-03-04T11:00:00Z',
      '--json',
    );
    expect(quote.code, quote.stderr).toBe(0);
    expect(JSON.parse(quote.stdout)).toMatchObject({
      destination: 'France',
      cost: '10',
      currency: 'EUR',
    });
    const listed = await cli('tariff', 'list');
    expect(listed.stdout).toContain('active');
  });

  it('refuses a bad tariff with exit 1 and one line per problem, naming file and line', async () => {
    const bad = await cli(
      'tariff',
      'import',
      '--carrier',
      'acme',
      '--file',
      join(fixtures, 'tollgate/tariff-bad.csv'),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/tariff\.csv:\d+: /);
    expect(bad.stderr).toContain('refused: tariff_invalid');
  });

  it('imports a CGRateS tariff plan directory with a dry run', async () => {
    const dry = await cli(
      'tariff',
      'import',
      '--carrier',
      'acme',
      '--format',
      'cgrates',
      '--file',
      join(fixtures, 'cgrates'),
      '--currency',
      'EUR',
      '--rating-plan',
      'RP_RETAIL',
      '--effective-from',
      '2026-06-01T00:00:00Z',
      '--dry-run',
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^checked \(dry run, nothing stored\): \d+ prefixes/);
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli('rate', 'quote', '--number', '331')).code).toBe(2);
    expect(
      (await cli('tariff', 'import', '--carrier', 'acme', '--file', '/no/such/file')).code,
    ).toBe(2);
    expect((await cli('rating', 'plan', 'set', '--currency', 'EUR')).code).toBe(2);
  });
});
