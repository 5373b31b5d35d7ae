import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { parseMapping } from '../../../../server/ingest/mapping.js';
import { loadMapping } from '../../../../server/ingest/mappings/index.js';
import { createNormalizer } from '../../../../server/ingest/normalize.js';

const demo = createNormalizer(await loadMapping('demo-support-messages'));
const conversations = createNormalizer(await loadMapping('conversations'));

const message = (overrides: Record<string, unknown> = {}) => ({
  _id: new ObjectId(),
  message_id: 'star-1:0',
  ticket_id: 'star-1',
  author_type: 'end_user',
  body: 'My card was stolen',
  created_at: new Date('2020-05-13T13:14:57Z'),
  channel: 'chat',
  customer_id: 'cus_1',
  ...overrides,
});

describe('message-per-document normalization', () => {
  it('maps fields and role values to a Parley message', () => {
    expect(demo(message({ author_type: 'admin' })).messages).toEqual([
      {
        conversationKey: 'star-1',
        messageKey: 'star-1:0',
        role: 'agent',
        text: 'My card was stolen',
        ts: new Date('2020-05-13T13:14:57Z'),
        channel: 'chat',
        customerId: 'cus_1',
        meta: null,
      },
    ]);
  });

  it.each([
    ['an ISO string', '2020-05-13T13:14:57Z'],
    ['an ISO string with an offset', '2020-05-13T15:14:57+02:00'],
    ['epoch milliseconds', Date.parse('2020-05-13T13:14:57Z')],
  ])('accepts a timestamp given as %s', (_what, created_at) => {
    expect(demo(message({ created_at })).messages[0]?.ts.toISOString()).toBe('2020-05-13T13:14:57.000Z');
  });

  it('keeps only the metadata fields the mapping names (the demo mapping drops free text and API calls)', () => {
    const [first] = demo(
      message({
        ticket_attributes: {
          intent: 'bank_fraud_report',
          license: 'MIT',
          userTask: 'You are Tyler Jones',
          apiCalls: [{ name: 'Tyler Jones' }],
        },
      }),
    ).messages;
    expect(first?.meta).toEqual({ intent: 'bank_fraud_report', license: 'MIT' });
  });

  it('keeps a whole metadata object when the mapping gives a path', () => {
    const normalize = createNormalizer(
      parseMapping({
        shape: 'message-per-document',
        fields: {
          conversationId: 'ticket_id',
          role: 'author_type',
          text: 'body',
          timestamp: 'created_at',
          meta: 'ticket_attributes',
        },
        roles: { end_user: 'customer' },
      }),
    );
    expect(normalize(message({ ticket_attributes: { a: 1, b: [2] } })).messages[0]?.meta).toEqual({
      a: 1,
      b: [2],
    });
    expect(normalize(message({ ticket_attributes: 'not an object' })).messages[0]?.meta).toBeNull();
  });

  it('accepts ObjectId and numeric conversation ids', () => {
    const id = new ObjectId();
    expect(demo(message({ ticket_id: id })).messages[0]?.conversationKey).toBe(id.toHexString());
    expect(demo(message({ ticket_id: 42 })).messages[0]?.conversationKey).toBe('42');
  });

  it.each([
    ['a missing text', { body: undefined }, 'missing field "body" (text)'],
    ['an empty text', { body: '   ' }, 'empty text in field "body" (text)'],
    ['a text of the wrong type', { body: 12 }, 'field "body" (text) must be a string: got a number'],
    [
      'an unknown role value',
      { author_type: 'supervisor' },
      'unknown role "supervisor" in field "author_type" (role); the mapping knows end_user, agent, admin, bot',
    ],
    ['a missing role', { author_type: undefined }, 'missing field "author_type" (role)'],
    [
      'a timestamp that is not a date',
      { created_at: 'yesterday' },
      'field "created_at" (timestamp) is not a date',
    ],
    ['a missing timestamp', { created_at: undefined }, 'missing field "created_at" (timestamp)'],
    ['a missing conversation id', { ticket_id: undefined }, 'missing field "ticket_id" (conversation id)'],
    [
      'a conversation id of the wrong type',
      { ticket_id: { x: 1 } },
      'must be a string, number or ObjectId: got an object',
    ],
  ])('quarantines %s with a reason in words', (_what, overrides, reason) => {
    const doc = message(overrides);
    const result = demo(doc);
    expect(result.messages).toEqual([]);
    expect(result.quarantined).toHaveLength(1);
    expect(result.quarantined[0]?.sourceDocumentId).toBe(doc._id);
    expect(result.quarantined[0]?.reason).toContain(reason);
  });

  it('lists every problem of a document in its reason', () => {
    const reason = demo(message({ body: '', author_type: 'x' })).quarantined[0]?.reason;
    expect(reason).toMatch(/unknown role "x".*; empty text/);
  });

  it('never quotes the message text in a reason', () => {
    const secret = 'my PIN is 4455';
    const reason = demo(message({ body: secret, created_at: 'nope' })).quarantined[0]?.reason ?? '';
    expect(reason).not.toContain(secret);
  });
});

