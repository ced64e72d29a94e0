// Two real `tollgate serve` processes on one fresh PostgreSQL database: the switch opens calls
// through both and then forgets them. Supervision state lives in the database, so every
// forgotten session is ended exactly once (one CDR, one charge, one disconnect callback) whichever
// process gets there first, when one process has crashed, and when every process was gone and a
// new one starts. Skipped without DATABASE_URL.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargingTariff } from '../support/charging.ts';
import { type Receiver, startReceiver } from '../support/receiver.ts';

const databaseUrl = process.env.DATABASE_URL;

const adminKey = `tg_admin_two_processes_${randomBytes(12).toString('hex')}`;
const webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
const pinKey = randomBytes(32).toString('hex');
const sliceSeconds = 2;
const destination = '+12125550100';
/** North America in chargingTariff: 0.10 connect, then 1 cent a second (1 s increments). */
const sliceCostMinor = (seconds: number) => 10n + BigInt(seconds);
const faceValueMinor = 1000n;
/**
 * Sessions opened at once while both processes run: ending them keeps the first supervisor busy
 * for a good part of its one-second period, so the other one's tick comes while it is at it.
 */
const burst = 240;
const callers = Array.from({ length: 10 }, (_, i) => `1555020${String(i).padStart(2, '0')}`);

const startTimeoutMs = 30_000;
const stopTimeoutMs = 5000;
const settleTimeoutMs = 20_000;
const pollMs = 250;

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  url: string;
  output: string;
}

interface Disconnect {
  readonly type: string;
  readonly data: {
    session_id: string;
    reason: string;
    cdr_id: string;
    billed_seconds: number;
    cost: string;
    currency: string;
  };
}

interface CdrJson {
  id: string;
  session_id: string;
  account_id: string;
  billed_seconds: number;
  cost: string;
  reason: string;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON from the API, checked by the assertions.
type Json = any;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true, at most `timeoutMs` (and a bounded number of times). */
async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = settleTimeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const attemptsMax = Math.ceil(timeoutMs / pollMs) + 1;
  for (let attempt = 0; attempt < attemptsMax && Date.now() <= deadline; attempt += 1) {
    if (await check()) return;
    await sleep(pollMs);
  }
  throw new Error(`gave up waiting (${timeoutMs} ms): ${what}`);
}

