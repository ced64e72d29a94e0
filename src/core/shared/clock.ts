// Time enters the core only through a Clock, so tests and simulations can drive it.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

/** A clock that moves only when told to: for tests and seeded simulations. */
export class ManualClock implements Clock {
  private currentMs: number;
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.currentMs = startMs;
  }
  nowMs(): number {
    return this.currentMs;
  }
  advanceMs(deltaMs: number): void {
    this.currentMs += deltaMs;
  }
  setMs(ms: number): void {
    this.currentMs = ms;
  }
}
