import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestEnv } from '../../../test/support/stores.ts';
import { systemCaller } from '../../core/shared/principal.ts';
import type { Services } from '../../services.ts';
import { connectSqlite } from './sqlite-connection.ts';
import { RowCache, WriterCache } from './writer-cache.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('RowCache', () => {
  it('keeps what a committed transaction staged and forgets what a rolled-back one staged', () => {
    const cache = new RowCache<number>();
    cache.stage('a', 1);
    expect(cache.get('a')).toBe(1);
    cache.commit();
    cache.stage('a', 2);
    cache.stage('b', 3);
    expect(cache.get('a')).toBe(2);
    cache.rollback();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('b')).toBeUndefined();
  });
});

describe('WriterCache', () => {
  it('drops every cached row when another connection has committed, and only then', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-cache-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const writer = connectSqlite(join(dir, 'cache.db'));
    const other = connectSqlite(join(dir, 'cache.db'));
    cleanups.push(() => {
      writer.close();
      other.close();
    });
    writer.exec('create table t (x integer)');
    const cache = new WriterCache(writer);
    const rows = cache.rows<string>();
    const transaction = (work: () => void) => {
      writer.exec('BEGIN IMMEDIATE');
      cache.began();
      work();
      writer.exec('COMMIT');
      cache.committed();
    };
    transaction(() => rows.stage('k', 'v'));
    transaction(() => writer.exec('insert into t values (1)'));
    expect(rows.get('k')).toBe('v'); // our own commit leaves the cache alone
    other.exec('insert into t values (2)');
    transaction(() => {
      expect(rows.get('k')).toBeUndefined();
    });
  });
});

async function openAccount(services: Services, name: string) {
  const created = await services.ledger.createAccount(systemCaller, {
    ownerId: 'system',
    name,
    currency: 'USD',
    kind: 'liability',
    flags: ['debits_must_not_exceed_credits'],
    creditLimitMinor: 0n,
  });
  if (!created.ok) throw new Error(created.code);
  return created.value.account.id;
}

describe('the SQLite writer with a second process on the same file', () => {
  it('sees the balance the other process left, not the one it cached', async () => {
    const first = await openTestEnv('sqlite');
    cleanups.push(() => first.close());
    const cash = await first.ledger.createAccount(systemCaller, {
      ownerId: 'system',
      name: 'cash',
      currency: 'USD',
      kind: 'asset',
      flags: [],
      creditLimitMinor: 0n,
    });
    if (!cash.ok) throw new Error(cash.code);
    const wallet = await openAccount(first, 'wallet');
    const shop = await openAccount(first, 'shop');
    const move = (services: Services, key: string, from: string, to: string, amount: bigint) =>
      services.ledger.transfer(systemCaller, {
        kind: 'transfer',
        idempotencyKey: key,
        debitAccountId: from,
        creditAccountId: to,
        amountMinor: amount,
        currency: 'USD',
      });
    expect((await move(first, 'fund', cash.value.account.id, wallet, 100n)).ok).toBe(true);
    expect((await move(first, 'spend-1', wallet, shop, 10n)).ok).toBe(true);

    // A second writer on the same file, as the CLI is beside a running server.
    const second = await openTestEnv('sqlite', { reuse: { sqlitePath: first.sqlitePath! } });
    cleanups.push(() => second.closeKeep());
    expect((await move(second, 'spend-2', wallet, shop, 50n)).ok).toBe(true);

    // 40 is left: the first writer must refuse 50, which a stale cached balance of 90 allows.
    const third = await move(first, 'spend-3', wallet, shop, 50n);
    expect(third.ok ? 'ok' : third.code).toBe('exceeds_available');
    expect((await move(first, 'spend-4', wallet, shop, 40n)).ok).toBe(true);
    const account = await first.ledger.getAccount(systemCaller, wallet);
    expect(account.ok && account.value.account.debitsPostedMinor).toBe(100n);
  });
});
