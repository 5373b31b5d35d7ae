/** Bot-reply claims in a real Redis: one server answers a conversation at a time, and a dead one's claim lapses. */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisReplyClaims } from '../../server/realtime/widget/reply-claims.js';
import type { RedisClient } from '../../server/redis.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

const TTL_MS = 300;
let redis: TestRedis;
const clients: RedisClient[] = [];

const connect = async () => {
  const client: RedisClient = createClient({ url: redis.url });
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  return client;
};

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  for (const client of clients) if (client.isOpen) client.destroy();
  await redis?.stop();
});

describe('reply claims shared through Redis', () => {
  it('grants a conversation to one server at a time, and to the next once released', async () => {
    const [a, b] = [
      redisReplyClaims(await connect(), { ttlMs: TTL_MS }),
      redisReplyClaims(await connect(), { ttlMs: TTL_MS }),
    ];
    const held = await a.claim('c1');
    expect(held.granted).toBe(true);
    const refused = await b.claim('c1');
    expect(refused).toMatchObject({ granted: false });
    expect(!refused.granted && refused.retryInMs).toBeGreaterThan(0);
    expect(!refused.granted && refused.retryInMs).toBeLessThanOrEqual(TTL_MS);
    expect((await b.claim('c2')).granted).toBe(true);

    // The holder keeps its claim alive past the TTL for as long as it answers.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS * 3));
    expect((await b.claim('c1')).granted).toBe(false);

    if (held.granted) await held.release();
    expect((await b.claim('c1')).granted).toBe(true);
  });

  it('lets another server answer once the holder died and its claim lapsed', async () => {
    const dying = await connect();
    const held = await redisReplyClaims(dying, { ttlMs: TTL_MS }).claim('c3');
    expect(held.granted).toBe(true);
    dying.destroy();
    const survivor = redisReplyClaims(await connect(), { ttlMs: TTL_MS });
    const refused = await survivor.claim('c3');
    expect(refused.granted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, refused.granted ? 0 : refused.retryInMs + 20));
    expect((await survivor.claim('c3')).granted).toBe(true);
  });
});
