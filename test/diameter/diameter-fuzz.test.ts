// The Diameter listener under fuzzing, against a real Tollgate process: random bytes, mutated
// CCRs (flipped bytes, cut frames, lying lengths) and deep grouped AVPs, each on a connection
// that has passed CER. After each case the connection either answers a DWR (it survived), or was
// answered with an error and closed, or was closed; the server must stay up, its memory bounded,
// and an ordinary call must still work at the end. Seeded (TOLLGATE_FUZZ_SEED replays a run) and
// bounded in cases and time; a failure prints its seed and case.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AvpOut, avpOf, encodeMessage } from '../../src/adapters/diameter/diameter-codec.ts';
import { prng, type Random } from '../support/random.ts';
import {
  cleanUp,
  freeTcpPort,
  prepareDatabase,
  startTollgate,
  type TollgateDatabase,
  type TollgateServer,
} from '../telephony/support.ts';
import { a, ccrAvps, DiameterClient, resultCodeOf } from './diameter-client.ts';

const seed = Number(process.env.TOLLGATE_FUZZ_SEED ?? Date.now() % 1_000_000_000);
const casesMax = 600;
const timeBudgetMs = 40_000;
const peer = 'fuzz-client.test';
const ani = '15550000201';
/** Resident memory the server may gain over the run (its buffers are bounded far below). */
const rssGrowthMaxBytes = 150 * 1024 * 1024;

let db: TollgateDatabase;
let server: TollgateServer;
let port: number;

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

function validCcr(random: Random, hopByHop: number): Buffer {
  return encodeMessage({
    commandCode: 272,
    applicationId: 4,
    request: true,
    proxiable: true,
    error: false,
    retransmit: random.chance(0.2),
    hopByHop,
    endToEnd: hopByHop,
    avps: ccrAvps(
      {
        sessionId: `fuzz;${seed};${hopByHop}`,
        type: random.pick([1, 2, 3, 4] as const),
        number: random.int(3),
        e164: ani,
        destination: '+12125550100',
        usedSeconds: random.int(100),
        ...(random.chance(0.5) ? { ratingGroup: random.int(10) } : {}),
      },
      peer,
    ),
  });
}

function deepGrouped(hopByHop: number, depth: number): Buffer {
  let deep: AvpOut = avpOf(a('CC-Time'), 1);
  for (let i = 0; i < depth; i += 1) deep = avpOf(a('Service-Information'), [deep]);
  return encodeMessage({
    commandCode: 272,
    applicationId: 4,
    request: true,
    proxiable: true,
    error: false,
    retransmit: false,
    hopByHop,
    endToEnd: hopByHop,
    avps: [avpOf(a('Session-Id'), `deep;${hopByHop}`), deep],
  });
}

type Kind = 'random' | 'flip' | 'truncate' | 'length' | 'deep' | 'avp-length';
const kinds: readonly Kind[] = ['random', 'flip', 'truncate', 'length', 'deep', 'avp-length'];

function fuzzCase(random: Random, kind: Kind, hopByHop: number): Buffer {
  switch (kind) {
    case 'random': {
      const bytes = Buffer.alloc(random.int(200));
      for (let i = 0; i < bytes.length; i += 1) bytes[i] = random.int(256);
      return bytes;
    }
    case 'flip': {
      const bytes = Buffer.from(validCcr(random, hopByHop));
      for (let i = random.int(8) + 1; i > 0; i -= 1)
        bytes[random.int(bytes.length)] = random.int(256);
      return bytes;
    }
    case 'truncate': {
      const bytes = validCcr(random, hopByHop);
      return bytes.subarray(0, random.int(bytes.length));
    }
    case 'length': {
      const bytes = Buffer.from(validCcr(random, hopByHop));
      bytes.writeUInt32BE(((1 << 24) | random.int(1 << 24)) >>> 0, 0);
      return bytes;
    }
    case 'deep':
      return deepGrouped(hopByHop, random.int(3000) + 1);
    case 'avp-length': {
      const bytes = Buffer.from(validCcr(random, hopByHop));
      const at = 20 + 4 * random.int((bytes.length - 24) / 4);
      bytes.writeUInt32BE(((0x40 << 24) | random.int(1 << 24)) >>> 0, at + 4);
      return bytes;
    }
  }
}

beforeAll(async () => {
  db = await prepareDatabase({ fuzz: { ani, fundMinor: 10n ** 9n } });
  port = await freeTcpPort();
  server = await startTollgate(db, {
    TOLLGATE_DIAMETER_PORT: String(port),
    TOLLGATE_DIAMETER_PEERS: `${peer}=${db.switchKey}`,
    TOLLGATE_LOG_LEVEL: 'error',
  });
}, 60_000);

