/**
 * BatchMatMul on the wasm backend, rerouted to its fast path. Measured on the 2-core dev machine,
 * tfjs-backend-wasm 4.22 multiplies
 * - by a transposed operand (transposeA/transposeB) 10-35x slower than by a materialized transpose,
 *   and every matMul gradient asks for one (dA = dY·Bᵀ, dB = Aᵀ·dY);
 * - batched 3-D operands ([H, T, D] attention) ~18x slower than the same products one 2-D matrix
 *   at a time.
 * So this kernel transposes explicitly (cheap: O(n²) against the product's O(n³)) and multiplies
 * batch by batch with the original kernel, which is fast for plain 2-D products.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
interface WasmBackendLike {
  disposeData(dataId: object): void;
}
type KernelFunc = (params: {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}) => TensorInfo;

const kernel = (name: string): KernelFunc => {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`the wasm backend has no ${name} kernel`);
  return config.kernelFunc as unknown as KernelFunc;
};

let original: KernelFunc | null = null;

function fastBatchMatMul({
  inputs,
  backend,
  attrs,
}: {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}): TensorInfo {
  const wasm = backend as WasmBackendLike;
  const matMul = original!;
  const temporary: TensorInfo[] = [];
  const keep = (info: TensorInfo) => {
    temporary.push(info);
    return info;
  };
  const call = (name: string, args: Record<string, TensorInfo>, kernelAttrs: Record<string, unknown>) =>
    keep(kernel(name)({ inputs: args, backend, attrs: kernelAttrs }));
  const swapLast = (x: TensorInfo) => {
    const perm = x.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    return call('Transpose', { x }, { perm });
  };
  try {
    const a = attrs?.transposeA ? swapLast(inputs.a!) : inputs.a!;
    const b = attrs?.transposeB ? swapLast(inputs.b!) : inputs.b!;
    const plain = { transposeA: false, transposeB: false };
    const batchOf = (x: TensorInfo) => x.shape.slice(0, -2).reduce((p, n) => p * n, 1);
    const batchA = batchOf(a);
    const batchB = batchOf(b);
    const batch = Math.max(batchA, batchB);
    if (batch === 1 || (batchA !== batchB && batchA !== 1 && batchB !== 1)) {
      // One product (or a broadcast this kernel does not split): the original handles it.
      return matMul({ inputs: { a, b }, backend, attrs: plain });
    }
    const [m, k] = a.shape.slice(-2) as [number, number];
    const n = b.shape[b.shape.length - 1]!;
    const a3 = call('Reshape', { x: a }, { shape: [batchA, m, k] });
    const b3 = call('Reshape', { x: b }, { shape: [batchB, k, n] });
    const products: TensorInfo[] = [];
    for (let i = 0; i < batch; i++) {
      const ai = call('Slice', { x: a3 }, { begin: [batchA === 1 ? 0 : i, 0, 0], size: [1, m, k] });
      const bi = call('Slice', { x: b3 }, { begin: [batchB === 1 ? 0 : i, 0, 0], size: [1, k, n] });
      products.push(keep(matMul({ inputs: { a: ai, b: bi }, backend, attrs: plain })));
    }
    // Concat takes its inputs as an array.
    const stacked = call('Concat', products as unknown as Record<string, TensorInfo>, { axis: 0 });
    const outShape = [...(batchA >= batchB ? a : b).shape.slice(0, -2), m, n];
    const result = kernel('Reshape')({ inputs: { x: stacked }, backend, attrs: { shape: outShape } });
    return result;
  } finally {
    for (const info of temporary) wasm.disposeData(info.dataId);
  }
}

/** Replaces the wasm BatchMatMul kernel once; later calls do nothing. */
export function registerWasmBatchMatMul(): void {
  if (original) return;
  const config = tf.getKernel('BatchMatMul', 'wasm');
  if (!config) throw new Error('the wasm backend has no BatchMatMul kernel');
  original = config.kernelFunc as unknown as KernelFunc;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    // The original's setup binds its wasm function when the backend starts; it still runs.
    ...(config.setupFunc ? { setupFunc: config.setupFunc } : {}),
    kernelFunc: fastBatchMatMul as unknown as tf.KernelFunc,
  });
}

/** Puts tfjs's own wasm BatchMatMul back (benchmarks compare the two). */
export function unregisterWasmBatchMatMul(): void {
  if (!original) return;
  const config = tf.getKernel('BatchMatMul', 'wasm')!;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...config, kernelFunc: original as unknown as tf.KernelFunc });
  original = null;
}
