// Administration (管理): the organization's fingerprint; enrollments to approve (承認) or
// reject — approving certifies the requested keys with the ORGANIZATION key, unlocked here in
// the browser from its key file and kept in memory only —; members and revocation (失効);
// the organization's policy (運用方針: expiry, retention, certificate validity, storage
// quota, who may send outside); the audit trail (監査記録) with its verification result.
import { t } from '../i18n.js';
import { h, field, statusBox, comparisonCodeEl, fmtTime, badge, confirmDialog, readFileBytes } from '../ui.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { need } from '../wasm.js';
import { errorText, userError, explained } from '../errors.js';
import { directory, fetchOrganization, confirmFoundOrganization } from '../orgs.js';
import * as trust from '../trust.js';

export default async function adminPage(root, _args, { go }) {
  const s = session.current();
  const me = session.me();
  root.append(h('h1', {}, t('admin.title')));
  if (!session.hasRole('admin')) { root.append(h('p', { class: 'status error' }, t('admin.notAdmin'))); return; }
  root.append(h('section', { class: 'card' }, h('h2', {}, t('admin.fingerprint', { name: me.orgName })), comparisonCodeEl(me.orgId),
    h('p', { class: 'hint' }, t('admin.fingerprintHint'))));
  root.append(orgKeySection(go), await enrollmentsSection(s, me, go), await membersSection(s, me, go), await policySection(s, me), partnersSection(s, me, go), auditSection(s, me));
}

// The organization's partner list (相手先組織の一覧, SPEC.md §5.8): partner organizations every
// member's browser treats as checked, signed with the organization key. An organization is
// added after looking it up by the fingerprint its administrator gave on paper or by phone (the
// typed digits are checked against the record in this browser) and confirming its name.
function partnersSection(s, me, go) {
  const st = statusBox();
  const sec = h('section', { class: 'card', id: 'partners' }, h('h2', {}, t('admin.partners')), h('p', {}, t('admin.partnersLead')), st);
  if (typeof need().verifyPartners !== 'function') { sec.append(h('p', { class: 'hint' }, t('admin.partnersUnavailable'))); return sec; }
  const orgKey = session.organizationKey();
  const refused = session.partnersRefused();
  if (refused) st.show(explained(t('orgs.partnersRefused'), refused), 'error');
  const list = session.partners();
  sec.append(Object.keys(list).length ? h('ul', { class: 'plain', id: 'partner-list' }, Object.entries(list).map(([id, name]) => {
    const rm = h('button', { type: 'button', class: 'small danger', disabled: !orgKey }, t('admin.partnerRemove'));
    rm.addEventListener('click', async () => {
      if (!await confirmDialog(t('admin.partnerRemove'), t('admin.partnerRemoveConfirm', { name }), t('admin.partnerRemove'))) return;
      try { await trust.publishPartners(s, orgKey, me.orgId, { remove: [id] }); go('admin'); } catch (e) { st.show(errorText(e), 'error'); }
    });
    return h('li', {}, h('strong', {}, name), ' ', rm, comparisonCodeEl(id, 'fp.shortCode'));
  })) : h('p', { class: 'muted' }, t('orgs.none')));
  if (!orgKey) { sec.append(h('p', { class: 'hint' }, t('admin.partnersNeedOrgKey'))); return sec; }
  const fp = h('input', { type: 'text', id: 'partner-fp', name: 'partner-fingerprint', class: 'mono', autocomplete: 'off', spellcheck: false });
  const look = h('button', { type: 'submit' }, t('setup.lookUp'));
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { id: 'partner-form' }, field(t('orgs.partnerFp'), fp, t('orgs.partnerFpHint')), h('div', { class: 'actions' }, look), result);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    st.clear();
    result.replaceChildren();
    try {
      const org = await fetchOrganization(fp.value);
      if (org.id === me.orgId) throw userError('admin.partnerSelf');
      result.append(...confirmFoundOrganization(org, fp.value, {
        checkboxId: 'partner-same', buttonId: 'partner-add', buttonLabel: t('admin.partnerAdd'), st,
        onConfirm: async () => {
          const n = await trust.publishPartners(s, orgKey, me.orgId, { add: { id: org.id, name: org.name } });
          st.show(t('admin.partnersPublished', { n }), 'ok');
          go('admin');
        },
      }));
    } catch (e) { st.show(errorText(e), 'error'); }
  });
  sec.append(form);
  return sec;
}

