/**
 * Tensor backends compared in one run: matMul GFLOP/s on a 512×512×512 product, and the time of one
 * LoRA training step (forward, loss, gradients of A and B) and of a full fine-tuning step (gradients
 * of every weight) on a small llama shape. On wasm, also with tfjs's own BatchMatMul kernel instead
 * of Parley's (server/ml/kernels/batch-matmul.ts). A reference for backend work, not a test.
 *
 *   npx tsx bench/model-backends.ts [--backends cpu,wasm] [--seq 64] [--steps 3] [--report FILE]
 *
 * --report FILE also writes the figures as a BenchReport (bench/report.ts) for `npm run bench`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURE_REGISTRY } from '../server/ml/architectures/registry.js';
import { type BackendChoice, selectBackend } from '../server/ml/backend.js';
import { readModelConfig } from '../server/ml/config.js';
import { registerWasmBatchMatMul, unregisterWasmBatchMatMul } from '../server/ml/kernels/batch-matmul.js';
import { createLoraModel, LoraAdapter } from '../server/ml/lora.js';
import { loadCheckpoint } from '../server/ml/safetensors.js';
import { writeTinyCheckpoint } from '../server/ml/testing/tiny-checkpoint.js';
import { maskedCrossEntropySum } from '../server/train/loss.js';
import { type BenchRow, rateRow, reproduceCommand, writeReport } from './report.js';

const { values } = parseArgs({
  options: {
    backends: { type: 'string' },
    seq: { type: 'string' },
    steps: { type: 'string' },
    report: { type: 'string' },
  },
});
const backends = (values.backends ?? 'cpu,wasm').split(',') as BackendChoice[];
const seq = Number(values.seq ?? 64);
const steps = Number(values.steps ?? 3);

const SHAPE = {
  architecture: 'llama',
  hiddenSize: 256,
  numLayers: 4,
  numHeads: 8,
  numKvHeads: 4,
  intermediateSize: 688,
  vocabSize: 2048,
  contextLength: 256,
} as const;

/** Median seconds of `runs` calls after one warm-up. */
function time(runs: number, body: () => void): number {
  body();
  const seconds: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    body();
    seconds.push((performance.now() - started) / 1000);
  }
  return seconds.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** One variant's figures: matMul GFLOP/s, LoRA and full step in ms. */
interface Measured {
  gflops: number;
  loraMs: number;
  fullMs: number;
}
const measured = new Map<string, Measured>();

/** `name`'s figures next to `ref`'s: a rate for the matMul, speed-ups for the steps. */
function compareRows(name: string, ref: string): BenchRow[] {
  const a = measured.get(name);
  const b = measured.get(ref);
  if (!a || !b) return [];
  const step = (what: string, figure: number, reference: number): BenchRow => ({
    name: `${what}: ${name} against ${ref}`,
    figure: { label: name, value: figure, unit: 'ms' },
    reference: { label: ref, value: reference, unit: 'ms' },
    ratio: { value: reference / figure, meaning: `x faster than ${ref}` },
  });
  return [
    rateRow(
      `matMul 512³: ${name} against ${ref}`,
      { label: name, value: a.gflops, unit: 'GFLOP/s' },
      { label: ref, value: b.gflops, unit: 'GFLOP/s' },
    ),
    step('LoRA training step', a.loraMs, b.loraMs),
    step('full fine-tuning step', a.fullMs, b.fullMs),
  ];
}

