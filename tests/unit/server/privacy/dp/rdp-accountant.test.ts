import { describe, expect, it } from 'vitest';
import type { AccountantState } from '../../../../../server/privacy/dp/accountant.js';
import { RdpAccountant } from '../../../../../server/privacy/dp/rdp-accountant.js';
import {
  accountantFromState,
  accountantNames,
  createAccountant,
  registerAccountant,
} from '../../../../../server/privacy/dp/registry.js';

describe('the RDP accountant', () => {
  it('keeps consecutive equal steps as one [σ, q, steps] entry, like Opacus', () => {
    const accountant = new RdpAccountant();
    accountant.step({ noiseMultiplier: 1, sampleRate: 0.01 });
    accountant.step({ noiseMultiplier: 1, sampleRate: 0.01 });
    accountant.step({ noiseMultiplier: 1.5, sampleRate: 0.01 }, 3);
    accountant.step({ noiseMultiplier: 1, sampleRate: 0.01 });
    expect(accountant.history).toEqual([
      [1, 0.01, 2],
      [1.5, 0.01, 3],
      [1, 0.01, 1],
    ]);
  });

  it('composes equal steps by multiplying: n single steps give the ε of one n-step entry', () => {
    const oneByOne = new RdpAccountant();
    for (let i = 0; i < 250; i++) oneByOne.step({ noiseMultiplier: 1.1, sampleRate: 0.02 });
    const atOnce = new RdpAccountant();
    atOnce.step({ noiseMultiplier: 1.1, sampleRate: 0.02 }, 250);
    expect(oneByOne.getPrivacySpent(1e-5)).toEqual(atOnce.getPrivacySpent(1e-5));
  });

  it('adds the RDP of different phases', () => {
    const both = new RdpAccountant();
    both.step({ noiseMultiplier: 1, sampleRate: 0.01 }, 100);
    both.step({ noiseMultiplier: 2, sampleRate: 0.05 }, 50);
    const first = new RdpAccountant();
    first.step({ noiseMultiplier: 1, sampleRate: 0.01 }, 100);
    const second = new RdpAccountant();
    second.step({ noiseMultiplier: 2, sampleRate: 0.05 }, 50);
    const [a, b, sum] = [first.rdp(), second.rdp(), both.rdp()];
    sum.forEach((value, k) => {
      expect(value).toBeCloseTo(a[k]! + b[k]!, 12);
    });
    expect(both.getEpsilon(1e-5)).toBeGreaterThan(Math.max(first.getEpsilon(1e-5), second.getEpsilon(1e-5)));
  });

  it('has spent nothing before its first step (ε 0, order 0, as Opacus reports)', () => {
    expect(new RdpAccountant().getPrivacySpent(1e-5)).toEqual({ epsilon: 0, alpha: 0 });
  });

  it.each([
    [{ noiseMultiplier: -1, sampleRate: 0.1 }, 1, /noiseMultiplier/],
    [{ noiseMultiplier: Number.NaN, sampleRate: 0.1 }, 1, /noiseMultiplier/],
    [{ noiseMultiplier: 1, sampleRate: 1.5 }, 1, /sampleRate/],
    [{ noiseMultiplier: 1, sampleRate: -0.1 }, 1, /sampleRate/],
    [{ noiseMultiplier: 1, sampleRate: 0.1 }, 0, /steps/],
    [{ noiseMultiplier: 1, sampleRate: 0.1 }, 2.5, /steps/],
  ])('refuses the step %j × %d', (step, count, message) => {
    expect(() => new RdpAccountant().step(step, count)).toThrow(message);
  });

  it.each([0, 1, -1e-5, 2])('refuses δ = %d', (delta) => {
    const accountant = new RdpAccountant();
    accountant.step({ noiseMultiplier: 1, sampleRate: 0.1 });
    expect(() => accountant.getEpsilon(delta)).toThrow(/delta/);
  });

  it('refuses orders that are not all > 1', () => {
    expect(() => new RdpAccountant({ orders: [] })).toThrow(/orders/);
    expect(() => new RdpAccountant({ orders: [1, 2] })).toThrow(/orders/);
  });
});

describe('accountant state', () => {
  it('round-trips through JSON, so a checkpoint resumes with the same ε', () => {
    const accountant = new RdpAccountant();
    accountant.step({ noiseMultiplier: 1.1, sampleRate: 0.004 }, 700);
    accountant.step({ noiseMultiplier: 0.9, sampleRate: 0.004 }, 30);
    const restored = accountantFromState(JSON.parse(JSON.stringify(accountant.state())));
    expect(restored.name).toBe('rdp');
    expect(restored.history).toEqual(accountant.history);
    expect(restored.getPrivacySpent(1e-6)).toEqual(accountant.getPrivacySpent(1e-6));
    restored.step({ noiseMultiplier: 0.9, sampleRate: 0.004 });
    expect(restored.history.at(-1)).toEqual([0.9, 0.004, 31]);
  });

  it('keeps custom orders, and only those', () => {
    const custom = new RdpAccountant({ orders: [2, 4, 8] });
    custom.step({ noiseMultiplier: 1, sampleRate: 0.1 });
    expect(custom.state().orders).toEqual([2, 4, 8]);
    expect(RdpAccountant.fromState(custom.state()).orders).toEqual([2, 4, 8]);
    expect(new RdpAccountant().state()).not.toHaveProperty('orders');
  });

  it.each([
    [{ accountant: 'rdp', history: [[1, 2, 3]] }],
    [{ accountant: 'rdp', history: [[-1, 0.1, 3]] }],
    [{ accountant: 'rdp', history: [[1, 0.1, 0]] }],
    [{ accountant: 'rdp', history: 'none' }],
    [{ accountant: 'rdp', history: [], orders: [0.5] }],
  ])('refuses a corrupt state %j', (state) => {
    expect(() => accountantFromState(state as unknown as AccountantState)).toThrow(/RDP accountant state/);
  });
});

describe('the accountant registry', () => {
  it('creates accountants by name', () => {
    expect(accountantNames()).toContain('rdp');
    expect(createAccountant('rdp')).toBeInstanceOf(RdpAccountant);
  });

  it.each(['gdp', '', 'RDP', 'toString'])(
    'refuses the unknown accountant %j and lists the known ones',
    (name) => {
      expect(() => createAccountant(name)).toThrow(/unknown privacy accountant.*known: rdp/);
      expect(() => accountantFromState({ accountant: name, history: [] })).toThrow(/known: rdp/);
    },
  );

  it('accepts another accountant under a new name, never over an existing one', () => {
    const name = `fixed-${Math.random().toString(36).slice(2)}`;
    registerAccountant(name, { create: () => new RdpAccountant(), fromState: RdpAccountant.fromState });
    expect(accountantNames()).toContain(name);
    expect(() =>
      registerAccountant('rdp', { create: () => new RdpAccountant(), fromState: RdpAccountant.fromState }),
    ).toThrow(/already registered/);
  });
});
