// How long an outbox waits before the next attempt of a send that failed: exponential backoff
// from 2 s, capped at 15 minutes. Voucher deliveries and webhook events share it.

const retryDelayMaxMs = 15 * 60_000;

/** The wait after the `attempts`-th failed attempt (1 for the first). */
export function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** attempts, retryDelayMaxMs);
}
