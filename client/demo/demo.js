// Fills in the status panel from Parley's /healthz. The page may be served from another origin
// than Parley (as a customer's site is): Parley's origin is the one the widget script comes from.
const list = document.querySelector('.status');
const widgetScript = document.querySelector('script[data-site-key]');
const parleyOrigin = widgetScript ? new URL(widgetScript.src, location.href).origin : location.origin;
const healthUrl = new URL('/healthz', parleyOrigin);

const show = (id, text) => {
  document.getElementById(id).textContent = text;
};

async function refresh() {
  try {
    const response = await fetch(healthUrl, { cache: 'no-store' });
    const health = await response.json();
    show('status-server', 'running');
    show('status-db', health.db === 'up' ? 'up' : 'down');
    show('status-model', health.model ?? 'none yet: train and promote one from the console');
  } catch {
    show('status-server', 'not reachable');
    show('status-db', 'unknown');
    show('status-model', 'unknown');
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

refresh();
setInterval(refresh, 15000);
