// `tollgate voucher …`, `tollgate float …` and `tollgate commission …`: products, PIN batches
// (generated with a progress bar, or imported from a carrier's CSV file), freezing, the audited
// export, stock, and retailer floats and commission rules. The PIN key is loaded here the same
// way the server loads it (TOLLGATE_PIN_KEY, else the key file beside the database).

import { readFileSync, writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { systemCaller } from '../../core/shared/principal.ts';
import type { ImportRow } from '../../core/vouchers/vouchers.ts';
import type { Services } from '../../services.ts';
import { openStore } from '../../store/store.ts';
import { defaultPinKeyFile, loadPinKeyForStore } from '../keys/pin-key-guard.ts';
import {
  amount,
  type CliIo,
  clock,
  currency,
  type DbFlags,
  databaseOf,
  dbOptions,
  print,
  Refused,
  UsageError,
} from './cli-support.ts';

async function withVoucherServices<T>(
  flags: DbFlags,
  io: CliIo,
  work: (services: Services) => Promise<T>,
): Promise<T> {
  // The core is imported when a command needs it, so `tollgate --help` loads none of it.
  const { createServices } = await import('../../services.ts');
  const database = databaseOf(flags, io);
  const store = await openStore({ ...database, clock });
  try {
    const pinKey = await loadPinKeyForStore({
      store,
      keyFilePath: io.env.pinKeyFile ?? defaultPinKeyFile(database.sqlitePath),
      envValue: io.env.pinKey,
    });
    return await work(await createServices(store, clock, { pinKey }));
  } finally {
    await store.close();
  }
}

/** The HTTP views of products and batches; their module brings the HTTP schemas with it. */
const views = () => import('../http/routes/vouchers.ts');

function unwrap<T>(
  result: { ok: true; value: T } | { ok: false; code: string; message: string },
): T {
  if (!result.ok) throw new Refused(result.code, result.message);
  return result.value;
}

function integer(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`${name} must be a whole number`);
  return value;
}

const json = (value: unknown) =>
  JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));

