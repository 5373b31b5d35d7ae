import { describe, expect, it } from 'vitest';
import { MappingError, parseMapping, roleTable, valueAt } from '../../../../server/ingest/mapping.js';
import { loadMapping, SHIPPED_MAPPINGS } from '../../../../server/ingest/mappings/index.js';

const messageMapping = {
  shape: 'message-per-document',
  fields: { conversationId: 'ticket_id', role: 'author_type', text: 'body', timestamp: 'created_at' },
  roles: { end_user: 'customer', 'agent|admin': 'agent', bot: 'bot' },
};

describe('parseMapping', () => {
  it('accepts a message-per-document mapping and defaults the message id to _id', () => {
    const mapping = parseMapping(messageMapping);
    expect(mapping.shape).toBe('message-per-document');
    if (mapping.shape === 'message-per-document') expect(mapping.fields.messageId).toBe('_id');
  });

  it('accepts a conversation-per-document mapping', () => {
    expect(
      parseMapping({
        shape: 'conversation-per-document',
        fields: { conversationId: 'id', messages: 'turns', timestamp: 'updatedAt' },
        message: { role: 'role', text: 'text', timestamp: 'ts' },
        roles: { customer: 'customer' },
      }).shape,
    ).toBe('conversation-per-document');
  });

  it.each([
    ['an unknown shape', { ...messageMapping, shape: 'rows' }, 'shape'],
    [
      'a missing text field',
      { ...messageMapping, fields: { ...messageMapping.fields, text: undefined } },
      'fields.text',
    ],
    [
      'a role mapped to an unknown Parley role',
      { ...messageMapping, roles: { end_user: 'visitor' } },
      'roles.end_user',
    ],
    ['no roles', { ...messageMapping, roles: {} }, 'roles'],
    [
      'an operator as a path',
      { ...messageMapping, fields: { ...messageMapping.fields, text: '$body' } },
      'fields.text',
    ],
  ])('rejects %s, naming where', (_what, input, where) => {
    try {
      parseMapping(input);
      expect.unreachable('parseMapping accepted it');
    } catch (error) {
      expect(error).toBeInstanceOf(MappingError);
      expect((error as MappingError).problems.join('\n')).toContain(where);
    }
  });
});

describe('roleTable', () => {
  it('expands "a|b" keys into one entry each', () => {
    expect(Object.fromEntries(roleTable(parseMapping(messageMapping)))).toEqual({
      end_user: 'customer',
      agent: 'agent',
      admin: 'agent',
      bot: 'bot',
    });
  });
});

describe('valueAt', () => {
  it.each([
    [{ a: { b: { c: 1 } } }, 'a.b.c', 1],
    [{ turns: [{ text: 'hi' }] }, 'turns.0.text', 'hi'],
    [{ a: null }, 'a.b', undefined],
    [{ a: 'text' }, 'a.length', undefined],
    [{}, 'missing', undefined],
  ])('reads %j at %s', (doc, path, expected) => {
    expect(valueAt(doc, path)).toEqual(expected);
  });
});

describe('shipped mappings', () => {
  it.each(Object.keys(SHIPPED_MAPPINGS))('%s is valid', async (name) => {
    await expect(loadMapping(name)).resolves.toHaveProperty('shape');
  });

  it('explains a missing mapping file and lists the shipped ones', async () => {
    await expect(loadMapping('/nonexistent/mapping.json')).rejects.toThrow(/demo-support-messages/);
  });
});
