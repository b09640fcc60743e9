// The shell: language switch, navigation, hash routing, lock button, the missing-crypto banner.
import { t, lang, setLang, applyStatic } from './i18n.js';
import { h } from './ui.js';
import { loadCrypto, crypto } from './wasm.js';
import * as session from './session.js';
import { registerServiceWorker } from './save.js';
import { listKeys } from './keystore.js';

import setupPage from './pages/setup.js';
import unlockPage from './pages/unlock.js';
import inboxPage from './pages/inbox.js';
import forwardPage from './pages/forward.js';
import openPage from './pages/open.js';
import sendPage from './pages/send.js';
import rulesPage from './pages/rules.js';
import receiptsPage from './pages/receipts.js';
import adminPage from './pages/admin.js';
import orgsPage from './pages/orgs.js';

const PAGES = {
  setup: { render: setupPage, needsSession: false },
  unlock: { render: unlockPage, needsSession: false },
  inbox: { render: inboxPage, needsSession: true, nav: true },
  forward: { render: forwardPage, needsSession: true },
  open: { render: openPage, needsSession: true },
  // Sending outside: every member, unless the organization's policy requires the sender role.
  send: { render: sendPage, needsSession: true, nav: true, allowed: () => session.maySend(), refused: 'shell.sendRefused' },
  // Routing rules route what a member forwards: only forwarders and representatives see them.
  rules: { render: rulesPage, needsSession: true, nav: true, allowed: () => session.hasRole('forwarder') || session.hasRole('representative'), refused: 'shell.rulesRefused' },
  receipts: { render: receiptsPage, needsSession: true, nav: true },
  orgs: { render: orgsPage, needsSession: true, nav: true },
  admin: { render: adminPage, needsSession: true, nav: true, allowed: () => session.hasRole('admin'), refused: 'shell.adminRefused' },
};

const view = document.getElementById('view');
let renderSeq = 0;

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || '', args: parts.slice(1) };
}

export function go(path) {
  if (location.hash === `#/${path}`) route();
  else location.hash = `#/${path}`;
}

function renderNav() {
  const nav = document.getElementById('nav');
  const me = session.me();
  const cur = parseHash().name;
  const items = [];
  if (me) {
    for (const [name, p] of Object.entries(PAGES)) {
      if (!p.nav) continue;
      if (p.allowed && !p.allowed()) continue;
      items.push([name, t(`nav.${name}`)]);
    }
  } else {
    items.push(['unlock', t('nav.unlock')], ['setup', t('nav.setup')], ['orgs', t('nav.orgs')]);
  }
  nav.replaceChildren(h('ul', {}, items.map(([name, label]) => h('li', {},
    h('a', { href: `#/${name}`, 'aria-current': name === cur ? 'page' : null }, label)))));
  nav.setAttribute('aria-label', t('nav.label'));
  const who = document.getElementById('who');
  who.replaceChildren(me ? h('span', {}, `${me.memberName} ／ ${me.orgName}`) : h('span', { class: 'muted' }, t('shell.locked')));
  const lockBtn = document.getElementById('lock-button');
  lockBtn.hidden = !me;
  lockBtn.textContent = t('shell.lock');
  const ls = document.getElementById('lang-switch');
  ls.textContent = lang() === 'ja' ? 'English' : '日本語';
  ls.setAttribute('lang', lang() === 'ja' ? 'en' : 'ja');
  ls.setAttribute('aria-label', t('shell.langSwitch'));
  document.getElementById('skip-link').textContent = t('shell.skip');
  document.getElementById('foot').textContent = t('shell.footer');
  document.title = t('shell.title');
  document.getElementById('app-title').textContent = t('shell.title');
}

