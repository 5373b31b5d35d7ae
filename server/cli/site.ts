import type { Command } from 'commander';
import { openDatabase } from '../db/open.js';
import { type Env, loadEnv } from '../env.js';
import { HttpError } from '../errors.js';
import { createSite, presentSite, type StoredSite } from '../sites/index.js';
import { CliError, printJson, say } from './output.js';

/** The address embed snippets point at: PARLEY_PUBLIC_URL, else this server's own address. */
export function publicUrl(env: Pick<Env, 'PARLEY_PUBLIC_URL' | 'HOST' | 'PORT'>): string {
  if (env.PARLEY_PUBLIC_URL) return env.PARLEY_PUBLIC_URL;
  const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${env.PORT}`;
}

const collect = (value: string, previous: string[]) => [...previous, value];

const threshold = (value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1)
    throw new CliError(`--handoff-threshold: expected a number from 0 to 1, got "${value}"`);
  return parsed;
};

export function registerSite(program: Command): void {
  const site = program.command('site').description('the websites that embed the chat widget');

  site
    .command('add')
    .description('add a site and print the one-line embed snippet for its pages')
    .requiredOption('--name <name>', 'a short unique name')
    .requiredOption(
      '--origin <origin>',
      'an origin the widget may run on, e.g. https://shop.example (repeat for several)',
      collect,
      [],
    )
    .option(
      '--handoff-threshold <confidence>',
      'hand a chat to a person when a reply is less sure than this (0-1)',
      threshold,
    )
    .option('--json', 'print the site as JSON (with the snippet) instead of just the snippet')
    .action(
      async (options: { name: string; origin: string[]; handoffThreshold?: number; json?: boolean }) => {
        if (options.origin.length === 0)
          throw new CliError(
            'give at least one --origin the widget may run on, e.g. --origin https://shop.example',
          );
        const env = loadEnv();
        const database = await openDatabase(env, { shareRunning: true });
        let created: StoredSite;
        try {
          created = await createSite(database.models, {
            name: options.name,
            origins: options.origin,
            ...(options.handoffThreshold === undefined ? {} : { handoffThreshold: options.handoffThreshold }),
          });
        } catch (error) {
          if (error instanceof HttpError) throw new CliError(error.message);
          throw error;
        } finally {
          await database.close();
        }
        const shown = presentSite(created, publicUrl(env));
        if (options.json) {
          printJson(shown);
          return;
        }
        say(`Site "${shown.name}" added; the widget may run on ${shown.origins.join(', ')}.`);
        say('Paste this tag into every page that should show the chat, before </body>:');
        process.stdout.write(`${shown.snippet}\n`);
      },
    );

  site
    .command('list')
    .description('list sites with their key, origins and embed snippet, as JSON')
    .action(async () => {
      const env = loadEnv();
      const database = await openDatabase(env, { shareRunning: true, readOnly: true });
      try {
        const sites = await database.models.Site.find({}).sort({ name: 1 }).lean();
        printJson(sites.map((s) => presentSite(s as StoredSite, publicUrl(env))));
      } finally {
        await database.close();
      }
    });
}
