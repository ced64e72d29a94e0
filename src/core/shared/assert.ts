// Invariant checks. A failed assertion is a bug in Tollgate, never a client mistake: it throws
// and the request fails loudly instead of moving money on a broken assumption.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

/** Throws when `condition` is false. Use for invariants, not for validating client input. */
export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Marks a branch the type checker proves unreachable, such as the default of an exhaustive switch. */
export function unreachable(value: never): never {
  throw new AssertionError(`unreachable: ${JSON.stringify(value)}`);
}
