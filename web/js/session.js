// The unlocked member key (a wasm Session) for this tab, the bearer token, the optional
// unlocked organization key (administrators), and the idle lock.
import * as api from './api.js';
import { need } from './wasm.js';

// Lock after 15 minutes without activity. (localStorage 'soshiki.idleSeconds' shortens it, for
// the end-to-end test of the idle lock.)
function idleMs() {
  const s = Number(localStorage.getItem('soshiki.idleSeconds'));
  return (Number.isFinite(s) && s >= 1 ? s : 15 * 60) * 1000;
}
let lockReason = null;
/** Why the key was last locked automatically ('idle'), once. */
export function takeLockReason() { const r = lockReason; lockReason = null; return r; }

let session = null; // wasm Session
let info = null; // plain copy of the getters
let orgKey = null; // wasm OrgKey (admin page), in memory only
let keyEntryId = null;
let idleTimer = null;
const listeners = new Set();

export function current() { return session; }
export function me() { return info; }
export function currentKeyId() { return keyEntryId; }
export function organizationKey() { return orgKey; }
export function onChange(fn) { listeners.add(fn); }
function changed() { for (const fn of listeners) fn(info); }

export function hasRole(role) { return !!info && info.roles.includes(role); }

/** Unlock a stored key file with its passphrase, then log in (challenge, signed origin+nonce). */
export async function unlock(entry, passphrase) {
  const sk = need();
  const s = sk.Session.unlock(entry.file, passphrase);
  if (s.pending) {
    s.free();
    const e = new Error('invalid: this key file is still waiting for approval');
    throw e;
  }
  lock(false);
  try {
    await login(s);
  } catch (e) {
    s.free();
    throw e;
  }
  session = s;
  keyEntryId = entry.id;
  info = {
    certId: s.certId,
    orgId: s.orgId,
    orgName: s.orgName,
    memberName: s.memberName,
    roles: Array.from(s.roles || []),
    suite: s.suite,
    notAfter: s.notAfter,
  };
  armIdle();
  changed();
  return info;
}

async function login(s) {
  const ch = await api.postJson('/v1/auth/challenge', { cert_id: s.certId }, { auth: false });
  const nonce = api.b64decode(ch.nonce);
  const signature = s.signLogin(location.origin, nonce);
  const tk = await api.postJson('/v1/auth/token', {
    cert_id: s.certId,
    nonce: ch.nonce,
    signature: api.b64encode(signature),
  }, { auth: false });
  api.setToken(tk.token);
}

/** Log in again with the unlocked key (the token lasts one hour). */
export async function relogin() {
  if (session) await login(session);
}

api.setReauth(async () => { if (session) await login(session); });

export function setOrganizationKey(k) {
  if (orgKey) orgKey.free();
  orgKey = k;
  changed();
}

/** Forget every secret of this tab: the member key, the organization key, the token. */
export function lock(notify = true) {
  if (orgKey) { try { orgKey.free(); } catch (_) { /* already freed */ } orgKey = null; }
  if (session) { try { session.free(); } catch (_) { /* already freed */ } session = null; }
  info = null;
  keyEntryId = null;
  api.setToken(null);
  if (idleTimer) { clearTimeout(idleTimer); idleTimer = null; }
  if (notify) changed();
}

let lastActivity = 0;
function armIdle() {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (session) {
      lockReason = 'idle';
      lock();
      window.dispatchEvent(new CustomEvent('soshiki-idle-lock'));
    }
  }, idleMs());
}

export function activity() {
  const n = Date.now();
  if (session && n - lastActivity > 1000) { lastActivity = n; armIdle(); }
}

for (const ev of ['keydown', 'pointerdown', 'wheel', 'touchstart']) {
  window.addEventListener(ev, activity, { passive: true, capture: true });
}

// ----- per-member local lists (ids and names only, never a key or a plaintext) -----

function lsKey(kind) { return `soshiki.${kind}.${info ? info.certId : 'none'}`; }
export function loadList(kind) {
  try { return JSON.parse(localStorage.getItem(lsKey(kind)) || '[]'); } catch (_) { return []; }
}
export function saveList(kind, list) { localStorage.setItem(lsKey(kind), JSON.stringify(list)); }

// Pinned organizations (fingerprints the member compared out of band), shared by the browser.
export function pins() {
  try { return JSON.parse(localStorage.getItem('soshiki.pins') || '{}'); } catch (_) { return {}; }
}
export function pin(orgId, name) {
  const p = pins();
  p[orgId] = name;
  localStorage.setItem('soshiki.pins', JSON.stringify(p));
}
export function unpin(orgId) {
  const p = pins();
  delete p[orgId];
  localStorage.setItem('soshiki.pins', JSON.stringify(p));
}
export function isPinned(orgId) { return !!info && (orgId === info.orgId || orgId in pins()); }