const MIB = 2 ** 20;
const GIB = 2 ** 30;
const MAX_QUOTA_BYTES = 2 ** 50; // soshiki_client::proto::MAX_QUOTA_BYTES

// The policy as the server has it; every field is sent back on save (the PUT replaces all).
// Days: empty = none. Quota: a number in MiB or GiB, empty or 0 = no quota.
async function policySection(s, me) {
  const st = statusBox();
  const sec = h('section', { class: 'card', id: 'policy' }, h('h2', {}, t('admin.policy')), st);
  let org;
  try { org = await api.getJson(`/v1/orgs/${me.orgId}`, { auth: false }); } catch (e) { st.show(errorText(e), 'error'); return sec; }
  const days = (name, value) => h('input', { type: 'number', name, min: '1', max: '36500', step: '1', inputmode: 'numeric', value: value ?? '' });
  const expiry = days('expiry-days', org.expiry_days);
  const retention = days('retention-days', org.retention_days);
  const validity = days('max-validity-days', org.max_validity_days);
  const q = org.quota_bytes || 0;
  const inGib = q > 0 && q % GIB === 0;
  const quota = h('input', { type: 'number', id: 'policy-quota', name: 'quota', min: '0', step: 'any', inputmode: 'decimal', 'aria-describedby': 'policy-quota-hint', value: q ? String(q / (inGib ? GIB : MIB)) : '' });
  const unit = h('select', { name: 'quota-unit', 'aria-label': t('admin.policyQuotaUnit') }, h('option', { value: 'MiB' }, 'MiB'), h('option', { value: 'GiB' }, 'GiB'));
  unit.value = inGib ? 'GiB' : 'MiB';
  // A quota set in bytes elsewhere (CLI) is kept exactly unless this field is edited.
  let quotaEdited = false;
  quota.addEventListener('input', () => { quotaEdited = true; });
  unit.addEventListener('change', () => { quotaEdited = true; });
  const readDays = (input) => {
    if (input.value.trim() === '') return null;
    const n = Number(input.value);
    if (!Number.isInteger(n) || n < 1 || n > 36500) throw userError('admin.policyBadDays');
    return n;
  };
  const readQuota = () => {
    if (!quotaEdited) return q || null;
    if (quota.value.trim() === '') return null;
    const n = Number(quota.value);
    const bytes = Math.round(n * (unit.value === 'GiB' ? GIB : MIB));
    if (!Number.isFinite(n) || n < 0 || bytes > MAX_QUOTA_BYTES) throw userError('admin.policyBadQuota');
    return bytes || null;
  };
  const senderRole = h('input', { type: 'checkbox', id: 'policy-sender-role', name: 'sender-role-required', checked: !!org.sender_role_required, 'aria-describedby': 'policy-sender-role-hint' });
  const save = h('button', { type: 'submit', class: 'primary' }, t('admin.policySave'));
  const form = h('form', {},
    field(t('admin.policyExpiry'), expiry, t('admin.policyDaysHint')),
    field(t('admin.policyRetention'), retention, t('admin.policyDaysHint')),
    field(t('admin.policyValidity'), validity, t('admin.policyDaysHint')),
    h('div', { class: 'field' }, h('label', { for: 'policy-quota' }, t('admin.policyQuota')), quota, ' ', unit,
      h('p', { class: 'hint', id: 'policy-quota-hint' }, t('admin.policyQuotaHint'))),
    h('div', { class: 'field' }, h('label', { class: 'inline' }, senderRole, ' ', t('admin.policySenderRole')),
      h('p', { class: 'hint', id: 'policy-sender-role-hint' }, t('admin.policySenderRoleHint'))),
    h('div', { class: 'actions' }, save));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const policy = { expiry_days: readDays(expiry), retention_days: readDays(retention), max_validity_days: readDays(validity), quota_bytes: readQuota(),
        sender_role_required: senderRole.checked };
      const action = s.actionSetPolicy(me.orgId, policy.expiry_days, policy.retention_days, policy.max_validity_days, policy.quota_bytes, policy.sender_role_required);
      await api.putJson(`/v1/orgs/${me.orgId}/policy`, policy, { action });
      st.show(t('admin.policySaved'), 'ok');
    } catch (e) { st.show(errorText(e), 'error'); }
  });
  sec.append(form);
  return sec;
}

