import { describe, expect, it } from 'vitest';
import { createAnonymizer, mergeReports } from '../../../../../server/privacy/pii/index.js';

const KEY = 'conversation-test-key';

describe('conversation anonymizer', () => {
  it('gives the same person the same placeholder in every turn and a second person the next number', () => {
    const conversation = createAnonymizer({ hashKey: KEY }).conversation();
    const turns = [
      ['customer', 'Hi, I am Tyler Jones and my friend Betty Smith needs help.'],
      ['agent', 'Thanks, Tyler. What does Betty need?'],
      ['customer', 'my name is TYLER JONES, as I said'],
    ] as const;
    expect(turns.map(([role, text]) => conversation.anonymizeText(text, { role }).text)).toEqual([
      'Hi, I am <PERSON_1> and my friend <PERSON_2> needs help.',
      'Thanks, <PERSON_1>. What does <PERSON_2> need?',
      'my name is <PERSON_1>, as I said',
    ]);
  });

  it('uses the previous turn as context for a bare reply', () => {
    const conversation = createAnonymizer({ hashKey: KEY }).conversation();
    conversation.anonymizeText('Could I get your name, please?', { role: 'agent' });
    expect(conversation.anonymizeText('Alexis Smith').text).toBe('<PERSON_1>');
    conversation.anonymizeText('Can you tell me your account number, please?', { role: 'agent' });
    expect(conversation.anonymizeText('95381901').text).toBe('<ACCOUNT_NUMBER_1>');
  });

  it('numbers conversations independently', () => {
    const anonymizer = createAnonymizer({ hashKey: KEY });
    anonymizer.conversation().anonymizeText('I am Angela.');
    expect(anonymizer.conversation().anonymizeText('I am Ben.').text).toBe('I am <PERSON_1>.');
  });

  it('anonymizes metadata with the same pseudonyms, using key names as context', () => {
    const conversation = createAnonymizer({ hashKey: KEY }).conversation();
    conversation.anonymizeText('My name is John Smith, account number 153531981, PIN 1596.');
    const meta = {
      task: 'bank_balance',
      apiCalls: [
        {
          constraints: [{ FullName: '"john smith"' }, { AccountNumber: 153531981 }, { PIN: '1596 ' }],
          result: { BankBalance: 5311, BankName: 'Bank of America', CustomerName: 'John' },
        },
        {
          constraints: [{ DriverName: 'api.is_one_of(["Ella","Dave"])' }, { Name: '"North Heights Venue"' }],
        },
      ],
      contact: { email: 'john@example.com', phone: '+1 415 555 0132', address: '12 Oak Street' },
      userTask: 'You are John Smith and your PIN is 1596.',
      count: 3,
      ok: true,
      none: null,
    };
    expect(conversation.anonymizeValue(meta)).toEqual({
      task: 'bank_balance',
      apiCalls: [
        {
          constraints: [
            { FullName: '"<PERSON_1>"' },
            { AccountNumber: '<ACCOUNT_NUMBER_1>' },
            { PIN: '<PIN_1> ' },
          ],
          result: { BankBalance: 5311, BankName: 'Bank of America', CustomerName: '<PERSON_1>' },
        },
        {
          constraints: [
            { DriverName: 'api.is_one_of(["<PERSON_2>","<PERSON_3>"])' },
            { Name: '"North Heights Venue"' },
          ],
        },
      ],
      contact: { email: '<EMAIL_ADDRESS_1>', phone: '<PHONE_NUMBER_1>', address: '<STREET_ADDRESS_1>' },
      userTask: 'You are <PERSON_1> and your PIN is <PIN_1>.',
      count: 3,
      ok: true,
      none: null,
    });
  });

  it.each([
    ['a product', { name: 'Chai latte' }, { name: 'Chai latte' }],
    ['an add-on', { name: 'Sugar Free Vanilla Sweetener' }, { name: 'Sugar Free Vanilla Sweetener' }],
    ['a field label', { name: 'request' }, { name: 'request' }],
    ['a given name', { name: 'Priya Patel' }, { name: '<PERSON_1>' }],
    ['a quoted given name', { Name: '"Angela"' }, { Name: '"<PERSON_1>"' }],
    ['a product under a qualified key', { customer_name: 'Cold Brew' }, { customer_name: '<PERSON_1>' }],
  ])('treats a bare "name" key as a person only with evidence: %s', (_what, meta, expected) => {
    const conversation = createAnonymizer({ hashKey: KEY }).conversation();
    expect(conversation.anonymizeValue(meta)).toEqual(expected);
  });

  it('treats a bare "name" key naming someone seen in the conversation as that person', () => {
    const conversation = createAnonymizer({ hashKey: KEY }).conversation();
    conversation.anonymizeText('Hi, this is Zorblat speaking');
    expect(conversation.anonymizeValue({ name: 'Zorblat' })).toEqual({ name: '<PERSON_1>' });
  });

  it('continues numbering and reuses placeholders from a saved state', () => {
    const anonymizer = createAnonymizer({ hashKey: KEY });
    const first = anonymizer.conversation();
    first.anonymizeText('Hi, I am Tyler Jones, PIN 1596.');
    const saved = JSON.parse(JSON.stringify(first.state()));
    const later = anonymizer.conversation(saved);
    expect(later.anonymizeText('Tyler here again, my PIN is 1596. My friend Betty called.').text).toBe(
      '<PERSON_1> here again, my PIN is <PIN_1>. My friend <PERSON_2> called.',
    );
    expect(later.state().counters).toEqual({ PERSON: 2, PIN: 1 });
  });

  it('keeps raw values out of the state', () => {
    const conversation = createAnonymizer({ hashKey: KEY }).conversation();
    conversation.anonymizeText('I am Tyler Jones, tyler@example.com, account number 153531981, PIN 1596.');
    const state = JSON.stringify(conversation.state()).toLowerCase();
    for (const raw of ['tyler', 'jones', 'example', '153531981', '1596']) expect(state).not.toContain(raw);
    expect(Object.keys(conversation.state().assignments).every((k) => /^[0-9a-f]{32}$/.test(k))).toBe(true);
  });

  it('keys the state by the deployment key', () => {
    const a = createAnonymizer({ hashKey: 'one' }).conversation();
    const b = createAnonymizer({ hashKey: 'two' }).conversation();
    a.anonymizeText('I am Tyler.');
    b.anonymizeText('I am Tyler.');
    expect(Object.keys(a.state().assignments)).not.toEqual(Object.keys(b.state().assignments));
  });

  it('counts entities and operators without values, and merges reports', () => {
    const conversation = createAnonymizer({ hashKey: KEY }).conversation();
    conversation.anonymizeText('I am Tyler, call +44 20 7946 0958.');
    conversation.anonymizeText('Thanks Tyler.');
    expect(conversation.report()).toEqual({
      entities: { PERSON: 2, PHONE_NUMBER: 1 },
      operators: { pseudonymize: 3 },
    });
    expect(
      mergeReports(conversation.report(), {
        entities: { PERSON: 1, PIN: 2 },
        operators: { pseudonymize: 1, mask: 2 },
      }),
    ).toEqual({ entities: { PERSON: 3, PHONE_NUMBER: 1, PIN: 2 }, operators: { pseudonymize: 4, mask: 2 } });
  });
});
