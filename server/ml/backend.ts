/** Picks the tfjs backend named by TFJS_BACKEND. */
import * as tf from '@tensorflow/tfjs';
import type { TFJS_BACKENDS } from '../env.js';

export type BackendChoice = (typeof TFJS_BACKENDS)[number];

/** Native bindings are optional dependencies: a missing one is a normal outcome, not a crash. */
async function tryImport(specifier: string): Promise<boolean> {
  try {
    await import(specifier);
    return true;
  } catch {
    return false;
  }
}

const PACKAGES: Record<Exclude<BackendChoice, 'auto' | 'cpu'>, [string, string]> = {
  'node-gpu': ['@tensorflow/tfjs-node-gpu', 'tensorflow'],
  node: ['@tensorflow/tfjs-node', 'tensorflow'],
  webgpu: ['@tensorflow/tfjs-backend-webgpu', 'webgpu'],
  wasm: ['@tensorflow/tfjs-backend-wasm', 'wasm'],
};

/** Activates `choice` (auto: node-gpu, then node, then cpu) and returns the backend's name. */
export async function useBackend(choice: BackendChoice): Promise<string> {
  // tfjs prints a banner recommending tfjs-node through console.warn unless PROD is set.
  tf.env().set('PROD', true);
  if (choice === 'auto') {
    for (const candidate of ['node-gpu', 'node'] as const) {
      const [pkg, name] = PACKAGES[candidate];
      if ((await tryImport(pkg)) && (await tf.setBackend(name))) return name;
    }
    choice = 'cpu';
  }
  if (choice === 'cpu') {
    await tf.setBackend('cpu');
    await tf.ready();
    return 'cpu';
  }
  const [pkg, name] = PACKAGES[choice];
  if (!(await tryImport(pkg))) throw new Error(`TFJS_BACKEND=${choice} needs ${pkg}, which is not installed`);
  if (!(await tf.setBackend(name)))
    throw new Error(`TFJS_BACKEND=${choice}: the ${name} backend failed to start`);
  await tf.ready();
  return name;
}
