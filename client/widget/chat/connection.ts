/** The widget's Socket.IO connection to Parley's /widget namespace. */
import { io, type Socket } from 'socket.io-client';
import {
  WIDGET_NAMESPACE,
  type WidgetAuth,
  type WidgetClientToServer,
  type WidgetServerToClient,
} from '../../../server/realtime/widget/protocol.js';

export type WidgetSocket = Socket<WidgetServerToClient, WidgetClientToServer>;

/**
 * `auth` is a function so every reconnection sends the newest visitor token. WebSocket first:
 * it needs no CORS from another origin; polling is the fallback where WebSockets are blocked.
 */
export function connectWidget(parleyOrigin: string, auth: () => WidgetAuth): WidgetSocket {
  return io(`${parleyOrigin}${WIDGET_NAMESPACE}`, {
    auth: (send) => send(auth()),
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
  });
}

export function browserLocales(): string[] {
  const languages = navigator.languages?.length ? navigator.languages : [navigator.language];
  return languages.filter(Boolean);
}
