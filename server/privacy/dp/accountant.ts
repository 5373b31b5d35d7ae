/** What every privacy accountant offers; the registry (registry.ts) picks one by name. */

/** One step of the subsampled Gaussian mechanism: noise std over clip norm, and the sampling rate q. */
export interface MechanismStep {
  noiseMultiplier: number;
  sampleRate: number;
}

/** [noiseMultiplier, sampleRate, steps]: consecutive equal steps are kept as one entry, as in Opacus. */
export type HistoryEntry = [noiseMultiplier: number, sampleRate: number, steps: number];

/** A checkpointable, JSON-safe snapshot of an accountant. */
export interface AccountantState {
  accountant: string;
  history: HistoryEntry[];
  /** Only for an accountant created with its own RDP orders. */
  orders?: number[];
}

export interface PrivacySpent {
  epsilon: number;
  /** The optimal RDP order; null for accountants without orders. NaN when no order gives a finite ε. */
  alpha: number | null;
}

export interface Accountant {
  readonly name: string;
  readonly history: readonly HistoryEntry[];
  /** Records `count` steps (default 1) with the same parameters. */
  step(step: MechanismStep, count?: number): void;
  getEpsilon(delta: number): number;
  getPrivacySpent(delta: number): PrivacySpent;
  state(): AccountantState;
}

export function validateStep({ noiseMultiplier, sampleRate }: MechanismStep, count: number): void {
  if (!(Number.isFinite(noiseMultiplier) && noiseMultiplier >= 0)) {
    throw new RangeError(`noiseMultiplier must be a finite number >= 0, got ${noiseMultiplier}`);
  }
  if (!(sampleRate >= 0 && sampleRate <= 1)) {
    throw new RangeError(`sampleRate must be in [0, 1], got ${sampleRate}`);
  }
  if (!(Number.isInteger(count) && count > 0)) {
    throw new RangeError(`the number of steps must be a positive integer, got ${count}`);
  }
}

export function validateDelta(delta: number): void {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
}

/** Appends steps to a history, merging with the last entry when the parameters are equal. */
export function appendSteps(history: HistoryEntry[], step: MechanismStep, count: number): void {
  const last = history.at(-1);
  if (last && last[0] === step.noiseMultiplier && last[1] === step.sampleRate) last[2] += count;
  else history.push([step.noiseMultiplier, step.sampleRate, count]);
}
