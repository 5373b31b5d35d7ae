export { BUILT_IN_LOCALES, DEFAULT_TEXTS } from './default-texts.js';
export { chooseLocale, resolveTexts } from './locale.js';
export {
  createSite,
  findSiteByKey,
  findSiteByName,
  generatePublicKey,
  type SiteInput,
  type StoredSite,
  siteIdOf,
  updateSite,
} from './manage.js';
export { isOriginAllowed, normalizeOrigin } from './origins.js';
export { presentSite, widgetSiteConfig } from './present.js';
export { embedSnippet } from './snippet.js';
