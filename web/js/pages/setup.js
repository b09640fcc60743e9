// Key setup: import an existing key file, or generate keys in the browser and ask an
// organization (pinned by the fingerprint the user compares) to certify them; then wait for
// the approval. Keys are stored only in IndexedDB, as passphrase-protected key files.
import { t } from '../i18n.js';
import { h, field, statusBox, readFileBytes, now, fmtTime, confirmDialog } from '../ui.js';
import { need } from '../wasm.js';
import * as api from '../api.js';
import * as session from '../session.js';
import * as keystore from '../keystore.js';
import { errorText, userError } from '../errors.js';
import { fetchOrganization, confirmFoundOrganization } from '../orgs.js';

export default async function setupPage(root, _args, { go }) {
  root.append(h('h1', {}, t('setup.title')), h('p', { class: 'lead' }, t('setup.lead')));
  const demo = await demoSection(go);
  if (demo) root.append(demo);
  root.append(await pendingSection(go), importSection(go), enrollSection(go));
}

/**
 * Import a member key file (checked with its passphrase), store it in this browser and unlock
 * it: the key page's import and the demo's "try as" list.
 */
async function importKey(bytes, passphrase) {
  const sk = need();
  const kind = sk.keyFileInfo(bytes);
  if (kind.kind !== 'member') throw userError('setup.notMemberKey');
  // Unlock once to check the passphrase and read the identity; the session is freed at once.
  const s = sk.Session.unlock(bytes, passphrase);
  if (s.pending) { s.free(); throw userError('setup.pendingKeyFile'); }
  const entry = { id: s.certId, kind: 'member', file: bytes, memberName: s.memberName,
    orgId: s.orgId, orgName: s.orgName, certId: s.certId, roles: Array.from(s.roles || []), notAfter: s.notAfter };
  s.free();
  await keystore.putKey(entry);
  await session.unlock(entry, passphrase);
  return entry;
}

/**
 * Demo mode only (the server was started with --demo and answers GET /v1/demo/members): a
 * list of the demo members; one click imports that member's key file, unlocks it and
 * registers the organizations of its scenario. A production server has no such list.
 */
async function demoSection(go) {
  let demo;
  try {
    demo = await api.getJson('/v1/demo/members', { auth: false });
  } catch (_) {
    return null;
  }
  if (!demo || !Array.isArray(demo.members) || !demo.members.length) return null;
  const st = statusBox();
  const byScenario = new Map();
  for (const m of demo.members) {
    if (!byScenario.has(m.scenario)) byScenario.set(m.scenario, []);
    byScenario.get(m.scenario).push(m);
  }
  const sec = h('section', { class: 'card', id: 'demo-try' }, h('h2', {}, t('setup.demoTitle')),
    h('p', { class: 'status info' }, t('setup.demoLead')), st);
  for (const [scenario, members] of byScenario) {
    const details = h('details', { open: scenario === 'omachi' }, h('summary', {}, t('setup.demoScenario', { name: scenario })),
      h('ul', { class: 'plain' }, members.map((m) => {
        const btn = h('button', { type: 'button', class: 'small', dataset: { demoTag: `${scenario}/${m.tag}` } }, t('setup.demoTry'));
        btn.addEventListener('click', async () => {
          st.clear();
          btn.disabled = true;
          try {
            need();
            const bytes = Uint8Array.from(atob(m.key_file), (c) => c.charCodeAt(0));
            await importKey(bytes, demo.passphrase);
            for (const p of m.partners || []) await session.pin(p.id, p.name);
            go('inbox');
          } catch (e) {
            st.show(errorText(e), 'error');
          } finally {
            btn.disabled = false;
          }
        });
        return h('li', {}, btn, ' ', h('strong', {}, m.name), ' ／ ', m.org_name, ' ',
          h('span', { class: 'muted' }, `(${(m.roles || []).map((r) => t(`role.${r}`)).join('・')})`));
      })));
    sec.append(details);
  }
  return sec;
}

