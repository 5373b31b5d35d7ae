import { expect } from 'vitest';
import type { RunningParley } from '../../server/index.js';

/** Waits (up to `timeoutMs`) until the chat engine has loaded its model; fails with its status if not. */
export async function waitForModel(running: RunningParley, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!running.chat.ready && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  expect(running.chat.status()).toMatchObject({ ready: true });
}
