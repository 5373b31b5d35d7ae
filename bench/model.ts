/**
 * Model speed on this machine, next to its practical peak measured in the same run:
 * prefill (forward) tokens/s, decode tokens/s at batch 1 with the KV cache, time to first token,
 * peak RSS and the GFLOP/s reached, against numpy/OpenBLAS GEMM GFLOP/s of the same shapes.
 * Random weights in exact HF layout (no download): a SmolLM2-135M shape and a small starter shape.
 *
 *   npx tsx bench/model.ts [--backend auto|wasm|cpu] [--prompt 64] [--decode 32] [--only small|smollm2]
 *                          [--report FILE]
 *
 * --report FILE also writes the figures as a BenchReport (bench/report.ts) for `npm run bench`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadModel } from '../server/ml/architectures/registry.js';
import { type BackendChoice, selectBackend } from '../server/ml/backend.js';
import { type TinyCheckpointOptions, writeTinyCheckpoint } from '../server/ml/testing/tiny-checkpoint.js';
import { matmulParameters, SMOLLM2_SHAPE } from './model-shapes.js';
import { type BenchRow, reproduceCommand, writeReport } from './report.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string' },
    prompt: { type: 'string' },
    decode: { type: 'string' },
    only: { type: 'string' },
    report: { type: 'string' },
  },
});
const promptLength = Number(values.prompt ?? 64);
const decodeTokens = Number(values.decode ?? 32);

const SHAPES: Record<string, TinyCheckpointOptions> = {
  small: {
    architecture: 'llama',
    hiddenSize: 256,
    numLayers: 4,
    numHeads: 8,
    numKvHeads: 4,
    intermediateSize: 688,
    vocabSize: 4096,
    contextLength: 512,
  },
  smollm2: SMOLLM2_SHAPE,
};

/** Matmul FLOPs of one token through the model (2 per multiply-add), attention scores excluded. */
const flopsPerToken = (s: TinyCheckpointOptions) => 2 * matmulParameters(s);

