// Durable transfers per second through the HTTP API with 64 concurrent keep-alive clients,
// beside two baselines measured in the same run: one transaction per request on the same store
// (what group commit must beat) and a no-op Fastify route (the HTTP ceiling).
//   npm run bench -- ledger [--seconds 10] [--warmup 2] [--rounds 1] [--postgres]

import { fileURLToPath } from 'node:url';
import {
  benchAdminKey,
  type LoadResult,
  load,
  RoundFigures,
  roundsOf,
  row,
  startChild,
  stopChild,
  storesOf,
  type Timing,
  timingOf,
  timingText,
} from './support.ts';

const connections = 64;
const server = fileURLToPath(new URL('./ledger-server.ts', import.meta.url));

interface LedgerInfo {
  url: string;
  wallets: string[];
  revenue: string;
}

async function measureTransfers(
  mode: 'group' | 'single',
  store: string,
  timing: Timing,
): Promise<LoadResult> {
  const { child, info } = await startChild<LedgerInfo>(server, [mode, store]);
  try {
    const run = `${mode}-${Date.now()}`;
    return await load({
      url: info.url,
      serverPid: child.pid,
      connections,
      ...timing,
      headers: { authorization: `Bearer ${benchAdminKey}` },
      request: (n) => ({
        path: '/v1/transfers',
        key: `${run}-${n}`,
        body: JSON.stringify({
          debit_account_id: info.wallets[n % info.wallets.length],
          credit_account_id: info.revenue,
          amount: String(1 + (n % 500)),
          currency: 'USD',
        }),
      }),
    });
  } finally {
    await stopChild(child);
  }
}

/** A bare route: `noop` answers at once (the HTTP ceiling), `floor` makes the body durable. */
async function measureBare(mode: 'noop' | 'floor', timing: Timing): Promise<LoadResult> {
  const { child, info } = await startChild<{ url: string }>(server, [mode]);
  try {
    const body = JSON.stringify({
      debit_account_id: 'acc_x',
      credit_account_id: 'acc_y',
      amount: '1',
      currency: 'USD',
    });
    return await load({
      url: info.url,
      serverPid: child.pid,
      connections,
      ...timing,
      request: () => ({ path: `/${mode}`, body }),
    });
  } finally {
    await stopChild(child);
  }
}

export async function run(args: string[] = []): Promise<void> {
  const timing = timingOf(args);
  const stores = storesOf(args);
  const rounds = roundsOf(args);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`ledger: ${connections} keep-alive clients, ${timingText(timing)}, node ${process.version}`);
  const figures = new RoundFigures();
  for (let round = 1; round <= rounds; round += 1) {
    if (rounds > 1) out(`round ${round} of ${rounds}`);
    const ceiling = await measureBare('noop', timing);
    out(row('no-op Fastify route (HTTP ceiling)', ceiling));
    const floor = await measureBare('floor', timing);
    const floorRatio = floor.requestsPerSecond / ceiling.requestsPerSecond;
    figures.add('floor', floorRatio);
    out(
      `${row('bare route, one durable row, group commit', floor)}  ${floorRatio.toFixed(2)}x the ceiling`,
    );
    for (const store of stores) {
      const single = await measureTransfers('single', store, timing);
      out(row(`${store}: one transaction per request (baseline)`, single));
      const group = await measureTransfers('group', store, timing);
      out(row(`${store}: group commit (Tollgate)`, group));
      const toBaseline = group.requestsPerSecond / single.requestsPerSecond;
      const toCeiling = group.requestsPerSecond / ceiling.requestsPerSecond;
      figures.add(`${store} baseline`, toBaseline);
      figures.add(`${store} ceiling`, toCeiling);
      figures.add(`${store} p99`, group.p99Ms);
      out(`  ${store}: ${summary(toBaseline, toCeiling, group.p99Ms)}`);
    }
  }
  if (rounds === 1) return;
  out(
    `medians of ${rounds} rounds: the durable floor ${figures.median('floor').toFixed(2)}x the ceiling`,
  );
  for (const store of stores) {
    const median = (name: string) => figures.median(`${store} ${name}`);
    out(`  ${store}: ${summary(median('baseline'), median('ceiling'), median('p99'))}`);
  }
}

function summary(toBaseline: number, toCeiling: number, p99Ms: number): string {
  return (
    `group commit = ${toBaseline.toFixed(2)}x the per-request baseline, ` +
    `${toCeiling.toFixed(2)}x the HTTP ceiling, p99 ${p99Ms.toFixed(1)} ms`
  );
}
