/**
 * Builds the console (client/console, Preact) with esbuild: one JS bundle, one stylesheet and the
 * page that loads them by content hash. In memory, once per process.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { hashedAsset as asset, type HashedAsset } from '../built-assets.js';

export const CONSOLE_PATH = '/console';
export const CONSOLE_JS_PATH = '/console/assets/console.js';
export const CONSOLE_CSS_PATH = '/console/assets/console.css';

const CONSOLE_DIR = path.join(import.meta.dirname, '..', '..', '..', 'client', 'console');
const BROWSER_TARGET = 'es2020';

export type ConsoleAsset = HashedAsset;

export interface ConsoleAssets {
  html: ConsoleAsset;
  js: ConsoleAsset;
  css: ConsoleAsset;
}

export async function buildConsoleAssets(): Promise<ConsoleAssets> {
  const result = await build({
    entryPoints: {
      console: path.join(CONSOLE_DIR, 'index.tsx'),
      styles: path.join(CONSOLE_DIR, 'styles.css'),
    },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: BROWSER_TARGET,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    charset: 'utf8',
    outdir: '/console-build',
    write: false,
    logLevel: 'silent',
  });
  const output = (extension: string) => {
    const file = result.outputFiles.find((candidate) => candidate.path.endsWith(extension));
    if (!file) throw new Error(`esbuild produced no ${extension} for client/console`);
    return Buffer.from(file.contents);
  };
  const js = asset(output('console.js'));
  const css = asset(output('styles.css'));
  return { js, css, html: asset(Buffer.from(consolePage(js.version, css.version), 'utf8')) };
}

/** The one page of the console: no inline script or style, so its CSP can forbid both. */
export function consolePage(jsVersion: string, cssVersion: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    '<title>Parley console</title>',
    // No favicon request (and no 404 for one).
    '<link rel="icon" href="data:,">',
    `<link rel="stylesheet" href="${CONSOLE_CSS_PATH}?v=${cssVersion}">`,
    `<script type="module" src="${CONSOLE_JS_PATH}?v=${jsVersion}"></script>`,
    '</head>',
    '<body>',
    '<div id="app"></div>',
    '<noscript><p>The Parley console needs JavaScript.</p></noscript>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
