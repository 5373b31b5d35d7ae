/**
 * Decode speed of Parley's tfjs engine against ONNX Runtime on the same weights exported to ONNX
 * (server/ml/onnx): time to first token and decode tokens/s at batch 1, and at N concurrent
 * generations (each its own sequence, interleaved token by token, as a generation worker runs
 * them). Random weights in exact HF layout (no download): the starter shape and the SmolLM2-135M
 * shape. The same prompts and greedy decoding for every engine; the tokens they pick are compared.
 *
 * Engines:
 *   tfjs         Parley's generate() on the tfjs model (the backend Parley picks: --backend)
 *   ort          Parley's generate() on OnnxDecoder (onnxruntime-node, the exported model)
 *   transformers transformers.js AutoModelForCausalLM.generate() on the exported directory, with a streamer
 *
 * Rounds interleave the engines (tfjs, ort, transformers, tfjs, ...) so that load from other work
 * on the machine falls on all of them alike; each figure is the median over --repeat rounds.
 *
 *   npm run bench:decode -- [--only starter|smollm2] [--prompt 32] [--decode 32] [--concurrent 8]
 *                           [--repeat 3] [--backend auto|wasm|cpu] [--engines tfjs,ort,transformers]
 *                           [--ort-threads 1] [--report FILE]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AutoModelForCausalLM, env as hfEnv, type PreTrainedModel, Tensor } from '@huggingface/transformers';
import * as tf from '@tensorflow/tfjs';
import { loadModel } from '../server/ml/architectures/registry.js';
import { type BackendChoice, selectBackend } from '../server/ml/backend.js';
import { generate } from '../server/ml/generate.js';
import { exportOnnx } from '../server/ml/onnx/export.js';
import { OnnxDecoder } from '../server/ml/onnx/session.js';
import { type TinyCheckpointOptions, writeTinyCheckpoint } from '../server/ml/testing/tiny-checkpoint.js';
import { SMOLLM2_SHAPE, STARTER_SHAPE } from './model-shapes.js';
import { type BenchRow, rateRow, writeReport } from './report.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    prompt: { type: 'string' },
    decode: { type: 'string' },
    concurrent: { type: 'string' },
    repeat: { type: 'string' },
    backend: { type: 'string' },
    engines: { type: 'string' },
    report: { type: 'string' },
    'ort-threads': { type: 'string' },
  },
});
const promptLength = Number(values.prompt ?? 32);
const decodeTokens = Number(values.decode ?? 32);
const concurrent = Number(values.concurrent ?? 8);
const repeat = Number(values.repeat ?? 3);
// One intra-op thread by default: what each of the 2 generation workers gets on 2 cores (and tfjs's
// wasm backend runs on one thread too). 0: ORT's own default (one per core).
const ortThreads = Number(values['ort-threads'] ?? 1);
const engineNames = (values.engines ?? 'tfjs,ort,transformers').split(',') as EngineName[];

export const SHAPES: Record<string, TinyCheckpointOptions> = {
  starter: STARTER_SHAPE,
  smollm2: SMOLLM2_SHAPE,
};

type EngineName = 'tfjs' | 'ort' | 'transformers';

/** One generation: the time its first token appeared, when it ended, and its tokens. */
interface Run {
  started: number;
  firstToken: number;
  ended: number;
  tokens: number[];
}

type Generator = (prompt: number[]) => Promise<Run>;

async function timed(prompt: number[], body: (onToken: (id: number) => void) => Promise<void>): Promise<Run> {
  const run: Run = { started: performance.now(), firstToken: 0, ended: 0, tokens: [] };
  await body((id) => {
    if (run.tokens.length === 0) run.firstToken = performance.now();
    run.tokens.push(id);
  });
  run.ended = performance.now();
  if (run.tokens.length !== decodeTokens) {
    throw new Error(
      `generated ${run.tokens.length} tokens for a prompt of ${prompt.length}, not ${decodeTokens}`,
    );
  }
  return run;
}

