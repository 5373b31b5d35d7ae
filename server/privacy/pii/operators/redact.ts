import type { Operator } from './operator.js';

/** `<PERSON>`: the type only. */
export const redactOperator: Operator = {
  name: 'redact',
  apply: (_value, type) => `<${type}>`,
};
