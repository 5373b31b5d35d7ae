/**
 * A small element builder. Children given as strings become text nodes: the widget never parses
 * HTML, so no message, text or theme value can inject markup.
 */
type AttributeValue = string | number | boolean | null | undefined;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, AttributeValue> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) setAttribute(element, name, value);
  element.append(...children);
  return element;
}

/** false, null and undefined remove the attribute; true sets it empty (boolean attributes). */
export function setAttribute(element: Element, name: string, value: AttributeValue): void {
  if (value === false || value === null || value === undefined) element.removeAttribute(name);
  else element.setAttribute(name, value === true ? '' : String(value));
}
