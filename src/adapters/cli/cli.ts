// The `tollgate <noun> <verb>` command line. It calls the same services as the HTTP API, acting
// as the operator: whoever can run it can already read the database. Exit codes: 0 done,
// 1 refused by a business rule, 2 usage error (bad flags, bad values) or a command that cannot
// start (port in use, database or PIN key unusable: startup-failure.ts).

import { Command, CommanderError, Option } from 'commander';
import {
  accountFlagNames,
  accountKinds,
  accountStatuses,
  balanceOf,
} from '../../core/ledger/types.ts';
import { principalKinds, systemCaller } from '../../core/shared/principal.ts';
import { demoCallerNumber } from '../../demo.ts';
import { accountJson, principalJson, transferJson } from '../http/views.ts';
import { registerChargingCommands } from './charging-commands.ts';
import {
  amount,
  type CliIo,
  clock,
  currency,
  type DbFlags,
  databaseOf,
  dbOptions,
  exitCodes,
  print,
  Refused,
  UsageError,
  withServices,
} from './cli-support.ts';
import { registerRatingCommands } from './rating-commands.ts';
import { startupFailureMessage } from './startup-failure.ts';
import { registerSubscriberCommands } from './subscriber-commands.ts';
import { registerVoucherCommands } from './voucher-commands.ts';

export { type CliIo, exitCodes } from './cli-support.ts';

