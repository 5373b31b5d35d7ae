/**
 * A field mapping says where a source keeps what Parley needs. Two shapes:
 * - message-per-document: each source document is one message of a conversation;
 * - conversation-per-document: each source document is a conversation with a messages array.
 * Paths are dot paths ("author.type"). Role values map to Parley's roles; a key may list
 * alternatives with "|" ("agent|admin": "agent").
 */
import { z } from 'zod';
import { MESSAGE_ROLES } from '../db/models/conversation.js';

export type Role = (typeof MESSAGE_ROLES)[number];

const fieldPath = z
  .string()
  .min(1)
  .regex(/^[^.$][^$]*$/, { error: 'expected a dot path such as "author.type"' });

const rolesSchema = z
  .record(z.string().min(1), z.enum(MESSAGE_ROLES))
  .refine((roles) => Object.keys(roles).length > 0, { error: 'map at least one source value to a role' });

const optionalFields = {
  channel: fieldPath.optional(),
  customerId: fieldPath.optional(),
  /**
   * Conversation metadata to keep (anonymized): a path to an object kept whole, or
   * { name: path } to keep only named fields. Keeping less is the better privacy default.
   */
  meta: z.union([fieldPath, z.record(z.string().min(1), fieldPath)]).optional(),
};

export const messagePerDocumentSchema = z.object({
  shape: z.literal('message-per-document'),
  fields: z.object({
    conversationId: fieldPath,
    role: fieldPath,
    text: fieldPath,
    timestamp: fieldPath,
    /** Stable id of the message in the source; default `_id`. */
    messageId: fieldPath.default('_id'),
    ...optionalFields,
  }),
  roles: rolesSchema,
});

export const conversationPerDocumentSchema = z.object({
  shape: z.literal('conversation-per-document'),
  fields: z.object({
    conversationId: fieldPath,
    messages: fieldPath,
    /** When the document last changed (or started): the incremental watermark reads it. */
    timestamp: fieldPath,
    ...optionalFields,
  }),
  message: z.object({
    role: fieldPath,
    text: fieldPath,
    timestamp: fieldPath,
    /** Stable id inside the conversation; default: the message's position in the array. */
    id: fieldPath.optional(),
  }),
  roles: rolesSchema,
});

export const mappingSchema = z.discriminatedUnion('shape', [
  messagePerDocumentSchema,
  conversationPerDocumentSchema,
]);

export type Mapping = z.infer<typeof mappingSchema>;
export type MessagePerDocumentMapping = z.infer<typeof messagePerDocumentSchema>;
export type ConversationPerDocumentMapping = z.infer<typeof conversationPerDocumentSchema>;

export class MappingError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid field mapping:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'MappingError';
  }
}

export function parseMapping(input: unknown): Mapping {
  const parsed = mappingSchema.safeParse(input);
  if (!parsed.success) {
    throw new MappingError(
      parsed.error.issues.map(
        (issue) => `${issue.path.length ? issue.path.join('.') : '(mapping)'}: ${issue.message}`,
      ),
    );
  }
  return parsed.data;
}

/** Source role value -> Parley role, with "a|b" keys expanded. */
export function roleTable(mapping: Mapping): Map<string, Role> {
  const table = new Map<string, Role>();
  for (const [values, role] of Object.entries(mapping.roles)) {
    for (const value of values.split('|')) table.set(value.trim(), role);
  }
  return table;
}

/** Picks the metadata a mapping keeps from one document, or null; built once per mapping. */
export function metaPicker(
  meta: string | Record<string, string> | undefined,
): (document: unknown) => Record<string, unknown> | null {
  if (meta === undefined) return () => null;
  if (typeof meta === 'string') {
    return (document) => {
      const value = valueAt(document, meta);
      return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
        ? (value as Record<string, unknown>)
        : null;
    };
  }
  const fields = Object.entries(meta);
  return (document) => {
    let picked: Record<string, unknown> | null = null;
    for (const [name, path] of fields) {
      const value = valueAt(document, path);
      if (value === undefined) continue;
      picked ??= {};
      picked[name] = value;
    }
    return picked;
  };
}

const pathSegments = new Map<string, string[]>();

/** The value at a dot path, or undefined. Array indices are path segments too ("turns.0.text"). */
export function valueAt(document: unknown, path: string): unknown {
  let segments = pathSegments.get(path);
  if (!segments) {
    segments = path.split('.');
    pathSegments.set(path, segments);
  }
  let current: unknown = document;
  for (const key of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
