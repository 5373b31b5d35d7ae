/**
 * The widget's chats are Parley's new support logs: once finished they are anonymized in place
 * by ingesting the site's widget source, and then build into datasets like any other source.
 */
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendAgentMessage, takeOver } from '../../server/conversations/handoff.js';
import { buildDataset } from '../../server/datasets/build.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { inThreadAnonymizer } from '../../server/ingest/batch-anonymizer.js';
import { runIngestion } from '../../server/ingest/run.js';
import { ChatTokenizer } from '../../server/ml/tokenizer.js';
import { createAnonymizer } from '../../server/privacy/pii/index.js';
import { createSite, type StoredSite } from '../../server/sites/index.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { TEST_PII_KEY, tinyBaseModel } from '../support/pipeline.js';
import { clientMessageId, connectVisitor } from '../support/widget-client.js';

const SHOP = 'https://shop.example';

describe('ingesting a widget source', () => {
  let running: RunningParley;
  let dataDir: { dir: string; cleanup: () => Promise<void> };
  let shop: StoredSite;
  const ingest = (options: { holdOpenMs?: number } = {}) =>
    runIngestion(
      {
        models: running.db.models,
        connection: running.db.connection,
        anonymizer: inThreadAnonymizer(createAnonymizer({ hashKey: TEST_PII_KEY })),
        hashKey: TEST_PII_KEY,
      },
      'widget:shop',
      options,
    );

  /** A visitor who gives personal data, the bot (no model here) hands over, and an agent answers. */
  async function chat(visitorText: string, agentText: string) {
    const { socket, session } = await connectVisitor(running.url, { siteKey: shop.publicKey, origin: SHOP });
    await socket.emitWithAck('message:send', { clientMessageId: clientMessageId(), text: visitorText });
    await running.widget.replies.idle();
    const conversation = { _id: new ObjectId(session.conversationId), siteId: shop._id };
    const deps = { models: running.db.models, events: running.conversations.events };
    await takeOver(deps, conversation);
    await sendAgentMessage(
      deps,
      conversation,
      { id: new ObjectId(), name: 'Dana' },
      agentText,
      new ObjectId(),
    );
    socket.close();
    return { conversationId: conversation._id, token: session.token };
  }

  beforeAll(async () => {
    dataDir = await tempDataDir();
    running = await startParley(testEnv(dataDir.dir));
    shop = await createSite(running.db.models, { name: 'shop', origins: [SHOP] });
  });
  afterAll(async () => {
    await running.close();
    await dataDir.cleanup();
  });

  it('leaves chats that are still going on alone', async () => {
    const { conversationId } = await chat('Hi, I am Maria Lopez', 'Hello Maria, how can I help?');
    const summary = await ingest();
    expect(summary).toMatchObject({ status: 'succeeded', conversations: 0, messages: 0 });
    const stored = await running.db.models.Conversation.findById(conversationId).lean();
    expect(stored!.anonymizedAt).toBeNull();
    expect(stored!.messages[0]!.text).toBe('Hi, I am Maria Lopez');
  });

  it('anonymizes finished chats in place, corrections included, closes them and reports what it replaced', async () => {
    const { conversationId, token } = await chat(
      'My name is Maria Lopez, email maria.lopez@example.com',
      'Thanks Maria, I wrote to maria.lopez@example.com.',
    );
    // An agent corrected a bot reply that named the visitor.
    const botReplyId = new ObjectId();
    await running.db.models.Conversation.updateOne(
      { _id: conversationId },
      {
        $push: {
          messages: {
            _id: botReplyId,
            role: 'bot',
            text: 'Goodbye!',
            ts: new Date(),
            rating: {
              value: 'corrected',
              correction: 'Goodbye Maria Lopez!',
              by: new ObjectId(),
              at: new Date(),
            },
          },
        },
      },
    );

    const summary = await ingest({ holdOpenMs: 0 });
    expect(summary).toMatchObject({
      status: 'succeeded',
      source: 'widget:shop',
      quarantined: 0,
      watermark: null,
    });
    expect(summary.conversations).toBe(2);
    expect(summary.pii.entities.EMAIL_ADDRESS).toBe(2);
    expect(summary.pii.entities.PERSON).toBeGreaterThanOrEqual(3);

    const stored = await running.db.models.Conversation.findById(conversationId).lean();
    expect(stored!.status).toBe('closed');
    expect(stored!.anonymizedAt).toBeInstanceOf(Date);
    const everything = JSON.stringify(stored!.messages);
    expect(everything).not.toMatch(/Maria|maria\.lopez@example\.com/);
    expect(stored!.messages[0]!.text).toContain('<PERSON_1>');
    expect(stored!.messages[1]!.text).toContain('<EMAIL_ADDRESS_1>');
    expect(stored!.messages[2]!.rating).toMatchObject({
      value: 'corrected',
      correction: 'Goodbye <PERSON_1>!',
    });

    const run = await running.db.models.IngestionRun.findById(summary.runId).lean();
    expect(run).toMatchObject({ status: 'succeeded', counts: { conversations: 2 } });

    // Anonymized is final: the next run finds nothing, and the visitor starts a new conversation.
    expect((await ingest({ holdOpenMs: 0 })).conversations).toBe(0);
    const back = await connectVisitor(running.url, { siteKey: shop.publicKey, origin: SHOP, token });
    expect(back.session.conversationId).not.toBe(conversationId.toHexString());
    expect(back.session.messages).toEqual([]);
    back.socket.close();
  });

  it('builds a dataset from the anonymized chats, training on the agent replies', async () => {
    const base = await tinyBaseModel(dataDir.dir);
    const result = await buildDataset(
      { models: running.db.models, dataDir: dataDir.dir },
      { sources: ['widget:shop'] },
      {
        tokenizer: await ChatTokenizer.load(base),
        baseModel: base,
        contextLength: 64,
        systemPrompt: 'you are helpful',
        validationPercent: 0,
      },
    );
    expect(result.status).toBe('ready');
    expect(result.stats).toMatchObject({ conversations: 2, examples: 2 });
    // Only the agent replies and the corrected bot reply are targets.
    expect(result.stats!.targetTokens).toBeGreaterThan(0);
    expect(result.stats!.targetTokens).toBeLessThan(result.stats!.tokens);
  });
});
