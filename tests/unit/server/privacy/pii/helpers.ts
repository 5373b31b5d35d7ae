import {
  createAnonymizer,
  type DetectContext,
  type EntityType,
} from '../../../../../server/privacy/pii/index.js';

const anonymizer = createAnonymizer({ hashKey: 'test-key' });

/** [type, value] of every entity found in `text`. */
export function found(text: string, context?: DetectContext): [EntityType, string][] {
  return anonymizer.detect(text, context).map((e) => [e.type, text.slice(e.start, e.end)]);
}

/** The values of one type found in `text`. */
export function valuesOf(type: EntityType, text: string, context?: DetectContext): string[] {
  return found(text, context)
    .filter(([t]) => t === type)
    .map(([, value]) => value);
}
