// The telephony test bed: a real Tollgate server process, a real Kamailio 5.6 (Debian) running
// one of integrations/kamailio/*.cfg, and sipp (Debian sip-tester) as caller and callee, all on
// 127.0.0.1 with ports chosen here. Every process is started by the test and stopped by its PID;
// every wait is bounded. Without kamailio or sipp on the PATH the suites skip and say why.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemCaller } from '../../src/core/shared/principal.ts';
import { callerNumberAccountId } from '../../src/core/vouchers/voucher-accounts.ts';
import { createServices } from '../../src/services.ts';
import { openStore } from '../../src/store/store.ts';
import { fundAni, setUpCharging } from '../support/charging.ts';

export const kamailioModules = '/usr/lib/x86_64-linux-gnu/kamailio/modules';

/** Why the telephony suites cannot run here, or null when they can. */
export function telephonyMissing(): string | null {
  const which = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  const missing = ['kamailio', 'sipp'].filter((name) => !which(name));
  if (!existsSync(join(kamailioModules, 'evapi.so'))) missing.push('kamailio modules (evapi)');
  if (!existsSync(join(kamailioModules, 'http_client.so'))) {
    missing.push('kamailio-utils-modules (http_client)');
  }
  if (!existsSync(join(kamailioModules, 'jansson.so'))) {
    missing.push('kamailio-extra-modules (jansson)');
  }
  if (missing.length === 0) return null;
  return (
    `telephony suite skipped: ${missing.join(', ')} not installed ` +
    '(apt-get install kamailio kamailio-extra-modules kamailio-utils-modules sip-tester)'
  );
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes (then throws `what`). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// --- processes ---------------------------------------------------------------------------------

/** A child process with its output kept (the last 1 MB), stopped by its PID. */
export class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  output = '';

  constructor(name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv) {
    this.name = name;
    this.child = spawn(command, args, {
      env: env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-1_000_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the exit code (or signal) once the process has exited, within `timeoutMs`. */
  exited(timeoutMs: number): Promise<number | string | null> {
    if (!this.alive) return Promise.resolve(this.child.exitCode ?? this.child.signalCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name} still running after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve(code ?? signal);
      });
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; waits for the exit. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive || this.child.pid === undefined) return;
    const exited = this.exited(graceMs + 5000).catch(() => null);
    process.kill(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (this.alive && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILL: the process dies at once, as in a crash. */
  async kill(): Promise<void> {
    if (!this.alive || this.child.pid === undefined) return;
    const exited = this.exited(10_000);
    process.kill(this.child.pid, 'SIGKILL');
    await exited;
  }
}

// --- Tollgate -----------------------------------------------------------------------------------

/** What the suites charge: the test tariff (1 cent a second after a 0.10 connect fee, US). */
export interface Subscribers {
  readonly [name: string]: { readonly ani: string; readonly fundMinor: bigint; frozen?: boolean };
}

export interface TollgateDatabase {
  readonly dir: string;
  readonly dbPath: string;
  readonly adminKey: string;
  readonly switchKey: string;
  readonly switchPrincipalId: string;
  readonly pinKey: string;
}

/** A SQLite database with the test tariff, a switch principal and its key, funded callers. */
export async function prepareDatabase(subscribers: Subscribers): Promise<TollgateDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-telephony-'));
  const dbPath = join(dir, 'tollgate.db');
  const pinKey = randomBytes(32).toString('hex');
  const clock = { nowMs: () => Date.now() };
  const store = await openStore({ sqlitePath: dbPath, clock });
  try {
    const services = await createServices(store, clock, { pinKey: Buffer.from(pinKey, 'hex') });
    const { switchCaller } = await setUpCharging(services);
    const switchKey = `tg_switch_${randomBytes(16).toString('hex')}`;
    const issued = await services.principals.issueKey(systemCaller, {
      principalId: switchCaller.principal.id,
      secret: switchKey,
    });
    if (!issued.ok) throw new Error(issued.code);
    for (const subscriber of Object.values(subscribers)) {
      if (subscriber.fundMinor > 0n) await fundAni(services, subscriber.ani, subscriber.fundMinor);
      else await fundAni(services, subscriber.ani, 1n).then(() => drain(services, subscriber.ani));
      if (subscriber.frozen) {
        const frozen = await services.ledger.setAccountStatus(
          systemCaller,
          callerNumberAccountId(subscriber.ani, 'USD'),
          'frozen',
        );
        if (!frozen.ok) throw new Error(frozen.code);
      }
    }
    return {
      dir,
      dbPath,
      adminKey: `tg_admin_${randomBytes(16).toString('hex')}`,
      switchKey,
      switchPrincipalId: switchCaller.principal.id,
      pinKey,
    };
  } finally {
    await store.close();
  }
}

/** Takes the one cent `prepareDatabase` put in back out: the account exists, empty. */
async function drain(services: Awaited<ReturnType<typeof createServices>>, ani: string) {
  const moved = await services.ledger.transfer(systemCaller, {
    kind: 'transfer',
    idempotencyKey: `drain-${ani}`,
    debitAccountId: callerNumberAccountId(ani, 'USD'),
    creditAccountId: 'acc_test_cash_USD',
    amountMinor: 1n,
    currency: 'USD',
    memo: 'empty',
  });
  if (!moved.ok) throw new Error(moved.code);
}

export interface TollgateServer {
  readonly proc: Proc;
  readonly url: string;
}

/** `tollgate serve` on a free port, as the other process tests start it; resolves when it listens. */
export async function startTollgate(
  db: TollgateDatabase,
  env: Readonly<Record<string, string>>,
  port = 0,
): Promise<TollgateServer> {
  const bin = new URL('../../bin/tollgate.js', import.meta.url).pathname;
  const proc = new Proc(
    'tollgate',
    process.execPath,
    [bin, 'serve', '--host', '127.0.0.1', '--port', String(port), '--db', db.dbPath],
    {
      ...process.env,
      DATABASE_URL: '',
      TOLLGATE_SOURCE: '1',
      TOLLGATE_ADMIN_KEY: db.adminKey,
      TOLLGATE_PIN_KEY: db.pinKey,
      TOLLGATE_LOG_LEVEL: process.env.TOLLGATE_TELEPHONY_LOG_LEVEL ?? 'warn',
      ...env,
    },
  );
  let url = '';
  await waitFor(
    'Tollgate to listen',
    () => {
      if (!proc.alive) throw new Error(`tollgate exited: ${proc.output}`);
      const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.output);
      url = found?.[1] ?? '';
      return url !== '';
    },
    30_000,
  );
  return { proc, url };
}

/** The Tollgate HTTP API as the operator. */
export async function api(
  server: TollgateServer,
  key: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

export interface CdrRow {
  readonly session_id: string;
  readonly billed_seconds: number;
  readonly cost: string;
  readonly reason: string;
  readonly answered_at: string | null;
  readonly started_at: string;
  readonly ended_at: string;
}

export async function cdrsOf(server: TollgateServer, key: string, callId: string) {
  const { json } = await api(server, key, 'GET', '/v1/cdrs?limit=1000');
  return (json.items as CdrRow[]).filter((cdr) => cdr.session_id === callId);
}

export async function balanceOf(server: TollgateServer, key: string, ani: string) {
  const id = callerNumberAccountId(ani, 'USD');
  const { json } = await api(server, key, 'GET', `/v1/accounts/${id}/balance`);
  return json as { posted: string; available: string; held: string };
}

// --- Kamailio ------------------------------------------------------------------------------------

export interface KamailioOptions {
  readonly cfg: string;
  readonly dir: string;
  readonly sipPort: number;
  /** Pre-processor defines (`-A NAME=value`); strings must carry their own quotes. */
  readonly defines: Readonly<Record<string, string | number>>;
}

export function startKamailio(options: KamailioOptions): Proc {
  const runDir = mkdtempSync(join(options.dir, 'kamailio-'));
  const defines = Object.entries({
    TG_SIP_LISTEN: `udp:127.0.0.1:${options.sipPort}`,
    TG_RPC_SOCKET: `"${join(runDir, 'rpc.sock')}"`,
    ...options.defines,
  }).flatMap(([name, value]) => ['-A', `${name}=${value}`]);
  return new Proc('kamailio', 'kamailio', [
    '-DD',
    '-E',
    '-f',
    options.cfg,
    '-Y',
    runDir,
    '-m',
    '64',
    '-M',
    '8',
    ...defines,
  ]);
}

export const integrationsDir = new URL('../../integrations/kamailio/', import.meta.url).pathname;

// --- sipp --------------------------------------------------------------------------------------

export interface CallScript {
  readonly ani: string;
  readonly destination: string;
  /** How long the caller talks before it hangs up, unless the proxy ends the call first. */
  readonly talkMs: number;
}

const refusalCodes = [400, 402, 403, 404, 408, 480, 484, 486, 500, 503];

/** The caller: INVITE, then either a refusal (ACKed) or 200 OK, talk, and a BYE either way. */
export function callerScenario(script: CallScript): string {
  const from = `<sip:${script.ani}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]`;
  const refusals = refusalCodes
    .map(
      (code) =>
        `  <recv response="${code}" optional="true" next="refused"><action><log message="EV final ${code} [call_id] [clock_tick]"/></action></recv>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="tollgate caller">
  <nop><action><log message="EV invite [call_id] [clock_tick]"/></action></nop>
  <send retrans="500"><![CDATA[
INVITE sip:${script.destination}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: ${from}
To: <sip:${script.destination}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:${script.ani}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=caller 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
${refusals}
  <recv response="200" rrs="true"><action><log message="EV answered [call_id] [clock_tick]"/></action></recv>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: ${from}
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
[routes]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv request="BYE" timeout="${script.talkMs}" ontimeout="hangup"><action><log message="EV bye_received [call_id] [clock_tick]"/></action></recv>
  <send next="done"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <label id="hangup"/>
  <nop><action><log message="EV bye_sent [call_id] [clock_tick]"/></action></nop>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: ${from}
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
[routes]
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" next="done"/>
  <label id="refused"/>
  <send><![CDATA[
ACK sip:${script.destination}@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: ${from}
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <label id="done"/>
</scenario>
`;
}

/** The callee: rings `ringMs`, answers, and waits for a BYE from the caller or the proxy. */
export function calleeScenario(ringMs: number): string {
  const reply = (status: string, sdp: boolean) => `
SIP/2.0 ${status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:callee@[local_ip]:[local_port]>
${
  sdp
    ? `Content-Type: application/sdp
Content-Length: [len]

v=0
o=callee 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
`
    : 'Content-Length: 0\n'
}
`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="tollgate callee">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[${reply('180 Ringing', false)}]]></send>
  <pause milliseconds="${ringMs}"/>
  <send retrans="500"><![CDATA[${reply('200 OK', true)}]]></send>
  <recv request="ACK"><action><log message="EV callee_answered [call_id] [clock_tick]"/></action></recv>
  <recv request="BYE"><action><log message="EV callee_bye [call_id] [clock_tick]"/></action></recv>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
`;
}

export interface SippRun {
  readonly proc: Proc;
  readonly logFile: string;
}

/** Starts sipp with a scenario: a caller (`remote` set) or a callee. */
export function startSipp(options: {
  readonly dir: string;
  readonly name: string;
  readonly scenario: string;
  readonly port: number;
  /** sipp opens a media (RTP echo) socket; one free port each, so runs never collide. */
  readonly mediaPort: number;
  readonly remote?: string;
  readonly calls: number;
  readonly timeoutS: number;
}): SippRun {
  const scenarioFile = join(options.dir, `${options.name}.xml`);
  const logFile = join(options.dir, `${options.name}.log`);
  writeFileSync(scenarioFile, options.scenario);
  const args = [
    ...(options.remote ? [options.remote] : []),
    '-sf',
    scenarioFile,
    '-i',
    '127.0.0.1',
    '-p',
    String(options.port),
    '-m',
    String(options.calls),
    '-l',
    String(options.calls),
    '-r',
    '10',
    '-nostdin',
    '-nd',
    '-trace_logs',
    '-log_file',
    logFile,
    '-trace_err',
    '-error_file',
    join(options.dir, `${options.name}.errors`),
    '-timeout',
    `${options.timeoutS}s`,
    '-timeout_error',
    '-mp',
    String(options.mediaPort),
  ];
  return { proc: new Proc(options.name, 'sipp', args), logFile };
}

export interface SippEvent {
  readonly name: string;
  readonly callId: string;
  readonly tickMs: number;
  readonly detail: string;
}

/** The `EV <name> [detail] <call id> <tick>` lines a scenario logged. */
export function sippEvents(run: SippRun): SippEvent[] {
  if (!existsSync(run.logFile)) return [];
  return readFileSync(run.logFile, 'utf8')
    .split('\n')
    .flatMap((line) => {
      const match = /EV (\S+)(?: (\d{3}))? (\S+) (\d+)/.exec(line);
      if (!match) return [];
      return [
        { name: match[1]!, detail: match[2] ?? '', callId: match[3]!, tickMs: Number(match[4]) },
      ];
    });
}

export function cleanUp(dir: string) {
  rmSync(dir, { recursive: true, force: true });
}
