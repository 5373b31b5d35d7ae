// Fills in the status panel from /healthz.
const list = document.querySelector('.status');
const show = (id, text) => {
  document.getElementById(id).textContent = text;
};

async function refresh() {
  try {
    const response = await fetch('/healthz', { cache: 'no-store' });
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
