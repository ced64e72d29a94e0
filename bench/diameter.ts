// CCR/CCA pairs per second through the Diameter agent: one TCP connection (this process plays a
// Gy/Ro client after CER), whole calls (CCR-I, CCR-U, CCR-T one after another per call) with many
// calls in flight, so the connection carries pipelined requests; every answer is durable (SQLite,
// synchronous=FULL, group commit). Beside it, in the same run and on the same server: the same
// whole calls through the HTTP charging API from 64 keep-alive clients (bench/charging.ts's
// requests, the baseline). Figures are credit-control requests per second.
//   npm run bench -- diameter [--seconds 10] [--warmup 2] [--rounds 1] [--window 256]
// This file is also the server under test: bench/diameter.ts serve <diameter port> runs Tollgate
// with its Diameter agent on that port and prints one JSON line when ready.

import { fileURLToPath } from 'node:url';
import { DiameterClient, resultCodeOf } from '../test/diameter/diameter-client.ts';
import { freeTcpPort } from '../test/telephony/support.ts';
import { callRequests } from './charging.ts';
import {
  cpuSample,
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
const switchKey = 'tg_benchmark_diameter_switch_key_0123456789';
const peer = 'bench-client.test';
const destination = '+12125550100';
const accounts = 64;
const connections = 64;

interface ServerInfo {
  url: string;
  anis: string[];
}

export async function run(args: string[]): Promise<void> {
  const timing = timingOf(args);
  const rounds = roundsOf(args);
  const window = numberFlag(args, '--window', 256);
  const port = await freeTcpPort();
  const { child, info } = await startChild<ServerInfo>(self, ['serve', String(port)]);
  const figures = new RoundFigures();
  try {
    process.stdout.write(
      `\nDiameter agent: credit-control requests per second (whole calls: CCR-I, CCR-U, CCR-T), ${timingText(timing)}, ${rounds} round(s), node ${process.version}\n`,
    );
    for (let round = 1; round <= rounds; round += 1) {
      const http = await load({
        url: info.url,
        serverPid: child.pid,
        connections,
        ...timing,
        headers: { authorization: `Bearer ${switchKey}` },
        steps: 3,
        request: callRequests(`http-${round}-${Date.now()}`, info.anis),
      });
      const diameter = await measureDiameter({
        port,
        serverPid: child.pid,
        timing,
        window,
        anis: info.anis,
        run: `dia-${round}-${Date.now()}`,
      });
      figures.add('ratio', diameter.requestsPerSecond / http.requestsPerSecond);
      figures.add('p99', diameter.p99Ms);
      process.stdout.write(`${row(`HTTP API, ${connections} clients (baseline)`, http)}\n`);
      process.stdout.write(
        `${row(`Diameter, 1 connection, ${window} calls in flight`, diameter, http)}  (target >= 2x, p99 < 25 ms)\n`,
      );
      if (diameter.non2xx > 0) {
        process.stdout.write(`  ${diameter.non2xx} answers were not 2001: not comparable\n`);
      }
    }
    if (rounds > 1) {
      process.stdout.write(
        `median ratio Diameter / HTTP: ${figures.median('ratio').toFixed(2)}x, median Diameter p99 ${figures.median('p99').toFixed(1)} ms\n`,
      );
    }
  } finally {
    await stopChild(child);
  }
}

/** Whole calls over one connection, `window` at once; counts pairs after the warm-up. */
async function measureDiameter(options: {
  port: number;
  serverPid: number | undefined;
  timing: Timing;
  window: number;
  anis: string[];
  run: string;
}): Promise<LoadResult> {
  const connection = await DiameterClient.connect(options.port, peer);
  try {
    if (resultCodeOf(await connection.cer()) !== 2001) throw new Error('CER refused');
    const startMs = performance.now();
    const countFromMs = startMs + options.timing.warmupSeconds * 1000;
    const endMs = countFromMs + options.timing.durationSeconds * 1000;
    const latencies: number[] = [];
    let failures = 0;
    let before: ReturnType<typeof cpuSample> | null = null;
    const warmedUp = setTimeout(() => {
      before = cpuSample(options.serverPid);
    }, countFromMs - startMs);
    let callNumber = 0;
    const timed = async (input: Parameters<DiameterClient['ccr']>[0]) => {
      const sentMs = performance.now();
      const answer = await connection.ccr(input);
      const doneMs = performance.now();
      if (sentMs >= countFromMs && doneMs <= endMs) {
        latencies.push(doneMs - sentMs);
        if (resultCodeOf(answer) !== 2001) failures += 1;
      }
    };
    const caller = async () => {
      while (performance.now() < endMs) {
        callNumber += 1;
        const sessionId = `${options.run};${callNumber}`;
        const e164 = options.anis[callNumber % options.anis.length]!;
        const call = { sessionId, e164, destination };
        await timed({ ...call, type: 1, number: 0, requestedSeconds: 300 });
        await timed({ ...call, type: 2, number: 1, usedSeconds: 60 });
        await timed({ ...call, type: 3, number: 2, usedSeconds: 17 });
      }
    };
    await Promise.all(Array.from({ length: options.window }, caller));
    clearTimeout(warmedUp);
    const after = cpuSample(options.serverPid);
    const start = before ?? after;
    const perRequest = (seconds: number) => (seconds * 1e6) / Math.max(1, latencies.length);
    const client = process.cpuUsage(start.client);
    latencies.sort((x, y) => x - y);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    return {
      requestsPerSecond: latencies.length / options.timing.durationSeconds,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      non2xx: failures,
      errors: 0,
      total: latencies.length,
      cpu: {
        server: perRequest(after.server - start.server),
        http: perRequest(after.http - start.http),
        client: perRequest((client.user + client.system) / 1e6),
      },
    };
  } finally {
    connection.close();
  }
}

// --- the server under test ---------------------------------------------------------------

async function serve([, portText]: string[]): Promise<void> {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { startServer } = await import('../src/server.ts');
  const { systemCaller } = await import('../src/core/shared/principal.ts');
  const { fundAni, setUpCharging } = await import('../test/support/charging.ts');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-dbench-'));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    sqlitePath: join(dir, 'bench.db'),
    logger: false,
    clock: { nowMs: () => Date.now() },
    diameter: {
      host: '127.0.0.1',
      port: Number(portText),
      originHost: 'tollgate.bench',
      originRealm: 'bench',
      peers: new Map([[peer, switchKey]]),
      pinSubscriptionTypes: [4],
      destinationAvps: [{ code: 832, vendorId: 10415 }],
      freeRatingGroups: [],
    },
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
