// The rating-plan commands of the CLI against a real SQLite database: create, list, show,
// assign to a subscriber account, unassign, and the refusals (exit 1 with the code, exit 2 for
// a usage error).

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliHarness, cliHarness } from '../support/cli.ts';

const fixtures = new URL('../../src/core/rating/fixtures/', import.meta.url).pathname;

describe('tollgate rating plan commands', () => {
  let harness: CliHarness;
  const cli = (...argv: string[]) => harness.run(...argv);

  beforeAll(async () => {
    harness = cliHarness('rating-plan-cli');
    expect((await cli('carrier', 'create', '--id', 'acme', '--name', 'Acme')).code).toBe(0);
    const tariff = join(fixtures, 'tollgate/tariff.csv');
    expect((await cli('tariff', 'import', '--carrier', 'acme', '--file', tariff)).code).toBe(0);
  });
  afterAll(() => harness.remove());

  it('creates, lists, shows, assigns and unassigns a plan', async () => {
    const created = await cli(
      ...['rating', 'plan', 'create', '--id', 'premium', '--name', 'Premium', '--currency', 'USD'],
      ...['--default-carrier', 'acme', '--barred', '1900'],
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe('created rating plan premium: USD: default acme, barred 1900\n');
    // The currency's plan is still set as before.
    expect(
      (await cli('rating', 'plan', 'set', '--currency', 'USD', '--default-carrier', 'acme')).code,
    ).toBe(0);
    const listed = await cli('rating', 'plan', 'list', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: 'premium' })]);
    expect((await cli('subscriber', 'create', '15557770001', '--currency', 'USD')).code).toBe(0);
    const account = 'acc_ani_15557770001_USD';
    const assigned = await cli('rating', 'plan', 'assign', 'premium', '--account', account);
    expect(assigned.code, assigned.stderr).toBe(0);
    expect(assigned.stdout).toBe(`assigned premium to subscriber ${account}\n`);
    const shown = await cli('rating', 'plan', 'show', 'premium');
    expect(shown.stdout).toContain(`assigned to subscriber ${account}`);
    const unassigned = await cli('rating', 'plan', 'unassign', '--account', account);
    expect(unassigned.stdout).toBe(`unassigned premium from subscriber ${account}\n`);
    expect((await cli('rating', 'plan', 'show', 'premium')).stdout).toContain(
      'assigned to nothing',
    );
  });

  it('refuses with the code and exit 1, or a usage error with exit 2', async () => {
    const missing = await cli('rating', 'plan', 'assign', 'premium', '--product', 'prd_none');
    expect([missing.code, missing.stderr]).toEqual([
      1,
      expect.stringContaining('product_not_found'),
    ]);
    const twice = await cli('rating', 'plan', 'unassign', '--product', 'a', '--account', 'b');
    expect(twice.code).toBe(2);
    const none = await cli('rating', 'plan', 'unassign', '--account', 'acc_ani_1_USD');
    expect([none.code, none.stderr]).toEqual([1, expect.stringContaining('assignment_not_found')]);
    const ghost = await cli(
      ...['rating', 'plan', 'create', '--id', 'ghostly', '--name', 'G', '--currency', 'USD'],
      ...['--default-carrier', 'ghost'],
    );
    expect([ghost.code, ghost.stderr]).toEqual([1, expect.stringContaining('carrier_not_found')]);
    const unknown = await cli('rating', 'plan', 'show', 'nope');
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      expect.stringContaining('rating_plan_not_found'),
    ]);
  });
});
