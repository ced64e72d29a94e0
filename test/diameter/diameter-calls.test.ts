// Whole calls over Diameter credit control against a real Tollgate process (`tollgate serve` with
// TOLLGATE_DIAMETER_PORT), driven by our own client (diameter-client.ts) on 127.0.0.1: the peer
// state machine, CCR-I/U/T/EVENT, the refusals from the switch-answer table, final units,
// retransmissions charged once, an operator's disconnect arriving as an ASR, and the error
// answers of malformed messages. Tariff: 0.10 connect, then 1 cent a second
// (test/support/charging.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { avpOf, findAvp, textOf, u32Of } from '../../src/adapters/diameter/diameter-codec.ts';
import {
  api,
  cdrsOf,
  cleanUp,
  freeTcpPort,
  prepareDatabase,
  startTollgate,
  type TollgateDatabase,
  type TollgateServer,
  waitFor,
} from '../telephony/support.ts';
import {
  a,
  type CcrInput,
  DiameterClient,
  grantedSecondsOf,
  resultCodeOf,
} from './diameter-client.ts';

const subscribers = {
  normal: { ani: '15550000101', fundMinor: 5000n },
  cutoff: { ani: '15550000102', fundMinor: 18n },
  broke: { ani: '15550000103', fundMinor: 0n },
  frozen: { ani: '15550000104', fundMinor: 500n, frozen: true },
  retransmit: { ani: '15550000105', fundMinor: 5000n },
  operator: { ani: '15550000106', fundMinor: 5000n },
  mscc: { ani: '15550000107', fundMinor: 5000n },
} as const;
const destination = '+12125550100';
const peer = 'ocs-client.test';
const freeRatingGroup = 900;

let db: TollgateDatabase;
let server: TollgateServer;
let port: number;
const clients: DiameterClient[] = [];

async function openClient(originHost = peer): Promise<DiameterClient> {
  const client = await DiameterClient.connect(port, originHost);
  clients.push(client);
  return client;
}

async function readyClient(): Promise<DiameterClient> {
  const client = await openClient();
  expect(resultCodeOf(await client.cer())).toBe(2001);
  return client;
}

let sessionCounter = 0;
const newSession = () => {
  sessionCounter += 1;
  return `tollgate.test;${Date.now()};${sessionCounter}`;
};

beforeAll(async () => {
  db = await prepareDatabase(subscribers);
  port = await freeTcpPort();
  server = await startTollgate(db, {
    TOLLGATE_DIAMETER_PORT: String(port),
    TOLLGATE_DIAMETER_PEERS: `${peer}=${db.switchKey},stranger.test=tg_no_such_key_0123456789`,
    TOLLGATE_DIAMETER_ORIGIN_HOST: 'tollgate.test',
    TOLLGATE_DIAMETER_ORIGIN_REALM: 'test',
    TOLLGATE_DIAMETER_FREE_RATING_GROUPS: String(freeRatingGroup),
    TOLLGATE_CHARGING_SLICE_SECONDS: '60',
  });
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await server?.proc.stop();
  if (db) cleanUp(db.dir);
});

describe('Diameter peers (RFC 6733)', () => {
  it('answers CER with CEA 2001 offering credit control (4)', async () => {
    const client = await openClient();
    const cea = await client.cer();
    expect(resultCodeOf(cea)).toBe(2001);
    expect(cea.commandCode).toBe(257);
    expect(textOf(findAvp(cea.avps, a('Origin-Host')))).toBe('tollgate.test');
    expect(u32Of(findAvp(cea.avps, a('Auth-Application-Id')))).toBe(4);
  });

  it('refuses a peer that is not configured (3010) and closes', async () => {
    const client = await openClient('unknown-peer.test');
    const cea = await client.cer();
    expect(resultCodeOf(cea)).toBe(3010);
    expect(cea.error).toBe(true);
    await client.closed;
  });

  it('refuses a configured peer whose key is not valid (3010)', async () => {
    const client = await openClient('stranger.test');
    expect(resultCodeOf(await client.cer())).toBe(3010);
    await client.closed;
  });

  it('refuses a peer that offers no credit control (5010)', async () => {
    const client = await openClient();
    expect(resultCodeOf(await client.cer(16777238))).toBe(5010);
    await client.closed;
  });

  it('closes a connection whose first request is not CER', async () => {
    const client = await openClient();
    await expect(client.dwr()).rejects.toThrow(/closed/);
    expect(client.isClosed).toBe(true);
  });

  it('answers DWR with DWA, and DPR with DPA before closing', async () => {
    const client = await readyClient();
    const dwa = await client.dwr();
    expect(dwa.commandCode).toBe(280);
    expect(resultCodeOf(dwa)).toBe(2001);
    const dpa = await client.dpr();
    expect(resultCodeOf(dpa)).toBe(2001);
    await client.closed;
  });

  it('answers a command it does not serve with 3001 and the E flag', async () => {
    const client = await readyClient();
    const answer = await client.request({
      commandCode: 271,
      applicationId: 3,
      proxiable: true,
      retransmit: false,
      avps: [avpOf(a('Session-Id'), 'acct;1'), avpOf(a('Origin-Host'), peer)],
    });
    expect(resultCodeOf(answer)).toBe(3001);
    expect(answer.error).toBe(true);
  });
});

