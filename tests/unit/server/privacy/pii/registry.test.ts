import { describe, expect, it } from 'vitest';
import {
  createAnonymizer,
  ENTITY_TYPES,
  type EntityType,
  recognizers,
} from '../../../../../server/privacy/pii/index.js';

describe('recognizer registry', () => {
  it('covers every entity type', () => {
    const covered = new Set(recognizers.names().flatMap((name) => recognizers.get(name).entities));
    expect([...covered].sort()).toEqual([...ENTITY_TYPES].sort());
  });

  it('throws on an unknown recognizer, listing the known ones', () => {
    expect(() => recognizers.get('passport')).toThrow(
      /unknown recognizer 'passport' \(known: email, .*person\)/,
    );
  });

  it('runs only the requested entity types', () => {
    const anonymizer = createAnonymizer({ hashKey: 'k', entities: ['EMAIL_ADDRESS'] });
    expect(anonymizer.detect('I am Tyler Jones, tyler@example.com').map((e) => e.type)).toEqual([
      'EMAIL_ADDRESS',
    ]);
  });

  it('rejects an unknown entity type', () => {
    expect(() => createAnonymizer({ hashKey: 'k', entities: ['PASSPORT' as EntityType] })).toThrow(
      /unknown entity type 'PASSPORT' \(known: PERSON, /,
    );
  });
});
