// `tollgate subscriber …`: create a caller-number subscriber, credit or debit it from an operator
// account, link and unlink caller numbers, and show or list subscribers, through the same use
// cases as /v1/subscribers. A subscriber is named by its caller number or as `card:<serial>`.

import type { Command } from 'commander';
import { Option } from 'commander';
import { systemCaller } from '../../core/shared/principal.ts';
import type { SubscriberRef } from '../../core/subscribers/subscriber-types.ts';
import {
  amount,
  type CliIo,
  currency,
  type DbFlags,
  dbOptions,
  print,
  Refused,
  UsageError,
  withServices,
} from './cli-support.ts';

/** The HTTP views of subscribers; their module brings the HTTP schemas with it. */
const views = () => import('../http/routes/subscribers.ts');

/** Reads a subscriber argument; the core is loaded only when a command runs. */
async function subscriberOf(text: string): Promise<SubscriberRef> {
  const { parseSubscriberRef } = await import('../../core/subscribers/subscriber-types.ts');
  const ref = parseSubscriberRef(text);
  if (!ref) {
    throw new UsageError(
      `not a caller number or card:<serial>: ${JSON.stringify(text)} (e.g. 15550001234, card:B1-000000001)`,
    );
  }
  return ref;
}

function limitOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,2}$/.test(text)) throw new UsageError('--limit must be 1-500');
  return Number(text);
}

type TransferFlags = DbFlags & {
  amount: string;
  currency: string;
  key: string;
  memo?: string;
  json?: boolean;
};