describe('Diameter credit control (RFC 4006)', () => {
  it('charges a whole call: CCR-I, CCR-U, CCR-T', async () => {
    const client = await readyClient();
    const sessionId = newSession();
    const call = { sessionId, e164: subscribers.normal.ani, destination };
    const initial = await client.ccr({ ...call, type: 1, number: 0, requestedSeconds: 60 });
    expect(resultCodeOf(initial)).toBe(2001);
    expect(u32Of(findAvp(initial.avps, a('CC-Request-Type')))).toBe(1);
    expect(textOf(findAvp(initial.avps, a('Session-Id')))).toBe(sessionId);
    expect(grantedSecondsOf(initial)).toBe(60);
    expect(u32Of(findAvp(initial.avps, a('Validity-Time')))).toBe(60);
    expect(findAvp(initial.avps, a('Final-Unit-Indication'))).toBeUndefined();
    const update = await client.ccr({ ...call, type: 2, number: 1, usedSeconds: 60 });
    expect(resultCodeOf(update)).toBe(2001);
    expect(grantedSecondsOf(update)).toBe(60);
    const termination = await client.ccr({ ...call, type: 3, number: 2, usedSeconds: 17 });
    expect(resultCodeOf(termination)).toBe(2001);
    const cost = findAvp(termination.avps, a('Cost-Information'));
    const unitValue = findAvp(cost?.children ?? [], a('Unit-Value'));
    expect(findAvp(unitValue?.children ?? [], a('Value-Digits'))?.data.readBigInt64BE(0)).toBe(87n);
    expect(u32Of(findAvp(cost?.children ?? [], a('Currency-Code')))).toBe(840);
    const [cdr] = await cdrsOf(server, db.adminKey, sessionId);
    expect(cdr).toMatchObject({ billed_seconds: 77, cost: '87' });
  });

  it('answers inside Multiple-Services-Credit-Control with its Rating-Group', async () => {
    const client = await readyClient();
    const call = {
      sessionId: newSession(),
      e164: subscribers.mscc.ani,
      destination,
      ratingGroup: 7,
    };
    const initial = await client.ccr({ ...call, type: 1, number: 0, requestedSeconds: 60 });
    expect(resultCodeOf(initial)).toBe(2001);
    const mscc = findAvp(initial.avps, a('Multiple-Services-Credit-Control'));
    expect(u32Of(findAvp(mscc?.children ?? [], a('Rating-Group')))).toBe(7);
    expect(u32Of(findAvp(mscc?.children ?? [], a('Result-Code')))).toBe(2001);
    expect(u32Of(findAvp(mscc?.children ?? [], a('Validity-Time')))).toBe(60);
    expect(grantedSecondsOf(initial)).toBe(60);
    const termination = await client.ccr({ ...call, type: 3, number: 1, usedSeconds: 5 });
    expect(resultCodeOf(termination)).toBe(2001);
  });

  it('refuses from the switch-answer table: 5030, 4010, 4012, 5031', async () => {
    const client = await readyClient();
    const initial = (input: Partial<CcrInput>) =>
      client.ccr({ sessionId: newSession(), type: 1, number: 0, destination, ...input });
    expect(resultCodeOf(await initial({ e164: '15550000999' }))).toBe(5030);
    expect(resultCodeOf(await initial({ e164: subscribers.frozen.ani }))).toBe(4010);
    expect(resultCodeOf(await initial({ e164: subscribers.broke.ani }))).toBe(4012);
    expect(
      resultCodeOf(await initial({ e164: subscribers.normal.ani, destination: '+33123456' })),
    ).toBe(5031);
    const free = await initial({ e164: subscribers.normal.ani, ratingGroup: freeRatingGroup });
    expect(resultCodeOf(free)).toBe(4011);
  });

  it('grants the final unit with Final-Unit-Indication TERMINATE, then 4012', async () => {
    const client = await readyClient();
    const call = { sessionId: newSession(), e164: subscribers.cutoff.ani, destination };
    const initial = await client.ccr({ ...call, type: 1, number: 0 });
    expect(resultCodeOf(initial)).toBe(2001);
    expect(grantedSecondsOf(initial)).toBe(8);
    expect(u32Of(findAvp(initial.avps, a('Validity-Time')))).toBe(8);
    const fui = findAvp(initial.avps, a('Final-Unit-Indication'));
    expect(u32Of(findAvp(fui?.children ?? [], a('Final-Unit-Action')))).toBe(0);
    const update = await client.ccr({ ...call, type: 2, number: 1, usedSeconds: 8 });
    expect(resultCodeOf(update)).toBe(4012);
    const termination = await client.ccr({ ...call, type: 3, number: 2, usedSeconds: 0 });
    expect(resultCodeOf(termination)).toBe(2001);
    const [cdr] = await cdrsOf(server, db.adminKey, call.sessionId);
    expect(cdr).toMatchObject({ billed_seconds: 8, cost: '18' });
  });

  it('answers a retransmitted CCR (T flag) with the first answer and charges once', async () => {
    const client = await readyClient();
    const call = { sessionId: newSession(), e164: subscribers.retransmit.ani, destination };
    const first = await client.ccr({ ...call, type: 1, number: 0, endToEnd: 77 });
    const again = await client.ccr({ ...call, type: 1, number: 0, endToEnd: 77, retransmit: true });
    expect(resultCodeOf(again)).toBe(2001);
    expect(again.avps.map((avp) => avp.data.toString('hex'))).toEqual(
      first.avps.map((avp) => avp.data.toString('hex')),
    );
    const update = { ...call, type: 2 as const, number: 1, usedSeconds: 30 };
    const [u1, u2] = await Promise.all([
      client.ccr(update),
      client.ccr({ ...update, retransmit: true }),
    ]);
    expect(resultCodeOf(u1)).toBe(2001);
    expect(grantedSecondsOf(u2)).toBe(grantedSecondsOf(u1));
    // A retransmission on a new connection, after the first answer was given.
    const other = await readyClient();
    const u3 = await other.ccr({ ...update, retransmit: true });
    expect(resultCodeOf(u3)).toBe(2001);
    expect(resultCodeOf(await client.ccr({ ...call, type: 3, number: 2, usedSeconds: 0 }))).toBe(
      2001,
    );
    const [cdr] = await cdrsOf(server, db.adminKey, call.sessionId);
    expect(cdr).toMatchObject({ billed_seconds: 30, cost: '40' });
  });

  it('authorizes an EVENT without reserving, and checks the balance', async () => {
    const client = await readyClient();
    const event = await client.ccr({
      sessionId: newSession(),
      type: 4,
      number: 0,
      e164: subscribers.normal.ani,
      destination,
    });
    expect(resultCodeOf(event)).toBe(2001);
    expect(grantedSecondsOf(event)).toBeGreaterThan(60);
    const check = await client.ccr({
      sessionId: newSession(),
      type: 4,
      number: 0,
      e164: subscribers.broke.ani,
      destination,
      requestedAction: 2,
    });
    expect(resultCodeOf(check)).toBe(2001);
    expect(u32Of(findAvp(check.avps, a('Check-Balance-Result')))).toBe(1);
  });

  it("sends an ASR for an operator's disconnect; the client answers ASA", async () => {
    const client = await readyClient();
    const call = { sessionId: newSession(), e164: subscribers.operator.ani, destination };
    expect(resultCodeOf(await client.ccr({ ...call, type: 1, number: 0 }))).toBe(2001);
    const path = `/v1/charging/sessions/${encodeURIComponent(call.sessionId)}/disconnect`;
    const { status } = await api(server, db.switchKey, 'POST', path);
    expect(status).toBe(200);
    // The ASR goes to one open connection of the peer (earlier tests left others open).
    const asrs = () => clients.flatMap((each) => each.serverRequests);
    await waitFor('the ASR', () => asrs().length > 0, 10_000);
    const asr = asrs()[0]!;
    expect(asr.commandCode).toBe(274);
    expect(textOf(findAvp(asr.avps, a('Session-Id')))).toBe(call.sessionId);
    expect(textOf(findAvp(asr.avps, a('Destination-Host')))).toBe(peer);
    // The client ends the session as RFC 4006 says: a CCR-T, which reconciles.
    const termination = await client.ccr({ ...call, type: 3, number: 1, usedSeconds: 2 });
    expect(resultCodeOf(termination)).toBe(2001);
  });
});

