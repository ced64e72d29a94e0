// `tollgate cdr ...` and `tollgate charging ...`: call records as JSON or CSV, live sessions, a
// subscriber's report, and one supervision pass for operators who run it from cron.

import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { systemCaller } from '../../core/shared/principal.ts';
import {
  type CliIo,
  type DbFlags,
  dbOptions,
  instant,
  print,
  UsageError,
  withServices,
} from './cli-support.ts';

/** The HTTP views of CDRs and sessions; their module brings the HTTP schemas with it. */
const views = () => import('../http/routes/charging.ts');

function limitOf(text: string | undefined): number {
  if (text === undefined) return 100;
  if (!/^[1-9][0-9]{0,5}$/.test(text)) throw new UsageError('--limit must be 1-999999');
  return Number(text);
}

export function registerChargingCommands(program: Command, io: CliIo): void {
  const cdr = program.command('cdr').description('Call detail records');
  dbOptions(
    cdr
      .command('list')
      .description('List CDRs, oldest first (by end time: --from inclusive, --to exclusive)')
      .option('--account <id>', 'only calls charged to this account')
      .option('--from <date>', 'ISO date or date-time')
      .option('--to <date>', 'ISO date or date-time')
      .option('--limit <n>', 'at most this many (default 100)')
      .option('--format <format>', 'table, json or csv', 'table'),
  ).action(
    async (
      flags: DbFlags & {
        account?: string;
        from?: string;
        to?: string;
        limit?: string;
        format: string;
      },
    ) => {
      if (!['table', 'json', 'csv'].includes(flags.format)) {
        throw new UsageError('--format must be table, json or csv');
      }
      const fromMs = instant(flags.from, '--from');
      const toMs = instant(flags.to, '--to');
      await withServices(flags, io, async ({ charging }) => {
        const cdrs = await charging.listCdrs(systemCaller, {
          ...(flags.account ? { accountId: flags.account } : {}),
          ...(fromMs === undefined ? {} : { fromMs }),
          ...(toMs === undefined ? {} : { toMs }),
          limit: limitOf(flags.limit),
        });
        const { cdrCsvRow, cdrJson } = await views();
        if (flags.format === 'csv') {
          io.stdout(stringify(cdrs.map(cdrCsvRow), { header: true }));
          return;
        }
        const rows = cdrs.map(
          (c) =>
            `${c.id}  ${new Date(c.endMs).toISOString()}  ${c.subscriber}  ${c.calledNumber}  ` +
            `${c.billedSeconds}s  ${c.costMinor} ${c.currency}  ${c.reason}`,
        );
        print(io, flags.format === 'json', cdrs.map(cdrJson), rows.join('\n') || '(no CDRs)');
      });
    },
  );

  const charging = program.command('charging').description('Charging sessions of live calls');
  dbOptions(
    charging
      .command('sessions')
      .description('List charging sessions')
      .option('--status <status>', 'active or terminated')
      .option('--limit <n>', 'at most this many (default 100)')
      .option('--json', 'print JSON'),
  ).action(async (flags: DbFlags & { status?: string; limit?: string; json?: boolean }) => {
    if (flags.status !== undefined && flags.status !== 'active' && flags.status !== 'terminated') {
      throw new UsageError('--status must be active or terminated');
    }
    const status = flags.status as 'active' | 'terminated' | undefined;
    await withServices(flags, io, async (services) => {
      const sessions = await services.charging.listSessions(systemCaller, {
        ...(status ? { status } : {}),
        limit: limitOf(flags.limit),
      });
      const rows = sessions.map(
        (s) =>
          `${s.sessionId}  ${s.status}  ${s.subscriber}  ${s.calledNumber}  ` +
          `${s.usedSeconds}s  ${s.chargedMinor} ${s.currency}  deadline ${new Date(s.deadlineMs).toISOString()}`,
      );
      const { sessionJson } = await views();
      print(io, flags.json ?? false, sessions.map(sessionJson), rows.join('\n') || '(no sessions)');
    });
  });

  dbOptions(
    charging
      .command('supervise')
      .description('End every session whose grant ran out, as the server does each second'),
  ).action(async (flags: DbFlags) => {
    await withServices(flags, io, async (services) => {
      const ended = await services.charging.superviseDue();
      io.stdout(`${ended} session(s) ended by supervision\n`);
    });
  });
}
