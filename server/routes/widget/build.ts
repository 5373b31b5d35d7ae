/**
 * Builds the widget's two browser files from client/widget with esbuild: the loader (/widget.js,
 * a classic script every host page runs) and the chat app (an ES module the loader imports on
 * first open). In memory, once per process.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { type HashedAsset, hashedAsset } from '../built-assets.js';

export const LOADER_PATH = '/widget.js';
export const CHAT_PATH = '/widget/chat.js';

const WIDGET_DIR = path.join(import.meta.dirname, '..', '..', '..', 'client', 'widget');
const BROWSER_TARGET = 'es2020';

export type WidgetAsset = HashedAsset;

export interface WidgetAssets {
  loader: WidgetAsset;
  chat: WidgetAsset;
}

export async function buildWidgetAssets(): Promise<WidgetAssets> {
  const chat = await bundle('chat/index.ts', 'esm');
  // The loader names the chunk with its hash, so a cached loader never pairs with another build's chunk.
  const chatUrl = `${CHAT_PATH}?v=${chat.version}`;
  const loader = await bundle('loader.ts', 'iife', { __PARLEY_CHAT_PATH__: JSON.stringify(chatUrl) });
  return { loader, chat };
}

async function bundle(
  entry: string,
  format: 'esm' | 'iife',
  define: Record<string, string> = {},
): Promise<WidgetAsset> {
  const result = await build({
    entryPoints: [path.join(WIDGET_DIR, entry)],
    bundle: true,
    minify: true,
    format,
    platform: 'browser',
    target: BROWSER_TARGET,
    define,
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for client/widget/${entry}`);
  return hashedAsset(Buffer.from(file.contents));
}
