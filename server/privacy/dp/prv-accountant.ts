import { z } from 'zod';
import {
  type Accountant,
  type AccountantState,
  appendSteps,
  type HistoryEntry,
  type MechanismStep,
  type PrivacySpent,
  validateDelta,
  validateStep,
} from './accountant.js';
import { type EpsilonBounds, prvEpsilon } from './prv-analysis.js';

const stateSchema = z.object({
  accountant: z.literal('prv'),
  history: z.array(
    z.tuple([z.number().gt(0).finite(), z.number().gt(0).max(1), z.number().int().positive()]),
  ),
});

/**
 * The PRV accountant (Gopi et al. 2021), as in Opacus' PRVAccountant: ε is the upper end of a
 * numerically composed bound with accuracy `epsError` (default 0.01), tighter than RDP's.
 */
export class PrvAccountant implements Accountant {
  readonly name = 'prv';
  private readonly steps: HistoryEntry[] = [];

  constructor(private readonly options: { epsError?: number } = {}) {
    if (options.epsError !== undefined && !(options.epsError > 0)) {
      throw new RangeError(`epsError must be > 0, got ${options.epsError}`);
    }
  }

  static fromState(state: unknown): PrvAccountant {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) throw new TypeError(`not a PRV accountant state: ${z.prettifyError(parsed.error)}`);
    const accountant = new PrvAccountant();
    for (const [noiseMultiplier, sampleRate, count] of parsed.data.history) {
      accountant.step({ noiseMultiplier, sampleRate }, count);
    }
    return accountant;
  }

  get history(): readonly HistoryEntry[] {
    return this.steps;
  }

  /** The PRV of σ = 0 or q = 0 is degenerate; neither is a DP-SGD step worth accounting here. */
  step(step: MechanismStep, count = 1): void {
    validateStep(step, count);
    if (step.noiseMultiplier === 0 || step.sampleRate === 0) {
      throw new RangeError('the PRV accountant needs noiseMultiplier > 0 and sampleRate > 0');
    }
    appendSteps(this.steps, step, count);
  }

  /** Lower bound, estimate and upper bound of ε. */
  bounds(delta: number): EpsilonBounds {
    validateDelta(delta);
    if (this.steps.length === 0) return { lower: 0, estimate: 0, upper: 0 };
    return prvEpsilon(this.steps, delta, { epsError: this.options.epsError });
  }

  getPrivacySpent(delta: number): PrivacySpent {
    return { epsilon: this.bounds(delta).upper, alpha: null };
  }

  getEpsilon(delta: number): number {
    return this.getPrivacySpent(delta).epsilon;
  }

  state(): AccountantState {
    return { accountant: this.name, history: this.steps.map((e) => [...e]) };
  }
}
