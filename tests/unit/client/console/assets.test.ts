import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildConsoleAssets,
  CONSOLE_CSS_PATH,
  CONSOLE_JS_PATH,
  type ConsoleAssets,
} from '../../../../server/routes/console/build.js';
import { CONSOLE_CSP, consoleAssetRoutes } from '../../../../server/routes/console/route.js';

describe('console assets', () => {
  let assets: ConsoleAssets;
  let server: Server;
  let url: string;
  let builds = 0;

  beforeAll(async () => {
    assets = await buildConsoleAssets();
    const app = express();
    app.use(
      consoleAssetRoutes({
        build: async () => {
          builds += 1;
          return assets;
        },
      }),
    );
    app.use((_req, res) => {
      res.status(404).json({ ok: false, error: 'not_found' });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('serves the page for every console path, with a CSP that allows no inline script or style', async () => {
    for (const path of [
      '/console',
      '/console/',
      '/console/inbox',
      '/console/inbox/65f1c2a9e4b0a1b2c3d4e5f6',
    ]) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("style-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
  });

  it('has no inline script or style in the page, and names each asset by its hash', async () => {
    const html = await (await fetch(`${url}/console/inbox`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).toContain(`src="${CONSOLE_JS_PATH}?v=${assets.js.version}"`);
    expect(html).toContain(`href="${CONSOLE_CSS_PATH}?v=${assets.css.version}"`);
    expect(html).toContain('<div id="app"></div>');
  });

  it('bundles Preact, the console and socket.io-client into one module, and the styles into one file', () => {
    const js = assets.js.body.toString();
    expect(js).toContain('/agent');
    expect(js).toContain('Review queue');
    expect(js).toMatch(/engine\.io|socket\.io/);
    expect(js).not.toMatch(/^\s*import\s/m); // one file: nothing left to import
    expect(assets.css.body.toString()).toContain('.conversation-list');
  });

  it('serves the assets with their types, ETags and long caching for the hashed version', async () => {
    const js = await fetch(`${url}${CONSOLE_JS_PATH}?v=${assets.js.version}`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('etag')).toBe(assets.js.etag);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await js.arrayBuffer()).equals(assets.js.body)).toBe(true);

    const css = await fetch(`${url}${CONSOLE_CSS_PATH}?v=stale`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers 304 to a matching If-None-Match, and builds once', async () => {
    // fetch sends "no-cache" with a conditional request unless told otherwise; a browser revalidating does not.
    const revalidate = (etag: string) => ({ 'if-none-match': etag, 'cache-control': 'max-age=0' });
    const response = await fetch(`${url}${CONSOLE_JS_PATH}`, { headers: revalidate(assets.js.etag) });
    expect(response.status).toBe(304);
    const page = await fetch(`${url}/console`, { headers: revalidate(assets.html.etag) });
    expect(page.status).toBe(304);
    expect(builds).toBe(1);
  });

  it('answers 404 for an unknown asset instead of the page', async () => {
    const response = await fetch(`${url}/console/assets/other.js`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/json');
  });

  it('builds again after a failed build', async () => {
    let attempts = 0;
    const app = express();
    app.use(
      consoleAssetRoutes({
        build: async () => {
          attempts += 1;
          if (attempts === 1) throw new Error('esbuild failed');
          return assets;
        },
      }),
    );
    app.use(((error, _req, res, _next) => {
      res.status(500).json({ ok: false, error: 'internal', message: (error as Error).message });
    }) as express.ErrorRequestHandler);
    const other = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => other.once('listening', resolve));
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${otherUrl}/console`)).status).toBe(500);
      expect((await fetch(`${otherUrl}/console`)).status).toBe(200);
      expect(attempts).toBe(2);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
