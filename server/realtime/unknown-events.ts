import type { Socket } from 'socket.io';

/** Answers any event the namespace does not handle with an ack error, so a client never waits on it. */
export function rejectUnknownEvents(socket: Socket, known: (event: string) => boolean): void {
  socket.onAny((event: string, ...args: unknown[]) => {
    if (known(event)) return;
    const ack = args.at(-1);
    if (typeof ack === 'function')
      ack({
        ok: false,
        error: 'invalid_payload',
        message: `Unknown event ${JSON.stringify(String(event).slice(0, 80))}.`,
      });
  });
}
