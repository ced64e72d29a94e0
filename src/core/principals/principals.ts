// Principals (operators, distributors, retailers, terminals, switches, providers) and their API
// keys. A key is shown once when issued; only its SHA-256 is stored. Keys are long random
// strings, so a fast hash is enough: there is nothing to brute-force.

import { hash, randomBytes } from 'node:crypto';
import type { Clock } from '../shared/clock.ts';
import { newId } from '../shared/ids.ts';
import {
  type Caller,
  defaultScopes,
  type Principal,
  type PrincipalKind,
  type Scope,
  systemPrincipal,
} from '../shared/principal.ts';
import { ok, type Result, refuse } from '../shared/result.ts';
import type { WriteCommitter } from '../write-commands.ts';
import type { ApiKeyRecord, PrincipalReadStore } from './principal-store.ts';

export const principalRefusals = {
  principal_not_found: 'The principal does not exist or is not visible to you.',
  parent_not_allowed: 'That kind of principal cannot sit under that parent.',
  scope_not_allowed: 'A key cannot have scopes beyond those of its principal kind.',
  api_key_not_found: 'The API key does not exist.',
} as const;
export type PrincipalRefusalCode = keyof typeof principalRefusals;

/** Which kind of principal may sit under which: distributor -> retailer -> terminal. */
const allowedParents: Record<PrincipalKind, ReadonlyArray<PrincipalKind | null>> = {
  operator: [null],
  distributor: [null, 'distributor'],
  retailer: [null, 'distributor'],
  terminal: ['retailer', 'distributor', null],
  switch: [null],
  provider: [null],
};

/** How long an authenticated key is trusted from memory before the database is asked again. */
export const apiKeyCacheMs = 5_000;

export function hashApiKey(secret: string): string {
  // One-shot crypto.hash: every authenticated request calls this, and it costs half as much as
  // createHash().update().digest().
  return hash('sha256', secret, 'hex');
}

/** A new API key: `tg_` and 40 base32 characters (200 bits). */
export function generateApiKey(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(40);
  let text = 'tg_';
  for (const byte of bytes) text += alphabet[byte & 31];
  return text;
}

export interface IssuedKey {
  readonly record: ApiKeyRecord;
  /** The key itself: returned once, never stored. */
  readonly secret: string;
}

export class Principals {
  private readonly committer: WriteCommitter;
  private readonly reads: PrincipalReadStore;
  private readonly clock: Clock;
  private readonly cache = new Map<string, { caller: Caller | null; untilMs: number }>();

  constructor(deps: { committer: WriteCommitter; reads: PrincipalReadStore; clock: Clock }) {
    this.committer = deps.committer;
    this.reads = deps.reads;
    this.clock = deps.clock;
  }

  /** Makes sure the system principal exists: it owns the operator's own accounts. */
  async ensureSystemPrincipal(): Promise<void> {
    if (await this.reads.getPrincipal(systemPrincipal.id)) return;
    await this.committer.submit('principals.create', { caller: null, principal: systemPrincipal });
  }

  async create(
    caller: Caller,
    input: { kind: PrincipalKind; name: string; parentId?: string | null | undefined; id?: string },
  ): Promise<Result<Principal, PrincipalRefusalCode>> {
    const parentId = input.parentId ?? null;
    if (caller.principal.kind !== 'operator') {
      return refuse('principal_not_found', principalRefusals.principal_not_found);
    }
    if (parentId !== null) {
      const parent = await this.reads.getPrincipal(parentId);
      if (!parent) return refuse('principal_not_found', principalRefusals.principal_not_found);
      if (!allowedParents[input.kind].includes(parent.kind)) {
        return refuse('parent_not_allowed', principalRefusals.parent_not_allowed);
      }
    } else if (!allowedParents[input.kind].includes(null)) {
      return refuse('parent_not_allowed', principalRefusals.parent_not_allowed);
    }
    const principal: Principal = {
      id: input.id ?? newId(prefixOf(input.kind)),
      kind: input.kind,
      name: input.name,
      parentId,
      status: 'active',
      createdAtMs: this.clock.nowMs(),
    };
    await this.committer.submit('principals.create', { caller, principal });
    return ok(principal);
  }

