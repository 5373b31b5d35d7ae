import { SingleBar } from 'cli-progress';
import type { IngestProgress } from '../ingest/progress.js';

export interface ProgressReporter {
  update(progress: IngestProgress): void;
  stop(): void;
}

const formatEta = (seconds: number | null) =>
  seconds === null ? '?' : seconds < 90 ? `${Math.ceil(seconds)}s` : `${Math.round(seconds / 60)}m`;

/**
 * A progress bar on a terminal; elsewhere (CI, pipes, logs) one plain line every few seconds.
 * Always on stderr, so stdout stays clean for --json.
 */
export function createProgressReporter(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressReporter {
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: `${label} |{bar}| {percentage}% {value}/{total} docs | {rate}/s | ETA {etaText} | written {written} | quarantined {quarantined}`,
      hideCursor: true,
      etaBuffer: 50,
    });
    let started = false;
    return {
      update(p) {
        const payload = {
          rate: Math.round(p.rate),
          etaText: formatEta(p.etaSeconds),
          written: p.written,
          quarantined: p.quarantined,
        };
        if (!started) {
          bar.start(p.total ?? p.read, p.read, payload);
          started = true;
        } else {
          if (p.total === null) bar.setTotal(p.read);
          bar.update(p.read, payload);
        }
      },
      stop: () => bar.stop(),
    };
  }
  let lastLine = 0;
  return {
    update(p) {
      if (Date.now() - lastLine < 2000 && p.read !== p.total) return;
      lastLine = Date.now();
      const of = p.total === null ? '' : `/${p.total}`;
      stream.write(
        `${label}: ${p.read}${of} docs read, ${p.written} messages written, ${p.quarantined} quarantined, ` +
          `${Math.round(p.rate)} docs/s, ETA ${formatEta(p.etaSeconds)}\n`,
      );
    },
    stop() {},
  };
}