function importSection(go) {
  const file = h('input', { type: 'file', accept: '.key,application/octet-stream', name: 'keyfile' });
  const pass = h('input', { type: 'password', autocomplete: 'current-password', name: 'import-passphrase' });
  const st = statusBox();
  const btn = h('button', { type: 'submit', class: 'primary' }, t('setup.importButton'));
  const form = h('form', { class: 'card', id: 'import-form' },
    h('h2', {}, t('setup.importTitle')), h('p', {}, t('setup.importLead')),
    field(t('setup.keyFile'), file), field(t('common.passphrase'), pass, t('setup.importPassHint')),
    h('div', { class: 'actions' }, btn), st);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    st.clear();
    if (!file.files.length) { st.show(t('setup.chooseFile'), 'error'); file.focus(); return; }
    btn.disabled = true;
    st.show(t('setup.checking'));
    try {
      const bytes = await readFileBytes(file.files[0]);
      const entry = await importKey(bytes, pass.value);
      // The passphrase was just typed and checked: the key is unlocked at once, not asked for
      // a second time on the unlock page.
      st.show(t('setup.imported', { name: entry.memberName, org: entry.orgName }), 'ok');
      pass.value = '';
      go('inbox');
    } catch (e) {
      st.show(errorText(e), 'error');
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

function enrollSection(go) {
  const fp = h('input', { type: 'text', name: 'org-fingerprint', autocomplete: 'off', spellcheck: false, class: 'mono' });
  const lookBtn = h('button', { type: 'button' }, t('setup.lookUp'));
  const orgBox = h('div', { class: 'org-check', 'aria-live': 'polite' });
  const name = h('input', { type: 'text', name: 'member-name', autocomplete: 'name' });
  const roleBoxes = ['reader', 'sender', 'forwarder', 'representative', 'admin'].map((r) => {
    const cb = h('input', { type: 'checkbox', name: 'role', value: r, checked: r === 'reader' });
    return h('label', { class: 'inline' }, cb, ' ', t(`role.${r}`));
  });
  const days = h('input', { type: 'number', min: 1, max: 3650, value: 365, name: 'days' });
  const p1 = h('input', { type: 'password', autocomplete: 'new-password', name: 'new-passphrase' });
  const p2 = h('input', { type: 'password', autocomplete: 'new-password', name: 'new-passphrase2' });
  const st = statusBox();
  const submit = h('button', { type: 'submit', class: 'primary', disabled: true }, t('setup.enrollButton'));
  let org = null;
  let confirmed = false;

  // The same lookup as pinning a partner: the comparison code (32 digits, or the whole
  // fingerprint) is checked against the organization's record in this browser, so only the
  // organization's name is left to confirm.
  lookBtn.addEventListener('click', async () => {
    st.clear();
    org = null;
    confirmed = false;
    submit.disabled = true;
    orgBox.replaceChildren();
    try {
      need();
      const found = await fetchOrganization(fp.value);
      org = found;
      orgBox.replaceChildren(...confirmFoundOrganization(found, fp.value, {
        checkboxId: 'enroll-same', st, nameKey: 'setup.nameRight',
        onToggle: (checked) => { confirmed = checked && org === found; submit.disabled = !confirmed; },
      }));
    } catch (e) {
      st.show(errorText(e), 'error');
    }
  });

  const form = h('form', { class: 'card', id: 'enroll-form' },
    h('h2', {}, t('setup.enrollTitle')), h('p', {}, t('setup.enrollLead')),
    field(t('setup.orgFp'), fp, t('setup.orgFpHint')), h('div', { class: 'actions' }, lookBtn), orgBox,
    field(t('setup.memberName'), name),
    h('fieldset', {}, h('legend', {}, t('setup.roles')), roleBoxes),
    field(t('setup.days'), days),
    field(t('common.newPassphrase'), p1, t('common.passphraseHint')), field(t('common.repeatPassphrase'), p2),
    h('div', { class: 'actions' }, submit), st);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    st.clear();
    if (!org || !confirmed) { st.show(t('setup.compareFirst'), 'error'); return; }
    if (!name.value.trim()) { st.show(t('setup.nameMissing'), 'error'); name.focus(); return; }
    if (p1.value.length < 8) { st.show(t('common.passTooShort'), 'error'); p1.focus(); return; }
    if (p1.value !== p2.value) { st.show(t('common.passMismatch'), 'error'); p2.focus(); return; }
    const roles = roleBoxes.map((l) => l.querySelector('input')).filter((c) => c.checked).map((c) => c.value);
    if (!roles.length) { st.show(t('setup.rolesMissing'), 'error'); return; }
    submit.disabled = true;
    st.show(t('setup.generating'));
    try {
      const nb = now() - 300;
      const na = nb + Number(days.value || 365) * 86400;
      const r = need().createEnrollment(org.record, name.value.trim(), roles.join(','), nb, na, p1.value);
      const created = await api.postJson(`/v1/orgs/${org.id}/enrollments`,
        { request: api.b64encode(r.statement) }, { auth: false });
      await keystore.putKey({ id: `pending-${created.id}`, kind: 'pending', file: r.pendingKeyFile,
        enrollmentId: created.id, orgId: org.id, orgName: org.name, orgRecord: org.record,
        memberName: name.value.trim(), roles, code: r.code });
      p1.value = ''; p2.value = '';
      st.show(t('setup.enrollSent', { id: created.id }), 'ok');
      go('setup');
    } catch (e) {
      st.show(errorText(e), 'error');
      submit.disabled = false;
    }
  });
  return form;
}

