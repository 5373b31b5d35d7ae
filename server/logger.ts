import pino, { type Logger } from 'pino';
import type { Env } from './env.js';

export type { Logger };

/** JSON lines for machines; readable lines on a terminal (LOG_FORMAT=auto). */
export function createLogger(env: Pick<Env, 'LOG_LEVEL' | 'LOG_FORMAT'>, stream = process.stdout): Logger {
  const pretty = env.LOG_FORMAT === 'pretty' || (env.LOG_FORMAT === 'auto' && stream.isTTY === true);
  if (!pretty) return pino({ level: env.LOG_LEVEL, base: undefined }, stream);
  return pino({
    level: env.LOG_LEVEL,
    base: undefined,
    transport: {
      target: 'pino-pretty',
      options: { colorize: stream.isTTY === true, ignore: 'pid,hostname' },
    },
  });
}

/** A logger that drops everything, for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
