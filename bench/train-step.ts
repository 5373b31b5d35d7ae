/**
 * Training step speed: model FLOP/s of a fine-tuning step (full and LoRA) on the CPU paths, next to
 * numpy/OpenBLAS GEMM GFLOP/s of the very matmul shapes that step runs, measured in the same run.
 * Random weights in HF layout (no download), two shapes: the starter model and SmolLM2-135M.
 *
 * A step is the trainer's (server/train/trainer.ts): the batch's examples one at a time through
 * forward, loss and gradients, summed; divided by the target tokens; clipped to global norm 1;
 * one AdamW update. One warm-up step, then the median of `--steps`.
 *
 * Model FLOPs per token: 6·N for full fine-tuning, 4·N for LoRA (forward 2·N, input gradients
 * 2·N; no weight gradients of the frozen weights; the adapters' own few FLOPs are not counted),
 * N = the matmul weights (attention and MLP projections of every layer and the LM head, tied or
 * not). Attention scores (QKᵀ, PV) and everything that is not a matmul are excluded, on both sides.
 *
 * The reference runs the step's GEMMs in numpy (OpenBLAS, all cores): per example of T tokens and
 * per linear layer [in → out], the forward [T,in]·[in,out], the input gradient [T,out]·[out,in]
 * and, in full fine-tuning, the weight gradient [in,T]·[T,out]; their FLOPs over their best times
 * (the peak: on a shared machine, a median of 2-thread OpenBLAS collapses whenever another process
 * takes a core). The ratio is the step's model FLOP/s (median step) over that.
 *
 * Options (`--options`, comma-separated):
 *   wasm             today's path: tfjs-backend-wasm (single-threaded) with Parley's BatchMatMul
 *   native           wasm, with BatchMatMul on OpenBLAS (native/sgemm) on 2 BLAS threads
 *   native-1t        the same on 1 BLAS thread: what Parley's trainer picks when the addon is built
 *   parallel         data-parallel over 2 threads (this one and a worker, each half the batch,
 *                    wasm): gradients summed, one AdamW update, new weights sent to the worker
 *   parallel-native  the same, each thread with native matMul on 1 BLAS thread
 *   cpu-native       tfjs's cpu backend (plain JS) with native matMul, 2 BLAS threads
 *
 * By default: starter full and LoRA, SmolLM2 widths with 8 layers full (smollm2-8l), SmolLM2-135M
 * LoRA; batch 8 (starter) or 2 (SmolLM2) examples of 128 tokens; each measurement in a process of
 * its own.
 *
 *   npm run bench:train -- [--runs starter:full,smollm2:lora | --shapes starter --modes full,lora]
 *     [--options wasm,native-1t] [--batch starter=8,smollm2=2] [--seq 128] [--steps 3]
 *     [--no-update] [--tree OTHER_CHECKOUT] [--report FILE]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../server/ml/backend.js';
import {
  loadSgemm,
  nativeMatMulStatus,
  registerNativeMatMul,
  unregisterNativeMatMul,
} from '../server/ml/kernels/native-matmul.js';
import { type TinyCheckpointOptions, writeTinyCheckpoint } from '../server/ml/testing/tiny-checkpoint.js';
import { AdamW } from '../server/train/adamw.js';
import { clipByGlobalNorm } from '../server/train/clip.js';
import { ordinaryPlan, targetCount } from '../server/train/plans.js';
import type { TrainExample } from '../server/train/trainer.js';
import { SMOLLM2_SHAPE, STARTER_SHAPE } from './model-shapes.js';
import { type BenchRow, rateRow, writeReport } from './report.js';
import { build, examples, LORA, type Mode, summedGradients } from './train-step-setup.js';
import type { FromStepWorker, ToStepWorker, WorkerSetup } from './train-step-worker.js';

const OPTIONS = ['wasm', 'native', 'native-1t', 'parallel', 'parallel-native', 'cpu-native'] as const;
type Option = (typeof OPTIONS)[number];

const SHAPES: Record<string, TinyCheckpointOptions> = {
  starter: { ...STARTER_SHAPE, contextLength: 2048 },
  smollm2: SMOLLM2_SHAPE,
};
SHAPES['smollm2-8l'] = { ...SHAPES.smollm2!, numLayers: 8 };
const DEFAULT_BATCH: Record<string, number> = { starter: 8, smollm2: 2, 'smollm2-8l': 2 };
/** What runs by default: SmolLM2's full fine-tuning does not fit wasm's heap (see below). */
const DEFAULT_RUNS = ['starter:full', 'starter:lora', 'smollm2-8l:full', 'smollm2:lora'];
const GOAL = 0.35;

