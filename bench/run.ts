// `npm run bench -- <name> [options]`: runs one benchmark, or all with no name. Each prints its
// figures beside a baseline measured in the same run.

const benchmarks: Record<string, () => Promise<{ run: (args: string[]) => Promise<void> }>> = {
  charging: () => import('./charging.ts'),
  diameter: () => import('./diameter.ts'),
  kamailio: () => import('./kamailio.ts'),
  ledger: () => import('./ledger.ts'),
  rating: () => import('./rating.ts'),
  startup: () => import('./startup.ts'),
  vouchers: () => import('./vouchers.ts'),
};

const [name, ...args] = process.argv.slice(2);
const names = name && !name.startsWith('-') ? [name] : Object.keys(benchmarks);
for (const each of names) {
  const load = benchmarks[each];
  if (!load) {
    process.stderr.write(
      `unknown benchmark ${each}; choose from: ${Object.keys(benchmarks).join(', ')}\n`,
    );
    process.exit(2);
  }
  await (await load()).run(name && !name.startsWith('-') ? args : process.argv.slice(2));
}
