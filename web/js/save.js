// Where decrypted plaintext goes, without holding a large file in memory:
//  - 'picker': the File System Access API (showSaveFilePicker), written chunk by chunk;
//  - 'stream': a Service Worker streamed download (web/sw.js);
//  - 'blob'  : an in-memory Blob, only for files under 32 MiB.
// 'auto' picks the first available in that order (blob only when small enough).
import { h } from './ui.js';
import { userError } from './errors.js';
import { need } from './wasm.js';

export const BLOB_LIMIT = 32 * 1024 * 1024;

let swReady = null;
export function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return Promise.resolve(null);
  swReady = navigator.serviceWorker.register('/sw.js', { scope: '/' })
    .then(() => navigator.serviceWorker.ready)
    .catch(() => null);
  return swReady;
}

export function saveMode() { return localStorage.getItem('soshiki.saveMode') || 'auto'; }
export function setSaveMode(m) { localStorage.setItem('soshiki.saveMode', m); }

export function pickerAvailable() { return typeof window.showSaveFilePicker === 'function'; }

async function serviceWorker() {
  if (!swReady) return null;
  const reg = await Promise.race([swReady, new Promise((r) => setTimeout(() => r(null), 3000))]);
  return reg && reg.active ? reg.active : null;
}

function ask(worker, msg, transfer) {
  return new Promise((resolve, reject) => {
    const ch = new MessageChannel();
    const timer = setTimeout(() => reject(new Error('service worker did not answer')), 5000);
    ch.port1.onmessage = (e) => { clearTimeout(timer); resolve(e.data); };
    worker.postMessage(msg, [ch.port2, ...(transfer || [])]);
  });
}

/**
 * Open a sink for `name` of `size` bytes. Must be called at the start of a click handler (the
 * file picker needs the user's gesture). Returns {mode, write(u8), close(), abort()}.
 */
export async function openSink(name, size, mode = saveMode()) {
  // Whatever the caller passed, only a name allowed by the one part-name policy is suggested
  // to the browser (idempotent on names already made safe).
  name = need().safePartName(String(name || ''), 0);
  if (mode === 'auto') {
    if (pickerAvailable()) mode = 'picker';
    else if (await serviceWorker()) mode = 'stream';
    else mode = 'blob';
  }
  if (mode === 'picker') {
    const handle = await window.showSaveFilePicker({ suggestedName: name });
    const w = await handle.createWritable();
    return {
      mode,
      write: (c) => w.write(c),
      close: () => w.close(),
      abort: () => w.abort().catch(() => {}),
    };
  }
  if (mode === 'stream') {
    const worker = await serviceWorker();
    if (!worker) throw userError('save.noStream');
    const ts = new TransformStream(undefined, { highWaterMark: 4 }, { highWaterMark: 4 });
    const writer = ts.writable.getWriter();
    const id = crypto.randomUUID();
    await ask(worker, { type: 'download', id, name, size, stream: ts.readable }, [ts.readable]);
    const frame = h('iframe', { hidden: true, title: 'download', src: `/__soshiki_download/${id}` });
    document.body.append(frame);
    setTimeout(() => frame.remove(), 10 * 60_000);
    return {
      mode,
      write: async (c) => { await writer.ready; await writer.write(c); },
      close: () => writer.close(),
      abort: () => writer.abort(new Error('decryption failed')).catch(() => {}),
    };
  }
  if (size > BLOB_LIMIT) throw userError('save.tooLargeForBlob');
  const chunks = [];
  return {
    mode: 'blob',
    write: async (c) => { chunks.push(c.slice()); },
    close: async () => {
      const url = URL.createObjectURL(new Blob(chunks, { type: 'application/octet-stream' }));
      chunks.length = 0;
      const a = h('a', { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    },
    abort: async () => { chunks.length = 0; },
  };
}
