import { stat } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { loadEnv } from '../env.js';
import { type LoadedModel, loadModel } from '../ml/architectures/registry.js';
import { useBackend } from '../ml/backend.js';
import { readEosTokenIds } from '../ml/eos.js';
import { type GenerateResult, generate } from '../ml/generate.js';
import { registerPull } from '../ml/hub/command.js';
import { type Dtype, TORCH_DTYPE } from '../ml/safetensors.js';
import { ChatTokenizer } from '../ml/tokenizer.js';
import { CliError, printJson } from './output.js';

export function tokenIds(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) {
    throw new InvalidArgumentError(`expected comma-separated non-negative integers, got "${value}"`);
  }
  return parts.map(Number);
}

function number(value: string, expected: string, ok: (n: number) => boolean): number {
  const parsed = value.trim() === '' ? Number.NaN : Number(value);
  if (!(Number.isFinite(parsed) && ok(parsed)))
    throw new InvalidArgumentError(`expected ${expected}, got "${value}"`);
  return parsed;
}

const positiveInteger = (v: string) => number(v, 'a positive integer', (n) => Number.isInteger(n) && n > 0);
const nonNegativeInteger = (v: string) =>
  number(v, 'a non-negative integer', (n) => Number.isInteger(n) && n >= 0);
const temperature = (v: string) => number(v, 'a temperature >= 0', (n) => n >= 0);
const topP = (v: string) => number(v, 'a top-p in (0, 1]', (n) => n > 0 && n <= 1);
const penalty = (v: string) => number(v, 'a penalty > 0', (n) => n > 0);
const collect = (value: string, previous: string[] = []) => [...previous, value];

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
  registerPull(model);

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

  model
    .command('generate')
    .description('continue --prompt with the model and the tokenizer of its directory')
    .requiredOption('--model <dir>', 'model directory (config.json, safetensors weights, tokenizer.json)')
    .requiredOption(
      '--prompt <text>',
      "text to continue (encoded as is, with the tokenizer's special tokens)",
    )
    .option('--max-new-tokens <n>', 'most tokens to generate', positiveInteger, 64)
    .option('--temperature <t>', '0 picks the most likely token (greedy)', temperature, 0)
    .option('--top-k <k>', 'sample among the k most likely tokens only', positiveInteger)
    .option('--top-p <p>', 'sample among the most likely tokens holding probability p only', topP)
    .option('--repetition-penalty <r>', '> 1 discourages tokens already in the prompt or output', penalty)
    .option('--stop <text>', 'stop before this text (repeatable)', collect)
    .option('--seed <s>', 'seed for sampling, for repeatable output (default: random)', nonNegativeInteger)
    .option('--stream', 'write the text to stdout as it is generated instead of JSON')
    .addHelpText(
      'after',
      `
Output:
  without --stream  one JSON line: {"text": the generated text, "tokens": the generated token ids,
                    "finishReason": "eos" | "stop" | "length" | "aborted"}
  with --stream     the text as it is generated, then a newline; the finish reason goes to stderr
                    when it is not "length" or "eos". Ctrl-C stops generation and keeps the text.
Generation ends at an eos id (config.json, generation_config.json or the tokenizer), a --stop text,
--max-new-tokens, or the end of the model's context.`,
    )
    .action(async (options: GenerateCliOptions) => {
      const result = await runGenerate(options);
      if (options.stream) {
        process.stdout.write('\n');
        if (result.finishReason === 'stop' || result.finishReason === 'aborted')
          process.stderr.write(`finish reason: ${result.finishReason}\n`);
      } else {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      }
    });
}

interface GenerateCliOptions {
  model: string;
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  stop?: string[];
  seed?: number;
  stream?: boolean;
}

async function runGenerate(options: GenerateCliOptions): Promise<GenerateResult> {
  const { model: lm } = await openModel(options.model);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const tokenizer = await ChatTokenizer.load(options.model).catch((error: Error) => {
      throw new CliError(error.message);
    });
    const promptIds = tokenizer.encode(options.prompt);
    if (promptIds.length === 0) throw new CliError('--prompt: the prompt encodes to no tokens');
    if (promptIds.length > lm.config.contextLength) {
      throw new CliError(
        `--prompt: ${promptIds.length} tokens exceed the context length ${lm.config.contextLength}`,
      );
    }
    const eos = new Set(await readEosTokenIds(options.model));
    if (tokenizer.eosTokenId !== undefined) eos.add(tokenizer.eosTokenId);
    return await generate(lm, tokenizer, promptIds, {
      maxNewTokens: options.maxNewTokens,
      temperature: options.temperature,
      topK: options.topK,
      topP: options.topP,
      repetitionPenalty: options.repetitionPenalty,
      stopSequences: options.stop,
      seed: options.seed,
      eosTokenIds: [...eos],
      signal: controller.signal,
      onToken: options.stream ? ({ delta }) => delta && process.stdout.write(delta) : undefined,
    });
  } finally {
    process.off('SIGINT', onInterrupt);
    lm.dispose();
  }
}
