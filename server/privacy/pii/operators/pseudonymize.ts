import type { Operator } from './operator.js';

/** `<PERSON_1>`, `<PERSON_2>`, ...: the same value gets the same placeholder within a conversation. */
export const pseudonymizeOperator: Operator = {
  name: 'pseudonymize',
  apply: (value, type, context) => context.pseudonym(type, value),
};
