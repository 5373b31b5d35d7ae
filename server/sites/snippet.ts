/** The one tag a company pastes into its pages. */
export function embedSnippet(parleyUrl: string, publicKey: string): string {
  const src = new URL('/widget.js', parleyUrl).toString();
  return `<script src="${src}" data-site-key="${publicKey}" async></script>`;
}
