/**
 * "Fewer, larger kernels" at the GEMM level: a training step's projections multiplied one by one
 * (q, k, v; gate, up) against fused ([q|k|v], [gate|up]), forward, input gradient and weight
 * gradient, on native/sgemm (OpenBLAS) in this process. Shows what fusing the projections could
 * gain before any model code changes. Needs the addon (`node native/build.mjs`).
 *
 *   npx tsx bench/train-fusion.ts [--seq 128] [--threads 1]
 */
import { parseArgs } from 'node:util';
import { loadSgemm, nativeMatMulStatus } from '../server/ml/kernels/native-matmul.js';

const { values } = parseArgs({ options: { seq: { type: 'string' }, threads: { type: 'string' } } });
const t = Number(values.seq ?? 128);
const addon = loadSgemm();
if (!addon) throw new Error(nativeMatMulStatus().why);
addon.setThreads(Number(values.threads ?? 1));

/** Seconds (best of many) of forward, input gradient and weight gradient of [t, inDim]·[inDim, outDim]. */
function linearStep(inDim: number, outDim: number): number {
  const x = new Float32Array(t * inDim).fill(0.5);
  const w = new Float32Array(inDim * outDim).fill(0.25);
  const y = new Float32Array(t * outDim);
  const dx = new Float32Array(t * inDim);
  const dw = new Float32Array(inDim * outDim);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 30; i += 1) {
    const started = performance.now();
    addon!.gemm(x, w, y, 1, t, outDim, inDim, false, false, 0, 0); // y = x·w
    addon!.gemm(y, w, dx, 1, t, inDim, outDim, false, true, 0, 0); // dx = dy·wᵀ
    addon!.gemm(x, y, dw, 1, inDim, outDim, t, true, false, 0, 0); // dw = xᵀ·dy
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return best;
}

const shapes = [
  { name: 'starter', h: 192, kv: 96, i: 512 },
  { name: 'smollm2', h: 576, kv: 192, i: 1536 },
];
for (const { name, h, kv, i } of shapes) {
  const groups = [
    { label: 'q, k, v', parts: [h, kv, kv] },
    { label: 'gate, up', parts: [i, i] },
  ];
  for (const { label, parts } of groups) {
    const flops = parts.reduce((f, out) => f + 3 * 2 * t * h * out, 0);
    const separate = parts.reduce((s, out) => s + linearStep(h, out), 0);
    const fused = linearStep(
      h,
      parts.reduce((a, b) => a + b, 0),
    );
    console.log(
      `${name} ${label} (T=${t}): separate ${(flops / separate / 1e9).toFixed(1)} GFLOP/s, ` +
        `fused ${(flops / fused / 1e9).toFixed(1)} GFLOP/s (${(separate / fused).toFixed(2)}x)`,
    );
  }
}
