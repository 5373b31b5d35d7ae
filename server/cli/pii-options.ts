import { InvalidArgumentError } from 'commander';
import { OPERATOR_NAMES, type OperatorName } from '../privacy/pii/index.js';

export function operatorName(value: string): OperatorName {
  if (!(OPERATOR_NAMES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${OPERATOR_NAMES.join(', ')}`);
  return value as OperatorName;
}
