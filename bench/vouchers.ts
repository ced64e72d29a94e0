// PIN sales per second through the HTTP API (POST /v1/sales) with 64 concurrent keep-alive
// clients, beside the per-request-transaction baseline measured in the same run, and the rate at
// which a PIN batch is generated, hashed, encrypted and stored.
//   npm run bench -- vouchers [--seconds 10] [--warmup 2] [--rounds 1] [--stock 100000] [--postgres]
// The stock must cover the warm-up and the measurement: at 5,000 sales/s, 12 s sell 60,000 PINs.

import { fileURLToPath } from 'node:url';
import {
  type LoadResult,
  load,
  numberFlag,
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
const benchTerminalKey = 'tg_benchmark_terminal_key_0123456789abcdef';
const server = fileURLToPath(new URL('./vouchers-server.ts', import.meta.url));

interface VoucherInfo {
  url: string;
  productId: string;
  stock: number;
  batchSeconds: number;
}

async function measureSales(
  mode: 'group' | 'single',
  store: string,
  timing: Timing,
  stock: number,
): Promise<{ result: LoadResult; info: VoucherInfo }> {
  const { child, info } = await startChild<VoucherInfo>(server, [
    mode,
    store,
    String(stock),
    benchTerminalKey,
  ]);
  try {
    const run = `${mode}-${Date.now()}`;
    const body = JSON.stringify({
      product_id: info.productId,
      requested_amount: '1000',
      paid_amount: '1000',
    });
    const result = await load({
      url: info.url,
      serverPid: child.pid,
      connections,
      ...timing,
      headers: { authorization: `Bearer ${benchTerminalKey}` },
      request: (n) => ({ path: '/v1/sales', key: `${run}-${n}`, body }),
    });
    return { result, info };
  } finally {
    await stopChild(child);
  }
}

export async function run(args: string[] = []): Promise<void> {
  const timing = timingOf(args);
  const stock = numberFlag(args, '--stock', 100_000);
  const stores = storesOf(args);
  const rounds = roundsOf(args);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `vouchers: ${connections} keep-alive clients, ${timingText(timing)}, ${stock} PINs in stock, node ${process.version}`,
  );
  const figures = new RoundFigures();
  for (let round = 1; round <= rounds; round += 1) {
    if (rounds > 1) out(`round ${round} of ${rounds}`);
    for (const store of stores) {
      const single = await measureSales('single', store, timing, stock);
      out(row(`${store}: sales, one transaction per request`, single.result));
      const group = await measureSales('group', store, timing, stock);
      out(row(`${store}: sales, group commit (Tollgate)`, group.result));
      const toBaseline = group.result.requestsPerSecond / single.result.requestsPerSecond;
      figures.add(`${store} baseline`, toBaseline);
      figures.add(`${store} p99`, group.result.p99Ms);
      const rate = group.info.stock / group.info.batchSeconds;
      out(
        `  ${store}: ${summary(toBaseline, group.result.p99Ms)}\n` +
          `  ${store}: batch creation ${group.info.stock} PINs in ${group.info.batchSeconds.toFixed(1)} s = ${rate.toFixed(0)} PINs/s ` +
          `(1,000,000 PINs in about ${(1_000_000 / rate).toFixed(0)} s)`,
      );
    }
  }
  if (rounds === 1) return;
  out(`medians of ${rounds} rounds:`);
  for (const store of stores) {
    out(
      `  ${store}: ${summary(figures.median(`${store} baseline`), figures.median(`${store} p99`))}`,
    );
  }
}

function summary(toBaseline: number, p99Ms: number): string {
  return `sales with group commit = ${toBaseline.toFixed(2)}x the per-request baseline, p99 ${p99Ms.toFixed(1)} ms`;
}
