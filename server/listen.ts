import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The address people and browsers use for a listening host: "localhost" for the wildcard ones. */
export function urlFor(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/** Listens on host:port (0: a free port); resolves with the URL, rejects with the listen error. */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return urlFor(host, (server.address() as AddressInfo).port);
}
