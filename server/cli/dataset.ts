import { type Command, InvalidArgumentError } from 'commander';
import { Types } from 'mongoose';
import { recordAudit } from '../audit.js';
import { buildDataset } from '../datasets/build.js';
import { presentDataset } from '../datasets/present.js';
import type { Models } from '../db/models/index.js';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { readModelConfig } from '../ml/config.js';
import { ensureStarterModel } from '../ml/starter.js';
import { ChatTokenizer } from '../ml/tokenizer.js';
import { CliError, printJson, say } from './output.js';
import { positiveInteger } from './seed.js';

function date(value: string): Date {
  const parsed = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(parsed.getTime())) {
    throw new InvalidArgumentError('expected a date such as 2024-05-01 or 2024-05-01T12:00:00Z');
  }
  return parsed;
}

function percent(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 50)
    throw new InvalidArgumentError('expected an integer from 0 to 50');
  return parsed;
}

async function sourceNames(models: Models): Promise<Map<string, string>> {
  const sources = await models.Source.find({}, { name: 1 }).lean();
  return new Map(sources.map((s) => [s._id.toHexString(), s.name]));
}

interface BuildFlags {
  source: string[];
  since?: Date;
  until?: Date;
  channel?: string;
  minAgentTurns: number;
  base?: string;
  systemPrompt?: string;
  validationPercent: number;
  json?: boolean;
}

export function registerDataset(program: Command): void {
  const dataset = program
    .command('dataset')
    .description('immutable training snapshots built from anonymized conversations');

  dataset
    .command('build')
    .description(
      "render a source's anonymized conversations with the base model's chat template into a dataset",
    )
    .requiredOption('--source <name...>', 'one or more sources')
    .option('--since <date>', 'conversations started on or after this date', date)
    .option('--until <date>', 'conversations started before this date', date)
    .option('--channel <channel>', 'only this channel')
    .option(
      '--min-agent-turns <n>',
      'leave out conversations with fewer trainable agent replies',
      positiveInteger,
      1,
    )
    .option('--base <dir>', 'base model directory (default: PARLEY_BASE_MODEL)')
    .option('--system-prompt <text>', 'system prompt (default: PARLEY_SYSTEM_PROMPT)')
    .option('--validation-percent <p>', 'share of conversations in the validation split', percent, 10)
    .option('--json', 'print the dataset as JSON on stdout')
    .action(async (flags: BuildFlags) => {
      const env = loadEnv();
      const base = flags.base ?? env.PARLEY_BASE_MODEL;
      if (flags.base === undefined) await ensureStarterModel(env);
      const [tokenizer, config] = await Promise.all([ChatTokenizer.load(base), readModelConfig(base)]).catch(
        (error: Error) => {
          throw new CliError(
            `Cannot use ${base} as the base model: ${error.message}. Pass --base DIR or set PARLEY_BASE_MODEL.`,
          );
        },
      );
      const db = await openDatabase(env, { shareRunning: true });
      try {
        const built = await buildDataset(
          { models: db.models, dataDir: env.PARLEY_DATA_DIR },
          {
            sources: flags.source,
            since: flags.since,
            until: flags.until,
            channel: flags.channel,
            minAgentTurns: flags.minAgentTurns,
          },
          {
            tokenizer,
            baseModel: base,
            contextLength: config.contextLength,
            systemPrompt: flags.systemPrompt ?? env.PARLEY_SYSTEM_PROMPT,
            validationPercent: flags.validationPercent,
          },
          (p) => say(`dataset: ${p.conversations} conversations, ${p.examples} examples`),
        );
        const presented = presentDataset(built, await sourceNames(db.models));
        await recordAudit(db.models, {
          action: 'dataset.build',
          actor: { kind: 'cli' },
          target: { type: 'dataset', id: presented.id },
          details: { sources: presented.sources, status: presented.status },
        });
        if (flags.json) printJson(presented);
        else {
          const s = built.stats;
          process.stdout.write(
            `Dataset ${presented.id} (${built.status}): ${s?.conversations} conversations, ${s?.examples} examples ` +
              `(${s?.trainExamples} train, ${s?.validationExamples} validation), ${s?.tokens} tokens, ${s?.targetTokens} trained on\n`,
          );
        }
      } finally {
        await db.close();
      }
    });

  dataset
    .command('list')
    .description('list datasets, newest first, as JSON')
    .action(async () => {
      const env = loadEnv();
      const db = await openDatabase(env, { shareRunning: true, readOnly: true });
      try {
        const names = await sourceNames(db.models);
        const datasets = await db.models.Dataset.find({}).sort({ createdAt: -1 }).lean();
        printJson(datasets.map((d) => presentDataset(d, names)));
      } finally {
        await db.close();
      }
    });

  dataset
    .command('show')
    .description('print one dataset with its lineage, as JSON')
    .argument('<id>', 'dataset id')
    .action(async (id: string) => {
      if (!Types.ObjectId.isValid(id) || !/^[0-9a-f]{24}$/i.test(id))
        throw new CliError(`"${id}" is not a dataset id.`);
      const env = loadEnv();
      const db = await openDatabase(env, { shareRunning: true, readOnly: true });
      try {
        const found = await db.models.Dataset.findById(id).lean();
        if (!found) throw new CliError(`No dataset ${id}.`);
        printJson(presentDataset(found, await sourceNames(db.models)));
      } finally {
        await db.close();
      }
    });
}
