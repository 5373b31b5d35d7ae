import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIALOGUE_DIR, readDialogues } from '../../../seed/dialogues.js';
import { toRawMessages } from '../../../seed/raw-support-logs.js';

async function collect(file: string, limit?: number) {
  const all = [];
  for await (const dialogue of readDialogues(path.join(DIALOGUE_DIR, file), limit)) all.push(dialogue);
  return all;
}

describe('shipped demo dialogues', () => {
  it.each([
    ['star.train.jsonl.br', 4845],
    ['star.dev.jsonl.br', 605],
    ['taskmaster4.train.jsonl.br', 2942],
    ['taskmaster4.dev.jsonl.br', 364],
  ])('%s holds %i valid conversations', async (file, count) => {
    const dialogues = await collect(file);
    expect(dialogues).toHaveLength(count);
    expect(new Set(dialogues.map((d) => d.conversationId)).size).toBe(count);
  });

  it('credits Taskmaster-4 under CC BY 4.0 in every conversation it ships', async () => {
    for (const dialogue of await collect('taskmaster4.dev.jsonl.br')) {
      expect(dialogue.meta.license).toBe('CC-BY-4.0');
      expect(dialogue.meta.attribution).toMatch(
        /Taskmaster-4 \(2024\), Bill Byrne and Saravanan Ganesh, Google LLC/,
      );
    }
  });

  it('stops after `limit` conversations', async () => {
    expect(await collect('star.dev.jsonl.br', 3)).toHaveLength(3);
    expect(await collect('star.dev.jsonl.br', 0)).toHaveLength(0);
  });
});

describe('toRawMessages', () => {
  const dialogue = {
    conversationId: 'star-42',
    channel: 'chat',
    startedAt: '2020-05-13T13:14:24Z',
    turns: [
      { role: 'customer' as const, text: 'My card was stolen', ts: '2020-05-13T13:14:57Z' },
      { role: 'agent' as const, text: 'Could I get your name, please?', ts: '2020-05-13T13:15:14Z' },
    ],
    meta: { source: 'RasaHQ/STAR', task: 'bank_fraud_report' },
  };

  it('writes one helpdesk-style document per message, in a shape unlike Parley’s', () => {
    const [first, second] = toRawMessages(dialogue);
    expect(first).toMatchObject({
      message_id: 'star-42:0',
      ticket_id: 'star-42',
      author_type: 'end_user',
      body: 'My card was stolen',
      created_at: new Date('2020-05-13T13:14:57Z'),
      channel: 'chat',
    });
    expect(second).toMatchObject({ author_type: 'agent', message_id: 'star-42:1' });
    expect(first?.customer_id).toMatch(/^cus_[0-9a-f]{12}$/);
    expect(second?.customer_id).toBe(first?.customer_id);
  });

  it('carries ticket labels on the first message only', () => {
    const [first, second] = toRawMessages(dialogue);
    expect(first?.ticket_attributes).toMatchObject({
      task: 'bank_fraud_report',
      startedAt: new Date(dialogue.startedAt),
    });
    expect(second?.ticket_attributes).toBeUndefined();
  });

  it('derives the same _ids every time, so re-seeding finds them taken', () => {
    const a = toRawMessages(dialogue).map((m) => m._id.toHexString());
    const b = toRawMessages(dialogue).map((m) => m._id.toHexString());
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(2);
  });
});
