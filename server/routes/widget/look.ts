/**
 * GET /widget/look?key=KEY&locales=fr-CA,en: a site's launcher look (theme and texts in the
 * visitor's language), so the loader draws the site's colours and labels before any chat. Public
 * like the key itself, readable from any origin, and cached briefly.
 */
import { type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { badRequest, notFound } from '../../errors.js';
import type { WidgetLook } from '../../realtime/widget/protocol.js';

export interface WidgetLookDeps {
  /** The look of the site with this key for these locales; null for an unknown or disabled site. */
  widgetLook(siteKey: string, locales: string[]): Promise<WidgetLook | null>;
}

const query = z.object({
  key: z.string().min(1).max(100),
  locales: z
    .string()
    .max(400)
    .optional()
    .transform((value) => (value ? value.split(',').slice(0, 20) : [])),
});

const CACHE_CONTROL = 'public, max-age=60';

export function widgetLookRoute(deps: WidgetLookDeps): Router {
  const router = Router();
  const handler: RequestHandler = async (req, res) => {
    const parsed = query.safeParse(req.query);
    if (!parsed.success)
      throw badRequest('expected ?key=SITE_KEY and optionally &locales=fr-CA,en', 'bad_query');
    const look = await deps.widgetLook(parsed.data.key, parsed.data.locales);
    res.set('Access-Control-Allow-Origin', '*').set('Vary', 'Accept-Language');
    if (!look) throw notFound('This site key is not known to this Parley server.', 'unknown_site_key');
    res.set('Cache-Control', CACHE_CONTROL).json(look);
  };
  router.get('/widget/look', handler);
  return router;
}
