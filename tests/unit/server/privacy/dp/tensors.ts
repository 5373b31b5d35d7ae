import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** Runs `body` and checks that it leaves no tensor behind (variables included). */
export async function expectNoLeak(body: () => void | Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  await body();
  expect(tf.memory().numTensors).toBe(before);
}

/** The values of a tensor, as plain numbers, disposing it. */
export function take(tensor: tf.Tensor): number[] {
  const values = Array.from(tensor.dataSync());
  tensor.dispose();
  return values;
}
