// The compiled build, as `npm install` makes it (tsconfig.build.json) and bin/tollgate.js runs it.
// The sources are compiled into a fresh folder, so the test never depends on a dist/ left over
// from before an edit; the compiled program then runs with a module hook that refuses the
// packages it must not load: tsx for any command (the build needs no TypeScript at run time),
// the server, store and document packages for `--version` and `--help`, and the delivery
// packages (PDF, barcodes, SMTP, SMPP) for a server with no delivery channel configured.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const startTimeoutMs = 30_000;

/** Packages `--version` and `--help` must not load: they are what makes a start slow. */
const heavyPackages = [
  'fastify',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  'typebox',
  'kysely',
  'better-sqlite3',
  'pg',
  'pino',
  'pdfkit',
  'bwip-js',
  'nodemailer',
  'smpp',
];

/** Packages only a configured delivery channel or a receipt needs. */
const deliveryPackages = ['pdfkit', 'bwip-js', 'nodemailer', 'smpp'];

// Registered with --import; it reaches worker threads too, which inherit the process's flags.
const hooks = `
const refused = (process.env.TOLLGATE_TEST_REFUSE ?? '').split(',').filter(Boolean);
export async function resolve(specifier, context, next) {
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
  if (refused.includes(name)) throw new Error('the compiled build loaded ' + specifier);
  return next(specifier, context);
}`;
const register = `
import { register } from 'node:module';
register('./refuse-hooks.mjs', import.meta.url);`;

describe('the compiled build', () => {
  let out: string;
  let main: string;
  let dir: string;
  let refuse: string;

  /** Runs the compiled CLI with the hook refusing `refused`; resolves with its exit and output. */
  const compiled = (args: string[], refused: string[]) =>
    spawn(process.execPath, ['--import', refuse, main, ...args], {
      env: {
        ...process.env,
        TOLLGATE_TEST_REFUSE: refused.join(','),
        DATABASE_URL: '',
        TOLLGATE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  const ended = (child: ChildProcess) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('close', (code) => resolve({ code, output }));
    });

  beforeAll(() => {
    // Inside the checkout, so the compiled files resolve the installed packages.
    const cache = join(root, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    out = mkdtempSync(join(cache, 'tollgate-build-'));
    main = join(out, 'main.js');
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out], {
      cwd: root,
      stdio: 'pipe',
    });
    writeFileSync(join(out, 'refuse-hooks.mjs'), hooks);
    refuse = join(out, 'refuse.mjs');
    writeFileSync(refuse, register);
    dir = mkdtempSync(join(out, 'data-'));
  }, 120_000);

  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('answers --version and --help without loading the server, store or documents', async () => {
    const version = await ended(compiled(['--version'], ['tsx', ...heavyPackages]));
    expect(version).toEqual({ code: 0, output: '0.1.0\n' });
    const help = await ended(compiled(['--help'], ['tsx', ...heavyPackages]));
    expect(help.code).toBe(0);
    expect(help.output).toContain('serve');
    const commandHelp = await ended(compiled(['voucher', 'batch', '--help'], heavyPackages));
    expect(commandHelp.code).toBe(0);
    expect(commandHelp.output).toContain('create');
  });

  it('serves /health with its SQLite threads compiled, without tsx or delivery packages', async () => {
    const child = compiled(
      ['serve', '--host', '127.0.0.1', '--port', '0', '--db', join(dir, 'tollgate.db')],
      ['tsx', ...deliveryPackages],
    );
    const exit = ended(child);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`no start: ${output}`)), startTimeoutMs);
        child.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (found) {
            clearTimeout(timer);
            resolve(found[1]!);
          }
        });
        void exit.then(({ code, output: all }) => {
          clearTimeout(timer);
          reject(new Error(`serve exited with ${code}: ${all}`));
        });
      });
      // Listening at all means both SQLite threads loaded: the store waits for each to be ready.
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    }
    expect((await exit).code).toBe(0);
  }, 60_000);
});
