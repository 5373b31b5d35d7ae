/** The audit log: who did what and when, newest first, narrowed to one action. */
import { useState } from 'preact/hooks';
import type { AuditEntry } from '../admin-api.js';
import { AdminPage, Loaded } from '../components/admin.js';
import { formatDate } from '../format.js';
import { useAdminApi, useResource } from '../hooks.js';

export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.login.failed',
  'auth.logout',
  'user.create',
  'user.update',
  'site.create',
  'site.update',
  'source.add',
  'source.mapping',
  'ingest.start',
  'dataset.build',
  'training.start',
  'training.resume',
  'training.cancel',
  'version.promote',
  'version.promote.override',
  'version.rollback',
  'version.delete',
  'version.load_failed',
  'conversation.take_over',
  'conversation.hand_back',
  'conversation.close',
  'message.rate',
] as const;

export function AuditPage() {
  const admin = useAdminApi();
  const [action, setAction] = useState('');
  const [resource, reload] = useResource(() => admin.audit(action || undefined), action);
  return (
    <AdminPage
      title="Audit log"
      focusKey="audit"
      actions={
        <div class="inline-field">
          <label for="audit-action">Action</label>
          <select id="audit-action" value={action} onChange={(event) => setAction(event.currentTarget.value)}>
            <option value="">All actions</option>
            {AUDIT_ACTIONS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
      }
      intro="The latest 200 entries, newest first."
    >
      <Loaded
        resource={resource}
        reload={reload}
        what="the audit log"
        isEmpty={(events) => events.length === 0}
        empty={action ? `Nothing logged for ${action}.` : 'Nothing logged yet.'}
      >
        {(events) => (
          <div class="table-wrap">
            <table class="data-table audit-table" aria-busy={resource.state === 'loading'}>
              <caption class="visually-hidden">Audit log{action ? `: ${action}` : ''}</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Who</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {events.map((event) => (
                  <tr key={event.id} data-action={event.action}>
                    <td>
                      <time dateTime={event.at}>{formatDate(event.at)}</time>
                    </td>
                    <th scope="row" class="mono">
                      {event.action}
                    </th>
                    <td>{event.actor.email ?? event.actor.kind ?? '—'}</td>
                    <td class="mono">
                      {event.target ? `${event.target.type} ${shortId(event.target.id)}` : '—'}
                    </td>
                    <td class="details">{details(event)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
    </AdminPage>
  );
}

const shortId = (id: string) => (/^[0-9a-f]{24}$/.test(id) ? `${id.slice(0, 8)}…` : id);

/** The details as "key: value" pairs, one line. */
export function details(event: Pick<AuditEntry, 'details'>): string {
  return Object.entries(event.details)
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(' · ');
}
