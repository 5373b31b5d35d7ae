/**
 * Rate limiters that count in this process, or in the shared Redis when several servers run
 * (REDIS_URL), so a limit holds whichever server a client reaches.
 */
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { RedisClient } from './redis.js';

export interface LimiterOptions {
  /** Names the counters in Redis; unique per limiter. */
  name: string;
  points: number;
  durationSeconds: number;
}

export type RateLimiterFactory = (options: LimiterOptions) => RateLimiterAbstract;

export function rateLimiters(redis: RedisClient | null): RateLimiterFactory {
  return ({ name, points, durationSeconds }) => {
    const memory = new RateLimiterMemory({ points, duration: durationSeconds });
    if (!redis) return memory;
    return new RateLimiterRedis({
      storeClient: redis,
      useRedisPackage: true,
      keyPrefix: `parley:limit:${name}`,
      points,
      duration: durationSeconds,
      // While Redis is unreachable each server counts on its own rather than refusing everyone.
      insuranceLimiter: memory,
    });
  };
}
