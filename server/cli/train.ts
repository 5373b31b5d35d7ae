import { type Command, InvalidArgumentError } from 'commander';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { selectBackend } from '../ml/backend.js';
import { UnreachableTargetError } from '../privacy/dp/calibrate.js';
import { PrivacyBudgetExceededError, privacyBudgetFromEnv } from '../privacy/dp/ledger.js';
import { runTrainingJob } from '../train/job.js';
import { CliError, printJson, say } from './output.js';
import { positiveInteger } from './seed.js';

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!(Number.isFinite(parsed) && parsed > 0)) throw new InvalidArgumentError('expected a positive number');
  return parsed;
}

interface TrainFlags {
  dataset: string;
  base?: string;
  loraRank: number;
  epochs: number;
  lr: number;
  batchSize: number;
  maxGradNorm: number;
  seed: number;
  evalEvery?: number;
  dp?: boolean;
  targetEpsilon?: number;
  delta: number;
  json?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      'fine-tune the base model on a dataset with LoRA; registers the result as a candidate model version',
    )
    .requiredOption('--dataset <id>', 'a dataset built with `parley dataset build`')
    .option('--base <dir>', "base model directory (default: the dataset's)")
    .option('--lora-rank <r>', 'LoRA rank', positiveInteger, 8)
    .option('--epochs <n>', 'passes over the training split', positiveInteger, 3)
    .option('--lr <rate>', 'peak learning rate', positiveNumber, 2e-4)
    .option('--batch-size <n>', 'examples per step', positiveInteger, 8)
    .option(
      '--max-grad-norm <c>',
      'clip the global gradient norm (with --dp: each example gradient) to this',
      positiveNumber,
      1,
    )
    .option('--eval-every <n>', 'validation loss every N steps', positiveInteger)
    .option('--seed <n>', 'seed for the adapter, batches and dropout', positiveInteger, 1)
    .option('--dp', 'differentially-private training (DP-SGD, example level); needs --target-epsilon')
    .option(
      '--target-epsilon <e>',
      'with --dp: the ε the run may spend; the noise is calibrated to it',
      positiveNumber,
    )
    .option('--delta <d>', 'with --dp: δ', positiveNumber, 1e-5)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: TrainFlags) => {
      if (flags.dp && flags.targetEpsilon === undefined) throw new CliError('--dp needs --target-epsilon E.');
      if (!flags.dp && flags.targetEpsilon !== undefined)
        throw new CliError('--target-epsilon only applies with --dp.');
      const env = loadEnv();
      const backend = await selectBackend(env.TFJS_BACKEND);
      const db = await openDatabase(env, { shareRunning: true });
      const controller = new AbortController();
      const cancel = () => controller.abort();
      process.once('SIGINT', cancel);
      let lastLine = 0;
      try {
        say(`training on the ${backend.name} backend (${backend.reason})`);
        const result = await runTrainingJob(
          { models: db.models, dataDir: env.PARLEY_DATA_DIR, privacyBudget: privacyBudgetFromEnv(env) },
          {
            datasetId: flags.dataset,
            base: flags.base,
            loraRank: flags.loraRank,
            epochs: flags.epochs,
            learningRate: flags.lr,
            batchSize: flags.batchSize,
            maxGradNorm: flags.maxGradNorm,
            evalEvery: flags.evalEvery,
            seed: flags.seed,
            dp: flags.dp
              ? { targetEpsilon: flags.targetEpsilon!, delta: flags.delta, maxGradNorm: flags.maxGradNorm }
              : undefined,
          },
          {
            signal: controller.signal,
            onStep: (m) => {
              if (Date.now() - lastLine < 2000 && m.step !== m.totalSteps) return;
              lastLine = Date.now();
              say(
                `train: step ${m.step}/${m.totalSteps} epoch ${m.epoch + 1} loss ${m.loss.toFixed(4)} ` +
                  `lr ${m.learningRate.toExponential(2)} ${Math.round(m.tokensPerSecond)} tokens/s ETA ${Math.ceil(m.etaSeconds)}s`,
              );
            },
          },
        ).catch((error: unknown) => {
          if (error instanceof PrivacyBudgetExceededError || error instanceof UnreachableTargetError) {
            throw new CliError(error.message);
          }
          throw error;
        });
        if (flags.json) printJson(result);
        else
          process.stdout.write(
            `Training ${result.status}: ${result.metrics.steps} steps, train loss ${result.metrics.trainLoss.toFixed(4)}` +
              `${result.metrics.validationLoss === null ? '' : `, validation loss ${result.metrics.validationLoss.toFixed(4)}`}` +
              `${result.privacy ? `; ε = ${result.privacy.epsilon.toFixed(3)} at δ = ${result.privacy.delta}` : ''}` +
              `${result.version ? `; model ${result.version} in ${result.modelDir}` : ''}\n`,
          );
      } finally {
        process.off('SIGINT', cancel);
        await db.close();
      }
    });
}
