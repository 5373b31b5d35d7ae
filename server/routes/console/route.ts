/**
 * The console app at /console: its page (for every path under /console, so client-side routes
 * survive a reload) and its two assets, built on the first request and kept in memory. The page
 * runs no inline script or style, and its Content-Security-Policy says so.
 */
import { type RequestHandler, Router } from 'express';
import { buildOnce } from '../built-assets.js';
import {
  buildConsoleAssets,
  CONSOLE_CSS_PATH,
  CONSOLE_JS_PATH,
  CONSOLE_PATH,
  type ConsoleAsset,
  type ConsoleAssets,
} from './build.js';

export interface ConsoleAssetOptions {
  build?: () => Promise<ConsoleAssets>;
}

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  // Same origin only: the REST API and the /agent Socket.IO namespace (WebSocket or polling).
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HTML_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': CONSOLE_CSP,
  'Cache-Control': 'no-cache',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export function consoleAssetRoutes(options: ConsoleAssetOptions = {}): Router {
  const buildAssets = options.build ?? buildConsoleAssets;
  const assets = buildOnce(buildAssets);

  const serveAsset =
    (pick: (assets: ConsoleAssets) => ConsoleAsset, contentType: string): RequestHandler =>
    async (req, res) => {
      const asset = pick(await assets());
      res.set({
        'Content-Type': contentType,
        // The page names each asset with its hash: that version never changes.
        'Cache-Control': req.query.v === asset.version ? 'public, max-age=31536000, immutable' : 'no-cache',
        ETag: asset.etag,
        'X-Content-Type-Options': 'nosniff',
      });
      // res.send answers 304 when If-None-Match carries this ETag.
      res.send(asset.body);
    };

  const servePage: RequestHandler = async (_req, res) => {
    const page = (await assets()).html;
    res.set({ ...HTML_HEADERS, ETag: page.etag });
    res.send(page.body);
  };

  const router = Router();
  router.get(
    CONSOLE_JS_PATH,
    serveAsset((built) => built.js, 'text/javascript; charset=utf-8'),
  );
  router.get(
    CONSOLE_CSS_PATH,
    serveAsset((built) => built.css, 'text/css; charset=utf-8'),
  );
  // Other asset paths are missing files, not pages: they fall through to the 404 handler.
  router.get(`${CONSOLE_PATH}/assets/{*rest}`, (_req, _res, next) => next('router'));
  router.get(CONSOLE_PATH, servePage);
  router.get(`${CONSOLE_PATH}/{*rest}`, servePage);
  return router;
}
