import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Logger } from '../logger.js';

/**
 * Socket.IO on the HTTP server's port. The widget, agent and admin namespaces attach here;
 * closing it disconnects every client with reason "io server disconnect" so they reconnect
 * to another process instead of waiting on a dead socket.
 */
export function createRealtime(httpServer: HttpServer, logger: Logger): Server {
  const io = new Server(httpServer, {
    serveClient: false,
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 },
  });
  io.on('connection', (socket) => {
    logger.debug({ id: socket.id }, 'socket connected');
    socket.on('disconnect', (reason) => logger.debug({ id: socket.id, reason }, 'socket disconnected'));
  });
  return io;
}