describe('Diameter error answers', () => {
  it('answers an unknown mandatory AVP with 5001 and a Failed-AVP', async () => {
    const client = await readyClient();
    const unknown = { code: 99_999, vendorId: 0, mandatory: true, data: Buffer.from([1, 2, 3, 4]) };
    const answer = await client.ccr({
      sessionId: newSession(),
      type: 1,
      number: 0,
      e164: subscribers.normal.ani,
      destination,
      extra: [unknown],
    });
    expect(resultCodeOf(answer)).toBe(5001);
    const failed = findAvp(answer.avps, a('Failed-AVP'));
    expect(failed?.data.readUInt32BE(0)).toBe(99_999);
    // The same AVP without the M flag is ignored.
    const ignored = await client.ccr({
      sessionId: newSession(),
      type: 4,
      number: 0,
      e164: subscribers.normal.ani,
      destination,
      extra: [{ ...unknown, mandatory: false }],
    });
    expect(resultCodeOf(ignored)).toBe(2001);
  });

  it('answers a CCR without CC-Request-Number with 5005', async () => {
    const client = await readyClient();
    const hopByHop = client.nextHopByHop();
    const answer = client.answerTo(hopByHop);
    const { encodeMessage } = await import('../../src/adapters/diameter/diameter-codec.ts');
    client.write(
      encodeMessage({
        commandCode: 272,
        applicationId: 4,
        request: true,
        proxiable: true,
        error: false,
        retransmit: false,
        hopByHop,
        endToEnd: 5,
        avps: [
          avpOf(a('Session-Id'), newSession()),
          avpOf(a('Origin-Host'), peer),
          avpOf(a('CC-Request-Type'), 1),
        ],
      }),
    );
    expect(resultCodeOf(await answer)).toBe(5005);
  });

  it('answers an AVP whose length overruns the message with 5014 and stays open', async () => {
    const client = await readyClient();
    const hopByHop = client.nextHopByHop();
    const answer = client.answerTo(hopByHop);
    const frame = Buffer.alloc(20 + 12);
    frame.writeUInt32BE((1 << 24) | frame.length, 0);
    frame.writeUInt32BE(((0xc0 << 24) | 272) >>> 0, 4);
    frame.writeUInt32BE(4, 8);
    frame.writeUInt32BE(hopByHop, 12);
    frame.writeUInt32BE(9, 16);
    frame.writeUInt32BE(263, 20);
    frame.writeUInt32BE((0x40 << 24) | 400, 24);
    client.write(frame);
    expect(resultCodeOf(await answer)).toBe(5014);
    expect(resultCodeOf(await client.dwr())).toBe(2001);
  });

  it('answers a bad version with 5011 and closes', async () => {
    const client = await readyClient();
    const hopByHop = client.nextHopByHop();
    const answer = client.answerTo(hopByHop);
    const frame = Buffer.alloc(20);
    frame.writeUInt32BE((2 << 24) | 20, 0);
    frame.writeUInt32BE(((0x80 << 24) | 280) >>> 0, 4);
    frame.writeUInt32BE(hopByHop, 12);
    client.write(frame);
    expect(resultCodeOf(await answer)).toBe(5011);
    await client.closed;
  });

  it('answers a message length that is not a multiple of 4 with 5015 and closes', async () => {
    const client = await readyClient();
    const hopByHop = client.nextHopByHop();
    const answer = client.answerTo(hopByHop);
    const frame = Buffer.alloc(24);
    frame.writeUInt32BE((1 << 24) | 22, 0);
    frame.writeUInt32BE(((0x80 << 24) | 280) >>> 0, 4);
    frame.writeUInt32BE(hopByHop, 12);
    client.write(frame);
    expect(resultCodeOf(await answer)).toBe(5015);
    await client.closed;
  });

  it('answers pipelined and split messages on one connection, each once', async () => {
    const client = await readyClient();
    const { encodeMessage } = await import('../../src/adapters/diameter/diameter-codec.ts');
    const hops = [client.nextHopByHop(), client.nextHopByHop(), client.nextHopByHop()];
    const answers = hops.map((hop) => client.answerTo(hop));
    const frames = Buffer.concat(
      hops.map((hopByHop) =>
        encodeMessage({
          commandCode: 280,
          applicationId: 0,
          request: true,
          proxiable: false,
          error: false,
          retransmit: false,
          hopByHop,
          endToEnd: hopByHop,
          avps: [avpOf(a('Origin-Host'), peer), avpOf(a('Origin-Realm'), 'test.example')],
        }),
      ),
    );
    // Three messages in chunks that cut through headers and AVPs.
    for (let at = 0; at < frames.length; at += 7) client.write(frames.subarray(at, at + 7));
    for (const answer of answers) expect(resultCodeOf(await answer)).toBe(2001);
    expect(client.strayAnswers).toEqual([]);
  });
});
