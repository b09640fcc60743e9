// Unlock: choose a key stored in this browser, enter its passphrase (Argon2id runs in wasm),
// log in. Also: export the stored key file (the same passphrase-protected file the CLI uses)
// and remove a key from this browser.
import { t } from '../i18n.js';
import { h, field, statusBox, saveBytes, confirmDialog } from '../ui.js';
import * as keystore from '../keystore.js';
import * as session from '../session.js';
import { errorText } from '../errors.js';

export default async function unlockPage(root, args, { go }) {
  root.append(h('h1', {}, t('unlock.title')));
  const keys = (await keystore.listKeys().catch(() => [])).filter((k) => k.kind === 'member');
  const st = statusBox();
  if (session.takeLockReason() === 'idle') {
    root.append(h('p', { class: 'status info', id: 'idle-locked', role: 'status' }, t('unlock.idleLocked')));
  }
  if (!keys.length) {
    root.append(h('p', {}, t('unlock.noKeys')), h('p', {}, h('a', { href: '#/setup' }, t('unlock.toSetup'))));
    return;
  }
  const wanted = args[0] && !args[0].startsWith('#') ? args[0] : null;
  const back = args[0] && args[0].startsWith('#') ? args[0] : '#/inbox';
  const choices = keys.map((k, i) => {
    const radio = h('input', { type: 'radio', name: 'key', value: k.id, checked: wanted ? k.id === wanted : i === keys.length - 1 });
    const exp = h('button', { type: 'button', class: 'small' }, t('unlock.export'));
    exp.addEventListener('click', () => saveBytes(k.file, `${safeName(k.memberName)}.key`));
    const del = h('button', { type: 'button', class: 'small danger' }, t('unlock.remove'));
    del.addEventListener('click', async () => {
      if (!await confirmDialog(t('unlock.remove'), t('unlock.removeConfirm', { name: k.memberName }), t('unlock.remove'))) return;
      await keystore.deleteKey(k.id);
      go('unlock');
    });
    return h('li', { class: 'key-choice' },
      h('label', { class: 'inline' }, radio, ' ', h('strong', {}, k.memberName), ' ／ ', k.orgName,
        ' ', h('span', { class: 'muted' }, `(${(k.roles || []).map((r) => t(`role.${r}`)).join('・')})`)),
      ' ', exp, ' ', del);
  });
  const pass = h('input', { type: 'password', autocomplete: 'current-password', name: 'passphrase' });
  const btn = h('button', { type: 'submit', class: 'primary' }, t('unlock.button'));
  const form = h('form', { class: 'card', id: 'unlock-form' },
    h('fieldset', {}, h('legend', {}, t('unlock.chooseKey')), h('ul', { class: 'plain' }, choices)),
    field(t('common.passphrase'), pass), h('div', { class: 'actions' }, btn), st,
    h('p', { class: 'hint' }, t('unlock.idleHint')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const id = form.querySelector('input[name=key]:checked')?.value;
    const entry = keys.find((k) => k.id === id);
    if (!entry) { st.show(t('unlock.chooseKey'), 'error'); return; }
    btn.disabled = true;
    st.show(t('unlock.unlocking'));
    try {
      await session.unlock(entry, pass.value);
      pass.value = '';
      const target = back.startsWith('#/unlock') ? '#/inbox' : back;
      if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'));
      else location.hash = target;
    } catch (e) {
      st.show(errorText(e), 'error');
      pass.select();
    } finally {
      btn.disabled = false;
    }
  });
  root.append(form, h('p', {}, h('a', { href: '#/setup' }, t('unlock.toSetup'))));
  setTimeout(() => pass.focus(), 0);
}

function safeName(s) {
  return String(s || 'member').replace(/[\\/:*?"<>|\s]+/g, '_');
}