function orgKeySection(go) {
  const st = statusBox();
  const sec = h('section', { class: 'card', id: 'orgkey' }, h('h2', {}, t('admin.orgKey')));
  const k = session.organizationKey();
  if (k) {
    const forget = h('button', { type: 'button' }, t('admin.orgKeyForget'));
    forget.addEventListener('click', () => { session.setOrganizationKey(null); go('admin'); });
    sec.append(h('p', {}, badge('verified', t('admin.orgKeyLoaded'))), forget);
    return sec;
  }
  const file = h('input', { type: 'file', name: 'orgkey', accept: '.orgkey,.key' });
  const pass = h('input', { type: 'password', name: 'orgkey-passphrase', autocomplete: 'off' });
  const btn = h('button', { type: 'submit', class: 'primary' }, t('admin.orgKeyUnlock'));
  const form = h('form', {}, h('p', {}, t('admin.orgKeyLead')), field(t('setup.keyFile'), file), field(t('common.passphrase'), pass), h('div', { class: 'actions' }, btn), st);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      if (!file.files.length) throw userError('setup.chooseFile');
      const bytes = await readFileBytes(file.files[0]);
      const sk = need();
      if (sk.keyFileInfo(bytes).kind !== 'organization') throw userError('admin.notOrgKey');
      const key = sk.OrgKey.unlock(bytes, pass.value);
      const keyOrg = key.orgId || (key.organizationRecord ? sk.organizationInfo(key.organizationRecord()).id : null);
      if (keyOrg && keyOrg !== session.me().orgId) { key.free(); throw userError('admin.otherOrgKey'); }
      pass.value = '';
      session.setOrganizationKey(key);
      go('admin');
    } catch (e) { st.show(errorText(e), 'error'); }
  });
  sec.append(form);
  return sec;
}

async function enrollmentsSection(s, me, go) {
  const st = statusBox();
  const sec = h('section', { class: 'card', id: 'enrollments' }, h('h2', {}, t('admin.enrollments')), st);
  let list = [];
  try { list = await api.getAllPages(`/v1/orgs/${me.orgId}/enrollments?status=pending`, 'enrollments'); } catch (e) { st.show(errorText(e), 'error'); return sec; }
  if (!list.length) { sec.append(h('p', { class: 'muted' }, t('admin.noEnrollments'))); return sec; }
  const orgKey = session.organizationKey();
  if (!orgKey) sec.append(h('p', { class: 'hint' }, t('admin.needOrgKey')));
  // The organization's cap on a certificate's validity (the server refuses a longer one).
  let maxDays = null;
  try { maxDays = (await api.getJson(`/v1/orgs/${me.orgId}`, { auth: false })).max_validity_days ?? null; } catch (e) { st.show(errorText(e), 'error'); return sec; }
  for (const en of list) {
    const statement = api.b64decode(en.request);
    let review = null;
    if (orgKey) { try { review = orgKey.reviewEnrollment(statement); } catch (e) { review = { ok: false, problem: e.message }; } }
    // The administrator types the code the member's device shows; the request is certified
    // only if its code matches (a request swapped on the server never does).
    const code = h('input', { type: 'text', name: 'enrollment-code', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: '0000-0000-0000-0000', disabled: !orgKey || !(review && review.ok) });
    const codeState = h('span', { class: 'code-state', 'aria-live': 'polite' });
    const approve = h('button', { type: 'button', class: 'primary', disabled: true }, t('admin.approve'));
    // Deciding on a request (either way) needs the organization key unlocked: the administrator
    // sees the request verified first.
    const reject = h('button', { type: 'button', class: 'danger', disabled: !orgKey }, t('admin.reject'));
    const checkCode = () => {
      const digits = code.value.replace(/[^0-9０-９]/g, '');
      const ok = !!(orgKey && review && review.ok && orgKey.enrollmentCodeMatches(statement, code.value));
      approve.disabled = !ok;
      codeState.textContent = ok ? t('admin.codeOk') : (digits.length >= 16 ? t('admin.codeMismatch') : '');
      codeState.className = `code-state ${ok ? 'ok' : (digits.length >= 16 ? 'error' : '')}`;
    };
    code.addEventListener('input', checkCode);
    approve.addEventListener('click', async () => {
      if (!await confirmDialog(t('admin.approve'), t('admin.approveConfirm', { name: review.name }), t('admin.approve'))) return;
      try {
        // Certified only if the typed code matches the request; validity as requested,
        // capped by the organization's policy.
        const cert = orgKey.certify(statement, code.value, maxDays, null, null);
        const action = s.actionApprove(en.id, cert, statement);
        await api.postJson(`/v1/enrollments/${en.id}/approve`, { certificate: api.b64encode(cert) }, { action });
        go('admin');
      } catch (e) { st.show(errorText(e), 'error'); }
    });
    reject.addEventListener('click', async () => {
      if (!await confirmDialog(t('admin.reject'), t('admin.rejectConfirm'), t('admin.reject'))) return;
      try {
        await api.request('POST', `/v1/enrollments/${en.id}/reject`, { action: s.actionReject(en.id, statement) });
        go('admin');
      } catch (e) { st.show(errorText(e), 'error'); }
    });
    const validity = review && review.ok
      ? [h('p', {}, t('admin.validity', { days: review.validityDays, until: fmtTime(review.notAfter) })),
        maxDays && review.validityDays > maxDays ? h('p', { class: 'hint' }, t('admin.validityCapped', { days: maxDays })) : '']
      : [];
    sec.append(h('div', { class: 'enrollment', dataset: { enrollment: en.id } },
      h('p', {}, review ? h('strong', {}, review.name) : h('span', { class: 'muted' }, t('admin.unreviewed')),
        review && review.roles ? ` (${[].concat(review.roles).map((r) => t(`role.${r}`)).join('・')})` : '',
        ' ', h('span', { class: 'muted' }, fmtTime(en.created))),
      ...validity,
      review && !review.ok ? h('p', { class: 'status error' }, explained(t('admin.badRequest'), review.problem || '')) : '',
      review && review.ok ? field(t('admin.code'), code, t('admin.codeHint')) : '', review && review.ok ? codeState : '',
      h('div', { class: 'actions' }, approve, reject)));
  }
  return sec;
}

