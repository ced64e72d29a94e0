// RADIUS prepaid against a real Tollgate process: FreeRADIUS's radclient as the NAS (Access-
// Request, Accounting Start / Interim-Update / Stop), raw packets for what radclient will not
// send, and a UDP listener playing the NAS's CoA port for Disconnect-Requests. Money and CDRs
// are checked through the HTTP API. Tariff: 0.10 connect, then 1 cent a second
// (test/support/charging.ts), so a 500-cent balance allows 490 s.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/services.ts';
import { openStore } from '../../src/store/store.ts';
import { sellCallingCard } from '../support/charging.ts';
import {
  attributesOf,
  isSignedReply,
  NasCoaListener,
  radclient,
  radclientMissing,
  rawRequest,
  sendRaw,
  sleep,
} from './radius-kit.ts';
import {
  api,
  balanceOf,
  cdrsOf,
  cleanUp,
  freeUdpPort,
  prepareDatabase,
  startTollgate,
  type TollgateDatabase,
  type TollgateServer,
  waitFor,
} from './support.ts';

const subscribers = {
  normal: { ani: '15550000001', fundMinor: 500n },
  broke: { ani: '15550000003', fundMinor: 0n },
  billed: { ani: '15550000011', fundMinor: 500n },
  repeated: { ani: '15550000012', fundMinor: 500n },
  disconnected: { ani: '15550000013', fundMinor: 500n },
  cached: { ani: '15550000015', fundMinor: 500n },
} as const;
const unknownAni = '15550000099';
const destination = '12125550100';
const secret = 'radius-test-secret';

