/**
 * A load balancer for tests: a TCP proxy on a free loopback port that hands each new connection
 * to the next backend in turn, skipping backends that refuse it (a dead server). A connection
 * whose backend goes away is closed on the client's side too, as a real balancer's would be.
 */
import { createServer, type Socket, connect as tcpConnect } from 'node:net';

export interface TcpProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Backend URL of each connection handed over so far, in order. */
  readonly routed: readonly string[];
  close(): Promise<void>;
}

function connectTo(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port), hostname);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export async function startTcpProxy(backends: readonly string[]): Promise<TcpProxy> {
  let next = 0;
  const routed: string[] = [];
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  const server = createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => client.destroy());
    void (async () => {
      for (let tried = 0; tried < backends.length; tried++) {
        const url = backends[next % backends.length]!;
        next += 1;
        let backend: Socket;
        try {
          backend = await connectTo(url);
        } catch {
          continue;
        }
        if (client.destroyed) return backend.destroy();
        track(backend);
        routed.push(url);
        backend.on('error', () => backend.destroy());
        backend.once('close', () => client.destroy());
        client.once('close', () => backend.destroy());
        client.pipe(backend);
        backend.pipe(client);
        client.resume();
        return;
      }
      client.destroy();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
