import { createRegistry } from '../registry.js';
import type { OperatorName } from '../types.js';
import { hashOperator } from './hash.js';
import { maskOperator } from './mask.js';
import type { Operator } from './operator.js';
import { pseudonymizeOperator } from './pseudonymize.js';
import { redactOperator } from './redact.js';

export type { Operator, OperatorContext } from './operator.js';

export const operators = createRegistry<Operator>('operator', {
  pseudonymize: pseudonymizeOperator,
  mask: maskOperator,
  redact: redactOperator,
  hash: hashOperator,
} satisfies Record<OperatorName, Operator>);
