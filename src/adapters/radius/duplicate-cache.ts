// Answers to recent RADIUS requests, so that a retransmission (same client, code, identifier and
// request authenticator: RFC 5080 section 2.2.2) gets the first answer and never acts twice.
// Bounded in time and in size: entries live `ttlMs` from their last change, and beyond
// `entriesMax` the oldest go first. A request still being answered is remembered as pending;
// its retransmissions are dropped until the answer is ready. Past the cache, the charging core's
// own idempotency (request numbers, cumulative used_seconds_total) keeps a late repeat safe.

export interface DuplicateCacheLimits {
  readonly ttlMs: number;
  readonly entriesMax: number;
}

type Entry = { expiresMs: number; answer: Buffer | 'pending' };

export type Seen =
  | { readonly kind: 'new' }
  | { readonly kind: 'pending' }
  | { readonly kind: 'answered'; readonly answer: Buffer };

export class DuplicateCache {
  private readonly entries = new Map<string, Entry>();
  private readonly limits: DuplicateCacheLimits;

  constructor(limits: DuplicateCacheLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Looks `key` up; a new key is remembered as pending. */
  seen(key: string, nowMs: number): Seen {
    this.prune(nowMs);
    const entry = this.entries.get(key);
    if (entry && entry.expiresMs > nowMs) {
      return entry.answer === 'pending'
        ? { kind: 'pending' }
        : { kind: 'answered', answer: entry.answer };
    }
    this.put(key, { expiresMs: nowMs + this.limits.ttlMs, answer: 'pending' });
    return { kind: 'new' };
  }

  /** Keeps the answer for retransmissions. */
  answered(key: string, answer: Buffer, nowMs: number): void {
    this.put(key, { expiresMs: nowMs + this.limits.ttlMs, answer });
  }

  /** Forgets a request that got no answer, so its retransmission is handled afresh. */
  forget(key: string): void {
    this.entries.delete(key);
  }

  private put(key: string, entry: Entry): void {
    // Deleted first, so that the Map's order stays the order of expiry.
    this.entries.delete(key);
    while (this.entries.size >= this.limits.entriesMax) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, entry);
  }

  private prune(nowMs: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresMs > nowMs) return;
      this.entries.delete(key);
    }
  }
}
