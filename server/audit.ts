/** The audit log: who did what and when. Admins read it; nothing else writes it. */
import { ObjectId } from 'mongodb';
import type { Models } from './db/models/index.js';
import type { StaffUser } from './realtime/agent/protocol.js';

export interface AuditEntry {
  action: string;
  /** The signed-in user, or who else acted ("cli", "system"). */
  actor: StaffUser | { kind: 'cli' | 'system'; email?: string | null };
  target?: { type: string; id: string } | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(models: Pick<Models, 'AuditEvent'>, entry: AuditEntry): Promise<void> {
  const actor =
    'id' in entry.actor
      ? { kind: 'user', userId: new ObjectId(entry.actor.id), email: entry.actor.email }
      : { kind: entry.actor.kind, userId: null, email: entry.actor.email ?? null };
  await models.AuditEvent.create({
    at: new Date(),
    action: entry.action,
    actor,
    target: entry.target ?? { type: null, id: null },
    details: entry.details ?? {},
  });
}