afterAll(async () => {
  await server?.proc.stop();
  if (db) cleanUp(db.dir);
});

describe('Diameter fuzzing', () => {
  it('survives random, mutated, truncated and deep frames with bounded memory', async () => {
    const random = prng(seed);
    const pid = server.proc.child.pid!;
    const startedMs = Date.now();
    const outcomes: Record<string, number> = {};
    let rssStart = 0;
    let rssMax = 0;
    let cases = 0;
    for (; cases < casesMax && Date.now() - startedMs < timeBudgetMs; cases += 1) {
      const kind = random.pick(kinds);
      const where = `seed ${seed}, case ${cases} (${kind})`;
      const client = await DiameterClient.connect(port, peer);
      try {
        expect(resultCodeOf(await client.cer()), where).toBe(2001);
        const hopByHop = client.nextHopByHop();
        const answer = client.answerTo(hopByHop, 5000).catch(() => null);
        const bytes = fuzzCase(random, kind, hopByHop);
        // Sent in pieces as TCP may deliver them.
        for (let at = 0; at < bytes.length; ) {
          const size = random.int(300) + 1;
          client.write(bytes.subarray(at, at + size));
          at += size;
        }
        // A truncated frame is completed by the DWR's bytes, or waits: either way the DWR
        // must not be answered as if nothing happened unless the server could frame it.
        const alive = await Promise.race([
          client.dwr().then((dwa) => resultCodeOf(dwa) === 2001),
          client.closed.then(() => false),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 600)),
        ]).catch(() => false);
        const first = await Promise.race([
          answer,
          new Promise<null>((resolve) => setTimeout(() => resolve(null), alive ? 50 : 0)),
        ]);
        const outcome = alive
          ? `answered ${resultCodeOf(first ?? ({ avps: [] } as never)) ?? 'nothing'}, open`
          : client.isClosed
            ? `closed${first ? ` after ${resultCodeOf(first)}` : ''}`
            : 'waiting';
        outcomes[`${kind}: ${outcome}`] = (outcomes[`${kind}: ${outcome}`] ?? 0) + 1;
        if (kind === 'deep' && alive && first) {
          expect([2001, 5012, 5005, 5004, 5002, 5030], where).toContain(resultCodeOf(first));
        }
        // A header no Diameter peer can frame (version, length) closes the connection.
        const declared = bytes.length >= 4 ? bytes.readUInt32BE(0) & 0xff_ffff : 20;
        const unframeable =
          bytes.length >= 4 &&
          (bytes[0] !== 1 || declared < 20 || declared % 4 !== 0 || declared > 65_536);
        if (unframeable) {
          await Promise.race([client.closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
          expect(client.isClosed, `${where}: still open after an unframeable header`).toBe(true);
        }
        if (first) {
          // Every answer is an answer to what was sent, with a Result-Code.
          expect(first.request, where).toBe(false);
          expect(resultCodeOf(first), where).toBeGreaterThanOrEqual(2000);
        }
      } finally {
        client.close();
      }
      expect(server.proc.alive, `server died at ${where}: ${server.proc.output.slice(-2000)}`).toBe(
        true,
      );
      if (cases === 20) rssStart = rssBytes(pid);
      if (cases > 20) rssMax = Math.max(rssMax, rssBytes(pid));
    }
    process.stdout.write(
      `diameter fuzz: seed ${seed}, ${cases} cases in ${Date.now() - startedMs} ms, RSS ${(
        rssStart / 2 ** 20
      ).toFixed(
        0,
      )} -> max ${(rssMax / 2 ** 20).toFixed(0)} MiB\n${JSON.stringify(outcomes, null, 1)}\n`,
    );
    expect(rssMax - rssStart, `memory grew (seed ${seed})`).toBeLessThan(rssGrowthMaxBytes);
    // An ordinary call still works.
    const client = await DiameterClient.connect(port, peer);
    try {
      expect(resultCodeOf(await client.cer())).toBe(2001);
      const call = { sessionId: `after-fuzz;${seed}`, e164: ani, destination: '+12125550100' };
      expect(resultCodeOf(await client.ccr({ ...call, type: 1, number: 0 }))).toBe(2001);
      expect(resultCodeOf(await client.ccr({ ...call, type: 3, number: 1, usedSeconds: 3 }))).toBe(
        2001,
      );
    } finally {
      client.close();
    }
  }, 120_000);
});
