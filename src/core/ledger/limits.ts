// The ledger's limits, named so that code, tests and docs agree on them.

/** Longest hold the server accepts: long enough for pre-authorisations, short enough to reap. */
export const holdTimeoutSecondsMax = 30 * 24 * 60 * 60;

/** Client idempotency keys: long enough for a UUID or a composite key, short enough to index. */
export const idempotencyKeyLengthMax = 128;

/** Free-text memo on a transfer. */
export const memoLengthMax = 256;

/** A classification code on a transfer, such as `deposit` or `sale`. */
export const transferCodeLengthMax = 64;

/** Largest page of history or accounts a single read returns. */
export const pageSizeMax = 500;

/** How many expired holds one sweep of the expiry job releases. */
export const expirySweepBatchMax = 1000;
