/** A site's theme as CSS custom properties on the widget's root element (inside the shadow root). */
import type { WidgetTheme } from '../../server/realtime/widget/protocol.js';

export function themeVariables(theme: WidgetTheme): Record<string, string> {
  return {
    '--parley-primary': theme.primaryColor,
    '--parley-on-primary': theme.primaryTextColor,
    '--parley-background': theme.backgroundColor,
    '--parley-text': theme.textColor,
    '--parley-font': theme.fontFamily,
  };
}

/** setProperty takes each value as one declaration's value, so a theme cannot add declarations. */
export function applyTheme(root: HTMLElement, theme: WidgetTheme): void {
  for (const [name, value] of Object.entries(themeVariables(theme))) root.style.setProperty(name, value);
  root.dataset.position = theme.position === 'left' ? 'left' : 'right';
}