const root = await mkdtemp(path.join(tmpdir(), 'parley-bench-backends-'));
try {
  await writeTinyCheckpoint(root, { ...SHAPE, seed: 1 });
  const config = await readModelConfig(root);
  const checkpoint = await loadCheckpoint(root);
  const ids = Array.from({ length: seq }, (_, i) => (i * 7919) % SHAPE.vocabSize);
  const targets = [{ start: Math.floor(seq / 2), end: seq }];
  console.log(
    `llama ${SHAPE.hiddenSize}d × ${SHAPE.numLayers} layers, vocab ${SHAPE.vocabSize}, ${seq} tokens, LoRA r=8 on all linear layers`,
  );

  const variants = backends.flatMap((choice): { choice: BackendChoice; stock: boolean }[] =>
    choice === 'wasm'
      ? [
          { choice, stock: true },
          { choice, stock: false },
        ]
      : [{ choice, stock: false }],
  );
  for (const { choice, stock } of variants) {
    const selection = await selectBackend(choice);
    if (choice === 'wasm') {
      if (stock) unregisterWasmBatchMatMul();
      else registerWasmBatchMatMul();
    }
    const n = 512;
    const [a, b] = [tf.randomNormal([n, n], 0, 1, 'float32', 1), tf.randomNormal([n, n], 0, 1, 'float32', 2)];
    // Not tf.tidy(() => ….dataSync()): tidy walks its result for tensors, and a 262,144-value array
    // takes it longer than the product on wasm.
    const matMulSeconds = time(9, () => {
      const product = tf.matMul(a, b);
      product.dataSync();
      product.dispose();
    });
    tf.dispose([a, b]);

    const adapter = LoraAdapter.create(config, { targetModules: 'all-linear', r: 8, seed: 3 });
    const model = createLoraModel(config, checkpoint, adapter);
    const stepSeconds = time(steps, () => {
      const { value, grads } = tf.variableGrads(
        () => maskedCrossEntropySum(model.forward(ids), ids, targets),
        adapter.variables,
      );
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    });
    model.dispose();
    adapter.dispose();

    const full = ARCHITECTURE_REGISTRY.llama(config, checkpoint, undefined, { trainable: true });
    const weights = full.weights.map((w) => w.tensor as tf.Variable);
    const fullSeconds = time(steps, () => {
      const { value, grads } = tf.variableGrads(
        () => maskedCrossEntropySum(full.forward(ids), ids, targets),
        weights,
      );
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    });
    full.dispose();

    const gflops = (2 * n ** 3) / matMulSeconds / 1e9;
    const name = stock ? 'wasm, tfjs BatchMatMul' : selection.name;
    console.log(
      `${name.padEnd(24)} matMul 512³ ${(matMulSeconds * 1000).toFixed(1)} ms = ${gflops.toFixed(2)} GFLOP/s` +
        `   LoRA step ${(stepSeconds * 1000).toFixed(0)} ms   full step ${(fullSeconds * 1000).toFixed(0)} ms` +
        `   (${selection.reason})`,
    );
    measured.set(name, { gflops, loraMs: stepSeconds * 1000, fullMs: fullSeconds * 1000 });
  }
  const names = [...measured.keys()];
  const parley = names.find((n) => n !== 'cpu' && n !== 'wasm, tfjs BatchMatMul');
  const rows = [
    ...(parley ? compareRows(parley, 'cpu') : []),
    ...(parley ? compareRows(parley, 'wasm, tfjs BatchMatMul') : []),
  ];
  // A single backend has nothing to compare with: its own figures, without a reference.
  if (rows.length === 0)
    for (const [name, m] of measured)
      rows.push(
        { name: `matMul 512³: ${name}`, figure: { label: name, value: m.gflops, unit: 'GFLOP/s' } },
        { name: `LoRA training step: ${name}`, figure: { label: name, value: m.loraMs, unit: 'ms' } },
        { name: `full fine-tuning step: ${name}`, figure: { label: name, value: m.fullMs, unit: 'ms' } },
      );
  await writeReport(values.report, {
    bench: 'bench/model-backends.ts',
    title: 'Tensor backends: matMul and training steps',
    command: reproduceCommand('bench/model-backends.ts'),
    setup:
      `llama ${SHAPE.hiddenSize}d × ${SHAPE.numLayers} layers, vocab ${SHAPE.vocabSize}, ${seq} tokens, LoRA r=8 on all linear layers; ` +
      `median of ${steps} steps after a warm-up; backends: ${names.join(', ')} ("wasm, tfjs BatchMatMul" is wasm without Parley's kernel)`,
    rows,
  });
} finally {
  await rm(root, { recursive: true, force: true });
}
