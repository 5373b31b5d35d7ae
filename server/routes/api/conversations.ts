/** The agent inbox over REST: list, read, take over, hand back, reply, rate; and the review queue. */
import type { Request } from 'express';
import { ObjectId } from 'mongodb';
import { z } from 'zod';
import { recordAudit } from '../../audit.js';
import type { Endpoint } from '../../auth/policy.js';
import {
  conversationDetail,
  listConversations,
  loadLiveConversation,
  presentConsoleMessage,
  rateMessage,
  reviewQueue,
} from '../../conversations/console.js';
import type { ConversationEvents } from '../../conversations/events.js';
import { closeConversation, handBack, sendAgentMessage, takeOver } from '../../conversations/handoff.js';
import { deterministicId } from '../../db/ids.js';
import { CONVERSATION_STATUSES } from '../../db/models/conversation.js';
import type { Models } from '../../db/models/index.js';
import { conflict } from '../../errors.js';
import { RATING_REASONS } from '../../realtime/agent/protocol.js';
import { parseInput } from './parse.js';

export interface ConversationRouteDeps {
  models: Pick<Models, 'Conversation' | 'Site' | 'AuditEvent' | 'VisitorContact'>;
  events: ConversationEvents;
  maxMessageChars: number;
}

const listQuery = z.object({
  mode: z.enum(CONVERSATION_STATUSES).optional(),
  q: z.string().trim().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const reviewQueryShape = z.object({
  order: z.enum(['newest', 'confidence']).default('newest'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const rateBody = z.strictObject({
  value: z.enum(['up', 'down', 'corrected']),
  reasons: z.array(z.enum(RATING_REASONS)).max(RATING_REASONS.length).optional(),
  correction: z.string().max(4000).optional(),
});

const idParam = (req: Request, name: string) => String(req.params[name]);

export function conversationEndpoints(deps: ConversationRouteDeps): Endpoint[] {
  const { models } = deps;
  const replyBody = z.strictObject({
    text: z.string().trim().min(1, { error: 'a reply needs some text' }).max(deps.maxMessageChars),
    clientMessageId: z
      .string()
      .regex(/^[\w-]{8,64}$/, { error: 'expected 8-64 letters, digits, "-" or "_"' }),
  });

  const changeMode = (action: 'take_over' | 'hand_back' | 'close'): Endpoint => ({
    method: 'post',
    path: `/conversations/:id/${action.replace('_', '-')}`,
    access: 'staff',
    async handler(req, res) {
      const conversation = await loadLiveConversation(models, idParam(req, 'id'));
      if (conversation.status === 'closed')
        throw conflict('This conversation is closed.', 'conversation_closed');
      const target = { _id: conversation._id, siteId: conversation.siteId };
      if (action === 'take_over') await takeOver(deps, target);
      else if (action === 'hand_back') await handBack(deps, target);
      else await closeConversation(deps, target);
      await recordAudit(models, {
        action: `conversation.${action}`,
        actor: req.user!,
        target: { type: 'conversation', id: conversation._id.toHexString() },
      });
      res.json(await conversationDetail(models, conversation._id.toHexString()));
    },
  });

  return [
    {
      method: 'get',
      path: '/conversations',
      access: 'staff',
      async handler(req, res) {
        const query = parseInput(listQuery, req.query);
        res.json({ conversations: await listConversations(models, query) });
      },
    },
    {
      method: 'get',
      path: '/conversations/:id',
      access: 'staff',
      async handler(req, res) {
        res.json(await conversationDetail(models, idParam(req, 'id')));
      },
    },
    changeMode('take_over'),
    changeMode('hand_back'),
    changeMode('close'),
    {
      method: 'post',
      path: '/conversations/:id/messages',
      access: 'staff',
      async handler(req, res) {
        const body = parseInput(replyBody, req.body);
        const conversation = await loadLiveConversation(models, idParam(req, 'id'));
        if (conversation.status === 'closed')
          throw conflict('This conversation is closed.', 'conversation_closed');
        // A person answering takes the conversation over, so the bot does not answer too.
        if (conversation.status !== 'human') await takeOver(deps, conversation);
        const agent = req.user!;
        const message = await sendAgentMessage(
          deps,
          conversation,
          { id: new ObjectId(agent.id), name: agent.name },
          body.text,
          deterministicId('agent-message', conversation._id.toHexString(), body.clientMessageId),
        );
        if (!message) throw conflict('This conversation no longer exists.', 'conversation_gone');
        res.status(201).json({ message: presentConsoleMessage(message) });
      },
    },
    {
      method: 'put',
      path: '/conversations/:id/messages/:messageId/rating',
      access: 'staff',
      async handler(req, res) {
        const body = parseInput(rateBody, req.body);
        const message = await rateMessage(
          models,
          idParam(req, 'id'),
          idParam(req, 'messageId'),
          body,
          req.user!,
        );
        await recordAudit(models, {
          action: 'message.rate',
          actor: req.user!,
          target: { type: 'message', id: message.id },
          details: { conversationId: idParam(req, 'id'), value: body.value, reasons: body.reasons ?? [] },
        });
        deps.events.emit('rated', { conversationId: idParam(req, 'id') });
        res.json({ message });
      },
    },
    {
      method: 'get',
      path: '/review-queue',
      access: 'staff',
      async handler(req, res) {
        res.json({ items: await reviewQueue(models, parseInput(reviewQueryShape, req.query)) });
      },
    },
  ];
}
