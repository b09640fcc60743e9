// Open (開封): verify the header in the browser, then stream the delivery's envelope body from
// the server into the part decryptor and write the plaintext straight to disk (file picker or
// Service Worker download), never holding a large file in memory. Marks the delivery opened
// once a part was decrypted and its signed digest checked.
import { t } from '../i18n.js';
import { h, statusBox, badge, fmtBytes, labelsText, now } from '../ui.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { need } from '../wasm.js';
import { errorText, userError } from '../errors.js';
import { openSink, saveMode, setSaveMode, pickerAvailable } from '../save.js';
import { forget, orgIdOf, orgNameOf, hopText } from '../meta.js';

export default async function openPage(root, args) {
  const id = args[0];
  const st = statusBox();
  root.append(h('h1', {}, t('open.title')), st);
  const s = session.current();
  let d;
  let header;
  let info;
  try {
    d = await api.getJson(`/v1/deliveries/${id}`);
    header = await api.getBytes(`/v1/deliveries/${id}/header`);
    const opener = s.beginOpen(header, now());
    try { info = opener.info(); } finally { opener.free(); }
    if (info.envelopeId !== d.envelope_id) throw userError('open.otherEnvelope');
  } catch (e) {
    st.show(errorText(e), 'error');
    return;
  }
  const senderOrg = orgIdOf(info.senderOrg);
  root.append(h('section', { class: 'card' },
    h('h2', {}, info.title || t('inbox.noTitle'), info.category ? h('span', { class: 'tag' }, info.category) : ''),
    h('p', {}, t('open.sender', { org: orgNameOf(info) || d.sender_org_name, name: info.senderName || d.sender_name }), ' ',
      badge('verified', t('inbox.senderVerified')), ' ',
      session.isPinned(senderOrg) ? badge('verified', t('inbox.orgPinned')) : badge('unpinned', t('inbox.orgNotPinned'))),
    (info.hops || []).length ? h('ol', { class: 'hops' }, info.hops.map((x) => h('li', {}, hopText(x)))) : ''));

  const mode = h('select', { id: 'save-mode', name: 'save-mode' },
    ['auto', 'picker', 'stream', 'blob'].map((m) => h('option', { value: m, selected: saveMode() === m, disabled: m === 'picker' && !pickerAvailable() }, t(`save.mode.${m}`))));
  mode.addEventListener('change', () => setSaveMode(mode.value));
  const mine = new Set(d.parts);
  const parts = (info.parts || []).filter((p) => mine.has(p.index));
  const progress = h('progress', { max: 1, value: 0, id: 'open-progress', hidden: true });
  const tbody = h('tbody', {}, parts.map((p) => {
    const btn = h('button', { type: 'button', class: 'primary', dataset: { part: p.index } }, t('open.save'));
    btn.addEventListener('click', () => savePart(p, btn));
    return h('tr', {}, h('td', {}, p.name), h('td', {}, labelsText(p.labels)), h('td', {}, fmtBytes(p.length)), h('td', {}, btn));
  }));
  root.append(h('section', { class: 'card' }, h('h2', {}, t('open.partsTitle')),
    // One way to save for clerks (automatic: chosen by size and browser); the others stay
    // behind a toggle for the help desk.
    h('details', { class: 'save-options', id: 'save-options' }, h('summary', {}, t('save.more')),
      h('div', { class: 'toolbar' }, h('label', { for: 'save-mode' }, t('save.modeLabel')), mode),
      h('p', { class: 'hint' }, t('save.autoHint'))),
    h('table', { class: 'list', id: 'open-parts' }, h('thead', {}, h('tr', {},
      [t('forward.col.name'), t('forward.col.labels'), t('open.size'), ''].map((c) => h('th', { scope: 'col' }, c)))), tbody),
    progress));

  let marked = d.status === 'opened';
  async function savePart(p, btn) {
    st.clear();
    btn.disabled = true;
    let sink = null;
    let opener = null;
    let dec = null;
    try {
      sink = await openSink(safeFileName(p.name, p.index), Number(p.length));
      opener = s.beginOpen(header, now());
      dec = opener.part(p.index);
      st.show(t('open.working', { name: p.name }));
      progress.hidden = false;
      progress.max = Number(p.cipherLength) || 1;
      progress.value = 0;
      const start = Number(p.offset);
      const end = start + Number(p.cipherLength);
      const resp = await api.request('GET', `/v1/deliveries/${id}/envelope`);
      const reader = resp.body.getReader();
      // Plaintext is written in batches of about 1 MiB (fewer, larger writes to the sink).
      const batch = [];
      let batched = 0;
      const flush = async () => {
        if (!batched) return;
        const buf = batch.length === 1 ? batch[0] : concat(batch, batched);
        batch.length = 0;
        batched = 0;
        await sink.write(buf);
      };
      let pos = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const cs = pos;
        pos += value.length;
        if (pos <= start) continue;
        const slice = value.subarray(Math.max(0, start - cs), Math.min(value.length, end - cs));
        const out = dec.push(slice);
        if (out.length) { batch.push(out); batched += out.length; }
        if (batched >= 1 << 20) await flush();
        progress.value = Math.min(pos, end) - start;
        if (pos >= end) { reader.cancel().catch(() => {}); break; }
      }
      if (pos < end) throw userError('open.truncated');
      const last = dec.finish();
      if (last.length) { batch.push(last); batched += last.length; }
      await flush();
      await sink.close();
      sink = null;
      if (!marked) {
        await api.request('POST', `/v1/deliveries/${id}/opened`, { action: s.actionOpen(id, d.envelope_id) });
        marked = true;
        forget(id);
      }
      st.show(t('open.saved', { name: p.name }), 'ok');
      btn.dataset.saved = '1';
    } catch (e) {
      if (sink) await sink.abort();
      st.show(e && e.name === 'AbortError' ? t('open.cancelled') : errorText(e), 'error');
    } finally {
      if (dec) try { dec.free(); } catch (_) { /* freed by finish */ }
      if (opener) opener.free();
      btn.disabled = false;
    }
  }
}

function concat(chunks, total) {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

// The one part-name policy of every client (soshiki_client::names, through wasm): no
// directory, no dotfile, no control or bidirectional character, no Windows reserved name.
function safeFileName(name, index) {
  return need().safePartName(String(name || ''), index);
}
