// Runs a suite against every store: SQLite always, PostgreSQL when DATABASE_URL is set (each
// store in a fresh schema, dropped afterwards, so runs never collide).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe } from 'vitest';
import { type Clock, ManualClock } from '../../src/core/shared/clock.ts';
import { systemCaller } from '../../src/core/shared/principal.ts';
import { createServices, type Services } from '../../src/services.ts';
import { openStore } from '../../src/store/store.ts';

export const databaseUrl = process.env.DATABASE_URL;

/** One PIN key per test run, shared by every store the run opens (and reopens). */
export const testPinKey = randomBytes(32);

export type StoreKind = 'sqlite' | 'postgres';

export interface TestEnv extends Services {
  readonly clock: ManualClock;
  readonly kind: StoreKind;
  close(): Promise<void>;
}

export interface OpenOptions {
  clock?: Clock;
  /** Reopen an existing database (a restart) instead of making a new one. */
  reuse?: { sqlitePath?: string; postgresSchema?: string };
}

export interface Opened extends TestEnv {
  readonly sqlitePath?: string;
  readonly postgresSchema?: string;
  /** Closes the store but keeps its data, for restart tests. */
  closeKeep(): Promise<void>;
}

export async function openTestEnv(kind: StoreKind, options: OpenOptions = {}): Promise<Opened> {
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock();
  if (kind === 'sqlite') {
    const dir = options.reuse?.sqlitePath ? undefined : mkdtempSync(join(tmpdir(), 'tollgate-'));
    const sqlitePath = options.reuse?.sqlitePath ?? join(dir!, 'test.db');
    const store = await openStore({ sqlitePath, clock });
    const services = await createServices(store, clock, { pinKey: testPinKey });
    return {
      ...services,
      clock,
      kind,
      sqlitePath,
      closeKeep: () => store.close(),
      async close() {
        await store.close();
        rmSync(dirnameOf(sqlitePath), { recursive: true, force: true });
      },
    };
  }
  if (!databaseUrl) throw new Error('DATABASE_URL is not set');
  const postgresSchema = options.reuse?.postgresSchema ?? `t_${randomBytes(6).toString('hex')}`;
  // Small pools: the suite opens many stores at once and PostgreSQL allows 100 connections.
  const store = await openStore({ databaseUrl, postgresSchema, clock, postgresPoolSize: 3 });
  const services = await createServices(store, clock, { pinKey: testPinKey });
  return {
    ...services,
    clock,
    kind,
    postgresSchema,
    closeKeep: () => store.close(),
    async close() {
      await store.close();
      await dropSchema(postgresSchema);
    },
  };
}

/** What `openTestEnv` needs to reopen the database of `opened`: a restart. */
export function reuseOf(opened: Opened): NonNullable<OpenOptions['reuse']> {
  return {
    ...(opened.sqlitePath ? { sqlitePath: opened.sqlitePath } : {}),
    ...(opened.postgresSchema ? { postgresSchema: opened.postgresSchema } : {}),
  };
}

function dirnameOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

/**
 * Declares `suite` once per store. The PostgreSQL copy is skipped, and says so, when
 * DATABASE_URL is not set.
 */
export function describeEachStore(title: string, suite: (kind: StoreKind) => void): void {
  describe(`${title} [sqlite]`, () => suite('sqlite'));
  describe.skipIf(!databaseUrl)(`${title} [postgres]`, () => suite('postgres'));
}

export const operator = systemCaller;
