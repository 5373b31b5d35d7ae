import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openDatabase } from '../db/open.js';
import { type Env, loadEnv } from '../env.js';
import { HttpError } from '../errors.js';
import { urlFor } from '../listen.js';
import { createSite, presentSite, type StoredSite, updateSite } from '../sites/index.js';
import { CliError, printJson, say } from './output.js';

/** The address embed snippets point at: PARLEY_PUBLIC_URL, else this server's own address. */
export function publicUrl(env: Pick<Env, 'PARLEY_PUBLIC_URL' | 'HOST' | 'PORT'>): string {
  return env.PARLEY_PUBLIC_URL ?? urlFor(env.HOST, env.PORT);
}

async function readJson<T>(file: string, flag: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CliError(`${flag}: cannot read ${file}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CliError(`${flag}: ${file} is not JSON (${(error as Error).message})`);
  }
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
    .command('update')
    .description(
      "change a site's origins, look, texts or handoff threshold; open widgets pick it up when they reconnect",
    )
    .requiredOption('--name <name>', 'the site to change')
    .option('--origin <origin>', 'replace the allowed origins (repeat for several)', collect, [])
    .option(
      '--theme <file>',
      'JSON: any of primaryColor, primaryTextColor, backgroundColor, textColor, position, launcherIcon, fontFamily',
    )
    .option(
      '--texts <file>',
      'JSON: locale -> strings, e.g. {"en": {"title": "Ask Harbor"}, "fr": {...}} (replaces all texts)',
    )
    .option('--default-locale <locale>', "the language shown when none of the browser's languages has texts")
    .option(
      '--handoff-threshold <confidence>',
      'hand a chat to a person when a reply is less sure than this (0-1)',
      threshold,
    )
    .action(
      async (options: {
        name: string;
        origin: string[];
        theme?: string;
        texts?: string;
        defaultLocale?: string;
        handoffThreshold?: number;
      }) => {
        const changes: Parameters<typeof updateSite>[2] = {};
        if (options.origin.length > 0) changes.origins = options.origin;
        if (options.theme) changes.theme = await readJson(options.theme, '--theme');
        if (options.texts) changes.texts = await readJson(options.texts, '--texts');
        if (options.defaultLocale) changes.defaultLocale = options.defaultLocale;
        if (options.handoffThreshold !== undefined) changes.handoffThreshold = options.handoffThreshold;
        if (Object.keys(changes).length === 0)
          throw new CliError(
            'nothing to change: give --origin, --theme, --texts, --default-locale or --handoff-threshold',
          );
        const env = loadEnv();
        const database = await openDatabase(env, { shareRunning: true });
        try {
          printJson(presentSite(await updateSite(database.models, options.name, changes), publicUrl(env)));
        } catch (error) {
          if (error instanceof HttpError) throw new CliError(error.message);
          throw error;
        } finally {
          await database.close();
        }
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
