// Call set-ups per second through the Kamailio agent: one evapi connection (this process plays
// Kamailio's evapi socket, as integrations/kamailio/tollgate.cfg would) carrying `auth` events,
// each answered by the agent with a grant after `charging.initiate`, with 64 INVITEs
// outstanding; each granted call is then ended unanswered (an `end` event: terminate), so the
// agent follows a bounded number of calls. Beside it, in the same run and on the same server: the
// same set-ups through the HTTP API (initiate, then terminate, from 64 keep-alive clients: the
// baseline). Figures are set-ups per second; each is two charging requests.
//   npm run bench -- kamailio [--seconds 10] [--warmup 2] [--rounds 1] [--window 64]
// This file is also the server under test: bench/kamailio.ts serve <evapi port> runs Tollgate
// with its agent pointed at that port and prints one JSON line when ready.

import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { encodeNetstring, NetstringReader } from '../src/adapters/kamailio/netstring.ts';
import {
  type LoadResult,
  load,
  numberFlag,
  RoundFigures,
  roundsOf,
  row,
  startChild,
  stopChild,
  type Timing,
  timingOf,
  timingText,
} from './support.ts';

const self = fileURLToPath(import.meta.url);
const switchKey = 'tg_benchmark_kamailio_switch_key_0123456789';
const destination = '12125550100';
const accounts = 64;
const connections = 64;

interface ServerInfo {
  url: string;
  anis: string[];
}

export async function run(args: string[]): Promise<void> {
  const timing = timingOf(args);
  const rounds = roundsOf(args);
  const window = numberFlag(args, '--window', connections);
  const kamailio = await fakeKamailio();
  const { child, info } = await startChild<ServerInfo>(self, ['serve', String(kamailio.port)]);
  const figures = new RoundFigures();
  try {
    // The key exists once the server has set up its data: only now may the agent say hello.
    kamailio.hello();
    await kamailio.ready;
    process.stdout.write(
      `\nKamailio agent: call set-ups per second (initiate, then terminate unanswered; req/s below means set-ups/s, cpu/req is per set-up), ${timingText(timing)}, ${rounds} round(s)\n`,
    );
    let callNumber = 0;
    for (let round = 1; round <= rounds; round += 1) {
      const requests = await load({
        url: info.url,
        serverPid: child.pid,
        connections,
        durationSeconds: timing.durationSeconds,
        warmupSeconds: timing.warmupSeconds,
        headers: { authorization: `Bearer ${switchKey}` },
        steps: 2,
        request: (n, step, context) => {
          if (step === 1) {
            return {
              path: '/v1/charging/terminate',
              body: JSON.stringify({
                session_id: context.sessionId,
                request_number: 1,
                used_seconds: 0,
                reason: 'not_answered',
              }),
            };
          }
          const ani = info.anis[n % info.anis.length]!;
          context.sessionId = `http-${round}-${n}@bench`;
          return {
            path: '/v1/charging/initiate',
            body: JSON.stringify({
              session_id: context.sessionId,
              subscriber: { ani },
              caller: ani,
              destination: `+${destination}`,
            }),
          };
        },
      });
      const http = perSetUp(requests);
      const evapi = await kamailio.measure({
        timing,
        window,
        serverPid: child.pid,
        event: (tindex) => {
          callNumber += 1;
          const ani = info.anis[callNumber % info.anis.length]!;
          return {
            event: 'auth',
            tindex,
            tlabel: tindex,
            call_id: `evapi-${round}-${callNumber}@bench`,
            caller: ani,
            destination,
            at: (Date.now() / 1000).toFixed(6),
          };
        },
      });
      figures.add('ratio', evapi.requestsPerSecond / http.requestsPerSecond);
      process.stdout.write(`${row(`HTTP API, ${connections} clients (baseline)`, http)}\n`);
      process.stdout.write(`${row(`evapi, 1 connection, ${window} in flight`, evapi, http)}\n`);
      if (evapi.non2xx > 0) {
        process.stdout.write(`  ${evapi.non2xx} set-ups were refused: not comparable\n`);
      }
    }
    if (rounds > 1) {
      process.stdout.write(`median ratio evapi / HTTP: ${figures.median('ratio').toFixed(2)}x\n`);
    }
  } finally {
    await stopChild(child);
    kamailio.close();
  }
}

interface FakeKamailio {
  readonly port: number;
  /** Sends `hello` to the agent's connection, now and on any later one. */
  hello(): void;
  /** Resolves once the agent has connected and answered `ready` to our `hello`. */
  readonly ready: Promise<void>;
  measure(options: {
    timing: Timing;
    window: number;
    serverPid: number | undefined;
    event: (tindex: number) => object;
  }): Promise<LoadResult>;
  close(): void;
}

