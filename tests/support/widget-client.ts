import { randomUUID } from 'node:crypto';
/** Real Socket.IO widget clients for tests and benchmarks: what the browser widget does, minus the DOM. */
import { io, type Socket } from 'socket.io-client';
import type {
  WidgetClientToServer,
  WidgetServerToClient,
  WidgetSession,
} from '../../server/realtime/widget/protocol.js';

export type VisitorSocket = Socket<WidgetServerToClient, WidgetClientToServer>;

export interface VisitorOptions {
  siteKey: string;
  origin?: string;
  token?: string | null;
  locales?: string[];
}

/** Opens a visitor's socket (not yet connected: call connectVisitor, or wait for connect_error). */
export function visitorSocket(parleyUrl: string, options: VisitorOptions): VisitorSocket {
  return io(`${parleyUrl}/widget`, {
    auth: { siteKey: options.siteKey, token: options.token ?? null, locales: options.locales ?? ['en-US'] },
    extraHeaders: options.origin ? { origin: options.origin } : {},
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
}

/** Connects and resolves with the first `session` event. */
export async function connectVisitor(
  parleyUrl: string,
  options: VisitorOptions,
): Promise<{ socket: VisitorSocket; session: WidgetSession }> {
  const socket = visitorSocket(parleyUrl, options);
  const session = await new Promise<WidgetSession>((resolve, reject) => {
    socket.once('session', resolve);
    socket.once('connect_error', reject);
  });
  return { socket, session };
}

/** Why a connection was refused: connect_error's message and data.code. */
export function refusalOf(socket: VisitorSocket): Promise<{ message: string; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    socket.once('session', () => reject(new Error('connected, but a refusal was expected')));
    socket.once('connect_error', (error) =>
      resolve({ message: error.message, code: (error as Error & { data?: { code?: string } }).data?.code }),
    );
  });
}

/** Collects a streamed reply: resolves at reply:end with the streamed text and the stored message. */
export function nextReply(socket: VisitorSocket) {
  return new Promise<{
    started: boolean;
    streamed: string;
    message: WidgetSession['messages'][number] | null;
  }>((resolve) => {
    let started = false;
    let streamed = '';
    let replyId: string | null = null;
    socket.once('reply:start', (event) => {
      started = true;
      replyId = event.replyId;
    });
    const onToken = (event: { replyId: string; delta: string }) => {
      if (event.replyId === replyId) streamed += event.delta;
    };
    socket.on('reply:token', onToken);
    socket.once('reply:end', (event) => {
      socket.off('reply:token', onToken);
      resolve({ started, streamed, message: event.message });
    });
  });
}

/** A fresh client message id, as the widget makes it. */
export const clientMessageId = () => randomUUID();
