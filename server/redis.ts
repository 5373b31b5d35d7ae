/**
 * The Redis that several Parley servers share (REDIS_URL): one client for commands and publishing,
 * and a second one that only subscribes (a subscribed Redis connection can send nothing else).
 */
import { createClient } from 'redis';
import type { Logger } from './logger.js';

export type RedisClient = ReturnType<typeof createClient>;

export interface SharedRedis {
  /** Commands (rate limits, reply claims) and Socket.IO's publishing. */
  client: RedisClient;
  /** Socket.IO's subscriptions. */
  subscriber: RedisClient;
  close(): Promise<void>;
}

/** Failed first connection attempts before Parley gives up starting. */
const START_ATTEMPTS = 5;
const CONNECT_TIMEOUT_MS = 5000;

/** The URL without a password, for logs and errors. */
export function redisLabel(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * Connects both clients; rejects when Redis does not answer at start. Once connected, a lost
 * connection is retried for ever (with a growing pause) and logged, not fatal.
 */
export async function connectRedis(url: string, logger: Logger): Promise<SharedRedis> {
  const label = redisLabel(url);
  let started = false;
  const client: RedisClient = createClient({
    url,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries, cause) =>
        started ? Math.min(100 * 2 ** retries, 2000) : retries >= START_ATTEMPTS ? cause : 200,
    },
  });
  const subscriber = client.duplicate();
  for (const [role, connection] of [
    ['client', client],
    ['subscriber', subscriber],
  ] as const) {
    let lost = false;
    connection.on('error', (error: Error) => {
      if (!started || lost) return;
      lost = true;
      logger.warn({ err: error, redis: label, role }, 'lost the connection to Redis; reconnecting');
    });
    connection.on('ready', () => {
      if (lost) logger.info({ redis: label, role }, 'reconnected to Redis');
      lost = false;
    });
  }
  try {
    await Promise.all([client.connect(), subscriber.connect()]);
  } catch (error) {
    for (const connection of [client, subscriber]) if (connection.isOpen) connection.destroy();
    throw new Error(`Could not connect to Redis at ${label} (REDIS_URL): ${(error as Error).message}`, {
      cause: error,
    });
  }
  started = true;
  logger.info(
    { redis: label },
    'connected to Redis: Socket.IO rooms and limits are shared with other servers',
  );
  return {
    client,
    subscriber,
    async close() {
      await Promise.allSettled([client.close(), subscriber.close()]);
    },
  };
}
