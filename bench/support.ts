// Shared by the benchmarks: start a server process, drive it with autocannon, report.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon, { type RequestParams } from 'autocannon';

/** The admin key the benchmark servers register, so the load generator can authenticate. */
export const benchAdminKey = 'tg_benchmark_admin_key_0123456789abcdef';

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly total: number;
  /** CPU time per request in µs: the server process, its HTTP (main) thread, the load generator. */
  readonly cpu?: { readonly server: number; readonly http: number; readonly client: number };
}

/** Clock ticks per second of /proc's CPU times. */
let ticksPerSecond: number | undefined;

/** CPU seconds a process (or one of its threads) has used, from /proc; 0 where there is none. */
function cpuSeconds(statPath: string): number {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    // Fields after the command name (which may hold spaces): utime and stime are 12th and 13th.
    const stat = readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return 0;
  }
}

export function cpuSample(pid: number | undefined) {
  return {
    server: pid ? cpuSeconds(`/proc/${pid}/stat`) : 0,
    http: pid ? cpuSeconds(`/proc/${pid}/task/${pid}/stat`) : 0,
    client: process.cpuUsage(),
  };
}

export async function startChild<T>(
  script: string,
  args: string[],
  /** How long the server may take to print its line (setting up data counts). */
  timeoutMs = 60_000,
): Promise<{ child: ChildProcess; info: T }> {
  // TOLLGATE_BENCH_NODE_ARGS adds flags to the server process, e.g. --cpu-prof for profiling.
  const extra = process.env.TOLLGATE_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), timeoutMs);
    const onLine = (line: string) => {
      if (!line.startsWith('{')) return;
      lines.off('line', onLine);
      clearTimeout(timer);
      resolve(JSON.parse(line) as T);
    };
    lines.on('line', onLine);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, info };
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || !child.pid) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** How long each measurement runs, after how long a warm-up that is not counted. */
export interface Timing {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
}

/** The number after `name` in a benchmark's arguments, or `fallback` when it is not given. */
export function numberFlag(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

/** The stores to measure: SQLite, and PostgreSQL too with `--postgres` and DATABASE_URL set. */
export function storesOf(args: readonly string[]): string[] {
  return [
    'sqlite',
    ...(args.includes('--postgres') && process.env.DATABASE_URL ? ['postgres'] : []),
  ];
}

/** `--seconds N` (default 10) and `--warmup N` (default 2) from a benchmark's arguments. */
export function timingOf(args: readonly string[]): Timing {
  return {
    durationSeconds: numberFlag(args, '--seconds', 10),
    warmupSeconds: numberFlag(args, '--warmup', 2),
  };
}

/**
 * `--rounds N` (default 1): every measurement of a benchmark runs N times in turn, and the
 * summary gives the medians of the ratios. One round can mislead on a shared machine: the
 * fsync-bound baseline and the CPU-bound ceiling each moved by 1.7x between runs minutes apart.
 */
export function roundsOf(args: readonly string[]): number {
  return Math.max(1, Math.floor(numberFlag(args, '--rounds', 1) || 1));
}

/** Collects one figure per round under a name, and tells their median. */
export class RoundFigures {
  private readonly figures = new Map<string, number[]>();

  add(name: string, value: number): void {
    const list = this.figures.get(name) ?? [];
    list.push(value);
    this.figures.set(name, list);
  }

  /** The median, or the middle pair's mean, of the figures kept under the name (NaN if none). */
  median(name: string): number {
    const sorted = [...(this.figures.get(name) ?? [])].sort((a, b) => a - b);
    if (sorted.length === 0) return Number.NaN;
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  }
}

/** The header's words for a timing: "10 s per measurement after 2 s of warm-up". */
export function timingText(timing: Timing): string {
  return `${timing.durationSeconds} s per measurement after ${timing.warmupSeconds} s of warm-up`;
}

export async function load(options: {
  url: string;
  /** The server's process id, to report its CPU time per request. */
  serverPid?: number | undefined;
  connections: number;
  durationSeconds: number;
  /**
   * Seconds of the same load sent first and not counted (default 2): V8 compiles the hot paths
   * in its background threads during the first seconds, which is start-up cost, not throughput.
   */
  warmupSeconds?: number;
  headers?: Record<string, string>;
  /**
   * Requests in a row on each connection (default 1): a connection sends steps 0, 1, …,
   * steps - 1 and starts over, with a `context` of its own that is emptied at step 0.
   */
  steps?: number;
  /** Called for each request: returns the body and a unique idempotency key. */
  request: (
    n: number,
    step: number,
    context: Record<string, unknown>,
  ) => { path: string; body: string; key?: string };
}): Promise<LoadResult> {
  let counter = 0;
  const send = (duration: number) =>
    autocannon({
      url: options.url,
      connections: options.connections,
      duration,
      pipelining: 1,
      requests: Array.from({ length: options.steps ?? 1 }, (_, step) => ({
        method: 'POST',
        setupRequest: (request: RequestParams, context: Record<string, unknown>) => {
          counter += 1;
          const next = options.request(counter, step, context);
          return {
            ...request,
            path: next.path,
            body: next.body,
            headers: {
              ...request.headers,
              ...options.headers,
              'content-type': 'application/json',
              ...(next.key ? { 'idempotency-key': next.key } : {}),
            },
          };
        },
      })),
    });
  const warmupSeconds = options.warmupSeconds ?? 2;
  if (warmupSeconds > 0) await send(warmupSeconds);
  const before = cpuSample(options.serverPid);
  const result = await send(options.durationSeconds);
  const after = cpuSample(options.serverPid);
  const perRequest = (seconds: number) => (seconds * 1e6) / Math.max(1, result.requests.total);
  const client = process.cpuUsage(before.client);
  return {
    ...(options.serverPid
      ? {
          cpu: {
            server: perRequest(after.server - before.server),
            http: perRequest(after.http - before.http),
            client: perRequest((client.user + client.system) / 1e6),
          },
        }
      : {}),
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
  };
}

export function row(label: string, result: LoadResult, baseline?: LoadResult): string {
  const ratio = baseline
    ? `  ${(result.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}x`
    : '';
  return `${label.padEnd(44)} ${result.requestsPerSecond.toFixed(0).padStart(8)} req/s  p50 ${result.p50Ms
    .toFixed(1)
    .padStart(
      5,
    )} ms  p99 ${result.p99Ms.toFixed(1).padStart(5)} ms  non-2xx ${result.non2xx}  errors ${result.errors}${ratio}${cpuText(result)}`;
}

/** CPU per request, the figure least moved by other work on the machine. */
function cpuText(result: LoadResult): string {
  const cpu = result.cpu;
  if (!cpu) return '';
  return `  cpu/req: server ${cpu.server.toFixed(0)} µs (http thread ${cpu.http.toFixed(0)}), load generator ${cpu.client.toFixed(0)} µs`;
}