describe('conversation-per-document normalization', () => {
  const conversation = (turns: unknown) => ({
    _id: new ObjectId(),
    conversationId: 'tm-1',
    channel: 'chat',
    startedAt: '2024-12-21T02:35:40Z',
    turns,
    meta: { intent: 'order_coffee' },
  });

  it('reads every turn with its position as the message id and the conversation metadata', () => {
    const result = conversations(
      conversation([
        { role: 'customer', text: 'one Chai Latte please', ts: '2024-12-21T02:35:40Z' },
        { role: 'agent', text: 'anything else?', ts: '2024-12-21T02:35:52Z' },
      ]),
    );
    expect(result.quarantined).toEqual([]);
    expect(result.messages.map((m) => [m.messageKey, m.role, m.conversationKey])).toEqual([
      ['0', 'customer', 'tm-1'],
      ['1', 'agent', 'tm-1'],
    ]);
    expect(result.messages[0]?.meta).toEqual({ intent: 'order_coffee' });
  });

  it('quarantines a bad turn by its path and keeps the others', () => {
    const result = conversations(
      conversation([
        { role: 'customer', text: 'hello', ts: '2024-12-21T02:35:40Z' },
        { role: 'wizard', text: 'hi', ts: '2024-12-21T02:35:41Z' },
      ]),
    );
    expect(result.messages).toHaveLength(1);
    expect(result.quarantined).toEqual([
      expect.objectContaining({ path: 'turns.1', reason: expect.stringContaining('unknown role "wizard"') }),
    ]);
  });

  it.each([
    ['no messages array', undefined, 'missing field "turns" (messages)'],
    ['a messages field that is not an array', 'hello', 'must be an array: got a string'],
    ['an empty messages array', [], 'is empty'],
  ])('quarantines the whole document for %s', (_what, turns, reason) => {
    const result = conversations(conversation(turns));
    expect(result.messages).toEqual([]);
    expect(result.quarantined[0]).toMatchObject({ path: null, reason: expect.stringContaining(reason) });
  });

  it('uses a mapped message id when the mapping names one', () => {
    const normalize = createNormalizer(
      parseMapping({
        shape: 'conversation-per-document',
        fields: { conversationId: 'conversationId', messages: 'turns', timestamp: 'startedAt' },
        message: { role: 'role', text: 'text', timestamp: 'ts', id: 'uid' },
        roles: { customer: 'customer' },
      }),
    );
    const result = normalize(
      conversation([{ uid: 'm-9', role: 'customer', text: 'x', ts: '2024-01-01T00:00:00Z' }]),
    );
    expect(result.messages[0]?.messageKey).toBe('m-9');
  });
});
