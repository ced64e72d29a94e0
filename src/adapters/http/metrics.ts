// Prometheus metrics, one registry per app so tests can build many apps in one process.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  observeRequest(route: string, method: string, status: number, elapsedMs: number): void;
  observeBatch(size: number): void;
  countOutcome(operation: string, outcome: string): void;
  /** Where the live-calls gauge reads its value at each scrape. */
  countActiveSessionsWith(source: () => Promise<number>): void;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'tollgate_' });
  const requests = new Histogram({
    name: 'tollgate_http_request_duration_seconds',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const batches = new Histogram({
    name: 'tollgate_group_commit_batch_size',
    help: 'Requests committed together in one database transaction',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'tollgate_outcomes_total',
    help: 'Business outcomes by operation (ok, or the refusal code)',
    labelNames: ['operation', 'outcome'],
    registers: [registry],
  });
  let activeSessions: (() => Promise<number>) | undefined;
  new Gauge({
    name: 'tollgate_charging_sessions_active',
    help: 'Charging sessions (calls) in progress, read from the database at each scrape',
    registers: [registry],
    async collect() {
      if (activeSessions) this.set(await activeSessions());
    },
  });
  return {
    registry,
    countActiveSessionsWith(source) {
      activeSessions = source;
    },
    observeRequest(route, method, status, elapsedMs) {
      requests.observe({ route, method, status: String(status) }, elapsedMs / 1000);
    },
    observeBatch(size) {
      batches.observe(size);
    },
    countOutcome(operation, outcome) {
      outcomes.inc({ operation, outcome });
    },
  };
}
