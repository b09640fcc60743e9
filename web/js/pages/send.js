// Send (送信): to another organization's representative, pinned by fingerprint; text and/or
// files as parts with labels; a CSV can be split into one part per value of a column (label
// column=value) by the wasm splitter the CLI's `send --split-by` also uses (UTF-8 with or
// without BOM, or Shift_JIS (CP932); files are read as bytes and every part keeps the original
// bytes). Encrypted in the browser, then the header and the bodies are uploaded.
import { t } from '../i18n.js';
import { h, field, statusBox, fmtBytes, fmtFingerprint, comparisonCodeEl, labelsText, confirmDialog, readFileBytes, now } from '../ui.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { errorText, userError } from '../errors.js';
import { pinnedRecord, directory } from '../orgs.js';
import { need } from '../wasm.js';

const SEND_LIMIT = 256 * 1024 * 1024;
// The core's limit for a title, a category and a part name, in UTF-8 bytes (limits::MAX_TEXT).
const MAX_TEXT_BYTES = 1024;

// What the member has typed and chosen, kept while the page is re-rendered (a language switch
// must not wipe a half-filled form); cleared once the envelope is sent.
let draft = null;

export default async function sendPage(root) {
  const s = session.current();
  const st = statusBox();
  root.append(h('h1', {}, t('send.title')));
  // Pinned by this member, or in the organization's verified partner list.
  const pins = session.trustedOrgs();
  const orgSel = h('select', { id: 'send-org', name: 'org' }, h('option', { value: '' }, t('send.chooseOrg')),
    Object.entries(pins).map(([id, name]) => h('option', { value: id }, t('send.orgOption', { name, code: fmtFingerprint(id.slice(0, 32)) }))));
  const repBox = h('div', { id: 'send-reps', 'aria-live': 'polite' });
  const title = h('input', { type: 'text', id: 'send-title', name: 'title' });
  const category = h('input', { type: 'text', id: 'send-category', name: 'category' });
  const text = h('textarea', { id: 'send-text', name: 'text', rows: 4 });
  const textName = h('input', { type: 'text', id: 'send-text-name', name: 'text-name', value: t('send.textDefaultName') });
  const files = h('input', { type: 'file', id: 'send-files', name: 'files', multiple: true });
  const fileOpts = h('div', { id: 'send-file-options' });
  const labels = h('input', { type: 'text', id: 'send-labels', name: 'labels', placeholder: 'team=jido' });
  const btn = h('button', { type: 'submit', class: 'primary', id: 'send-button' }, t('send.button'));
  const progress = h('progress', { id: 'send-progress', max: 1, value: 0, hidden: true });
  let org = null;
  let reps = [];
  // While a draft is being put back (the representatives and the CSV column pickers load
  // asynchronously), what is not on the page yet is kept from the draft.
  let restoring = null;
  const remember = () => {
    const splits = {};
    for (const sel of fileOpts.querySelectorAll('select[data-file]')) splits[sel.dataset.file] = sel.value;
    const rep = form.querySelector('input[name=rep]:checked')?.value || '';
    draft = { member: session.me()?.certId, org: orgSel.value, title: title.value, category: category.value, text: text.value,
      textName: textName.value, labels: labels.value, files: [...files.files],
      splits: restoring ? { ...restoring.splits, ...splits } : splits, rep: rep || (restoring ? restoring.rep : '') };
  };

  const loadReps = async () => {
    repBox.replaceChildren();
    org = null;
    reps = [];
    if (!orgSel.value) return;
    try {
      const record = await pinnedRecord(orgSel.value);
      org = { id: orgSel.value, record, name: pins[orgSel.value] };
      reps = (await directory(org.id, record)).filter((m) => m.usable && m.verified.roles.includes('representative'));
      if (!reps.length) { repBox.append(h('p', { class: 'status error' }, t('send.noRep'))); return; }
      repBox.append(h('fieldset', {}, h('legend', {}, t('send.rep')), reps.map((m, i) =>
        h('div', { class: 'rep' }, h('label', { class: 'inline' },
          h('input', { type: 'radio', name: 'rep', value: m.info.cert_id, checked: i === 0 }), ' ', h('strong', {}, m.verified.name)),
        ' ', comparisonCodeEl(m.verified.fingerprint, 'fp.shortCode')))));
    } catch (e) { repBox.append(h('p', { class: 'status error', role: 'alert' }, errorText(e))); }
  };
  orgSel.addEventListener('change', loadReps);

  const loadFileOpts = async () => {
    fileOpts.replaceChildren();
    for (const f of files.files) {
      if (!/\.csv$/i.test(f.name) || f.size > SEND_LIMIT) continue;
      fileOpts.append(await csvSplitField(f));
    }
  };
  files.addEventListener('change', loadFileOpts);

  const form = h('form', { class: 'card', id: 'send-form' },
    field(t('send.org'), orgSel, t('send.orgHint')), h('p', {}, h('a', { href: '#/orgs' }, t('send.pinLink'))), repBox,
    field(t('send.titleLabel'), title), field(t('send.category'), category, t('send.categoryHint')),
    field(t('send.text'), text), field(t('send.textName'), textName),
    field(t('send.files'), files), fileOpts, field(t('send.labels'), labels, t('send.labelsHint')),
    h('div', { class: 'actions' }, btn), progress, st);
  root.append(form);
  form.addEventListener('input', remember);
  form.addEventListener('change', remember);
  if (draft && draft.member !== session.me()?.certId) draft = null;
  if (draft) {
    const d = draft;
    restoring = d;
    title.value = d.title; category.value = d.category; text.value = d.text; textName.value = d.textName; labels.value = d.labels;
    const waits = [];
    if (d.files.length) {
      const dt = new DataTransfer();
      for (const f of d.files) dt.items.add(f);
      files.files = dt.files;
      // The split column chosen for each CSV file, once its picker is there again.
      waits.push(loadFileOpts().then(() => {
        for (const sel of fileOpts.querySelectorAll('select[data-file]')) {
          const v = (d.splits || {})[sel.dataset.file];
          if (v && [...sel.options].some((o) => o.value === v)) {
            sel.value = v;
            sel.dispatchEvent(new Event('change'));
          }
        }
      }));
    }
    if (d.org && [...orgSel.options].some((o) => o.value === d.org)) {
      orgSel.value = d.org;
      // The representative chosen, not the first of the list.
      waits.push(loadReps().then(() => {
        const radio = [...repBox.querySelectorAll('input[name=rep]')].find((r) => r.value === d.rep);
        if (radio) radio.checked = true;
      }));
    }
    // Not awaited: the submit handler below must be in place at once.
    Promise.all(waits).then(() => { restoring = null; remember(); });
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    st.clear();
    try {
      if (!org) throw userError('send.chooseOrg');
      const repId = form.querySelector('input[name=rep]:checked')?.value;
      const rep = reps.find((m) => m.info.cert_id === repId);
      if (!rep) throw userError('send.noRep');
      const extra = parseLabels(labels.value);
      const parts = [];
      if (text.value) parts.push({ name: textName.value.trim() || t('send.textDefaultName'), labels: extra, data: new TextEncoder().encode(text.value) });
      for (const f of files.files) {
        const bytes = await readFileBytes(f);
        const sel = fileOpts.querySelector(`select[data-file="${CSS.escape(f.name)}"]`);
        if (sel && sel.value !== '') {
          const split = splitCsv(bytes, f.name, Number(sel.value));
          for (const g of split.parts) {
            parts.push({ name: g.name, labels: { ...extra, [split.column]: g.value }, data: g.bytes });
          }
          bytes.fill(0);
        } else {
          parts.push({ name: f.name, labels: extra, data: bytes });
        }
      }
      if (!parts.length) throw userError('send.nothing');
      // Lengths are checked before anything is confirmed, and said in characters.
      const tooLong = (label, v) => {
        if (new TextEncoder().encode(v).length > MAX_TEXT_BYTES) {
          throw userError('send.textTooLong', { field: label, chars: [...v].length });
        }
      };
      tooLong(t('send.titleLabel'), title.value);
      tooLong(t('send.category'), category.value);
      for (const p of parts) tooLong(t('send.partName'), p.name);
      const empty = parts.filter((p) => p.data.length === 0);
      const total = parts.reduce((a, p) => a + p.data.length, 0);
      if (total > SEND_LIMIT) throw userError('send.tooLarge', { size: fmtBytes(total) });
      const summary = h('div', {}, h('p', {}, t('send.confirmTo', { org: org.name, rep: rep.verified.name })), comparisonCodeEl(rep.verified.fingerprint, 'fp.shortCode'),
        h('ul', {}, parts.map((p) => h('li', {}, `${p.name} (${fmtBytes(p.data.length)})`, labelsText(p.labels) ? h('span', { class: 'tag' }, labelsText(p.labels)) : ''))),
        empty.length ? h('p', { class: 'warn-text', id: 'send-empty-warning' }, t('send.emptyFiles', { names: empty.map((p) => p.name).join('、') })) : '');
      if (!await confirmDialog(t('send.confirmTitle'), summary, t('send.button'))) return;
      btn.disabled = true;
      st.show(t('send.encrypting'));
      const enc = s.encrypt({ recipientOrg: org.record, recipientCert: rep.certificate, title: title.value, category: category.value, parts }, now());
      for (const p of parts) p.data.fill(0);
      const action = s.actionSend(enc.envelopeId, rep.info.cert_id, enc.header);
      st.show(t('send.uploading'));
      const up = await (await api.request('POST', '/v1/envelopes', { action, body: enc.header })).json();
      if (up.envelope_id !== enc.envelopeId || Number(up.bodies_len) !== Number(enc.bodiesLength)) throw userError('send.serverMismatch');
      progress.hidden = false;
      progress.max = Number(enc.bodiesLength) || 1;
      const start = Number(enc.bodiesOffset);
      const bodies = enc.envelope.subarray(start, start + Number(enc.bodiesLength));
      const done = await api.putWithProgress(`/v1/uploads/${up.upload_id}`, bodies, (n) => { progress.value = n; });
      const list = session.loadList('sent');
      list.push({ envelopeId: enc.envelopeId, deliveryId: done && done.delivery_id, title: title.value, orgName: org.name, repName: rep.verified.name, parts: parts.map((p) => p.name), time: now() });
      session.saveList('sent', list);
      st.show(t('send.done', { id: enc.envelopeId }), 'ok');
      form.dataset.sent = enc.envelopeId;
      // Sent: the form is emptied (the organization stays chosen), so a second click cannot
      // send the same document twice by mistake.
      title.value = ''; category.value = ''; text.value = ''; labels.value = '';
      textName.value = t('send.textDefaultName');
      files.value = '';
      fileOpts.replaceChildren();
      draft = null;
    } catch (e) {
      st.show(errorText(e), 'error');
    } finally {
      btn.disabled = false;
    }
  });
}

