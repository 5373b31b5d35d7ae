import { describe, expect, it } from 'vitest';
import { valuesOf } from '../helpers.js';

describe('email recognizer', () => {
  it.each([
    ['Write to tyler.jones@example.com please', ['tyler.jones@example.com']],
    ['CC: a_b+tag@mail.example.co.uk, x@y.io', ['a_b+tag@mail.example.co.uk', 'x@y.io']],
    ['josé@correo.es', ['josé@correo.es']],
    // negatives
    ['Meet me @ noon', []],
    ['user@localhost has no domain', []],
    ['a..b@example.com is malformed', []],
  ])('%s -> %j', (text, emails) => {
    expect(valuesOf('EMAIL_ADDRESS', text)).toEqual(emails);
  });
});
