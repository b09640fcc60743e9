// Service worker: streamed downloads. The page decrypts a part into a ReadableStream and hands
// the stream here (postMessage, transferred); a hidden frame then asks for
// /__soshiki_download/<id>, answered with that stream as an attachment. The plaintext goes
// from the page to the browser's download manager chunk by chunk, never whole in memory, and
// never over the network. Nothing else is intercepted.
const PREFIX = '/__soshiki_download/';
const pending = new Map();

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  const msg = event.data || {};
  const port = event.ports && event.ports[0];
  if (msg.type === 'download' && typeof msg.id === 'string' && msg.stream) {
    pending.set(msg.id, { stream: msg.stream, name: msg.name, size: msg.size });
    // Forget a download nobody fetched within a minute.
    setTimeout(() => pending.delete(msg.id), 60_000);
    if (port) port.postMessage({ ok: true });
  } else if (msg.type === 'ping' && port) {
    port.postMessage({ ok: true });
  }
});

function contentDisposition(name) {
  const ascii = String(name || 'download').replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name || 'download')}`;
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(PREFIX)) return;
  const id = url.pathname.slice(PREFIX.length);
  const item = pending.get(id);
  if (!item) {
    event.respondWith(new Response('download expired', { status: 404 }));
    return;
  }
  pending.delete(id);
  const headers = {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': contentDisposition(item.name),
    'X-Content-Type-Options': 'nosniff',
  };
  if (Number.isFinite(item.size)) headers['Content-Length'] = String(item.size);
  event.respondWith(new Response(item.stream, { headers }));
});