async function membersSection(s, me, go) {
  const st = statusBox();
  const sec = h('section', { class: 'card', id: 'members' }, h('h2', {}, t('admin.members')), st);
  let members = [];
  try { members = await directory(me.orgId, s.organizationRecord(), { revocations: false }); } catch (e) { st.show(errorText(e), 'error'); return sec; }
  const orgKey = session.organizationKey();
  if (!orgKey) sec.append(h('p', { class: 'hint' }, t('admin.revokeNeedsOrgKey')));
  else {
    const refresh = h('button', { type: 'button', id: 'revocations-publish' }, t('admin.revocationsPublish'));
    refresh.addEventListener('click', async () => {
      try { const n = await trust.publishRevocations(s, orgKey, me.orgId, []); st.show(t('admin.revocationsPublished', { n }), 'ok'); } catch (e) { st.show(errorText(e), 'error'); }
    });
    sec.append(h('div', { class: 'actions' }, refresh));
  }
  sec.append(h('table', { class: 'list' }, h('thead', {}, h('tr', {},
    [t('forward.col.member'), t('forward.col.roles'), t('forward.col.fp'), t('inbox.col.status'), ''].map((c) => h('th', { scope: 'col' }, c)))),
  h('tbody', {}, members.map((m) => {
    const act = h('td', {});
    if (m.info.status === 'active' && m.info.cert_id !== me.certId) {
      const rv = h('button', { type: 'button', class: 'danger small', disabled: !orgKey }, t('admin.revoke'));
      rv.addEventListener('click', async () => {
        if (!await confirmDialog(t('admin.revoke'), t('admin.revokeConfirm', { name: m.info.name }), t('admin.revoke'))) return;
        try {
          // First the revocation list signed with the organization key (what every client
          // checks), then the revocation on the server.
          await trust.publishRevocations(s, orgKey, me.orgId, [m.info.cert_id]);
          await api.request('POST', `/v1/members/${m.info.cert_id}/revoke`, { action: s.actionRevoke(m.info.cert_id, m.certificate) });
          go('admin');
        } catch (e) { st.show(errorText(e), 'error'); }
      });
      act.append(rv);
    }
    return h('tr', {}, h('td', {}, m.verified ? m.verified.name : m.info.name),
      h('td', {}, m.info.role_names.map((r) => t(`role.${r}`)).join('・')),
      h('td', {}, comparisonCodeEl(m.info.cert_id, 'fp.shortCode')),
      h('td', {}, m.verified ? badge(m.info.status === 'active' ? 'verified' : 'recalled', t(`memberStatus.${m.info.status}`)) : badge('bad', t('forward.certBad'))),
      act);
  }))));
  return sec;
}

