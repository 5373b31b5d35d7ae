/** Differential privacy for training: accountants, noise calibration, DP-SGD parts, the ledger. */
export type { Accountant, AccountantState, HistoryEntry, MechanismStep, PrivacySpent } from './accountant.js';
export { type Calibration, type NoiseTarget, noiseForTarget, UnreachableTargetError } from './calibrate.js';
export { clipAndSum, clipFactors, clipPerUnit, unitNorms } from './clip.js';
export { DpOptimizer, type DpOptimizerOptions, type PerUnitGradients } from './dp-optimizer.js';
export {
  assertWithinBudget,
  type CumulativeSpend,
  cumulativeSpend,
  datasetsOverlap,
  type LedgerEntry,
  type LedgerScope,
  type PlannedRun,
  type PrivacyBudget,
  PrivacyBudgetExceededError,
  privacyBudgetFromEnv,
} from './ledger.js';
export { addGaussianNoise, gaussianNoise } from './noise.js';
export {
  type BatchedParamsLoss,
  type ExampleLoss,
  microbatchGrads,
  sumByUnit,
  type UnitBatch,
  vectorizedGrads,
} from './per-example-grads.js';
export { PrvAccountant } from './prv-accountant.js';
export { type EpsilonBounds, prvEpsilon } from './prv-analysis.js';
export { RdpAccountant } from './rdp-accountant.js';
export { DEFAULT_ORDERS } from './rdp-analysis.js';
export { accountantFromState, accountantNames, createAccountant, registerAccountant } from './registry.js';
export { gaussians, type Rng, secureRng, seededRng } from './rng.js';
export { groupByUnit, poissonSample, type SampledBatch, sampleBatch } from './sampling.js';
