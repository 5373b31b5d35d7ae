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
import { computeRdp, DEFAULT_ORDERS, rdpToEpsilon } from './rdp-analysis.js';

const historyEntry = z.tuple([
  z.number().min(0).finite(),
  z.number().min(0).max(1),
  z.number().int().positive(),
]);

const stateSchema = z.object({
  accountant: z.literal('rdp'),
  history: z.array(historyEntry),
  orders: z.array(z.number().gt(1)).min(1).optional(),
});

/** The RDP accountant of Opacus (opacus/accountants/rdp.py), ε from the Balle et al. conversion. */
export class RdpAccountant implements Accountant {
  readonly name = 'rdp';
  private readonly steps: HistoryEntry[] = [];
  readonly orders: readonly number[];

  constructor(options: { orders?: readonly number[] } = {}) {
    const orders = options.orders ?? DEFAULT_ORDERS;
    if (orders.length === 0 || orders.some((alpha) => !(alpha > 1))) {
      throw new RangeError('RDP orders must be a non-empty list of numbers > 1');
    }
    this.orders = orders;
  }

  static fromState(state: unknown): RdpAccountant {
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) throw new TypeError(`not an RDP accountant state: ${z.prettifyError(parsed.error)}`);
    const accountant = new RdpAccountant({ orders: parsed.data.orders });
    for (const [noiseMultiplier, sampleRate, count] of parsed.data.history) {
      accountant.step({ noiseMultiplier, sampleRate }, count);
    }
    return accountant;
  }

  get history(): readonly HistoryEntry[] {
    return this.steps;
  }

  step(step: MechanismStep, count = 1): void {
    validateStep(step, count);
    appendSteps(this.steps, step, count);
  }

  /** Total RDP of the history at each order. */
  rdp(): number[] {
    const total: number[] = this.orders.map(() => 0);
    for (const [noiseMultiplier, sampleRate, count] of this.steps) {
      const rdp = computeRdp(sampleRate, noiseMultiplier, count, this.orders);
      for (let k = 0; k < total.length; k++) total[k] = total[k]! + rdp[k]!;
    }
    return total;
  }

  /** ε and the optimal order; (0, 0) before the first step, as in Opacus. */
  getPrivacySpent(delta: number): PrivacySpent {
    validateDelta(delta);
    if (this.steps.length === 0) return { epsilon: 0, alpha: 0 };
    return rdpToEpsilon(this.orders, this.rdp(), delta);
  }

  getEpsilon(delta: number): number {
    return this.getPrivacySpent(delta).epsilon;
  }

  state(): AccountantState {
    const state: AccountantState = { accountant: this.name, history: this.steps.map((e) => [...e]) };
    if (this.orders !== DEFAULT_ORDERS) state.orders = [...this.orders];
    return state;
  }
}
