/**
 * What a client event carries, read defensively: the ack is the last argument when it is a
 * function, whatever came before it. A client that sends no payload (`emit(event, ack)`) or extra
 * arguments still gets its answer instead of waiting forever.
 */
export interface EventArgs {
  payload: unknown;
  /** Arguments besides one payload and the ack: a well-behaved client sends none. */
  extra: number;
  reply: (result: unknown) => void;
}

export function eventArgs(args: readonly unknown[]): EventArgs {
  const last = args.at(-1);
  const ack = typeof last === 'function' ? (last as (result: unknown) => void) : null;
  const values = ack ? args.slice(0, -1) : args;
  return { payload: values[0], extra: Math.max(0, values.length - 1), reply: ack ?? (() => undefined) };
}
