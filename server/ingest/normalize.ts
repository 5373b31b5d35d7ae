/**
 * Turns one source document into Parley messages, or into quarantine entries that say, in words,
 * what was wrong. Reasons never quote message text (it may hold personal data).
 */
import {
  type ConversationPerDocumentMapping,
  type Mapping,
  type MessagePerDocumentMapping,
  metaPicker,
  type Role,
  roleTable,
  valueAt,
} from './mapping.js';

export interface NormalizedMessage {
  conversationKey: string;
  messageKey: string;
  role: Role;
  text: string;
  ts: Date;
  channel: string | null;
  customerId: string | null;
  meta: Record<string, unknown> | null;
}

export interface QuarantineEntry {
  /** The source document's `_id`. */
  sourceDocumentId: unknown;
  /** Where inside the document, for conversation-per-document sources ("turns.3"); null for the whole document. */
  path: string | null;
  reason: string;
}

export interface Normalized {
  messages: NormalizedMessage[];
  quarantined: QuarantineEntry[];
}

/** Field labels for reasons, built only when a reason is. */
type Label = () => string;
const show = (label: string | Label) => (typeof label === 'string' ? label : label());

type Result<T> = { ok: true; value: T } | { ok: false; reason: string };
const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(reason: string): Result<T> => ({ ok: false, reason });

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function readTimestamp(value: unknown, label: string | Label): Result<Date> {
  if (value === undefined) return fail(`missing field ${show(label)}`);
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? fail(`field ${show(label)} is an invalid date`) : ok(value);
  if (typeof value === 'string' && ISO_DATE.test(value.trim())) {
    const date = new Date(value.trim());
    if (!Number.isNaN(date.getTime())) return ok(date);
  }
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return ok(new Date(value));
  const shown = typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeName(value);
  return fail(
    `field ${show(label)} is not a date (ISO 8601 string, Date or epoch milliseconds): got ${shown}`,
  );
}

export function readKey(value: unknown, label: string | Label): Result<string> {
  if (value === undefined || value === null) return fail(`missing field ${show(label)}`);
  if (typeof value === 'string')
    return value.trim() ? ok(value.trim()) : fail(`field ${show(label)} is empty`);
  if (typeof value === 'number' && Number.isFinite(value)) return ok(String(value));
  if (typeof value === 'object' && typeof (value as { toHexString?: unknown }).toHexString === 'function') {
    return ok((value as { toHexString(): string }).toHexString());
  }
  return fail(`field ${show(label)} must be a string, number or ObjectId: got ${typeName(value)}`);
}

function readText(value: unknown, label: string | Label): Result<string> {
  if (value === undefined || value === null) return fail(`missing field ${show(label)}`);
  if (typeof value !== 'string') return fail(`field ${show(label)} must be a string: got ${typeName(value)}`);
  return value.trim() ? ok(value) : fail(`empty text in field ${show(label)}`);
}

function readRole(value: unknown, label: string | Label, roles: Map<string, Role>): Result<Role> {
  if (value === undefined || value === null) return fail(`missing field ${show(label)}`);
  if (typeof value !== 'string') return fail(`field ${show(label)} must be a string: got ${typeName(value)}`);
  const role = roles.get(value.trim());
  if (role) return ok(role);
  return fail(
    `unknown role "${value.slice(0, 40)}" in field ${show(label)}; the mapping knows ${[...roles.keys()].join(', ')}`,
  );
}

const optionalString = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() ? value.trim() : typeof value === 'number' ? String(value) : null;

const label = (path: string, what: string) => `"${path}" (${what})`;

function firstFailure(results: Result<unknown>[]): string | null {
  const failed = results.filter((r): r is { ok: false; reason: string } => !r.ok);
  return failed.length ? failed.map((r) => r.reason).join('; ') : null;
}

