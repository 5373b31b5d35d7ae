/**
 * The `/agent` namespace: live inbox updates for signed-in staff. The session cookie authenticates
 * the handshake (the same sessions as /api); the Origin must be Parley's own, so no other site can
 * open a socket with an agent's cookie. Actions go through the REST API (CSRF-protected); this
 * namespace only tells consoles what changed.
 */
import type { IncomingMessage } from 'node:http';
import { ObjectId } from 'mongodb';
import type { Namespace, Server, Socket } from 'socket.io';
import { checkAccess } from '../../auth/policy.js';
import type { StaffSessions } from '../../auth/session.js';
import {
  type ConsoleModels,
  loadLiveConversation,
  presentConsoleMessage,
  summarizeOne,
} from '../../conversations/console.js';
import type { ConversationEventMap, ConversationEvents } from '../../conversations/events.js';
import type { AgentPresence } from '../../conversations/presence.js';
import { HttpError } from '../../errors.js';
import type { AdminJobEventMap, AdminJobEvents } from '../../jobs/admin-jobs.js';
import type { Logger } from '../../logger.js';
import { type JobEvent, type ProgressEvent, trainingJobEvents } from '../../train/job.js';
import { eventArgs } from '../event-args.js';
import { rejectUnknownEvents } from '../unknown-events.js';
import {
  AGENT_NAMESPACE,
  type AgentClientToServer,
  type AgentServerToClient,
  type StaffUser,
} from './protocol.js';

export interface AgentNamespaceDeps {
  models: ConsoleModels;
  /** Long work admins start from the console; its progress goes to admins' sockets. */
  adminJobs: AdminJobEvents;
  sessions: StaffSessions;
  events: ConversationEvents;
  presence: AgentPresence;
  /** Other Parley servers share this namespace's rooms (REDIS_URL). */
  shared: boolean;
  logger: Logger;
}

/** What servers tell each other on this namespace (with REDIS_URL). */
interface AgentServerSideEvents {
  /** The agents connected to the sending server changed. */
  'presence:changed': () => void;
}

/** How often each server re-reads the others' agents anyway (a server that died tells no one). */
const REMOTE_PRESENCE_REFRESH_MS = 10_000;

interface AgentData {
  user: StaffUser;
  watching: string | null;
}

type AgentSocket = Socket<AgentClientToServer, AgentServerToClient, AgentServerSideEvents, AgentData>;
type AgentNamespace = Namespace<AgentClientToServer, AgentServerToClient, AgentServerSideEvents, AgentData>;

/** Who may send which event: one table, checked for every event (like the REST endpoints). */
export const AGENT_EVENT_ACCESS = { 'conversation:watch': 'staff' } as const satisfies Record<
  keyof AgentClientToServer,
  'staff' | 'admin'
>;

const AGENTS_ROOM = 'agents';
const ADMINS_ROOM = 'admins';
const watchRoom = (conversationId: string) => `watch:${conversationId}`;

type RequestWithUser = IncomingMessage & { user?: StaffUser; _query?: Record<string, string> };

/** Runs express middleware on the Engine.IO handshake request only (not on every polling request). */
function onHandshake(middleware: (req: never, res: never, next: (error?: unknown) => void) => void) {
  return (req: RequestWithUser, res: unknown, next: (error?: unknown) => void) => {
    if (req._query?.sid === undefined) middleware(req as never, res as never, next);
    else next();
  };
}

function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser: the cookie is what it must have
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export interface AgentNamespaceHandle {
  namespace: AgentNamespace;
  detach(): void;
}

