// Forward (転送, model 2): pick parts and targets from the organization's directory
// (certificates verified in the browser, fingerprints shown), confirm, re-encrypt
// (再暗号化: the browser makes re-encryption shares from the forwarding request, which holds no
// part's C1), post. Lists the forwards made from this delivery with a recall (取り消し) button
// while unopened; recalled parts can be forwarded again.
import { t } from '../i18n.js';
import { h, statusBox, badge, fmtTime, labelsText, labelsObject, comparisonCodeEl, confirmDialog, now, visibleText } from '../ui.js';
import { need } from '../wasm.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { errorText, userError, explained } from '../errors.js';
import { directory, certifiedMember } from '../orgs.js';
import { forget, orgNameOf, hopText } from '../meta.js';

// A message shown on the next rendering of this page (after a forward or a recall).
let flash = null;

export default async function forwardPage(root, args, { go }) {
  const id = args[0];
  const st = statusBox();
  root.append(h('h1', {}, t('forward.title')), st);
  if (flash) { st.show(flash, 'ok'); flash = null; }
  if (!id) { st.show(t('forward.noDelivery'), 'error'); return; }
  const s = session.current();
  const me = session.me();
  let d;
  try {
    d = await api.getJson(`/v1/deliveries/${id}`);
  } catch (e) { st.show(errorText(e), 'error'); return; }

  const forwardable = d.forwardable_parts || [];
  const myRecord = s.organizationRecord();
  let view = null;
  if (d.status === 'delivered' && forwardable.length) {
    try {
      const req = await api.getBytes(`/v1/deliveries/${id}/forwarding-request`);
      view = s.forwardView(req, now());
      if (view.envelopeId !== d.envelope_id) throw userError('forward.otherEnvelope');
    } catch (e) { st.show(errorText(e), 'error'); }
  }
  // Nothing left to forward (every part forwarded onward): the title, part names and labels
  // still come from the delivery's metadata copy, sealed to this member's own key.
  let meta = view;
  if (!meta && ['delivered', 'opened', 'forwarded'].includes(d.status)) {
    try {
      meta = s.readMetadata(await api.getBytes(`/v1/deliveries/${id}/metadata`), now());
      if (meta.envelopeId !== d.envelope_id) throw userError('forward.otherEnvelope');
    } catch (e) { meta = null; st.show(errorText(e), 'error'); }
  }
  if (meta) {
    root.append(h('section', { class: 'card' },
      h('h2', {}, meta.title || t('inbox.noTitle'), meta.category ? h('span', { class: 'tag' }, meta.category) : ''),
      h('p', {}, t('forward.from', { org: orgNameOf(meta) || d.sender_org_name, name: meta.senderName || d.sender_name })),
      (meta.hops || []).length ? h('ol', { class: 'hops' }, meta.hops.map((x) => h('li', {}, hopText(x)))) : ''));
  }
  // Names of parts already forwarded: the forwarding request lists only those still
  // forwardable, so the metadata copy names the others.
  let named = meta;
  const known = (i) => named && (named.parts || []).some((x) => x.index === i);
  if (view && (d.forwards || []).some((f) => f.parts.some((i) => !known(i)))) {
    try {
      const copy = s.readMetadata(await api.getBytes(`/v1/deliveries/${id}/metadata`), now());
      if (copy.envelopeId === d.envelope_id) named = copy;
    } catch (_) { /* numbers instead of names */ }
  }
  const partName = (i) => {
    const p = named && (named.parts || []).find((x) => x.index === i);
    return p ? p.name : t('forward.partNumber', { n: i + 1 });
  };
  // A part in the forwards made: its name and its labels.
  const partItem = (i) => {
    const p = named && (named.parts || []).find((x) => x.index === i);
    const labels = p ? labelsText(p.labels) : '';
    return h('li', {}, partName(i), labels ? h('span', { class: 'tag' }, labels) : '');
  };

  // Directory: every member of my organization, verified against my key file's record.
  let members = [];
  try {
    members = (await directory(me.orgId, myRecord)).filter((m) => m.info.cert_id !== me.certId);
  } catch (e) { st.show(errorText(e), 'error'); }
  const usable = members.filter((m) => m.usable && (m.verified.roles || []).some((r) => r === 'reader' || r === 'forwarder' || r === 'representative'));

  if (view) {
    const selects = new Map();
    const offered = view.parts.filter((p) => forwardable.includes(p.index));
    const routing = await suggestedTargets(s, offered, view.category, usable);
    if (routing.note) root.append(h('p', { class: 'hint', id: 'forward-rules-note' }, routing.note));
    const rows = offered.map((p) => {
      const sel = h('select', { name: `target-${p.index}`, id: `target-${p.index}`, dataset: { part: p.index } },
        h('option', { value: '' }, t('forward.keep')),
        usable.map((m) => h('option', { value: m.info.cert_id }, `${m.verified.name} (${m.verified.fingerprintShort})`)));
      selects.set(p.index, sel);
      // Pre-filled from this member's own signed routing rules, and marked as such.
      const mark = h('span', { class: 'prefill', 'aria-live': 'polite' });
      const warn = h('p', { class: 'warn-text', 'aria-live': 'polite' });
      const suggested = routing.byPart.get(p.index);
      if (suggested) {
        sel.value = suggested;
        sel.dataset.prefilled = '1';
      }
      const update = () => {
        mark.replaceChildren(sel.value && sel.value === suggested ? badge('verified', t('forward.prefilled')) : '');
        const conds = sel.value ? routing.conditionsOf(sel.value) : [];
        const fits = !sel.value || !conds.length || routing.fits(sel.value, p);
        warn.replaceChildren(fits ? '' : visibleText(t('forward.labelMismatch', { labels: labelsText(p.labels) || '—', usual: conds.join(' / ') })));
      };
      sel.addEventListener('change', update);
      update();
      return h('tr', {}, h('td', {}, String(p.index + 1)), h('td', {}, h('label', { for: sel.id }, p.name)),
        h('td', {}, labelsText(p.labels)), h('td', {}, sel, ' ', mark, warn));
    });
    const btn = h('button', { type: 'button', class: 'primary', id: 'forward-button' }, t('forward.button'));
    root.append(h('section', { class: 'card' }, h('h2', {}, t('forward.partsTitle')),
      h('table', { class: 'list', id: 'forward-parts' }, h('thead', {}, h('tr', {},
        [t('forward.col.index'), t('forward.col.name'), t('forward.col.labels'), t('forward.col.target')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)), h('div', { class: 'actions' }, btn)));
    btn.addEventListener('click', async () => {
      st.clear();
      const groups = new Map();
      for (const [part, sel] of selects) {
        if (!sel.value) continue;
        if (!groups.has(sel.value)) groups.set(sel.value, []);
        groups.get(sel.value).push(part);
      }
      if (!groups.size) { st.show(t('forward.nothingChosen'), 'error'); return; }
      const plan = [...groups].map(([certId, parts]) => ({ certId, parts: parts.sort((a, b) => a - b), m: usable.find((u) => u.info.cert_id === certId) }));
      const summary = h('ul', {}, plan.map((g) => h('li', {},
        g.parts.map((p) => { const part = view.parts.find((x) => x.index === p); return `${part.name}${labelsText(part.labels) ? ` (${labelsText(part.labels)})` : ''}`; }).join(', '),
        ' → ', h('strong', {}, g.m.verified.name), comparisonCodeEl(g.m.verified.fingerprint, 'fp.shortCode'))));
      if (!await confirmDialog(t('forward.confirmTitle'), [h('p', {}, t('forward.confirmLead')), summary], t('forward.confirmOk'))) return;
      btn.disabled = true;
      st.show(t('forward.working'));
      try {
        const result = await doForward(s, d, plan);
        forget(id);
        flash = t('forward.done', { n: result.deliveries.length });
        go(`forward/${id}`);
      } catch (e) {
        st.show(errorText(e), 'error');
        btn.disabled = false;
      }
    });
  } else if (!st.classList.contains('error')) {
    root.append(h('p', { class: 'muted' }, t('forward.nothingLeft')));
  }

  // Directory with fingerprints.
  root.append(h('section', { class: 'card' }, h('h2', {}, t('forward.directory')),
    h('table', { class: 'list', id: 'directory' }, h('thead', {}, h('tr', {},
      [t('forward.col.member'), t('forward.col.roles'), t('forward.col.fp'), t('forward.col.check')].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, members.map((m) => h('tr', {}, h('td', {}, m.verified ? m.verified.name : m.info.name),
      h('td', {}, (m.verified ? m.verified.roles : m.info.role_names).map((r) => t(`role.${r}`)).join('・')),
      h('td', {}, comparisonCodeEl(m.verified ? m.verified.fingerprint : m.info.cert_id, 'fp.shortCode')),
      h('td', {}, m.verified ? (m.info.status === 'active' ? badge('verified', t('forward.certOk')) : badge('recalled', t(`memberStatus.${m.info.status}`)))
        : badge('bad', t('forward.certBad')), m.problem ? [' ', explained('', m.problem)] : '')))))));

  // Forwards made from this delivery (listed by the server, so any of the holder's devices
  // shows them), with recall while unopened.
  const nameOf = (cert) => {
    const m = members.find((u) => u.info.cert_id === cert);
    return m ? (m.verified ? m.verified.name : m.info.name) : cert.slice(0, 16);
  };
  const mine = (d.forwards || []).map((f) => ({ id: f.id, holderName: nameOf(f.holder_cert), parts: f.parts, time: f.created, status: f.status }));
  if (mine.length) {
    const tbody = h('tbody');
    root.append(h('section', { class: 'card' }, h('h2', {}, t('forward.madeTitle')),
      h('table', { class: 'list', id: 'forwards-made' }, h('thead', {}, h('tr', {},
        [t('forward.col.target'), t('forward.col.parts'), t('forward.col.time'), t('inbox.col.status'), ''].map((c) => h('th', { scope: 'col' }, c)))), tbody)));
    for (const f of mine) {
      const cell = h('td', {}, t('common.loading'));
      const act = h('td', {});
      tbody.append(h('tr', { dataset: { delivery: f.id } }, h('td', {}, f.holderName), h('td', {}, h('ul', { class: 'plain parts' }, f.parts.map(partItem))), h('td', {}, fmtTime(f.time)), cell, act));
      {
        const child = f;
        const kind = { delivered: 'new', forwarded: 'forwarded', opened: 'opened', recalled: 'recalled', expired: 'expired' }[child.status] || child.status;
        cell.replaceChildren(badge(kind, t(`forward.childStatus.${child.status}`)));
        if (child.status === 'delivered') {
          // Recall the whole forward, or — when it carries several parts — one part alone
          // (a part sent to the wrong officer, the others correctly).
          const recallButton = (parts) => {
            const label = parts ? t('forward.recallPart', { name: partName(parts[0]) }) : t('forward.recall');
            const rb = h('button', { type: 'button', class: 'danger small', dataset: { recall: f.id, parts: parts ? parts.join(',') : '' } }, label);
            rb.addEventListener('click', async () => {
              const what = parts ? t('forward.recallPartConfirm', { name: f.holderName, part: partName(parts[0]) }) : t('forward.recallConfirm', { name: f.holderName });
              if (!await confirmDialog(t('forward.recallTitle'), what, label)) return;
              rb.disabled = true;
              try {
                if (parts) {
                  await api.request('POST', `/v1/deliveries/${f.id}/recall`, { action: s.actionRecallParts(f.id, parts), json: { parts } });
                } else {
                  await api.request('POST', `/v1/deliveries/${f.id}/recall`, { action: s.actionRecall(f.id) });
                }
                forget(id);
                flash = t('forward.recalled');
                go(`forward/${id}`);
              } catch (e) { st.show(errorText(e), 'error'); rb.disabled = false; }
            });
            return rb;
          };
          act.append(recallButton(null));
          if (f.parts.length > 1) for (const p of f.parts) act.append(' ', recallButton([p]));
        }
      }
    }
  }
}

/**
 * Targets suggested by this member's routing rules — only rules its own key signed (the same
 * check as its agent); a rule whose target is not a usable member of the directory suggests
 * nothing. `fits(cert, part)`: whether any of that member's rules matches the part (a label
 * that disagrees with the officer's usual labels is warned about).
 */
async function suggestedTargets(s, parts, category, usable) {
  const none = { byPart: new Map(), conditionsOf: () => [], fits: () => true, note: '' };
  let got;
  try { got = await api.getJson('/v1/rules'); } catch (_) { return none; }
  if (!got.rules || !got.rules.length) return none;
  const check = s.verifyRules(got.rules, got.statement || null);
  if (check.state !== 'signed') return { ...none, note: t('forward.rulesUnsigned') };
  const sk = need();
  const asParts = (ps) => ps.map((p) => ({ index: p.index, name: p.name, labels: labelsObject(p.labels) }));
  const ok = new Set(usable.map((m) => m.info.cert_id));
  const byPart = new Map();
  for (const m of sk.testRules(got.rules, asParts(parts), category || null)) {
    if (m.target && ok.has(m.target)) byPart.set(m.part, m.target);
  }
  const rulesOf = (cert) => got.rules.filter((r) => r.split('->')[1]?.trim().toLowerCase() === cert);
  return {
    byPart,
    conditionsOf: (cert) => rulesOf(cert).map((r) => r.split('->')[0].trim()),
    fits: (cert, part) => sk.testRules(rulesOf(cert), asParts([part]), category || null).some((m) => m.target === cert),
    note: byPart.size ? t('forward.rulesUsed') : '',
  };
}

async function doForward(s, d, plan) {
  const all = plan.flatMap((g) => g.parts).sort((a, b) => a - b);
  const req = await api.getBytes(`/v1/deliveries/${d.id}/forwarding-request?parts=${all.join(',')}`);
  const view = s.forwardView(req, now());
  if (view.envelopeId !== d.envelope_id) throw userError('forward.otherEnvelope');
  const myRecord = s.organizationRecord();
  // Each target fetched again by id and verified against my own organization's record.
  const targets = [];
  for (const g of plan) {
    const c = await certifiedMember(g.certId, myRecord);
    targets.push({ certificate: c.certificate, parts: g.parts });
  }
  const responses = s.forward(req, targets, now());
  const action = s.actionForward(d.id, d.envelope_id, plan.map((g) => ({ cert: g.certId, parts: g.parts })), responses);
  const result = await api.postJson(`/v1/deliveries/${d.id}/forward`,
    { responses: Array.from(responses, (r) => api.b64encode(r)) }, { action });
  const want = plan.map((g) => `${g.certId}:${g.parts.join(',')}`).sort();
  const got = result.deliveries.map((x) => `${x.holder_cert}:${x.parts.join(',')}`).sort();
  if (want.join(' ') !== got.join(' ')) throw userError('forward.serverMismatch');
  return result;
}
