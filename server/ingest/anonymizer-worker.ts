/** Worker thread: anonymizes the ingestion batches it is sent, in order. */
import { parentPort, workerData } from 'node:worker_threads';
import { type AnonymizerOptions, createAnonymizer } from '../privacy/pii/index.js';
import { type ConversationJob, createJobRunner } from './batch-anonymizer.js';

const options = workerData as AnonymizerOptions;
const run = createJobRunner(
  createAnonymizer({ ...options, hashKey: Buffer.from(options.hashKey as Uint8Array) }),
);

parentPort!.on('message', ({ id, jobs, scope }: { id: number; jobs: ConversationJob[]; scope: string }) => {
  try {
    parentPort!.postMessage({ id, results: run(jobs, scope) });
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
