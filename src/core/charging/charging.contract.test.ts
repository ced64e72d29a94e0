// The charging engine through the store, on SQLite and PostgreSQL, on a simulated clock: every
// rule of a prepaid call from authorize to the CDR, with the money checked to the cent.
//
// The tariff (test/support/charging.ts) charges North America 0.10 to connect and then 1 cent a
// second, so a balance of B cents buys exactly B - 10 seconds.

import { afterEach, expect, it } from 'vitest';
import {
  balanceOfAccount,
  chargingEpochMs,
  fundAni,
  sellCallingCard,
  setUpCharging,
} from '../../../test/support/charging.ts';
import {
  describeEachStore,
  type Opened,
  openTestEnv,
  reuseOf,
} from '../../../test/support/stores.ts';
import { ManualClock } from '../shared/clock.ts';
import type { Caller } from '../shared/principal.ts';
import { systemCaller } from '../shared/principal.ts';
import { carrierRevenueAccountId } from './charging-commands.ts';

const us = '+12125550100';

function value<T>(result: { ok: true; value: T } | { ok: false; code: string }): T {
  if (!result.ok) throw new Error(`unexpected refusal ${result.code}`);
  return result.value;
}

describeEachStore('charging', (kind) => {
  let env: Opened | undefined;
  let reopened: Opened | undefined;
  afterEach(async () => {
    // After a restart test the first store is already closed, and the reopened one owns the data.
    if (reopened) await reopened.close();
    else await env?.close();
    env = undefined;
    reopened = undefined;
  });

  async function start(settings: Record<string, unknown> = {}): Promise<{ e: Opened; sw: Caller }> {
    env = await openTestEnv(kind, { clock: new ManualClock(chargingEpochMs) });
    Object.assign(env.charging.settings, { sliceSeconds: 60, graceSeconds: 10, ...settings });
    const { switchCaller } = await setUpCharging(env);
    return { e: env, sw: switchCaller };
  }

  /** A call with a disconnect callback that the switch never reports on: the server ends it. */
  async function endedByServer(e: Opened, sw: Caller, ani: string, callbackUrl: string) {
    value(
      await e.charging.initiate(sw, {
        sessionId: `silent-${ani}`,
        subscriber: { ani },
        calledNumber: us,
        callbackUrl,
      }),
    );
    e.clock.advanceMs(71_000); // the grant of 60 s and the grace of 10 s are over
    expect(await e.charging.superviseDue()).toBe(1);
  }

  it('authorizes with carrier, rate and the exact seconds the balance buys, or a reason', async () => {
    const { e, sw } = await start();
    await fundAni(e, '15550001', 100n);
    const allowed = value(
      await e.charging.authorize(sw, { subscriber: { ani: '15550001' }, calledNumber: us }),
    );
    expect(allowed).toMatchObject({
      carrierId: 'acme',
      prefix: '1',
      destinationName: 'North America',
      currency: 'USD',
      availableMinor: 100n,
      maxSeconds: 90,
    });
    const reasons = async (ani: string, calledNumber: string) => {
      const outcome = await e.charging.authorize(sw, { subscriber: { ani }, calledNumber });
      return outcome.ok ? 'allowed' : outcome.code;
    };
    expect(await reasons('15559999', us)).toBe('unknown_account');
    expect(await reasons('15550001', '+19005550100')).toBe('destination_not_allowed');
    expect(await reasons('15550001', '+861012345')).toBe('no_route');
    expect(await reasons('15550001', 'not-a-number')).toBe('number_malformed');
    await fundAni(e, '15550002', 10n); // pays the connect fee and not one second
    expect(await reasons('15550002', us)).toBe('insufficient_balance');
    await e.ledger.setAccountStatus(systemCaller, 'acc_ani_15550001_USD', 'frozen');
    expect(await reasons('15550001', us)).toBe('account_frozen');
  });

  it('refuses to connect below the prescribed minimum balance', async () => {
    const { e, sw } = await start({ minimumBalanceMinor: 200n });
    await fundAni(e, '15550003', 150n);
    const outcome = await e.charging.initiate(sw, {
      sessionId: 'min-1',
      subscriber: { ani: '15550003' },
      calledNumber: us,
    });
    expect(outcome.ok ? 'granted' : outcome.code).toBe('insufficient_balance');
    expect((await balanceOfAccount(e, 'acc_ani_15550003_USD')).availableMinor).toBe(150n);
  });

  it('meters a call in slices and cuts it off at the exact second the money runs out', async () => {
    const { e, sw } = await start();
    const accountId = await fundAni(e, '15550010', 100n); // 90 seconds
    const first = value(
      await e.charging.initiate(sw, {
        sessionId: 'call-1',
        subscriber: { ani: '15550010' },
        calledNumber: us,
      }),
    );
    expect(first).toMatchObject({ grantedSeconds: 60, finalUnit: false, replayed: false });
    // The first slice holds connect fee + 60 s.
    expect(await balanceOfAccount(e, accountId)).toMatchObject({
      postedMinor: 100n,
      heldMinor: 70n,
      availableMinor: 30n,
    });
    e.clock.advanceMs(60_000);
    const second = value(
      await e.charging.update(sw, { sessionId: 'call-1', requestNumber: 1, usedSeconds: 60 }),
    );
    expect(second).toMatchObject({
      grantedSeconds: 30,
      finalUnit: true,
      usedSeconds: 60,
      chargedMinor: 70n,
    });
    e.clock.advanceMs(30_000);
    const third = value(
      await e.charging.update(sw, { sessionId: 'call-1', requestNumber: 2, usedSeconds: 30 }),
    );
    expect(third).toMatchObject({ grantedSeconds: 0, finalUnit: true, chargedMinor: 100n });
    const end = value(
      await e.charging.terminate(sw, { sessionId: 'call-1', requestNumber: 3, usedSeconds: 0 }),
    );
    expect(end).toMatchObject({ usedSeconds: 90, chargedMinor: 100n });
    expect(await balanceOfAccount(e, accountId)).toMatchObject({
      postedMinor: 0n,
      heldMinor: 0n,
    });
    const revenue = await balanceOfAccount(e, carrierRevenueAccountId('acme', 'USD'));
    expect(revenue.postedMinor).toBe(100n);
    const cdr = await e.charging.cdr(sw, end.cdrId!);
    expect(cdr).toMatchObject({
      sessionId: 'call-1',
      subscriber: 'ani:15550010',
      calledNumber: us,
      carrierId: 'acme',
      destinationName: 'North America',
      billedSeconds: 90,
      costMinor: 100n,
      reason: 'normal',
      startMs: chargingEpochMs,
      endMs: chargingEpochMs + 90_000,
    });
  });

  it('charges the connect fee once, however many updates the call has', async () => {
    const { e, sw } = await start({ sliceSeconds: 10 });
    const accountId = await fundAni(e, '15550011', 1000n);
    value(
      await e.charging.initiate(sw, {
        sessionId: 'fee-1',
        subscriber: { ani: '15550011' },
        calledNumber: us,
      }),
    );
    for (let n = 1; n <= 5; n += 1) {
      value(await e.charging.update(sw, { sessionId: 'fee-1', requestNumber: n, usedSeconds: 10 }));
    }
    const end = value(
      await e.charging.terminate(sw, { sessionId: 'fee-1', requestNumber: 6, usedSeconds: 7 }),
    );
    // 57 seconds: 0.10 connect + 57 cents.
    expect(end.chargedMinor).toBe(67n);
    expect((await balanceOfAccount(e, accountId)).postedMinor).toBe(1000n - 67n);
  });

  it('bills whole increments, and never more than was granted', async () => {
    const { e, sw } = await start({ sliceSeconds: 300 });
    const accountId = await fundAni(e, '15550012', 1000n);
    value(
      await e.charging.initiate(sw, {
        sessionId: 'uk-1',
        subscriber: { ani: '15550012' },
        calledNumber: '+442071234567',
      }),
    );
    // 61 seconds to the UK start two minutes: 2.40.
    const end = value(
      await e.charging.terminate(sw, { sessionId: 'uk-1', requestNumber: 1, usedSeconds: 61 }),
    );
    expect(end.chargedMinor).toBe(240n);
    value(
      await e.charging.initiate(sw, {
        sessionId: 'uk-2',
        subscriber: { ani: '15550012' },
        calledNumber: '+442071234567',
      }),
    );
    // A switch that reports 10 minutes of a 5-minute grant pays for 5 minutes.
    const over = value(
      await e.charging.terminate(sw, { sessionId: 'uk-2', requestNumber: 1, usedSeconds: 600 }),
    );
    expect(over).toMatchObject({ usedSeconds: 300, chargedMinor: 600n });
    expect((await balanceOfAccount(e, accountId)).postedMinor).toBe(1000n - 240n - 600n);
  });

  it('answers a repeated request with its first answer and never charges twice', async () => {
    const { e, sw } = await start();
    const accountId = await fundAni(e, '15550020', 1000n);
    const request = { sessionId: 'dup-1', subscriber: { ani: '15550020' }, calledNumber: us };
    const first = value(await e.charging.initiate(sw, request));
    const again = value(await e.charging.initiate(sw, request));
    expect({ ...again, replayed: false }).toEqual(first);
    expect(again.replayed).toBe(true);
    const other = await e.charging.initiate(sw, { ...request, calledNumber: '+13125550100' });
    expect(other.ok ? 'ok' : other.code).toBe('session_exists');

    e.clock.advanceMs(20_000);
    const update = { sessionId: 'dup-1', requestNumber: 1, usedSeconds: 20 };
    const u1 = value(await e.charging.update(sw, update));
    const u2 = value(await e.charging.update(sw, update));
    expect(u2).toEqual(u1);
    const changed = await e.charging.update(sw, { ...update, usedSeconds: 25 });
    expect(changed.ok ? 'ok' : changed.code).toBe('request_conflict');
    // A late copy of an older request that was never seen is out of order, and changes nothing.
    value(await e.charging.update(sw, { sessionId: 'dup-1', requestNumber: 3, usedSeconds: 10 }));
    const late = await e.charging.update(sw, {
      sessionId: 'dup-1',
      requestNumber: 2,
      usedSeconds: 10,
    });
    expect(late.ok ? 'ok' : late.code).toBe('request_out_of_order');
    const end = { sessionId: 'dup-1', requestNumber: 4, usedSeconds: 5 };
    const t1 = value(await e.charging.terminate(sw, end));
    const t2 = value(await e.charging.terminate(sw, end));
    expect(t2).toEqual(t1);
    // 35 seconds: 10 + 35.
    expect(t1.chargedMinor).toBe(45n);
    expect((await balanceOfAccount(e, accountId)).postedMinor).toBe(1000n - 45n);
    const afterEnd = await e.charging.update(sw, {
      sessionId: 'dup-1',
      requestNumber: 5,
      usedSeconds: 1,
    });
    expect(afterEnd.ok ? 'ok' : afterEnd.code).toBe('session_closed');
    const cdrs = await e.charging.listCdrs(sw, { limit: 10 });
    expect(cdrs.filter((cdr) => cdr.sessionId === 'dup-1')).toHaveLength(1);
    const missing = await e.charging.update(sw, {
      sessionId: 'nope',
      requestNumber: 1,
      usedSeconds: 1,
    });
    expect(missing.ok ? 'ok' : missing.code).toBe('session_not_found');
  });

  it('shares one balance between concurrent calls: the grants never exceed it', async () => {
    const { e, sw } = await start({ sliceSeconds: 60 });
    const accountId = await fundAni(e, '15550030', 250n); // three slices of 70 and one of 40
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        e.charging.initiate(sw, {
          sessionId: `share-${i}`,
          subscriber: { ani: '15550030' },
          calledNumber: us,
        }),
      ),
    );
    const granted = outcomes.filter((o) => o.ok).map((o) => (o.ok ? o.value.grantedSeconds : 0));
    // Each connected call pays its own connect fee out of the shared 2.50.
    const held = granted.reduce((sum, seconds) => sum + 10 + seconds, 0);
    expect(held).toBeLessThanOrEqual(250);
    expect(granted.sort()).toEqual([30, 60, 60, 60]);
    expect(outcomes.some((o) => !o.ok && o.code === 'insufficient_balance')).toBe(true);
    const balance = await balanceOfAccount(e, accountId);
    expect(balance.heldMinor).toBe(BigInt(held));
    expect(balance.availableMinor).toBeGreaterThanOrEqual(0n);
  });

  it('ends a silent session at its deadline, charges the grant, and asks the switch to hang up', async () => {
    const { e, sw } = await start();
    const accountId = await fundAni(e, '15550040', 1000n);
    value(
      await e.charging.initiate(sw, {
        sessionId: 'silent-1',
        subscriber: { ani: '15550040' },
        calledNumber: us,
        callbackUrl: 'http://127.0.0.1:9/disconnect',
      }),
    );
    e.clock.advanceMs(69_000); // grant 60 s + grace 10 s not yet over
    expect(await e.charging.superviseDue()).toBe(0);
    e.clock.advanceMs(2_000);
    const late = await e.charging.update(sw, {
      sessionId: 'silent-1',
      requestNumber: 1,
      usedSeconds: 60,
    });
    expect(late.ok ? 'ok' : late.code).toBe('session_expired');
    expect(await e.charging.superviseDue()).toBe(1);
    expect(await e.charging.superviseDue()).toBe(0);
    const session = await e.charging.session(sw, 'silent-1');
    expect(session).toMatchObject({ status: 'terminated', reason: 'supervision_timeout' });
    const [cdr] = await e.charging.listCdrs(sw, { limit: 10 });
    expect(cdr).toMatchObject({ billedSeconds: 60, costMinor: 70n, reason: 'supervision_timeout' });
    expect((await balanceOfAccount(e, accountId)).postedMinor).toBe(930n);
    const events = await e.charging.listOutbox({ topic: 'charging.disconnect', limit: 10 });
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.payload).data).toMatchObject({
      session_id: 'silent-1',
      reason: 'supervision_timeout',
      billed_seconds: 60,
    });
    // The switch's terminate arrives late and agrees with the server: nothing to give back.
    const after = value(
      await e.charging.terminate(sw, { sessionId: 'silent-1', requestNumber: 1, usedSeconds: 60 }),
    );
    expect(after).toMatchObject({ usedSeconds: 60, chargedMinor: 70n, grantedSeconds: 0 });
    const again = await e.charging.terminate(sw, {
      sessionId: 'silent-1',
      requestNumber: 2,
      usedSeconds: 10,
    });
    expect(again.ok ? 'ok' : again.code).toBe('session_closed');
    expect((await balanceOfAccount(e, accountId)).postedMinor).toBe(930n);
  });

  it('reconciles a call the server ended to the late terminate: the difference is refunded, once', async () => {
    const { e, sw } = await start({ requestLogDays: 1 });
    const accountId = await fundAni(e, '15550041', 1000n);
    const first = value(
      await e.charging.initiate(sw, {
        sessionId: 'lost-1',
        subscriber: { ani: '15550041' },
        calledNumber: us,
      }),
    );
    expect(first.grantedSeconds).toBe(60);
    value(await e.charging.update(sw, { sessionId: 'lost-1', requestNumber: 1, usedSeconds: 60 }));
    // Tollgate was down for the rest of the call: supervision charges the whole second grant.
    e.clock.advanceMs(71_000);
    expect(await e.charging.superviseDue()).toBe(1);
    expect((await balanceOfAccount(e, accountId)).postedMinor).toBe(1000n - 130n);
    // The switch reports that the second grant was used for 25 s only.
    const terminate = { sessionId: 'lost-1', requestNumber: 2, usedSeconds: 25 };
    const late = value(await e.charging.terminate(sw, terminate));
    expect(late).toMatchObject({ usedSeconds: 85, chargedMinor: 95n, requestType: 'terminate' });
    expect(late.cdrId).not.toBeNull();
    expect((await balanceOfAccount(e, accountId)).postedMinor).toBe(1000n - 95n);
    const [cdr] = await e.charging.listCdrs(sw, { limit: 10 });
    expect(cdr).toMatchObject({ billedSeconds: 85, costMinor: 95n, reason: 'supervision_timeout' });
    // A repeat answers the same and moves nothing; another report is refused.
    expect(value(await e.charging.terminate(sw, terminate))).toEqual(late);
    const other = await e.charging.terminate(sw, {
      ...terminate,
      requestNumber: 3,
      usedSeconds: 1,
    });
    expect(other.ok ? 'ok' : other.code).toBe('session_closed');
    expect((await balanceOfAccount(e, accountId)).postedMinor).toBe(1000n - 95n);
    const revenue = await balanceOfAccount(e, carrierRevenueAccountId('acme', 'USD'));
    expect(revenue.postedMinor).toBe(95n);
  });

  it('does not reconcile after the request log is gone, nor charge more than the server did', async () => {
    const { e, sw } = await start({ requestLogDays: 1 });
    const accountId = await fundAni(e, '15550042', 1000n);
    await endedByServer(e, sw, '15550042', 'http://127.0.0.1:9/x');
    const more = value(
      await e.charging.terminate(sw, {
        sessionId: 'silent-15550042',
        requestNumber: 1,
        usedSeconds: 600,
      }),
    );
    expect(more).toMatchObject({ usedSeconds: 60, chargedMinor: 70n });
    const { e: e2, sw: sw2 } = { e, sw };
    const accountB = await fundAni(e2, '15550043', 1000n);
    await endedByServer(e2, sw2, '15550043', 'http://127.0.0.1:9/x');
    e2.clock.advanceMs(86_400_000);
    const tooLate = await e2.charging.terminate(sw2, {
      sessionId: 'silent-15550043',
      requestNumber: 1,
      usedSeconds: 5,
    });
    expect(tooLate.ok ? 'ok' : tooLate.code).toBe('session_closed');
    expect((await balanceOfAccount(e, accountId)).postedMinor).toBe(930n);
    expect((await balanceOfAccount(e, accountB)).postedMinor).toBe(930n);
  });

  it('bills a call that rang first from its answer: ringing is never billed', async () => {
    const { e, sw } = await start();
    const accountId = await fundAni(e, '15550044', 1000n);
    const ringing = value(
      await e.charging.initiate(sw, {
        sessionId: 'ring-1',
        subscriber: { ani: '15550044' },
        calledNumber: us,
        answered: false,
      }),
    );
    expect(ringing).toMatchObject({ grantedSeconds: 60, validUntilMs: null, answerMs: null });
    // While it rings the grant does not run: 15 s of ringing, and a keep-alive in between.
    expect(ringing.deadlineMs).toBe(chargingEpochMs + (300 + 10) * 1000);
    e.clock.advanceMs(10_000);
    const keepAlive = value(
      await e.charging.update(sw, { sessionId: 'ring-1', requestNumber: 1, usedSeconds: 0 }),
    );
    expect(keepAlive).toMatchObject({ validUntilMs: null, chargedMinor: 0n, usedSeconds: 0 });
    e.clock.advanceMs(5_000);
    const answeredAtMs = e.clock.nowMs();
    const answered = value(
      await e.charging.update(sw, { sessionId: 'ring-1', requestNumber: 2, answeredAtMs }),
    );
    expect(answered).toMatchObject({
      answerMs: answeredAtMs,
      grantedSeconds: 60,
      validUntilMs: answeredAtMs + 60_000,
      deadlineMs: answeredAtMs + 70_000,
      chargedMinor: 0n,
    });
    e.clock.advanceMs(5_000);
    const end = value(
      await e.charging.terminate(sw, { sessionId: 'ring-1', requestNumber: 3, usedSeconds: 5 }),
    );
    expect(end).toMatchObject({ usedSeconds: 5, chargedMinor: 15n });
    const [cdr] = await e.charging.listCdrs(sw, { limit: 10 });
    expect(cdr).toMatchObject({ answerMs: answeredAtMs, billedSeconds: 5, costMinor: 15n });
    expect(cdr!.startMs).toBe(chargingEpochMs);
    expect(await balanceOfAccount(e, accountId)).toMatchObject({
      postedMinor: 985n,
      heldMinor: 0n,
    });
  });

  it('ends a call that rings past the ring limit unbilled, and one hung up while ringing too', async () => {
    const { e, sw } = await start({ ringSecondsMax: 30 });
    const accountId = await fundAni(e, '15550045', 1000n);
    for (const sessionId of ['ring-forever', 'ring-cancel']) {
      value(
        await e.charging.initiate(sw, {
          sessionId,
          subscriber: { ani: '15550045' },
          calledNumber: us,
          answered: false,
          callbackUrl: 'http://127.0.0.1:9/x',
        }),
      );
    }
    const cancelled = value(
      await e.charging.terminate(sw, {
        sessionId: 'ring-cancel',
        requestNumber: 1,
        usedSeconds: 7,
        reason: 'cancel',
      }),
    );
    expect(cancelled).toMatchObject({ usedSeconds: 0, chargedMinor: 0n, answerMs: null });
    e.clock.advanceMs(39_000);
    expect(await e.charging.superviseDue()).toBe(0);
    e.clock.advanceMs(2_000);
    expect(await e.charging.superviseDue()).toBe(1);
    const cdrs = await e.charging.listCdrs(sw, { limit: 10 });
    expect(cdrs.map((c) => [c.billedSeconds, c.costMinor, c.answerMs])).toEqual([
      [0, 0n, null],
      [0, 0n, null],
    ]);
    expect(await balanceOfAccount(e, accountId)).toMatchObject({
      postedMinor: 1000n,
      heldMinor: 0n,
    });
  });

  it('refuses an initiate that reuses the id of an ended session, rather than replaying its grant', async () => {
    const { e, sw } = await start();
    await fundAni(e, '15550046', 1000n);
    const request = { sessionId: 'reused@host', subscriber: { ani: '15550046' }, calledNumber: us };
    value(await e.charging.initiate(sw, request));
    expect(value(await e.charging.initiate(sw, request)).replayed).toBe(true);
    value(
      await e.charging.terminate(sw, {
        sessionId: 'reused@host',
        requestNumber: 1,
        usedSeconds: 3,
      }),
    );
    const reused = await e.charging.initiate(sw, request);
    expect(reused.ok ? 'ok' : reused.code).toBe('session_closed');
  });

  it('takes cumulative use without request numbers, and a repeat of it charges nothing more', async () => {
    const { e, sw } = await start();
    const accountId = await fundAni(e, '15550047', 1000n);
    value(
      await e.charging.initiate(sw, {
        sessionId: 'total-1',
        subscriber: { ani: '15550047' },
        calledNumber: us,
      }),
    );
    const first = value(
      await e.charging.update(sw, { sessionId: 'total-1', usedSecondsTotal: 30 }),
    );
    expect(first).toMatchObject({ usedSeconds: 30, chargedMinor: 40n, requestNumber: 1 });
    const repeat = value(
      await e.charging.update(sw, { sessionId: 'total-1', usedSecondsTotal: 30 }),
    );
    expect(repeat).toMatchObject({ usedSeconds: 30, chargedMinor: 40n, requestNumber: 2 });
    const delta = await e.charging.update(sw, { sessionId: 'total-1', usedSeconds: 5 });
    expect(delta.ok ? 'ok' : delta.code).toBe('request_number_required');
    const end = value(
      await e.charging.terminate(sw, { sessionId: 'total-1', usedSecondsTotal: 42 }),
    );
    expect(end).toMatchObject({ usedSeconds: 42, chargedMinor: 52n });
    expect((await balanceOfAccount(e, accountId)).postedMinor).toBe(948n);
  });

  it('takes an internal disconnect channel only from the server’s own switch adapters', async () => {
    const { e, sw } = await start();
    await fundAni(e, '15550049', 1000n);
    const request = {
      sessionId: 'agent-1',
      subscriber: { ani: '15550049' },
      calledNumber: us,
      callbackUrl: `kamailio:${sw.principal.id}`,
    };
    const fromClient = await e.charging.initiate(sw, request);
    expect(fromClient.ok ? 'ok' : fromClient.code).toBe('callback_url_invalid');
    value(await e.charging.initiate(sw, { ...request, callbackFromAdapter: true }));
    e.clock.advanceMs(71_000);
    expect(await e.charging.superviseDue()).toBe(1);
    const events = await e.charging.listOutbox({ topic: 'charging.disconnect', limit: 10 });
    expect(events.map((event) => event.url)).toEqual([`kamailio:${sw.principal.id}`]);
  });

  it('lets an operator end a live call: the seconds talked are charged and the switch is told', async () => {
    const { e, sw } = await start();
    const accountId = await fundAni(e, '15550048', 1000n);
    value(
      await e.charging.initiate(sw, {
        sessionId: 'cut-1',
        subscriber: { ani: '15550048' },
        calledNumber: us,
        callbackUrl: 'http://127.0.0.1:9/hangup',
      }),
    );
    e.clock.advanceMs(20_000);
    const session = await e.charging.session(sw, 'cut-1');
    const cut = value(await e.charging.disconnect(systemCaller, session!.id));
    expect(cut).toMatchObject({ usedSeconds: 20, chargedMinor: 30n });
    const again = await e.charging.disconnect(systemCaller, session!.id);
    expect(again.ok ? 'ok' : again.code).toBe('session_closed');
    const events = await e.charging.listOutbox({ topic: 'charging.disconnect', limit: 10 });
    expect(events.map((event) => JSON.parse(event.payload).data)).toEqual([
      expect.objectContaining({
        session_id: 'cut-1',
        reason: 'operator_disconnect',
        billed_seconds: 20,
      }),
    ]);
    expect(await balanceOfAccount(e, accountId)).toMatchObject({
      postedMinor: 970n,
      heldMinor: 0n,
    });
    const missing = await e.charging.disconnect(systemCaller, 'ses_nothing');
    expect(missing.ok ? 'ok' : missing.code).toBe('session_not_found');
  });

  it('continues a call across a restart of the server', async () => {
    const { e, sw } = await start();
    const accountId = await fundAni(e, '15550050', 1000n);
    value(
      await e.charging.initiate(sw, {
        sessionId: 'restart-1',
        subscriber: { ani: '15550050' },
        calledNumber: us,
      }),
    );
    await e.closeKeep();
    const clock = new ManualClock(e.clock.nowMs() + 30_000);
    reopened = await openTestEnv(kind, {
      clock,
      reuse: reuseOf(e),
    });
    Object.assign(reopened.charging.settings, { sliceSeconds: 60, graceSeconds: 10 });
    const update = value(
      await reopened.charging.update(sw, {
        sessionId: 'restart-1',
        requestNumber: 1,
        usedSeconds: 30,
      }),
    );
    expect(update).toMatchObject({ usedSeconds: 30, chargedMinor: 40n, grantedSeconds: 60 });
    // The restarted server supervises the session it did not start.
    clock.advanceMs(71_000);
    expect(await reopened.charging.superviseDue()).toBe(1);
    expect((await balanceOfAccount(reopened, accountId)).postedMinor).toBe(1000n - 100n);
  });

  it('finds a calling card by its PIN, activates it on first use, and links the caller number', async () => {
    const { e, sw } = await start({ autoLinkAni: true });
    const { pin, serial } = await sellCallingCard(e, 500n);
    const call = value(
      await e.charging.initiate(sw, {
        sessionId: 'card-1',
        subscriber: { pin },
        callerNumber: '15557770000',
        calledNumber: us,
      }),
    );
    expect(call.grantedSeconds).toBe(60);
    const session = await e.charging.session(sw, 'card-1');
    expect(session?.subscriber).toBe(`card:${serial}`);
    value(
      await e.charging.terminate(sw, { sessionId: 'card-1', requestNumber: 1, usedSeconds: 20 }),
    );
    // The caller number now reaches the card without a PIN.
    const byAni = value(
      await e.charging.authorize(sw, { subscriber: { ani: '15557770000' }, calledNumber: us }),
    );
    expect(byAni).toMatchObject({ subscriber: `card:${serial}`, availableMinor: 470n });
    // Spending the card to the last cent exhausts it: its PIN calls no more.
    value(
      await e.charging.initiate(sw, { sessionId: 'card-2', subscriber: { pin }, calledNumber: us }),
    );
    const drained = value(
      await e.charging.terminate(sw, { sessionId: 'card-2', requestNumber: 1, usedSeconds: 60 }),
    );
    expect(drained.chargedMinor).toBe(70n);
    for (let n = 3; (await balanceOfAccount(e, byAni.accountId)).postedMinor > 0n; n += 1) {
      const id = `card-${n}`;
      const started = await e.charging.initiate(sw, {
        sessionId: id,
        subscriber: { pin },
        calledNumber: us,
      });
      if (!started.ok) break;
      value(await e.charging.terminate(sw, { sessionId: id, requestNumber: 1, usedSeconds: 60 }));
    }
    const history = value(await e.vouchers.voucherHistory(serial));
    expect((await balanceOfAccount(e, byAni.accountId)).postedMinor).toBe(0n);
    expect(history.voucher.status).toBe('exhausted');
    const spent = await e.charging.authorize(sw, { subscriber: { pin }, calledNumber: us });
    expect(spent.ok ? 'ok' : spent.code).toBe('unknown_account');
    const wrong = await e.charging.authorize(sw, {
      subscriber: { pin: '000000000000' },
      calledNumber: us,
    });
    expect(wrong.ok ? 'ok' : wrong.code).toMatch(/unknown_account|pin_malformed/);
    const sessions = await e.charging.listSessions(sw, { limit: 10 });
    expect(JSON.stringify(sessions, (_, v) => (typeof v === 'bigint' ? `${v}` : v))).not.toContain(
      pin,
    );
  });

  it('sends one low-balance event when a call takes the balance under the threshold', async () => {
    const { e, sw } = await start();
    const accountId = await fundAni(e, '15550060', 300n);
    value(
      await e.charging.setThreshold(systemCaller, {
        accountId,
        thresholdMinor: 200n,
        url: 'http://127.0.0.1:9/low-balance',
      }),
    );
    for (const [id, seconds] of [
      ['low-1', 50],
      ['low-2', 50],
    ] as const) {
      value(
        await e.charging.initiate(sw, {
          sessionId: id,
          subscriber: { ani: '15550060' },
          calledNumber: us,
        }),
      );
      value(
        await e.charging.terminate(sw, { sessionId: id, requestNumber: 1, usedSeconds: seconds }),
      );
    }
    // 300 - 60 = 240 (above), then 180 (below): one event, for the crossing.
    const events = await e.charging.listOutbox({ topic: 'balance.low', limit: 10 });
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.payload).data).toMatchObject({
      account_id: accountId,
      balance: '180',
      threshold: '200',
    });
  });

  it('reports balance, minutes left to a number, recent calls and top-ups', async () => {
    const { e, sw } = await start();
    await fundAni(e, '15550070', 500n);
    value(
      await e.charging.initiate(sw, {
        sessionId: 'rep-1',
        subscriber: { ani: '15550070' },
        calledNumber: us,
      }),
    );
    value(
      await e.charging.terminate(sw, { sessionId: 'rep-1', requestNumber: 1, usedSeconds: 40 }),
    );
    const report = value(
      await e.charging.report(sw, { subscriber: { ani: '15550070' }, calledNumber: us }),
    );
    expect(report).toMatchObject({
      postedMinor: 450n,
      availableMinor: 450n,
      destination: { destinationName: 'North America', maxSeconds: 440 },
      activeCalls: 0,
    });
    expect(report.recentCalls.map((cdr) => cdr.costMinor)).toEqual([50n]);
    expect(report.recentCredits.map((credit) => credit.amountMinor)).toEqual([500n]);
  });

  it('delivers outbox events, retrying failures with backoff', async () => {
    const { e, sw } = await start();
    await fundAni(e, '15550080', 1000n);
    await endedByServer(e, sw, '15550080', 'http://127.0.0.1:9/cb');
    const sent: string[] = [];
    let fail = true;
    const send = async (event: { id: string }) => {
      if (fail) throw new Error('connection refused');
      sent.push(event.id);
    };
    expect(await e.charging.deliverOutbox(send)).toBe(0);
    expect(await e.charging.deliverOutbox(send)).toBe(0); // not due again yet
    fail = false;
    e.clock.advanceMs(2_000);
    expect(await e.charging.deliverOutbox(send)).toBe(1);
    expect(await e.charging.deliverOutbox(send)).toBe(0);
    const [event] = await e.charging.listOutbox({ limit: 10 });
    expect(event).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(sent).toEqual([event!.id]);
  });

  it('forgets the request records of calls that ended past the retention; a late repeat changes nothing', async () => {
    const { e, sw } = await start({ requestLogDays: 7, pruneBatchMax: 1 });
    const accountId = await fundAni(e, '15550095', 1000n);
    const initiate = (sessionId: string) =>
      e.charging.initiate(sw, { sessionId, subscriber: { ani: '15550095' }, calledNumber: us });
    const terminate = (sessionId: string) =>
      e.charging.terminate(sw, { sessionId, requestNumber: 1, usedSeconds: 5 });
    value(await initiate('old-ended'));
    value(await terminate('old-ended'));
    const stillActive = value(await initiate('old-active'));
    e.clock.advanceMs(8 * 86_400_000);
    value(await initiate('recent'));
    const recentEnd = value(await terminate('recent'));
    const before = await balanceOfAccount(e, accountId);

    // Batches of one: both records of the old call go, in two passes of one call.
    expect(await e.charging.pruneRequestLog()).toBe(2);
    expect(await e.charging.pruneRequestLog()).toBe(0);
    const late = await terminate('old-ended');
    expect(late.ok ? 'ok' : late.code).toBe('session_closed');
    expect(await e.charging.session(sw, 'old-ended')).toMatchObject({ status: 'terminated' });
    // A session still active keeps its records, and so does a call inside the retention.
    expect(value(await initiate('old-active'))).toEqual({ ...stillActive, replayed: true });
    expect(value(await terminate('recent'))).toEqual(recentEnd);
    expect(await balanceOfAccount(e, accountId)).toEqual(before);
    expect(await e.charging.listCdrs(sw, { limit: 10 })).toHaveLength(2);
  });

  it('calls back loopback only by default, and never the server itself once it listens', async () => {
    const { e, sw } = await start();
    const accountId = await fundAni(e, '15550091', 1000n);
    expect(e.charging.settings.callbackHosts).toEqual([]);
    // Queued before the server listened: a disconnect callback to what becomes its own port.
    await endedByServer(e, sw, '15550091', 'http://127.0.0.1:8080/v1/transfers');
    const before = await balanceOfAccount(e, accountId);
    e.charging.serverListening({ port: 8080, addresses: [] });
    const call = (sessionId: string, callbackUrl: string) =>
      e.charging.initiate(sw, {
        sessionId,
        subscriber: { ani: '15550091' },
        calledNumber: us,
        callbackUrl,
      });
    for (const [sessionId, url, why] of [
      ['own-private', 'http://10.0.0.1/hangup', /not a loopback host/],
      ['own-name', 'https://switch.example/hangup', /not a loopback host/],
      ['own-metadata', 'http://169.254.169.254/latest/meta-data', /cloud metadata/],
      ['own-api', 'http://127.0.0.1:8080/v1/transfers', /own API/],
      ['own-localhost', 'http://localhost:8080/v1/transfers', /own API/],
    ] as const) {
      const refused = await call(sessionId, url);
      expect(refused.ok ? 'ok' : [refused.code, refused.message]).toEqual([
        'callback_url_not_allowed',
        expect.stringMatching(why),
      ]);
      expect(await e.charging.session(sw, sessionId)).toBeNull();
    }
    expect(await balanceOfAccount(e, accountId)).toEqual(before);
    value(await call('own-loopback', 'http://localhost:9/hangup'));

    const sent: string[] = [];
    expect(await e.charging.deliverOutbox(async (event) => void sent.push(event.url))).toBe(0);
    expect(sent).toEqual([]);
    const [event] = await e.charging.listOutbox({ topic: 'charging.disconnect', limit: 10 });
    expect(event).toMatchObject({
      url: 'http://127.0.0.1:8080/v1/transfers',
      status: 'failed',
      attempts: 1,
      lastError: expect.stringContaining("this server's own API"),
    });
  });

  it('calls back only the allowed hosts: others are refused unchanged, and events queued for them fail unsent', async () => {
    const { e, sw } = await start();
    const accountId = await fundAni(e, '15550090', 1000n);
    // Queued while any host was allowed (`*`): the disconnect event of a call the server ended.
    Object.assign(e.charging.settings, { callbackHosts: ['*'] });
    await endedByServer(e, sw, '15550090', 'http://10.9.9.9:8080/hangup');
    const before = await balanceOfAccount(e, accountId);
    Object.assign(e.charging.settings, { callbackHosts: ['switch.example', '127.0.0.1:9'] });

    const call = (sessionId: string, callbackUrl: string) =>
      e.charging.initiate(sw, {
        sessionId,
        subscriber: { ani: '15550090' },
        calledNumber: us,
        callbackUrl,
      });
    for (const [sessionId, url] of [
      ['cb-metadata', 'http://169.254.169.254/latest/meta-data'],
      ['cb-other-port', 'http://127.0.0.1:10/hangup'],
      ['cb-lookalike', 'https://switch.example.evil.test/hangup'],
    ] as const) {
      const refused = await call(sessionId, url);
      expect(refused.ok ? 'ok' : refused.code).toBe('callback_url_not_allowed');
      expect(await e.charging.session(sw, sessionId)).toBeNull();
    }
    expect(await balanceOfAccount(e, accountId)).toEqual(before);
    const threshold = await e.charging.setThreshold(systemCaller, {
      accountId,
      thresholdMinor: 100n,
      url: 'http://metadata.internal/hook',
    });
    expect(threshold.ok ? 'ok' : threshold.code).toBe('callback_url_not_allowed');
    // A bare host allows every port of it; host:port allows that port only.
    value(await call('cb-any-port', 'https://SWITCH.example:8443/hangup'));
    value(await call('cb-exact-port', 'http://127.0.0.1:9/hangup'));

    const sent: string[] = [];
    expect(await e.charging.deliverOutbox(async (event) => void sent.push(event.url))).toBe(0);
    expect(sent).toEqual([]);
    const [event] = await e.charging.listOutbox({ topic: 'charging.disconnect', limit: 10 });
    expect(event).toMatchObject({
      url: 'http://10.9.9.9:8080/hangup',
      status: 'failed',
      attempts: 1,
      lastError: expect.stringContaining('TOLLGATE_CALLBACK_HOSTS'),
    });
  });
});
