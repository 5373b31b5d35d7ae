/**
 * PII detection and anonymization (Presidio-style): recognizers in a registry, an analyzer that
 * runs them and resolves overlaps, operators in a registry, and a conversation-scoped anonymizer.
 */
import { createAnalyzer } from './analyzer.js';
import { createConversation } from './conversation.js';
import { operators } from './operators/index.js';
import {
  type Anonymizer,
  type AnonymizerOptions,
  ENTITY_TYPES,
  type EntityType,
  type OperatorName,
  type PiiReport,
} from './types.js';

export { SCORE_THRESHOLD } from './analyzer.js';
export { loadPiiKey } from './key.js';
export { operators } from './operators/index.js';
export { recognizers } from './recognizers/index.js';
export type {
  Anonymizer,
  AnonymizerOptions,
  ConversationAnonymizer,
  DetectContext,
  DetectedEntity,
  EntityType,
  OperatorName,
  PiiReport,
  PseudonymState,
  TurnContext,
} from './types.js';
export { ENTITY_TYPES, OPERATOR_NAMES } from './types.js';

export function createAnonymizer(options: AnonymizerOptions): Anonymizer {
  const key = typeof options.hashKey === 'string' ? Buffer.from(options.hashKey, 'utf8') : options.hashKey;
  if (key.length === 0) throw new Error('hashKey must not be empty');
  // Fail on a bad operator name now, not on the first entity.
  for (const name of [options.operator, ...Object.values(options.operators ?? {})])
    if (name !== undefined) operators.get(name);
  const entities = options.entities ?? ENTITY_TYPES;
  const analyzer = createAnalyzer(entities);
  const wanted = new Set<EntityType>(entities);
  return {
    detect: (text, context) => analyzer.analyze(text, context),
    conversation: (state) => createConversation(analyzer, key, options, wanted, state),
  };
}

export function mergeReports(...reports: PiiReport[]): PiiReport {
  const merged: Required<PiiReport> = { entities: {}, operators: {} };
  for (const report of reports) {
    for (const [type, n] of Object.entries(report.entities) as [EntityType, number][])
      merged.entities[type] = (merged.entities[type] ?? 0) + n;
    for (const [name, n] of Object.entries(report.operators) as [OperatorName, number][])
      merged.operators[name] = (merged.operators[name] ?? 0) + n;
  }
  return merged;
}