/** An evapi socket as Kamailio keeps it: it listens, and the agent connects. */
async function fakeKamailio(): Promise<FakeKamailio> {
  let socket: Socket | null = null;
  let onCommand: (command: {
    command: string;
    tindex?: number;
    result?: string;
    call_id?: string;
  }) => void = () => undefined;
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    readyResolve = resolve;
  });
  let greet = false;
  const hello = () =>
    (socket as Socket | null)?.write(
      encodeNetstring(
        JSON.stringify({ event: 'hello', protocol: 1, node: 'bench', key: switchKey }),
      ),
    );
  const server = createServer((connection) => {
    socket = connection;
    connection.setNoDelay(true);
    const reader = new NetstringReader({ frameBytesMax: 65_536 });
    connection.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        const command = JSON.parse(frame) as { command: string };
        if (command.command === 'ready') readyResolve();
        else onCommand(command);
      }
    });
    if (greet) hello();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return {
    port: address.port,
    ready,
    hello: () => {
      greet = true;
      hello();
    },
    close: () => {
      (socket as Socket | null)?.destroy();
      server.close();
    },
    async measure({ timing, window, serverPid, event }) {
      const sentAt = new Map<number, number>();
      let tindex = 0;
      let counting = false;
      let answered = 0;
      let refused = 0;
      const latencies: number[] = [];
      let stopping = false;
      const send = () => {
        tindex += 1;
        sentAt.set(tindex, performance.now());
        (socket as Socket | null)?.write(encodeNetstring(JSON.stringify(event(tindex))));
      };
      let drained: () => void = () => undefined;
      const done = new Promise<void>((resolve) => {
        drained = resolve;
      });
      onCommand = (command) => {
        if (command.command !== 'auth' || command.tindex === undefined) return;
        const started = sentAt.get(command.tindex);
        sentAt.delete(command.tindex);
        if (counting && started !== undefined) {
          answered += 1;
          if (command.result !== 'grant') refused += 1;
          latencies.push(performance.now() - started);
        }
        if (command.result === 'grant') {
          // The caller gave up before the answer: the agent terminates the session.
          (socket as Socket | null)?.write(
            encodeNetstring(
              JSON.stringify({
                event: 'end',
                call_id: command.call_id,
                answered: false,
                reason: 'failed',
                at: (Date.now() / 1000).toFixed(6),
              }),
            ),
          );
        }
        if (!stopping) send();
        else if (sentAt.size === 0) drained();
      };
      for (let i = 0; i < window; i += 1) send();
      await sleep(timing.warmupSeconds * 1000);
      const cpuBefore = cpuSeconds(serverPid, false);
      const mainBefore = cpuSeconds(serverPid, true);
      const clientBefore = process.cpuUsage();
      counting = true;
      const startedMs = performance.now();
      await sleep(timing.durationSeconds * 1000);
      counting = false;
      const seconds = (performance.now() - startedMs) / 1000;
      const cpuAfter = cpuSeconds(serverPid, false);
      const mainAfter = cpuSeconds(serverPid, true);
      const client = process.cpuUsage(clientBefore);
      stopping = true;
      await Promise.race([done, sleep(10_000)]);
      latencies.sort((a, b) => a - b);
      const at = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
      const perCall = (cpu: number) => (cpu * 1e6) / Math.max(1, answered);
      return {
        requestsPerSecond: answered / seconds,
        p50Ms: at(0.5),
        p99Ms: at(0.99),
        non2xx: refused,
        errors: 0,
        total: answered,
        cpu: {
          server: perCall(cpuAfter - cpuBefore),
          http: perCall(mainAfter - mainBefore),
          client: perCall((client.user + client.system) / 1e6),
        },
      };
    },
  };
}

/** An HTTP load of initiate + terminate pairs, as set-ups: half the rate, twice the CPU. */
function perSetUp(result: LoadResult): LoadResult {
  return {
    ...result,
    requestsPerSecond: result.requestsPerSecond / 2,
    ...(result.cpu
      ? {
          cpu: {
            server: result.cpu.server * 2,
            http: result.cpu.http * 2,
            client: result.cpu.client * 2,
          },
        }
      : {}),
  };
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CPU seconds the server process (or its main thread) has used (Linux /proc), 0 elsewhere. */
function cpuSeconds(pid: number | undefined, mainThread: boolean): number {
  if (!pid) return 0;
  try {
    const path = mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function serve([, portText]: string[]): Promise<void> {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { startServer } = await import('../src/server.ts');
  const { systemCaller } = await import('../src/core/shared/principal.ts');
  const { fundAni, setUpCharging } = await import('../test/support/charging.ts');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-kbench-'));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    sqlitePath: join(dir, 'bench.db'),
    logger: false,
    clock: { nowMs: () => Date.now() },
    kamailioEvapi: [{ host: '127.0.0.1', port: Number(portText) }],
  });
  const { services } = server;
  const { switchCaller } = await setUpCharging(services);
  const key = await services.principals.issueKey(systemCaller, {
    principalId: switchCaller.principal.id,
    secret: switchKey,
  });
  if (!key.ok) throw new Error(key.code);
  const anis = Array.from({ length: accounts }, (_, i) => `1555${2_000_000 + i}`);
  await Promise.all(anis.map((ani) => fundAni(services, ani, 10n ** 12n)));
  process.stdout.write(`${JSON.stringify({ url: server.url, anis } satisfies ServerInfo)}\n`);
  process.once('SIGTERM', () => {
    void server.stop().then(() => process.exit(0));
  });
}

if (process.argv[1] === self) await serve(process.argv.slice(2));
