/**
 * The `/widget` namespace: visitors on a company's site talk to the bot, and to a person after a
 * handoff. A connection needs a known site key from an allowed origin; the visitor's identity is
 * the signed token they bring back (or a new one), and their conversation follows from it, so no
 * event ever names a conversation and one visitor cannot reach another's.
 */
import { ObjectId } from 'mongodb';
import type { Namespace, Server, Socket } from 'socket.io';
import type { z } from 'zod';
import type { ConversationEventMap, ConversationEvents } from '../../conversations/events.js';
import { requestHuman } from '../../conversations/handoff.js';
import {
  appendMessage,
  type LiveConversation,
  type LiveMessage,
  loadConversation,
  openConversation,
  visitorMessageId,
} from '../../conversations/live.js';
import type { AgentPresence } from '../../conversations/presence.js';
import { deterministicId } from '../../db/ids.js';
import type { Models } from '../../db/models/index.js';
import { widgetSourceName } from '../../ingest/live-conversations.js';
import { sourceIdFor } from '../../ingest/sources.js';
import type { Logger } from '../../logger.js';
import type { RateLimiterFactory } from '../../rate-limiter.js';
import type { ChatEngine } from '../../serving/engine.js';
import { findSiteByKey, isOriginAllowed, type StoredSite, widgetSiteConfig } from '../../sites/index.js';
import { brokenUnicodeMessage, findBrokenUnicode } from '../../unicode.js';
import { describeIssues } from '../../zod-issues.js';
import { type EventArgs, eventArgs } from '../event-args.js';
import { rejectUnknownEvents } from '../unknown-events.js';
import { BotReplies } from './bot-replies.js';
import { asksForHuman } from './handoff-intent.js';
import { presentWidgetMessage } from './present.js';
import {
  type ConnectRefusal,
  type HandoffState,
  WIDGET_NAMESPACE,
  type WidgetClientToServer,
  type WidgetErrorId,
  type WidgetServerToClient,
} from './protocol.js';
import { WidgetRateLimits } from './rate-limits.js';
import type { ReplyClaims } from './reply-claims.js';
import {
  describePayloadIssues,
  handoffRequestSchema,
  identifySchema,
  leaveContactSchema,
  sendMessageSchema,
  widgetAuthSchema,
} from './schemas.js';
import { newVisitorId, signVisitorToken, verifyVisitorToken } from './visitor-token.js';

export interface WidgetLimitsConfig {
  maxMessageChars: number;
  messagesPerMinute: number;
  connectionsPerMinute: number;
}

export interface WidgetNamespaceDeps {
  models: Pick<Models, 'Site' | 'Source' | 'Conversation' | 'VisitorContact'>;
  chat: Pick<ChatEngine, 'reply'>;
  /** Signs visitor tokens (the session secret). */
  secret: string;
  events: ConversationEvents;
  presence: AgentPresence;
  limits: WidgetLimitsConfig;
  /** Other Parley servers share this namespace's rooms (REDIS_URL). */
  shared: boolean;
  /** Which server answers a conversation (shared through Redis with several servers). */
  claims: ReplyClaims;
  limiter: RateLimiterFactory;
  logger: Logger;
}

/** What servers tell each other on this namespace (with REDIS_URL). */
interface WidgetServerSideEvents {
  /** A person took the conversation over: stop the bot's reply in progress, wherever it runs. */
  'reply:stop': (conversationId: string) => void;
}

interface VisitorData {
  site: StoredSite;
  visitorId: string;
  token: string;
  conversationId: ObjectId;
  ip: string;
  locales: string[];
}

type WidgetSocket = Socket<WidgetClientToServer, WidgetServerToClient, WidgetServerSideEvents, VisitorData>;
type WidgetNamespace = Namespace<
  WidgetClientToServer,
  WidgetServerToClient,
  WidgetServerSideEvents,
  VisitorData
>;

const KNOWN_EVENTS = new Set<string>([
  'message:send',
  'handoff:request',
  'contact:leave',
  'visitor:identify',
]);

