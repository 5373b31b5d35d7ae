import { describe, expect, it } from 'vitest';
import { IncrementalDetokenizer } from '../../../../server/ml/detokenize.js';

/** A byte-level decoder, as GPT-2-style tokenizers decode: ids are UTF-8 bytes, broken sequences become U+FFFD. */
const bytes = (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids));
const utf8 = (text: string) => [...new TextEncoder().encode(text)];

/** Pushes every id, then finishes; returns the deltas (the last one from finish()). */
function stream(detokenizer: IncrementalDetokenizer, ids: number[]): string[] {
  const deltas: string[] = [];
  for (const id of ids) {
    const step = detokenizer.push(id);
    deltas.push(step.delta);
    if (step.stopped) return deltas;
  }
  deltas.push(detokenizer.finish());
  return deltas;
}

describe('IncrementalDetokenizer', () => {
  it.each([
    ['ascii', 'hello world'],
    ['two-byte characters', 'héllo wörld ñ'],
    ['three-byte characters', '€ 日本語'],
    ['four-byte characters', 'ok 👋🏽 done'],
    ['a text ending in a multi-byte character', 'end 😀'],
  ])('streams %s byte by byte without a replacement character', (_, text) => {
    const detokenizer = new IncrementalDetokenizer(bytes);
    const deltas = stream(detokenizer, utf8(text));
    expect(deltas.join('')).toBe(text);
    expect(deltas.join('')).not.toContain('\uFFFD');
    expect(detokenizer.text).toBe(text);
  });

  it('emits each multi-byte character once its last byte arrives', () => {
    const detokenizer = new IncrementalDetokenizer(bytes);
    expect(utf8('a€').map((id) => detokenizer.push(id).delta)).toEqual(['a', '', '', '€']);
  });

  it('emits a replacement character for bytes that a later byte proves broken', () => {
    const detokenizer = new IncrementalDetokenizer(bytes);
    expect([0x41, 0xe2, 0x82, 0x42].map((id) => detokenizer.push(id).delta)).toEqual([
      'A',
      '',
      '',
      '\uFFFDB',
    ]);
  });

  it('finishes with a replacement character for a character cut off at the end', () => {
    const detokenizer = new IncrementalDetokenizer(bytes);
    expect(stream(detokenizer, [0x41, 0xf0, 0x9f])).toEqual(['A', '', '', '\uFFFD']);
    expect(detokenizer.text).toBe('A\uFFFD');
  });

  it.each([
    ['a stop sequence inside one token', 'hello world. bye', ['.'], 'hello world'],
    ['a stop sequence spread over tokens', 'abc\nUser: hi', ['\nUser:'], 'abc'],
    ['the earliest of several stop sequences', 'one two three', ['three', 'two'], 'one '],
    ['a stop sequence at the very start', 'STOP here', ['STOP'], ''],
    ['a partial stop sequence that never completes', 'abc\nUse it', ['\nUser:'], 'abc\nUse it'],
    ['no stop sequence', 'plain text', [], 'plain text'],
  ])('ends the text before %s', (_, text, stops, expected) => {
    const detokenizer = new IncrementalDetokenizer(bytes, stops);
    const deltas = stream(detokenizer, utf8(text));
    expect(deltas.join('')).toBe(expected);
    expect(detokenizer.text).toBe(expected);
  });

  it('reports the stop and holds back a possible stop sequence start until it is ruled out', () => {
    const detokenizer = new IncrementalDetokenizer(bytes, ['\nUser:']);
    const steps = utf8('ab\nUx\nUser:').map((id) => detokenizer.push(id));
    expect(steps.map((s) => s.delta)).toEqual(['a', 'b', '', '', '\nUx', '', '', '', '', '', '']);
    expect(steps.map((s) => s.stopped)).toEqual([...Array(10).fill(false), true]);
    expect(detokenizer.text).toBe('ab\nUx');
  });

  it('refuses ids after a stop', () => {
    const detokenizer = new IncrementalDetokenizer(bytes, ['!']);
    expect(detokenizer.push(0x21).stopped).toBe(true);
    expect(() => detokenizer.push(0x41)).toThrow(/already reached a stop sequence/);
  });

  it('streams word tokens joined by the decoder', () => {
    const words = ['hello', 'my', 'order', '.'];
    // Joins with spaces, except before punctuation, as clean_up_tokenization_spaces does.
    const decode = (ids: number[]) =>
      ids
        .map((id) => words[id])
        .join(' ')
        .replace(/ \./g, '.');
    const detokenizer = new IncrementalDetokenizer(decode);
    expect(stream(detokenizer, [0, 1, 2, 3])).toEqual(['hello', ' my', ' order', '.', '']);
  });

  it('rejects an empty stop sequence', () => {
    expect(() => new IncrementalDetokenizer(bytes, ['ok', ''])).toThrow(/must not be empty/);
  });
});
