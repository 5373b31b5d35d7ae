import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildWidgetAssets,
  CHAT_PATH,
  LOADER_PATH,
  type WidgetAssets,
} from '../../../../server/routes/widget/build.js';
import { widgetAssetRoutes } from '../../../../server/routes/widget/route.js';

const LOADER_GZIP_BUDGET = 15 * 1024;

describe('widget assets', () => {
  let assets: WidgetAssets;
  let server: Server;
  let url: string;
  let builds = 0;

  beforeAll(async () => {
    assets = await buildWidgetAssets();
    const app = express();
    app.use(
      widgetAssetRoutes({
        build: async () => {
          builds += 1;
          return assets;
        },
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it(`keeps the loader under ${LOADER_GZIP_BUDGET} bytes gzipped, without socket.io-client`, () => {
    const gzipped = gzipSync(assets.loader.body).length;
    console.info(`loader: ${assets.loader.body.length} B, ${gzipped} B gzipped`);
    expect(gzipped).toBeLessThan(LOADER_GZIP_BUDGET);
    expect(assets.loader.body.toString()).not.toMatch(/engine\.io|socket\.io/i);
  });

  it('bundles socket.io-client into the chat chunk, which the loader names with its hash', () => {
    const loader = assets.loader.body.toString();
    const chat = assets.chat.body.toString();
    expect(chat).toMatch(/mountChat/);
    expect(chat).toMatch(/EIO/); // the engine.io protocol version query parameter
    const hash = assets.chat.etag.slice(1, 17);
    expect(loader).toContain(`${CHAT_PATH}?v=${hash}`);
    console.info(`chat: ${assets.chat.body.length} B, ${gzipSync(assets.chat.body).length} B gzipped`);
  });

  it('serves the loader as JavaScript, cacheable for five minutes, with an ETag', async () => {
    const response = await fetch(`${url}${LOADER_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('etag')).toBe(assets.loader.etag);
    expect(response.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(assets.loader.body);
  });

  it('serves the chat chunk with CORS for every origin (the loader imports it as a module)', async () => {
    const response = await fetch(`${url}${CHAT_PATH}?v=whatever`, {
      headers: { origin: 'https://shop.example' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('etag')).toBe(assets.chat.etag);
    expect(await response.text()).toBe(assets.chat.body.toString());
  });

  it('answers 304 to a request that already has this version, and builds only once', async () => {
    // fetch adds `Cache-Control: no-cache` to conditional requests unless one is given (browsers
    // revalidating a cached script send none).
    const response = await fetch(`${url}${LOADER_PATH}`, {
      headers: { 'if-none-match': assets.loader.etag, 'cache-control': 'max-age=0' },
    });
    expect(response.status).toBe(304);
    const stale = await fetch(`${url}${LOADER_PATH}`, { headers: { 'if-none-match': '"old"' } });
    expect(stale.status).toBe(200);
    expect(builds).toBe(1);
  });

  it('tries the build again on the next request after a failure', async () => {
    let attempts = 0;
    const app = express();
    app.use(
      widgetAssetRoutes({
        build: async () => {
          attempts += 1;
          if (attempts === 1) throw new Error('esbuild failed');
          return assets;
        },
      }),
    );
    app.use(((_error, _req, res, _next) => res.status(500).end()) as express.ErrorRequestHandler);
    const failing = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => failing.once('listening', resolve));
    const base = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}${LOADER_PATH}`)).status).toBe(500);
      expect((await fetch(`${base}${LOADER_PATH}`)).status).toBe(200);
    } finally {
      await new Promise((resolve) => failing.close(resolve));
    }
  });
});
