// Organizations: fetch a record by the fingerprint the user typed (compared out of band),
// check that the record really has that fingerprint (in wasm), and the directory with every
// certificate verified in the browser against the pinned record.
import * as api from './api.js';
import { checkRevocations } from './trust.js';
import { need } from './wasm.js';
import { onlyHex, now, h, badge, comparisonCodeEl } from './ui.js';
import { userError, errorText } from './errors.js';
import { t } from './i18n.js';

/**
 * What a looked-up organization shows before it is trusted: the typed digits were checked
 * against its record in this browser (`fetchOrganization`), so nothing is left to compare digit
 * by digit; the person confirms the name, then `onConfirm` runs (errors go to `st`). Without
 * a button (`onToggle` instead: the enrollment form, whose own submit button goes on), the
 * checkbox alone reports whether the name was confirmed.
 */
export function confirmFoundOrganization(org, typedText, { checkboxId, buttonId, buttonLabel, st, onConfirm, onToggle, nameKey = 'orgs.nameRight' }) {
  const same = h('input', { type: 'checkbox', id: checkboxId });
  const btn = onToggle ? null : h('button', { type: 'button', class: 'primary', id: buttonId, disabled: true }, buttonLabel);
  same.addEventListener('change', () => { if (btn) btn.disabled = !same.checked; else onToggle(same.checked); });
  if (btn) {
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try { await onConfirm(); } catch (e) { st.show(errorText(e), 'error'); btn.disabled = false; }
    });
  }
  setTimeout(() => same.focus(), 0);
  return [h('p', {}, badge('verified', t('orgs.fpMatched', { n: onlyHex(typedText).length }))),
    h('p', {}, t('setup.orgFound', { name: org.name })), comparisonCodeEl(org.id),
    h('label', { class: 'inline confirm', for: checkboxId }, same, ' ', t(nameKey, { name: org.name })),
    btn ? h('div', { class: 'actions' }, btn) : ''];
}

/** Fetch and check an organization by fingerprint text (64 hex digits, or ≥ 32 as a prefix). */
export async function fetchOrganization(fingerprintText) {
  const digits = onlyHex(fingerprintText);
  if (digits.length < 32) throw userError('orgs.fpTooShort', { n: digits.length });
  let info;
  if (digits.length === 64) {
    info = await api.getJson(`/v1/orgs/${digits}`, { auth: false });
  } else {
    const orgs = await api.getAllPages('/v1/orgs', 'orgs', { auth: false });
    const found = orgs.filter((o) => o.id.startsWith(digits));
    if (found.length !== 1) throw userError(found.length ? 'orgs.fpAmbiguous' : 'orgs.notFound', { fp: digits });
    info = found[0];
  }
  const record = api.b64decode(info.record);
  const checked = need().organizationInfo(record);
  if (!String(checked.id).startsWith(digits)) {
    throw userError('orgs.fpMismatch', {}, `asked ${digits}, record is ${checked.id}`);
  }
  return { id: checked.id, name: checked.name, suite: checked.suite, record, info };
}

/** The pinned record of an organization id (checked again on every fetch). */
export async function pinnedRecord(orgId) {
  const o = await fetchOrganization(orgId);
  if (o.id !== orgId) throw userError('orgs.fpMismatch', {}, `${o.id} != ${orgId}`);
  return o.record;
}

/**
 * An organization's members, each certificate verified against `orgRecord` now. Unless
 * `{ revocations: false }` (the administrator's own view), the organization's signed
 * revocation list is verified first (throws if missing, replayed or stale) and a member it
 * revokes is never usable, whatever status the server reports.
 */
export async function directory(orgId, orgRecord, { revocations = true } = {}) {
  const revoked = revocations ? (await checkRevocations(orgId, orgRecord)).revoked : [];
  const members = await api.getAllPages(`/v1/orgs/${orgId}/members`, 'members');
  const sk = need();
  return members.map((m) => {
    const certificate = api.b64decode(m.certificate);
    let verified = null;
    let problem = null;
    try {
      verified = sk.verifyMember(orgRecord, certificate, now());
      if (verified.certId !== m.cert_id) { problem = 'the listed id is not the certificate\'s fingerprint'; verified = null; }
    } catch (e) {
      problem = e.message;
    }
    if (verified && revoked.includes(verified.certId)) { problem = 'revoked by the organization'; verified = null; }
    return { info: m, certificate, verified, problem, usable: !!verified && m.status === 'active' };
  });
}

/** One member by certificate id, active and verified against `orgRecord`. */
export async function certifiedMember(certId, orgRecord) {
  const m = await api.getJson(`/v1/members/${certId}`);
  if (m.cert_id !== certId) throw userError('orgs.otherMember');
  if (m.status !== 'active') throw userError('orgs.memberInactive', { name: m.name, status: m.status });
  const certificate = api.b64decode(m.certificate);
  const verified = need().verifyMember(orgRecord, certificate, now());
  if (verified.certId !== certId) throw userError('orgs.otherMember');
  // The organization's signed revocation list, not the server's status, decides.
  await checkRevocations(need().organizationInfo(orgRecord).id, orgRecord, certificate);
  return { info: m, certificate, verified };
}