const missing = radclientMissing();
if (missing) {
  describe('RADIUS prepaid', () => {
    it.skip(missing, () => undefined);
  });
  process.stdout.write(`\n[tollgate] ${missing}\n`);
} else {
  describe('RADIUS prepaid: radclient against a real Tollgate', () => {
    let db: TollgateDatabase;
    let tollgate: TollgateServer;
    let authPort = 0;
    let acctPort = 0;
    let coaPort = 0;
    let cardPin = '';
    const nas = new NasCoaListener({ secret, naks: 1 });

    beforeAll(async () => {
      db = await prepareDatabase(subscribers);
      cardPin = await sellCard(db);
      authPort = await freeUdpPort();
      acctPort = await freeUdpPort();
      coaPort = await freeUdpPort();
      await nas.listen(coaPort);
      tollgate = await startTollgate(db, {
        TOLLGATE_RADIUS_CLIENTS: `127.0.0.1=${secret};coa_port=${coaPort}`,
        TOLLGATE_RADIUS_SWITCH_KEY: db.switchKey,
        TOLLGATE_RADIUS_PORT: String(authPort),
        TOLLGATE_RADIUS_ACCT_PORT: String(acctPort),
      });
    }, 60_000);

    afterAll(async () => {
      await tollgate?.proc.stop();
      await nas.close();
      if (db) cleanUp(db.dir);
    });

    const access = (attributes: Record<string, string | number>, options = {}) =>
      radclient({
        port: authPort,
        kind: 'auth',
        secret,
        attributes: { 'Message-Authenticator': '0x00', ...attributes },
        ...options,
      });
    const accounting = (attributes: Record<string, string | number>) =>
      radclient({ port: acctPort, kind: 'acct', secret, attributes });

    it('accepts a funded caller with Session-Timeout = the allowance and the Cisco VSAs', async () => {
      const reply = await access({
        'User-Name': subscribers.normal.ani,
        'Calling-Station-Id': subscribers.normal.ani,
        'Called-Station-Id': destination,
      });
      expect(reply.code, reply.output).toBe('Access-Accept');
      expect(reply.attributes['Session-Timeout']).toEqual(['490']);
      expect(reply.attributes['h323-credit-time']).toEqual(['h323-credit-time=490']);
      expect(reply.attributes['h323-credit-amount']).toEqual(['h323-credit-amount=5.00']);
      expect(reply.attributes['h323-return-code']).toEqual(['h323-return-code=0']);
      expect(reply.attributes['h323-currency']).toEqual(['h323-currency=USD']);
    });

    it('accepts a calling card by its PIN in User-Name', async () => {
      const reply = await access({
        'User-Name': cardPin,
        'Calling-Station-Id': '15550000077',
        'Called-Station-Id': destination,
      });
      expect(reply.code, reply.output).toBe('Access-Accept');
      // A 3.00 card: 290 s after the connect fee.
      expect(reply.attributes['Session-Timeout']).toEqual(['290']);
    });

    it('rejects a caller without balance, with Reply-Message and h323-return-code 4', async () => {
      const reply = await access({
        'User-Name': subscribers.broke.ani,
        'Calling-Station-Id': subscribers.broke.ani,
        'Called-Station-Id': destination,
      });
      expect(reply.code, reply.output).toBe('Access-Reject');
      expect(reply.attributes['Reply-Message']?.[0]).toMatch(/balance does not cover/);
      expect(reply.attributes['h323-return-code']).toEqual(['h323-return-code=4']);
    });

    it('rejects an unknown subscriber and a wrong PIN with h323-return-code 1', async () => {
      const unknown = await access({
        'User-Name': unknownAni,
        'Calling-Station-Id': unknownAni,
        'Called-Station-Id': destination,
      });
      expect(unknown.code, unknown.output).toBe('Access-Reject');
      expect(unknown.attributes['Reply-Message']?.[0]).toMatch(/No usable balance/);
      expect(unknown.attributes['h323-return-code']).toEqual(['h323-return-code=1']);
      const wrongPin = await access({
        'User-Name': '000000000000',
        'Calling-Station-Id': '15550000078',
        'Called-Station-Id': destination,
      });
      expect(wrongPin.code, wrongPin.output).toBe('Access-Reject');
      expect(wrongPin.attributes['h323-return-code']).toEqual(['h323-return-code=1']);
    });

    it('rejects a barred destination with h323-return-code 9', async () => {
      const reply = await access({
        'User-Name': subscribers.normal.ani,
        'Calling-Station-Id': subscribers.normal.ani,
        'Called-Station-Id': '19005550100',
      });
      expect(reply.code, reply.output).toBe('Access-Reject');
      expect(reply.attributes['h323-return-code']).toEqual(['h323-return-code=9']);
    });

    it('never answers an Access-Request without a valid Message-Authenticator, or with another secret', async () => {
      const attributes = [
        [1, subscribers.normal.ani],
        [31, subscribers.normal.ani],
        [30, destination],
      ] as const;
      for (const mac of ['none', 'bad'] as const) {
        const packet = rawRequest({ code: 1, identifier: 7, secret, attributes, mac });
        expect(await sendRaw(authPort, packet, { waitMs: 800 }), `mac ${mac}`).toEqual([]);
      }
      const valid = rawRequest({ code: 1, identifier: 8, secret, attributes });
      const answered = await sendRaw(authPort, valid, { waitMs: 800 });
      expect(answered).toHaveLength(1);
      expect(answered[0]![0]).toBe(2);
      expect(isSignedReply(answered[0]!, valid, secret)).toBe(true);
      const otherSecret = await radclient({
        port: authPort,
        kind: 'auth',
        secret: 'not-the-secret',
        attributes: {
          'Message-Authenticator': '0x00',
          'User-Name': subscribers.normal.ani,
          'Called-Station-Id': destination,
        },
        timeoutS: 1,
      });
      expect(otherSecret.code, otherSecret.output).toBeNull();
    });

    it('bills accounting Start / Interim-Update / Stop exactly', async () => {
      const call = {
        'User-Name': subscribers.billed.ani,
        'Calling-Station-Id': subscribers.billed.ani,
        'Called-Station-Id': destination,
        'Acct-Session-Id': 'billed-1',
      };
      const start = await accounting({ ...call, 'Acct-Status-Type': 'Start' });
      expect(start.code, start.output).toBe('Accounting-Response');
      const held = await balanceOf(tollgate, db.adminKey, subscribers.billed.ani);
      expect(held.posted).toBe('500');
      expect(BigInt(held.held)).toBeGreaterThan(0n);
      const interim = await accounting({
        ...call,
        'Acct-Status-Type': 'Interim-Update',
        'Acct-Session-Time': 30,
      });
      expect(interim.code, interim.output).toBe('Accounting-Response');
      expect((await balanceOf(tollgate, db.adminKey, subscribers.billed.ani)).posted).toBe('460');
      const stop = await accounting({
        ...call,
        'Acct-Status-Type': 'Stop',
        'Acct-Session-Time': 42,
        'Acct-Terminate-Cause': 'User-Request',
      });
      expect(stop.code, stop.output).toBe('Accounting-Response');
      const cdrs = await cdrsOf(tollgate, db.adminKey, `127.0.0.1/${call['Acct-Session-Id']}`);
      expect(cdrs).toHaveLength(1);
      expect(cdrs[0]).toMatchObject({ billed_seconds: 42, cost: '52', reason: 'normal' });
      const balance = await balanceOf(tollgate, db.adminKey, subscribers.billed.ani);
      expect(balance).toMatchObject({ posted: '448', held: '0', available: '448' });
    });

    it('answers a repeated packet from its first answer, and a late repeat moves no money', async () => {
      const session = 'repeated-1';
      const attributes = (status: number, seconds?: number) => [
        [1, subscribers.repeated.ani] as const,
        [31, subscribers.repeated.ani] as const,
        [30, destination] as const,
        [44, session] as const,
        [40, status] as const,
        ...(seconds === undefined ? [] : [[46, seconds] as const]),
      ];
      const start = rawRequest({ code: 4, identifier: 21, secret, attributes: attributes(1) });
      const startReplies = await sendRaw(acctPort, start, { times: 2 });
      expect(startReplies).toHaveLength(2);
      expect(startReplies[0]!.equals(startReplies[1]!)).toBe(true);
      expect(startReplies[0]![0]).toBe(5);
      expect(isSignedReply(startReplies[0]!, start, secret)).toBe(true);
      const stop = rawRequest({ code: 4, identifier: 22, secret, attributes: attributes(2, 20) });
      const stopReplies = await sendRaw(acctPort, stop, { times: 3 });
      expect(stopReplies).toHaveLength(3);
      expect(new Set(stopReplies.map((reply) => reply.toString('hex'))).size).toBe(1);
      // The NAS's retry after the cache: a new identifier (and authenticator), the same report.
      const late = rawRequest({ code: 4, identifier: 23, secret, attributes: attributes(2, 20) });
      expect(await sendRaw(acctPort, late)).toHaveLength(1);
      const cdrs = await cdrsOf(tollgate, db.adminKey, `127.0.0.1/${session}`);
      expect(cdrs).toHaveLength(1);
      expect(cdrs[0]).toMatchObject({ billed_seconds: 20, cost: '30' });
      const balance = await balanceOf(tollgate, db.adminKey, subscribers.repeated.ani);
      expect(balance).toMatchObject({ posted: '470', held: '0' });
    });

    it('answers a repeated Access-Request from its first answer, after the balance changed', async () => {
      const ani = subscribers.cached.ani;
      const fromPort = await freeUdpPort();
      const request = rawRequest({
        code: 1,
        identifier: 40,
        secret,
        attributes: [
          [1, ani],
          [31, ani],
          [30, destination],
        ],
      });
      const first = await sendRaw(authPort, request, { fromPort, waitMs: 300 });
      expect(first).toHaveLength(1);
      expect(attributesOf(first[0]!).get(27)?.readUInt32BE(0)).toBe(490);
      const call = {
        'User-Name': ani,
        'Calling-Station-Id': ani,
        'Called-Station-Id': destination,
        'Acct-Session-Id': 'cached-1',
      };
      await accounting({ ...call, 'Acct-Status-Type': 'Start' });
      const stop = await accounting({
        ...call,
        'Acct-Status-Type': 'Stop',
        'Acct-Session-Time': 100,
      });
      expect(stop.code, stop.output).toBe('Accounting-Response');
      const again = await sendRaw(authPort, request, { fromPort, waitMs: 300 });
      expect(again).toHaveLength(1);
      expect(again[0]!.equals(first[0]!)).toBe(true);
      const fresh = await access({
        'User-Name': ani,
        'Calling-Station-Id': ani,
        'Called-Station-Id': destination,
      });
      expect(fresh.attributes['Session-Timeout']).toEqual(['380']);
    });

    it('never answers accounting with a wrong Request Authenticator', async () => {
      const packet = rawRequest({
        code: 4,
        identifier: 31,
        secret: 'not-the-secret',
        attributes: [
          [44, 'forged-1'],
          [40, 1],
        ],
      });
      expect(await sendRaw(acctPort, packet, { waitMs: 800 })).toEqual([]);
    });

    it('sends a Disconnect-Request to the NAS for an operator disconnect, retrying after a NAK', async () => {
      const call = {
        'User-Name': subscribers.disconnected.ani,
        'Calling-Station-Id': subscribers.disconnected.ani,
        'Called-Station-Id': destination,
        'Acct-Session-Id': 'disconnected-1',
      };
      const start = await accounting({ ...call, 'Acct-Status-Type': 'Start' });
      expect(start.code, start.output).toBe('Accounting-Response');
      // The operator names the session by our id, found by the switch's session id.
      const { json } = await api(tollgate, db.adminKey, 'GET', '/v1/charging/sessions?limit=100');
      const session = (json.items as Array<{ id: string; session_id: string }>).find(
        (item) => item.session_id === `127.0.0.1/${call['Acct-Session-Id']}`,
      );
      expect(session).toBeDefined();
      const ended = await api(
        tollgate,
        db.adminKey,
        'POST',
        `/v1/charging/sessions/${session?.id}/disconnect`,
      );
      expect(ended.status, JSON.stringify(ended.json)).toBe(200);
      // The NAS answers the first Disconnect-Request with a NAK; the outbox tries again.
      await waitFor('two Disconnect-Requests at the NAS', () => nas.seen.length >= 2, 15_000);
      for (const request of nas.seen) {
        expect(request).toMatchObject({
          authentic: true,
          acctSessionId: call['Acct-Session-Id'],
          userName: subscribers.disconnected.ani,
        });
      }
      await sleep(3000);
      expect(nas.seen).toHaveLength(2);
      // The NAS's Stop comes after: the server charged what it had seen (about 0 s) and a late
      // terminate never charges more; the session stays ended once, and nothing stays held.
      const stop = await accounting({
        ...call,
        'Acct-Status-Type': 'Stop',
        'Acct-Session-Time': 5,
        'Acct-Terminate-Cause': 'Admin-Reset',
      });
      expect(stop.code, stop.output).toBe('Accounting-Response');
      const cdrs = await cdrsOf(tollgate, db.adminKey, `127.0.0.1/${call['Acct-Session-Id']}`);
      expect(cdrs).toHaveLength(1);
      expect(cdrs[0]?.billed_seconds).toBeLessThanOrEqual(5);
      const balance = await balanceOf(tollgate, db.adminKey, subscribers.disconnected.ani);
      expect(balance).toMatchObject({ posted: String(500n - BigInt(cdrs[0]!.cost)), held: '0' });
    }, 40_000);

    it('disconnects a call whose Start cannot be charged', async () => {
      const before = nas.seen.length;
      const start = await accounting({
        'User-Name': unknownAni,
        'Calling-Station-Id': unknownAni,
        'Called-Station-Id': destination,
        'Acct-Session-Id': 'refused-1',
        'Acct-Status-Type': 'Start',
      });
      expect(start.code, start.output).toBe('Accounting-Response');
      await waitFor(
        'a Disconnect-Request for the refused Start',
        () => nas.seen.length > before,
        5000,
      );
      expect(nas.seen[before]).toMatchObject({ authentic: true, acctSessionId: 'refused-1' });
    });

    it('survives malformed datagrams', async () => {
      const junk = [
        Buffer.alloc(0),
        Buffer.from([1, 2, 0, 200]),
        Buffer.concat([Buffer.from([4, 9, 0, 30]), Buffer.alloc(26, 0xff)]),
        rawRequest({ code: 4, identifier: 9, secret, attributes: [[26, Buffer.from([1, 2])]] }),
      ];
      for (const datagram of junk) {
        await sendRaw(acctPort, datagram, { waitMs: 100 });
        await sendRaw(authPort, datagram, { waitMs: 100 });
      }
      expect(tollgate.proc.alive).toBe(true);
      const reply = await access({
        'User-Name': subscribers.normal.ani,
        'Calling-Station-Id': subscribers.normal.ani,
        'Called-Station-Id': destination,
      });
      expect(reply.code, reply.output).toBe('Access-Accept');
    });
  });
}

/** Sells one 3.00 calling card in the prepared database; returns its PIN. */
async function sellCard(db: TollgateDatabase): Promise<string> {
  const clock = { nowMs: () => Date.now() };
  const store = await openStore({ sqlitePath: db.dbPath, clock });
  try {
    const services = await createServices(store, clock, { pinKey: Buffer.from(db.pinKey, 'hex') });
    return (await sellCallingCard(services, 300n)).pin;
  } finally {
    await store.close();
  }
}
