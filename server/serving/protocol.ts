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
  | { type: 'abort'; jobId: number }
  /** Stop: abort the replies, let ONNX Runtime finish the step in flight, release the model. */
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; backend: string; runtime: ServingRuntime; notice: string | null }
  | { type: 'load-failed'; error: string }
  | { type: 'delta'; jobId: number; delta: string }
  | { type: 'done'; jobId: number; reply: GeneratedReply }
  | { type: 'failed'; jobId: number; error: string }
  /** Nothing runs any more: the thread may be terminated. */
  | { type: 'closed' };
