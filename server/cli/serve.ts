import type { Command } from 'commander';
import { loadEnv } from '../env.js';
import { type RunningParley, startParley } from '../index.js';
import { createLogger } from '../logger.js';
import { say } from './output.js';

function banner(running: RunningParley): string[] {
  const lines = [
    '',
    `  Parley is running at ${running.url}`,
    `  Console:  ${running.url}/console`,
    `  Health:   ${running.url}/healthz`,
    ...(running.demoUrl ? [`  Demo site with the chat widget: ${running.demoUrl}`] : []),
    `  Database: ${running.db.mode === 'external' ? running.db.uri : `embedded (${running.db.embedded?.snapshotFile})`}`,
  ];
  const users = running.seeded?.users;
  if (users && users.created.length > 0) {
    lines.push('', `  Demo sign-in (shown once; also saved to ${users.credentialsFile}):`);
    for (const user of users.created)
      lines.push(`    ${user.role.padEnd(6)} ${user.email}  password: ${user.password}`);
  }
  lines.push('', '  Press Ctrl-C to stop.', '');
  return lines;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'start Parley: HTTP, Socket.IO and (without MONGODB_URI) the embedded database; what `npm start` runs',
    )
    .action(async () => {
      const env = loadEnv();
      const logger = createLogger(env);
      const running = await startParley(env, { logger });
      for (const line of banner(running)) say(line);

      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) {
            say(`${signal} again: exiting without waiting.`);
            process.exit(130);
          }
          stopping = true;
          running.close().then(resolve, (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
