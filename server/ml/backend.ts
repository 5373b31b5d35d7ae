/** Picks the tfjs backend named by TFJS_BACKEND, or under `auto` the fastest one that starts. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TFJS_BACKENDS } from '../env.js';
import { installWebGpu, type WebGpuOptions } from './backend-webgpu.js';
import { registerWasmBatchMatMul } from './kernels/batch-matmul.js';
import { nativeMatMulStatus, registerNativeMatMul, unregisterNativeMatMul } from './kernels/native-matmul.js';
import { registerWasmUnsortedSegmentSum } from './kernels/unsorted-segment-sum.js';

export type BackendChoice = (typeof TFJS_BACKENDS)[number];
type Candidate = Exclude<BackendChoice, 'auto'>;

/** auto's order: native GPU, WebGPU on a real GPU (never a software adapter), native CPU, wasm (~20-30x cpu on matMul), cpu. */
export const AUTO_ORDER: readonly Candidate[] = ['node-gpu', 'webgpu', 'node', 'wasm', 'cpu'];

export interface BackendSelection {
  /** tfjs's name for the active backend (tensorflow, webgpu, wasm, cpu). */
  name: string;
  choice: Candidate;
  /** One line: what was chosen and why every earlier candidate was passed over. */
  reason: string;
  skipped: { backend: Candidate; why: string }[];
  /** Set when the choice works but is not what its name suggests: WebGPU on a software adapter. */
  warning?: string;
}

export interface SelectOptions {
  /**
   * webgpu only: `software` asks for the software adapter (Mesa's lavapipe) even where a GPU is
   * present, so that tests run the GPU code path alike on every machine; it fails, saying what to
   * install, where there is none. Ignored by auto, which never takes a software adapter.
   */
  webgpuAdapter?: 'default' | 'software';
  /** Where the warning goes; by default a `parley: warning:` line on stderr. */
  warn?: (message: string) => void;
  /**
   * wasm only: run BatchMatMul on the system's OpenBLAS (native/sgemm, server/ml/kernels/native-matmul.ts)
   * where that addon is built; without it, or when false, wasm's own path. Training asks for it: a
   * step's matMuls run several times faster. Generation does not (its decode products are tiny, and
   * several generation workers would share BLAS threads).
   */
  nativeMatMul?: boolean;
}

class Unavailable extends Error {}

const warnOnStderr = (message: string) => process.stderr.write(`parley: warning: ${message}\n`);

const require = createRequire(import.meta.url);

/** Whether `name` is in a node_modules this module can see, without loading it. */
export function isInstalled(name: string): boolean {
  return (require.resolve.paths(name) ?? []).some((dir) => existsSync(path.join(dir, name, 'package.json')));
}

/**
 * Native bindings and WebGPU are optional dependencies: a missing one is a normal outcome, not a crash.
 * The installed ones are imported by literal specifiers, so that a bundler (bench/gpu) can include them.
 */
const IMPORTERS: Record<string, () => Promise<unknown>> = {
  webgpu: () => import('webgpu'),
  '@tensorflow/tfjs-backend-webgpu': () => import('@tensorflow/tfjs-backend-webgpu'),
  '@tensorflow/tfjs-backend-wasm': () => import('@tensorflow/tfjs-backend-wasm'),
};

async function load(specifier: string): Promise<unknown> {
  try {
    return await (IMPORTERS[specifier]?.() ?? import(specifier));
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code === 'ERR_MODULE_NOT_FOUND' && message?.includes(`'${specifier}'`))
      throw new Unavailable(`${specifier} is not installed`);
    throw new Unavailable(`${specifier} failed to load: ${message ?? String(error)}`);
  }
}

async function activate(name: string): Promise<void> {
  let started: boolean;
  try {
    started = await tf.setBackend(name);
    await tf.ready();
  } catch (error) {
    throw new Unavailable(`the ${name} backend failed to start: ${(error as Error).message}`);
  }
  if (!started) throw new Unavailable(`the ${name} backend failed to start`);
}

interface Started {
  name: string;
  note?: string;
  warning?: string;
}

const SYNC_READ =
  'the webgpu backend cannot read a tensor synchronously in Node (dataSync, arraySync: ' +
  'tfjs-backend-webgpu reads through an OffscreenCanvas, which Node lacks); read it with ' +
  'await tensor.data() or await tensor.array()';