// ----- the verified audit trail, readable: names for ids, filters, CSV export -----

const actionName = (a) => (t(`action.${a}`) === `action.${a}` ? a : t(`action.${a}`));

/** Names for the ids an administrator may resolve: members (verified certificates), actors
 * of the trail, its own organization and pinned partners. Deliveries and envelopes stay ids:
 * their titles are sealed to their holders. */
async function auditNames(entries, me, s) {
  const names = new Map();
  names.set(me.orgId, me.orgName);
  for (const [id, name] of Object.entries(session.pins())) names.set(id, name);
  try {
    for (const m of await directory(me.orgId, s.organizationRecord(), { revocations: false })) {
      if (m.verified) names.set(m.info.cert_id, m.verified.name);
    }
  } catch (_) { /* names are a convenience: ids stay */ }
  for (const e of entries) names.set(e.actorCert, e.actor);
  return names;
}

function subjectText(subject, names) {
  return String(subject)
    .replace(/\b[0-9a-f]{64}\b/g, (id) => names.get(id) || `${id.slice(0, 8)}…`)
    .replace(/\b[0-9a-f]{32}\b/g, (id) => t('admin.auditItem', { id: id.slice(0, 8) }));
}

const dayStart = (v) => (v ? Math.floor(new Date(`${v}T00:00:00`).getTime() / 1000) : null);

async function auditTable(entries, me, s) {
  const names = await auditNames(entries, me, s);
  const rows = entries.map((e) => ({
    e,
    action: actionName(e.action),
    subject: (e.subjects || [e.subject]).map((x) => subjectText(x, names)).join('、'),
  }));
  const from = h('input', { type: 'date', id: 'audit-from' });
  const to = h('input', { type: 'date', id: 'audit-to' });
  const actor = h('select', { id: 'audit-actor' }, h('option', { value: '' }, t('admin.auditAll')),
    [...new Map(entries.map((e) => [e.actorCert, e.actor])).entries()].map(([id, name]) => h('option', { value: id }, name)));
  const action = h('select', { id: 'audit-action' }, h('option', { value: '' }, t('admin.auditAll')),
    [...new Set(entries.map((e) => e.action))].map((a) => h('option', { value: a }, actionName(a))));
  const count = h('p', { class: 'hint', id: 'audit-count', 'aria-live': 'polite' });
  const exportBtn = h('button', { type: 'button', id: 'audit-export' }, t('admin.auditExport'));
  const tbody = h('tbody');
  const selected = () => {
    const lo = dayStart(from.value);
    const hi = to.value ? dayStart(to.value) + 86400 : null;
    return rows.filter(({ e }) => (lo === null || e.time >= lo) && (hi === null || e.time < hi)
      && (!actor.value || e.actorCert === actor.value) && (!action.value || e.action === action.value));
  };
  const render = () => {
    const list = selected();
    tbody.replaceChildren(...list.map(({ e, action: a, subject }) => h('tr', { dataset: { seq: e.seq } },
      h('td', {}, String(e.seq)), h('td', {}, fmtTime(e.time)), h('td', {}, a),
      h('td', {}, e.actor, e.actorOrgPinned === false ? h('span', { class: 'muted' }, ` (${t('inbox.orgNotPinned')})`) : ''),
      h('td', {}, subject))));
    count.textContent = t('admin.auditShown', { n: list.length, total: rows.length });
  };
  for (const c of [from, to, actor, action]) c.addEventListener('change', render);
  // CSV for Excel: UTF-8 with a BOM, CRLF, every field quoted; names and the raw ids both.
  exportBtn.addEventListener('click', () => {
    const q = (v) => `"${String(v ?? '').replace(/"/g, '""')}"`;
    const head = [t('admin.col.seq'), t('admin.col.time'), t('admin.col.action'), t('admin.col.actor'),
      t('admin.col.subject'), 'action', 'actor_certificate', 'subjects'];
    const lines = [head.map(q).join(',')].concat(selected().map(({ e, action: a, subject }) => [e.seq, fmtTime(e.time), a,
      e.actor, subject, e.action, e.actorCert, (e.subjects || [e.subject]).join(' ')].map(q).join(',')));
    const blob = new Blob(['\uFEFF', lines.join('\r\n'), '\r\n'], { type: 'text/csv;charset=utf-8' });
    // The file name goes through the one part-name policy (no bidi control, no path).
    const a = h('a', { href: URL.createObjectURL(blob), download: need().safePartName(`audit-${me.orgName}-${new Date().toISOString().slice(0, 10)}.csv`, 0) });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });
  render();
  return h('div', {},
    h('div', { class: 'toolbar', id: 'audit-filters' },
      h('label', { for: from.id }, t('admin.auditFrom')), from, h('label', { for: to.id }, t('admin.auditTo')), to,
      h('label', { for: actor.id }, t('admin.col.actor')), actor, h('label', { for: action.id }, t('admin.col.action')), action,
      exportBtn),
    count,
    h('table', { class: 'list', id: 'audit-table' }, h('thead', {}, h('tr', {},
      [t('admin.col.seq'), t('admin.col.time'), t('admin.col.action'), t('admin.col.actor'), t('admin.col.subject')].map((c) => h('th', { scope: 'col' }, c)))),
    tbody));
}