export function buildProgram(io: CliIo): Command {
  const program = new Command('tollgate')
    .description('Tollgate prepaid platform: ledger, vouchers, rating and charging')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  dbOptions(
    program
      .command('serve')
      .description('Run the HTTP API server')
      .option('--host <host>', 'address to listen on', io.env.host)
      .option('--port <port>', 'port to listen on', String(io.env.port))
      .option('--demo', 'seed demo data on an empty database and print the demo admin key'),
  ).action(async (flags: DbFlags & { host: string; port: string; demo?: boolean }) => {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError('--port must be 0-65535');
    // The server, its HTTP stack and logger are imported here, not at the top, so other
    // commands and `--help` never load them.
    const [{ startServer }, { default: pino }] = await Promise.all([
      import('../../server.ts'),
      import('pino'),
    ]);
    const logger = pino({
      level: io.env.logLevel,
      redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
    });
    const server = await startServer({
      host: flags.host,
      port,
      ...databaseOf(flags, io),
      adminKey: io.env.adminKey,
      pinKey: io.env.pinKey,
      pinKeyFile: io.env.pinKeyFile,
      delivery: io.env.delivery,
      chargingSettings: io.env.charging,
      webhookSecret: io.env.webhookSecret,
      kamailioEvapi: io.env.kamailioEvapi,
      radius: io.env.radius ?? undefined,
      diameter: io.env.diameter ?? undefined,
      demo: flags.demo ?? false,
      logger,
      clock,
    });
    const lines = [
      '',
      `Tollgate is listening on ${server.url}`,
      `  database   ${server.services.store.description}`,
      `  API docs   ${server.url}/docs   (OpenAPI: ${server.url}/openapi.json)`,
      `  health     ${server.url}/health   metrics: ${server.url}/metrics`,
    ];
    if (server.demoAdminKey) {
      lines.push(`  demo admin key: ${server.demoAdminKey}`);
      lines.push(
        `  try: curl -H "Authorization: Bearer ${server.demoAdminKey}" ${server.url}/v1/accounts`,
      );
      lines.push(
        `  a call: curl -H "Authorization: Bearer ${server.demoAdminKey}" -H 'content-type: application/json' ` +
          `-d '{"subscriber":{"ani":"${demoCallerNumber}"},"destination":"+12125550100"}' ` +
          `${server.url}/v1/charging/authorize`,
      );
    } else if (server.newAdminKey) {
      lines.push(`  admin API key (shown once, store it now): ${server.newAdminKey}`);
    }
    io.stdout(`${lines.join('\n')}\n\n`);
    await (io.waitForStop ?? waitForSignal)();
    await server.stop();
  });

  dbOptions(program.command('migrate').description('Bring the database schema up to date')).action(
    async (flags: DbFlags) => {
      await withServices(flags, io, async (services) => {
        io.stdout(`schema is up to date (${services.store.description})\n`);
      });
    },
  );

  const account = program.command('account').description('Ledger accounts');
  dbOptions(
    account
      .command('create')
      .description('Open an account')
      .requiredOption('--name <name>', 'what the account is for')
      .requiredOption('--currency <code>', 'ISO 4217 currency, e.g. USD')
      .addOption(
        new Option('--kind <kind>', 'accounting kind').choices(accountKinds).makeOptionMandatory(),
      )
      .option('--owner <principal>', 'owner principal id', 'system')
      .addOption(new Option('--flag <flag...>', 'balance guard flags').choices(accountFlagNames))
      .option('--credit-limit <minor>', 'overdraft allowed on a guarded account, minor units', '0')
      .option('--json', 'print JSON'),
  ).action(
    async (
      flags: DbFlags & {
        name: string;
        currency: string;
        kind: (typeof accountKinds)[number];
        owner: string;
        flag?: (typeof accountFlagNames)[number][];
        creditLimit: string;
        json?: boolean;
      },
    ) => {
      const input = {
        ownerId: flags.owner,
        name: flags.name,
        currency: currency(flags.currency),
        kind: flags.kind,
        flags: flags.flag ?? [],
        creditLimitMinor: amount(flags.creditLimit),
      };
      await withServices(flags, io, async ({ ledger }) => {
        const result = await ledger.createAccount(systemCaller, input);
        if (!result.ok) throw new Refused(result.code, result.message);
        print(
          io,
          flags.json ?? false,
          accountJson(result.value),
          `created ${result.value.account.id}`,
        );
      });
    },
  );
  dbOptions(
    account
      .command('show')
      .description('Show an account and its balance')
      .argument('<id>')
      .option('--json', 'print JSON'),
  ).action(async (id: string, flags: DbFlags & { json?: boolean }) => {
    await withServices(flags, io, async ({ ledger }) => {
      const result = await ledger.getAccount(systemCaller, id);
      if (!result.ok) throw new Refused(result.code, result.message);
      const view = accountJson(result.value);
      const b = view.balance;
      print(
        io,
        flags.json ?? false,
        view,
        `${view.id}  ${view.name}  ${view.kind} ${view.currency}  status ${view.status}\n` +
          `  posted ${b.posted}  held ${b.held}  available ${b.available}  (minor units)`,
      );
    });
  });
  dbOptions(
    account
      .command('list')
      .description('List accounts')
      .option('--owner <principal>', 'only this owner')
      .option('--limit <n>', 'at most this many', '50')
      .option('--json', 'print JSON'),
  ).action(async (flags: DbFlags & { owner?: string; limit: string; json?: boolean }) => {
    const limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError('--limit must be a positive integer');
    await withServices(flags, io, async ({ ledger }) => {
      const page = await ledger.listAccounts(systemCaller, { ownerId: flags.owner, limit });
      const rows = page.items.map(({ account: a }) => {
        const b = balanceOf(a);
        return `${a.id}  ${a.currency}  ${b.availableMinor.toString().padStart(12)}  ${a.status.padEnd(6)}  ${a.name}`;
      });
      print(
        io,
        flags.json ?? false,
        page.items.map(accountJson),
        rows.join('\n') || '(no accounts)',
      );
    });
  });
  dbOptions(
    account
      .command('status')
      .description('Freeze, unfreeze (open) or close an account')
      .argument('<id>')
      .addOption(
        new Option('--to <status>', 'new status').choices(accountStatuses).makeOptionMandatory(),
      ),
  ).action(async (id: string, flags: DbFlags & { to: (typeof accountStatuses)[number] }) => {
    await withServices(flags, io, async ({ ledger }) => {
      const result = await ledger.setAccountStatus(systemCaller, id, flags.to);
      if (!result.ok) throw new Refused(result.code, result.message);
      io.stdout(`${id} is ${result.value.account.status}\n`);
    });
  });

  const transfer = program.command('transfer').description('Ledger transfers');
  dbOptions(
    transfer
      .command('create')
      .description('Move money from one account to another')
      .requiredOption('--from <account>', 'debit account id')
      .requiredOption('--to <account>', 'credit account id')
      .requiredOption('--amount <minor>', 'amount in minor units (1250 = 12.50 USD)')
      .requiredOption('--currency <code>', 'ISO 4217 currency')
      .requiredOption(
        '--key <idempotency-key>',
        'idempotency key: a retry with the same key moves money once',
      )
      .option('--code <code>', 'classification, e.g. deposit')
      .option('--memo <text>', 'free text')
      .option('--json', 'print JSON'),
  ).action(
    async (
      flags: DbFlags & {
        from: string;
        to: string;
        amount: string;
        currency: string;
        key: string;
        code?: string;
        memo?: string;
        json?: boolean;
      },
    ) => {
      const request = {
        kind: 'transfer' as const,
        idempotencyKey: flags.key,
        debitAccountId: flags.from,
        creditAccountId: flags.to,
        amountMinor: amount(flags.amount),
        currency: currency(flags.currency),
        code: flags.code,
        memo: flags.memo,
      };
      await withServices(flags, io, async ({ ledger }) => {
        const outcome = await ledger.transfer(systemCaller, request);
        if (!outcome.ok) throw new Refused(outcome.code, outcome.message);
        const t = outcome.transfer;
        print(
          io,
          flags.json ?? false,
          transferJson(t),
          `${outcome.replayed ? 'already done' : 'done'}: ${t.id} ${t.amountMinor} ${t.currency} ${t.debitAccountId} -> ${t.creditAccountId}`,
        );
      });
    },
  );

  const principal = program
    .command('principal')
    .description('Operators, distributors, retailers, terminals, switches, providers');
  dbOptions(
    principal
      .command('create')
      .description('Create a principal')
      .addOption(new Option('--kind <kind>', 'kind').choices(principalKinds).makeOptionMandatory())
      .requiredOption('--name <name>', 'display name')
      .option(
        '--parent <principal>',
        'parent (distributor above a retailer, retailer above a terminal)',
      )
      .option('--json', 'print JSON'),
  ).action(
    async (
      flags: DbFlags & {
        kind: (typeof principalKinds)[number];
        name: string;
        parent?: string;
        json?: boolean;
      },
    ) => {
      await withServices(flags, io, async ({ principals }) => {
        const result = await principals.create(systemCaller, {
          kind: flags.kind,
          name: flags.name,
          parentId: flags.parent,
        });
        if (!result.ok) throw new Refused(result.code, result.message);
        print(io, flags.json ?? false, principalJson(result.value), `created ${result.value.id}`);
      });
    },
  );
  dbOptions(
    principal
      .command('key')
      .description('Issue an API key for a principal (printed once)')
      .argument('<principal>'),
  ).action(async (principalId: string, flags: DbFlags) => {
    await withServices(flags, io, async ({ principals }) => {
      const result = await principals.issueKey(systemCaller, { principalId });
      if (!result.ok) throw new Refused(result.code, result.message);
      io.stdout(`${result.value.secret}\n`);
    });
  });
  registerRatingCommands(program, io);
  registerVoucherCommands(program, io);
  registerChargingCommands(program, io);
  registerSubscriberCommands(program, io);
  return program;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/** Runs the command line and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\n`);
      return exitCodes.usage;
    }
    if (error instanceof Refused) {
      io.stderr(`refused: ${error.code}: ${error.message}\n`);
      return exitCodes.refused;
    }
    const failure = startupFailureMessage(error);
    if (failure !== undefined) {
      io.stderr(`error: ${failure}\n`);
      return exitCodes.cannotStart;
    }
    throw error;
  }
}
