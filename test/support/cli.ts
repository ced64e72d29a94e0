// Runs `tollgate` commands in-process against a temporary SQLite database, capturing output.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/adapters/cli/cli.ts';
import { readEnv } from '../../src/config.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliHarness {
  /** Runs one command with `--db` pointing at the harness's database. */
  run(...argv: string[]): Promise<CliRun>;
  readonly dbPath: string;
  /** Removes the database and its folder. */
  remove(): void;
}

export function cliHarness(name: string): CliHarness {
  const dir = mkdtempSync(join(tmpdir(), `tollgate-${name}-`));
  const dbPath = join(dir, 'cli.db');
  return {
    dbPath,
    async run(...argv) {
      let stdout = '';
      let stderr = '';
      const code = await runCli([...argv, '--db', dbPath], {
        env: readEnv({}),
        stdout: (text) => {
          stdout += text;
        },
        stderr: (text) => {
          stderr += text;
        },
      });
      return { code, stdout, stderr };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
