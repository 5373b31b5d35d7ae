import { describe, expect, it } from 'vitest';
import {
  createAnonymizer,
  type OperatorName,
  operators,
} from '../../../../../../server/privacy/pii/index.js';

const text = 'My name is Tyler Jones, card 4111 1111 1111 1111, account number 153531981, pin 1596.';
const anonymize = (operator: OperatorName, hashKey = 'key-one') =>
  createAnonymizer({ hashKey, operator }).conversation().anonymizeText(text).text;

describe('operators', () => {
  it('pseudonymize (the default) writes numbered placeholders per type', () => {
    expect(createAnonymizer({ hashKey: 'k' }).conversation().anonymizeText(text).text).toBe(
      'My name is <PERSON_1>, card <CREDIT_CARD_1>, account number <ACCOUNT_NUMBER_1>, pin <PIN_1>.',
    );
  });

  it('mask keeps the last 4 characters of card and account numbers and the length of everything', () => {
    expect(anonymize('mask')).toBe(
      'My name is ***********, card ***************1111, account number *****1981, pin ****.',
    );
  });

  it('redact writes the type only', () => {
    expect(anonymize('redact')).toBe(
      'My name is <PERSON>, card <CREDIT_CARD>, account number <ACCOUNT_NUMBER>, pin <PIN>.',
    );
  });

  it('hash writes 8 hex digits of an HMAC that depends on the key and not on spelling', () => {
    const one = anonymize('hash', 'key-one');
    expect(one).toMatch(
      /^My name is <PERSON:[0-9a-f]{8}>, card <CREDIT_CARD:[0-9a-f]{8}>, account number <ACCOUNT_NUMBER:[0-9a-f]{8}>, pin <PIN:[0-9a-f]{8}>\.$/,
    );
    expect(anonymize('hash', 'key-one')).toBe(one);
    expect(anonymize('hash', 'key-two')).not.toBe(one);
    const conversation = createAnonymizer({ hashKey: 'key-one', operator: 'hash' }).conversation();
    const a = conversation.anonymizeText('My name is Tyler Jones').text;
    const b = conversation.anonymizeText('my name is tyler  jones').text;
    expect(a.replace('My', 'my')).toBe(b);
  });

  it('applies a per-type override on top of the default operator', () => {
    const conversation = createAnonymizer({
      hashKey: 'k',
      operator: 'redact',
      operators: { CREDIT_CARD: 'mask' },
    }).conversation();
    expect(conversation.anonymizeText(text).text).toBe(
      'My name is <PERSON>, card ***************1111, account number <ACCOUNT_NUMBER>, pin <PIN>.',
    );
    expect(conversation.report()).toEqual({
      entities: { PERSON: 1, CREDIT_CARD: 1, ACCOUNT_NUMBER: 1, PIN: 1 },
      operators: { redact: 3, mask: 1 },
    });
  });

  it.each(['shred', ''])('rejects the unknown operator %j, listing the known ones', (name) => {
    expect(() => operators.get(name)).toThrow(/unknown operator .*pseudonymize, mask, redact, hash/);
    expect(() => createAnonymizer({ hashKey: 'k', operator: name as OperatorName })).toThrow(
      /unknown operator/,
    );
  });
});
