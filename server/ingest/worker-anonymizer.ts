import { Worker } from 'node:worker_threads';
import type { AnonymizerOptions } from '../privacy/pii/index.js';
import type { BatchAnonymizer, ConversationJob, ConversationResult } from './batch-anonymizer.js';

type Pending = { resolve: (results: ConversationResult[]) => void; reject: (error: Error) => void };

/** A BatchAnonymizer on its own thread, so a second core anonymizes while the first reads and writes. */
export async function workerAnonymizer(options: AnonymizerOptions): Promise<BatchAnonymizer> {
  const worker = new Worker(new URL('./anonymizer-worker.mjs', import.meta.url), { workerData: options });
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let failure: Error | null = null;
  const failAll = (error: Error) => {
    failure = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on('message', (message: { id: number; results?: ConversationResult[]; error?: string }) => {
    const entry = pending.get(message.id);
    if (!entry) return;
    pending.delete(message.id);
    if (message.error !== undefined) entry.reject(new Error(`Anonymizer worker: ${message.error}`));
    else entry.resolve(message.results!);
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`Anonymizer worker exited with code ${code}`)));
  await new Promise<void>((resolve, reject) => {
    worker.once('online', () => resolve());
    worker.once('error', reject);
  });

  return {
    anonymize(jobs: ConversationJob[], scope: string) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, jobs, scope });
      });
    },
    async close() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
