// Entry point of the SQLite checkpointer thread: registers the TypeScript loader, then loads it.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-checkpointer-thread.ts');
