/** The demo company's website: a site whose widget runs on the demo page's origin. */
import type { Models } from '../server/db/models/index.js';
import { createSite, normalizeOrigin, type StoredSite, siteIdOf } from '../server/sites/index.js';

export const DEMO_SITE_NAME = 'demo';

/** Creates the demo site, or adds `origin` to it (the demo port may change between starts). */
export async function ensureDemoSite(
  models: Pick<Models, 'Site' | 'Source'>,
  origin: string,
): Promise<StoredSite> {
  const normalized = normalizeOrigin(origin);
  const existing = await models.Site.findOneAndUpdate(
    { _id: siteIdOf(DEMO_SITE_NAME) },
    { $addToSet: { origins: normalized } },
    { returnDocument: 'after' },
  ).lean();
  if (existing) return existing as StoredSite;
  return createSite(models, {
    name: DEMO_SITE_NAME,
    origins: [normalized],
    theme: { primaryColor: '#0b6e4f', launcherIcon: 'headset' },
    texts: { en: { title: 'Harbor Street support' }, fr: { title: 'Support Harbor Street' } },
  });
}
