import { type Command, InvalidArgumentError } from 'commander';
import { seedDemo } from '../../seed/index.js';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { printJson, say } from './output.js';

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description('load the demo support logs (STAR, Taskmaster-4) and demo users; safe to re-run')
    .option('--limit <n>', 'conversations per dialogue file (default: all)', positiveInteger)
    .action(async (options: { limit?: number }) => {
      const env = loadEnv();
      const db = await openDatabase(env, { shareRunning: true });
      try {
        const summary = await seedDemo({
          connection: db.connection,
          models: db.models,
          dataDir: env.PARLEY_DATA_DIR,
          limitPerFile: options.limit,
          onProgress: (p) =>
            say(`seeded ${p.file}: ${p.conversations} conversations, ${p.messages} messages so far`),
        });
        printJson(summary);
      } finally {
        await db.close();
      }
    });
}
