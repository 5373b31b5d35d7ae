import { type Command, InvalidArgumentError, Option } from 'commander';
import { recordAudit } from '../audit.js';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { UnreachableTargetError } from '../privacy/dp/calibrate.js';
import { PrivacyBudgetExceededError, privacyBudgetFromEnv } from '../privacy/dp/ledger.js';
import { resumeTrainingJob, runTrainingJob, TrainingWorkerDiedError } from '../train/job.js';
import { CliError, printJson, say } from './output.js';
import { positiveInteger } from './seed.js';
import { createTrainProgress } from './train-progress.js';

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!(Number.isFinite(parsed) && parsed > 0)) throw new InvalidArgumentError('expected a positive number');
  return parsed;
}

interface TrainFlags {
  dataset?: string;
  resume?: string;
  checkpointEvery?: number;
  base?: string;
  full?: boolean;
  loraRank: number;
  epochs: number;
  lr: number;
  batchSize: number;
  maxGradNorm: number;
  seed: number;
  evalEvery?: number;
  dp?: boolean;
  dpUnit: 'example' | 'customer';
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
    .option('--dataset <id>', 'a dataset built with `parley dataset build`')
    .option(
      '--resume <job>',
      'continue a stopped, cancelled or killed job from its latest checkpoint (its own settings apply)',
    )
    .option('--base <dir>', "base model directory (default: the dataset's)")
    .option('--full', 'full fine-tuning: train every weight instead of a LoRA adapter')
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
    .option(
      '--checkpoint-every <n>',
      'write a checkpoint every N steps (and at the end); default 50',
      positiveInteger,
    )
    .option('--seed <n>', 'seed for the adapter, batches and dropout', positiveInteger, 1)
    .option('--dp', 'differentially-private training (DP-SGD); needs --target-epsilon')
    .addOption(
      new Option(
        '--dp-unit <unit>',
        "with --dp: what one privacy unit is: an example, or a customer (all of a customer's conversations)",
      )
        .choices(['example', 'customer'])
        .default('example'),
    )
    .option(
      '--target-epsilon <e>',
      'with --dp: the ε the run may spend; the noise is calibrated to it',
      positiveNumber,
    )
    .option('--delta <d>', 'with --dp: δ', positiveNumber, 1e-5)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: TrainFlags, command: Command) => {
      if (flags.resume !== undefined) {
        const ignored = command.options
          .filter((o) => o.attributeName() !== 'resume' && o.attributeName() !== 'json')
          .filter((o) => command.getOptionValueSource(o.attributeName()) === 'cli')
          .map((o) => o.long);
        if (ignored.length > 0)
          throw new CliError(`--resume continues the job with its own settings; drop ${ignored.join(', ')}.`);
      } else if (flags.dataset === undefined) throw new CliError('Pass --dataset ID, or --resume JOB.');
      if (flags.dp && flags.targetEpsilon === undefined) throw new CliError('--dp needs --target-epsilon E.');
      if (!flags.dp && flags.targetEpsilon !== undefined)
        throw new CliError('--target-epsilon only applies with --dp.');
      const env = loadEnv();
      const db = await openDatabase(env, { shareRunning: true });
      const controller = new AbortController();
      const cancel = () => {
        if (!flags.json) say('cancelling: the job stops after this step and writes a checkpoint');
        controller.abort();
      };
      process.once('SIGINT', cancel);
      const progress = flags.json ? null : createTrainProgress();
      const deps = {
        models: db.models,
        dataDir: env.PARLEY_DATA_DIR,
        privacyBudget: privacyBudgetFromEnv(env),
        backend: env.TFJS_BACKEND,
      };
      // Events print until the first step; after that the progress bar owns the line, and the
      // summary below says how the run ended.
      let stepping = false;
      const hooks = {
        signal: controller.signal,
        onWorker: (_worker: unknown, jobId: string) => {
          void recordAudit(db.models, {
            action: flags.resume !== undefined ? 'training.resume' : 'training.start',
            actor: { kind: 'cli' },
            target: { type: 'training_job', id: jobId },
            details: { mode: flags.full ? 'full' : 'lora', dp: Boolean(flags.dp) },
          }).catch(() => undefined);
        },
        onStep: progress
          ? (p: Parameters<typeof progress.update>[0]) => {
              stepping = true;
              progress.update(p);
            }
          : undefined,
        onEvent: flags.json
          ? undefined
          : (e: { level: string; message: string }) => {
              if (e.level !== 'debug' && !stepping) say(`train: ${e.message}`);
            },
      };
      try {
        const result = await (flags.resume !== undefined
          ? resumeTrainingJob(deps, flags.resume, hooks)
          : runTrainingJob(
              deps,
              {
                datasetId: flags.dataset!,
                base: flags.base,
                mode: flags.full ? 'full' : 'lora',
                loraRank: flags.loraRank,
                epochs: flags.epochs,
                learningRate: flags.lr,
                batchSize: flags.batchSize,
                maxGradNorm: flags.maxGradNorm,
                evalEvery: flags.evalEvery,
                checkpointEvery: flags.checkpointEvery,
                seed: flags.seed,
                dp: flags.dp
                  ? {
                      targetEpsilon: flags.targetEpsilon!,
                      delta: flags.delta,
                      unit: flags.dpUnit,
                      maxGradNorm: flags.maxGradNorm,
                    }
                  : undefined,
              },
              hooks,
            )
        ).catch((error: unknown) => {
          if (
            error instanceof PrivacyBudgetExceededError ||
            error instanceof UnreachableTargetError ||
            error instanceof TrainingWorkerDiedError
          ) {
            throw new CliError(error.message);
          }
          throw error;
        });
        progress?.stop();
        if (result.status === 'cancelled')
          await recordAudit(db.models, {
            action: 'training.cancel',
            actor: { kind: 'cli' },
            target: { type: 'training_job', id: result.jobId },
          });
        if (flags.json) printJson(result);
        else
          process.stdout.write(
            `Training ${result.status} (job ${result.jobId}${result.resumedFrom === null ? '' : `, resumed from step ${result.resumedFrom}`}): ` +
              `${result.metrics.steps} steps, train loss ${result.metrics.trainLoss.toFixed(4)}` +
              `${result.metrics.validationLoss === null ? '' : `, validation loss ${result.metrics.validationLoss.toFixed(4)}`}` +
              `${result.privacy ? `; ε = ${result.privacy.epsilon.toFixed(3)} at δ = ${result.privacy.delta}` : ''}` +
              `${result.version ? `; model ${result.version} in ${result.modelDir}; compare it with \`parley eval compare ${result.version}\`` : `; resume with \`parley train --resume ${result.jobId}\``}\n`,
          );
      } finally {
        progress?.stop();
        process.off('SIGINT', cancel);
        await db.close();
      }
    });
}