export function registerSubscriberCommands(program: Command, io: CliIo): void {
  const subscriber = program
    .command('subscriber')
    .description('Caller-number and calling-card subscribers: balances, top-ups, caller numbers');

  dbOptions(
    subscriber
      .command('create')
      .description('Create a caller-number subscriber (an empty balance that charging finds)')
      .argument('<ani>', 'E.164 caller number, as the switch sends it (15550001234)')
      .requiredOption('--currency <code>', 'ISO 4217 currency, e.g. USD')
      .option('--name <name>', 'what the subscriber is called (default: Caller <ani>)')
      .addOption(new Option('--status <status>', 'initial status').choices(['open', 'frozen']))
      .option('--json', 'print JSON'),
  ).action(
    async (
      ani: string,
      flags: DbFlags & {
        currency: string;
        name?: string;
        status?: 'open' | 'frozen';
        json?: boolean;
      },
    ) => {
      const input = {
        ani,
        currency: currency(flags.currency),
        name: flags.name,
        status: flags.status,
      };
      if (input.name !== undefined && (input.name.length === 0 || input.name.length > 128)) {
        throw new UsageError('--name must be 1-128 characters');
      }
      await withServices(flags, io, async ({ subscribers }) => {
        const result = await subscribers.create(systemCaller, input);
        if (!result.ok) throw new Refused(result.code, result.message);
        const { subscriberJson } = await views();
        const s = result.value;
        print(
          io,
          flags.json ?? false,
          subscriberJson(s),
          `created ${s.subscriber} (${s.account.id}, ${s.account.status})`,
        );
      });
    },
  );

  dbOptions(
    subscriber
      .command('show')
      .description('Balance, status, linked caller numbers, recent calls and top-ups')
      .argument('<subscriber>', 'caller number or card:<serial>')
      .option('--currency <code>', 'which balance, when the number has several')
      .option('--json', 'print JSON'),
  ).action(async (text: string, flags: DbFlags & { currency?: string; json?: boolean }) => {
    const ref = await subscriberOf(text);
    const inCurrency = flags.currency === undefined ? undefined : currency(flags.currency);
    await withServices(flags, io, async ({ subscribers }) => {
      const result = await subscribers.show(systemCaller, ref, inCurrency);
      if (!result.ok) throw new Refused(result.code, result.message);
      const { subscriberJson } = await views();
      const view = subscriberJson(result.value);
      const b = view.balance;
      const lines = [
        `${view.subscriber}  ${view.name}  ${view.account_id}  status ${view.status}`,
        `  posted ${b.posted}  held ${b.held}  available ${b.available} ${view.currency} (minor units)`,
        `  caller numbers: ${view.caller_numbers.map((c) => c.ani).join(', ') || '(none)'}`,
        `  active calls: ${view.active_calls}`,
        ...view.recent_calls.map(
          (c) =>
            `  call    ${c.ended_at}  ${c.destination}  ${c.billed_seconds}s  ${c.cost}  ${c.reason}`,
        ),
        ...view.recent_top_ups.map((t) =>
          `  top-up  ${t.created_at}  ${t.amount}  from ${t.from_account_id}  ${t.memo ?? ''}`.trimEnd(),
        ),
      ];
      print(io, flags.json ?? false, view, lines.join('\n'));
    });
  });

  dbOptions(
    subscriber
      .command('list')
      .description('List caller-number subscribers with their balances')
      .option('--limit <n>', 'at most this many (default 50)')
      .option('--cursor <account-id>', 'continue after this account (the last one listed)')
      .option('--json', 'print JSON'),
  ).action(async (flags: DbFlags & { limit?: string; cursor?: string; json?: boolean }) => {
    const limit = limitOf(flags.limit);
    await withServices(flags, io, async ({ subscribers }) => {
      const result = await subscribers.list(systemCaller, { cursor: flags.cursor, limit });
      if (!result.ok) throw new Refused(result.code, result.message);
      const { subscriberSummaryJson } = await views();
      const items = result.value.items.map(subscriberSummaryJson);
      const rows = items.map(
        (s) =>
          `${s.subscriber}  ${s.currency}  ${s.balance.available.padStart(12)}  ${s.status.padEnd(6)}  ${s.name}`,
      );
      if (result.value.nextCursor) rows.push(`(more: --cursor ${result.value.nextCursor})`);
      print(io, flags.json ?? false, items, rows.join('\n') || '(no subscribers)');
    });
  });

  const transferCommand = (verb: 'credit' | 'debit') => {
    const credit = verb === 'credit';
    return dbOptions(
      subscriber
        .command(verb)
        .description(
          credit
            ? 'Credit a subscriber from an operator account (a top-up, a refund)'
            : 'Debit a subscriber to an operator account; never below zero',
        )
        .argument('<subscriber>', 'caller number or card:<serial>')
        .requiredOption('--amount <minor>', 'amount in minor units (1250 = 12.50 USD)')
        .requiredOption('--currency <code>', 'ISO 4217 currency')
        .requiredOption(
          credit ? '--from <account>' : '--to <account>',
          credit ? 'operator account the money comes from' : 'operator account it goes to',
        )
        .requiredOption(
          '--key <idempotency-key>',
          'idempotency key: a retry with the same key moves money once',
        )
        .option('--memo <text>', 'free text')
        .option('--json', 'print JSON'),
    ).action(async (text: string, flags: TransferFlags & { from?: string; to?: string }) => {
      const ref = await subscriberOf(text);
      const input = {
        subscriber: ref,
        counterpartyAccountId: (credit ? flags.from : flags.to) ?? '',
        amountMinor: amount(flags.amount),
        currency: currency(flags.currency),
        idempotencyKey: flags.key,
        memo: flags.memo,
      };
      await withServices(flags, io, async ({ subscribers }) => {
        const outcome = credit
          ? await subscribers.credit(systemCaller, input)
          : await subscribers.debit(systemCaller, input);
        if (!outcome.ok) throw new Refused(outcome.code, outcome.message);
        const { transfer: t, replayed } = outcome.value;
        const { transferJson } = await import('../http/views.ts');
        print(
          io,
          flags.json ?? false,
          transferJson(t),
          `${replayed ? 'already done' : 'done'}: ${t.id} ${verb} ${t.amountMinor} ${t.currency} ` +
            `${outcome.value.subscriber.subscriber}`,
        );
      });
    });
  };
  transferCommand('credit');
  transferCommand('debit');

  dbOptions(
    subscriber
      .command('link')
      .description("Link a caller number: its calls are charged to the subscriber's account")
      .argument('<subscriber>', 'caller number or card:<serial>')
      .argument('<ani>', 'the caller number to link')
      .option('--currency <code>', 'which balance, when the subscriber number has several'),
  ).action(async (text: string, ani: string, flags: DbFlags & { currency?: string }) => {
    const ref = await subscriberOf(text);
    const inCurrency = flags.currency === undefined ? undefined : currency(flags.currency);
    await withServices(flags, io, async ({ subscribers }) => {
      const result = await subscribers.link(systemCaller, {
        subscriber: ref,
        ani,
        currency: inCurrency,
      });
      if (!result.ok) throw new Refused(result.code, result.message);
      const { link, created } = result.value;
      io.stdout(
        `${created ? 'linked' : 'already linked'}: ${link.ani} -> ${link.subscriber} (${link.accountId})\n`,
      );
    });
  });

  dbOptions(
    subscriber
      .command('unlink')
      .description('Unlink a caller number from a subscriber')
      .argument('<subscriber>', 'caller number or card:<serial>')
      .argument('<ani>', 'the linked caller number')
      .option('--currency <code>', 'which balance, when the subscriber number has several'),
  ).action(async (text: string, ani: string, flags: DbFlags & { currency?: string }) => {
    const ref = await subscriberOf(text);
    const inCurrency = flags.currency === undefined ? undefined : currency(flags.currency);
    await withServices(flags, io, async ({ subscribers }) => {
      const result = await subscribers.unlink(systemCaller, {
        subscriber: ref,
        ani,
        currency: inCurrency,
      });
      if (!result.ok) throw new Refused(result.code, result.message);
      io.stdout(`unlinked: ${result.value.ani} from ${result.value.subscriber}\n`);
    });
  });
}
