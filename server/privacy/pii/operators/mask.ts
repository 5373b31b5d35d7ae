import type { EntityType } from '../types.js';
import type { Operator } from './operator.js';

/** Numbers a person recognizes by their last four characters, the way statements print them. */
const KEEP_LAST_FOUR: ReadonlySet<EntityType> = new Set(['CREDIT_CARD', 'ACCOUNT_NUMBER', 'IBAN_CODE']);

/** `****1234` for card, account and IBAN numbers; every character masked for everything else. */
export const maskOperator: Operator = {
  name: 'mask',
  apply(value, type) {
    const chars = [...value];
    const keep = KEEP_LAST_FOUR.has(type) && chars.length > 4 ? 4 : 0;
    return '*'.repeat(chars.length - keep) + chars.slice(chars.length - keep).join('');
  },
};
