/**
 * The chat engine: answers a conversation with the live model, streaming its reply, and keeps the
 * live model in step with the registry. Every server process polls the active-version document
 * (promotion and rollback may happen in another process, e.g. the CLI) and hot-swaps on change;
 * without a promoted version it serves the base model when one is installed.
 */
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Models } from '../db/models/index.js';
import { badRequest, unavailable } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { BackendChoice } from '../ml/backend.js';
import { activeVersionId } from '../registry/promote.js';
import { type LoadFailure, ModelHolder, type ModelTarget, type SwapOutcome } from './holder.js';
import { orderedReads } from './ordered-reads.js';
import { conversationMessages } from './prompt.js';
import type { ServingRuntime, ServingRuntimeChoice } from './served-model.js';
import {
  type ChatTurn,
  DEFAULT_MAX_NEW_TOKENS,
  DEFAULT_SAMPLING,
  type Reply,
  type ReplyOptions,
} from './types.js';
import { WorkerGroup } from './worker-group.js';

export type EngineModels = Pick<Models, 'ModelVersion' | 'SystemState' | 'AuditEvent'>;

export interface ChatEngineOptions {
  models: EngineModels;
  /** Served while no version is promoted, if it holds a model; null for none. */
  baseModelDir: string | null;
  /** The deployment's system prompt, first in every prompt (PARLEY_SYSTEM_PROMPT). */
  systemPrompt: string | null;
  /** Generation worker threads per live version. */
  workers: number;
  backend: BackendChoice;
  /** ONNX Runtime on CPU (exported once per version) or tfjs; default auto (PARLEY_SERVING_RUNTIME). */
  runtime?: ServingRuntimeChoice;
  /** How often to read the active version; 0 reads it only at start and on refresh(). */
  pollIntervalMs: number;
  /** First wait before a version that failed to load is tried again (doubling); default 30 s. */
  retryFailedAfterMs?: number;
  logger?: Logger;
}

export type ServingState = 'no-model' | 'loading' | 'ready' | 'failed';

export interface ServingStatus {
  /** A model is loaded and answering. */
  ready: boolean;
  state: ServingState;
  /** The version answering now. */
  version: string | null;
  /** A version loading in the background (the first one, or the next one during a hot swap). */
  loading: string | null;
  /** Why it is not ready, in words; null when ready. */
  reason: string | null;
  /** The last load that failed (the version serving before it kept serving). */
  lastError: { version: string; message: string; at: string } | null;
  /** tfjs backend of the generation workers, once they started. */
  backend: string | null;
  /** What generates the replies of the live version: onnx (ONNX Runtime) or tfjs; null before one loaded. */
  runtime: ServingRuntime | null;
  /** Generation workers per version (PARLEY_SERVING_WORKERS). */
  workers: number;
  /** Replies in progress on each version held: the live one, and replaced ones still draining. */
  replies: { version: string; inProgress: number; live: boolean }[];
}

export interface SwapEvent {
  from: string | null;
  to: string;
}

/** What the rest of Parley (the widget's Socket.IO handlers, health) uses. */
export interface ChatEngine {
  /**
   * Answers the conversation (oldest turn first) with the live version, streaming through
   * onToken. Rejects with a 503 HttpError (id "model_not_ready") when no model is loaded, a 400
   * HttpError for a conversation without text or bad options, and a ServingError when the
   * generation itself fails (e.g. the engine shuts down mid-reply).
   */
  reply(turns: ChatTurn[], options?: ReplyOptions): Promise<Reply>;
  readonly ready: boolean;
  status(): ServingStatus;
  /** Reads the active version now and swaps to it; resolves once that swap is done, failed or needless. */
  refresh(options?: { retry?: boolean }): Promise<SwapOutcome | null>;
  /** Calls `listener` after each hot swap; returns the unsubscribe function. */
  onSwap(listener: (event: SwapEvent) => void): () => void;
  /** Stops polling and terminates the workers; replies still running fail. */
  close(): Promise<void>;
}

