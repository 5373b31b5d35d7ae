/**
 * The worker threads that serve one model version. Each worker loads the version itself, so
 * generation never runs on the server's event loop; a hot swap starts a new group for the new
 * version and terminates the old one once its last reply is done, which frees all of its memory.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BackendChoice } from '../ml/backend.js';
import type { FromWorker, ToWorker, WorkerOptions } from './protocol.js';
import { ModelLoadError, type ServingRuntime, type ServingRuntimeChoice } from './served-model.js';
import type { GeneratedReply, ReplyRequest } from './types.js';

const WORKER_ENTRY = new URL('./generation-worker.mjs', import.meta.url);

interface Job {
  resolve: (reply: GeneratedReply) => void;
  reject: (error: Error) => void;
  onDelta?: ((delta: string) => void) | undefined;
  worker: Member;
}

interface Member {
  worker: Worker;
  /** Replies in progress on this worker. */
  active: number;
  alive: boolean;
}

export class ServingError extends Error {
  override name = 'ServingError';
}

export interface WorkerGroupOptions {
  dir: string;
  size: number;
  backend: BackendChoice;
  /** ONNX Runtime or tfjs (see loadLiveModel); default auto. */
  runtime?: ServingRuntimeChoice;
  /** Called when a worker dies unexpectedly (its replies fail, the others keep serving, a new one starts). */
  onWorkerExit?: (error: Error) => void;
  /** Called when a worker that died has been replaced by a new one with the version loaded. */
  onWorkerReplaced?: () => void;
}

/** What a worker reports once its version is loaded. */
export interface WorkerReady {
  /** The tfjs backend. */
  backend: string;
  runtime: ServingRuntime;
  /** Why auto fell back to tfjs, if it did. */
  notice: string | null;
}

/** How long a worker may take to finish its ONNX Runtime step and release its model when stopped. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * Stops a worker the safe way: asks it to close and terminates it once it says nothing runs any
 * more (or it exited, or the timeout passed). Terminating a thread while ONNX Runtime runs a step
 * for it aborts the whole process when the step completes.
 */
async function stopWorker(worker: Worker): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onMessage: ((message: FromWorker) => void) | undefined;
  const settled = new Promise<void>((resolve) => {
    onMessage = (message: FromWorker) => {
      if (message.type === 'closed') resolve();
    };
    worker.on('message', onMessage);
    worker.once('exit', () => resolve());
    timer = setTimeout(resolve, STOP_TIMEOUT_MS);
  });
  try {
    worker.postMessage({ type: 'close' } satisfies ToWorker);
  } catch {
    // the thread is already gone
  }
  await settled;
  clearTimeout(timer);
  if (onMessage) worker.off('message', onMessage);
  await worker.terminate();
}

