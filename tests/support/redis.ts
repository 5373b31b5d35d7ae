/**
 * A throwaway Redis for tests that run several Parley processes: Debian's redis-server on a free
 * loopback port, in a temporary directory, with persistence off.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REDIS_SERVER = 'redis-server';

export interface TestRedis {
  /** redis://127.0.0.1:PORT */
  url: string;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'redis-server was not found: the scale-out tests run a real Redis. Install it with ' +
  '`sudo apt-get install -y redis-server` (Debian/Ubuntu; .ci/run does this) or put a ' +
  'redis-server binary on PATH.';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the server answers PING with PONG on a plain connection. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(reply.startsWith('+PONG')));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Starts redis-server; fails (never skips) with what to install when it is missing. */
export async function startTestRedis(timeoutMs = 10_000): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-redis-'));
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const failed = await Promise.race([spawnError, new Promise<null>((r) => setTimeout(() => r(null), 50))]);
    if (failed) {
      await rm(dir, { recursive: true, force: true });
      throw new Error((failed as NodeJS.ErrnoException).code === 'ENOENT' ? INSTALL_HINT : failed.message);
    }
    if (child.exitCode !== null) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`redis-server exited with ${child.exitCode} before answering:\n${output}`);
    }
    if (await answers(port)) return { url: `redis://127.0.0.1:${port}`, stop };
  }
  await stop();
  throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms:\n${output}`);
}
