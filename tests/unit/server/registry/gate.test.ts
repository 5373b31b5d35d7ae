import { describe, expect, it } from 'vitest';
import { comparisonGateMetrics, gateFailures } from '../../../../server/registry/gate.js';

const tolerances = { loss: 0.02, r1: 0.02 };

describe('promotion gate', () => {
  it.each([
    ['no active version', { validationLoss: 9 }, null, 0],
    ['a better loss', { validationLoss: 1.9 }, { validationLoss: 2 }, 0],
    ['a loss within tolerance', { validationLoss: 2.03 }, { validationLoss: 2 }, 0],
    ['a loss beyond tolerance', { validationLoss: 2.05 }, { validationLoss: 2 }, 1],
    ['an R@1 within tolerance', { r1: 0.49 }, { r1: 0.5 }, 0],
    ['an R@1 beyond tolerance', { r1: 0.45 }, { r1: 0.5 }, 1],
    ['both worse', { validationLoss: 3, r1: 0.1 }, { validationLoss: 2, r1: 0.5 }, 2],
    ['metrics only one side has', { validationLoss: 3 }, { r1: 0.5 }, 0],
  ])('with %s, blocks for %i reasons', (_what, candidate, active, count) => {
    expect(gateFailures(candidate, active, tolerances)).toHaveLength(count as number);
  });

  it('says which metric and by how much', () => {
    expect(gateFailures({ validationLoss: 2.5 }, { validationLoss: 2 }, tolerances)[0]).toMatch(
      /validation loss 2\.5000 is worse than the active version's 2\.0000 by more than 2%/,
    );
  });
});

describe('gate metrics from a stored comparison report', () => {
  const report = (againstId: string | null) => ({
    against: { versionId: againstId },
    evaluations: {
      new: { loss: { validationLoss: 1.5 }, ranking: { r1: 0.6 } },
      against: { loss: { validationLoss: 2 }, ranking: null },
    },
  });

  it('reads both sides from a report made against the active version', () => {
    expect(comparisonGateMetrics(report('a1'), 'a1')).toEqual({
      candidate: { validationLoss: 1.5, r1: 0.6 },
      active: { validationLoss: 2, r1: null },
    });
  });

  it.each([
    ['a report against another version', report('b2')],
    ['a report against the base model', report(null)],
    ['no report', null],
    ['a report without evaluations', { against: { versionId: 'a1' } }],
  ])('ignores %s', (_what, comparison) => {
    expect(comparisonGateMetrics(comparison, 'a1')).toBeNull();
  });
});