/** The wasm splitter; a refusal becomes a sentence in the UI language naming the file. */
function splitCsv(bytes, fileName, column) {
  try {
    return column === undefined ? need().csvColumns(bytes) : need().splitCsv(bytes, fileName, column);
  } catch (e) {
    if (!e || !e.csv) throw e;
    throw userError('send.csvRefused', { file: fileName, reason: t(`csv.err.${e.csv.code}`, e.csv) });
  }
}

/**
 * The column picker of one CSV file: its detected encoding next to it, and a preview of the
 * parts (name, label, rows) once a column is chosen. Reads the file as bytes, never as text.
 */
async function csvSplitField(f) {
  const box = h('div', { class: 'csv-split', dataset: { file: f.name } });
  const bytes = await readFileBytes(f);
  let info;
  try {
    info = splitCsv(bytes, f.name);
  } catch (e) {
    box.append(h('p', { class: 'status error csv-refused', role: 'alert' }, errorText(e)));
    return box;
  }
  const sel = h('select', { name: `split-${f.name}`, dataset: { file: f.name } },
    h('option', { value: '' }, t('send.noSplit')),
    info.columns.map((c, i) => h('option', { value: String(i + 1) }, c || t('send.csvUnnamed', { n: i + 1 }))));
  const enc = h('p', { class: 'hint csv-encoding', dataset: { encoding: info.encoding } },
    t('send.csvEncoding', { encoding: t(`csv.enc.${info.encoding}`) }));
  const preview = h('div', { class: 'csv-preview', 'aria-live': 'polite' });
  sel.addEventListener('change', () => {
    preview.replaceChildren();
    if (sel.value === '') return;
    try {
      const split = splitCsv(bytes, f.name, Number(sel.value));
      preview.append(h('p', {}, t('send.csvPreview', { count: split.parts.length, column: split.column })),
        h('ul', { class: 'csv-parts' }, split.parts.map((p) => h('li', { dataset: { part: p.name } },
          h('strong', {}, p.name), ' ', h('span', { class: 'tag' }, `${split.column}=${p.value || t('send.csvBlankValue')}`),
          ' ', t('send.csvRows', { rows: p.rows })))),
        split.blankLines ? h('p', { class: 'hint' }, t('send.csvBlankLines', { n: split.blankLines })) : '');
    } catch (e) {
      preview.append(h('p', { class: 'status error', role: 'alert' }, errorText(e)));
    }
  });
  const fieldEl = field(t('send.splitBy', { file: f.name }), sel, t('send.splitHint'));
  enc.id = `${sel.id}-encoding`;
  sel.setAttribute('aria-describedby', `${sel.getAttribute('aria-describedby') || ''} ${enc.id}`.trim());
  fieldEl.append(enc);
  box.append(fieldEl, preview);
  return box;
}

function parseLabels(text) {
  const out = {};
  for (const item of String(text || '').split(/[,、\n]/)) {
    const s = item.trim();
    if (!s) continue;
    const i = s.indexOf('=');
    if (i <= 0) throw userError('send.labelBad', { label: s });
    out[s.slice(0, i).trim()] = s.slice(i + 1).trim();
  }
  return out;
}
