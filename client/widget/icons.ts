/** Inline SVG icons (stroke paths on a 24×24 grid), built as elements: no markup is parsed. */
import type { WidgetTheme } from '../../server/realtime/widget/protocol.js';

export type IconName = WidgetTheme['launcherIcon'] | 'close';

const PATHS: Record<IconName, string> = {
  chat: 'M21 11.5a8.5 8.5 0 0 1-12.3 7.6L3.5 20.5l1.4-4.6A8.5 8.5 0 1 1 21 11.5z',
  help: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM9.5 9.2a2.5 2.5 0 1 1 3.6 2.2c-.7.4-1.1 1-1.1 1.8v.6M12 17v.01',
  headset:
    'M4 15v-3a8 8 0 0 1 16 0v3M4 14h3v5H5.5A1.5 1.5 0 0 1 4 17.5zM20 14h-3v5h1.5a1.5 1.5 0 0 0 1.5-1.5zM18.5 19c0 1.5-1.5 2.5-4 2.5H13',
  close: 'M6 6l12 12M18 6L6 18',
};

const SVG = 'http://www.w3.org/2000/svg';

export function icon(name: IconName): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', PATHS[name]);
  svg.append(path);
  return svg;
}