async function openEngine(
  name: EngineName,
  dir: string,
): Promise<{ gen: Generator; close: () => Promise<void> }> {
  const greedy = { maxNewTokens: decodeTokens, temperature: 0, eosTokenIds: [] as number[] };
  if (name === 'tfjs') {
    const { model } = await loadModel(dir);
    return {
      gen: (prompt) =>
        timed(prompt, async (onToken) => {
          await generate(model, undefined, prompt, { ...greedy, onToken: (t) => onToken(t.id) });
        }),
      close: async () => model.dispose(),
    };
  }
  if (name === 'ort') {
    const onnx = await OnnxDecoder.load(dir, ortThreads > 0 ? { intraOpThreads: ortThreads } : {});
    return {
      gen: (prompt) =>
        timed(prompt, async (onToken) => {
          await generate(onnx, undefined, prompt, { ...greedy, onToken: (t) => onToken(t.id) });
        }),
      close: () => onnx.dispose(),
    };
  }
  hfEnv.allowRemoteModels = false;
  hfEnv.localModelPath = `${path.dirname(dir)}${path.sep}`;
  const model: PreTrainedModel = await AutoModelForCausalLM.from_pretrained(path.basename(dir), {
    local_files_only: true,
    dtype: 'fp32',
    device: 'cpu',
    ...(ortThreads > 0 ? { session_options: { intraOpNumThreads: ortThreads } } : {}),
  });
  return {
    gen: (prompt) =>
      timed(prompt, async (onToken) => {
        let seenPrompt = false;
        await model.generate({
          input_ids: new Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]),
          attention_mask: new Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]),
          max_new_tokens: decodeTokens,
          min_new_tokens: decodeTokens,
          do_sample: false,
          streamer: {
            // The first put() is the prompt, then one token per step.
            put(value: bigint[][]) {
              if (!seenPrompt) seenPrompt = true;
              else onToken(Number(value[0]![0]!));
            },
            end() {},
          },
        } as unknown as Parameters<PreTrainedModel['generate']>[0]);
      }),
    close: async () => {
      await model.dispose();
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Figures {
  ttftMs: number;
  decodeTokensPerSecond: number;
  concurrentTtftMs: number;
  concurrentTokensPerSecond: number;
}

const chosen = await selectBackend((values.backend ?? 'auto') as BackendChoice);
tf.env().set('PROD', true);
const setup =
  `tfjs backend ${chosen.name}; onnxruntime-node (via transformers.js ${hfEnv.version}) with ${ortThreads > 0 ? `${ortThreads} intra-op thread(s)` : 'its default threads'}; ` +
  `random weights, prompt ${promptLength} tokens, ${decodeTokens} new tokens greedy, ${concurrent} concurrent; ` +
  `median of ${repeat} interleaved rounds; node ${process.version}`;
console.log(setup);

const rows: BenchRow[] = [];
const table: string[] = [
  '| shape | engine | TTFT batch 1 | decode batch 1 | TTFT p50, 8 concurrent | tokens/s, 8 concurrent |',
  '| --- | --- | --- | --- | --- | --- |',
];
const root = await mkdtemp(path.join(tmpdir(), 'parley-bench-decode-'));
try {
  for (const [shapeName, shape] of Object.entries(SHAPES)) {
    if (values.only && values.only !== shapeName) continue;
    const dir = path.join(root, shapeName);
    await writeTinyCheckpoint(dir, shape);
    const exported = await exportOnnx(dir);
    console.log(
      `\n${shapeName}: exported ${(exported.bytes / 1e6).toFixed(1)} MB of ONNX in ${exported.seconds.toFixed(1)} s`,
    );
    const prompts = Array.from({ length: concurrent }, (_, p) =>
      Array.from({ length: promptLength }, (_, i) => (i * 7 + p * 13 + 1) % shape.vocabSize!),
    );
    const engines = new Map<EngineName, Awaited<ReturnType<typeof openEngine>>>();
    for (const name of engineNames) engines.set(name, await openEngine(name, dir));
    // Warm-up: first runs compile kernels and plan memory.
    for (const engine of engines.values()) await engine.gen(prompts[0]!.slice(0, 8));

    const samples = new Map<
      EngineName,
      { ttft: number[]; decode: number[]; cTtft: number[]; cRate: number[] }
    >();
    const tokensOf = new Map<EngineName, number[][]>();
    for (let round = 0; round < repeat; round++) {
      for (const [name, engine] of engines) {
        const s = samples.get(name) ?? { ttft: [], decode: [], cTtft: [], cRate: [] };
        samples.set(name, s);
        const single = await engine.gen(prompts[0]!);
        s.ttft.push(single.firstToken - single.started);
        s.decode.push(((decodeTokens - 1) * 1000) / (single.ended - single.firstToken));
        const started = performance.now();
        const runs = await Promise.all(prompts.map((p) => engine.gen(p)));
        const wall = performance.now() - started;
        s.cTtft.push(median(runs.map((r) => r.firstToken - started)));
        s.cRate.push((concurrent * decodeTokens * 1000) / wall);
        if (round === 0) tokensOf.set(name, [single.tokens, ...runs.map((r) => r.tokens)]);
        console.log(
          `  round ${round + 1} ${name.padEnd(12)} TTFT ${s.ttft.at(-1)!.toFixed(0)} ms, decode ${s.decode.at(-1)!.toFixed(1)} tokens/s; ` +
            `${concurrent} concurrent: TTFT p50 ${s.cTtft.at(-1)!.toFixed(0)} ms, ${s.cRate.at(-1)!.toFixed(1)} tokens/s`,
        );
      }
    }
    for (const engine of engines.values()) await engine.close();

    const figures = new Map<EngineName, Figures>();
    for (const [name, s] of samples) {
      figures.set(name, {
        ttftMs: median(s.ttft),
        decodeTokensPerSecond: median(s.decode),
        concurrentTtftMs: median(s.cTtft),
        concurrentTokensPerSecond: median(s.cRate),
      });
    }
    const reference = tokensOf.get('tfjs');
    for (const [name, tokens] of tokensOf) {
      if (name === 'tfjs' || !reference) continue;
      const agree = tokens.filter((t, i) => JSON.stringify(t) === JSON.stringify(reference[i])).length;
      console.log(`  ${name} picks tfjs's greedy tokens in ${agree} of ${tokens.length} generations`);
    }
    for (const [name, f] of figures) {
      table.push(
        `| ${shapeName} | ${name} | ${f.ttftMs.toFixed(0)} ms | ${f.decodeTokensPerSecond.toFixed(1)} tokens/s | ` +
          `${f.concurrentTtftMs.toFixed(0)} ms | ${f.concurrentTokensPerSecond.toFixed(1)} tokens/s |`,
      );
    }
    const base = figures.get('tfjs');
    for (const [name, f] of figures) {
      if (name === 'tfjs' || !base) continue;
      const label = `${name} (${shapeName})`;
      const ref = `tfjs ${chosen.name} (${shapeName})`;
      rows.push(
        rateRow(
          `decode tokens/s, batch 1, ${shapeName} shape: ${name} vs tfjs`,
          { label, value: f.decodeTokensPerSecond, unit: 'tokens/s' },
          { label: ref, value: base.decodeTokensPerSecond, unit: 'tokens/s' },
          2,
        ),
        rateRow(
          `decode tokens/s, ${concurrent} concurrent, ${shapeName} shape: ${name} vs tfjs`,
          { label, value: f.concurrentTokensPerSecond, unit: 'tokens/s' },
          { label: ref, value: base.concurrentTokensPerSecond, unit: 'tokens/s' },
          2,
        ),
        {
          name: `time to first token, batch 1, ${shapeName} shape: ${name} vs tfjs`,
          figure: { label, value: f.ttftMs, unit: 'ms' },
          reference: { label: ref, value: base.ttftMs, unit: 'ms' },
          ratio: { value: base.ttftMs / f.ttftMs, meaning: `speed-up: ${ref} TTFT / ${label} TTFT` },
          goal: { text: '>= 2x faster', met: base.ttftMs / f.ttftMs >= 2 },
        },
        {
          name: `time to first token p50, ${concurrent} concurrent, ${shapeName} shape: ${name} vs tfjs`,
          figure: { label, value: f.concurrentTtftMs, unit: 'ms' },
          reference: { label: ref, value: base.concurrentTtftMs, unit: 'ms' },
          ratio: {
            value: base.concurrentTtftMs / f.concurrentTtftMs,
            meaning: `speed-up: ${ref} TTFT / ${label} TTFT`,
          },
        },
      );
    }
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
console.log(`\n${table.join('\n')}`);
await writeReport(values.report, {
  bench: 'bench/decode.ts',
  title: "Decode: Parley's tfjs engine vs ONNX Runtime on the same weights",
  command: 'npm run bench:decode',
  setup,
  rows,
  details: table,
});
