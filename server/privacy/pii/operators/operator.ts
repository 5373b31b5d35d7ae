import type { EntityType, OperatorName } from '../types.js';

export interface OperatorContext {
  /** Conversation-consistent placeholder of the value. */
  pseudonym(type: EntityType, value: string): string;
  /** Hex HMAC-SHA256 of `type:normalized value` under the deployment key. */
  hmac(type: EntityType, value: string): string;
}

export interface Operator {
  name: OperatorName;
  /** The replacement text for one detected value. */
  apply(value: string, type: EntityType, context: OperatorContext): string;
}
