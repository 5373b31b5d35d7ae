import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../../client/console/api.js';
import { gateFailures, overrideReasonError } from '../../../../client/console/gate.js';
import { GateError } from '../../../../server/registry/promote.js';

describe('the promotion gate in the console', () => {
  it("lists the gate's reasons from the server's 409 message", () => {
    // The very message the server sends (server/registry/promote.ts).
    const message = new GateError([
      "validation loss 2.5000 is worse than the active version's 2.1000 by more than 2%",
      "R@1 0.310 is below the active version's 0.420 by more than 0.02",
    ]).message;
    expect(gateFailures(new ApiError(409, 'gate_failed', message))).toEqual([
      "validation loss 2.5000 is worse than the active version's 2.1000 by more than 2%",
      "R@1 0.310 is below the active version's 0.420 by more than 0.02",
    ]);
    expect(gateFailures(new ApiError(409, 'gate_failed', new GateError(['one reason']).message))).toEqual([
      'one reason',
    ]);
  });

  it('is not fooled by other errors', () => {
    expect(gateFailures(new ApiError(409, 'already_active', 'Version v2 is already active.'))).toBeNull();
    expect(gateFailures(new ApiError(403, 'gate_failed', 'x'))).toBeNull();
    expect(gateFailures(new Error('Promotion blocked by the gate: x'))).toBeNull();
  });

  it('shows the whole message when it has an unexpected form', () => {
    expect(gateFailures(new ApiError(409, 'gate_failed', 'Blocked.'))).toEqual(['Blocked.']);
  });

  it('asks for an override reason of 3 to 500 characters, as the server does', () => {
    expect(overrideReasonError('')).toMatch(/why/);
    expect(overrideReasonError('  ok ')).toMatch(/why/);
    expect(overrideReasonError('hotfix for the holiday FAQ')).toBeNull();
    expect(overrideReasonError('x'.repeat(501))).toMatch(/500/);
  });
});
