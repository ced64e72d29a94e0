// One server under test for bench/vouchers.ts, in its own process. Modes: `group` (Tollgate as
// shipped) and `single` (one transaction per request: the baseline). It sets up a product, a PIN
// batch of `stock` PINs (timing it: the batch-creation rate), a retailer with a float, a
// commission rule and the terminal key it is given, then prints one JSON line when ready.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemCaller } from '../src/core/shared/principal.ts';
import { startServer } from '../src/server.ts';
import { benchAdminKey } from './support.ts';

const [mode = 'group', store = 'sqlite', stockText = '100000', terminalKey = ''] =
  process.argv.slice(2);

const must = <T>(result: { ok: true; value: T } | { ok: false; code: string }): T => {
  if (!result.ok) throw new Error(result.code);
  return result.value;
};

async function main(): Promise<void> {
  const databaseUrl = store === 'postgres' ? process.env.DATABASE_URL : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-vbench-'));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    sqlitePath: join(dir, 'bench.db'),
    databaseUrl,
    postgresSchema: databaseUrl ? `vbench_${process.pid}` : undefined,
    batchSizeMax: mode === 'single' ? 1 : undefined,
    adminKey: benchAdminKey,
    pinKey: '11'.repeat(32),
    logger: false,
    clock: { nowMs: () => Date.now() },
  });
  const { principals, vouchers } = server.services;
  const product = must(
    await vouchers.createProduct(systemCaller, {
      name: 'Top-up 10',
      currency: 'USD',
      faceValueMinor: 1000n,
      pinLength: 14,
      pinAlphabet: 'digits',
      pinCheck: 'damm',
      mode: 'top_up',
      validityDays: 365,
    }),
  );
  const stock = Number(stockText);
  const startedMs = performance.now();
  must(await vouchers.createBatch(systemCaller, { productId: product.id, count: stock }));
  const batchSeconds = (performance.now() - startedMs) / 1000;
  const retailer = must(await principals.create(systemCaller, { kind: 'retailer', name: 'Shop' }));
  const terminal = must(
    await principals.create(systemCaller, { kind: 'terminal', name: 'POS', parentId: retailer.id }),
  );
  must(await principals.issueKey(systemCaller, { principalId: terminal.id, secret: terminalKey }));
  must(
    await vouchers.openFloat(systemCaller, {
      principalId: retailer.id,
      currency: 'USD',
      creditLimitMinor: 0n,
    }),
  );
  const deposit = await vouchers.deposit(systemCaller, {
    principalId: retailer.id,
    currency: 'USD',
    amountMinor: 10n ** 15n,
    idempotencyKey: 'bench-deposit',
  });
  if (!deposit.ok) throw new Error(deposit.code);
  must(
    await vouchers.addCommissionRule(systemCaller, {
      level: 'retailer',
      principalId: null,
      productId: null,
      faceValueMinor: null,
      rateBasisPoints: 500,
      fixedMinor: 0n,
    }),
  );
  process.stdout.write(
    `${JSON.stringify({ url: server.url, productId: product.id, stock, batchSeconds })}\n`,
  );
  process.once('SIGTERM', () => {
    void server.stop().then(async () => {
      if (databaseUrl) {
        const pg = (await import('pg')).default;
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`drop schema if exists vbench_${process.pid} cascade`);
        await client.end();
      }
      process.exit(0);
    });
  });
}

await main();
