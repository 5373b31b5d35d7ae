import { describe, expect, it } from 'vitest';
import { isTypingTarget, SHORTCUTS, shortcutFor } from '../../../../client/console/shortcuts.js';

const body = { tagName: 'BODY' };

describe('keyboard shortcuts', () => {
  it.each([
    ['j', 'next'],
    ['ArrowDown', 'next'],
    ['k', 'previous'],
    ['ArrowUp', 'previous'],
    ['+', 'rate-up'],
    ['u', 'rate-up'],
    ['-', 'rate-down'],
    ['d', 'rate-down'],
    ['c', 'correct'],
    ['t', 'take-over'],
    ['?', 'help'],
    ['x', null],
    ['J', null],
    ['Enter', null],
  ])('%s on the page is %s', (key, action) => {
    expect(shortcutFor({ key, target: body })).toBe(action);
  });

  it.each([
    ['a textarea', { tagName: 'TEXTAREA' }],
    ['a text input', { tagName: 'INPUT', type: 'text' }],
    ['a search input', { tagName: 'INPUT', type: 'search' }],
    ['an email input', { tagName: 'INPUT', type: 'email' }],
    ['an input without a type', { tagName: 'input' }],
    ['a select', { tagName: 'SELECT' }],
    ['an editable element', { tagName: 'DIV', isContentEditable: true }],
  ])('never fires while typing in %s', (_name, target) => {
    expect(isTypingTarget(target)).toBe(true);
    for (const key of ['j', 'k', '+', '-', 'u', 'd', 'c', 't', '?'])
      expect(shortcutFor({ key, target })).toBeNull();
  });

  it.each([
    ['a button', { tagName: 'BUTTON' }],
    ['a checkbox', { tagName: 'INPUT', type: 'checkbox' }],
    ['a link', { tagName: 'A' }],
    ['nothing', null],
  ])('fires while %s has the focus', (_name, target) => {
    expect(shortcutFor({ key: 'j', target })).toBe('next');
  });

  it.each([
    ['ctrlKey', { ctrlKey: true }],
    ['metaKey', { metaKey: true }],
    ['altKey', { altKey: true }],
    ['isComposing', { isComposing: true }],
  ])('leaves keys with %s to the browser', (_name, modifier) => {
    expect(shortcutFor({ key: 'd', target: body, ...modifier })).toBeNull();
  });

  it('describes every action once for the help dialog', () => {
    const actions = SHORTCUTS.map((shortcut) => shortcut.action);
    expect(new Set(actions).size).toBe(actions.length);
    expect(actions).toEqual(['next', 'previous', 'rate-up', 'rate-down', 'correct', 'take-over', 'help']);
  });
});
