import type { WidgetTexts } from '../realtime/widget/protocol.js';
import { DEFAULT_TEXTS } from './default-texts.js';

export type SiteTexts = Record<string, Partial<WidgetTexts>>;

const baseLanguage = (locale: string) => locale.toLowerCase().split('-')[0] ?? '';

/**
 * The locale to show: the first of the browser's languages the site or Parley has texts for
 * (exact tag, then its base language), else the site's default.
 */
export function chooseLocale(
  preferred: readonly string[],
  siteTexts: SiteTexts,
  defaultLocale: string,
): string {
  const available = new Map<string, string>();
  for (const locale of [...Object.keys(siteTexts), ...Object.keys(DEFAULT_TEXTS)])
    available.set(locale.toLowerCase(), locale);
  for (const wanted of preferred) {
    const exact = available.get(wanted.toLowerCase());
    if (exact) return exact;
    const base = available.get(baseLanguage(wanted));
    if (base) return base;
  }
  return defaultLocale;
}

/** Every string for `locale`: the site's own, over Parley's for that language, over English. */
export function resolveTexts(locale: string, siteTexts: SiteTexts): WidgetTexts {
  const base = baseLanguage(locale);
  return {
    ...DEFAULT_TEXTS.en!,
    ...DEFAULT_TEXTS[base],
    ...DEFAULT_TEXTS[locale],
    ...siteTexts[base],
    ...siteTexts[locale],
  };
}
