/**
 * BatchMatMul through the system's BLAS (OpenBLAS's cblas_sgemm, 2 threads) instead of tfjs's own
 * kernel, for the wasm and cpu backends: the addon native/sgemm (built by `node native/build.mjs`,
 * npm's postinstall, where libopenblas-dev is installed) multiplies straight in the backend's
 * memory (the wasm heap, or the cpu backend's arrays), transposes and batch broadcasts included.
 * Where the addon is not built, or fails to load, nothing is registered and training stays on
 * today's path; `nativeMatMulStatus()` says why.
 *
 * On the 2-core dev machine this makes a training step 1.5-5x faster (more, the larger the model);
 * see bench/train-step.ts.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type KernelParams = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> };
type KernelFunc = (params: KernelParams) => TensorInfo;

export interface SgemmAddon {
  /** out[i] = op(a[i])·op(b[i]) row-major; a[i] at i*strideA floats (0 broadcasts), out[i] at i*m*n. */
  gemm(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batch: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    strideA: number,
    strideB: number,
  ): void;
  setThreads(n: number): void;
  threads(): number;
}

const require = createRequire(import.meta.url);
/** native/sgemm's build output, from server/ml/kernels/. */
export const ADDON_FILE = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'native',
  'sgemm',
  'build',
  'Release',
  'parley_sgemm.node',
);

const loaded = new Map<string, { addon: SgemmAddon } | { error: string }>();

/** The addon at `file` (loaded once), or null with the reason in nativeMatMulStatus(file). */
export function loadSgemm(file = ADDON_FILE): SgemmAddon | null {
  let entry = loaded.get(file);
  if (!entry) {
    if (!existsSync(file))
      entry = { error: 'native/sgemm is not built (it needs libopenblas-dev; then `node native/build.mjs`)' };
    else {
      try {
        entry = { addon: require(file) as SgemmAddon };
      } catch (error) {
        entry = { error: `native/sgemm failed to load: ${(error as Error).message}` };
      }
    }
    loaded.set(file, entry);
  }
  return 'addon' in entry ? entry.addon : null;
}

/** Whether the addon at `file` loads, or why not; and the backends whose BatchMatMul it runs. */
export function nativeMatMulStatus(file = ADDON_FILE): {
  available: boolean;
  registered: string[];
  why?: string;
} {
  loadSgemm(file);
  const entry = loaded.get(file)!;
  return {
    available: 'addon' in entry,
    registered: [...originals.keys()],
    ...('error' in entry ? { why: entry.error } : {}),
  };
}

interface Shapes {
  batchA: number;
  batchB: number;
  batch: number;
  m: number;
  n: number;
  k: number;
  outShape: number[];
}

const product = (dims: number[]) => dims.reduce((p, d) => p * d, 1);

/** The product's sizes, or null for a broadcast that is not "one side has a single matrix". */
function shapesOf(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): Shapes | null {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = product(outerA);
  const batchB = product(outerB);
  let outer: number[];
  if (batchA === 1) outer = outerB.length >= outerA.length ? outerB : outerA;
  else if (batchB === 1) outer = outerA.length >= outerB.length ? outerA : outerB;
  else {
    // Same outer dims (up to leading 1s) only; anything else goes to the original kernel.
    const strip = (dims: number[]) => dims.slice(dims.findIndex((d) => d !== 1));
    const sa = strip(outerA);
    const sb = strip(outerB);
    if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i])) return null;
    outer = outerA.length >= outerB.length ? outerA : outerB;
  }
  // Broadcasting a single matrix may still need the other side's rank for the output's.
  const rank = Math.max(outerA.length, outerB.length);
  const padded = [...Array(rank - outer.length).fill(1), ...outer];
  return { batchA, batchB, batch: Math.max(batchA, batchB), m, n, k, outShape: [...padded, m, n] };
}

interface WasmBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

const originals = new Map<string, KernelFunc>();

/**
 * One BLAS thread by default: on the shared 2-core dev machine, 2 OpenBLAS threads made every
 * training step slower (SmolLM2 widths, full: 6.6 s against 4.3 s; the starter: 3.3 s against
 * 3.1 s), as a thread that waits for a busy core holds up each product; bench/train-step.ts
 * measures both (native, native-1t).
 */
export const DEFAULT_THREADS = 1;

function nativeKernel(backendName: 'wasm' | 'cpu', addon: SgemmAddon): KernelFunc {
  return (params) => {
    const { a, b } = params.inputs as { a: TensorInfo; b: TensorInfo };
    const transposeA = Boolean(params.attrs?.transposeA);
    const transposeB = Boolean(params.attrs?.transposeB);
    const shapes =
      a.dtype === 'float32' && b.dtype === 'float32' ? shapesOf(a, b, transposeA, transposeB) : null;
    if (!shapes) return originals.get(backendName)!(params);
    const { batchA, batchB, batch, m, n, k, outShape } = shapes;
    const strideA = batchA === 1 ? 0 : m * k;
    const strideB = batchB === 1 ? 0 : k * n;
    const gemm = (aValues: Float32Array, bValues: Float32Array, out: Float32Array) =>
      addon.gemm(aValues, bValues, out, batch, m, n, k, transposeA, transposeB, strideA, strideB);
    if (backendName === 'wasm') {
      const backend = params.backend as WasmBackend;
      // Allocate first: a malloc may grow the heap, which detaches views taken before it.
      const out = backend.makeOutput(outShape, 'float32');
      gemm(backend.typedArrayFromHeap(a), backend.typedArrayFromHeap(b), backend.typedArrayFromHeap(out));
      return out;
    }
    const backend = params.backend as CpuBackend;
    const values = new Float32Array(batch * m * n);
    gemm(backend.data.get(a.dataId).values, backend.data.get(b.dataId).values, values);
    return backend.makeTensorInfo(outShape, 'float32', values);
  };
}

/**
 * Registers the native BatchMatMul on `backendName` (whose kernels must be registered already: call
 * it after importing the backend, before or after activating it), multiplying on `threads` BLAS
 * threads. Returns false, registering nothing, where the addon at `file` is unavailable (see
 * nativeMatMulStatus).
 */
export function registerNativeMatMul(
  backendName: 'wasm' | 'cpu',
  { file = ADDON_FILE, threads = DEFAULT_THREADS }: { file?: string; threads?: number } = {},
): boolean {
  const addon = loadSgemm(file);
  if (!addon) return false;
  addon.setThreads(threads);
  if (originals.has(backendName)) return true;
  const config = tf.getKernel('BatchMatMul', backendName);
  if (!config) throw new Error(`the ${backendName} backend has no BatchMatMul kernel`);
  originals.set(backendName, config.kernelFunc as unknown as KernelFunc);
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({ ...config, kernelFunc: nativeKernel(backendName, addon) as unknown as tf.KernelFunc });
  return true;
}

/** Puts back the kernel registerNativeMatMul replaced (benchmarks and tests compare the two). */
export function unregisterNativeMatMul(backendName: 'wasm' | 'cpu'): void {
  const original = originals.get(backendName);
  if (!original) return;
  const config = tf.getKernel('BatchMatMul', backendName)!;
  tf.unregisterKernel('BatchMatMul', backendName);
  tf.registerKernel({ ...config, kernelFunc: original as unknown as tf.KernelFunc });
  originals.delete(backendName);
}
