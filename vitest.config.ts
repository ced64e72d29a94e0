import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    globalSetup: ['./test/support/global-setup.ts'],
    // Tests that spawn bin/tollgate.js run the sources through tsx, never a dist/ compiled before
    // the latest edit; test/e2e/build.test.ts checks the compiled build itself.
    env: { TOLLGATE_SOURCE: '1' },
    // Calls through real switches (Kamailio, sipp, radclient) measure cut-off delays in real
    // time: they run after everything else, one file at a time, so the rest of the suite's load
    // never skews them.
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/telephony/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'telephony',
          include: ['test/telephony/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
