// Administration (管理): the organization's fingerprint; enrollments to approve (承認) or
// reject — approving certifies the requested keys with the ORGANIZATION key, unlocked here in
// the browser from its key file and kept in memory only —; members and revocation (失効);
// the audit trail (監査記録) with its verification result.
import { t } from '../i18n.js';
import { h, field, statusBox, fingerprintEl, fmtTime, badge, confirmDialog, readFileBytes } from '../ui.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { need } from '../wasm.js';
import { errorText, userError } from '../errors.js';
import { directory } from '../orgs.js';

export default async function adminPage(root, _args, { go }) {
  const s = session.current();
  const me = session.me();
  root.append(h('h1', {}, t('admin.title')));
  if (!session.hasRole('admin')) { root.append(h('p', { class: 'status error' }, t('admin.notAdmin'))); return; }
  root.append(h('section', { class: 'card' }, h('h2', {}, t('admin.fingerprint', { name: me.orgName })), fingerprintEl(me.orgId),
    h('p', { class: 'hint' }, t('admin.fingerprintHint'))));
  root.append(orgKeySection(go), await enrollmentsSection(s, me, go), await membersSection(s, me, go), auditSection(s, me));
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
  for (const en of list) {
    const statement = api.b64decode(en.request);
    let review = null;
    if (orgKey) { try { review = orgKey.reviewEnrollment(statement); } catch (e) { review = { ok: false, problem: e.message }; } }
    const approve = h('button', { type: 'button', class: 'primary', disabled: !orgKey || !(review && review.ok) }, t('admin.approve'));
    const reject = h('button', { type: 'button', class: 'danger' }, t('admin.reject'));
    approve.addEventListener('click', async () => {
      if (!await confirmDialog(t('admin.approve'), t('admin.approveConfirm', { name: review.name }), t('admin.approve'))) return;
      try {
        // As requested (the server checks the certificate certifies exactly the request).
        const cert = orgKey.certify(statement, null, null);
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
    sec.append(h('div', { class: 'enrollment', dataset: { enrollment: en.id } },
      h('p', {}, review ? h('strong', {}, review.name) : h('span', { class: 'muted' }, t('admin.unreviewed')),
        review && review.roles ? ` (${[].concat(review.roles).map((r) => t(`role.${r}`)).join('・')})` : '',
        ' ', h('span', { class: 'muted' }, fmtTime(en.created))),
      review && !review.ok ? h('p', { class: 'status error' }, t('admin.badRequest'), ' ', review.problem || '') : '',
      h('div', { class: 'actions' }, approve, reject)));
  }
  return sec;
}

async function membersSection(s, me, go) {
  const st = statusBox();
  const sec = h('section', { class: 'card', id: 'members' }, h('h2', {}, t('admin.members')), st);
  let members = [];
  try { members = await directory(me.orgId, s.organizationRecord()); } catch (e) { st.show(errorText(e), 'error'); return sec; }
  sec.append(h('table', { class: 'list' }, h('thead', {}, h('tr', {},
    [t('forward.col.member'), t('forward.col.roles'), t('forward.col.fp'), t('inbox.col.status'), ''].map((c) => h('th', { scope: 'col' }, c)))),
  h('tbody', {}, members.map((m) => {
    const act = h('td', {});
    if (m.info.status === 'active' && m.info.cert_id !== me.certId) {
      const rv = h('button', { type: 'button', class: 'danger small' }, t('admin.revoke'));
      rv.addEventListener('click', async () => {
        if (!await confirmDialog(t('admin.revoke'), t('admin.revokeConfirm', { name: m.info.name }), t('admin.revoke'))) return;
        try {
          await api.request('POST', `/v1/members/${m.info.cert_id}/revoke`, { action: s.actionRevoke(m.info.cert_id, m.certificate) });
          go('admin');
        } catch (e) { st.show(errorText(e), 'error'); }
      });
      act.append(rv);
    }
    return h('tr', {}, h('td', {}, m.verified ? m.verified.name : m.info.name),
      h('td', {}, m.info.role_names.map((r) => t(`role.${r}`)).join('・')),
      h('td', {}, fingerprintEl(m.info.cert_id)),
      h('td', {}, m.verified ? badge(m.info.status === 'active' ? 'verified' : 'recalled', t(`memberStatus.${m.info.status}`)) : badge('bad', t('forward.certBad'))),
      act);
  }))));
  return sec;
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
      const report = need().verifyAudit(s.organizationRecord(), page, Object.keys(session.pins()), null);
      st.clear();
      out.append(report.ok ? h('p', { class: 'status ok', id: 'audit-result' }, t('admin.auditOk', { n: (report.entries || []).length }))
        : h('p', { class: 'status error', id: 'audit-result', role: 'alert' }, t('admin.auditBad'), ' ', (report.failures || []).map((f) => (typeof f === 'string' ? f : `#${f.seq}: ${f.reason}`)).join('; ')));
      out.append(h('table', { class: 'list' }, h('thead', {}, h('tr', {},
        [t('admin.col.seq'), t('admin.col.time'), t('admin.col.action'), t('admin.col.actor'), t('admin.col.subject')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, (report.entries || []).map((e) => h('tr', {}, h('td', {}, String(e.seq)), h('td', {}, fmtTime(e.time)),
        h('td', {}, t(`action.${e.action}`) === `action.${e.action}` ? e.action : t(`action.${e.action}`)),
        h('td', {}, String(e.actor ?? ''), e.actorOrgPinned === false ? h('span', { class: 'muted' }, ` (${t('inbox.orgNotPinned')})`) : ''),
        h('td', { class: 'mono small' }, String(e.subject ?? '')))))));
    } catch (e) { st.show(errorText(e), 'error'); }
  });
  return h('section', { class: 'card', id: 'audit' }, h('h2', {}, t('admin.audit')), h('p', {}, t('admin.auditLead')), h('div', { class: 'actions' }, btn), st, out);
}
