// The command line: each verb against a real database, its output and its exit codes
// (0 done, 1 refused by a business rule, 2 usage error).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliHarness, cliHarness } from '../support/cli.ts';

const run = promisify(execFile);

describe('tollgate CLI', () => {
  let harness: CliHarness;
  const cli = (...argv: string[]) => harness.run(...argv);

  beforeAll(() => {
    harness = cliHarness('cli');
  });
  afterAll(() => harness.remove());

  it('opens accounts, moves money once per key, and shows balances', async () => {
    const cash = await cli(
      'account',
      'create',
      '--name',
      'cash',
      '--currency',
      'USD',
      '--kind',
      'asset',
      '--json',
    );
    expect(cash.code).toBe(0);
    const wallet = await cli(
      'account',
      'create',
      '--name',
      'wallet',
      '--currency',
      'USD',
      '--kind',
      'liability',
      '--flag',
      'debits_must_not_exceed_credits',
      '--json',
    );
    const cashId = JSON.parse(cash.stdout).id as string;
    const walletId = JSON.parse(wallet.stdout).id as string;
    const args = [
      'transfer',
      'create',
      '--from',
      cashId,
      '--to',
      walletId,
      '--amount',
      '1250',
      '--currency',
      'USD',
      '--key',
      'cli-1',
    ];
    expect((await cli(...args)).stdout).toMatch(/^done: trf_/);
    expect((await cli(...args)).stdout).toMatch(/^already done: trf_/);
    const shown = await cli('account', 'show', walletId, '--json');
    expect(JSON.parse(shown.stdout).balance).toMatchObject({ posted: '1250', available: '1250' });
    const listed = await cli('account', 'list');
    expect(listed.stdout).toContain(walletId);
  });

  it('exits 1 with the refusal code when a business rule refuses', async () => {
    const a = JSON.parse(
      (
        await cli(
          'account',
          'create',
          '--name',
          'a',
          '--currency',
          'USD',
          '--kind',
          'liability',
          '--flag',
          'debits_must_not_exceed_credits',
          '--json',
        )
      ).stdout,
    ).id;
    const b = JSON.parse(
      (
        await cli(
          'account',
          'create',
          '--name',
          'b',
          '--currency',
          'USD',
          '--kind',
          'revenue',
          '--json',
        )
      ).stdout,
    ).id;
    const refused = await cli(
      'transfer',
      'create',
      '--from',
      a,
      '--to',
      b,
      '--amount',
      '1',
      '--currency',
      'USD',
      '--key',
      'k',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('exceeds_available');
    expect((await cli('account', 'show', 'acc_missing')).code).toBe(1);
  });

  it('exits 2 on usage errors', async () => {
    expect(
      (await cli('account', 'create', '--name', 'x', '--currency', 'USD', '--kind', 'nonsense'))
        .code,
    ).toBe(2);
    expect(
      (await cli('account', 'create', '--name', 'x', '--currency', 'ABC', '--kind', 'asset')).code,
    ).toBe(2);
    expect(
      (
        await cli(
          'transfer',
          'create',
          '--from',
          'a',
          '--to',
          'b',
          '--amount',
          '-5',
          '--currency',
          'USD',
          '--key',
          'k',
        )
      ).code,
    ).toBe(2);
    expect((await cli('no-such-noun')).code).toBe(2);
  });

  it('runs as a real binary with --help and exit codes', async () => {
    const bin = new URL('../../bin/tollgate.js', import.meta.url).pathname;
    // The Node running the suite, not the first `node` on PATH: better-sqlite3 is built for one.
    const help = await run(process.execPath, [bin, 'transfer', 'create', '--help']);
    expect(help.stdout).toContain('--key <idempotency-key>');
    const failed = await run(process.execPath, [bin, 'account', 'show']).catch(
      (error: { code: number }) => error,
    );
    expect((failed as { code: number }).code).toBe(2);
  });
});
