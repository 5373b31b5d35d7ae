/**
 * The live model and its hot swap. A new version loads in the background while the current one
 * keeps answering; the swap itself is one assignment, so every reply runs on exactly one version.
 * Each reply holds a lease on the version it started with and finishes on it; a replaced version
 * is disposed when its last lease is released. A version that fails to load is never installed:
 * the current one keeps serving, and the failure is kept for the health report.
 */

/** A model version to serve. Equal keys mean the same files. */
export interface ModelTarget {
  key: string;
  /** Registry label ("v3"), or "base" for the base model. */
  label: string;
  dir: string;
  /** The registry version's id; null for the base model. */
  versionId: string | null;
}

export interface ModelLoader<T> {
  load(target: ModelTarget): Promise<T>;
  dispose(value: T, target: ModelTarget): Promise<void> | void;
}

export interface Lease<T> {
  readonly value: T;
  readonly target: ModelTarget;
  /** Ends the use; the second and later calls do nothing. */
  release(): void;
}

export interface LoadFailure {
  target: ModelTarget;
  message: string;
  at: Date;
  /** Failed loads of this target in a row. */
  attempts: number;
  /** Before this, asking for the target again answers "failed" without loading (retry overrides). */
  retryAfter: Date;
}

export interface HolderOptions {
  /**
   * Wait before a failed target is loaded again when asked for: this after the first failure,
   * doubling after each further one, up to 32 times it. A broken version is not reloaded every
   * poll, and a passing fault (memory, a file system hiccup) does not keep a server unready forever.
   */
  retryFailedAfterMs?: number;
}

export type SwapOutcome =
  | { outcome: 'swapped'; target: ModelTarget }
  | { outcome: 'unchanged'; target: ModelTarget }
  | { outcome: 'failed'; target: ModelTarget; error: Error }
  | { outcome: 'superseded'; target: ModelTarget };

export type HolderState = 'empty' | 'loading' | 'ready' | 'failed';

export interface HolderStatus {
  state: HolderState;
  /** What serves replies now. */
  serving: ModelTarget | null;
  /** What is loading in the background. */
  loading: ModelTarget | null;
  /** The last load that failed, kept until a later load of any version succeeds. */
  lastFailure: LoadFailure | null;
  /** Replies in progress on each version held (a replaced version stays until they finish). */
  inUse: { key: string; label: string; replies: number }[];
}

interface Entry<T> {
  target: ModelTarget;
  value: T;
  leases: number;
  retired: boolean;
  disposed: Promise<void> | null;
}

export interface HolderEvents {
  onSwap?: (from: ModelTarget | null, to: ModelTarget) => void;
  onLoadFailed?: (failure: LoadFailure, error: Error) => void;
  onDisposeFailed?: (target: ModelTarget, error: Error) => void;
}

export class ModelHolder<T> {
  private current: Entry<T> | null = null;
  private readonly held = new Set<Entry<T>>();
  private desired: ModelTarget | null = null;
  private loadingTarget: ModelTarget | null = null;
  private running: Promise<void> | null = null;
  private looping = false;
  private failure: LoadFailure | null = null;
  private closed = false;
  private readonly waiters: { target: ModelTarget; resolve: (outcome: SwapOutcome) => void }[] = [];

  private readonly retryFailedAfterMs: number;

  constructor(
    private readonly loader: ModelLoader<T>,
    private readonly events: HolderEvents = {},
    options: HolderOptions = {},
  ) {
    this.retryFailedAfterMs = options.retryFailedAfterMs ?? 30_000;
  }

  /** The current version for one reply, or null when none is loaded; release() when done. */
  acquire(): Lease<T> | null {
    const entry = this.current;
    if (!entry || this.closed) return null;
    entry.leases += 1;
    let released = false;
    return {
      value: entry.value,
      target: entry.target,
      release: () => {
        if (released) return;
        released = true;
        entry.leases -= 1;
        if (entry.retired && entry.leases === 0) this.dispose(entry);
      },
    };
  }

