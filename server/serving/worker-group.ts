/**
 * The worker threads that serve one model version. Each worker loads the version itself, so
 * generation never runs on the server's event loop; a hot swap starts a new group for the new
 * version and terminates the old one once its last reply is done, which frees all of its memory.
 */
import { Worker } from 'node:worker_threads';
import type { BackendChoice } from '../ml/backend.js';
import type { FromWorker, ToWorker, WorkerOptions } from './protocol.js';
import { ModelLoadError } from './served-model.js';
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
  /** Called when a worker dies unexpectedly (its replies fail; the others keep serving). */
  onWorkerExit?: (error: Error) => void;
}

export class WorkerGroup {
  private readonly jobs = new Map<number, Job>();
  private nextJobId = 0;
  private closed = false;

  private constructor(
    private readonly members: Member[],
    readonly backend: string,
    private readonly options: WorkerGroupOptions,
  ) {
    for (const member of members) this.watch(member);
  }

  /** Starts `size` workers that each load `dir`; rejects with ModelLoadError if any cannot. */
  static async start(options: WorkerGroupOptions): Promise<WorkerGroup> {
    const workerData: WorkerOptions = { backend: options.backend, dir: options.dir };
    const starting = Array.from({ length: Math.max(1, options.size) }, () => {
      const worker = new Worker(WORKER_ENTRY, { workerData });
      const ready = new Promise<string>((resolve, reject) => {
        const onMessage = (message: FromWorker) => {
          if (message.type === 'ready') resolve(message.backend);
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
    });
    const outcomes = await Promise.allSettled(starting.map((s) => s.ready));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      await Promise.all(starting.map((s) => s.worker.terminate()));
      throw failed.reason;
    }
    const backend = (outcomes[0] as PromiseFulfilledResult<string>).value;
    return new WorkerGroup(
      starting.map((s) => ({ worker: s.worker, active: 0, alive: true })),
      backend,
      options,
    );
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
    if (!member) return Promise.reject(new ServingError('every generation worker of this version died'));
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

  /** Terminates the workers; replies still running fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new ServingError('the serving engine is shutting down');
    for (const job of [...this.jobs.values()]) job.reject(error);
    await Promise.all(
      this.members.map((m) => {
        m.alive = false;
        return m.worker.terminate();
      }),
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
    };
    member.worker.on('error', (error) =>
      died(new ServingError(`a generation worker failed: ${error.message}`)),
    );
    member.worker.on('exit', (code) =>
      died(new ServingError(`a generation worker exited with code ${code}`)),
    );
  }
}
