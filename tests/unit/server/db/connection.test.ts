import { describe, expect, it } from 'vitest';
import { databaseName, redactMongoUri } from '../../../../server/db/connection.js';

describe('redactMongoUri', () => {
  it.each([
    ['mongodb://user:secret@db.example:27017/parley', 'mongodb://***@db.example:27017/parley'],
    [
      'mongodb+srv://u:p%40ss@cluster0.example.net/app?retryWrites=true',
      'mongodb+srv://***@cluster0.example.net/app?retryWrites=true',
    ],
    ['mongodb://127.0.0.1:27017/parley', 'mongodb://127.0.0.1:27017/parley'],
  ])('hides credentials in %s', (uri, expected) => {
    expect(redactMongoUri(uri)).toBe(expected);
  });
});

describe('databaseName', () => {
  it.each([
    ['mongodb://127.0.0.1:27017/parley?directConnection=true', 'parley'],
    ['mongodb://a:1,b:2/support_logs', 'support_logs'],
    ['mongodb+srv://u:p@cluster0.example.net/?retryWrites=true', 'fallback'],
    ['mongodb://127.0.0.1:27017', 'fallback'],
    ['mongodb://127.0.0.1:27017/my%20db', 'my db'],
  ])('reads %s as %s', (uri, expected) => {
    expect(databaseName(uri, 'fallback')).toBe(expected);
  });
});
