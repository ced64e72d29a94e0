// `tollgate carrier|tariff|rating|rate ...`: carriers, tariff imports with a progress bar and
// line-numbered errors, routing plans per currency (`rating plan set`), named rating plans and
// their assignments (`rating plan create|list|show|assign|unassign`), and quotes.

import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import { isRoundingMode } from '../../core/money/rounding.ts';
import { type A2BillingColumn, a2billingColumns } from '../../core/rating/a2billing-import.ts';
import { formatImportIssues } from '../../core/rating/import-issues.ts';
import type { AssignmentSubjectType, PlanRouting } from '../../core/rating/rating-plans.ts';
import { type TariffFormat, tariffFormats } from '../../core/rating/rating-service.ts';
import type { RoutingPlanRecord } from '../../core/rating/rating-store.ts';
import { systemCaller } from '../../core/shared/principal.ts';
import {
  amount,
  type CliIo,
  currency,
  type DbFlags,
  dbOptions,
  instant,
  print,
  Refused,
  UsageError,
  withServices,
} from './cli-support.ts';

/** The files of a CGRateS tariff plan directory, by the names CGRateS gives them. */
const cgratesFileNames = {
  destinations: 'Destinations.csv',
  rates: 'Rates.csv',
  destinationRates: 'DestinationRates.csv',
  timings: 'Timings.csv',
  ratingPlans: 'RatingPlans.csv',
} as const;

function readTariffFiles(format: TariffFormat, path: string): Record<string, string> {
  if (!existsSync(path)) throw new UsageError(`no such file or directory: ${path}`);
  if (format === 'cgrates') {
    if (!statSync(path).isDirectory())
      throw new UsageError('--format cgrates takes a tariff plan directory as --file');
    const files: Record<string, string> = {};
    for (const [key, name] of Object.entries(cgratesFileNames)) {
      const file = join(path, name);
      files[key] = existsSync(file) ? readFileSync(file, 'utf8') : '';
    }
    return files;
  }
  return { [format === 'tollgate' ? 'tariff' : 'ratecard']: readFileSync(path, 'utf8') };
}

interface RoutingFlags {
  defaultCarrier?: string;
  leastCost?: string;
  accessCodeOnly?: boolean;
  barred?: string;
}

/** The carrier selection and barred prefixes that `plan set` and `plan create` take. */
function routingOf(flags: RoutingFlags): PlanRouting {
  const chosen = [flags.defaultCarrier, flags.leastCost, flags.accessCodeOnly].filter(
    (x) => x !== undefined,
  );
  if (chosen.length !== 1)
    throw new UsageError('give exactly one of --default-carrier, --least-cost, --access-code-only');
  const selection: RoutingPlanRecord['selection'] = flags.defaultCarrier
    ? { kind: 'default', carrierId: flags.defaultCarrier }
    : flags.leastCost
      ? { kind: 'least_cost', carrierIds: flags.leastCost.split(',').map((c) => c.trim()) }
      : { kind: 'access_code_only' };
  const barredPrefixes = flags.barred ? flags.barred.split(',').map((p) => p.trim()) : [];
  if (barredPrefixes.some((p) => !/^[0-9]{1,20}$/.test(p)))
    throw new UsageError('--barred takes digit prefixes');
  return { selection, barredPrefixes };
}

function routingOptions(command: Command): Command {
  return command
    .option('--default-carrier <id>', 'route every number to this carrier')
    .option('--least-cost <ids>', 'comma-separated carriers: the cheapest for the number wins')
    .option('--access-code-only', 'route only numbers dialled with a carrier access code')
    .option('--barred <prefixes>', 'comma-separated prefixes to refuse');
}

interface SubjectFlags {
  product?: string;
  account?: string;
  principal?: string;
}

function subjectOf(
  flags: SubjectFlags,
): { productId: string } | { accountId: string } | { principalId: string } {
  const given = [flags.product, flags.account, flags.principal].filter((x) => x !== undefined);
  if (given.length !== 1)
    throw new UsageError('give exactly one of --product, --account, --principal');
  if (flags.product !== undefined) return { productId: flags.product };
  if (flags.account !== undefined) return { accountId: flags.account };
  return { principalId: flags.principal! };
}

