/**
 * A company's website on its own loopback origin (port 0), embedding the widget with the one
 * script tag: the cross-origin path a real site takes.
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { CLIENT_DIR } from '../../../server/app.js';

const DEMO_DIR = path.join(CLIENT_DIR, 'demo');
const PLACEHOLDER = '<!-- parley:widget -->';

/** Page CSS written to break embedded widgets: none of it may reach the widget. */
export const HOSTILE_CSS = `
  html { font-size: 40px; }
  * { font-family: "Comic Sans MS", cursive !important; color: rgb(204, 0, 0) !important; box-sizing: content-box !important; }
  button { border: 6px dashed rgb(204, 0, 0) !important; background: yellow !important; }
  div, p { margin: 30px !important; }
`;

export interface HostSite {
  origin: string;
  /** Pages by path, each the HTML around an embed snippet. */
  setSnippets(snippets: { demo: string; hostile: string; refused: string }): void;
  close(): Promise<void>;
}

export async function startHostSite(): Promise<HostSite> {
  const demoHtml = await readFile(path.join(DEMO_DIR, 'index.html'), 'utf8');
  let snippets: { demo: string; hostile: string; refused: string } | null = null;
  const bare = (title: string, snippet: string, css = '') =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>` +
    `<style>${css}</style></head><body><h1>${title}</h1><a href="#top">A link on the page</a>${snippet}</body></html>`;

  const app = express();
  const page = (html: () => string) => (_req: express.Request, res: express.Response) => {
    if (!snippets) throw new Error('host site: setSnippets first');
    res.type('html').set('Cache-Control', 'no-store').send(html());
  };
  app.get(
    '/',
    page(() => demoHtml.replace(PLACEHOLDER, snippets!.demo)),
  );
  app.get(
    '/hostile',
    page(() => bare('A page with hostile CSS', snippets!.hostile, HOSTILE_CSS)),
  );
  app.get(
    '/refused',
    page(() => bare('A page the site does not allow', snippets!.refused)),
  );
  app.use(express.static(DEMO_DIR, { index: false }));

  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setSnippets(next) {
      snippets = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
