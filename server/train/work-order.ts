/**
 * What the training worker is asked to do and what it reports back: plain JSON both ways, so it
 * crosses the IPC channel to the child process unchanged.
 */
import type { BackendChoice } from '../ml/backend.js';

export interface Hyperparameters {
  /** LoRA trains an adapter; full trains every weight. Absent (older jobs): lora. */
  mode?: 'lora' | 'full';
  loraRank: number;
  loraAlpha: number;
  loraDropout: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
  maxGradNorm: number;
  weightDecay: number;
  seed: number;
  evalEvery: number | null;
  /** A checkpoint every this many steps (and one at the end). */
  checkpointEvery: number;
  /** How many checkpoints stay on disk. */
  keepCheckpoints: number;
}

export interface DpPlan {
  /** The privacy unit; absent (older jobs): example. */
  unit?: 'example' | 'customer';
  noiseMultiplier: number;
  sampleRate: number;
  /** Steps the run plans (epochs / q); the accountant records each one done. */
  steps: number;
  clipNorm: number;
  delta: number;
}

export interface WorkOrder {
  jobId: string;
  /** Checkpoints, the adapter and the exported model go here. */
  jobDir: string;
  datasetDir: string;
  base: string;
  backend: BackendChoice;
  hyperparameters: Hyperparameters;
  dp: DpPlan | null;
  /** The exported model's lineage, less what the run measures (metrics, privacy). */
  lineage: {
    baseModel: string;
    dataSnapshot: string;
    hyperParameters: Record<string, unknown>;
    trainingJob: string;
  };
}

export interface ProgressEvent {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  /** Validation loss when this step ran an evaluation, else null. */
  validationLoss: number | null;
  learningRate: number;
  tokensPerSecond: number;
  etaSeconds: number;
  /** ε spent so far at the run's δ; null without DP. */
  epsilon: number | null;
}

export interface PrivacySpend {
  epsilon: number;
  delta: number;
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
  clipNorm: number;
  accountant: 'rdp';
  unit: 'example' | 'customer';
}

export interface WorkResult {
  status: 'succeeded' | 'cancelled';
  steps: number;
  finalLoss: number;
  validationLoss: number | null;
  stoppedEarly: boolean;
  epsilon: number | null;
  /** Training time, resumed parts included. */
  trainingSeconds: number;
  /** The PEFT adapter; null for full fine-tuning. */
  adapterDir: string | null;
  /** The merged model, staged in the job directory; null when cancelled. */
  stagedModelDir: string | null;
}

export type ParentMessage = { type: 'start'; order: WorkOrder } | { type: 'cancel' };

export type WorkerMessage =
  | { type: 'started'; resumedFrom: number | null; backend: string; trainExamples: number }
  | { type: 'step'; progress: ProgressEvent }
  | { type: 'checkpoint'; step: number; dir: string }
  | { type: 'done'; result: WorkResult }
  | { type: 'failed'; message: string; stack?: string };
