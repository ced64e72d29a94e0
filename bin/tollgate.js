#!/usr/bin/env node
// The `tollgate` command. It runs the JavaScript that `npm install` compiled from src/ into
// dist/ (the `prepare` script runs `npm run build`), so starting never compiles TypeScript.
//
// TOLLGATE_SOURCE=1 runs src/ through tsx instead. The test suite sets it (vitest.config.ts),
// so every test that spawns this binary runs the sources as they are now, never a dist/ left
// over from before an edit; test/e2e/build.test.ts checks the compiled build on its own.
if (process.env.TOLLGATE_SOURCE === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
} else {
  const main = new URL('../dist/main.js', import.meta.url);
  const { existsSync } = await import('node:fs');
  if (!existsSync(main)) {
    process.stderr.write(
      'error: dist/ is missing: run `npm run build` (npm install does it), or set TOLLGATE_SOURCE=1\n',
    );
    process.exit(2);
  }
  await import(main.href);
}
