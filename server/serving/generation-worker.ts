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

/**
 * Replies in progress. Each ends at a token boundary once aborted, so when all have settled no
 * ONNX Runtime step is in flight: terminating the thread during one aborts the whole process
 * (its completion calls into the dead thread).
 */
const running = new Set<Promise<void>>();
let closing = false;

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

async function load(): Promise<LiveModel | null> {
  try {
    const backend = await selectBackend(options.backend);
    const served: LiveModel = await loadLiveModel(options.dir, {
      runtime: options.runtime,
      tfjsBackend: backend.name,
      onnxThreads: options.onnxThreads,
    });
    send({ type: 'ready', backend: backend.name, runtime: served.runtime, notice: served.notice });
    return served;
  } catch (error) {
    send({ type: 'load-failed', error: (error as Error).message });
    return null;
  }
}

const loaded = load();

async function close(): Promise<void> {
  closing = true;
  const served = await loaded;
  for (const controller of jobs.values()) controller.abort();
  await Promise.allSettled(running);
  await served?.dispose().catch(() => undefined);
  send({ type: 'closed' });
}

function start(served: LiveModel | null, message: Extract<ToWorker, { type: 'generate' }>): void {
  if (!served) return;
  if (closing) {
    send({ type: 'failed', jobId: message.jobId, error: 'the generation worker is closing' });
    return;
  }
  const job = generate(served, message);
  running.add(job);
  void job.finally(() => running.delete(job));
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'abort') jobs.get(message.jobId)?.abort();
  else if (message.type === 'close') void close();
  else void loaded.then((served) => start(served, message));
});
