import type { Operator } from './operator.js';

/** `<PERSON:3f2a9c1b>`: the first 8 hex digits of the value's HMAC-SHA256 under the deployment key. */
export const hashOperator: Operator = {
  name: 'hash',
  apply: (value, type, context) => `<${type}:${context.hmac(type, value).slice(0, 8)}>`,
};
