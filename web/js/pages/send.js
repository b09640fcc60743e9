// Send (送信): to another organization's representative, pinned by fingerprint; text and/or
// files as parts with labels; a CSV can be split into one part per value of a column (label
// column=value). Encrypted in the browser, then the header and the bodies are uploaded.
import { t } from '../i18n.js';
import { h, field, statusBox, fmtBytes, fingerprintEl, labelsText, confirmDialog, readFileBytes, now } from '../ui.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { errorText, userError } from '../errors.js';
import { pinnedRecord, directory } from '../orgs.js';
import { columns, splitByColumn } from '../csv.js';

const SEND_LIMIT = 256 * 1024 * 1024;

export default async function sendPage(root) {
  const s = session.current();
  const st = statusBox();
  root.append(h('h1', {}, t('send.title')));
  // Pinned by this member, or in the organization's verified partner list.
  const pins = session.trustedOrgs();
  const orgSel = h('select', { id: 'send-org', name: 'org' }, h('option', { value: '' }, t('send.chooseOrg')),
    Object.entries(pins).map(([id, name]) => h('option', { value: id }, `${name} (${id.slice(0, 16)}…)`)));
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

  orgSel.addEventListener('change', async () => {
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
        ' ', fingerprintEl(m.verified.fingerprint)))));
    } catch (e) { repBox.append(h('p', { class: 'status error', role: 'alert' }, errorText(e))); }
  });

  files.addEventListener('change', async () => {
    fileOpts.replaceChildren();
    for (const f of files.files) {
      if (!/\.csv$/i.test(f.name) || f.size > SEND_LIMIT) continue;
      const cols = columns(new TextDecoder().decode(await readFileBytes(f)));
      const sel = h('select', { name: `split-${f.name}`, dataset: { file: f.name } },
        h('option', { value: '' }, t('send.noSplit')), cols.map((c, i) => h('option', { value: String(i) }, c)));
      fileOpts.append(field(t('send.splitBy', { file: f.name }), sel, t('send.splitHint')));
    }
  });

  const form = h('form', { class: 'card', id: 'send-form' },
    field(t('send.org'), orgSel, t('send.orgHint')), h('p', {}, h('a', { href: '#/orgs' }, t('send.pinLink'))), repBox,
    field(t('send.titleLabel'), title), field(t('send.category'), category, t('send.categoryHint')),
    field(t('send.text'), text), field(t('send.textName'), textName),
    field(t('send.files'), files), fileOpts, field(t('send.labels'), labels, t('send.labelsHint')),
    h('div', { class: 'actions' }, btn), progress, st);
  root.append(form);

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
          const col = Number(sel.value);
          const csvText = new TextDecoder().decode(bytes);
          const colName = columns(csvText)[col];
          let groups;
          try { groups = splitByColumn(csvText, col); } catch (e) { throw userError('send.csvBad', { file: f.name, line: e.line || '?' }); }
          if (!groups.length) throw userError('send.csvEmpty', { file: f.name });
          const base = f.name.replace(/\.csv$/i, '');
          for (const g of groups) {
            parts.push({ name: `${base}_${g.value || 'blank'}.csv`, labels: { ...extra, [colName]: g.value }, data: new TextEncoder().encode(g.text) });
          }
        } else {
          parts.push({ name: f.name, labels: extra, data: bytes });
        }
      }
      if (!parts.length) throw userError('send.nothing');
      const total = parts.reduce((a, p) => a + p.data.length, 0);
      if (total > SEND_LIMIT) throw userError('send.tooLarge', { size: fmtBytes(total) });
      const summary = h('div', {}, h('p', {}, t('send.confirmTo', { org: org.name, rep: rep.verified.name })), fingerprintEl(rep.verified.fingerprint),
        h('ul', {}, parts.map((p) => h('li', {}, `${p.name} (${fmtBytes(p.data.length)})`, labelsText(p.labels) ? h('span', { class: 'tag' }, labelsText(p.labels)) : ''))));
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
    } catch (e) {
      st.show(errorText(e), 'error');
    } finally {
      btn.disabled = false;
    }
  });
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