function subjectOptions(command: Command): Command {
  return command
    .option('--product <id>', 'every PIN of this product')
    .option('--account <id>', 'a subscriber account (acc_ani_… or acc_card_…)')
    .option('--principal <id>', 'the cards this retailer or distributor sells');
}

function describeRouting(currency: string, routing: PlanRouting): string {
  const s = routing.selection;
  const how =
    s.kind === 'default'
      ? `default ${s.carrierId}`
      : s.kind === 'least_cost'
        ? `least cost of ${s.carrierIds.join(', ')}`
        : 'access codes only';
  const barred = routing.barredPrefixes.length
    ? `, barred ${routing.barredPrefixes.join(', ')}`
    : '';
  return `${currency}: ${how}${barred}`;
}

/** `tollgate rating plan create|list|show|assign|unassign`: named rating plans. */
function registerRatingPlanCommands(plan: Command, io: CliIo): void {
  dbOptions(
    routingOptions(
      plan
        .command('create')
        .description('Create a named rating plan with its rules for one currency')
        .requiredOption('--id <id>', 'short id, e.g. premium')
        .requiredOption('--name <name>', 'display name')
        .requiredOption('--currency <code>', 'ISO 4217 currency the rules are for'),
    ),
  ).action(
    async (flags: DbFlags & RoutingFlags & { id: string; name: string; currency: string }) => {
      const routing = routingOf(flags);
      await withServices(flags, io, async ({ rating }) => {
        const result = await rating.createRatingPlan(systemCaller, {
          id: flags.id,
          name: flags.name,
          routing: { [currency(flags.currency)]: routing },
        });
        if (!result.ok) throw new Refused(result.code, result.message);
        io.stdout(
          `created rating plan ${result.value.id}: ${describeRouting(flags.currency, routing)}\n`,
        );
      });
    },
  );
  dbOptions(
    plan.command('list').description('List rating plans').option('--json', 'print JSON'),
  ).action(async (flags: DbFlags & { json?: boolean }) => {
    await withServices(flags, io, async ({ rating }) => {
      const plans = await rating.listRatingPlans();
      const rows = plans.map(
        (p) =>
          `${p.id.padEnd(16)} ${p.name}  (${Object.entries(p.routing)
            .map(([code, routing]) => describeRouting(code, routing!))
            .join('; ')})`,
      );
      print(io, flags.json ?? false, plans, rows.join('\n') || '(no rating plans)');
    });
  });
  dbOptions(
    plan
      .command('show')
      .description('A rating plan, its rules and what it is assigned to')
      .argument('<id>')
      .option('--json', 'print JSON'),
  ).action(async (id: string, flags: DbFlags & { json?: boolean }) => {
    await withServices(flags, io, async ({ rating }) => {
      const found = await rating.getRatingPlan(id);
      if (!found.ok) throw new Refused(found.code, found.message);
      const assignments = await rating.listAssignments({ ratingPlanId: id });
      const lines = [
        `${found.value.id}: ${found.value.name}`,
        ...Object.entries(found.value.routing).map(([code, r]) => `  ${describeRouting(code, r!)}`),
        ...(assignments.length
          ? assignments.map((a) => `  assigned to ${a.subjectType} ${a.subjectId}`)
          : ['  assigned to nothing']),
      ];
      print(io, flags.json ?? false, { ...found.value, assignments }, lines.join('\n'));
    });
  });
  dbOptions(
    subjectOptions(
      plan
        .command('assign')
        .description('Assign a rating plan to a product, a subscriber account, or a seller')
        .argument('<id>', 'the rating plan'),
    ),
  ).action(async (id: string, flags: DbFlags & SubjectFlags) => {
    const subject = subjectOf(flags);
    await withServices(flags, io, async ({ rating }) => {
      const result = await rating.assignRatingPlan(systemCaller, { ratingPlanId: id, subject });
      if (!result.ok) throw new Refused(result.code, result.message);
      io.stdout(`assigned ${id} to ${result.value.subjectType} ${result.value.subjectId}\n`);
    });
  });
  dbOptions(
    subjectOptions(
      plan
        .command('unassign')
        .description('Remove the rating plan of a product, a subscriber account, or a seller'),
    ),
  ).action(async (flags: DbFlags & SubjectFlags) => {
    const subject = subjectOf(flags);
    await withServices(flags, io, async ({ rating }) => {
      // A principal's assignment is filed under its kind: look it up by id.
      const [subjectType, subjectId]: [AssignmentSubjectType, string] =
        'productId' in subject
          ? ['product', subject.productId]
          : 'accountId' in subject
            ? ['subscriber', subject.accountId]
            : [
                (await rating.listAssignments({ subjectType: 'distributor' })).some(
                  (a) => a.subjectId === subject.principalId,
                )
                  ? 'distributor'
                  : 'retailer',
                subject.principalId,
              ];
      const result = await rating.unassignRatingPlan(systemCaller, { subjectType, subjectId });
      if (!result.ok) throw new Refused(result.code, result.message);
      io.stdout(`unassigned ${result.value.ratingPlanId} from ${subjectType} ${subjectId}\n`);
    });
  });
}

