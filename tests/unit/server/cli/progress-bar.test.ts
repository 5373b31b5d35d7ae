import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressReporter } from '../../../../server/cli/progress-bar.js';
import type { IngestProgress } from '../../../../server/ingest/progress.js';

function stream(tty: boolean) {
  const out = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  out.isTTY = tty;
  out.columns = 160;
  let text = '';
  out.on('data', (chunk) => {
    text += chunk;
  });
  return { out: out as unknown as NodeJS.WriteStream, text: () => text };
}

const progress = (read: number, total: number | null): IngestProgress => ({
  read,
  written: read,
  quarantined: 1,
  total,
  rate: 500,
  etaSeconds: total === null ? null : (total - read) / 500,
  elapsedMs: 1000,
});

describe('ingest progress reporter', () => {
  it('draws a bar with percentage, counts, rate and ETA on a terminal', () => {
    const { out, text } = stream(true);
    const reporter = createProgressReporter('ingest demo', out);
    reporter.update(progress(0, 1000));
    reporter.update(progress(500, 1000));
    reporter.stop();
    expect(text()).toMatch(
      /ingest demo \|.*\| 50% 500\/1000 docs \| 500\/s \| ETA 1s \| written 500 \| quarantined 1/,
    );
  });

  it('prints plain lines, not a bar, when not on a terminal, and always the last one', () => {
    const { out, text } = stream(false);
    const reporter = createProgressReporter('ingest demo', out);
    reporter.update(progress(0, null));
    reporter.update(progress(10, null)); // within 2 s of the previous line: skipped
    reporter.update(progress(20, 20));
    reporter.stop();
    expect(text().split('\n').filter(Boolean)).toEqual([
      'ingest demo: 0 docs read, 0 messages written, 1 quarantined, 500 docs/s, ETA ?',
      'ingest demo: 20/20 docs read, 20 messages written, 1 quarantined, 500 docs/s, ETA 0s',
    ]);
  });
});
