/** Privacy accountants by name. A checkpoint's accountant state names the accountant that reads it. */
import type { Accountant, AccountantState } from './accountant.js';
import { PrvAccountant } from './prv-accountant.js';
import { RdpAccountant } from './rdp-accountant.js';

interface AccountantFactory {
  create(): Accountant;
  fromState(state: unknown): Accountant;
}

const factories: Record<string, AccountantFactory> = {
  rdp: { create: () => new RdpAccountant(), fromState: (state) => RdpAccountant.fromState(state) },
  prv: { create: () => new PrvAccountant(), fromState: (state) => PrvAccountant.fromState(state) },
};

export function accountantNames(): string[] {
  return Object.keys(factories);
}

function factory(name: string): AccountantFactory {
  const found = Object.hasOwn(factories, name) ? factories[name] : undefined;
  if (!found) {
    throw new RangeError(`unknown privacy accountant "${name}"; known: ${accountantNames().join(', ')}`);
  }
  return found;
}

export function createAccountant(name: string): Accountant {
  return factory(name).create();
}

/** Rebuilds the accountant a state came from (see Accountant.state()). */
export function accountantFromState(state: AccountantState): Accountant {
  return factory(String(state?.accountant)).fromState(state);
}

/** Registers another accountant (tests, plug-ins). Names are unique. */
export function registerAccountant(name: string, accountantFactory: AccountantFactory): void {
  if (Object.hasOwn(factories, name))
    throw new RangeError(`privacy accountant "${name}" is already registered`);
  factories[name] = accountantFactory;
}
