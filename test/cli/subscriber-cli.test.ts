// `tollgate subscriber …` against a real SQLite file: create, credit and debit with replays and
// refusals, link and unlink, show and list; exit codes 0 (done), 1 (refused) and 2 (usage).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/shared/clock.ts';
import { systemCaller } from '../../src/core/shared/principal.ts';
import { createServices } from '../../src/services.ts';
import { openStore } from '../../src/store/store.ts';
import { chargingEpochMs, setUpCharging } from '../support/charging.ts';
import { type CliHarness, cliHarness } from '../support/cli.ts';

const cash = 'acc_test_cash_USD';

describe('tollgate subscriber CLI', () => {
  let harness: CliHarness;
  const cli = (...argv: string[]) => harness.run(...argv);

  beforeAll(async () => {
    harness = cliHarness('scli');
    // A routing plan and an operator cash account to fund subscribers from.
    const clock = new ManualClock(chargingEpochMs);
    const store = await openStore({ sqlitePath: harness.dbPath, clock });
    try {
      await setUpCharging(await createServices(store, clock));
    } finally {
      await store.close();
    }
  });
  afterAll(() => harness.remove());

  it('creates a subscriber once, and refuses a bad number', async () => {
    const created = await cli('subscriber', 'create', '15557770001', '--currency', 'USD');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe('created ani:15557770001 (acc_ani_15557770001_USD, open)\n');
    const again = await cli('subscriber', 'create', '15557770001', '--currency', 'USD');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^refused: subscriber_exists: /);
    const bad = await cli('subscriber', 'create', '0155', '--currency', 'USD');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^refused: caller_number_invalid: /);
    const usage = await cli('subscriber', 'create', '15557770002', '--currency', 'usd');
    expect(usage.code).toBe(2);
    const status = await cli(
      'subscriber',
      'create',
      '15557770002',
      '--currency',
      'USD',
      '--status',
      'gone',
    );
    expect(status.code).toBe(2);
  });

  it('credits and debits once per key, and never overdraws', async () => {
    const credit = ['subscriber', 'credit', '15557770001', '--currency', 'USD', '--from', cash];
    const first = await cli(...credit, '--amount', '500', '--key', 'cli-topup-1');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^done: trf_\w+ credit 500 USD ani:15557770001\n$/);
    const replay = await cli(...credit, '--amount', '500', '--key', 'cli-topup-1');
    expect(replay.stdout).toMatch(/^already done: /);
    const conflict = await cli(...credit, '--amount', '400', '--key', 'cli-topup-1');
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/^refused: exists_with_different_fields: /);
    const debit = ['subscriber', 'debit', '15557770001', '--currency', 'USD', '--to', cash];
    const over = await cli(...debit, '--amount', '501', '--key', 'cli-fee-1');
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/^refused: exceeds_available: /);
    const fee = await cli(...debit, '--amount', '100', '--key', 'cli-fee-2', '--json');
    expect(fee.code, fee.stderr).toBe(0);
    expect(JSON.parse(fee.stdout)).toMatchObject({ amount: '100', code: 'subscriber_debit' });
    const badAmount = await cli(...debit, '--amount', '1.5', '--key', 'cli-fee-3');
    expect(badAmount.code).toBe(2);
  });

  it('links and unlinks a caller number, and shows and lists subscribers', async () => {
    const linked = await cli('subscriber', 'link', '15557770001', '15557770009');
    expect(linked.code, linked.stderr).toBe(0);
    expect(linked.stdout).toBe(
      'linked: 15557770009 -> ani:15557770001 (acc_ani_15557770001_USD)\n',
    );
    const shown = await cli('subscriber', 'show', '15557770009', '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({
      subscriber: 'ani:15557770001',
      balance: { posted: '400', held: '0', available: '400' },
      caller_numbers: [{ ani: '15557770009' }],
      recent_top_ups: [{ amount: '500', from_account_id: cash, code: 'subscriber_credit' }],
    });
    const table = await cli('subscriber', 'show', '15557770001');
    expect(table.stdout).toContain('available 400 USD');
    expect(table.stdout).toContain('caller numbers: 15557770009');
    const list = await cli('subscriber', 'list');
    expect(list.stdout).toMatch(/ani:15557770001 {2}USD +400 {2}open {4}Caller 15557770001/);
    const unlinked = await cli('subscriber', 'unlink', '15557770001', '15557770009');
    expect(unlinked.stdout).toBe('unlinked: 15557770009 from ani:15557770001\n');
    const again = await cli('subscriber', 'unlink', '15557770001', '15557770009');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^refused: caller_number_not_linked: /);
    const nobody = await cli('subscriber', 'show', '15557779999');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/^refused: subscriber_not_found: /);
    const garbage = await cli('subscriber', 'show', 'alice');
    expect(garbage.code).toBe(2);
  });

  it('reaches the same accounts as the services', async () => {
    const clock = new ManualClock(chargingEpochMs);
    const store = await openStore({ sqlitePath: harness.dbPath, clock });
    try {
      const services = await createServices(store, clock);
      const account = await services.ledger.getAccount(systemCaller, 'acc_ani_15557770001_USD');
      expect(account.ok && account.value.balance.availableMinor).toBe(400n);
    } finally {
      await store.close();
    }
  });
});
