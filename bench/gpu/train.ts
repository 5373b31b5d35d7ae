/**
 * GPU training throughput: Parley's real training loop (server/train/trainer.ts: loss, gradients,
 * clipping, AdamW) for a fixed number of steps on the webgpu backend (tfjs-backend-webgpu on Dawn,
 * over Vulkan), against the wasm path in the same run, for the starter model's shape and the
 * SmolLM2-135M shape (random weights in Hugging Face layout: nothing is downloaded).
 *
 * Each measurement runs in a child process of its own, so a backend that fails (no adapter, out of
 * memory) is reported and the others still run. Prints tokens/s and model GFLOP/s per case; with
 * `--report FILE` writes a BenchReport (bench/report.ts) for docs/benchmarks.md.
 *
 *   npx tsx bench/gpu/train.ts [--backends webgpu,wasm] [--only starter|smollm2] [--steps 8]
 *                              [--wasm-steps 2] [--batch 4] [--seq 128] [--report FILE]
 *
 * On a machine without Node's dependencies (a GPU box), bench/gpu/pack.sh bundles this script and
 * run.sh runs it; see bench/gpu/README.md.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURE_REGISTRY } from '../../server/ml/architectures/registry.js';
import { type BackendChoice, selectBackend } from '../../server/ml/backend.js';
import { readModelConfig } from '../../server/ml/config.js';
import { createLoraModel, LoraAdapter } from '../../server/ml/lora.js';
import { loadCheckpoint } from '../../server/ml/safetensors.js';
import { type TinyCheckpointOptions, writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { fullTrainable } from '../../server/train/full-trainable.js';
import { loraTrainable } from '../../server/train/lora-trainable.js';
import { type TrainableModel, train } from '../../server/train/trainer.js';
import { matmulParameters, SMOLLM2_SHAPE, STARTER_SHAPE } from '../model-shapes.js';
import { type BenchReport, type BenchRow, writeReport } from '../report.js';

const SHAPES = { starter: STARTER_SHAPE, smollm2: SMOLLM2_SHAPE };
type ShapeName = keyof typeof SHAPES;
type Mode = 'full' | 'lora';

interface Case {
  shape: ShapeName;
  mode: Mode;
  backend: BackendChoice;
  steps: number;
  batch: number;
  seq: number;
}

interface Measured {
  backend: string;
  reason: string;
  /** Seconds per optimizer step, warm-up excluded. */
  stepSeconds: number;
  tokensPerSecond: number;
  gflops: number;
  finalLoss: number;
}

/**
 * FLOPs of one trained token: forward 2N; backward 2N for the activations' gradients, plus 2N for
 * the weights' gradients in full fine-tuning (LoRA's adapter gradients are negligible next to N).
 */
export const flopsPerTrainedToken = (s: TinyCheckpointOptions, mode: Mode) =>
  (mode === 'full' ? 6 : 4) * matmulParameters(s);