describe.skipIf(!databaseUrl)(
  'charging supervision: two tollgate processes on one PostgreSQL (needs DATABASE_URL)',
  () => {
    /** Every process started, so that afterAll stops them all. */
    const children: Child[] = [];
    let a: Child;
    let b: Child;
    let receiver: Receiver | undefined;
    let callbackBase = '';
    let databaseName = '';
    let processUrl = '';
    let switchKey = '';
    /** The caller-number account of each ANI, as redemption opened it. */
    const accountOf = new Map<string, string>();
    /** Every session opened, with the seconds its first (and only) grant gave. */
    const opened = new Map<string, { ani: string; grantedSeconds: number }>();

    const withDatabase = async <T>(url: string, work: (client: pg.Client) => Promise<T>) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await work(client);
      } finally {
        await client.end();
      }
    };

    const call = async (
      child: Child,
      method: 'GET' | 'POST' | 'PUT',
      path: string,
      options: { key?: string; body?: unknown; idempotencyKey?: string } = {},
    ) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${options.key ?? adminKey}`,
      };
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
      const response = await fetch(`${child.url}${path}`, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      return { status: response.status, json: (text ? JSON.parse(text) : null) as Json };
    };

    /** Calls and insists on one status, so a refusal says what went wrong. */
    const must = async (expected: number, ...args: Parameters<typeof call>) => {
      const answer = await call(...args);
      if (answer.status !== expected) {
        throw new Error(
          `${args[1]} ${args[2]} answered ${answer.status}: ${JSON.stringify(answer.json)}`,
        );
      }
      return answer.json;
    };

    async function startProcess(name: string): Promise<Child> {
      const bin = new URL('../../bin/tollgate.js', import.meta.url).pathname;
      const child = spawn(
        process.execPath,
        [bin, 'serve', '--host', '127.0.0.1', '--port', '0', '--database-url', processUrl],
        {
          env: {
            ...process.env,
            DATABASE_URL: processUrl,
            TOLLGATE_DB: '',
            TOLLGATE_ADMIN_KEY: adminKey,
            TOLLGATE_PIN_KEY: pinKey,
            TOLLGATE_WEBHOOK_SECRET: webhookSecret,
            TOLLGATE_CHARGING_SLICE_SECONDS: String(sliceSeconds),
            TOLLGATE_CHARGING_GRACE_SECONDS: '1',
            TOLLGATE_LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      // Registered at once, so afterAll stops it even if it never gets as far as listening.
      const started: Child = { name, process: child, url: '', output: '' };
      children.push(started);
      const listening = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name} did not start: ${started.output}`)),
          startTimeoutMs,
        );
        const onData = (chunk: Buffer) => {
          // Enough of the output to explain a failure and count supervision, never unbounded.
          started.output = (started.output + chunk.toString()).slice(-500_000);
          const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(started.output);
          if (found) {
            clearTimeout(timer);
            resolve(found[1]!);
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(
            new Error(`${name} exited (${code ?? signal}) before listening: ${started.output}`),
          );
        });
      });
      started.url = await listening;
      const url = started.url;
      await waitUntil(
        `${name} /health`,
        async () => (await fetch(`${url}/health`).catch(() => null))?.status === 200,
        10_000,
      );
      return started;
    }

    const alive = (child: Child) =>
      child.process.exitCode === null && child.process.signalCode === null;

    /** Sends `signal` to the child by its PID and waits (bounded) for it to exit. */
    async function signalAndWait(child: Child, signal: NodeJS.Signals, timeoutMs: number) {
      if (!alive(child) || child.process.pid === undefined) return true;
      const exited = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        child.process.once('exit', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      try {
        process.kill(child.process.pid, signal);
      } catch {
        return !alive(child);
      }
      return exited;
    }

    async function stopProcess(child: Child) {
      if (!(await signalAndWait(child, 'SIGTERM', stopTimeoutMs))) {
        await signalAndWait(child, 'SIGKILL', stopTimeoutMs);
      }
    }

    /** How many sessions each process's supervisor says it ended (its warn log lines). */
    const endedBy = (child: Child) =>
      child.output
        .split('\n')
        .filter((line) => line.includes('charging sessions ended by supervision'))
        .reduce((sum, line) => {
          try {
            return sum + Number((JSON.parse(line) as { sessions?: number }).sessions ?? 0);
          } catch {
            return sum;
          }
        }, 0);

    /** Supervision sweeps a process logged as failed (they roll back and retry next tick). */
    const failedSweeps = (child: Child) =>
      child.output.split('\n').filter((line) => line.includes('charging supervision failed'));

    async function initiate(child: Child, sessionId: string, ani: string) {
      const answer = await must(200, child, 'POST', '/v1/charging/initiate', {
        key: switchKey,
        body: {
          session_id: sessionId,
          subscriber: { ani },
          caller: ani,
          destination,
          callback_url: `${callbackBase}/disconnect`,
        },
      });
      expect(answer).toMatchObject({ granted_seconds: sliceSeconds, replayed: false });
      opened.set(sessionId, { ani, grantedSeconds: answer.granted_seconds });
    }

    async function statusOf(child: Child, sessionId: string): Promise<string> {
      const session = await must(
        200,
        child,
        'GET',
        `/v1/charging/sessions/${encodeURIComponent(sessionId)}`,
        { key: switchKey },
      );
      return session.status;
    }

    async function allCdrs(child: Child): Promise<CdrJson[]> {
      const items: CdrJson[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 100; page += 1) {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const body = await must(200, child, 'GET', `/v1/cdrs?limit=100${query}`);
        items.push(...(body.items as CdrJson[]));
        cursor = body.next_cursor;
        if (!cursor) return items;
      }
      throw new Error('more than 100 pages of CDRs');
    }

    const disconnects = () =>
      (receiver?.received ?? []).map((callback) => ({
        delivery: String(callback.headers['x-tollgate-delivery'] ?? ''),
        event: String(callback.headers['x-tollgate-event'] ?? ''),
        signature: String(callback.headers['x-tollgate-signature'] ?? ''),
        body: callback.body,
        parsed: JSON.parse(callback.body) as Disconnect,
      }));

    const undelivered = () =>
      withDatabase(processUrl, async (client) =>
        Number(
          (await client.query(`select count(*) as n from outbox where status <> 'delivered'`))
            .rows[0].n,
        ),
      );

    /** Waits until every session in `ids` is terminated and its disconnect callback arrived. */
    async function waitForSupervision(child: Child, ids: readonly string[]) {
      await waitUntil(`${ids.length} sessions ended and called back`, async () => {
        const called = new Set(disconnects().map((d) => d.parsed.data.session_id));
        if (!ids.every((id) => called.has(id))) return false;
        const active = await must(
          200,
          child,
          'GET',
          '/v1/charging/sessions?status=active&limit=1000',
        );
        const stillActive = (active.items as Array<{ session_id: string }>).filter((s) =>
          ids.includes(s.session_id),
        );
        return stillActive.length === 0 && (await undelivered()) === 0;
      });
      // Anything a second process might still be doing about these sessions has a moment to land.
      await sleep(2000);
    }

    /** Exactly one CDR, one charge of the granted slice and one callback per session so far. */
    async function expectEachEndedOnce(child: Child) {
      const ids = [...opened.keys()];
      const cdrs = await allCdrs(child);
      const cdrsBySession = new Map<string, CdrJson[]>();
      for (const cdr of cdrs) {
        cdrsBySession.set(cdr.session_id, [...(cdrsBySession.get(cdr.session_id) ?? []), cdr]);
      }
      expect(cdrs).toHaveLength(ids.length);
      for (const id of ids) {
        const session = opened.get(id)!;
        const found = cdrsBySession.get(id) ?? [];
        expect(found.length, `CDRs of ${id}`).toBe(1);
        expect(found[0], id).toMatchObject({
          account_id: accountOf.get(session.ani),
          reason: 'supervision_timeout',
          billed_seconds: session.grantedSeconds,
          cost: sliceCostMinor(session.grantedSeconds).toString(),
        });
      }

      const received = disconnects();
      const deliveries = received.map((d) => d.delivery);
      expect(new Set(deliveries).size, 'an X-Tollgate-Delivery id arrived twice').toBe(
        deliveries.length,
      );
      expect(received.map((d) => d.parsed.data.session_id).sort()).toEqual([...ids].sort());
      for (const d of received) {
        const cdr = cdrsBySession.get(d.parsed.data.session_id)![0]!;
        expect(d.event).toBe('charging.disconnect');
        expect(d.signature).toBe(
          `sha256=${createHmac('sha256', webhookSecret).update(d.body).digest('hex')}`,
        );
        expect(d.parsed).toMatchObject({
          type: 'charging.disconnect',
          data: {
            reason: 'supervision_timeout',
            cdr_id: cdr.id,
            billed_seconds: cdr.billed_seconds,
            cost: cdr.cost,
            currency: 'USD',
          },
        });
      }

      for (const ani of callers) {
        const accountId = accountOf.get(ani)!;
        const charged = cdrs
          .filter((cdr) => cdr.account_id === accountId)
          .reduce((sum, cdr) => sum + BigInt(cdr.cost), 0n);
        const balance = await must(200, child, 'GET', `/v1/accounts/${accountId}/balance`);
        expect(balance, accountId).toMatchObject({
          held: '0',
          posted: (faceValueMinor - charged).toString(),
        });
      }
    }

    beforeAll(async () => {
      receiver = await startReceiver();
      callbackBase = receiver.base;

      // The CLI cannot pick a schema, so the two processes share a database made for this run.
      databaseName = `tollgate_2p_${randomBytes(6).toString('hex')}`;
      await withDatabase(databaseUrl!, (client) => client.query(`create database ${databaseName}`));
      const url = new URL(databaseUrl!);
      url.pathname = `/${databaseName}`;
      processUrl = url.toString();

      // A first start makes the tables and the admin principal. (Two first starts at once can
      // both try to create that principal, and one exits: a start-up race outside charging.)
      await stopProcess(await startProcess('first start'));
      // A and B start together, so their once-a-second supervision ticks are not far apart.
      [a, b] = await Promise.all([startProcess('A'), startProcess('B')]);

      // Everything is set up through A; B learns it from the database.
      await must(201, a, 'POST', '/v1/carriers', { body: { id: 'acme', name: 'Acme' } });
      await must(201, a, 'POST', '/v1/tariffs', {
        body: { carrier_id: 'acme', format: 'tollgate', files: { tariff: chargingTariff } },
      });
      await must(200, a, 'PUT', '/v1/rating/plans/USD', {
        body: { selection: { kind: 'default', carrier_id: 'acme' }, barred_prefixes: ['1900'] },
      });
      const switchPrincipal = await must(201, a, 'POST', '/v1/principals', {
        body: { kind: 'switch', name: 'Kamailio' },
      });
      switchKey = (
        await must(201, a, 'POST', `/v1/principals/${switchPrincipal.id}/keys`, { body: {} })
      ).key;

      // Caller-number accounts are funded the way a subscriber does it: a top-up PIN, redeemed.
      const retailer = await must(201, a, 'POST', '/v1/principals', {
        body: { kind: 'retailer', name: 'Corner shop' },
      });
      await must(201, a, 'POST', '/v1/floats', {
        body: { principal_id: retailer.id, currency: 'USD', credit_limit: '1000000' },
      });
      const product = await must(201, a, 'POST', '/v1/products', {
        body: {
          name: 'Top-up 10 USD',
          carrier_id: 'acme',
          currency: 'USD',
          face_value: faceValueMinor.toString(),
          pin_length: 12,
          mode: 'top_up',
        },
      });
      await must(201, a, 'POST', '/v1/batches', {
        body: { product_id: product.id, count: callers.length },
      });
      for (const ani of callers) {
        const sale = await must(201, a, 'POST', '/v1/sales', {
          idempotencyKey: `top-up-${ani}`,
          body: {
            product_id: product.id,
            requested_amount: faceValueMinor.toString(),
            paid_amount: faceValueMinor.toString(),
            retailer_id: retailer.id,
          },
        });
        const redeemed = await must(200, a, 'POST', '/v1/vouchers/redeem', {
          key: switchKey,
          body: { pin: sale.pin, ani },
        });
        expect(redeemed).toMatchObject({ mode: 'top_up', amount: faceValueMinor.toString() });
        accountOf.set(ani, redeemed.account_id);
      }

      // B refreshes its tariff catalog every 5 s: wait until it can route the call.
      await waitUntil('B routes calls with the tariff imported through A', async () => {
        const answer = await call(b, 'POST', '/v1/charging/authorize', {
          key: switchKey,
          body: { subscriber: { ani: callers[0] }, destination },
        });
        return answer.status === 200 && answer.json.allowed === true;
      });
    }, 60_000);

    afterAll(async () => {
      for (const child of children) await stopProcess(child);
      await receiver?.close();
      if (databaseName) {
        await withDatabase(databaseUrl!, (client) =>
          client.query(`drop database if exists ${databaseName} with (force)`),
        );
      }
    }, 30_000);

    it('ends each forgotten session exactly once while both processes supervise', async () => {
      // Half through each process, all at once: they fall due together, so whichever supervisor
      // ticks first is still ending them (one transaction per batch, a fraction of a second)
      // when the other one ticks, and both go for the same sessions.
      await Promise.all(
        Array.from({ length: burst }, (_, i) =>
          initiate(i % 2 === 0 ? a : b, `both-${i}@kamailio`, callers[i % callers.length]!),
        ),
      );
      await waitForSupervision(a, [...opened.keys()]);
      console.log(
        `two supervisors: A ended ${endedBy(a)}, B ended ${endedBy(b)} of ${burst} sessions; ` +
          `failed sweeps: A ${failedSweeps(a).length}, B ${failedSweeps(b).length}`,
      );
      await expectEachEndedOnce(b);
      // A sweep that lost the race must skip the session, not fail on it and roll back its batch.
      expect([...failedSweeps(a), ...failedSweeps(b)]).toEqual([]);
    }, 40_000);

    it('still ends the sessions of a process that crashed, once, from the other one', async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `crash-a-${i}@kamailio`);
      const failedBefore = failedSweeps(b).length;
      await Promise.all(ids.map((id, i) => initiate(a, id, callers[i % callers.length]!)));
      // A dies before any of its new sessions is due: it can never end them.
      expect(await signalAndWait(a, 'SIGKILL', stopTimeoutMs)).toBe(true);
      const statuses = await Promise.all(ids.map((id) => statusOf(b, id)));
      const leftToB = ids.filter((_, i) => statuses[i] === 'active');
      expect(leftToB.length, 'sessions still active when A died').toBeGreaterThan(0);

      await waitForSupervision(b, ids);
      await expectEachEndedOnce(b);
      expect(failedSweeps(b).slice(failedBefore)).toEqual([]);
    }, 40_000);

    it('ends, after every process was gone, the sessions a new process finds in the database', async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `restart-${i}@kamailio`);
      await Promise.all(ids.map((id, i) => initiate(b, id, callers[i % callers.length]!)));
      expect(await signalAndWait(b, 'SIGKILL', stopTimeoutMs)).toBe(true);
      // No Tollgate process is running now: the sessions exist only as rows.
      const active = await withDatabase(processUrl, async (client) => {
        const rows = await client.query(
          `select count(*) as n from charging_sessions where status = 'active' and session_id = any($1)`,
          [ids],
        );
        return Number(rows.rows[0].n);
      });
      expect(active, 'sessions still active with no process running').toBeGreaterThan(0);

      const restarted = await startProcess('A (restarted)');
      await waitForSupervision(restarted, ids);
      await expectEachEndedOnce(restarted);
      expect(failedSweeps(restarted)).toEqual([]);
    }, 40_000);
  },
);
