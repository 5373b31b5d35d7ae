import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTO_ORDER, isInstalled, selectBackend, useBackend } from '../../../../server/ml/backend.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

const noNativeBindings = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].every(
  (pkg) => !isInstalled(pkg),
);

/** The gradient of a loss through tf.gather, the op training depends on, leaving no tensor behind. */
function gatherGradient(): number[] {
  const before = tf.memory().numTensors;
  const grad = tf.tidy(() =>
    Array.from(
      tf
        .grad((e: tf.Tensor) => tf.gather(e, [2, 0, 2]).square().sum())(
          tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]),
        )
        .dataSync(),
    ),
  );
  expect(tf.memory().numTensors).toBe(before);
  return grad;
}

describe('isInstalled', () => {
  it('finds a package in node_modules without loading it', () => {
    expect(isInstalled('@tensorflow/tfjs-backend-wasm')).toBe(true);
    expect(isInstalled('@tensorflow/tfjs')).toBe(true);
  });

  it('is false for a package that is not there', () => {
    expect(isInstalled('parley-no-such-package')).toBe(false);
    expect(isInstalled('@tensorflow/parley-no-such-backend')).toBe(false);
  });
});

describe('selectBackend', () => {
  it('tries GPU backends before CPU ones, and wasm before cpu', () => {
    expect(AUTO_ORDER).toEqual(['node-gpu', 'webgpu', 'node', 'wasm', 'cpu']);
  });

  it.skipIf(!noNativeBindings)(
    'auto without native bindings picks webgpu on a GPU adapter only, else wasm, and says why',
    async () => {
      const selection = await selectBackend('auto');
      expect(selection.skipped.slice(0, 1)).toEqual([
        { backend: 'node-gpu', why: '@tensorflow/tfjs-node-gpu is not installed' },
      ]);
      if (selection.choice === 'webgpu') {
        // A machine with a GPU and its Vulkan driver.
        expect(selection.reason).toMatch(/^auto picked webgpu \(.+\); skipped node-gpu: /);
        expect(selection.reason).not.toMatch(/software/);
        expect(selection.warning).toBeUndefined();
        return;
      }
      // Without a GPU: Mesa's software adapter (CI) is passed over, as is a machine without Vulkan.
      expect(selection.name).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(selection.skipped.map((s) => s.backend)).toEqual(['node-gpu', 'webgpu', 'node']);
      expect(selection.skipped[1]!.why).toMatch(
        /^(the WebGPU adapter is software rendering \(.+\), not a GPU|WebGPU found no adapter: .+)$/,
      );
      expect(selection.skipped[2]!.why).toBe('@tensorflow/tfjs-node is not installed');
      expect(selection.reason).toMatch(
        /^auto picked wasm \(single-threaded\); skipped node-gpu: .+; webgpu: .+; node: .+/,
      );
    },
  );

  it('wasm comes with the kernel tf.gather needs for its gradient, giving the cpu result', async () => {
    await selectBackend('cpu');
    const cpu = gatherGradient();
    const selection = await selectBackend('wasm');
    expect(selection).toEqual({
      name: 'wasm',
      choice: 'wasm',
      reason: 'TFJS_BACKEND=wasm (single-threaded)',
      skipped: [],
    });
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
    expect(gatherGradient()).toEqual(cpu);
    // Row 0 is picked once (2·e0), row 2 twice (2·2·e2), row 1 never.
    expect(cpu).toEqual([2, 4, 0, 0, 20, 24]);
  });

  it('cpu is always available', async () => {
    const selection = await selectBackend('cpu');
    expect(selection).toEqual({ name: 'cpu', choice: 'cpu', reason: 'TFJS_BACKEND=cpu', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
  });

  it.skipIf(isInstalled('@tensorflow/tfjs-node'))(
    'a named backend that is not installed fails with the package to install, leaving the backend as it was',
    async () => {
      await selectBackend('cpu');
      await expect(selectBackend('node')).rejects.toThrow(
        'TFJS_BACKEND=node cannot be used: @tensorflow/tfjs-node is not installed',
      );
      expect(tf.getBackend()).toBe('cpu');
    },
  );

  it.skipIf(isInstalled('@tensorflow/tfjs-node-gpu'))(
    'node-gpu without its package fails the same way',
    async () => {
      await expect(selectBackend('node-gpu')).rejects.toThrow(
        'TFJS_BACKEND=node-gpu cannot be used: @tensorflow/tfjs-node-gpu is not installed',
      );
    },
  );

  it('webgpu and tfjs-backend-webgpu are installed, as dependencies, for the GPU path on Dawn', () => {
    expect(isInstalled('webgpu')).toBe(true);
    expect(isInstalled('@tensorflow/tfjs-backend-webgpu')).toBe(true);
  });
});

describe('useBackend', () => {
  it('returns the active backend name for existing callers', async () => {
    expect(await useBackend('cpu')).toBe('cpu');
    expect(await useBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it.skipIf(isInstalled('@tensorflow/tfjs-node'))(
    'rejects like selectBackend when the backend is missing',
    async () => {
      await expect(useBackend('node')).rejects.toThrow(/@tensorflow\/tfjs-node is not installed/);
    },
  );
});
