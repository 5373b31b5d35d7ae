/** Counts, rate and ETA of a running ingestion, for the CLI's progress bar and the UI's events. */
export interface IngestProgress {
  read: number;
  written: number;
  quarantined: number;
  /** Documents the run expects to read; null when the source cannot say. */
  total: number | null;
  /** Documents read per second since the start. */
  rate: number;
  /** Seconds left at the current rate; null when unknown. */
  etaSeconds: number | null;
  elapsedMs: number;
}

export class ProgressTracker {
  private read = 0;
  private written = 0;
  private quarantined = 0;

  constructor(
    private readonly total: number | null,
    private readonly now: () => number = Date.now,
    private readonly startedAt = now(),
  ) {}

  add(delta: { read: number; written: number; quarantined: number }): IngestProgress {
    this.read += delta.read;
    this.written += delta.written;
    this.quarantined += delta.quarantined;
    return this.snapshot();
  }

  snapshot(): IngestProgress {
    const elapsedMs = Math.max(0, this.now() - this.startedAt);
    const rate = elapsedMs > 0 ? (this.read * 1000) / elapsedMs : 0;
    const left = this.total === null ? null : Math.max(0, this.total - this.read);
    return {
      read: this.read,
      written: this.written,
      quarantined: this.quarantined,
      total: this.total,
      rate,
      etaSeconds: left === null || rate === 0 ? (left === 0 ? 0 : null) : left / rate,
      elapsedMs,
    };
  }
}
