import { describe, expect, it } from 'vitest';
import type { StepMetrics } from '../../../../client/console/admin-api.js';
import {
  jobFigures,
  lossSeries,
  mergeLog,
  mergeSteps,
  stepFromEvent,
  trainingFormDefaults,
  trainingRequest,
} from '../../../../client/console/training-state.js';
import { TRAINING_DEFAULTS } from '../../../../server/realtime/agent/protocol.js';

const step = (n: number, overrides: Partial<StepMetrics> = {}): StepMetrics => ({
  step: n,
  epoch: 1,
  loss: 3 - n / 10,
  validationLoss: null,
  learningRate: 2e-4,
  tokensPerSecond: 100,
  etaSeconds: 10 - n,
  epsilon: null,
  ...overrides,
});

describe('the training form', () => {
  it('starts from the defaults of parley train and sends them as numbers', () => {
    const form = trainingFormDefaults('65f1c2a9e4b0a1b2c3d4e5f6');
    expect(form).toMatchObject({
      mode: 'lora',
      epochs: '3',
      learningRate: '0.0002',
      batchSize: '8',
      dp: false,
    });
    const result = trainingRequest(form);
    expect(result).toEqual({
      ok: true,
      request: {
        datasetId: '65f1c2a9e4b0a1b2c3d4e5f6',
        mode: TRAINING_DEFAULTS.mode,
        epochs: TRAINING_DEFAULTS.epochs,
        learningRate: TRAINING_DEFAULTS.learningRate,
        batchSize: TRAINING_DEFAULTS.batchSize,
        loraRank: TRAINING_DEFAULTS.loraRank,
        seed: TRAINING_DEFAULTS.seed,
        dp: null,
      },
    });
  });

  it('says what is wrong with each field, and keeps what was typed', () => {
    const form = {
      ...trainingFormDefaults(''),
      epochs: '1.5',
      learningRate: '0',
      batchSize: 'lots',
      seed: '',
    };
    const result = trainingRequest(form);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual({
      datasetId: 'Pick a dataset.',
      epochs: 'Enter a whole number.',
      learningRate: 'Enter a number above 0 and at most 1.',
      batchSize: 'Enter a number.',
      seed: 'Required.',
    });
    expect(form.epochs).toBe('1.5');
  });

  it('sends DP with its target ε, unit, δ and clipping norm; no LoRA rank for full fine-tuning', () => {
    const form = {
      ...trainingFormDefaults('65f1c2a9e4b0a1b2c3d4e5f6'),
      mode: 'full' as const,
      loraRank: 'ignored',
      dp: true,
      targetEpsilon: '4',
      unit: 'customer' as const,
    };
    const result = trainingRequest(form);
    expect(result.ok && result.request).toMatchObject({
      mode: 'full',
      dp: { targetEpsilon: 4, unit: 'customer', delta: 1e-5, maxGradNorm: 1 },
    });
    expect(result.ok && 'loraRank' in result.request).toBe(false);
    expect(trainingRequest({ ...form, targetEpsilon: '0' })).toMatchObject({
      ok: false,
      errors: { targetEpsilon: expect.any(String) },
    });
  });
});

describe('the loss chart and progress of a run', () => {
  it('merges stored steps with live ones, one per step, in order', () => {
    const stored = [step(1), step(2)];
    const live = [step(3), step(2, { loss: 1 })];
    const merged = mergeSteps(stored, live);
    expect(merged.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(merged[1]!.loss).toBe(1);
    // Live events that came before the stored job was read are not lost, nor doubled.
    expect(mergeSteps(mergeSteps([], [step(3)]), [step(1), step(2), step(3)]).map((s) => s.step)).toEqual([
      1, 2, 3,
    ]);
  });

  it('builds uPlot series with gaps where a step had no validation', () => {
    const series = lossSeries([
      step(1),
      step(2, { validationLoss: 2.5 }),
      step(3, { loss: Number.NaN }),
      step(4, { validationLoss: 2.1 }),
    ]);
    expect(series).toEqual([
      [1, 2, 3, 4],
      [2.9, 2.8, null, 2.6],
      [null, 2.5, null, 2.1],
    ]);
    expect(lossSeries([])).toEqual([[], [], []]);
  });

  it('turns a live progress event into a step', () => {
    expect(
      stepFromEvent({
        jobId: 'j',
        step: 4,
        totalSteps: 9,
        epoch: 1,
        loss: 2,
        validationLoss: null,
        learningRate: 1e-4,
        tokensPerSecond: 50,
        etaSeconds: 5,
        epsilon: 0.4,
      }),
    ).toEqual({
      step: 4,
      epoch: 1,
      loss: 2,
      validationLoss: null,
      learningRate: 1e-4,
      tokensPerSecond: 50,
      etaSeconds: 5,
      epsilon: 0.4,
    });
  });

  it('reports where the run is, with the last validation loss and no ETA once finished', () => {
    const steps = [step(1, { validationLoss: 2.4 }), step(2), step(3, { epsilon: 0.7 })];
    const running = jobFigures({ status: 'running', progress: null }, steps, 12);
    expect(running).toMatchObject({
      step: 3,
      totalSteps: 12,
      fraction: 0.25,
      loss: 2.7,
      validationLoss: 2.4,
      etaSeconds: 7,
      epsilon: 0.7,
    });
    const done = jobFigures(
      {
        status: 'succeeded',
        progress: {
          step: 12,
          totalSteps: 12,
          epoch: 1,
          trainLoss: 1.9,
          validationLoss: null,
          tokensPerSecond: 90,
          learningRate: null,
          etaSeconds: 0,
          epsilonSpent: null,
        },
      },
      [],
      null,
    );
    expect(done).toMatchObject({ step: 12, totalSteps: 12, fraction: 1, loss: 1.9, etaSeconds: null });
  });

  it('adds a live log entry once', () => {
    const entry = { level: 'info' as const, message: 'epoch 1', time: '2026-05-01T10:00:00.000Z' };
    const log = mergeLog([], entry);
    expect(mergeLog(log, entry)).toBe(log);
    expect(mergeLog(log, { ...entry, message: 'epoch 2' })).toHaveLength(2);
  });
});
