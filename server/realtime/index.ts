import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { StaffSessions } from '../auth/session.js';
import type { AdminJobEvents } from '../jobs/admin-jobs.js';
import type { Logger } from '../logger.js';
import { type AgentNamespaceHandle, attachAgentNamespace } from './agent/namespace.js';
import {
  attachWidgetNamespace,
  type WidgetNamespaceDeps,
  type WidgetNamespaceHandle,
} from './widget/namespace.js';

/** Largest Socket.IO packet accepted; widget messages are limited far below it. */
const MAX_PACKET_BYTES = 64 * 1024;

export interface Realtime {
  io: Server;
  widget: WidgetNamespaceHandle;
  agent: AgentNamespaceHandle;
}

/**
 * Socket.IO on the HTTP server's port, with the widget's namespace (visitors) and the agent one
 * (staff consoles); closing it disconnects every client with reason "io server disconnect"
 * so they reconnect to another process instead of waiting on a dead socket.
 */
export function createRealtime(
  httpServer: HttpServer,
  deps: WidgetNamespaceDeps & { logger: Logger; sessions: StaffSessions; adminJobs: AdminJobEvents },
): Realtime {
  const io = new Server(httpServer, {
    serveClient: false,
    maxHttpBufferSize: MAX_PACKET_BYTES,
    // The widget runs on customers' sites. Any origin may open the HTTP long-polling transport
    // (without cookies); each namespace then checks the Origin against what it allows.
    cors: { origin: true, credentials: false },
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 },
  });
  io.on('connection', (socket) => {
    deps.logger.debug({ id: socket.id }, 'socket connected');
    socket.on('disconnect', (reason) => deps.logger.debug({ id: socket.id, reason }, 'socket disconnected'));
  });
  const widget = attachWidgetNamespace(io, deps);
  const agent = attachAgentNamespace(io, deps);
  return { io, widget, agent };
}