export function registerVoucherCommands(program: Command, io: CliIo): void {
  const voucher = program.command('voucher').description('Voucher products, PIN batches and stock');
  const product = voucher.command('product').description('Products a buyer can select');

  dbOptions(
    product
      .command('create')
      .description('Create a product: carrier, face value, PIN format, redemption mode')
      .requiredOption('--name <name>', 'product name')
      .requiredOption('--currency <code>', 'ISO 4217 currency')
      .requiredOption('--face-value <minor>', 'face value in minor units')
      .option('--id <id>', 'product id (default: generated)')
      .option('--carrier <id>', 'carrier id')
      .option('--mode <mode>', 'calling_card or top_up', 'top_up')
      .option('--pin-length <n>', 'PIN length, check digit included', '14')
      .option('--alphabet <name>', 'digits or alphanumeric', 'digits')
      .option('--check <name>', 'luhn or damm', 'damm')
      .option('--validity-days <n>', 'days a sold PIN stays valid')
      .option('--access-number <number>', 'number the buyer dials')
      .option('--instructions <text>', 'printed on receipts')
      .option('--low-stock <n>', 'low-stock alert threshold', '0')
      .option('--json', 'print JSON'),
  ).action(async (flags: DbFlags & Record<string, string | boolean | undefined>) => {
    const mode = flags.mode;
    if (mode !== 'calling_card' && mode !== 'top_up') {
      throw new UsageError('--mode must be calling_card or top_up');
    }
    await withVoucherServices(flags, io, async (services) => {
      const created = unwrap(
        await services.vouchers.createProduct(systemCaller, {
          id: flags.id as string | undefined,
          name: String(flags.name),
          carrierId: (flags.carrier as string | undefined) ?? null,
          currency: currency(String(flags.currency)),
          faceValueMinor: amount(String(flags.faceValue)),
          validityDays:
            flags.validityDays === undefined
              ? null
              : integer(String(flags.validityDays), '--validity-days'),
          pinLength: integer(String(flags.pinLength), '--pin-length'),
          pinAlphabet: String(flags.alphabet),
          pinCheck: String(flags.check),
          accessNumber: (flags.accessNumber as string | undefined) ?? null,
          mode,
          instructions: (flags.instructions as string | undefined) ?? '',
          lowStockThreshold: integer(String(flags.lowStock), '--low-stock'),
        }),
      );
      const { productJson } = await views();
      print(io, Boolean(flags.json), productJson(created), created.id);
    });
  });

  dbOptions(
    product.command('list').description('List products').option('--json', 'print JSON'),
  ).action(async (flags: DbFlags & { json?: boolean }) => {
    await withVoucherServices(flags, io, async (services) => {
      const products = await services.vouchers.listProducts();
      const lines = products.map(
        (p) => `${p.id}  ${p.name}  ${p.faceValueMinor} ${p.currency}  ${p.mode}  ${p.status}`,
      );
      const { productJson } = await views();
      print(io, Boolean(flags.json), products.map(productJson), lines.join('\n'));
    });
  });

  const batch = voucher.command('batch').description('PIN batches (the pool of PINs made ahead)');

  dbOptions(
    batch
      .command('create')
      .description('Generate a batch of PINs for a product')
      .requiredOption('--product <id>', 'product id')
      .requiredOption('--count <n>', 'how many PINs (up to 1,000,000)')
      .option('--prefix <prefix>', 'serial prefix (default: derived from the batch id)')
      .option('--chunk <n>', 'PINs per transaction', '10000')
      .option('--json', 'print JSON'),
  ).action(
    async (
      flags: DbFlags & {
        product: string;
        count: string;
        prefix?: string;
        chunk: string;
        json?: boolean;
      },
    ) => {
      const count = integer(flags.count, '--count');
      const chunkSize = integer(flags.chunk, '--chunk');
      if (chunkSize < 1) throw new UsageError('--chunk must be at least 1');
      await withVoucherServices(flags, io, async (services) => {
        const bar = new cliProgress.SingleBar(
          {
            format: 'PINs [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta}s',
            stream: process.stderr,
            noTTYOutput: false,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        const startedMs = performance.now();
        bar.start(count, 0, { rate: 0 });
        const result = await services.vouchers.createBatch(systemCaller, {
          productId: flags.product,
          count,
          serialPrefix: flags.prefix,
          chunkSize,
          onProgress: (done) => {
            const seconds = (performance.now() - startedMs) / 1000;
            bar.update(done, { rate: Math.round(done / Math.max(seconds, 0.001)) });
          },
        });
        bar.stop();
        const created = unwrap(result);
        const seconds = (performance.now() - startedMs) / 1000;
        const rate = Math.round(created.countCreated / Math.max(seconds, 0.001));
        const { batchJson } = await views();
        print(
          io,
          Boolean(flags.json),
          { ...batchJson(created), seconds: Number(seconds.toFixed(2)), pins_per_second: rate },
          `${created.id}  prefix ${created.serialPrefix}  ${created.countCreated} PINs in ` +
            `${seconds.toFixed(1)} s (${rate} PINs/s)`,
        );
      });
    },
  );

  dbOptions(
    batch
      .command('import')
      .description('Import a carrier PIN file (CSV: serial,pin[,expires_at])')
      .requiredOption('--product <id>', 'product id')
      .requiredOption('--file <path>', 'CSV file with a header row')
      .option('--prefix <prefix>', 'serial prefix recorded for the batch')
      .option('--dry-run', 'check the file and report problems; write nothing')
      .option('--json', 'print JSON'),
  ).action(
    async (
      flags: DbFlags & {
        product: string;
        file: string;
        prefix?: string;
        dryRun?: boolean;
        json?: boolean;
      },
    ) => {
      const rows = readPinFile(flags.file);
      await withVoucherServices(flags, io, async (services) => {
        const result = unwrap(
          await services.vouchers.importPins(systemCaller, {
            productId: flags.product,
            rows,
            dryRun: Boolean(flags.dryRun),
            serialPrefix: flags.prefix,
          }),
        );
        const problems = result.issues.map((issue) => `  line ${issue.line}: ${issue.problem}`);
        if (!result.batch && result.issues.length > 0) {
          io.stderr(`${problems.join('\n')}\n`);
          throw new Refused(
            'pin_file_invalid',
            `${result.issues.length} problem(s); nothing was imported.`,
          );
        }
        const human = result.batch
          ? `${result.batch.id}  ${result.count} PINs imported`
          : `dry run: ${result.count} PINs would be imported, no problems found`;
        print(io, Boolean(flags.json), json(result), [human, ...problems].join('\n'));
      });
    },
  );

  dbOptions(
    batch
      .command('export')
      .description('Write a batch with its clear PINs to a CSV file (recorded in the audit log)')
      .argument('<batch-id>')
      .requiredOption('--out <path>', 'CSV file to write (created with mode 0600)'),
  ).action(async (batchId: string, flags: DbFlags & { out: string }) => {
    await withVoucherServices(flags, io, async (services) => {
      const rows = unwrap(await services.vouchers.exportBatch(systemCaller, batchId));
      writeFileSync(
        flags.out,
        stringify(rows, { header: true, columns: ['serial', 'pin', 'status'] }),
        {
          mode: 0o600,
        },
      );
      io.stdout(`${rows.length} PINs written to ${flags.out}; the export is in the audit log\n`);
    });
  });

  for (const [verb, frozen] of [
    ['freeze', true],
    ['unfreeze', false],
  ] as const) {
    dbOptions(
      batch.command(verb).description(`${verb} every PIN of a batch`).argument('<batch-id>'),
    ).action(async (batchId: string, flags: DbFlags) => {
      await withVoucherServices(flags, io, async (services) => {
        const done = unwrap(await services.vouchers.setFrozen(systemCaller, { batchId }, frozen));
        io.stdout(`${done.changed} PINs ${frozen ? 'frozen' : 'unfrozen'}\n`);
      });
    });
  }

  dbOptions(
    voucher
      .command('show')
      .description("A PIN's state and history, by serial")
      .argument('<serial>')
      .option('--json', 'print JSON'),
  ).action(async (serial: string, flags: DbFlags & { json?: boolean }) => {
    await withVoucherServices(flags, io, async (services) => {
      const found = unwrap(await services.vouchers.voucherHistory(serial));
      const lines = [
        `${found.voucher.serial}  ${found.voucher.status}${found.voucher.frozen ? ' (frozen)' : ''}`,
        ...found.events.map(
          (e) => `  ${new Date(e.atMs).toISOString()}  ${e.action}  by ${e.principalId}`,
        ),
      ];
      print(io, Boolean(flags.json), json(found), lines.join('\n'));
    });
  });

  dbOptions(
    voucher
      .command('stock')
      .description('Stock per product with low-stock alerts')
      .option('--csv', 'print CSV')
      .option('--json', 'print JSON'),
  ).action(async (flags: DbFlags & { csv?: boolean; json?: boolean }) => {
    await withVoucherServices(flags, io, async (services) => {
      const rows = (await services.vouchers.stockReport()).map((row) => ({
        product_id: row.product.id,
        name: row.product.name,
        face_value: row.product.faceValueMinor.toString(),
        currency: row.product.currency,
        in_stock: row.inStock,
        sold: row.sold,
        redeemed: row.redeemed,
        voided: row.voided,
        frozen: row.frozen,
        low_stock: row.lowStock,
      }));
      if (flags.csv) io.stdout(stringify(rows, { header: true }));
      else
        print(
          io,
          Boolean(flags.json),
          rows,
          rows
            .map(
              (r) =>
                `${r.product_id}  ${r.name}  in stock ${r.in_stock}${r.low_stock ? '  LOW' : ''}`,
            )
            .join('\n'),
        );
    });
  });

  const float = program.command('float').description('Retailer and distributor floats');
  dbOptions(
    float
      .command('open')
      .description('Open (or change the credit limit of) a float')
      .requiredOption('--principal <id>', 'retailer or distributor')
      .requiredOption('--currency <code>', 'currency')
      .option('--credit-limit <minor>', 'credit limit in minor units', '0'),
  ).action(
    async (flags: DbFlags & { principal: string; currency: string; creditLimit: string }) => {
      await withVoucherServices(flags, io, async (services) => {
        const opened = unwrap(
          await services.vouchers.openFloat(systemCaller, {
            principalId: flags.principal,
            currency: currency(flags.currency),
            creditLimitMinor: amount(flags.creditLimit),
          }),
        );
        io.stdout(`${opened.accountId}\n`);
      });
    },
  );
  dbOptions(
    float
      .command('deposit')
      .description('Record a deposit into a float')
      .requiredOption('--principal <id>', 'retailer or distributor')
      .requiredOption('--currency <code>', 'currency')
      .requiredOption('--amount <minor>', 'amount in minor units')
      .requiredOption('--key <key>', 'idempotency key'),
  ).action(
    async (
      flags: DbFlags & { principal: string; currency: string; amount: string; key: string },
    ) => {
      await withVoucherServices(flags, io, async (services) => {
        const outcome = await services.vouchers.deposit(systemCaller, {
          principalId: flags.principal,
          currency: currency(flags.currency),
          amountMinor: amount(flags.amount),
          idempotencyKey: flags.key,
        });
        if (!outcome.ok) throw new Refused(outcome.code, outcome.message);
        io.stdout(`${outcome.transfer.id}\n`);
      });
    },
  );

  dbOptions(
    program
      .command('commission')
      .description('Commission rules')
      .command('add')
      .description('Add a commission rule (the most specific rule applies)')
      .requiredOption('--level <level>', 'retailer or distributor')
      .requiredOption('--rate-bp <n>', 'basis points of face value (500 = 5 %)')
      .option('--fixed <minor>', 'fixed amount per sale', '0')
      .option('--principal <id>', 'only for this retailer or distributor')
      .option('--product <id>', 'only for this product')
      .option('--face-value <minor>', 'only for this denomination'),
  ).action(
    async (
      flags: DbFlags & {
        level: string;
        rateBp: string;
        fixed: string;
        principal?: string;
        product?: string;
        faceValue?: string;
      },
    ) => {
      if (flags.level !== 'retailer' && flags.level !== 'distributor') {
        throw new UsageError('--level must be retailer or distributor');
      }
      const level = flags.level;
      await withVoucherServices(flags, io, async (services) => {
        const rule = unwrap(
          await services.vouchers.addCommissionRule(systemCaller, {
            level,
            principalId: flags.principal ?? null,
            productId: flags.product ?? null,
            faceValueMinor: flags.faceValue === undefined ? null : amount(flags.faceValue),
            rateBasisPoints: integer(flags.rateBp, '--rate-bp'),
            fixedMinor: amount(flags.fixed),
          }),
        );
        io.stdout(`${rule.id}\n`);
      });
    },
  );
}

/** Reads a carrier PIN file: a header row naming `serial`, `pin` and optionally `expires_at`. */
export function readPinFile(path: string): ImportRow[] {
  let records: Array<Record<string, string>>;
  try {
    records = parse(readFileSync(path, 'utf8'), {
      columns: true,
      skip_empty_lines: true,
      trim: true,
    });
  } catch (error) {
    // The parser's message can quote a line of the file, which holds PINs: say only where.
    const line = (error as { lines?: number }).lines;
    throw new UsageError(`${path} is not a readable CSV file${line ? ` (near line ${line})` : ''}`);
  }
  return records.map((record, index) => {
    if (record.serial === undefined || record.pin === undefined) {
      throw new UsageError(`${path}: the header must name the columns serial and pin`);
    }
    const expires = record.expires_at?.trim();
    const expiresAtMs = expires ? Date.parse(expires) : null;
    if (expiresAtMs !== null && Number.isNaN(expiresAtMs)) {
      throw new UsageError(`${path} line ${index + 2}: expires_at is not a date (YYYY-MM-DD)`);
    }
    return { serial: record.serial, pin: record.pin, expiresAtMs };
  });
}
