// `tollgate voucher …` against a real SQLite file: products, generated and imported batches, the
// audited export, stock as CSV, floats and commissions, and the PIN key file that guards it all.

import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinCheckCharacter } from '../../src/core/vouchers/pin-code.ts';
import { type CliHarness, cliHarness } from '../support/cli.ts';

describe('tollgate voucher CLI', () => {
  let harness: CliHarness;
  let dir: string;
  let productId: string;
  const cli = (...argv: string[]) => harness.run(...argv);

  beforeAll(async () => {
    harness = cliHarness('vcli');
    dir = dirname(harness.dbPath);
    const created = await cli(
      'voucher',
      'product',
      'create',
      '--name',
      'Top-up 10',
      '--currency',
      'USD',
      '--face-value',
      '1000',
      '--pin-length',
      '12',
      '--low-stock',
      '100',
    );
    expect(created.code, created.stderr).toBe(0);
    productId = created.stdout.trim();
  });
  afterAll(() => harness.remove());

  it('creates a batch in chunks and reports its rate; the key file is mode 0600', async () => {
    const made = await cli(
      'voucher',
      'batch',
      'create',
      '--product',
      productId,
      '--count',
      '500',
      '--chunk',
      '120',
      '--prefix',
      'CLI1',
      '--json',
    );
    expect(made.code, made.stderr).toBe(0);
    const batch = JSON.parse(made.stdout);
    expect(batch).toMatchObject({ serial_prefix: 'CLI1', count_created: 500 });
    expect(batch.pins_per_second).toBeGreaterThan(0);
    expect(statSync(join(dir, 'pin.key')).mode & 0o777).toBe(0o600);
    const stock = await cli('voucher', 'stock', '--csv');
    expect(stock.stdout).toContain(`${productId},Top-up 10,1000,USD,500,`);
  });

  it('checks a carrier file in a dry run, refuses a bad one, and imports a good one', async () => {
    const payload = (n: number) => `7000000${String(n).padStart(4, '0')}`;
    const pin = (n: number) =>
      payload(n) + pinCheckCharacter({ alphabet: 'digits', check: 'damm' }, payload(n));
    const good = join(dir, 'good.csv');
    writeFileSync(good, `serial,pin,expires_at\nCAR-1,${pin(1)},2030-01-01\nCAR-2,${pin(2)},\n`);
    const dry = await cli(
      'voucher',
      'batch',
      'import',
      '--product',
      productId,
      '--file',
      good,
      '--dry-run',
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('dry run: 2 PINs would be imported');
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, `serial,pin\nCAR-3,${pin(3).slice(0, -1)}x\n`);
    const refused = await cli('voucher', 'batch', 'import', '--product', productId, '--file', bad);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 2');
    expect(refused.stderr).not.toContain(pin(3).slice(0, -1));
    const done = await cli('voucher', 'batch', 'import', '--product', productId, '--file', good);
    expect(done.code, done.stderr).toBe(0);
    const shown = await cli('voucher', 'show', 'car-1');
    expect(shown.stdout).toContain('CAR-1  in_stock');
  });

  it('exports a batch with clear PINs to a 0600 file and records it in the audit log', async () => {
    const list = await cli('voucher', 'product', 'list', '--json');
    expect(JSON.parse(list.stdout)).toHaveLength(1);
    const made = await cli(
      'voucher',
      'batch',
      'create',
      '--product',
      productId,
      '--count',
      '3',
      '--json',
    );
    const batchId = JSON.parse(made.stdout).id as string;
    const out = join(dir, 'export.csv');
    const exported = await cli('voucher', 'batch', 'export', batchId, '--out', out);
    expect(exported.code, exported.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it('opens a float, records a deposit once per key, and adds a commission rule', async () => {
    const { code: c0, stdout } = await cli(
      'principal',
      'create',
      '--kind',
      'retailer',
      '--name',
      'Shop',
    );
    expect(c0).toBe(0);
    const retailer = stdout.trim().replace('created ', '');
    expect((await cli('float', 'open', '--principal', retailer, '--currency', 'USD')).code).toBe(0);
    const first = await cli(
      'float',
      'deposit',
      '--principal',
      retailer,
      '--currency',
      'USD',
      '--amount',
      '5000',
      '--key',
      'd1',
    );
    const again = await cli(
      'float',
      'deposit',
      '--principal',
      retailer,
      '--currency',
      'USD',
      '--amount',
      '5000',
      '--key',
      'd1',
    );
    expect(first.code, first.stderr).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    const rule = await cli('commission', 'add', '--level', 'retailer', '--rate-bp', '500');
    expect(rule.code, rule.stderr).toBe(0);
  });

  it('refuses to start when the key file was just created but PINs already exist', async () => {
    unlinkSync(join(dir, 'pin.key'));
    const refused = await cli('voucher', 'stock');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: .*already holds PINs.*\n$/);
  });
});
