// Receipts (受領通知) for the sender: delivered, forwarded, downloaded, opened, recalled, expired, per
// envelope sent from this browser (or any envelope id the sender enters).
import { t } from '../i18n.js';
import { h, field, statusBox, fmtTime, badge } from '../ui.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { errorText } from '../errors.js';

export default async function receiptsPage(root) {
  root.append(h('h1', {}, t('receipts.title')), h('p', { class: 'lead' }, t('receipts.lead')));
  const sent = session.loadList('sent').slice().reverse();
  const input = h('input', { type: 'text', id: 'receipts-id', name: 'envelope', class: 'mono' });
  const show = h('button', { type: 'submit' }, t('receipts.show'));
  const out = h('div', { id: 'receipts-out' });
  const form = h('form', { class: 'toolbar' }, field(t('receipts.envelopeId'), input), show);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); if (input.value.trim()) load(input.value.trim(), out); });
  root.append(form, out);
  if (!sent.length) root.append(h('p', { class: 'muted' }, t('receipts.none')));
  for (const e of sent) {
    const box = h('div', {});
    root.append(h('section', { class: 'card', dataset: { envelope: e.envelopeId } },
      h('h2', {}, e.title || t('inbox.noTitle')),
      h('p', {}, t('receipts.sentTo', { org: e.orgName, rep: e.repName, time: fmtTime(e.time) })),
      h('p', { class: 'muted mono' }, e.envelopeId), box));
    load(e.envelopeId, box, e.parts || []);
  }
}

async function load(id, box, partNames = []) {
  // The sender's own list has the file names; numbers count from 1 for people.
  const partName = (i) => partNames[i] || t('forward.partNumber', { n: i + 1 });
  const st = statusBox();
  box.replaceChildren(st);
  st.show(t('common.loading'));
  try {
    const r = { receipts: (await api.getAllPages(`/v1/envelopes/${encodeURIComponent(id)}/receipts`, 'receipts')).sort((a, b) => a.time - b.time) };
    st.clear();
    const kindOf = { delivered: 'new', forwarded: 'forwarded', downloaded: 'opened', opened: 'opened', recalled: 'recalled', expired: 'expired' };
    box.append(h('table', { class: 'list receipts' }, h('thead', {}, h('tr', {},
      [t('receipts.col.kind'), t('receipts.col.time'), t('receipts.col.parts'), t('receipts.col.by'), t('receipts.col.holder')].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, r.receipts.map((x) => h('tr', { dataset: { kind: x.kind } },
      h('td', {}, badge(kindOf[x.kind] || 'new', t(`receipts.kind.${x.kind}`))), h('td', {}, fmtTime(x.time)),
      h('td', {}, x.parts.map(partName).join('、')), h('td', {}, x.by_roles.map((y) => t(`role.${y}`)).join('・')),
      h('td', {}, x.holder_roles.map((y) => t(`role.${y}`)).join('・')))))));
  } catch (e) {
    st.show(errorText(e), 'error');
  }
}