  /**
   * Makes `target` the live version: loads it in the background and swaps it in when it is
   * ready. A later call wins over an earlier one still loading. A target whose last load failed is
   * tried again only with `retry` or once its retry time has come (see HolderOptions).
   */
  swapTo(target: ModelTarget, { retry = false } = {}): Promise<SwapOutcome> {
    if (this.closed) return Promise.resolve({ outcome: 'superseded', target });
    if (this.current?.target.key === target.key && !this.loadingTarget) {
      this.desired = target;
      return Promise.resolve({ outcome: 'unchanged', target });
    }
    if (
      !retry &&
      this.failure?.target.key === target.key &&
      this.desired?.key === target.key &&
      Date.now() < this.failure.retryAfter.getTime()
    ) {
      return Promise.resolve({
        outcome: 'failed',
        target,
        error: new Error(this.failure.message),
      });
    }
    this.desired = target;
    const outcome = new Promise<SwapOutcome>((resolve) => this.waiters.push({ target, resolve }));
    // `looping` is set and cleared synchronously, so a call never lands between the loop's last
    // look at `desired` and its end.
    if (!this.looping) {
      this.looping = true;
      this.running = this.run();
    }
    return outcome;
  }

  get ready(): boolean {
    return this.current !== null && !this.closed;
  }

  status(): HolderStatus {
    const state: HolderState = this.current
      ? 'ready'
      : this.loadingTarget
        ? 'loading'
        : this.failure
          ? 'failed'
          : 'empty';
    return {
      state,
      serving: this.current?.target ?? null,
      loading: this.loadingTarget,
      lastFailure: this.failure,
      inUse: [...this.held].map((e) => ({ key: e.target.key, label: e.target.label, replies: e.leases })),
    };
  }

  /** Stops swapping, waits for a load in progress, and disposes every version, in use or not. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    this.current = null;
    const held = [...this.held];
    for (const entry of held) {
      entry.retired = true;
      this.dispose(entry);
    }
    await Promise.all(held.map((e) => e.disposed));
  }

  /** Versions not yet disposed, with or without replies on them. */
  async drained(): Promise<void> {
    await Promise.all([...this.held].filter((e) => e.retired).map((e) => e.disposed));
  }

  private settle(key: string, outcome: SwapOutcome): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.target.key !== key) continue;
      this.waiters[i]!.resolve(outcome);
      this.waiters.splice(i, 1);
    }
  }

  private async run(): Promise<void> {
    try {
      await this.loop();
    } catch {
      // Only an event callback can throw here; loop() ends itself on every other path.
      this.endLoop();
    }
  }

  /** Runs synchronously after the loop's last look at `desired`. */
  private endLoop(): void {
    // Anyone still waiting asked for a target that is no longer wanted.
    for (const waiter of this.waiters.splice(0))
      waiter.resolve({ outcome: 'superseded', target: waiter.target });
    this.looping = false;
  }

  private async loop(): Promise<void> {
    for (;;) {
      const target = this.desired;
      if (!target || this.closed) return this.endLoop();
      if (this.current?.target.key === target.key) {
        this.settle(target.key, { outcome: 'unchanged', target });
        return this.endLoop();
      }
      this.loadingTarget = target;
      let value: T;
      try {
        value = await this.loader.load(target);
      } catch (error) {
        this.loadingTarget = null;
        const err = error instanceof Error ? error : new Error(String(error));
        const attempts = this.failure?.target.key === target.key ? this.failure.attempts + 1 : 1;
        const wait = this.retryFailedAfterMs * 2 ** Math.min(attempts - 1, 5);
        const at = new Date();
        this.failure = {
          target,
          message: err.message,
          at,
          attempts,
          retryAfter: new Date(at.getTime() + wait),
        };
        this.events.onLoadFailed?.(this.failure, err);
        this.settle(target.key, { outcome: 'failed', target, error: err });
        if (this.desired?.key === target.key) return this.endLoop();
        continue;
      }
      this.loadingTarget = null;
      if (this.closed || this.desired?.key !== target.key) {
        // Superseded while loading (or shutting down): never served, dispose it now.
        const entry: Entry<T> = { target, value, leases: 0, retired: true, disposed: null };
        this.held.add(entry);
        this.dispose(entry);
        this.settle(target.key, { outcome: 'superseded', target });
        continue;
      }
      const entry: Entry<T> = { target, value, leases: 0, retired: false, disposed: null };
      this.held.add(entry);
      const previous = this.current;
      this.current = entry;
      this.failure = null;
      if (previous) {
        previous.retired = true;
        if (previous.leases === 0) this.dispose(previous);
      }
      this.events.onSwap?.(previous?.target ?? null, target);
      this.settle(target.key, { outcome: 'swapped', target });
    }
  }

  private dispose(entry: Entry<T>): void {
    if (entry.disposed) return;
    entry.disposed = (async () => {
      try {
        await this.loader.dispose(entry.value, entry.target);
      } catch (error) {
        this.events.onDisposeFailed?.(entry.target, error as Error);
      } finally {
        this.held.delete(entry);
      }
    })();
  }
}