const { values } = parseArgs({
  options: {
    shapes: { type: 'string' },
    modes: { type: 'string' },
    options: { type: 'string' },
    batch: { type: 'string' },
    seq: { type: 'string' },
    steps: { type: 'string' },
    report: { type: 'string' },
    'no-update': { type: 'boolean' },
    /** shape:mode pairs, e.g. starter:full,smollm2:lora; instead of --shapes and --modes. */
    runs: { type: 'string' },
    /** Internal: one measurement in this (child) process: dir, shape, mode, option. */
    one: { type: 'string' },
    /** Measure another checkout's code (e.g. an older commit's export) with this bench. */
    tree: { type: 'string' },
  },
});
const update = !values['no-update'];
const explicit = values.runs?.split(',');
const shapes = values.shapes?.split(',') ?? [
  ...new Set((explicit ?? DEFAULT_RUNS).map((r) => r.split(':')[0]!)),
];
const modes = (values.modes ?? 'full,lora').split(',') as Mode[];
const runs = (shape: string): Mode[] =>
  modes.filter((m) =>
    explicit
      ? explicit.includes(`${shape}:${m}`)
      : values.shapes !== undefined || values.modes !== undefined || DEFAULT_RUNS.includes(`${shape}:${m}`),
  );
const options = (values.options ?? 'wasm,native,native-1t,parallel-native').split(',') as Option[];
const seq = Number(values.seq ?? 128);
const steps = Number(values.steps ?? 3);
const batches: Record<string, number> = { ...DEFAULT_BATCH };
for (const pair of (values.batch ?? '').split(',').filter(Boolean)) {
  const [shape, n] = pair.includes('=') ? pair.split('=') : [null, pair];
  if (shape) batches[shape] = Number(n);
  else for (const key of Object.keys(batches)) batches[key] = Number(n);
}
for (const s of shapes)
  if (!SHAPES[s]) throw new Error(`unknown shape ${s}; known: ${Object.keys(SHAPES).join(', ')}`);
for (const o of options)
  if (!OPTIONS.includes(o)) throw new Error(`unknown option ${o}; known: ${OPTIONS.join(', ')}`);
for (const m of modes)
  if (m !== 'full' && m !== 'lora') throw new Error(`unknown mode ${m}; known: full, lora`);

/** The linear layers [in, out] of one token's pass, with how many of each. */
function linears(s: TinyCheckpointOptions): { inDim: number; outDim: number; count: number }[] {
  const h = s.hiddenSize!;
  const kv = (h / s.numHeads!) * s.numKvHeads!;
  const L = s.numLayers!;
  const I = s.intermediateSize!;
  return [
    { inDim: h, outDim: h, count: 2 * L }, // q, o
    { inDim: h, outDim: kv, count: 2 * L }, // k, v
    { inDim: h, outDim: I, count: 2 * L }, // gate, up
    { inDim: I, outDim: h, count: L }, // down
    { inDim: h, outDim: s.vocabSize!, count: 1 }, // LM head
  ];
}

const matmulParams = (s: TinyCheckpointOptions) =>
  linears(s).reduce((n, { inDim, outDim, count }) => n + inDim * outDim * count, 0);

/** The step's GEMMs per example, [m, k, n] with counts, as numpy runs them. */
function gemms(s: TinyCheckpointOptions, mode: Mode, t: number): [number, number, number, number][] {
  return linears(s).flatMap(({ inDim, outDim, count }): [number, number, number, number][] => [
    [t, inDim, outDim, count], // forward
    [t, outDim, inDim, count], // input gradient
    ...(mode === 'full' ? [[inDim, t, outDim, count] as [number, number, number, number]] : []), // weight gradient
  ]);
}

