import { describe, expect, it } from 'vitest';
import { ProgressTracker } from '../../../../server/ingest/progress.js';

describe('ProgressTracker', () => {
  it('computes rate and ETA from a known total', () => {
    let now = 0;
    const tracker = new ProgressTracker(1000, () => now);
    now = 2000;
    const progress = tracker.add({ read: 400, written: 350, quarantined: 2 });
    expect(progress).toMatchObject({
      read: 400,
      written: 350,
      quarantined: 2,
      total: 1000,
      rate: 200,
      etaSeconds: 3,
    });
  });

  it('reports an unknown ETA when the total is unknown or nothing was read yet', () => {
    let now = 0;
    expect(new ProgressTracker(null, () => now).snapshot().etaSeconds).toBeNull();
    const tracker = new ProgressTracker(10, () => now);
    now = 1000;
    expect(tracker.snapshot().etaSeconds).toBeNull();
  });

  it('reports zero seconds left when everything is read', () => {
    let now = 0;
    const tracker = new ProgressTracker(5, () => now);
    now = 100;
    expect(tracker.add({ read: 5, written: 5, quarantined: 0 }).etaSeconds).toBe(0);
  });
});
