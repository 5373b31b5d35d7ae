/**
 * Text of a growing list of generated ids, streamed as deltas: each step decodes the whole list
 * (so merges and byte-level pieces come out as the tokenizer means them) and emits only the new
 * suffix that can no longer change.
 */

const REPLACEMENT = '\uFFFD';

export interface DetokenizeStep {
  /** Text that became stable with this id ('' while it is held back). */
  delta: string;
  /** Whether the text now contains a stop sequence; the text ends before it. */
  stopped: boolean;
}

export class IncrementalDetokenizer {
  private readonly ids: number[] = [];
  private emitted = '';
  private stoppedText: string | undefined;
  private readonly stops: readonly string[];

  constructor(
    private readonly decode: (ids: number[]) => string,
    stopSequences: readonly string[] = [],
  ) {
    if (stopSequences.some((s) => s.length === 0)) throw new RangeError('stop sequences must not be empty');
    this.stops = stopSequences;
  }

  /** Appends one id; its delta holds back a trailing broken character and any start of a stop sequence. */
  push(id: number): DetokenizeStep {
    if (this.stoppedText !== undefined) throw new Error('the text already reached a stop sequence');
    this.ids.push(id);
    const text = this.decode(this.ids);
    // Text already emitted never holds the start of a stop sequence (see holdBack), so search past it.
    const stopAt = this.firstStop(text, this.emitted.length);
    if (stopAt !== undefined) {
      this.stoppedText = text.slice(0, stopAt);
      return { delta: this.advance(this.stoppedText), stopped: true };
    }
    return { delta: this.advance(text.slice(0, this.holdBack(text))), stopped: false };
  }

  /** The rest of the text once generation ends, broken trailing characters included. */
  finish(): string {
    return this.advance(this.text);
  }

  /** The text of every id pushed, up to the stop sequence if one was reached. */
  get text(): string {
    return this.stoppedText ?? this.decode(this.ids);
  }

  private advance(stable: string): string {
    // A decoder that rewrites text it produced earlier cannot be un-emitted; wait until it extends it.
    if (stable.length <= this.emitted.length || !stable.startsWith(this.emitted)) return '';
    const delta = stable.slice(this.emitted.length);
    this.emitted = stable;
    return delta;
  }

  private firstStop(text: string, from: number): number | undefined {
    let first: number | undefined;
    for (const stop of this.stops) {
      const at = text.indexOf(stop, from);
      if (at >= 0 && (first === undefined || at < first)) first = at;
    }
    return first;
  }

  /** Where the unstable tail of `text` starts: a trailing replacement run, or a possible stop sequence start. */
  private holdBack(text: string): number {
    let end = text.length;
    while (end > 0 && text[end - 1] === REPLACEMENT) end--;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, text.length); n > 0; n--) {
        if (text.endsWith(stop.slice(0, n))) {
          end = Math.min(end, text.length - n);
          break;
        }
      }
    }
    return end;
  }
}