/** What should be live: the active registry version, else the base model if installed, else nothing. */
export async function resolveTarget(
  models: EngineModels,
  baseModelDir: string | null,
): Promise<ModelTarget | null> {
  const id = await activeVersionId(models);
  if (id) {
    const version = await models.ModelVersion.findById(id, { version: 1, artifactPath: 1 }).lean();
    if (version) {
      return {
        key: `version:${id.toHexString()}:${version.artifactPath}`,
        label: version.version,
        dir: version.artifactPath,
        versionId: id.toHexString(),
      };
    }
  }
  if (baseModelDir && (await stat(path.join(baseModelDir, 'config.json')).catch(() => null))?.isFile()) {
    return { key: `base:${baseModelDir}`, label: 'base', dir: baseModelDir, versionId: null };
  }
  return null;
}

export async function startChatEngine(options: ChatEngineOptions): Promise<ChatEngine> {
  const logger = options.logger ?? silentLogger;
  const swapListeners = new Set<(event: SwapEvent) => void>();
  let backend: string | null = null;
  let runtime: ServingRuntime | null = null;
  let target: ModelTarget | null = null;
  let closed = false;

  const recordFailure = async (failure: LoadFailure) => {
    if (!failure.target.versionId) return;
    await options.models.AuditEvent.create({
      at: failure.at,
      action: 'version.load_failed',
      actor: { kind: 'system' },
      target: { type: 'model_version', id: failure.target.versionId },
      details: {
        version: failure.target.label,
        dir: failure.target.dir,
        error: failure.message,
        host: hostname(),
        pid: process.pid,
      },
    });
  };

  const holder: ModelHolder<WorkerGroup> = new ModelHolder<WorkerGroup>(
    {
      load: async (next) => {
        logger.info({ version: next.label, dir: next.dir }, 'loading model version');
        const group = await WorkerGroup.start({
          dir: next.dir,
          size: options.workers,
          backend: options.backend,
          runtime: options.runtime ?? 'auto',
          onWorkerExit: (error) =>
            logger.error(
              { err: error, version: next.label },
              'a generation worker died; its replies failed, a new one is starting',
            ),
          onWorkerReplaced: () => logger.info({ version: next.label }, 'a generation worker was replaced'),
        });
        backend = group.backend;
        runtime = group.runtime;
        if (group.loaded.notice) logger.warn({ version: next.label }, group.loaded.notice);
        logger.info({ version: next.label, runtime, backend }, 'model version loaded');
        return group;
      },
      dispose: (group, old) => {
        logger.info({ version: old.label }, 'model version drained; stopping its workers');
        return group.close();
      },
    },
    {
      onSwap: (from, to) => {
        logger.info({ from: from?.label ?? null, to: to.label }, 'model version live');
        for (const listener of swapListeners) listener({ from: from?.label ?? null, to: to.label });
      },
      onLoadFailed: (failure) => {
        const serving = holder.status().serving;
        logger.error(
          {
            version: failure.target.label,
            dir: failure.target.dir,
            error: failure.message,
            serving: serving?.label,
          },
          `model version ${failure.target.label} failed to load (attempt ${failure.attempts}; next try after ${failure.retryAfter.toISOString()}); ${
            serving ? `${serving.label} keeps serving` : 'no model is serving'
          }`,
        );
        // Audited once per version and process; retries (with backoff) are only logged.
        if (failure.attempts === 1) {
          recordFailure(failure).catch((error) =>
            logger.error({ err: error }, 'could not record the load failure'),
          );
        }
      },
      onDisposeFailed: (old, error) =>
        logger.error({ err: error, version: old.label }, 'stopping workers failed'),
    },
    { retryFailedAfterMs: options.retryFailedAfterMs },
  );

  const readActive = orderedReads(() => resolveTarget(options.models, options.baseModelDir));
  /** Reads the active version; false when a newer read was applied meanwhile (target unchanged). */
  const readTarget = async (): Promise<{ current: boolean }> => {
    const { value, current } = await readActive();
    if (current) target = value;
    return { current };
  };

  const refresh = async ({ retry = false } = {}): Promise<SwapOutcome | null> => {
    if (closed) return null;
    await readTarget();
    if (!target) return null;
    return holder.swapTo(target, { retry });
  };

  let timer: NodeJS.Timeout | null = null;
  const schedule = () => {
    if (closed || options.pollIntervalMs <= 0) return;
    timer = setTimeout(() => {
      void pollOnce().finally(schedule);
    }, options.pollIntervalMs);
  };
  const pollOnce = async () => {
    try {
      const { current } = await readTarget();
      if (current && target && !closed) void holder.swapTo(target);
    } catch (error) {
      logger.warn({ err: error }, 'could not read the active model version');
    }
  };
  await pollOnce();
  if (!target) {
    logger.warn(
      { baseModel: options.baseModelDir },
      'no model to serve: nothing is promoted and no base model is installed; chat replies are unavailable until one is',
    );
  }
  schedule();

  const status = (): ServingStatus => {
    const held = holder.status();
    const lastError = held.lastFailure
      ? {
          version: held.lastFailure.target.label,
          message: held.lastFailure.message,
          at: held.lastFailure.at.toISOString(),
        }
      : null;
    const base = {
      version: held.serving?.label ?? null,
      loading: held.loading?.label ?? null,
      lastError,
      backend,
      runtime,
      workers: options.workers,
      replies: held.inUse.map((use) => ({
        version: use.label,
        inProgress: use.replies,
        live: use.label === held.serving?.label && use.key === held.serving?.key,
      })),
    };
    if (closed) return { ...base, ready: false, state: 'no-model', reason: 'the server is shutting down' };
    switch (held.state) {
      case 'ready':
        return { ...base, ready: true, state: 'ready', reason: null };
      case 'loading':
        return {
          ...base,
          ready: false,
          state: 'loading',
          reason: `loading model ${held.loading!.label}; replies start when it is ready`,
        };
      case 'failed':
        return {
          ...base,
          ready: false,
          state: 'failed',
          reason: `model ${held.lastFailure!.target.label} failed to load: ${held.lastFailure!.message}`,
        };
      case 'empty':
        return {
          ...base,
          ready: false,
          state: 'no-model',
          reason: target
            ? `model ${target.label} is not loaded yet`
            : `no model to serve: nothing is promoted and no base model is installed${
                options.baseModelDir ? ` at ${options.baseModelDir}` : ''
              } (run \`parley model pull\`, or train and promote a version)`,
        };
    }
  };

  return {
    get ready() {
      return holder.ready;
    },
    status,
    async reply(turns, replyOptions = {}) {
      const maxNewTokens = replyOptions.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
      if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 1))
        throw badRequest(`maxNewTokens must be an integer >= 1, got ${maxNewTokens}`, 'bad_reply_options');
      if (conversationMessages(turns, null).length === 0)
        throw badRequest('The conversation has no text to reply to.', 'empty_conversation');
      const lease = holder.acquire();
      if (!lease) throw unavailable(`The chat model is not ready: ${status().reason}.`, 'model_not_ready');
      try {
        const generated = await lease.value.generate(
          {
            turns,
            systemPrompt: options.systemPrompt,
            maxNewTokens,
            sampling: replyOptions.sampling ?? DEFAULT_SAMPLING,
            seed: replyOptions.seed,
          },
          { onDelta: replyOptions.onToken, signal: replyOptions.signal },
        );
        return {
          text: generated.text,
          confidence: generated.confidence,
          modelVersion: lease.target.label,
          finishReason: generated.finishReason,
          tokens: generated.tokens,
        };
      } finally {
        lease.release();
      }
    },
    refresh,
    onSwap(listener) {
      swapListeners.add(listener);
      return () => swapListeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      await holder.close();
    },
  };
}