/**
 * numpy GFLOP/s over `shapes` (FLOP-weighted: total FLOPs / total time, each shape's best of many
 * runs: the machine's practical peak, as in bench/model.ts), or null without numpy.
 */
function numpyGflops(shapes: [number, number, number, number][]): number | null {
  const script = `import json, sys, time, numpy as np
shapes = json.loads(sys.argv[1])
flops = 0.0; seconds = 0.0
for m, k, n, count in shapes:
    a = np.random.rand(m, k).astype(np.float32); b = np.random.rand(k, n).astype(np.float32)
    a @ b
    reps = max(5, min(200, int(2e9 / (2 * m * k * n))))
    times = []
    for _ in range(reps):
        t = time.perf_counter(); a @ b; times.append(time.perf_counter() - t)
    times.sort()
    flops += 2 * m * k * n * count; seconds += times[0] * count
print(flops / seconds / 1e9)`;
  try {
    return Number(
      execFileSync('python3', ['-c', script, JSON.stringify(shapes)], { encoding: 'utf8' }).trim(),
    );
  } catch {
    return null;
  }
}

/**
 * Full fine-tuning holds the weights, AdamW's two moments and two gradient copies (the running sum
 * and the next example's) in the wasm heap: SmolLM2-135M's full fine-tuning does not fit it (tfjs-wasm
 * 4.22 fails with "memory access out of bounds"), so `smollm2-8l`, the same widths and vocabulary
 * with 8 of its 30 layers, stands in for it. `--no-update` times forward and backward only.
 */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function activate(option: Option): Promise<string> {
  unregisterNativeMatMul('wasm');
  unregisterNativeMatMul('cpu');
  const cpu = option === 'cpu-native';
  const selection = await selectBackend(cpu ? 'cpu' : 'wasm');
  if (option === 'native' || option === 'native-1t' || cpu) {
    if (!registerNativeMatMul(cpu ? 'cpu' : 'wasm')) throw new Error(nativeMatMulStatus().why);
    loadSgemm()!.setThreads(option === 'native-1t' ? 1 : 2);
  }
  if (option === 'parallel-native') {
    if (!registerNativeMatMul('wasm')) throw new Error(nativeMatMulStatus().why);
    loadSgemm()!.setThreads(1);
  }
  return selection.name;
}

/** Seconds per step (median after one warm-up) of the trainer's step on this thread. */
async function timeLocal(dir: string, mode: Mode, batch: TrainExample[], update: boolean): Promise<number> {
  const built = await build(dir, mode);
  const { trainable } = built;
  if (!update) {
    // Forward and backward of the batch, gradients summed and read out; no AdamW (see WASM_HEAP).
    const seconds: number[] = [];
    try {
      for (let i = 0; i <= steps; i += 1) {
        const started = performance.now();
        await summedGradients(trainable, batch);
        if (i > 0) seconds.push((performance.now() - started) / 1000);
      }
    } finally {
      built.dispose();
    }
    return median(seconds);
  }
  const plan = ordinaryPlan(batch, {
    epochs: 1,
    batchSize: batch.length,
    accumulation: 1,
    maxGradNorm: 1,
    seed: 1,
  });
  const optimizer = new AdamW(trainable.variables);
  const seconds: number[] = [];
  try {
    for (let i = 0; i <= steps; i += 1) {
      const started = performance.now();
      const { grads } = await plan.gradients(trainable, batch);
      optimizer.apply(grads, 1e-4);
      tf.dispose(grads);
      // Wait for the update to land (a read), as the next step's forward would.
      await trainable.variables[0]!.data();
      if (i > 0) seconds.push((performance.now() - started) / 1000);
    }
  } finally {
    optimizer.dispose();
    built.dispose();
  }
  return median(seconds);
}

