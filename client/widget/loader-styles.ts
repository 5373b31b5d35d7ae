/**
 * The launcher's CSS, inside the closed shadow root. `all: initial !important` on the host: an
 * !important declaration inside a shadow tree beats the page's, so no page rule (not even `* {…}`)
 * reaches the widget, and the widget's rules never reach the page. Sizes are in px, never rem: rem
 * follows the page's root font size.
 */
export const LOADER_CSS = `
:host{all:initial!important}
.parley{--parley-primary:#1f5fbf;--parley-on-primary:#fff;--parley-background:#fff;--parley-text:#1b1f24;--parley-font:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font:15px/1.45 var(--parley-font);color:var(--parley-text)}
.parley *,.parley *::before,.parley *::after{box-sizing:border-box}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;padding:0;margin:0;border:0;border-radius:50%;background:var(--parley-primary);color:var(--parley-on-primary);cursor:pointer;display:grid;place-items:center;box-shadow:0 4px 14px rgba(0,0,0,.28);transition:transform .15s ease}
.launcher:hover{transform:scale(1.06)}
.launcher:focus{outline:none}
.launcher:focus-visible{box-shadow:0 0 0 3px #fff,0 0 0 6px var(--parley-primary),0 4px 14px rgba(0,0,0,.28)}
.parley[data-position=left] .launcher{right:auto;left:20px}
.parley[data-pending] .launcher{visibility:hidden}
.parley svg{width:26px;height:26px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.alert{position:fixed;right:20px;bottom:88px;z-index:2147483000;max-width:280px;margin:0;padding:10px 14px;border-radius:8px;background:#1b1f24;color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.28)}
.parley[data-position=left] .alert{right:auto;left:20px}
@media (max-width:480px){.parley[data-open] .launcher{display:none}}
@media (prefers-reduced-motion:reduce){.parley *{transition:none!important;animation:none!important}}
`;
