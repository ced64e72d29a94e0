// Durable transfers per second through the HTTP API with 64 concurrent keep-alive clients,
// beside two baselines measured in the same run: one transaction per request on the same store
// (what group commit must beat) and a no-op Fastify route (the HTTP ceiling).
//   npm run bench -- ledger [--seconds 10] [--warmup 2] [--postgres]

import { fileURLToPath } from 'node:url';
import {
  benchAdminKey,
  type LoadResult,
  load,
  row,
  startChild,
  stopChild,
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
  const stores = [
    'sqlite',
    ...(args.includes('--postgres') && process.env.DATABASE_URL ? ['postgres'] : []),
  ];
  process.stdout.write(
    `ledger: ${connections} keep-alive clients, ${timingText(timing)}, node ${process.version}\n`,
  );
  const ceiling = await measureBare('noop', timing);
  process.stdout.write(`${row('no-op Fastify route (HTTP ceiling)', ceiling)}\n`);
  const floor = await measureBare('floor', timing);
  process.stdout.write(
    `${row('bare route, one durable row, group commit', floor)}  ${(floor.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2)}x the ceiling\n`,
  );
  for (const store of stores) {
    const single = await measureTransfers('single', store, timing);
    process.stdout.write(`${row(`${store}: one transaction per request (baseline)`, single)}\n`);
    const group = await measureTransfers('group', store, timing);
    process.stdout.write(`${row(`${store}: group commit (Tollgate)`, group)}\n`);
    process.stdout.write(
      `  ${store}: group commit = ${(group.requestsPerSecond / single.requestsPerSecond).toFixed(2)}x the per-request baseline, ` +
        `${(group.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2)}x the HTTP ceiling, p99 ${group.p99Ms.toFixed(1)} ms\n`,
    );
  }
}
