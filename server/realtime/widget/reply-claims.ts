/**
 * Which server writes a conversation's next bot reply. In one process the reply queue already
 * answers one message at a time, so every claim is granted at once. With several servers a claim
 * is a Redis key with a short expiry that its holder keeps renewing: two servers never answer
 * the same conversation at once, and a claim held by a server that died lapses within CLAIM_TTL_MS,
 * after which another server answers the visitor's waiting message.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../../redis.js';

export type ClaimOutcome =
  | { granted: true; release(): Promise<void> }
  | {
      granted: false /** When to ask again: the holder's claim lapses by then unless renewed. */;
      retryInMs: number;
    };

export interface ReplyClaims {
  claim(conversationId: string): Promise<ClaimOutcome>;
}

const granted: ClaimOutcome = { granted: true, release: async () => undefined };

/** One process: its reply queue is the claim. */
export const localReplyClaims: ReplyClaims = { claim: async () => granted };

export const CLAIM_TTL_MS = 5000;
/** Asked again this soon when the key vanished between SET and PTTL. */
const MIN_RETRY_MS = 50;

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/** `ttlMs`: how long a claim outlives its holder's last renewal (renewed every third of it). */
export function redisReplyClaims(redis: RedisClient, { ttlMs = CLAIM_TTL_MS } = {}): ReplyClaims {
  return {
    async claim(conversationId) {
      // While Redis is unreachable or failing no server can tell who answers: a visitor rather
      // gets an answer (rarely two) than none. (node-redis would hold the command until it
      // reconnects.)
      if (!redis.isReady) return granted;
      const key = `parley:reply:${conversationId}`;
      const token = randomUUID();
      const set = await redis
        .set(key, token, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } })
        .catch(() => 'OK' as const);
      if (set !== 'OK') {
        const left = await redis.pTTL(key).catch(() => ttlMs);
        return { granted: false, retryInMs: Math.max(MIN_RETRY_MS, left) };
      }
      const renew = setInterval(() => {
        if (redis.isReady)
          redis.eval(RENEW, { keys: [key], arguments: [token, String(ttlMs)] }).catch(() => undefined);
      }, ttlMs / 3).unref();
      return {
        granted: true,
        async release() {
          clearInterval(renew);
          // Unreachable Redis: the claim lapses on its own.
          if (redis.isReady)
            await redis.eval(RELEASE, { keys: [key], arguments: [token] }).catch(() => undefined);
        },
      };
    },
  };
}
