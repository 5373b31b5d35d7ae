import { describe, expect, it } from 'vitest';
import { chooseLocale, DEFAULT_TEXTS, resolveTexts } from '../../../../server/sites/index.js';

describe('chooseLocale', () => {
  it.each([
    [['fr-FR', 'en'], {}, 'en', 'fr'],
    [['pt-BR'], { 'pt-BR': { title: 'Oi' } }, 'en', 'pt-BR'],
    [['pt-PT'], {}, 'en', 'pt'],
    [['ja-JP', 'de'], {}, 'en', 'de'],
    [['ja-JP'], {}, 'es', 'es'],
    [[], {}, 'fr', 'fr'],
    [['nl'], { nl: { title: 'Chat met ons' } }, 'en', 'nl'],
  ])('%j with site texts %j and default %s -> %s', (preferred, texts, fallback, expected) => {
    expect(chooseLocale(preferred, texts, fallback)).toBe(expected);
  });
});

describe('resolveTexts', () => {
  it("layers the site's own texts over Parley's for the language, over English", () => {
    const texts = resolveTexts('pt-BR', { pt: { title: 'Fale com a loja' }, 'pt-BR': { send: 'Mandar' } });
    expect(texts.title).toBe('Fale com a loja');
    expect(texts.send).toBe('Mandar');
    expect(texts.placeholder).toBe(DEFAULT_TEXTS.pt!.placeholder);
  });

  it('falls back to English for a language Parley has no texts for', () => {
    expect(resolveTexts('nl', { nl: { title: 'Chat met ons' } })).toEqual({
      ...DEFAULT_TEXTS.en,
      title: 'Chat met ons',
    });
  });

  it('has every string in every built-in language', () => {
    const keys = Object.keys(DEFAULT_TEXTS.en!).sort();
    for (const texts of Object.values(DEFAULT_TEXTS)) expect(Object.keys(texts).sort()).toEqual(keys);
  });
});
