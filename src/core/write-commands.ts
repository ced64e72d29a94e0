// Every write command Tollgate has, in one registry: the committer (in-process for PostgreSQL,
// on the writer thread for SQLite) looks handlers up here by name.

import { chargingCommands } from './charging/charging-commands.ts';
import { ledgerCommands } from './ledger/ledger-commands.ts';
import { principalCommands } from './principals/principal-commands.ts';
import { ratingCommands } from './rating/rating-commands.ts';
import type { Committer } from './shared/write-command.ts';
import { subscriberCommands } from './subscribers/subscriber-commands.ts';
import { voucherCommands } from './vouchers/voucher-commands.ts';

export const writeCommands = {
  ...ledgerCommands,
  ...principalCommands,
  ...ratingCommands,
  ...voucherCommands,
  ...chargingCommands,
  ...subscriberCommands,
};

export type WriteCommands = typeof writeCommands;
export type WriteCommitter = Committer<WriteCommands>;
