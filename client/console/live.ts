/**
 * The console's one Socket.IO connection to `/agent` on its own origin; the session cookie
 * authenticates it. Pages subscribe to events and say which conversation they watch; after a
 * reconnection the watch is sent again and `onReconnect` listeners refetch what they show.
 */
import { io, type Socket } from 'socket.io-client';
import {
  AGENT_NAMESPACE,
  type AgentAck,
  type AgentClientToServer,
  type AgentServerToClient,
} from '../../server/realtime/agent/protocol.js';

export type AgentSocket = Socket<AgentServerToClient, AgentClientToServer>;
export type LiveState = 'connecting' | 'online' | 'offline';

type EventName = keyof AgentServerToClient;
type Handler<E extends EventName> = Parameters<AgentServerToClient[E]>[0];

const WATCH_TIMEOUT_MS = 5_000;

export class Live {
  private readonly socket: AgentSocket;
  private watched: string | null = null;
  private readonly stateListeners = new Set<(state: LiveState) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  private connectedOnce = false;
  state: LiveState = 'connecting';

  constructor(socket: AgentSocket = io(AGENT_NAMESPACE, { transports: ['websocket', 'polling'] })) {
    this.socket = socket;
    socket.on('connect', () => {
      this.setState('online');
      if (this.watched) void this.sendWatch(this.watched);
      if (this.connectedOnce) for (const listener of this.reconnectListeners) listener();
      this.connectedOnce = true;
    });
    socket.on('disconnect', () => this.setState('offline'));
    socket.on('connect_error', () => this.setState('offline'));
  }

  on<E extends EventName>(event: E, handler: (payload: Handler<E>) => void): () => void {
    // Socket.IO's typed emitter wants the exact listener type of E.
    const listener = handler as unknown as AgentServerToClient[E];
    (this.socket.on as (e: E, l: AgentServerToClient[E]) => void)(event, listener);
    return () => {
      (this.socket.off as (e: E, l: AgentServerToClient[E]) => void)(event, listener);
    };
  }

  onState(listener: (state: LiveState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** Receive message and reply:token events of this conversation (null: none). */
  async watch(conversationId: string | null): Promise<void> {
    this.watched = conversationId;
    if (this.socket.connected) await this.sendWatch(conversationId);
  }

  close(): void {
    this.socket.disconnect();
    this.stateListeners.clear();
    this.reconnectListeners.clear();
  }

  private sendWatch(conversationId: string | null): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket
        .timeout(WATCH_TIMEOUT_MS)
        .emit('conversation:watch', { conversationId }, (error: Error | null, result?: AgentAck) => {
          if (error) reject(new Error('Live updates did not answer in time.'));
          else if (result && !result.ok) reject(new Error(result.message));
          else resolve();
        });
    });
  }

  private setState(state: LiveState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }
}
