/**
 * Wraps a read whose calls may finish out of order (a poll of the active version that read v2 just
 * before a rollback can finish after the rollback's own read of v1). An answer counts only if no
 * read started after it has already been applied, so a stale answer never overrides a newer one.
 */
export function orderedReads<T>(read: () => Promise<T>): () => Promise<{ value: T; current: boolean }> {
  let started = 0;
  let applied = 0;
  return async () => {
    const ticket = ++started;
    const value = await read();
    if (ticket < applied) return { value, current: false };
    applied = ticket;
    return { value, current: true };
  };
}
