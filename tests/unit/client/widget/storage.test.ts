import { describe, expect, it } from 'vitest';
import { type KeyValueStorage, parseLook, widgetStore } from '../../../../client/widget/storage.js';
import { themeVariables } from '../../../../client/widget/theme.js';
import type { WidgetTheme } from '../../../../server/realtime/widget/protocol.js';
import { DEFAULT_TEXTS } from '../../../../server/sites/default-texts.js';

const memoryStorage = (): KeyValueStorage & { data: Map<string, string> } => {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
};

const throwingStorage: KeyValueStorage = {
  getItem: () => {
    throw new Error('SecurityError');
  },
  setItem: () => {
    throw new Error('QuotaExceededError');
  },
  removeItem: () => {
    throw new Error('SecurityError');
  },
};

const theme: WidgetTheme = {
  primaryColor: '#0b6e4f',
  primaryTextColor: '#ffffff',
  backgroundColor: '#ffffff',
  textColor: '#1b1f24',
  position: 'left',
  launcherIcon: 'headset',
  fontFamily: 'Georgia, serif',
};

describe('widgetStore', () => {
  it('keeps token, open state and look per site key', () => {
    const storage = memoryStorage();
    const one = widgetStore('pk_one', storage);
    const two = widgetStore('pk_two', storage);
    one.setToken('token-1');
    one.setOpen(true);
    one.setLook({ locale: 'fr', theme, texts: DEFAULT_TEXTS.fr! });
    expect(one.token()).toBe('token-1');
    expect(one.wasOpen()).toBe(true);
    expect(one.look()).toEqual({ locale: 'fr', theme, texts: DEFAULT_TEXTS.fr });
    expect(two.token()).toBeNull();
    expect(two.wasOpen()).toBe(false);
    expect(two.look()).toBeNull();
    one.setOpen(false);
    expect(storage.data.has('parley:pk_one:open')).toBe(false);
  });

  it('works without memory when storage throws or is missing', () => {
    for (const storage of [throwingStorage, null]) {
      const store = widgetStore('pk', storage);
      expect(() => store.setToken('t')).not.toThrow();
      expect(store.token()).toBeNull();
      expect(store.wasOpen()).toBe(false);
    }
  });

  it.each([
    ['absent', null],
    ['not JSON', '{'],
    ['JSON null', 'null'],
    ['no theme', JSON.stringify({ locale: 'en', texts: {} })],
    ['a text that is not a string', JSON.stringify({ locale: 'en', theme: {}, texts: { title: 1 } })],
  ])('ignores a stored look that is %s', (_case, json) => {
    expect(parseLook(json)).toBeNull();
  });
});

describe('themeVariables', () => {
  it('maps every colour and the font to the custom properties the CSS reads', () => {
    expect(themeVariables(theme)).toEqual({
      '--parley-primary': '#0b6e4f',
      '--parley-on-primary': '#ffffff',
      '--parley-background': '#ffffff',
      '--parley-text': '#1b1f24',
      '--parley-font': 'Georgia, serif',
    });
  });
});
