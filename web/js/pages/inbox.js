// Inbox (受信箱): deliveries with their sealed routing metadata opened in the browser, sender
// organization and verified sender, hop chain, status badges; filter and sort.
import { t } from '../i18n.js';
import { h, statusBox, badge, fmtTime, labelsText, visibleText } from '../ui.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { errorText } from '../errors.js';
import { loadMeta, canForward, canOpen, orgIdOf, orgNameOf, hopText } from '../meta.js';

const STATUS_KIND = { delivered: 'new', forwarded: 'forwarded', opened: 'opened', recalled: 'recalled', expired: 'expired' };

export default async function inboxPage(root, _args, ctx) {
  const st = statusBox();
  const filter = h('select', { id: 'inbox-filter', name: 'filter' },
    ['all', 'new', 'forwarded', 'opened', 'recalled', 'expired'].map((k) => h('option', { value: k }, t(`inbox.filter.${k}`))));
  const sort = h('select', { id: 'inbox-sort', name: 'sort' },
    ['newest', 'oldest', 'title', 'sender'].map((k) => h('option', { value: k }, t(`inbox.sort.${k}`))));
  const search = h('input', { type: 'search', id: 'inbox-search', name: 'search', placeholder: t('inbox.searchPlaceholder') });
  const reload = h('button', { type: 'button' }, t('common.reload'));
  const tbody = h('tbody');
  const table = h('table', { class: 'list', id: 'inbox-table' },
    h('caption', { class: 'sr-only' }, t('inbox.title')),
    h('thead', {}, h('tr', {}, ['status', 'received', 'title', 'sender', 'parts', 'hops', 'actions']
      .map((c) => h('th', { scope: 'col' }, t(`inbox.col.${c}`))))), tbody);
  root.append(h('h1', {}, t('inbox.title')),
    h('div', { class: 'toolbar' },
      h('label', { for: 'inbox-filter' }, t('inbox.filterLabel')), filter,
      h('label', { for: 'inbox-sort' }, t('inbox.sortLabel')), sort,
      h('label', { for: 'inbox-search' }, t('inbox.searchLabel')), search, reload),
    st, table);

  let rows = [];
  const render = () => {
    const f = filter.value;
    const q = search.value.trim().toLowerCase();
    let list = rows.filter((r) => f === 'all' || STATUS_KIND[r.d.status] === f);
    if (q) list = list.filter((r) => r.text().toLowerCase().includes(q));
    const key = sort.value;
    list.sort((a, b) => {
      if (key === 'oldest') return a.d.created - b.d.created;
      if (key === 'title') return (a.meta?.title || '').localeCompare(b.meta?.title || '');
      if (key === 'sender') return a.senderText().localeCompare(b.senderText());
      return b.d.created - a.d.created;
    });
    tbody.replaceChildren(...list.map((r) => r.tr));
    if (!list.length) tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t(rows.length ? 'inbox.empty' : 'inbox.emptyAll'))));
  };
  filter.addEventListener('change', render);
  sort.addEventListener('change', render);
  search.addEventListener('input', render);

  const load = async () => {
    st.show(t('common.loading'));
    try {
      const deliveries = await api.getAllPages('/v1/inbox', 'deliveries');
      rows = deliveries.map((d) => makeRow(d));
      render();
      st.clear();
      // Open the sealed metadata a few deliveries at a time.
      const queue = rows.slice();
      await Promise.all(Array.from({ length: 4 }, async () => {
        while (queue.length) await queue.shift().fill(render);
      }));
    } catch (e) {
      st.show(errorText(e), 'error');
    }
  };
  reload.addEventListener('click', load);
  await load();
  void ctx;
}

function makeRow(d) {
  const row = { d, meta: null, error: null };
  const kind = STATUS_KIND[d.status] || d.status;
  const tdTitle = h('td', { class: 'title' }, h('span', { class: 'muted' }, t('common.loading')));
  const tdSender = h('td', {}, d.sender_org_name, h('br'), h('span', { class: 'muted' }, d.sender_name));
  const tdParts = h('td', {}, t('inbox.partsCount', { n: d.parts.length }));
  const tdHops = h('td', {});
  const actions = h('td', { class: 'actions' });
  if (canOpen(d)) actions.append(h('a', { class: 'button primary', href: `#/open/${d.id}` }, t('inbox.open')));
  if (canForward(d)) actions.append(h('a', { class: 'button', href: `#/forward/${d.id}` }, t('inbox.forward')));
  if ((session.hasRole('forwarder') || session.hasRole('representative')) && d.status !== 'recalled' && !canForward(d) && d.status !== 'expired') {
    actions.append(h('a', { class: 'button', href: `#/forward/${d.id}` }, t('inbox.forwards')));
  }
  const statusCell = h('td', {}, badge(kind));
  if (d.status === 'delivered' && d.forwardable_parts.length && d.forwardable_parts.length < d.parts.length) {
    statusCell.append(' ', badge('partial', t('status.partial')));
  }
  row.tr = h('tr', { dataset: { delivery: d.id, status: d.status } },
    statusCell, h('td', {}, fmtTime(d.created)), tdTitle, tdSender, tdParts, tdHops, actions);
  row.senderText = () => `${d.sender_org_name} ${d.sender_name}`;
  row.text = () => [row.meta?.title, row.meta?.category, d.sender_org_name, d.sender_name,
    ...(row.meta?.parts || []).map((p) => `${p.name} ${labelsText(p.labels)}`)].join(' ');
  row.fill = async (rerender) => {
    try {
      row.meta = await loadMeta(d);
    } catch (e) {
      row.error = e;
    }
    const m = row.meta;
    if (m) {
      tdTitle.replaceChildren(h('strong', {}, m.title || t('inbox.noTitle')),
        m.category ? h('span', { class: 'tag' }, m.category) : '');
      const senderOrg = orgIdOf(m.senderOrg);
      const pinned = senderOrg && session.isPinned(senderOrg);
      tdSender.replaceChildren(visibleText(orgNameOf(m) || d.sender_org_name), ' ',
        pinned ? badge('verified', t('inbox.orgPinned')) : badge('unpinned', t('inbox.orgNotPinned')),
        h('br'), h('span', {}, m.senderName || d.sender_name, ' ', badge('verified', t('inbox.senderVerified'))));
      const mine = new Set(d.parts);
      tdParts.replaceChildren(h('ul', { class: 'plain parts' }, (m.parts || []).filter((p) => mine.has(p.index)).map((p) =>
        h('li', {}, p.name, p.labels && labelsText(p.labels) ? h('span', { class: 'tag' }, labelsText(p.labels)) : ''))));
      const hops = m.hops || [];
      tdHops.replaceChildren(hops.length ? h('ol', { class: 'hops' }, hops.map((x) => h('li', {}, hopText(x)))) : h('span', { class: 'muted' }, t('inbox.noHops')));
    } else if (row.error) {
      tdTitle.replaceChildren(h('span', { class: 'error-text' }, errorText(row.error)));
    } else if (d.status === 'recalled' || d.status === 'expired') {
      tdTitle.replaceChildren(h('span', { class: 'muted' }, t(`inbox.gone.${d.status}`)));
    } else {
      tdTitle.replaceChildren(h('span', { class: 'muted' }, t('inbox.sealed')));
    }
    rerender();
  };
  return row;
}