async function pendingSection(go) {
  const keys = await keystore.listKeys().catch(() => []);
  const pending = keys.filter((k) => k.kind === 'pending');
  const sec = h('section', { class: 'card', id: 'pending' }, h('h2', {}, t('setup.pendingTitle')));
  if (!pending.length) { sec.append(h('p', { class: 'muted' }, t('setup.noPending'))); return sec; }
  for (const k of pending) sec.append(pendingItem(k, go));
  return sec;
}

function pendingItem(k, go) {
  const st = statusBox();
  const pass = h('input', { type: 'password', autocomplete: 'current-password', name: 'pending-passphrase' });
  const check = h('button', { type: 'button' }, t('setup.checkNow'));
  const finish = h('button', { type: 'button', class: 'primary', hidden: true }, t('setup.finish'));
  const drop = h('button', { type: 'button', class: 'danger' }, t('setup.dropPending'));
  let cert = null;
  let statement = null;
  let timer = null;
  const poll = async () => {
    try {
      const info = await api.getJson(`/v1/enrollments/${k.enrollmentId}`, { auth: false });
      if (info.status === 'approved' && info.certificate) {
        if (info.org_id !== k.orgId) throw userError('setup.otherOrg');
        cert = api.b64decode(info.certificate);
        // This device's own enroll statement, signed by the pending key: it names the
        // organization asked, so finishEnrollment refuses an orgRecord swapped in this profile.
        statement = api.b64decode(info.request);
        st.show(t('setup.approved'), 'ok');
        finish.hidden = false;
        clearInterval(timer);
      } else if (info.status === 'rejected') {
        st.show(t('setup.rejected'), 'error');
        clearInterval(timer);
      } else {
        st.show(t('setup.stillPending', { time: fmtTime(Math.floor(Date.now() / 1000)) }));
      }
    } catch (e) {
      st.show(errorText(e), 'error');
    }
  };
  check.addEventListener('click', poll);
  finish.addEventListener('click', async () => {
    try {
      let file;
      try {
        file = need().finishEnrollment(k.orgRecord, cert, k.file, pass.value, statement);
      } catch (e) {
        if (/not the one this device asked to join/.test(String(e && e.message))) throw userError('setup.orgSwapped', {}, String(e.message));
        throw e;
      }
      const s = need().Session.unlock(file, pass.value);
      const entry = { id: s.certId, kind: 'member', file, memberName: s.memberName, orgId: s.orgId,
        orgName: s.orgName, certId: s.certId, roles: Array.from(s.roles || []), notAfter: s.notAfter };
      s.free();
      await keystore.putKey(entry);
      await keystore.deleteKey(k.id);
      pass.value = '';
      go(`unlock/${entry.id}`);
    } catch (e) {
      st.show(errorText(e), 'error');
    }
  });
  drop.addEventListener('click', async () => {
    if (!await confirmDialog(t('setup.dropPending'), t('setup.dropConfirm'), t('setup.dropPending'))) return;
    await keystore.deleteKey(k.id);
    go('setup');
  });
  poll();
  timer = setInterval(() => { if (!document.body.contains(st)) clearInterval(timer); else poll(); }, 5000);
  return h('div', { class: 'pending-item' },
    h('p', {}, h('strong', {}, k.memberName), ' → ', k.orgName, ' ', h('span', { class: 'muted' }, `(${k.enrollmentId})`)),
    k.code ? h('p', {}, t('setup.code'), ': ', h('strong', { class: 'mono enrollment-code' }, k.code)) : '',
    k.code ? h('p', { class: 'hint' }, t('setup.codeHint')) : '',
    field(t('common.passphrase'), pass, t('setup.finishHint')),
    h('div', { class: 'actions' }, check, finish, drop), st);
}
