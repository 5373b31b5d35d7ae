/** Sites (the websites that embed the widget) for admins. */

import { recordAudit } from '../../audit.js';
import type { Endpoint } from '../../auth/policy.js';
import type { Models } from '../../db/models/index.js';
import { createSite, presentSite, type StoredSite, updateSite } from '../../sites/index.js';

export function siteEndpoints(deps: { models: Models; publicUrl: () => string }): Endpoint[] {
  const { models } = deps;
  return [
    {
      method: 'get',
      path: '/sites',
      access: 'admin',
      async handler(_req, res) {
        const sites = await models.Site.find({}).sort({ name: 1 }).lean();
        res.json({ sites: sites.map((site) => presentSite(site as StoredSite, deps.publicUrl())) });
      },
    },
    {
      method: 'post',
      path: '/sites',
      access: 'admin',
      async handler(req, res) {
        const site = await createSite(models, req.body ?? {});
        await recordAudit(models, {
          action: 'site.create',
          actor: req.user!,
          target: { type: 'site', id: site._id.toHexString() },
          details: { name: site.name, origins: site.origins },
        });
        res.status(201).json({ site: presentSite(site, deps.publicUrl()) });
      },
    },
    {
      method: 'patch',
      path: '/sites/:name',
      access: 'admin',
      async handler(req, res) {
        const site = await updateSite(models, String(req.params.name), req.body ?? {});
        await recordAudit(models, {
          action: 'site.update',
          actor: req.user!,
          target: { type: 'site', id: site._id.toHexString() },
          details: { changed: Object.keys(req.body ?? {}) },
        });
        res.json({ site: presentSite(site, deps.publicUrl()) });
      },
    },
  ];
}
