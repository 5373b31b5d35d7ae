import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { rankingCasesFromDataset } from '../evaluate/build-cases.js';
import { readRankingCases } from '../evaluate/cases.js';
import { rankCases } from '../evaluate/ranking.js';
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
  const evaluate = program.command('eval').description('evaluate models: next-response ranking');

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
}
