// `tollgate cdr list` and `tollgate charging …` against a real SQLite file holding calls made
// through the services: CDRs as a table, JSON and CSV; live sessions; a supervision pass.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/shared/clock.ts';
import { createServices } from '../../src/services.ts';
import { openStore } from '../../src/store/store.ts';
import { chargingEpochMs, fundAni, setUpCharging } from '../support/charging.ts';
import { type CliHarness, cliHarness } from '../support/cli.ts';

describe('tollgate charging CLI', () => {
  let harness: CliHarness;
  const cli = (...argv: string[]) => harness.run(...argv);

  beforeAll(async () => {
    harness = cliHarness('ccli');
    // Calls made by a server that has since stopped: one ended, one still live, long overdue.
    const clock = new ManualClock(chargingEpochMs);
    const store = await openStore({ sqlitePath: harness.dbPath, clock });
    try {
      const services = await createServices(store, clock);
      const { switchCaller } = await setUpCharging(services);
      await fundAni(services, '15550200', 1000n);
      const call = { subscriber: { ani: '15550200' }, calledNumber: '+12125550100' };
      await services.charging.initiate(switchCaller, { ...call, sessionId: 'cli-1' });
      await services.charging.terminate(switchCaller, {
        sessionId: 'cli-1',
        requestNumber: 1,
        usedSeconds: 42,
      });
      await services.charging.initiate(switchCaller, { ...call, sessionId: 'cli-2' });
    } finally {
      await store.close();
    }
  });
  afterAll(() => harness.remove());

  it('lists CDRs as a table, as JSON and as CSV', async () => {
    const table = await cli('cdr', 'list');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/ani:15550200 {2}\+12125550100 {2}42s {2}52 USD {2}normal/);
    const json = await cli('cdr', 'list', '--format', 'json');
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ session_id: 'cli-1', billed_seconds: 42, cost: '52' }),
    ]);
    const csv = await cli('cdr', 'list', '--format', 'csv', '--from', '2026-03-02');
    const [header, row] = csv.stdout.trim().split('\n');
    expect(header).toContain('session_id');
    expect(row).toContain('cli-1');
    const none = await cli('cdr', 'list', '--to', '2026-03-01');
    expect(none.stdout.trim()).toBe('(no CDRs)');
    const bad = await cli('cdr', 'list', '--format', 'xml');
    expect(bad.code).toBe(2);
  });

  it('lists live sessions and ends the overdue one in a supervision pass', async () => {
    const live = await cli('charging', 'sessions', '--status', 'active');
    expect(live.stdout).toContain('cli-2  active');
    const ended = await cli('charging', 'supervise');
    expect(ended.stdout).toBe('1 session(s) ended by supervision\n');
    const after = await cli('charging', 'sessions', '--status', 'active', '--json');
    expect(JSON.parse(after.stdout)).toEqual([]);
    const cdrs = JSON.parse((await cli('cdr', 'list', '--format', 'json')).stdout);
    expect(cdrs.map((c: { reason: string }) => c.reason)).toEqual([
      'normal',
      'supervision_timeout',
    ]);
  });
});
