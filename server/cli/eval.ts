import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { HttpError } from '../errors.js';
import { rankingCasesFromDataset } from '../evaluate/build-cases.js';
import { readRankingCases } from '../evaluate/cases.js';
import { compareVersions } from '../evaluate/compare.js';
import { rankCases } from '../evaluate/ranking.js';
import { enqueueEvaluation } from '../jobs/evaluate-job.js';
import { loadModel } from '../ml/architectures/registry.js';
import { useBackend } from '../ml/backend.js';
import { ChatTokenizer } from '../ml/tokenizer.js';
import { CliError, printJson, say } from './output.js';
import { positiveInteger } from './seed.js';

/** A model directory, or a registered version label ("v3") resolved to its directory. */
async function modelDirectory(model: string): Promise<string> {
  if (!/^v\d+$/.test(model)) return model;
  const env = loadEnv();
  const db = await openDatabase(env, { shareRunning: true, readOnly: true });
  try {
    const version = await db.models.ModelVersion.findOne({ version: model }).lean();
    if (!version) throw new CliError(`No model version ${model}.`);
    return version.artifactPath;
  } finally {
    await db.close();
  }
}

export function registerEval(program: Command): void {
  const evaluate = program
    .command('eval')
    .description('evaluate models: next-response ranking, and a new version against the active one');

  evaluate
    .command('ranking')
    .description(
      'rank each case\'s candidate replies by length-normalized log-likelihood; print {"r1", "mrr", "n"}',
    )
    .requiredOption('--model <dir|version>', 'model directory or registered version (e.g. v3)')
    .requiredOption(
      '--cases <file>',
      'JSON lines: {"id", "context": [{"role", "text"}], "candidates": [...], "answer"}',
    )
    .option('--json', 'print JSON (the default; kept for symmetry with other commands)')
    .action(async (flags: { model: string; cases: string }) => {
      const env = loadEnv();
      await useBackend(env.TFJS_BACKEND);
      const dir = await modelDirectory(flags.model);
      const cases = await readRankingCases(flags.cases).catch((error: Error) => {
        throw new CliError(error.message);
      });
      const [{ model }, tokenizer] = await Promise.all([loadModel(dir), ChatTokenizer.load(dir)]);
      try {
        const result = rankCases(model, tokenizer, cases, {
          systemPrompt: env.PARLEY_SYSTEM_PROMPT,
          onCase: (done) => {
            if (done % 25 === 0) say(`ranking: ${done}/${cases.length}`);
          },
        });
        printJson(result);
      } finally {
        model.dispose();
      }
    });

  evaluate
    .command('cases')
    .description(
      "write ranking cases from a dataset's validation split: 1 true agent reply + 9 from other conversations",
    )
    .requiredOption('--dataset <id>', 'dataset id')
    .requiredOption('--out <file>', 'JSON lines file to write')
    .option('--count <n>', 'at most this many cases', positiveInteger, 200)
    .option('--seed <n>', 'seed for the choice of points and distractors', positiveInteger, 1)
    .action(async (flags: { dataset: string; out: string; count: number; seed: number }) => {
      const env = loadEnv();
      const db = await openDatabase(env, { shareRunning: true, readOnly: true });
      try {
        const cases = await rankingCasesFromDataset(db.models, flags.dataset, {
          count: flags.count,
          seed: flags.seed,
        });
        await writeFile(
          flags.out,
          cases.map((c) => JSON.stringify(c)).join('\n') + (cases.length ? '\n' : ''),
        );
        printJson({ cases: cases.length, out: flags.out });
      } finally {
        await db.close();
      }
    });

  evaluate
    .command('compare')
    .description(
      'compare a version with the active one (or the base model it was trained from) on its dataset: ' +
        'validation loss and perplexity, ranking R@1/MRR, generation quality, ratings, side-by-side replies; ' +
        'stores the report on the version and prints it as JSON',
    )
    .argument('<new>', 'version label (v3) or id')
    .option(
      '--against <version|dir>',
      'the version (or a model directory) to compare with; default the active one',
    )
    .option(
      '--dataset <id>',
      'dataset whose validation split to use; default the one the version was trained on',
    )
    .option('--ranking-cases <n>', 'ranking cases (1 true + 9 other replies)', positiveInteger, 100)
    .option('--samples <n>', 'validation contexts each model replies to', positiveInteger, 50)
    .option('--examples <n>', 'side-by-side examples in the report', positiveInteger, 20)
    .option('--max-new-tokens <n>', 'longest generated reply, in tokens', positiveInteger, 64)
    .option('--seed <n>', 'seed for the ranking cases and generation samples', positiveInteger, 1)
    .option('--queue', 'queue the comparison for a `parley worker` instead; prints {"jobId", "status"}')
    .action(
      async (
        version: string,
        flags: {
          against?: string;
          dataset?: string;
          rankingCases: number;
          samples: number;
          examples: number;
          maxNewTokens: number;
          seed: number;
          queue?: boolean;
        },
      ) => {
        const env = loadEnv();
        if (flags.queue) {
          const db = await openDatabase(env, { shareRunning: true });
          try {
            const jobId = await enqueueEvaluation(
              db.models,
              {
                version,
                ...(flags.against ? { against: flags.against } : {}),
                ...(flags.dataset ? { datasetId: flags.dataset } : {}),
                rankingCases: flags.rankingCases,
                samples: flags.samples,
                examples: flags.examples,
                maxNewTokens: flags.maxNewTokens,
                seed: flags.seed,
              },
              env.PARLEY_WORKER_MAX_ATTEMPTS,
            );
            printJson({ jobId: jobId.toHexString(), status: 'queued' });
          } finally {
            await db.close();
          }
          return;
        }
        await useBackend(env.TFJS_BACKEND);
        const db = await openDatabase(env, { shareRunning: true });
        try {
          const report = await compareVersions(db.models, version, {
            against: flags.against,
            datasetId: flags.dataset,
            rankingCases: flags.rankingCases,
            samples: flags.samples,
            examples: flags.examples,
            maxNewTokens: flags.maxNewTokens,
            seed: flags.seed,
            onProgress: (line) => say(`compare: ${line}`),
          }).catch((error: unknown) => {
            if (error instanceof HttpError) throw new CliError(error.message);
            throw error;
          });
          printJson(report);
        } finally {
          await db.close();
        }
      },
    );
}
