import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { type DefaultEventsMap, Server } from 'socket.io';
import type { StaffSessions } from '../auth/session.js';
import type { AdminJobEvents } from '../jobs/admin-jobs.js';
import type { Logger } from '../logger.js';
import { rateLimiters } from '../rate-limiter.js';
import type { SharedRedis } from '../redis.js';
import { type AgentNamespaceHandle, attachAgentNamespace } from './agent/namespace.js';
import {
  attachWidgetNamespace,
  type WidgetNamespaceDeps,
  type WidgetNamespaceHandle,
} from './widget/namespace.js';
import { localReplyClaims, redisReplyClaims } from './widget/reply-claims.js';

/** Largest Socket.IO packet accepted; widget messages are limited far below it. */
const MAX_PACKET_BYTES = 64 * 1024;

export interface Realtime {
  io: Server;
  widget: WidgetNamespaceHandle;
  agent: AgentNamespaceHandle;
  /** Tells the other servers (REDIS_URL) that the active model version changed; nothing alone. */
  announceServingChange(): void;
}

/** What servers tell each other on the main namespace. */
interface ServerSideEvents {
  /** A version was promoted or rolled back: read the active version now, not at the next poll. */
  'serving:changed': () => void;
}

/**
 * Socket.IO on the HTTP server's port, with the widget's namespace (visitors) and the agent one
 * (staff consoles); closing it disconnects every client with reason "io server disconnect"
 * so they reconnect to another process instead of waiting on a dead socket. With `redis`
 * (REDIS_URL), both namespaces' rooms span every server through the Redis adapter: an emit to a
 * room reaches its sockets on all of them.
 */
export function createRealtime(
  httpServer: HttpServer,
  deps: Omit<WidgetNamespaceDeps, 'shared' | 'claims' | 'limiter'> & {
    logger: Logger;
    sessions: StaffSessions;
    adminJobs: AdminJobEvents;
    redis: SharedRedis | null;
    /** Called when another server announces a serving change. */
    servingChanged: () => void;
  },
): Realtime {
  const { redis } = deps;
  const io = new Server(httpServer, {
    serveClient: false,
    maxHttpBufferSize: MAX_PACKET_BYTES,
    // The widget runs on customers' sites. Any origin may open the HTTP long-polling transport
    // (without cookies); each namespace then checks the Origin against what it allows.
    cors: { origin: true, credentials: false },
    // Only the in-memory adapter keeps missed packets for a reconnecting client; across servers a
    // reconnecting visitor gets the stored conversation in a fresh session instead.
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 },
    ...(redis ? { adapter: createAdapter(redis.client, redis.subscriber) } : {}),
  });
  io.on('connection', (socket) => {
    deps.logger.debug({ id: socket.id }, 'socket connected');
    socket.on('disconnect', (reason) => deps.logger.debug({ id: socket.id, reason }, 'socket disconnected'));
  });
  const shared = redis !== null;
  const widget = attachWidgetNamespace(io, {
    ...deps,
    shared,
    claims: redis ? redisReplyClaims(redis.client) : localReplyClaims,
    limiter: rateLimiters(redis?.client ?? null),
  });
  const agent = attachAgentNamespace(io, { ...deps, shared });
  const peers = io as unknown as Server<DefaultEventsMap, DefaultEventsMap, ServerSideEvents>;
  if (shared) peers.on('serving:changed', deps.servingChanged);
  return {
    io,
    widget,
    agent,
    announceServingChange() {
      if (shared) peers.serverSideEmit('serving:changed');
    },
  };
}
