// Composition root: configuration -> store -> core -> adapters. The only file that reads the
// process environment and decides how the process exits.

import { runCli } from './adapters/cli/cli.ts';
import { readEnv } from './config.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  env: readEnv(process.env),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
