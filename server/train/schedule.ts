/** Linear warmup to the peak learning rate, then cosine decay to `minRatio` of it. */
export interface ScheduleOptions {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final learning rate as a share of the peak; default 0.1. */
  minRatio?: number;
}

export function learningRateAt(step: number, options: ScheduleOptions): number {
  const { peak, warmupSteps, totalSteps, minRatio = 0.1 } = options;
  if (!(peak > 0) || warmupSteps < 0 || totalSteps < 1 || minRatio < 0 || minRatio > 1) {
    throw new RangeError('schedule needs peak > 0, warmupSteps >= 0, totalSteps >= 1 and minRatio in [0, 1]');
  }
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