function auditSection(s, me) {
  const st = statusBox();
  const out = h('div', { id: 'audit-out' });
  const btn = h('button', { type: 'button', id: 'audit-verify' }, t('admin.auditVerify'));
  btn.addEventListener('click', async () => {
    st.show(t('common.loading'));
    out.replaceChildren();
    try {
      const PAGE = 1000;
      const page = await api.getJson(`/v1/orgs/${me.orgId}/audit?from=1&limit=${PAGE}`);
      while (page.entries.length && page.entries.length % PAGE === 0) {
        const next = await api.getJson(`/v1/orgs/${me.orgId}/audit?from=${page.entries.length + 1}&limit=${PAGE}`);
        if (!next.entries.length) break;
        page.entries.push(...next.entries);
        page.certificates.push(...next.certificates);
      }
      // Checked against the organization-signed checkpoint the server serves and the newest
      // one this browser remembered (a rewrite before either, or a withheld one, fails).
      const served = await trust.servedCheckpoint(me.orgId);
      const report = need().verifyAudit(s.organizationRecord(), page, Object.keys(session.pins()), null, served, trust.rememberedCheckpoint(me.orgId));
      if (report.ok) await trust.rememberCheckpoint(me.orgId, report.checkpoint);
      st.clear();
      const orgKey = session.organizationKey();
      if (report.ok && orgKey && page.entries.length) {
        const last = page.entries[page.entries.length - 1];
        const sign = h('button', { type: 'button', id: 'audit-checkpoint' }, t('admin.checkpointSign'));
        sign.addEventListener('click', async () => {
          try { await trust.publishCheckpoint(s, orgKey, me.orgId, last.seq, last.hash); st.show(t('admin.checkpointSigned', { n: last.seq }), 'ok'); } catch (e) { st.show(errorText(e), 'error'); }
        });
        out.append(h('div', { class: 'actions' }, sign));
      }
      if (report.ok && report.checkpointPosition) out.append(h('p', { class: 'hint', id: 'audit-checkpoint-held' }, t('admin.checkpointHeld', { n: report.checkpointPosition })));
      out.append(report.ok ? h('p', { class: 'status ok', id: 'audit-result' }, t('admin.auditOk', { n: (report.entries || []).length }))
        : h('p', { class: 'status error', id: 'audit-result', role: 'alert' }, explained(t('admin.auditBad', { n: (report.failures || []).length }),
          (report.failures || []).map((f) => (typeof f === 'string' ? f : `#${f.seq}: ${f.reason}`)).join('; '))));
      if (report.ok) out.append(await auditTable(report.entries || [], me, s));
    } catch (e) { st.show(errorText(e), 'error'); }
  });
  return h('section', { class: 'card', id: 'audit' }, h('h2', {}, t('admin.audit')), h('p', {}, t('admin.auditLead')), h('div', { class: 'actions' }, btn), st, out);
}
