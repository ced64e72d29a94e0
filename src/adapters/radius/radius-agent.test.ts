// The agent's own clock, with a fake charging core on real loopback sockets: it reports the talk
// time and asks for the next slice before a grant runs out, and asks the NAS to end the call
// when the final grant does. (The whole protocol against a real server: test/telephony.)

import { afterEach, describe, expect, it } from 'vitest';
import { NasCoaListener, rawRequest, sendRaw } from '../../../test/telephony/radius-kit.ts';
import { freeUdpPort, waitFor } from '../../../test/telephony/support.ts';
import type { CreditAnswer } from '../../core/charging/charging-types.ts';
import type { Caller } from '../../core/shared/principal.ts';
import { type ChargingPort, RadiusAgent } from './radius-agent.ts';

const secret = 'agent-secret';
const caller = {
  principal: { id: 'sw_1', kind: 'switch' },
  scopes: ['charging:control'],
} as unknown as Caller;

function grant(seconds: number, finalUnit: boolean): CreditAnswer {
  return {
    grantedSeconds: seconds,
    finalUnit,
    validUntilMs: Date.now() + seconds * 1000,
  } as unknown as CreditAnswer;
}

describe('RadiusAgent keeps the call clock', () => {
  let agent: RadiusAgent | null = null;
  let nas: NasCoaListener | null = null;
  afterEach(async () => {
    await agent?.stop();
    await nas?.close();
  });

  it('reports before each grant runs out, and disconnects at the end of the final one', async () => {
    const updates: number[] = [];
    const charging = {
      authorize: async () => {
        throw new Error('not used');
      },
      initiate: async () => ({ ok: true, value: { ...grant(1, false), replayed: false } }),
      update: async (_caller: Caller, report: { usedSecondsTotal?: number }) => {
        updates.push(report.usedSecondsTotal ?? -1);
        return { ok: true, value: grant(1, updates.length >= 2) };
      },
      terminate: async () => ({ ok: true, value: grant(0, true) }),
    } as unknown as ChargingPort;
    const coaPort = await freeUdpPort();
    nas = new NasCoaListener({ secret });
    await nas.listen(coaPort);
    agent = new RadiusAgent({
      host: '127.0.0.1',
      authPort: 0,
      acctPort: 0,
      clients: [{ address: '127.0.0.1', secret, switchKey: 'key', coaPort }],
      charging,
      authenticate: async () => caller,
      nowMs: () => Date.now(),
      limits: { updateLeadMs: 200 },
    });
    await agent.start();
    const start = rawRequest({
      code: 4,
      identifier: 1,
      secret,
      attributes: [
        [1, '15550001234'],
        [31, '15550001234'],
        [30, '12125550100'],
        [44, 'clock-1'],
        [40, 1],
      ],
    });
    const replies = await sendRaw(agent.ports().acctPort, start, { waitMs: 100 });
    expect(replies).toHaveLength(1);
    await waitFor('the Disconnect-Request', () => (nas?.seen.length ?? 0) > 0, 5000);
    expect(updates).toHaveLength(2);
    expect(updates[0]).toBeGreaterThanOrEqual(0);
    expect(updates[1]).toBeGreaterThanOrEqual(updates[0]!);
    expect(nas.seen[0]).toMatchObject({ authentic: true, acctSessionId: 'clock-1' });
    expect(agent.callsTracked).toBe(1);
  });

  it('acts once on a request retransmitted while it is being answered, and answers each copy', async () => {
    let initiates = 0;
    const charging = {
      initiate: async () => {
        initiates += 1;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { ok: true, value: { ...grant(300, false), replayed: false } };
      },
    } as unknown as ChargingPort;
    agent = new RadiusAgent({
      host: '127.0.0.1',
      authPort: 0,
      acctPort: 0,
      clients: [{ address: '127.0.0.1', secret, switchKey: 'key', coaPort: 9 }],
      charging,
      authenticate: async () => caller,
      nowMs: () => Date.now(),
    });
    await agent.start();
    const fromPort = await freeUdpPort();
    const start = rawRequest({
      code: 4,
      identifier: 2,
      secret,
      attributes: [
        [1, '15550001234'],
        [31, '15550001234'],
        [30, '12125550100'],
        [44, 'dup-1'],
        [40, 1],
      ],
    });
    // Three copies within 300 ms: the first is still being answered when the others arrive.
    const early = await sendRaw(agent.ports().acctPort, start, { times: 3, fromPort, waitMs: 400 });
    expect(early).toHaveLength(1);
    const late = await sendRaw(agent.ports().acctPort, start, { fromPort, waitMs: 200 });
    expect(late).toHaveLength(1);
    expect(late[0]!.equals(early[0]!)).toBe(true);
    expect(initiates).toBe(1);
  });
});