/** Makes webgpu's synchronous reads in Node fail with what to do instead of "OffscreenCanvas is not defined". */
function explainSyncReads(): void {
  if ('OffscreenCanvas' in globalThis) return;
  const backend = tf.findBackend('webgpu') as unknown as { readSync(dataId: object): unknown } | null;
  if (!backend || Object.hasOwn(backend, 'readSync')) return;
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId) => {
    try {
      return readSync(dataId);
    } catch (error) {
      // It throws before touching any state: the canvases are the first thing it makes.
      if (error instanceof ReferenceError && error.message.includes('OffscreenCanvas'))
        throw new Error(SYNC_READ);
      throw error;
    }
  };
}

/** Starts `candidate`; returns tfjs's backend name and a note, or throws Unavailable with the reason. */
async function start(
  candidate: Candidate,
  webgpu: WebGpuOptions = {},
  nativeMatMul = false,
): Promise<Started> {
  switch (candidate) {
    case 'node-gpu':
    case 'node':
      await load(candidate === 'node' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu');
      await activate('tensorflow');
      return { name: 'tensorflow' };
    case 'webgpu': {
      // Both are dependencies, but an install may omit them: a missing one means no WebGPU at all. The
      // backend module must load after navigator.gpu exists, as it registers itself only if it sees one.
      for (const pkg of ['webgpu', '@tensorflow/tfjs-backend-webgpu'])
        if (!isInstalled(pkg)) throw new Unavailable(`${pkg} is not installed`);
      const dawn = await load('webgpu');
      const { adapter, software } = await installWebGpu(
        dawn as Parameters<typeof installWebGpu>[0],
        webgpu,
      ).catch((error) => {
        throw new Unavailable((error as Error).message);
      });
      await load('@tensorflow/tfjs-backend-webgpu');
      await activate('webgpu');
      explainSyncReads();
      if (!software) return { name: 'webgpu', note: adapter };
      return {
        name: 'webgpu',
        note: `software adapter: ${adapter}`,
        warning:
          `the webgpu backend runs on a software adapter (${adapter}): the GPU code path on the CPU, ` +
          'slower than wasm; good for testing that path, not for training',
      };
    }
    case 'wasm':
      await load('@tensorflow/tfjs-backend-wasm');
      registerWasmUnsortedSegmentSum();
      registerWasmBatchMatMul();
      await activate('wasm');
      if (!nativeMatMul) {
        unregisterNativeMatMul('wasm');
        return { name: 'wasm', note: 'single-threaded' };
      }
      if (registerNativeMatMul('wasm'))
        return { name: 'wasm', note: 'single-threaded; matMul on OpenBLAS through native/sgemm' };
      return { name: 'wasm', note: `single-threaded; no native matMul: ${nativeMatMulStatus().why}` };
    case 'cpu':
      await activate('cpu');
      return { name: 'cpu' };
  }
}

/**
 * Activates `choice`. auto tries AUTO_ORDER and takes the first that starts; a named backend that
 * cannot start is an error that says why.
 */
export async function selectBackend(
  choice: BackendChoice,
  options: SelectOptions = {},
): Promise<BackendSelection> {
  // tfjs prints a banner recommending tfjs-node through console.warn unless PROD is set.
  tf.env().set('PROD', true);
  if (choice !== 'auto') {
    try {
      // Named explicitly, webgpu may run on a software adapter, with a warning.
      const webgpu = { allowSoftware: true, forceSoftware: options.webgpuAdapter === 'software' };
      const { name, note, warning } = await start(choice, webgpu, options.nativeMatMul);
      const reason = `TFJS_BACKEND=${choice}${note ? ` (${note})` : ''}`;
      if (!warning) return { name, choice, reason, skipped: [] };
      (options.warn ?? warnOnStderr)(warning);
      return { name, choice, reason, skipped: [], warning };
    } catch (error) {
      throw new Error(`TFJS_BACKEND=${choice} cannot be used: ${(error as Error).message}`);
    }
  }
  const skipped: BackendSelection['skipped'] = [];
  for (const candidate of AUTO_ORDER) {
    try {
      const { name, note } = await start(candidate, {}, options.nativeMatMul);
      const passed = skipped.map((s) => `${s.backend}: ${s.why}`).join('; ');
      const reason = `auto picked ${candidate}${note ? ` (${note})` : ''}${passed ? `; skipped ${passed}` : ''}`;
      return { name, choice: candidate, reason, skipped };
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      skipped.push({ backend: candidate, why: error.message });
    }
  }
  throw new Error(`no tfjs backend could start: ${skipped.map((s) => `${s.backend}: ${s.why}`).join('; ')}`);
}

/** Activates `choice` (see selectBackend) and returns the backend's name. */
export async function useBackend(choice: BackendChoice): Promise<string> {
  return (await selectBackend(choice)).name;
}
