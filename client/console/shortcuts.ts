/**
 * Keyboard shortcuts of the inbox and the review queue. A key pressed while typing in a field is
 * the person's text, never a shortcut.
 */

export type ShortcutAction = 'next' | 'previous' | 'rate-up' | 'rate-down' | 'correct' | 'take-over' | 'help';

export interface Shortcut {
  action: ShortcutAction;
  /** KeyboardEvent.key values. */
  keys: readonly string[];
  description: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'next', keys: ['j', 'ArrowDown'], description: 'Next bot reply' },
  { action: 'previous', keys: ['k', 'ArrowUp'], description: 'Previous bot reply' },
  { action: 'rate-up', keys: ['+', 'u'], description: 'Rate the selected reply good' },
  { action: 'rate-down', keys: ['-', 'd'], description: 'Rate the selected reply bad' },
  { action: 'correct', keys: ['c'], description: 'Write a corrected reply' },
  { action: 'take-over', keys: ['t'], description: 'Take over the conversation (pauses the bot)' },
  { action: 'help', keys: ['?'], description: 'Show these shortcuts' },
];

const BY_KEY = new Map<string, ShortcutAction>(
  SHORTCUTS.flatMap((shortcut) => shortcut.keys.map((key) => [key, shortcut.action] as const)),
);

/** The parts of an element the check needs (duck-typed, so it is testable without a DOM). */
export interface TargetLike {
  tagName?: string;
  type?: string;
  isContentEditable?: boolean;
}

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  target?: TargetLike | null;
  /** True while an IME composes text. */
  isComposing?: boolean;
}

/** Inputs whose keys are not text: shortcuts still work while one has the focus. */
const NON_TEXT_INPUTS = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file']);

export function isTypingTarget(target: TargetLike | null | undefined): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName?.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !NON_TEXT_INPUTS.has((target.type ?? 'text').toLowerCase());
  return false;
}

/** The action a key press asks for, or null (a modifier held, typing in a field, or no such key). */
export function shortcutFor(event: KeyLike): ShortcutAction | null {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return null;
  if (isTypingTarget(event.target)) return null;
  return BY_KEY.get(event.key) ?? null;
}
