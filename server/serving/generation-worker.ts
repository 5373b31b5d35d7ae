/**
 * Generation worker thread: loads the one model version its group serves (weights, tokenizer,
 * warm-up), then generates the replies it is sent, several interleaved token by token.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CausalLM } from '../ml/architectures/types.js';
import { selectBackend } from '../ml/backend.js';
import type { OnnxDecoder } from '../ml/onnx/session.js';
import type { FromWorker, ToWorker, WorkerOptions } from './protocol.js';
import { loadLiveModel, replyWith, type ServedModel } from './served-model.js';

const port = parentPort!;
const send = (message: FromWorker) => port.postMessage(message);
const options = workerData as WorkerOptions;
const jobs = new Map<number, AbortController>();

type LiveModel = ServedModel<CausalLM | OnnxDecoder>;

async function generate(served: LiveModel, message: Extract<ToWorker, { type: 'generate' }>) {
  const controller = new AbortController();
  jobs.set(message.jobId, controller);
  try {
    const reply = await replyWith(served, message.request, {
      signal: controller.signal,
      onDelta: (delta) => send({ type: 'delta', jobId: message.jobId, delta }),
    });
    send({ type: 'done', jobId: message.jobId, reply });
  } catch (error) {
    send({ type: 'failed', jobId: message.jobId, error: (error as Error).message });
  } finally {
    jobs.delete(message.jobId);
  }
}

let served: LiveModel;
try {
  const backend = await selectBackend(options.backend);
  served = await loadLiveModel(options.dir, {
    runtime: options.runtime,
    tfjsBackend: backend.name,
    onnxThreads: options.onnxThreads,
  });
  port.on('message', (message: ToWorker) => {
    if (message.type === 'abort') jobs.get(message.jobId)?.abort();
    else void generate(served, message);
  });
  send({ type: 'ready', backend: backend.name, runtime: served.runtime, notice: served.notice });
} catch (error) {
  send({ type: 'load-failed', error: (error as Error).message });
}