/** Seconds per step of the data-parallel step: half the batch here, half on a worker thread. */
async function timeParallel(
  dir: string,
  mode: Mode,
  batch: TrainExample[],
  native: boolean,
  update: boolean,
): Promise<number> {
  const worker = new Worker(new URL('./train-step-worker.mjs', import.meta.url), {
    workerData: { dir, mode, native } satisfies WorkerSetup,
  });
  const replies: FromStepWorker[] = [];
  let wake: (() => void) | null = null;
  worker.on('message', (message: FromStepWorker) => {
    replies.push(message);
    wake?.();
  });
  worker.on('error', (error) => {
    replies.push({ type: 'failed', error: error.message });
    wake?.();
  });
  const next = async (): Promise<FromStepWorker> => {
    while (replies.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    const reply = replies.shift()!;
    if (reply.type === 'failed') throw new Error(`worker: ${reply.error}`);
    return reply;
  };
  const built = await build(dir, mode);
  const { trainable } = built;
  const optimizer = new AdamW(trainable.variables);
  const half = Math.ceil(batch.length / 2);
  const tokens = batch.reduce((n, e) => n + targetCount(e), 0);
  const seconds: number[] = [];
  try {
    await next(); // ready
    let weights: Float32Array[] | null = null;
    for (let i = 0; i <= steps; i += 1) {
      const started = performance.now();
      worker.postMessage(
        { weights, batch: batch.slice(half) } satisfies ToStepWorker,
        (weights ?? []).map((w) => w.buffer as ArrayBuffer),
      );
      const mine = await summedGradients(trainable, batch.slice(0, half));
      const theirs = (await next()) as Extract<FromStepWorker, { type: 'grads' }>;
      if (!update) {
        for (const [j, sum] of mine.grads.entries()) {
          const other = theirs.grads[j]!;
          for (let x = 0; x < sum.length; x += 1) sum[x] = (sum[x]! + other[x]!) / tokens;
        }
        if (i > 0) seconds.push((performance.now() - started) / 1000);
        continue;
      }
      const mean = trainable.variables.map((v, j) => {
        const sum = mine.grads[j]!;
        const other = theirs.grads[j]!;
        for (let x = 0; x < sum.length; x += 1) sum[x] = (sum[x]! + other[x]!) / tokens;
        return tf.tensor(sum, v.shape);
      });
      const clipped = await clipByGlobalNorm(mean, 1);
      tf.dispose(mean);
      optimizer.apply(clipped.grads, 1e-4);
      tf.dispose(clipped.grads);
      weights = await Promise.all(trainable.variables.map(async (v) => (await v.data()) as Float32Array));
      if (i > 0) seconds.push((performance.now() - started) / 1000);
    }
  } finally {
    optimizer.dispose();
    built.dispose();
    await worker.terminate();
  }
  return median(seconds);
}

if (values.one) {
  // Child: one measurement in a fresh process (a wasm heap that failed is not reusable).
  const [dir, shapeName, mode, option] = values.one.split('|') as [string, string, Mode, Option];
  try {
    const batch = examples(batches[shapeName]!, seq, SHAPES[shapeName]!.vocabSize!, 1);
    await activate(option);
    const seconds =
      option === 'parallel' || option === 'parallel-native'
        ? await timeParallel(dir, mode, batch, option === 'parallel-native', update)
        : await timeLocal(dir, mode, batch, update);
    process.stdout.write(`RESULT ${JSON.stringify({ seconds })}\n`);
    process.exit(0);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

/** A measurement that has not finished by then is reported as failed. */
const CHILD_TIMEOUT_MS = 15 * 60_000;

/** Runs one measurement in a child process; its seconds per step, or why it failed. */
function measure(dir: string, shapeName: string, mode: Mode, option: Option): number | string {
  const args = [
    ...process.execArgv,
    values.tree ? path.join(values.tree, 'bench', 'train-step.ts') : fileURLToPath(import.meta.url),
    '--one',
    [dir, shapeName, mode, option].join('|'),
    '--seq',
    String(seq),
    '--steps',
    String(steps),
    '--batch',
    `${shapeName}=${batches[shapeName]}`,
    ...(update ? [] : ['--no-update']),
  ];
  const child = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: CHILD_TIMEOUT_MS,
    cwd: values.tree ?? process.cwd(),
  });
  if (child.error) return child.error.message;
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (child.status === 0 && line) return (JSON.parse(line.slice(7)) as { seconds: number }).seconds;
  const output = `${child.stderr}${child.stdout}`.trim().split('\n');
  return output.findLast((l) => /error|abort|memory/i.test(l)) ?? output.at(-1) ?? `exit ${child.status}`;
}

const rows: BenchRow[] = [];
const table: string[] = [
  '| shape | mode | option | batch × seq | step (s) | model GFLOP/s | numpy GFLOP/s | ratio |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];
const setupLines: string[] = [];
console.log(
  `node ${process.version}; native/sgemm: ${nativeMatMulStatus().available ? 'built' : (nativeMatMulStatus().why ?? 'unavailable')}`,
);
console.log(
  'model FLOPs: 6·N per token (full), 4·N (LoRA r=8 all-linear); N = matmul weights incl. LM head; attention scores excluded',
);
console.log(`${steps} timed steps after 1 warm-up (median), each measurement in its own process`);
const root = await mkdtemp(path.join(tmpdir(), 'parley-bench-train-'));
try {
  for (const shapeName of shapes) {
    const shape = SHAPES[shapeName]!;
    if (runs(shapeName).length === 0) continue;
    const dir = path.join(root, shapeName);
    await writeTinyCheckpoint(dir, { ...shape, seed: 1 });
    const n = matmulParams(shape);
    const b = batches[shapeName]!;
    const batch = examples(b, seq, shape.vocabSize!, 1);
    const tokens = batch.reduce((sum, e) => sum + targetCount(e), 0);
    setupLines.push(`${shapeName}: N = ${(n / 1e6).toFixed(2)}M matmul weights, batch ${b} × ${seq} tokens`);
    for (const mode of runs(shapeName)) {
      const reference = numpyGflops(gemms(shape, mode, seq));
      const flopsPerStep = (mode === 'full' ? 6 : 4) * n * tokens;
      for (const option of options) {
        const secondsPerStep = measure(dir, shapeName, mode, option);
        if (typeof secondsPerStep === 'string') {
          console.log(`${shapeName} ${mode} ${option}: failed: ${secondsPerStep}`);
          table.push(
            `| ${shapeName} | ${mode} | ${option} | ${b} × ${seq} | failed: ${secondsPerStep} | | | |`,
          );
          continue;
        }
        const gflops = flopsPerStep / secondsPerStep / 1e9;
        const ratio = reference ? gflops / reference : Number.NaN;
        console.log(
          `${shapeName.padEnd(8)} ${mode.padEnd(4)} ${option.padEnd(16)} step ${secondsPerStep.toFixed(3)} s  ` +
            `${gflops.toFixed(1)} model GFLOP/s  numpy ${reference?.toFixed(1) ?? '—'} GFLOP/s  ratio ${ratio.toFixed(3)}`,
        );
        const what = update ? mode : `${mode} (no AdamW)`;
        table.push(
          `| ${shapeName} | ${what} | ${option} | ${b} × ${seq} | ${secondsPerStep.toFixed(3)} | ${gflops.toFixed(1)} | ${reference?.toFixed(1) ?? '—'} | ${ratio.toFixed(3)} |`,
        );
        const figure = { label: `${option} step`, value: gflops, unit: 'GFLOP/s' };
        const name = `${shapeName} ${mode === 'full' ? 'full fine-tuning' : `LoRA r=${LORA.r}`} step${update ? '' : ' (forward + backward, no AdamW)'}, ${option}`;
        if (reference)
          rows.push(
            rateRow(
              name,
              figure,
              { label: 'numpy GEMM, same shapes', value: reference, unit: 'GFLOP/s' },
              GOAL,
            ),
          );
        else rows.push({ name, figure, note: 'numpy not available: no reference' });
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
console.log(table.join('\n'));
await writeReport(values.report, {
  bench: 'bench/train-step.ts',
  title: 'Training step: model FLOP/s against numpy/OpenBLAS GEMM of the same shapes',
  command: 'npm run bench:train',
  setup:
    `${setupLines.join('; ')}; ${steps} timed steps after 1 warm-up, median; 6·N FLOPs per token (full), ` +
    '4·N (LoRA r=8, all linear layers); N = matmul weights incl. LM head; attention scores excluded',
  rows,
  details: table,
});
