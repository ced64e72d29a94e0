// Business outcomes are values, not exceptions. A refusal carries a stable snake_case code that
// every adapter maps through its own table (HTTP status, Diameter Result-Code, RADIUS reply).

export type Ok<T> = { readonly ok: true; readonly value: T };
export type Refusal<C extends string = string> = {
  readonly ok: false;
  readonly code: C;
  readonly message: string;
};
export type Result<T, C extends string = string> = Ok<T> | Refusal<C>;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function refuse<C extends string>(code: C, message: string): Refusal<C> {
  return { ok: false, code, message };
}
