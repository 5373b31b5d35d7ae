import type { WidgetSiteConfig } from '../realtime/widget/protocol.js';
import { chooseLocale, resolveTexts, type SiteTexts } from './locale.js';
import type { StoredSite } from './manage.js';
import { embedSnippet } from './snippet.js';

/** A site as the CLI and the admin API show it. */
export function presentSite(site: StoredSite, parleyUrl: string) {
  return {
    id: site._id.toHexString(),
    name: site.name,
    publicKey: site.publicKey,
    origins: site.origins,
    theme: site.theme,
    texts: site.texts,
    defaultLocale: site.defaultLocale,
    handoffThreshold: site.handoffThreshold,
    disabled: site.disabledAt != null,
    snippet: embedSnippet(parleyUrl, site.publicKey),
  };
}

/** What the widget needs to draw itself, for a visitor whose browser prefers `locales`. */
export function widgetSiteConfig(
  site: StoredSite,
  locales: readonly string[],
  maxMessageChars: number,
): WidgetSiteConfig {
  const texts = (site.texts ?? {}) as SiteTexts;
  const locale = chooseLocale(locales, texts, site.defaultLocale);
  const theme = site.theme!;
  return {
    name: site.name,
    locale,
    theme: {
      primaryColor: theme.primaryColor,
      primaryTextColor: theme.primaryTextColor,
      backgroundColor: theme.backgroundColor,
      textColor: theme.textColor,
      position: theme.position,
      launcherIcon: theme.launcherIcon,
      fontFamily: theme.fontFamily,
    },
    texts: resolveTexts(locale, texts),
    maxMessageChars,
  };
}
