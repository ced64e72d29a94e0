// Entry point of the SQLite writer thread when Tollgate runs from its TypeScript sources (tests,
// benchmarks, TOLLGATE_SOURCE=1): a worker thread starts from JavaScript and inherits no
// loader, so this registers tsx and then loads the real module. The compiled build (dist/)
// starts sqlite-writer-thread.js directly; see threadEntry in sqlite-store.ts.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-writer-thread.ts');
