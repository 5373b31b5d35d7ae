/**
 * GET /widget.js (the loader a site embeds) and GET /widget/chat.js (the chat app it imports on
 * first open), built on the first request and kept in memory. The chunk is imported as an ES
 * module from the host page's origin, so it needs CORS; both may be embedded by pages that
 * require cross-origin resource policy.
 */
import { type RequestHandler, Router } from 'express';
import { buildOnce } from '../built-assets.js';
import { buildWidgetAssets, CHAT_PATH, LOADER_PATH, type WidgetAsset, type WidgetAssets } from './build.js';

export interface WidgetAssetOptions {
  build?: () => Promise<WidgetAssets>;
}

const CACHE_CONTROL = 'public, max-age=300';

export function widgetAssetRoutes(options: WidgetAssetOptions = {}): Router {
  const buildAssets = options.build ?? buildWidgetAssets;
  const assets = buildOnce(buildAssets);

  const serve =
    (pick: (assets: WidgetAssets) => WidgetAsset, headers: Record<string, string> = {}): RequestHandler =>
    async (_req, res) => {
      const asset = pick(await assets());
      res.set({
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': CACHE_CONTROL,
        ETag: asset.etag,
        'X-Content-Type-Options': 'nosniff',
        'Cross-Origin-Resource-Policy': 'cross-origin',
        ...headers,
      });
      // res.send answers 304 when If-None-Match carries this ETag.
      res.send(asset.body);
    };

  const router = Router();
  router.get(
    LOADER_PATH,
    serve((built) => built.loader),
  );
  router.get(
    CHAT_PATH,
    serve((built) => built.chat, { 'Access-Control-Allow-Origin': '*' }),
  );
  return router;
}