  async get(caller: Caller, id: string): Promise<Result<Principal, 'principal_not_found'>> {
    const principal = await this.reads.getPrincipal(id);
    if (
      !principal ||
      (caller.principal.kind !== 'operator' && principal.id !== caller.principal.id)
    ) {
      return refuse('principal_not_found', principalRefusals.principal_not_found);
    }
    return ok(principal);
  }

  async list(caller: Caller, query: { parentId?: string | undefined; limit: number }) {
    if (caller.principal.kind !== 'operator') return [caller.principal];
    return this.reads.listPrincipals(query);
  }

  /**
   * Issues a key for a principal. `secret` may be given to register a key chosen elsewhere
   * (TOLLGATE_ADMIN_KEY); otherwise a random one is made.
   */
  async issueKey(
    caller: Caller,
    input: {
      principalId: string;
      scopes?: readonly Scope[] | undefined;
      secret?: string | undefined;
    },
  ): Promise<Result<IssuedKey, PrincipalRefusalCode>> {
    const principal =
      input.principalId === systemPrincipal.id
        ? systemPrincipal
        : await this.reads.getPrincipal(input.principalId);
    if (!principal || caller.principal.kind !== 'operator') {
      return refuse('principal_not_found', principalRefusals.principal_not_found);
    }
    const allowed = defaultScopes[principal.kind];
    const scopes = input.scopes ?? allowed;
    if (!scopes.every((scope) => allowed.includes(scope))) {
      return refuse('scope_not_allowed', principalRefusals.scope_not_allowed);
    }
    const secret = input.secret ?? generateApiKey();
    const record: ApiKeyRecord = {
      id: newId('key'),
      principalId: principal.id,
      keyHash: hashApiKey(secret),
      scopes: [...scopes],
      createdAtMs: this.clock.nowMs(),
      revokedAtMs: null,
    };
    await this.committer.submit('principals.issueKey', { caller, record });
    return ok({ record, secret });
  }

  async revokeKey(caller: Caller, keyId: string): Promise<Result<null, PrincipalRefusalCode>> {
    if (caller.principal.kind !== 'operator') {
      return refuse('api_key_not_found', principalRefusals.api_key_not_found);
    }
    await this.committer.submit('principals.revokeKey', { caller, keyId });
    this.cache.clear();
    return ok(null);
  }

  /**
   * The caller for a key from memory, without a database read: undefined when the key is not
   * cached (or the entry is stale), so the caller must use authenticate().
   */
  cachedCaller(secret: string): Caller | null | undefined {
    const cached = this.cache.get(hashApiKey(secret));
    return cached && cached.untilMs > this.clock.nowMs() ? cached.caller : undefined;
  }

  /** The caller a key belongs to, or null for an unknown, revoked or disabled one. */
  async authenticate(secret: string): Promise<Caller | null> {
    const keyHash = hashApiKey(secret);
    const nowMs = this.clock.nowMs();
    const cached = this.cache.get(keyHash);
    if (cached && cached.untilMs > nowMs) return cached.caller;
    const record = await this.reads.findApiKeyByHash(keyHash);
    let caller: Caller | null = null;
    if (record && record.revokedAtMs === null) {
      const principal =
        record.principalId === systemPrincipal.id
          ? systemPrincipal
          : await this.reads.getPrincipal(record.principalId);
      if (principal && principal.status === 'active') caller = { principal, scopes: record.scopes };
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(keyHash, { caller, untilMs: nowMs + apiKeyCacheMs });
    return caller;
  }
}

function prefixOf(kind: PrincipalKind): string {
  return {
    operator: 'op',
    distributor: 'dst',
    retailer: 'ret',
    terminal: 'trm',
    switch: 'sw',
    provider: 'prv',
  }[kind];
}
