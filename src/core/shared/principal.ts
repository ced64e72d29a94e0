// Who is asking. Every use case takes the principal and shows or moves only what it may.

export const principalKinds = [
  'operator',
  'distributor',
  'retailer',
  'terminal',
  'switch',
  'provider',
] as const;
export type PrincipalKind = (typeof principalKinds)[number];

export const scopes = [
  'admin',
  'accounts:read',
  'accounts:write',
  'transfers:write',
  'holds:write',
  'rating:read',
  'rating:write',
  'vouchers:read',
  'vouchers:sell',
  'vouchers:redeem',
  'vouchers:admin',
  'charging:control',
  'charging:read',
] as const;
export type Scope = (typeof scopes)[number];

/** The scopes a new key of each kind gets unless the operator narrows them. */
export const defaultScopes: Record<PrincipalKind, readonly Scope[]> = {
  operator: [
    'admin',
    'accounts:read',
    'accounts:write',
    'transfers:write',
    'holds:write',
    'rating:read',
    'rating:write',
    'vouchers:read',
    'vouchers:sell',
    'vouchers:redeem',
    'vouchers:admin',
    'charging:control',
    'charging:read',
  ],
  distributor: ['accounts:read', 'transfers:write', 'vouchers:read'],
  retailer: ['accounts:read', 'transfers:write', 'vouchers:read', 'vouchers:sell'],
  terminal: ['accounts:read', 'vouchers:read', 'vouchers:sell'],
  switch: [
    'accounts:read',
    'holds:write',
    'rating:read',
    'vouchers:redeem',
    'charging:control',
    'charging:read',
  ],
  provider: ['accounts:read'],
};

export interface Principal {
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly name: string;
  readonly parentId: string | null;
  readonly status: 'active' | 'disabled';
  readonly createdAtMs: number;
}

/** A principal as seen by a request: who, and with which scopes its key grants. */
export interface Caller {
  readonly principal: Principal;
  readonly scopes: readonly Scope[];
}

/** Operators see everything; everyone else sees only what it owns. */
export function canSeeOwner(caller: Caller, ownerId: string): boolean {
  return caller.principal.kind === 'operator' || caller.principal.id === ownerId;
}

/**
 * Whose accounts a caller may pay into by a plain transfer or hold: an operator any; everyone
 * else its own accounts and those of its parent (a retailer settling with its distributor).
 * System accounts (voucher liability, commissions, carrier revenue) are credited only by the use
 * cases that own them (sale, redemption, charging), which act as the system.
 */
export function mayCredit(caller: Caller, ownerId: string): boolean {
  const me = caller.principal;
  return me.kind === 'operator' || me.id === ownerId || me.parentId === ownerId;
}

export function hasScope(caller: Caller, scope: Scope): boolean {
  return caller.scopes.includes('admin') || caller.scopes.includes(scope);
}

/** The principal that owns the operator's own accounts (cash, revenue) and runs server jobs. */
export const systemPrincipal: Principal = {
  id: 'system',
  kind: 'operator',
  name: 'Tollgate system',
  parentId: null,
  status: 'active',
  createdAtMs: 0,
};

export const systemCaller: Caller = { principal: systemPrincipal, scopes: ['admin'] };