export function registerRatingCommands(program: Command, io: CliIo): void {
  const carrier = program.command('carrier').description('Carriers (communication companies)');
  dbOptions(
    carrier
      .command('create')
      .description('Add a carrier')
      .requiredOption('--id <id>', 'short id, e.g. acme')
      .requiredOption('--name <name>', 'display name')
      .option('--access-code <digits>', 'carrier access code dialled before a number, e.g. 00700'),
  ).action(async (flags: DbFlags & { id: string; name: string; accessCode?: string }) => {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(flags.id))
      throw new UsageError('--id must be lower-case letters, digits, _ or -');
    if (flags.accessCode !== undefined && !/^[0-9]{1,8}$/.test(flags.accessCode))
      throw new UsageError('--access-code must be 1-8 digits');
    await withServices(flags, io, async ({ rating }) => {
      const result = await rating.createCarrier(systemCaller, {
        id: flags.id,
        name: flags.name,
        accessCode: flags.accessCode,
      });
      if (!result.ok) throw new Refused(result.code, result.message);
      io.stdout(`created carrier ${result.value.id}\n`);
    });
  });
  dbOptions(
    carrier.command('list').description('List carriers').option('--json', 'print JSON'),
  ).action(async (flags: DbFlags & { json?: boolean }) => {
    await withServices(flags, io, async ({ rating }) => {
      const carriers = await rating.listCarriers();
      const rows = carriers.map(
        (c) => `${c.id.padEnd(16)} ${(c.accessCode ?? '-').padEnd(9)} ${c.name}`,
      );
      print(io, flags.json ?? false, carriers, rows.join('\n') || '(no carriers)');
    });
  });

  const tariff = program.command('tariff').description('Tariff versions');
  dbOptions(
    tariff
      .command('import')
      .description('Import a tariff version, checking every line first')
      .requiredOption('--carrier <id>', 'carrier the tariff belongs to')
      .requiredOption('--file <path>', 'the CSV file (a directory of CSVs for cgrates)')
      .addOption(
        new Option('--format <format>', 'file format').choices(tariffFormats).default('tollgate'),
      )
      .option('--dry-run', 'check and count, store nothing')
      .option('--currency <code>', 'currency (required for cgrates and a2billing)')
      .option('--effective-from <time>', 'ISO 8601 start (default: the file header, or now)')
      .option('--effective-to <time>', 'ISO 8601 end')
      .option('--time-zone <zone>', 'IANA time zone for periods, e.g. Europe/Paris')
      .option('--rounding <mode>', 'half_up, half_even, up or down')
      .option('--rating-plan <id>', 'cgrates: which RatingPlans.csv plan to import')
      .option(
        '--columns <list>',
        `a2billing: columns after the first three, comma-separated (${a2billingColumns.slice(0, 4).join(', ')}, ...)`,
      ),
  ).action(
    async (
      flags: DbFlags & {
        carrier: string;
        file: string;
        format: TariffFormat;
        dryRun?: boolean;
        currency?: string;
        effectiveFrom?: string;
        effectiveTo?: string;
        timeZone?: string;
        rounding?: string;
        ratingPlan?: string;
        columns?: string;
      },
    ) => {
      if (flags.rounding !== undefined && !isRoundingMode(flags.rounding))
        throw new UsageError('--rounding must be half_up, half_even, up or down');
      const columns = flags.columns?.split(',').map((c) => c.trim());
      if (columns?.some((c) => !(a2billingColumns as readonly string[]).includes(c))) {
        throw new UsageError(`--columns takes: ${a2billingColumns.join(', ')}`);
      }
      const files = readTariffFiles(flags.format, flags.file);
      const bar = process.stderr.isTTY
        ? new SingleBar({ format: ' {stage} [{bar}] {value}/{total}', hideCursor: true })
        : null;
      let started = false;
      await withServices(flags, io, async ({ rating }) => {
        const outcome = await rating.importTariff(systemCaller, {
          carrierId: flags.carrier,
          format: flags.format,
          files,
          currency: flags.currency === undefined ? undefined : currency(flags.currency),
          effectiveFromMs: instant(flags.effectiveFrom, '--effective-from'),
          effectiveToMs: instant(flags.effectiveTo, '--effective-to'),
          timeZone: flags.timeZone,
          roundingMode:
            flags.rounding !== undefined && isRoundingMode(flags.rounding)
              ? flags.rounding
              : undefined,
          ratingPlanId: flags.ratingPlan,
          a2billingColumns: columns as A2BillingColumn[] | undefined,
          dryRun: flags.dryRun,
          onProgress: (stage, done, total) => {
            if (!bar || stage !== 'storing') return;
            if (!started) {
              bar.start(total, 0, { stage: 'storing' });
              started = true;
            }
            bar.update(done, { stage });
          },
        });
        bar?.stop();
        if (!outcome.ok) {
          if (outcome.issues.length > 0) io.stderr(`${formatImportIssues(outcome.issues)}\n`);
          throw new Refused(outcome.code, outcome.message);
        }
        const s = outcome.value;
        if (s.warnings.length > 0) io.stderr(`${formatImportIssues(s.warnings)}\n`);
        io.stdout(
          `${s.dryRun ? 'checked (dry run, nothing stored)' : `imported ${s.versionId}`}: ${s.routeCount} prefixes, ` +
            `${s.destinationCount} destinations, carrier ${s.carrierId}, ${s.version.currency}, from ${new Date(s.version.effectiveFromMs).toISOString()}\n`,
        );
      });
    },
  );
  dbOptions(
    tariff
      .command('list')
      .description('List tariff versions')
      .option('--carrier <id>', 'only this carrier')
      .option('--json', 'print JSON'),
  ).action(async (flags: DbFlags & { carrier?: string; json?: boolean }) => {
    await withServices(flags, io, async ({ rating }) => {
      const versions = await rating.listTariffs({ carrierId: flags.carrier });
      const rows = versions.map(
        (v) =>
          `${v.id}  ${v.carrierId.padEnd(12)} ${v.currency}  ${new Date(v.effectiveFromMs).toISOString()}  ${v.status.padEnd(10)} ${v.routeCount} prefixes`,
      );
      print(io, flags.json ?? false, versions, rows.join('\n') || '(no tariffs)');
    });
  });
  dbOptions(
    tariff
      .command('export')
      .description('Write a tariff version as Tollgate CSV')
      .argument('<id>')
      .option('--out <file>', 'write here instead of stdout'),
  ).action(async (id: string, flags: DbFlags & { out?: string }) => {
    await withServices(flags, io, async ({ rating }) => {
      const result = await rating.exportTariff(id);
      if (!result.ok) throw new Refused(result.code, result.message);
      if (flags.out) writeFileSync(flags.out, result.value);
      else io.stdout(result.value);
    });
  });

  const plan = program
    .command('rating')
    .description('Routing and rating plans')
    .command('plan')
    .description('How calls pick a carrier: per currency (set) and named plans');
  dbOptions(
    routingOptions(
      plan
        .command('set')
        .description('Set the routing plan of a currency (the fallback of every rating plan)')
        .requiredOption('--currency <code>', 'ISO 4217 currency of the balances charged'),
    ),
  ).action(
    async (
      flags: DbFlags & {
        currency: string;
        defaultCarrier?: string;
        leastCost?: string;
        accessCodeOnly?: boolean;
        barred?: string;
      },
    ) => {
      const { selection, barredPrefixes } = routingOf(flags);
      await withServices(flags, io, async ({ rating }) => {
        const result = await rating.saveRoutingPlan(systemCaller, {
          currency: currency(flags.currency),
          selection,
          barredPrefixes,
        });
        if (!result.ok) throw new Refused(result.code, result.message);
        io.stdout(`routing plan for ${flags.currency}: ${selection.kind}\n`);
      });
    },
  );

  registerRatingPlanCommands(plan, io);

  const rate = program.command('rate').description('Rating');
  dbOptions(
    rate
      .command('quote')
      .description(
        'Rate a number: carrier, destination, and the cost of a duration or the allowance of a balance',
      )
      .requiredOption('--number <digits>', 'dialled number, with an access code if any')
      .option('--duration-seconds <s>', 'call length to price')
      .option('--balance <minor>', 'balance to turn into seconds, minor units')
      .option('--at <time>', 'ISO 8601 call start (default now)')
      .option('--currency <code>', 'currency of the balance (default: the only routing plan)')
      .option('--json', 'print JSON'),
  ).action(
    async (
      flags: DbFlags & {
        number: string;
        durationSeconds?: string;
        balance?: string;
        at?: string;
        currency?: string;
        json?: boolean;
      },
    ) => {
      const duration =
        flags.durationSeconds === undefined ? undefined : Number(flags.durationSeconds);
      if (
        duration !== undefined &&
        (!Number.isInteger(duration) || duration < 0 || duration > 86_400)
      ) {
        throw new UsageError('--duration-seconds must be 0-86400');
      }
      if (duration === undefined && flags.balance === undefined)
        throw new UsageError('give --duration-seconds or --balance (or both)');
      const balance = flags.balance === undefined ? undefined : amount(flags.balance);
      const atMs = instant(flags.at, '--at') ?? Date.now();
      await withServices(flags, io, async ({ rating }) => {
        let code = flags.currency;
        if (code === undefined) {
          const plans = await rating.listRoutingPlans();
          if (plans.length !== 1)
            throw new UsageError('--currency is needed: there is not exactly one routing plan');
          code = plans[0]!.currency;
        }
        const result = rating.quote({
          number: flags.number,
          currency: currency(code),
          startMs: atMs,
          durationSeconds: duration,
          balanceMinor: balance,
        });
        if (!result.ok) throw new Refused(result.code, result.message);
        const { route, costMinor, allowanceSeconds } = result.value;
        const view = {
          carrier_id: route.carrierId,
          selected_by: route.selectedBy,
          number_rated: route.numberRated,
          prefix: route.prefix,
          destination: route.destinationName,
          currency: code,
          duration_seconds: duration ?? null,
          cost: costMinor?.toString() ?? null,
          allowance_seconds: allowanceSeconds,
        };
        const lines = [
          `${route.destinationName} (prefix ${route.prefix}) via ${route.carrierId}, ${route.selectedBy}`,
        ];
        if (costMinor !== null)
          lines.push(`cost of ${duration} s: ${costMinor} minor units ${code}`);
        if (allowanceSeconds !== null)
          lines.push(`allowance for ${balance} minor units: ${allowanceSeconds} s`);
        print(io, flags.json ?? false, view, lines.join('\n'));
      });
    },
  );
}