export const conversationRoom = (conversationId: ObjectId) => `conversation:${conversationId.toHexString()}`;

function refusal(code: ConnectRefusal, message: string): Error {
  return Object.assign(new Error(message), { data: { code } });
}

const failed = (
  error: WidgetErrorId,
  message: string,
): { ok: false; error: WidgetErrorId; message: string } => ({
  ok: false,
  error,
  message,
});

/** What the ack of event E carries. */
type AckOf<E extends keyof WidgetClientToServer> = Parameters<Parameters<WidgetClientToServer[E]>[1]>[0];

export interface WidgetNamespaceHandle {
  namespace: WidgetNamespace;
  replies: BotReplies;
  /** Stops relaying conversation events to visitors. */
  detach(): void;
}

export function attachWidgetNamespace(io: Server, deps: WidgetNamespaceDeps): WidgetNamespaceHandle {
  const { models, logger } = deps;
  // The Server is shared by namespaces with different event maps; this one's map is the widget's.
  const namespace = io.of(WIDGET_NAMESPACE) as unknown as WidgetNamespace;
  const rateLimits = new WidgetRateLimits(deps.limits, deps.limiter);
  const replies = new BotReplies({
    models,
    chat: deps.chat,
    events: deps.events,
    claims: deps.claims,
    logger,
    emit: (conversationId, event, ...payload) => {
      namespace.to(conversationRoom(conversationId)).emit(event, ...payload);
      if (event === 'reply:token') {
        const { replyId, delta } = payload[0] as { replyId: string; delta: string };
        deps.events.emit('replyToken', { conversationId, replyId, delta });
      } else if (event === 'reply:end') {
        const { replyId, message } = payload[0] as { replyId: string; message: unknown };
        deps.events.emit('replyEnd', { conversationId, replyId, stored: message !== null });
      }
    },
  });
  const handoffState = (conversation: Pick<LiveConversation, 'status' | 'meta'>): HandoffState => ({
    mode: conversation.status,
    reason: conversation.meta?.handoffReason ?? null,
    agentsOnline: deps.presence.online > 0,
  });

  namespace.use(async (socket, next) => {
    try {
      const auth = widgetAuthSchema.safeParse(socket.handshake.auth);
      if (!auth.success) {
        const siteKey = (socket.handshake.auth as { siteKey?: unknown } | undefined)?.siteKey;
        if (typeof siteKey !== 'string' || siteKey === '')
          return next(refusal('missing_site_key', 'The widget was embedded without a site key.'));
        return next(
          refusal(
            'invalid_handshake',
            `The widget's handshake is malformed: ${describeIssues(auth.error, 'auth')}`,
          ),
        );
      }
      const ip = socket.handshake.address;
      const wait = await rateLimits.connection(ip);
      if (wait > 0)
        return next(
          refusal('rate_limited', `Too many connections; try again in ${Math.ceil(wait / 1000)} seconds.`),
        );
      const site = await findSiteByKey(models, auth.data.siteKey);
      if (!site)
        return next(refusal('unknown_site_key', 'This site key is not known to this Parley server.'));
      if (site.disabledAt) return next(refusal('site_disabled', 'Chat is switched off for this site.'));
      const origin = socket.handshake.headers.origin;
      if (!isOriginAllowed(origin, site.origins))
        return next(
          refusal('origin_not_allowed', `Chat is not enabled for ${origin ?? 'pages without an origin'}.`),
        );

      const siteId = site._id.toHexString();
      const visitorId = verifyVisitorToken(deps.secret, auth.data.token, siteId)?.visitorId ?? newVisitorId();
      const locales = auth.data.locales ?? [];
      const conversation = await openConversation(models, {
        siteId: site._id,
        sourceId: sourceIdFor(widgetSourceName(site.name)),
        visitorId,
        locale: locales[0] ?? site.defaultLocale,
      });
      socket.data = {
        site,
        visitorId,
        token: signVisitorToken(deps.secret, { siteId, visitorId }),
        conversationId: conversation._id,
        ip,
        locales,
      };
      next();
    } catch (error) {
      logger.error({ err: error }, 'widget connection failed');
      next(refusal('site_disabled', 'Chat is unavailable right now; please try again later.'));
    }
  });

  async function sendSession(socket: WidgetSocket): Promise<LiveConversation | null> {
    const conversation = await loadConversation(models, socket.data.conversationId);
    if (!conversation || socket.disconnected) return null;
    const { mode, reason, agentsOnline } = handoffState(conversation);
    socket.emit('session', {
      token: socket.data.token,
      conversationId: conversation._id.toHexString(),
      mode,
      handoffReason: reason,
      agentsOnline,
      messages: conversation.messages.map(presentWidgetMessage),
      site: widgetSiteConfig(socket.data.site, socket.data.locales, deps.limits.maxMessageChars),
    });
    return conversation;
  }

  /** The visitor writes again after their conversation was closed: a new one starts. */
  async function moveToNewConversation(socket: WidgetSocket): Promise<LiveConversation> {
    const { site, visitorId, locales } = socket.data;
    const conversation = await openConversation(models, {
      siteId: site._id,
      sourceId: sourceIdFor(widgetSourceName(site.name)),
      visitorId,
      locale: locales[0] ?? site.defaultLocale,
    });
    await socket.leave(conversationRoom(socket.data.conversationId));
    socket.data.conversationId = conversation._id;
    await socket.join(conversationRoom(conversation._id));
    await sendSession(socket);
    return conversation;
  }

  namespace.on('connection', async (socket: WidgetSocket) => {
    await socket.join(conversationRoom(socket.data.conversationId));
    registerHandlers(socket);
    const conversation = await sendSession(socket);
    // The visitor is still waiting for the bot: the server that was answering stopped (a restart,
    // or it died and this visitor reconnected here). A reply already under way is not repeated.
    if (conversation?.status === 'bot' && conversation.messages.at(-1)?.role === 'customer')
      void replies.request(conversation._id, socket.data.site.handoffThreshold);
  });

  function handle<E extends keyof WidgetClientToServer, S extends z.ZodType>(
    socket: WidgetSocket,
    event: E,
    schema: S,
    action: (payload: z.infer<S>) => Promise<AckOf<E>>,
  ): void {
    // Payloads are untrusted: the listener takes unknowns and parses them.
    (socket as unknown as Socket).on(event as string, async (...args: unknown[]) => {
      const { payload, extra, reply } = eventArgs(args) as EventArgs & { reply: (result: AckOf<E>) => void };
      if (extra > 0) return reply(failed('invalid_payload', 'expected one payload object and an ack'));
      if (ArrayBuffer.isView(payload) || payload instanceof ArrayBuffer)
        return reply(failed('invalid_payload', 'payload: expected a JSON object, not binary data'));
      const broken = findBrokenUnicode(payload, 'payload');
      if (broken) return reply(failed('invalid_payload', brokenUnicodeMessage(broken)));
      const parsed = schema.safeParse(payload);
      if (!parsed.success) return reply(failed('invalid_payload', describePayloadIssues(parsed.error)));
      try {
        reply(await action(parsed.data));
      } catch (error) {
        logger.error({ err: error, event }, 'widget event failed');
        reply(failed('internal', 'Something went wrong on our side; please send it again.'));
      }
    });
  }

  function registerHandlers(socket: WidgetSocket): void {
    const { site } = socket.data;

    rejectUnknownEvents(socket as unknown as Socket, (event) => KNOWN_EVENTS.has(event));

    handle(socket, 'message:send', sendMessageSchema, async ({ clientMessageId, text }) => {
      const trimmed = text.trim();
      if (trimmed === '') return failed('invalid_payload', 'text: a message needs some text');
      if ([...trimmed].length > deps.limits.maxMessageChars)
        return failed(
          'message_too_long',
          `Messages can be at most ${deps.limits.maxMessageChars} characters long.`,
        );
      let conversation = await loadConversation(models, socket.data.conversationId);
      if (!conversation || conversation.status === 'closed')
        conversation = await moveToNewConversation(socket);
      const conversationId = conversation._id;
      const _id = visitorMessageId(conversationId, clientMessageId);
      const already = conversation.messages.find((m) => m._id.equals(_id));
      if (already) return { ok: true, message: presentWidgetMessage(already), duplicate: true };
      const wait = await rateLimits.message(socket.data.visitorId, socket.data.ip);
      if (wait > 0)
        return failed(
          'rate_limited',
          `Too many messages; wait ${Math.ceil(wait / 1000)} seconds and send again.`,
        );

      const message: LiveMessage = {
        _id,
        role: 'customer',
        text: trimmed,
        ts: new Date(),
        clientMessageId,
        modelVersion: null,
        confidence: null,
        authorId: null,
        authorName: null,
      };
      const appended = await appendMessage(models, conversationId, message);
      if (!appended)
        return failed('conversation_closed', 'This conversation no longer exists; reload the page.');
      const presented = presentWidgetMessage(appended.message);
      if (appended.duplicate) return { ok: true, message: presented, duplicate: true };

      socket.to(conversationRoom(conversationId)).emit('message', presented);
      deps.events.emit('message', { conversationId, siteId: site._id, message });
      if (conversation.status === 'bot') {
        if (asksForHuman(trimmed)) await requestHuman(deps, conversation, 'requested');
        else void replies.request(conversationId, site.handoffThreshold);
      }
      return { ok: true, message: presented, duplicate: false };
    });

    handle(socket, 'handoff:request', handoffRequestSchema, async () => {
      const conversation = await loadConversation(models, socket.data.conversationId);
      if (!conversation)
        return failed('conversation_closed', 'This conversation no longer exists; reload the page.');
      if (conversation.status === 'bot') {
        await requestHuman(deps, conversation, 'requested');
        return {
          ok: true,
          state: { mode: 'waiting', reason: 'requested', agentsOnline: deps.presence.online > 0 },
        };
      }
      return { ok: true, state: handoffState(conversation) };
    });

    handle(socket, 'contact:leave', leaveContactSchema, async ({ email }) => {
      await models.VisitorContact.create({
        siteId: site._id,
        visitorId: socket.data.visitorId,
        conversationId: socket.data.conversationId,
        kind: 'leave-email',
        email,
      });
      return { ok: true };
    });

    handle(socket, 'visitor:identify', identifySchema, async ({ name, email }) => {
      const set: Record<string, string> = {};
      if (name !== undefined) set.name = name;
      if (email !== undefined) set.email = email;
      await models.VisitorContact.updateOne(
        { _id: deterministicId('visitor-identify', site._id.toHexString(), socket.data.visitorId) },
        {
          $set: set,
          $setOnInsert: {
            siteId: site._id,
            visitorId: socket.data.visitorId,
            conversationId: socket.data.conversationId,
            kind: 'identify',
          },
        },
        { upsert: true },
      );
      return { ok: true };
    });
  }

  const onMessage = ({ conversationId, message }: ConversationEventMap['message'][0]) => {
    if (message.role === 'agent')
      namespace.to(conversationRoom(conversationId)).emit('message', presentWidgetMessage(message));
  };
  const onMode = ({ conversationId, mode, reason }: ConversationEventMap['mode'][0]) => {
    if (mode !== 'bot') {
      replies.stop(conversationId);
      if (deps.shared) namespace.serverSideEmit('reply:stop', conversationId.toHexString());
    }
    namespace
      .to(conversationRoom(conversationId))
      .emit('handoff', { mode, reason, agentsOnline: deps.presence.online > 0 });
  };
  const onStopFromPeer = (conversationId: string) => {
    if (/^[0-9a-f]{24}$/.test(conversationId)) replies.stop(new ObjectId(conversationId));
  };
  deps.events.on('message', onMessage);
  deps.events.on('mode', onMode);
  if (deps.shared) namespace.on('reply:stop', onStopFromPeer);

  return {
    namespace,
    replies,
    detach() {
      deps.events.off('message', onMessage);
      deps.events.off('mode', onMode);
      namespace.off('reply:stop', onStopFromPeer);
    },
  };
}
