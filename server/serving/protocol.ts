/** Messages between a worker group (main thread) and its generation workers. */
import type { BackendChoice } from '../ml/backend.js';
import type { ServingRuntime, ServingRuntimeChoice } from './served-model.js';
import type { GeneratedReply, ReplyRequest } from './types.js';

/** workerData: each worker loads one model version, the one its group serves. */
export interface WorkerOptions {
  backend: BackendChoice;
  dir: string;
  runtime: ServingRuntimeChoice;
  /** ONNX Runtime intra-op threads of each worker. */
  onnxThreads: number;
}

export type ToWorker =
  | { type: 'generate'; jobId: number; request: ReplyRequest }
  | { type: 'abort'; jobId: number };

export type FromWorker =
  | { type: 'ready'; backend: string; runtime: ServingRuntime; notice: string | null }
  | { type: 'load-failed'; error: string }
  | { type: 'delta'; jobId: number; delta: string }
  | { type: 'done'; jobId: number; reply: GeneratedReply }
  | { type: 'failed'; jobId: number; error: string };
