import path from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { buildStarterModel, STARTER_RECIPE } from '../../seed/starter/recipe.js';
import { loadEnv } from '../env.js';
import { selectBackend } from '../ml/backend.js';
import { packStarterModel, STARTER_PACKAGE_DIR } from '../ml/starter.js';
import { positiveInteger } from './seed.js';

interface BuildFlags {
  out?: string;
  dialogues?: number;
  epochs: number;
  resume?: boolean;
  pack: boolean;
  json?: boolean;
}

export function registerStarter(program: Command): void {
  const starter = program
    .command('starter')
    .description("Parley's starter model: a small llama pretrained on the shipped dialogues");
  starter
    .command('build')
    .description(
      `reproduce the starter model from its recipe and pack it into ${path.relative(process.cwd(), STARTER_PACKAGE_DIR)}`,
    )
    .option('--out <dir>', 'where to build the model directory (default: PARLEY_DATA_DIR/starter-build)')
    .option(
      '--dialogues <n>',
      `dialogues per corpus (default ${STARTER_RECIPE.dialoguesPerCorpus})`,
      positiveInteger,
    )
    .option('--epochs <n>', 'passes over the training windows', positiveInteger, STARTER_RECIPE.epochs)
    .option('--resume', 'continue from the weights saved in --out (fresh optimizer)')
    .option('--no-pack', 'build only; leave the shipped copy alone')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: BuildFlags) => {
      const env = loadEnv();
      const backend = await selectBackend(env.TFJS_BACKEND, { nativeMatMul: true });
      process.stderr.write(`backend: ${backend.reason}\n`);
      const bar = new SingleBar({
        stream: process.stderr,
        format:
          'pretraining |{bar}| {value}/{total} steps | loss {loss} | {rate} tok/s | ETA {eta_formatted}',
        hideCursor: true,
        noTTYOutput: true,
        notTTYSchedule: 10_000,
      });
      const outDir = path.resolve(flags.out ?? path.join(env.PARLEY_DATA_DIR, 'starter-build'));
      const started = performance.now();
      const result = await buildStarterModel({
        outDir,
        recipe: {
          ...STARTER_RECIPE,
          epochs: flags.epochs,
          ...(flags.dialogues ? { dialoguesPerCorpus: flags.dialogues } : {}),
        },
        resume: flags.resume === true,
        onStart: ({ parameters, windows, totalSteps }) => {
          process.stderr.write(
            `${parameters.toLocaleString()} parameters, ${windows} windows, ${totalSteps} steps\n`,
          );
          bar.start(totalSteps, 0, { loss: '-', rate: 0 });
        },
        onStep: (m) => bar.update(m.step, { loss: m.loss.toFixed(3), rate: Math.round(m.tokensPerSecond) }),
      });
      bar.stop();
      if (flags.pack) await packStarterModel(outDir);
      const summary = {
        modelDir: outDir,
        packedInto: flags.pack ? STARTER_PACKAGE_DIR : null,
        steps: result.steps,
        trainLoss: result.finalLoss,
        validationLoss: result.validationLoss,
        wallSeconds: Math.round((performance.now() - started) / 1000),
      };
      process.stdout.write(
        flags.json ? `${JSON.stringify(summary)}\n` : `${JSON.stringify(summary, null, 2)}\n`,
      );
    });
}
