// What principals and API keys need from storage.

import type { Principal, Scope } from '../shared/principal.ts';

export interface ApiKeyRecord {
  readonly id: string;
  readonly principalId: string;
  /** SHA-256 of the key, hex. The key itself is never stored. */
  readonly keyHash: string;
  readonly scopes: readonly Scope[];
  readonly createdAtMs: number;
  readonly revokedAtMs: number | null;
}

export interface PrincipalTxStore {
  insertPrincipal(principal: Principal): Promise<void>;
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  revokeApiKey(id: string, atMs: number): Promise<void>;
}

export interface PrincipalReadStore {
  getPrincipal(id: string): Promise<Principal | null>;
  listPrincipals(query: { parentId?: string | undefined; limit: number }): Promise<Principal[]>;
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | null>;
  listApiKeys(principalId: string): Promise<ApiKeyRecord[]>;
  countPrincipals(): Promise<number>;
}
