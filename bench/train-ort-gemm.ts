/**
 * ONNX Runtime as a GEMM engine for training, measured: onnxruntime-node (installed with
 * @huggingface/transformers) running one MatMul node at a training step's shapes, against
 * native/sgemm (OpenBLAS) and numpy in the same run. onnxruntime-node has no training API
 * (TrainingSession is not in its Node binding) and its session.run is asynchronous, while tfjs
 * kernels are synchronous: so it cannot serve as a tfjs kernel, and this only shows what its
 * MatMul (MLAS) would give.
 *
 *   npx tsx bench/train-ort-gemm.ts [--threads 2]
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadSgemm } from '../server/ml/kernels/native-matmul.js';

const { values } = parseArgs({ options: { threads: { type: 'string' } } });
const threads = Number(values.threads ?? 2);

// A minimal ONNX model, protobuf by hand: Y = MatMul(A, B), float [m,k]·[k,n].
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const field = (no: number, bytes: number[]): number[] => [
  ...varint((no << 3) | 2),
  ...varint(bytes.length),
  ...bytes,
];
const int = (no: number, n: number): number[] => [...varint(no << 3), ...varint(n)];
const str = (no: number, s: string) => field(no, [...Buffer.from(s)]);
const tensorType = (dims: number[]) =>
  field(1, [
    ...int(1, 1),
    ...field(
      2,
      dims.flatMap((d) => field(1, int(1, d))),
    ),
  ]); // float, shape
const valueInfo = (name: string, dims: number[]) => [...str(1, name), ...field(2, tensorType(dims))];
function matMulModel(m: number, k: number, n: number): Uint8Array {
  const node = [...str(1, 'A'), ...str(1, 'B'), ...str(2, 'Y'), ...str(4, 'MatMul')];
  const graph = [
    ...field(1, node),
    ...str(2, 'g'),
    ...field(11, valueInfo('A', [m, k])),
    ...field(11, valueInfo('B', [k, n])),
    ...field(12, valueInfo('Y', [m, n])),
  ];
  return Uint8Array.from([...int(1, 7), ...field(8, int(2, 13)), ...field(7, graph)]);
}

const shapes: [number, number, number][] = [
  [128, 192, 512],
  [128, 576, 1536],
  [128, 1536, 576],
  [576, 128, 1536],
  [128, 576, 49152],
];
const sgemm = loadSgemm();
sgemm?.setThreads(threads);
for (const [m, k, n] of shapes) {
  const flops = 2 * m * k * n;
  const session = await ort.InferenceSession.create(matMulModel(m, k, n), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const a = new Float32Array(m * k).fill(0.5);
  const b = new Float32Array(k * n).fill(0.25);
  const feeds = { A: new ort.Tensor('float32', a, [m, k]), B: new ort.Tensor('float32', b, [k, n]) };
  let ortBest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 20; i += 1) {
    const started = performance.now();
    await session.run(feeds);
    ortBest = Math.min(ortBest, (performance.now() - started) / 1000);
  }
  await session.release();
  let blasBest = Number.POSITIVE_INFINITY;
  const c = new Float32Array(m * n);
  for (let i = 0; sgemm && i < 20; i += 1) {
    const started = performance.now();
    sgemm.gemm(a, b, c, 1, m, n, k, false, false, 0, 0);
    blasBest = Math.min(blasBest, (performance.now() - started) / 1000);
  }
  const numpy = Number(
    execFileSync(
      'python3',
      [
        '-c',
        `import numpy as np, time
a=np.random.rand(${m},${k}).astype(np.float32); b=np.random.rand(${k},${n}).astype(np.float32); best=9
for _ in range(20):
  t=time.perf_counter(); a@b; best=min(best,time.perf_counter()-t)
print(${flops}/best/1e9)`,
      ],
      { encoding: 'utf8' },
    ).trim(),
  );
  console.log(
    `[${m},${k}]·[${k},${n}]: onnxruntime ${(flops / ortBest / 1e9).toFixed(1)} GFLOP/s, ` +
      `native/sgemm ${sgemm ? (flops / blasBest / 1e9).toFixed(1) : '—'}, numpy ${numpy.toFixed(1)} (best of 20, ${threads} threads)`,
  );
}