function renderBanner() {
  const b = document.getElementById('banner');
  if (crypto()) { b.hidden = true; return; }
  b.hidden = false;
  b.replaceChildren(
    h('strong', { lang: 'ja' }, 'このビルドにはブラウザ用の暗号モジュールがありません。'),
    ' ', h('span', { lang: 'ja' }, 'scripts/build-web.sh を実行してから再ビルドしてください。'),
    h('br'),
    h('strong', { lang: 'en' }, 'This build has no browser crypto module:'),
    ' ', h('span', { lang: 'en' }, 'run scripts/build-web.sh and rebuild.'),
  );
}

export async function route() {
  const seq = ++renderSeq;
  let { name, args } = parseHash();
  if (!PAGES[name]) {
    if (session.me()) name = 'inbox';
    else name = (await listKeys().catch(() => [])).some((k) => k.kind === 'member') ? 'unlock' : 'setup';
    history.replaceState(null, '', `#/${name}`);
    args = [];
  }
  let page = PAGES[name];
  if (page.needsSession && !session.me()) {
    name = 'unlock';
    page = PAGES.unlock;
    args = [location.hash];
  }
  renderNav();
  renderBanner();
  const container = h('div', { class: `page page-${name}` });
  view.replaceChildren(container);
  // A pin list changed in the browser profile (its signature by the member key fails) is not
  // used; say so on every page until the member pins again.
  if (session.pinsTampered()) {
    container.append(h('p', { class: 'status error', role: 'alert', id: 'pins-tampered' }, t('orgs.pinsTampered')));
  }
  // What unlock found about the protected state (a copy removed, rolled back or altered in the
  // browser profile and restored from the newer signed copy; a server copy that does not
  // verify): shown on every page until the member dismisses it.
  const notices = session.stateNotices();
  if (notices.length) {
    const ok = h('button', { type: 'button', class: 'small' }, t('state.dismiss'));
    ok.addEventListener('click', () => { session.dismissStateNotices(); box.remove(); });
    // A copy missing from this browser is what a first unlock in a new browser looks like too:
    // said plainly, not as an alarm; a copy rolled back or altered, or a server copy that does
    // not verify, is an alarm.
    const alarming = notices.some((n) => n.what !== 'restoredMissing');
    const box = h('div', { class: `status ${alarming ? 'error' : 'info'}`, role: alarming ? 'alert' : 'status', id: 'state-notices' },
      h('ul', { class: 'plain' }, notices.map((n) => h('li', { 'data-kind': n.kind, 'data-what': n.what },
        t(`state.${n.what}`, { what: t(`state.kind.${n.kind}`) })))), ok);
    container.append(box);
  }
  // A page this member is not offered (typed or bookmarked): said plainly, not rendered.
  if (page.allowed && session.me() && !page.allowed()) {
    container.append(h('h1', {}, t(`nav.${name}`)), h('p', { class: 'status info', role: 'status', id: 'page-refused' }, t(page.refused)));
    return;
  }
  try {
    // A page navigates only while it is still the page shown: an action that finishes after the
    // member went elsewhere (a slow save, then "back to the list") must not pull them away.
    const pageGo = (path) => { if (seq === renderSeq) go(path); };
    await page.render(container, args, { go: pageGo, seq: () => seq === renderSeq });
  } catch (e) {
    const { errorText } = await import('./errors.js');
    container.append(h('p', { class: 'status error', role: 'alert' }, errorText(e)));
  }
  if (seq === renderSeq) {
    const heading = container.querySelector('h1');
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  }
}

async function main() {
  document.getElementById('lang-switch').addEventListener('click', () => {
    setLang(lang() === 'ja' ? 'en' : 'ja');
    applyStatic();
    route();
  });
  document.getElementById('lock-button').addEventListener('click', () => {
    session.lock();
    go('unlock');
  });
  window.addEventListener('soshiki-idle-lock', () => go('unlock'));
  session.onChange(renderNav);
  window.addEventListener('hashchange', route);
  applyStatic();
  registerServiceWorker();
  await loadCrypto();
  document.documentElement.dataset.crypto = crypto() ? 'ready' : 'missing';
  await route();
  document.documentElement.dataset.ready = '1';
}

main();
