// Small DOM helpers shared by every page. No framework: elements are built with h().
import { t } from './i18n.js';

/** Create an element: h('button', {class: 'x', onclick: fn}, 'text', child…). */
// Unicode bidirectional controls (LRE…RLO, LRI…PDI, LRM, RLM, ALM) reorder what is shown:
// "invoice\u202Efdp.exe" would display as "invoiceexe.pdf". No Japanese or English name needs
// them, so every text the UI shows has them replaced by a visible marker.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
export function visibleText(s) {
  return String(s).replace(BIDI_CONTROLS, (c) => `[U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(visibleText(c)));
  }
  return el;
}

/** A labelled form field: the label is bound to the control by id. */
let fieldSeq = 0;
export function field(labelText, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, labelText), control, hintEl);
}

/** A status line (role=status) that pages update; errors use role=alert. */
export function statusBox() {
  const el = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
  el.show = (text, kind = 'info') => {
    el.className = `status ${kind}`;
    el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    // Strings get the same bidi masking as h(): a part name or label in a status line is
    // shown, never obeyed.
    el.replaceChildren(...(Array.isArray(text) ? text : [text]).map((c) => (c instanceof Node ? c : visibleText(c ?? ''))));
  };
  el.clear = () => { el.className = 'status'; el.replaceChildren(); };
  return el;
}

export function badge(kind, text) {
  return h('span', { class: `badge badge-${kind}` }, text ?? t(`status.${kind}`));
}

export function fmtTime(sec) {
  if (!sec) return '';
  const d = new Date(Number(sec) * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function fmtBytes(n) {
  n = Number(n) || 0;
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${u[i]}`;
}

/** A fingerprint in groups of four hex digits, for comparing by eye. */
export function fmtFingerprint(hex) {
  return String(hex || '').toLowerCase().replace(/[^0-9a-f]/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * The short comparison code of an organization: the first 32 hex digits of its fingerprint,
 * in eight groups of four — what a clerk reads out on the phone and what the lookup accepts
 * (the browser checks the typed digits against the organization's record). The full
 * fingerprint stays behind a toggle.
 */
export function comparisonCodeEl(hex, labelKey = 'fp.code') {
  const code = String(hex || '').toLowerCase().slice(0, 32);
  return h('div', { class: 'comparison-code' },
    h('p', {}, h('span', { class: 'label' }, t(labelKey)), ' ', fingerprintEl(code)),
    h('details', {}, h('summary', {}, t('fp.full')), fingerprintEl(hex)));
}

/** A fingerprint in groups of four that wrap only between groups, never inside one. */
export function fingerprintEl(hex) {
  const groups = fmtFingerprint(hex).split(' ');
  return h('code', { class: 'fp', title: hex }, groups.map((g, i) => [i ? ' ' : '', h('span', { class: 'fp-group' }, g)]));
}

export function labelsText(labels) {
  if (!labels) return '';
  if (Array.isArray(labels)) return labels.map((l) => (typeof l === 'string' ? l : `${l.key}=${l.value}`)).join(', ');
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ');
}

export function labelsObject(labels) {
  if (!labels) return {};
  if (Array.isArray(labels)) {
    const o = {};
    for (const l of labels) {
      if (typeof l === 'string') { const i = l.indexOf('='); if (i > 0) o[l.slice(0, i)] = l.slice(i + 1); }
      else if (l && l.key !== undefined) o[l.key] = l.value;
    }
    return o;
  }
  return { ...labels };
}

/** Save bytes as a download (small data only: key files, exports). */
export function saveBytes(bytes, name, type = 'application/octet-stream') {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function readFileBytes(file) {
  return file.arrayBuffer().then((b) => new Uint8Array(b));
}

/** Ask for confirmation in a modal dialog; resolves true/false. Keyboard: Esc cancels. */
export function confirmDialog(title, body, okText) {
  return new Promise((resolve) => {
    const ok = h('button', { class: 'primary', type: 'button' }, okText || t('common.ok'));
    const cancel = h('button', { type: 'button' }, t('common.cancel'));
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title' },
      h('h2', { id: 'dlg-title' }, title), h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'actions' }, ok, cancel));
    const done = (v) => { dlg.close(); dlg.remove(); resolve(v); };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(dlg);
    dlg.showModal();
    ok.focus();
  });
}

export function now() { return Math.floor(Date.now() / 1000); }

export function hexOf(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function onlyHex(s) { return String(s || '').toLowerCase().replace(/[^0-9a-f]/g, ''); }