export function attachAgentNamespace(io: Server, deps: AgentNamespaceDeps): AgentNamespaceHandle {
  const { models, logger } = deps;
  for (const middleware of deps.sessions.middleware) io.engine.use(onHandshake(middleware as never));
  const namespace = io.of(AGENT_NAMESPACE) as unknown as AgentNamespace;

  namespace.use((socket, next) => {
    const request = socket.request as RequestWithUser;
    if (!sameOrigin(request))
      return next(
        Object.assign(new Error('Only the Parley console may connect here.'), {
          data: { code: 'forbidden' },
        }),
      );
    try {
      checkAccess(request.user, 'staff');
    } catch (error) {
      const code = error instanceof HttpError ? error.id : 'unauthorized';
      return next(Object.assign(new Error((error as Error).message), { data: { code } }));
    }
    socket.data = { user: request.user!, watching: null };
    next();
  });

  // Each server tells its own consoles; with several servers, the others tell theirs once they
  // have read the change.
  let toldOnline: number | null = null;
  const tellConsoles = () => {
    toldOnline = deps.presence.online;
    namespace.local.to(AGENTS_ROOM).emit('presence', { agentsOnline: toldOnline });
  };
  const remotePresence = deps.shared
    ? watchRemotePresence(namespace, deps, () => {
        if (deps.presence.online !== toldOnline) tellConsoles();
      })
    : null;
  const localPresenceChanged = () => {
    tellConsoles();
    if (deps.shared) namespace.serverSideEmit('presence:changed');
  };

  namespace.on('connection', (socket: AgentSocket) => {
    const { user } = socket.data;
    void socket.join(AGENTS_ROOM);
    if (user.role === 'admin') void socket.join(ADMINS_ROOM);
    deps.presence.connected(user.id);
    localPresenceChanged();
    socket.on('disconnect', () => {
      deps.presence.disconnected(user.id);
      localPresenceChanged();
    });

    socket.on('conversation:watch', async (...args: unknown[]) => {
      const { payload, extra, reply } = eventArgs(args);
      try {
        if (extra > 0)
          return reply({
            ok: false,
            error: 'invalid_payload',
            message: 'expected one payload object and an ack',
          });
        checkAccess(socket.data.user, AGENT_EVENT_ACCESS['conversation:watch']);
        const id = (payload as { conversationId?: unknown } | null)?.conversationId;
        if (id !== null && (typeof id !== 'string' || !/^[0-9a-f]{24}$/.test(id)))
          return reply({
            ok: false,
            error: 'invalid_payload',
            message: 'conversationId: expected a conversation id or null',
          });
        if (id) await loadLiveConversation(models, id);
        if (socket.data.watching) await socket.leave(watchRoom(socket.data.watching));
        socket.data.watching = id;
        if (id) await socket.join(watchRoom(id));
        reply({ ok: true });
      } catch (error) {
        if (error instanceof HttpError) return reply({ ok: false, error: error.id, message: error.message });
        logger.error({ err: error }, 'conversation:watch failed');
        reply({ ok: false, error: 'internal', message: 'Something went wrong on our side.' });
      }
    });
    // Own keys only: "toString" or "constructor" are no events of ours.
    rejectUnknownEvents(socket as unknown as Socket, (event) => Object.hasOwn(AGENT_EVENT_ACCESS, event));
  });

  // Each visitor message and bot reply lands here: read nothing while no console is connected to
  // any server.
  const updated = async (conversationId: ObjectId | string) => {
    if (deps.presence.online === 0) return;
    try {
      const conversation = await loadLiveConversation(models, conversationId.toString());
      namespace.to(AGENTS_ROOM).emit('conversation:updated', await summarizeOne(models, conversation));
    } catch (error) {
      if (!(error instanceof HttpError))
        logger.warn({ err: error }, 'could not tell agents about a conversation');
    }
  };
  const onMessage = ({ conversationId, message }: ConversationEventMap['message'][0]) => {
    namespace.to(watchRoom(conversationId.toHexString())).emit('message', {
      conversationId: conversationId.toHexString(),
      message: presentConsoleMessage(message),
    });
    void updated(conversationId);
  };
  const onMode = ({ conversationId }: ConversationEventMap['mode'][0]) => void updated(conversationId);
  const onRated = ({ conversationId }: ConversationEventMap['rated'][0]) =>
    void updated(new ObjectId(conversationId));
  const onToken = ({ conversationId, replyId, delta }: ConversationEventMap['replyToken'][0]) => {
    const id = conversationId.toHexString();
    namespace.to(watchRoom(id)).emit('reply:token', { conversationId: id, replyId, delta });
  };
  const onReplyEnd = ({ conversationId, replyId, stored }: ConversationEventMap['replyEnd'][0]) => {
    const id = conversationId.toHexString();
    namespace.to(watchRoom(id)).emit('reply:end', { conversationId: id, replyId, stored });
  };
  deps.events.on('message', onMessage);
  deps.events.on('mode', onMode);
  deps.events.on('rated', onRated);
  deps.events.on('replyToken', onToken);
  deps.events.on('replyEnd', onReplyEnd);

  const admins = () => namespace.to(ADMINS_ROOM);
  const onIngestProgress = ({ source, progress }: AdminJobEventMap['ingest:progress'][0]) =>
    admins().emit('ingest:progress', { source, ...progress });
  const onIngestDone = ({ source, summary, error }: AdminJobEventMap['ingest:done'][0]) =>
    admins().emit('ingest:done', {
      source,
      summary: summary && {
        runId: summary.runId,
        status: summary.status,
        read: summary.read,
        conversations: summary.conversations,
        messages: summary.messages,
        quarantined: summary.quarantined,
        durationMs: summary.durationMs,
        pii: {
          entities: summary.pii.entities as Record<string, number>,
          operators: summary.pii.operators as Record<string, number>,
        },
      },
      error,
    });
  const onDatasetDone = (event: AdminJobEventMap['dataset:done'][0]) => admins().emit('dataset:done', event);
  const onTrainingDone = ({ jobId, result, error, status }: AdminJobEventMap['training:done'][0]) =>
    admins().emit('training:done', {
      jobId: result?.jobId ?? jobId,
      status: result?.status ?? status ?? 'failed',
      version: result?.version ?? null,
      error,
    });
  const onTrainingProgress = (jobId: string, progress: ProgressEvent) =>
    admins().emit('training:progress', { jobId, ...progress });
  const onTrainingEvent = (jobId: string, event: JobEvent) =>
    admins().emit('training:event', {
      jobId,
      level: event.level,
      message: event.message,
      time: event.time.toISOString(),
    });
  deps.adminJobs.on('ingest:progress', onIngestProgress);
  deps.adminJobs.on('ingest:done', onIngestDone);
  deps.adminJobs.on('dataset:done', onDatasetDone);
  deps.adminJobs.on('training:done', onTrainingDone);
  trainingJobEvents.on('progress', onTrainingProgress);
  trainingJobEvents.on('event', onTrainingEvent);

  return {
    namespace,
    detach() {
      remotePresence?.stop();
      deps.events.off('message', onMessage);
      deps.events.off('mode', onMode);
      deps.events.off('rated', onRated);
      deps.events.off('replyToken', onToken);
      deps.events.off('replyEnd', onReplyEnd);
      deps.adminJobs.off('ingest:progress', onIngestProgress);
      deps.adminJobs.off('ingest:done', onIngestDone);
      deps.adminJobs.off('dataset:done', onDatasetDone);
      deps.adminJobs.off('training:done', onTrainingDone);
      trainingJobEvents.off('progress', onTrainingProgress);
      trainingJobEvents.off('event', onTrainingEvent);
    },
  };
}

