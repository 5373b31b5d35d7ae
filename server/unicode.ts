/**
 * Broken UTF-16 in what clients send. JSON's "\uD800" escapes (and Socket.IO payloads, which are
 * JSON) can carry a lone surrogate, which no UTF-8 store can hold: MongoDB would silently keep
 * U+FFFD instead. Such input is refused; every well-formed string, however unusual, is kept.
 */

/** In u-mode a surrogate pair is one code point, so this matches unpaired surrogates only. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * The path ("body.texts.en") of the first string or key holding a lone surrogate, or null. Walks
 * with its own stack: a body nested thousands deep must not overflow the call stack.
 */
export function findBrokenUnicode(value: unknown, root = 'body'): string | null {
  const pending: [unknown, string][] = [[value, root]];
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      if (LONE_SURROGATE.test(current)) return path;
    } else if (current !== null && typeof current === 'object' && !ArrayBuffer.isView(current)) {
      for (const [key, child] of Object.entries(current)) {
        if (LONE_SURROGATE.test(key)) return `${path} (a key)`;
        pending.push([child, `${path}.${key}`]);
      }
    }
  }
  return null;
}

export const brokenUnicodeMessage = (path: string) =>
  `${path}: contains a lone surrogate, which is not valid Unicode; send well-formed text.`;
