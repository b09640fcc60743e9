// The unlocked member key (a wasm Session) for this tab, the bearer token, the optional
// unlocked organization key (administrators), and the idle lock.
import * as api from './api.js';
import { need } from './wasm.js';

// Lock after 15 minutes without activity. (localStorage 'soshiki.idleSeconds' shortens it, for
// the end-to-end test of the idle lock.) Whatever the profile says, never later than 60 minutes.
export const IDLE_DEFAULT_SECONDS = 15 * 60;
export const IDLE_MAX_SECONDS = 60 * 60;
export function idleSeconds() {
  const s = Number(localStorage.getItem('soshiki.idleSeconds'));
  return Math.min(Number.isFinite(s) && s >= 1 ? s : IDLE_DEFAULT_SECONDS, IDLE_MAX_SECONDS);
}
function idleMs() { return idleSeconds() * 1000; }
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
  loadPins();
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
  pinState = { pins: {}, tampered: false };
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

// Pinned organizations (fingerprints the member compared out of band), per member. The list
// is stored signed by the member's key (Session.signLocalState) and verified when the key is
// unlocked: someone who can write the browser profile but has no passphrase cannot add, change
// or remove a pin unnoticed. A list that does not verify is not used at all, and the pages say
// so (pinsTampered) until the member pins again.
let pinState = { pins: {}, tampered: false };
const HEX64 = /^[0-9a-f]{64}$/;

function pinsKey() { return `soshiki.pins.${info.certId}`; }

function loadPins() {
  pinState = { pins: {}, tampered: false };
  const raw = localStorage.getItem(pinsKey());
  if (raw === null) return;
  try {
    const stored = JSON.parse(raw);
    if (!stored || typeof stored.text !== 'string' || typeof stored.sig !== 'string') throw new Error('shape');
    const sig = api.b64decode(stored.sig);
    if (!session.verifyLocalState('pins', stored.text, sig)) throw new Error('signature');
    const p = JSON.parse(stored.text);
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw new Error('shape');
    for (const [id, name] of Object.entries(p)) {
      if (!HEX64.test(id) || typeof name !== 'string') throw new Error('shape');
    }
    pinState.pins = p;
  } catch (_) {
    pinState.tampered = true;
  }
}

function savePins(p) {
  if (!session) throw new Error('invalid: unlock a key to pin organizations');
  const text = JSON.stringify(p);
  const sig = api.b64encode(session.signLocalState('pins', text));
  localStorage.setItem(pinsKey(), JSON.stringify({ text, sig }));
  pinState = { pins: { ...p }, tampered: false };
}

/** Whether the stored pin list failed verification at unlock (it is then not used). */
export function pinsTampered() { return !!info && pinState.tampered; }
export function pins() { return info ? { ...pinState.pins } : {}; }
export function pin(orgId, name) {
  if (!HEX64.test(orgId)) throw new Error('invalid: an organization id is 64 hex digits');
  savePins({ ...pinState.pins, [orgId]: String(name) });
}
export function unpin(orgId) {
  const p = { ...pinState.pins };
  delete p[orgId];
  savePins(p);
}
export function isPinned(orgId) { return !!info && (orgId === info.orgId || orgId in pinState.pins); }