/** numpy GEMM GFLOP/s for [m, k] x [k, n], best of a few runs: the machine's practical peak. */
function numpyGflops(m: number, k: number, n: number): number | null {
  const script = `import numpy as np, time
a=np.random.rand(${m},${k}).astype(np.float32); b=np.random.rand(${k},${n}).astype(np.float32)
best=1e9
for _ in range(50):
  t=time.perf_counter(); a@b; best=min(best,time.perf_counter()-t)
print(2*${m}*${k}*${n}/best/1e9)`;
  try {
    return Number(execFileSync('python3', ['-c', script], { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
}

const chosen = await selectBackend((values.backend ?? 'auto') as BackendChoice);
console.log(`backend: ${chosen.name} (${chosen.reason}); node ${process.version}`);
const dir = await mkdtemp(path.join(tmpdir(), 'parley-bench-model-'));
const rows: BenchRow[] = [];
const shapesRun: string[] = [];
try {
  for (const [name, shape] of Object.entries(SHAPES)) {
    if (values.only && values.only !== name) continue;
    const modelDir = path.join(dir, name);
    await writeTinyCheckpoint(modelDir, shape);
    const { model } = await loadModel(modelDir);
    const prompt = Array.from({ length: promptLength }, (_, i) => (i * 7) % shape.vocabSize!);

    // Prefill: one forward pass over the prompt (after a warm-up). The logits are read after
    // tf.tidy: tidy scans a returned array element by element, which would dominate the timing.
    const forward = (ids: number[]) => {
      const logits = model.forward(ids);
      logits.dataSync();
      logits.dispose();
    };
    forward(prompt.slice(0, 8));
    let started = performance.now();
    forward(prompt);
    const prefillSeconds = (performance.now() - started) / 1000;

    // Decode: time to first token, then one token per step through the KV cache.
    const cache = model.createCache();
    started = performance.now();
    let next = tf.tidy(() => model.forwardWithCache(prompt, cache).argMax(1).dataSync().at(-1)!);
    const ttft = (performance.now() - started) / 1000;
    started = performance.now();
    for (let i = 0; i < decodeTokens; i += 1) {
      next = tf.tidy(() => model.forwardWithCache([next], cache).argMax(1).dataSync()[0]!);
    }
    const decodeSeconds = (performance.now() - started) / 1000;
    cache.dispose();
    model.dispose();

    const flops = flopsPerToken(shape);
    const prefillGflops = (flops * promptLength) / prefillSeconds / 1e9;
    const peak = numpyGflops(promptLength, shape.hiddenSize!, shape.intermediateSize!);
    console.log(
      `\n${name}: ${(model.parameterCount / 1e6).toFixed(1)}M parameters, prompt ${promptLength}, decode ${decodeTokens}`,
    );
    console.log(
      `  prefill        ${(promptLength / prefillSeconds).toFixed(1)} tokens/s  (${prefillGflops.toFixed(2)} GFLOP/s)`,
    );
    console.log(`  decode (batch 1, KV cache) ${(decodeTokens / decodeSeconds).toFixed(1)} tokens/s`);
    console.log(`  time to first token ${(ttft * 1000).toFixed(0)} ms`);
    console.log(
      `  reference: numpy GEMM [${promptLength}x${shape.hiddenSize}]x[${shape.hiddenSize}x${shape.intermediateSize}] ` +
        `${peak === null ? 'unavailable' : `${peak.toFixed(1)} GFLOP/s -> prefill reaches ${(prefillGflops / peak).toFixed(3)} of it`}`,
    );
    console.log(`  peak RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB`);

    // Decode multiplies one token's row: its reference is numpy's matrix-vector product.
    const decodeGflops = (flops * decodeTokens) / decodeSeconds / 1e9;
    const gemv = numpyGflops(1, shape.hiddenSize!, shape.intermediateSize!);
    if (gemv !== null)
      console.log(
        `  reference: numpy GEMV [1x${shape.hiddenSize}]x[${shape.hiddenSize}x${shape.intermediateSize}] ${gemv.toFixed(1)} GFLOP/s -> decode reaches ${(decodeGflops / gemv).toFixed(3)} of it`,
      );
    const params = `${(model.parameterCount / 1e6).toFixed(1)}M`;
    shapesRun.push(`${name} (${params} parameters)`);
    const numpyRef = (value: number | null, what: string) =>
      value === null ? {} : { reference: { label: `numpy ${what}`, value, unit: 'GFLOP/s' } };
    rows.push(
      {
        name: `${name}: prefill, prompt ${promptLength}`,
        figure: { label: 'prefill', value: prefillGflops, unit: 'GFLOP/s' },
        ...numpyRef(
          peak,
          `GEMM [${promptLength}x${shape.hiddenSize}]x[${shape.hiddenSize}x${shape.intermediateSize}]`,
        ),
        ...(peak === null ? {} : { ratio: { value: prefillGflops / peak, meaning: 'of numpy GEMM' } }),
        note: `${(promptLength / prefillSeconds).toFixed(1)} tokens/s`,
      },
      {
        name: `${name}: decode, batch 1 with the KV cache`,
        figure: { label: 'decode', value: decodeGflops, unit: 'GFLOP/s' },
        ...numpyRef(gemv, `GEMV [1x${shape.hiddenSize}]x[${shape.hiddenSize}x${shape.intermediateSize}]`),
        ...(gemv === null ? {} : { ratio: { value: decodeGflops / gemv, meaning: 'of numpy GEMV' } }),
        note: `${(decodeTokens / decodeSeconds).toFixed(1)} tokens/s`,
      },
      {
        name: `${name}: time to first token (prompt ${promptLength})`,
        figure: { label: 'first token', value: ttft * 1000, unit: 'ms' },
        reference: { label: 'prefill of the same prompt', value: prefillSeconds * 1000, unit: 'ms' },
        ratio: { value: ttft / prefillSeconds, meaning: 'x the bare prefill' },
      },
    );
  }
  await writeReport(values.report, {
    bench: 'bench/model.ts',
    title: 'Model forward and decode',
    command: reproduceCommand('bench/model.ts'),
    setup: `${chosen.name} backend, random weights in HF layout: ${shapesRun.join(', ')}; prompt ${promptLength}, decode ${decodeTokens}; peak RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
    rows,
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
