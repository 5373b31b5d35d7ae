import { SingleBar } from 'cli-progress';
import type { ProgressEvent } from '../train/work-order.js';

export interface TrainProgressReporter {
  update(progress: ProgressEvent): void;
  stop(): void;
}

const formatEta = (seconds: number) =>
  !Number.isFinite(seconds) ? '?' : seconds < 90 ? `${Math.ceil(seconds)}s` : `${Math.round(seconds / 60)}m`;
const formatLoss = (loss: number | null) => (loss === null || !Number.isFinite(loss) ? '-' : loss.toFixed(4));

/**
 * `parley train`'s progress: a bar with step/total, loss and ETA on a terminal; elsewhere (CI,
 * pipes, logs) one plain line every few seconds and at the last step. Always on stderr.
 */
export function createTrainProgress(stream: NodeJS.WriteStream = process.stderr): TrainProgressReporter {
  let validation: number | null = null;
  const extras = (p: ProgressEvent) =>
    `${validation === null ? '' : ` val ${formatLoss(validation)}`}${p.epsilon === null ? '' : ` ε ${p.epsilon.toFixed(3)}`}`;
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format:
        'train |{bar}| step {value}/{total} | epoch {epoch} | loss {loss}{extras} | {rate} tokens/s | ETA {etaText}',
      hideCursor: true,
    });
    let started = false;
    return {
      update(p) {
        if (p.validationLoss !== null) validation = p.validationLoss;
        const payload = {
          epoch: p.epoch + 1,
          loss: formatLoss(p.loss),
          extras: extras(p),
          rate: Math.round(p.tokensPerSecond),
          etaText: formatEta(p.etaSeconds),
        };
        if (!started) {
          bar.start(p.totalSteps, p.step, payload);
          started = true;
        } else bar.update(p.step, payload);
      },
      stop: () => {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  let lastLine = 0;
  return {
    update(p) {
      if (p.validationLoss !== null) validation = p.validationLoss;
      if (Date.now() - lastLine < 2000 && p.step !== p.totalSteps) return;
      lastLine = Date.now();
      stream.write(
        `train: step ${p.step}/${p.totalSteps} epoch ${p.epoch + 1} loss ${formatLoss(p.loss)}${extras(p)} ` +
          `lr ${p.learningRate.toExponential(2)} ${Math.round(p.tokensPerSecond)} tokens/s ETA ${formatEta(p.etaSeconds)}\n`,
      );
    },
    stop() {},
  };
}
