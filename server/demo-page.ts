/**
 * The demo company's website on a second origin (its own port), embedding the widget with the
 * one script tag exactly as a customer's site would, so the cross-origin path is what runs.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import express from 'express';
import { CLIENT_DIR } from './app.js';
import { listen } from './listen.js';
import { embedSnippet } from './sites/index.js';

const DEMO_DIR = path.join(CLIENT_DIR, 'demo');
const PLACEHOLDER = '<!-- parley:widget -->';

export interface DemoPage {
  url: string;
  close(): Promise<void>;
}

export async function startDemoPage(options: {
  host: string;
  port: number;
  parleyUrl: string;
  /** Resolves the site key once the page's origin is known (the site allows that origin). */
  siteKeyFor: (origin: string) => Promise<string>;
}): Promise<DemoPage> {
  const app = express();
  app.disable('x-powered-by');
  let page: string | null = null;
  app.get(['/', '/index.html'], (_req, res) => {
    res.type('html').set('Cache-Control', 'no-store').send(page);
  });
  app.use(express.static(DEMO_DIR, { index: false, maxAge: 0 }));

  const server: Server = createServer(app);
  const url = await listen(server, options.port, options.host);
  try {
    const key = await options.siteKeyFor(url);
    const html = await readFile(path.join(DEMO_DIR, 'index.html'), 'utf8');
    page = html.replace(PLACEHOLDER, embedSnippet(options.parleyUrl, key));
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
