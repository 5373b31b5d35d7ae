import { stat } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { loadEnv } from '../env.js';
import { type LoadedModel, loadModel } from '../ml/architectures/registry.js';
import { useBackend } from '../ml/backend.js';
import { type Dtype, TORCH_DTYPE } from '../ml/safetensors.js';
import { CliError, printJson } from './output.js';

export function tokenIds(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) {
    throw new InvalidArgumentError(`expected comma-separated non-negative integers, got "${value}"`);
  }
  return parts.map(Number);
}

async function openModel(dir: string): Promise<LoadedModel> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new CliError(`model directory ${dir} does not exist`);
  await useBackend(loadEnv().TFJS_BACKEND);
  try {
    return await loadModel(dir);
  } catch (error) {
    throw new CliError(`cannot load the model in ${dir}: ${(error as Error).message}`);
  }
}

/** The stored dtype holding the most values, in torch's spelling (bfloat16, float16, float32). */
function storedDtype(counts: Map<string, number>): string {
  const [dominant] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? ['unknown'];
  return TORCH_DTYPE[dominant as Dtype] ?? dominant.toLowerCase();
}

export function registerModel(program: Command): void {
  const model = program.command('model').description('inspect and run a local Hugging Face model directory');

  model
    .command('info')
    .description(
      'print architecture, parameter count, dtype, context length, vocabulary size, layers and width as JSON',
    )
    .requiredOption('--model <dir>', 'model directory (config.json and safetensors weights)')
    .action(async (options: { model: string }) => {
      const { model: lm, checkpoint } = await openModel(options.model);
      const { config } = lm;
      printJson({
        architecture: config.architecture,
        parameters: lm.parameterCount,
        dtype: storedDtype(checkpoint.dtypes()),
        contextLength: config.contextLength,
        vocabSize: config.vocabSize,
        layers: config.numLayers,
        hiddenSize: config.hiddenSize,
      });
      lm.dispose();
    });

  model
    .command('logits')
    .description('print {"logits": [[...]]}: the logits at every position of one causal pass over --ids')
    .requiredOption('--model <dir>', 'model directory (config.json and safetensors weights)')
    .requiredOption('--ids <ids>', 'token ids, comma-separated (e.g. 5,17,42)', tokenIds)
    .action(async (options: { model: string; ids: number[] }) => {
      const { model: lm } = await openModel(options.model);
      try {
        const { vocabSize } = lm.config;
        const bad = options.ids.find((id) => id >= vocabSize);
        if (bad !== undefined)
          throw new CliError(`--ids: token id ${bad} is outside the vocabulary [0, ${vocabSize})`);
        if (options.ids.length > lm.config.contextLength) {
          throw new CliError(
            `--ids: ${options.ids.length} ids exceed the context length ${lm.config.contextLength}`,
          );
        }
        const logits = lm.forward(options.ids);
        const values = logits.arraySync();
        logits.dispose();
        process.stdout.write(`${JSON.stringify({ logits: values })}\n`);
      } finally {
        lm.dispose();
      }
    });
}