/** A new worker loading the group's version. */
function spawn(options: WorkerGroupOptions): { worker: Worker; ready: Promise<WorkerReady> } {
  const workerData: WorkerOptions = {
    backend: options.backend,
    dir: options.dir,
    runtime: options.runtime ?? 'auto',
    // The workers share the cores: ORT's threads per worker, so that they do not oversubscribe them.
    onnxThreads: Math.max(1, Math.floor(availableParallelism() / Math.max(1, options.size))),
  };
  const worker = new Worker(WORKER_ENTRY, { workerData });
  const ready = new Promise<WorkerReady>((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (message.type === 'ready')
        resolve({ backend: message.backend, runtime: message.runtime, notice: message.notice });
      else if (message.type === 'load-failed') reject(new ModelLoadError(message.error));
      else return;
      cleanup();
    };
    const onError = (error: Error) => {
      reject(new ModelLoadError(`a generation worker failed while loading: ${error.message}`));
      cleanup();
    };
    const onExit = (code: number) => {
      reject(new ModelLoadError(`a generation worker exited with code ${code} while loading`));
      cleanup();
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
  return { worker, ready };
}

export class WorkerGroup {
  private readonly jobs = new Map<number, Job>();
  private nextJobId = 0;
  private closed = false;
  /** Replacement workers still loading. */
  private readonly starting = new Set<Worker>();

  private constructor(
    private readonly members: Member[],
    /** What the first worker reported: tfjs backend, runtime, fallback notice. */
    readonly loaded: WorkerReady,
    private readonly options: WorkerGroupOptions,
  ) {
    for (const member of members) this.watch(member);
  }

  /** Starts `size` workers that each load `dir`; rejects with ModelLoadError if any cannot. */
  static async start(options: WorkerGroupOptions): Promise<WorkerGroup> {
    const starting = Array.from({ length: Math.max(1, options.size) }, () => spawn(options));
    const outcomes = await Promise.allSettled(starting.map((s) => s.ready));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      await Promise.all(starting.map((s) => stopWorker(s.worker)));
      throw failed.reason;
    }
    const loaded = (outcomes[0] as PromiseFulfilledResult<WorkerReady>).value;
    return new WorkerGroup(
      starting.map((s) => ({ worker: s.worker, active: 0, alive: true })),
      loaded,
      options,
    );
  }

  /** The tfjs backend of the workers. */
  get backend(): string {
    return this.loaded.backend;
  }

  /** What generates the replies: ONNX Runtime or tfjs. */
  get runtime(): ServingRuntime {
    return this.loaded.runtime;
  }

  /** The worker threads (live or not), for diagnostics. */
  get workers(): readonly Worker[] {
    return this.members.map((m) => m.worker);
  }

  get size(): number {
    return this.members.filter((m) => m.alive).length;
  }

  /** Generates one reply on the least busy worker. */
  generate(
    request: ReplyRequest,
    hooks: { onDelta?: (delta: string) => void; signal?: AbortSignal } = {},
  ): Promise<GeneratedReply> {
    if (this.closed) return Promise.reject(new ServingError('the worker group is closed'));
    const member = this.members
      .filter((m) => m.alive)
      .reduce<Member | undefined>((best, m) => (best && best.active <= m.active ? best : m), undefined);
    if (!member)
      return Promise.reject(
        new ServingError('no generation worker of this version is running; a new one is starting'),
      );
    const jobId = this.nextJobId++;
    member.active += 1;
    return new Promise<GeneratedReply>((resolve, reject) => {
      const onAbort = () => this.post(member, { type: 'abort', jobId });
      const settle = () => {
        member.active -= 1;
        hooks.signal?.removeEventListener('abort', onAbort);
        this.jobs.delete(jobId);
      };
      this.jobs.set(jobId, {
        worker: member,
        onDelta: hooks.onDelta,
        resolve: (reply) => {
          settle();
          resolve(reply);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      hooks.signal?.addEventListener('abort', onAbort, { once: true });
      this.post(member, { type: 'generate', jobId, request });
      if (hooks.signal?.aborted) onAbort();
    });
  }

  /** Stops the workers; replies still running fail at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new ServingError('the serving engine is shutting down');
    for (const job of [...this.jobs.values()]) job.reject(error);
    await Promise.all([
      ...this.members.map((m) => {
        m.alive = false;
        return stopWorker(m.worker);
      }),
      ...[...this.starting].map((worker) => stopWorker(worker)),
    ]);
  }

  /**
   * Starts a worker in place of one that died. One that cannot load the version either leaves the
   * slot empty (the others keep serving), so a version that kills its workers is not respawned
   * in a loop.
   */
  private replace(dead: Member): void {
    const { worker, ready } = spawn(this.options);
    this.starting.add(worker);
    ready.then(
      () => {
        this.starting.delete(worker);
        if (this.closed) return;
        const member: Member = { worker, active: 0, alive: true };
        this.members.splice(this.members.indexOf(dead), 1, member);
        this.watch(member);
        this.options.onWorkerReplaced?.();
      },
      (error: Error) => {
        this.starting.delete(worker);
        void stopWorker(worker);
        if (!this.closed)
          this.options.onWorkerExit?.(new ServingError(`no replacement worker: ${error.message}`));
      },
    );
  }

  private post(member: Member, message: ToWorker): void {
    if (member.alive) member.worker.postMessage(message);
  }

  private watch(member: Member): void {
    member.worker.on('message', (message: FromWorker) => {
      if (!('jobId' in message)) return;
      const job = this.jobs.get(message.jobId);
      if (!job) return;
      if (message.type === 'delta') job.onDelta?.(message.delta);
      else if (message.type === 'done') job.resolve(message.reply);
      else if (message.type === 'failed') job.reject(new ServingError(message.error));
    });
    const died = (error: Error) => {
      if (!member.alive || this.closed) return;
      member.alive = false;
      for (const job of [...this.jobs.values()]) if (job.worker === member) job.reject(error);
      this.options.onWorkerExit?.(error);
      this.replace(member);
    };
    member.worker.on('error', (error) =>
      died(new ServingError(`a generation worker failed: ${error.message}`)),
    );
    member.worker.on('exit', (code) =>
      died(new ServingError(`a generation worker exited with code ${code}`)),
    );
  }
}
