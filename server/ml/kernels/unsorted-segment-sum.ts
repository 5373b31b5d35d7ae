/**
 * UnsortedSegmentSum for the wasm backend, which ships without it; tf.gather's gradient needs it, so
 * without this kernel no model with an embedding lookup can train on wasm. Sums run in JS over the
 * backend's typed arrays: the kernel only ever sees gradient-sized inputs.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Values = Float32Array | Int32Array;

/**
 * out[s, j] = sum of x[i, j] over the i with segmentIds[i] = s; x is [segmentIds.size, inner] when
 * flattened. Ids outside [0, numSegments) are dropped, as on the cpu backend.
 */
export function segmentSum(x: Values, segmentIds: Int32Array, numSegments: number, out: Values): void {
  const inner = segmentIds.length === 0 ? 0 : x.length / segmentIds.length;
  for (const [i, segment] of segmentIds.entries()) {
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * inner;
    const to = segment * inner;
    for (let j = 0; j < inner; j += 1) out[to + j]! += x[from + j]!;
  }
}

const unsortedSegmentSum: tf.KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = args.attrs?.numSegments as number;
  if (x.dtype !== 'float32' && x.dtype !== 'int32')
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32, got ${x.dtype}`);
  const ids = Int32Array.from(backend.readSync(segmentIds.dataId) as ArrayLike<number>);
  const values = backend.readSync(x.dataId) as Values;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const size = outShape.reduce((a, b) => a * b, 1);
  const out = x.dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
  segmentSum(values, ids, numSegments, out);
  return backend.makeOutput(outShape, x.dtype, undefined, out);
};

/** Registers the kernel once; later calls do nothing. */
export function registerWasmUnsortedSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: unsortedSegmentSum,
  });
}