async function measure(c: Case): Promise<Measured> {
  const selection = await selectBackend(c.backend);
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-bench-gpu-'));
  try {
    const shape = SHAPES[c.shape];
    await writeTinyCheckpoint(dir, { ...shape, seed: 1 });
    const config = await readModelConfig(dir);
    const checkpoint = await loadCheckpoint(dir);
    let trainable: TrainableModel;
    let dispose: () => void;
    if (c.mode === 'full') {
      const model = ARCHITECTURE_REGISTRY.llama(config, checkpoint, undefined, { trainable: true });
      trainable = fullTrainable(model);
      dispose = () => model.dispose();
    } else {
      const adapter = LoraAdapter.create(config, { targetModules: 'all-linear', r: 8, seed: 3 });
      const model = createLoraModel(config, checkpoint, adapter);
      trainable = loraTrainable(model, adapter);
      dispose = () => {
        model.dispose();
        adapter.dispose();
      };
    }
    // One warm-up step (shader compilation, wasm kernel set-up) and `steps` timed ones.
    const examples = Array.from({ length: c.batch * (c.steps + 1) }, (_, e) => ({
      ids: Array.from({ length: c.seq }, (_, i) => (e * 131 + i * 7919) % shape.vocabSize!),
      targets: [{ start: 1, end: c.seq }],
    }));
    const stepEnds: number[] = [];
    const result = await train(
      trainable,
      { train: examples, validation: [] },
      { epochs: 1, batchSize: c.batch, learningRate: 1e-4, warmupSteps: 0, maxGradNorm: 1, seed: 1 },
      { onStep: () => stepEnds.push(performance.now()) },
    );
    dispose();
    const stepSeconds = (stepEnds.at(-1)! - stepEnds[0]!) / 1000 / (stepEnds.length - 1);
    const tokens = c.batch * c.seq;
    return {
      backend: selection.name,
      reason: selection.reason,
      stepSeconds,
      tokensPerSecond: tokens / stepSeconds,
      gflops: (flopsPerTrainedToken(shape, c.mode) * tokens) / stepSeconds / 1e9,
      finalLoss: result.finalLoss,
    };
  } finally {
    tf.disposeVariables();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs one case in a child process of this script; resolves with its result or its error. */
function measureInChild(c: Case): Promise<Measured | { error: string }> {
  return new Promise((resolve) => {
    const child = fork(process.argv[1]!, ['--case', JSON.stringify(c)], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let stderr = '';
    let answer: Measured | { error: string } | undefined;
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk;
      process.stderr.write(chunk);
    });
    child.on('message', (message) => {
      answer = message as Measured | { error: string };
    });
    child.on('exit', (code, signal) =>
      resolve(
        answer ?? { error: `exited ${signal ?? code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` },
      ),
    );
  });
}

const { values } = parseArgs({
  options: {
    case: { type: 'string' },
    backends: { type: 'string', default: 'webgpu,wasm' },
    only: { type: 'string' },
    steps: { type: 'string', default: '8' },
    'wasm-steps': { type: 'string', default: '2' },
    batch: { type: 'string', default: '4' },
    seq: { type: 'string', default: '128' },
    report: { type: 'string' },
  },
});

if (values.case) {
  const c = JSON.parse(values.case) as Case;
  try {
    process.send!(await measure(c));
  } catch (error) {
    process.send!({ error: (error as Error).message });
  }
  process.disconnect();
} else {
  const backends = values.backends.split(',') as BackendChoice[];
  const batch = Number(values.batch);
  const seq = Number(values.seq);
  // Full fine-tuning of SmolLM2 on wasm needs weights, gradients and AdamW's moments (2.2 GB) in a
  // heap that tops out at 4 GB with the activations: LoRA is what Parley trains at that size on a CPU.
  const plan: { shape: ShapeName; mode: Mode; backends: BackendChoice[] }[] = [
    { shape: 'starter', mode: 'full', backends },
    { shape: 'starter', mode: 'lora', backends },
    { shape: 'smollm2', mode: 'lora', backends },
    { shape: 'smollm2', mode: 'full', backends: backends.filter((b) => b !== 'wasm') },
  ];
  const rows: BenchRow[] = [];
  const lines: string[] = [];
  console.log(
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}); batch ${batch} × ${seq} tokens`,
  );
  for (const { shape, mode, backends: caseBackends } of plan) {
    if (values.only && values.only !== shape) continue;
    const results = new Map<BackendChoice, Measured | { error: string }>();
    for (const backend of caseBackends) {
      const steps = Number(backend === 'wasm' && shape === 'smollm2' ? values['wasm-steps'] : values.steps);
      const result = await measureInChild({ shape, mode, backend, steps, batch, seq });
      results.set(backend, result);
      const line =
        'error' in result
          ? `${shape} ${mode} ${backend}: failed: ${result.error}`
          : `${shape} ${mode} ${backend.padEnd(6)} ${(result.stepSeconds * 1000).toFixed(0).padStart(7)} ms/step ` +
            `${result.tokensPerSecond.toFixed(0).padStart(7)} tokens/s ${result.gflops.toFixed(1).padStart(8)} GFLOP/s ` +
            `loss ${result.finalLoss.toFixed(3)}  (${result.reason})`;
      console.log(line);
      lines.push(line);
    }
    const gpu = results.get('webgpu');
    const wasm = results.get('wasm');
    if (gpu && !('error' in gpu)) {
      const row: BenchRow = {
        name: `${shape} shape, ${mode === 'full' ? 'full fine-tuning' : 'LoRA r=8'} step, batch ${batch} × ${seq}`,
        figure: { label: `webgpu (${gpu.reason})`, value: gpu.tokensPerSecond, unit: 'tokens/s' },
        note: `webgpu ${gpu.gflops.toFixed(1)} GFLOP/s`,
      };
      if (wasm && !('error' in wasm)) {
        row.reference = { label: 'wasm, same run', value: wasm.tokensPerSecond, unit: 'tokens/s' };
        row.ratio = { value: gpu.tokensPerSecond / wasm.tokensPerSecond, meaning: 'webgpu / wasm' };
        row.note += `; wasm ${wasm.gflops.toFixed(1)} GFLOP/s`;
      } else if (wasm) row.note += `; wasm failed: ${wasm.error}`;
      else if (backends.includes('wasm'))
        row.note += '; wasm not run (its heap cannot hold full fine-tuning at this size)';
      rows.push(row);
    }
  }
  const report: BenchReport = {
    bench: 'bench/gpu/train.ts',
    title: 'GPU training throughput (webgpu on Dawn/Vulkan) against wasm',
    command: 'bash bench/gpu/pack.sh, then on the GPU machine: bash bench/gpu/run.sh',
    setup:
      `Parley's training loop (AdamW, clipping) for a fixed number of steps, batch ${batch} × ${seq} tokens, ` +
      `random weights; model FLOPs = 6N (full) or 4N (LoRA) per token, N = matmul parameters, attention scores excluded; ` +
      `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})`,
    rows,
    details: lines,
  };
  await writeReport(values.report, report);
}
