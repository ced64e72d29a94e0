// Entry point of the SQLite writer thread. Worker threads start from JavaScript, so this file
// registers the TypeScript loader (as bin/tollgate.js does) and then loads the real module.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-writer-thread.ts');
