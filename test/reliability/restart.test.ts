// Hold deadlines live in the database, so a restart in the middle of a hold's life neither
// loses the hold nor its expiry.

import { expect, it } from 'vitest';
import { ManualClock } from '../../src/core/shared/clock.ts';
import { describeEachStore, openTestEnv, operator } from '../support/stores.ts';

describeEachStore('restart', (kind) => {
  it('expires a hold made before a restart once its timeout passes after it', async () => {
    const clock = new ManualClock();
    const before = await openTestEnv(kind, { clock });
    const open = async (name: string, kindOf: 'liability' | 'equity') => {
      const created = await before.ledger.createAccount(operator, {
        ownerId: 'system',
        name,
        currency: 'USD',
        kind: kindOf,
        flags: [],
        creditLimitMinor: 0n,
      });
      if (!created.ok) throw new Error(created.code);
      return created.value.account.id;
    };
    const wallet = await open('wallet', 'liability');
    const revenue = await open('revenue', 'equity');
    const hold = await before.ledger.transfer(operator, {
      kind: 'hold',
      idempotencyKey: 'h',
      debitAccountId: wallet,
      creditAccountId: revenue,
      amountMinor: 500n,
      currency: 'USD',
      timeoutSeconds: 30,
    });
    expect(hold.ok).toBe(true);
    await before.closeKeep();

    clock.advanceMs(31_000);
    const after = await openTestEnv(kind, {
      clock,
      reuse: {
        ...(before.sqlitePath ? { sqlitePath: before.sqlitePath } : {}),
        ...(before.postgresSchema ? { postgresSchema: before.postgresSchema } : {}),
      },
    });
    try {
      const held = await after.ledger.getAccount(operator, wallet);
      expect(held.ok && held.value.balance.heldMinor).toBe(500n);
      expect(await after.ledger.expireDueHolds()).toBe(1);
      const released = await after.ledger.getAccount(operator, wallet);
      expect(released.ok && released.value.balance.heldMinor).toBe(0n);
      if (!hold.ok) throw new Error('unreachable');
      const shown = await after.ledger.getTransfer(operator, hold.transfer.id);
      expect(shown.ok && shown.value.holdStatus).toBe('expired');
    } finally {
      await after.close();
    }
  });
});
