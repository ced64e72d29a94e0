// Write commands for principals and API keys.

import { auditEvent } from '../ledger/ledger-commands.ts';
import type { Caller, Principal } from '../shared/principal.ts';
import { defineCommand } from '../shared/write-command.ts';
import type { ApiKeyRecord } from './principal-store.ts';

export const principalCommands = {
  'principals.create': defineCommand<{ caller: Caller | null; principal: Principal }, null>({
    async run({ stores, nowMs }, { caller, principal }) {
      await stores.principals.insertPrincipal(principal);
      if (caller) {
        await stores.audit.insertAuditEvents([
          auditEvent(
            caller,
            nowMs,
            'principal.created',
            { type: 'principal', id: principal.id },
            { kind: principal.kind },
          ),
        ]);
      }
      return null;
    },
  }),

  'principals.issueKey': defineCommand<{ caller: Caller; record: ApiKeyRecord }, null>({
    async run({ stores, nowMs }, { caller, record }) {
      await stores.principals.insertApiKey(record);
      await stores.audit.insertAuditEvents([
        auditEvent(
          caller,
          nowMs,
          'api_key.issued',
          { type: 'principal', id: record.principalId },
          { keyId: record.id },
        ),
      ]);
      return null;
    },
  }),

  'principals.revokeKey': defineCommand<{ caller: Caller; keyId: string }, null>({
    async run({ stores, nowMs }, { caller, keyId }) {
      await stores.principals.revokeApiKey(keyId, nowMs);
      await stores.audit.insertAuditEvents([
        auditEvent(caller, nowMs, 'api_key.revoked', { type: 'api_key', id: keyId }, {}),
      ]);
      return null;
    },
  }),
};
