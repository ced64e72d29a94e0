// The audit trail: who did what to which object, and when. Written in the same transaction as
// the change it records, so the trail and the data never disagree.

export interface AuditEvent {
  readonly id: string;
  readonly atMs: number;
  readonly principalId: string;
  /** What happened, as `noun.verb`: `account.frozen`, `api_key.issued`, `voucher.exported`. */
  readonly action: string;
  readonly subjectType: string;
  readonly subjectId: string;
  /** Extra facts; never a secret (no PIN, no key). */
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditTxStore {
  insertAuditEvents(events: readonly AuditEvent[]): Promise<void>;
}

export interface AuditReadStore {
  listAuditEvents(query: { subjectId?: string | undefined; limit: number }): Promise<AuditEvent[]>;
}