function messagePerDocument(
  mapping: MessagePerDocumentMapping,
): (doc: Record<string, unknown>) => Normalized {
  const roles = roleTable(mapping);
  const f = mapping.fields;
  const pickMeta = metaPicker(f.meta);
  const labels = {
    conversationId: label(f.conversationId, 'conversation id'),
    messageId: label(f.messageId, 'message id'),
    role: label(f.role, 'role'),
    text: label(f.text, 'text'),
    timestamp: label(f.timestamp, 'timestamp'),
  };
  return (doc) => {
    const conversation = readKey(valueAt(doc, f.conversationId), labels.conversationId);
    const messageKey = readKey(valueAt(doc, f.messageId), labels.messageId);
    const role = readRole(valueAt(doc, f.role), labels.role, roles);
    const text = readText(valueAt(doc, f.text), labels.text);
    const ts = readTimestamp(valueAt(doc, f.timestamp), labels.timestamp);
    const reason = firstFailure([conversation, messageKey, role, text, ts]);
    if (reason || !conversation.ok || !messageKey.ok || !role.ok || !text.ok || !ts.ok) {
      return { messages: [], quarantined: [{ sourceDocumentId: doc._id, path: null, reason: reason ?? '' }] };
    }
    return {
      messages: [
        {
          conversationKey: conversation.value,
          messageKey: messageKey.value,
          role: role.value,
          text: text.value,
          ts: ts.value,
          channel: f.channel ? optionalString(valueAt(doc, f.channel)) : null,
          customerId: f.customerId ? optionalString(valueAt(doc, f.customerId)) : null,
          meta: pickMeta(doc),
        },
      ],
      quarantined: [],
    };
  };
}

function conversationPerDocument(
  mapping: ConversationPerDocumentMapping,
): (doc: Record<string, unknown>) => Normalized {
  const roles = roleTable(mapping);
  const f = mapping.fields;
  const m = mapping.message;
  const pickMeta = metaPicker(f.meta);
  return (doc) => {
    const whole = (reason: string): Normalized => ({
      messages: [],
      quarantined: [{ sourceDocumentId: doc._id, path: null, reason }],
    });
    const conversation = readKey(valueAt(doc, f.conversationId), label(f.conversationId, 'conversation id'));
    if (!conversation.ok) return whole(conversation.reason);
    const list = valueAt(doc, f.messages);
    if (!Array.isArray(list)) {
      return whole(
        list === undefined
          ? `missing field ${label(f.messages, 'messages')}`
          : `field ${label(f.messages, 'messages')} must be an array: got ${typeName(list)}`,
      );
    }
    if (list.length === 0) return whole(`field ${label(f.messages, 'messages')} is empty`);

    const shared = {
      conversationKey: conversation.value,
      channel: f.channel ? optionalString(valueAt(doc, f.channel)) : null,
      customerId: f.customerId ? optionalString(valueAt(doc, f.customerId)) : null,
      meta: pickMeta(doc),
    };
    const result: Normalized = { messages: [], quarantined: [] };
    list.forEach((item: unknown, index) => {
      const where = `${f.messages}.${index}`;
      const key = m.id
        ? readKey(valueAt(item, m.id), () => label(`${where}.${m.id}`, 'message id'))
        : ok(String(index));
      const role = readRole(valueAt(item, m.role), () => label(`${where}.${m.role}`, 'role'), roles);
      const text = readText(valueAt(item, m.text), () => label(`${where}.${m.text}`, 'text'));
      const ts = readTimestamp(valueAt(item, m.timestamp), () =>
        label(`${where}.${m.timestamp}`, 'timestamp'),
      );
      const reason = firstFailure([key, role, text, ts]);
      if (reason || !key.ok || !role.ok || !text.ok || !ts.ok) {
        result.quarantined.push({ sourceDocumentId: doc._id, path: where, reason: reason ?? '' });
        return;
      }
      result.messages.push({
        ...shared,
        messageKey: key.value,
        role: role.value,
        text: text.value,
        ts: ts.value,
      });
    });
    return result;
  };
}

export function createNormalizer(mapping: Mapping): (doc: Record<string, unknown>) => Normalized {
  return mapping.shape === 'message-per-document'
    ? messagePerDocument(mapping)
    : conversationPerDocument(mapping);
}