/**
 * Keeps `deps.presence` told which agents the other servers have, re-reading them (one
 * `fetchSockets` over Redis) when a server says its agents changed, and every
 * REMOTE_PRESENCE_REFRESH_MS. Reads that overlap are folded into one more.
 */
function watchRemotePresence(
  namespace: AgentNamespace,
  deps: Pick<AgentNamespaceDeps, 'presence' | 'logger'>,
  changed: () => void,
): { stop(): void } {
  let reading: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const read = async () => {
    const sockets = await namespace.in(AGENTS_ROOM).fetchSockets();
    if (stopped) return;
    deps.presence.setRemote(sockets.filter((s) => !namespace.sockets.has(s.id)).map((s) => s.data.user.id));
    changed();
  };
  const refresh = () => {
    if (reading) {
      again = true;
      return;
    }
    reading = (async () => {
      do {
        again = false;
        await read().catch((error: unknown) =>
          deps.logger.warn({ err: error }, 'could not read which agents the other servers have'),
        );
      } while (again && !stopped);
    })().finally(() => {
      reading = null;
    });
  };
  namespace.on('presence:changed', refresh);
  const timer = setInterval(refresh, REMOTE_PRESENCE_REFRESH_MS).unref();
  refresh();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      namespace.off('presence:changed', refresh);
    },
  };
}
