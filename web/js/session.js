// The unlocked member key (a wasm Session) for this tab, the bearer token, the optional
// unlocked organization key (administrators), and the idle lock.
import * as api from './api.js';
import { need } from './wasm.js';
import * as localstate from './localstate.js';

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

// The organization's policy as the server reports it, for what the pages offer (the server
// enforces it; nothing here is a security decision): whether sending outside needs the sender
// role.
let senderRoleRequired = false;
async function refreshPolicy() {
  senderRoleRequired = false;
  try {
    const o = await api.getJson(`/v1/orgs/${info.orgId}`);
    senderRoleRequired = !!o.sender_role_required;
  } catch (e) {
    // Unknown: sending is offered, and the server refuses it if the policy says so.
    console.warn('soshiki: the organization policy could not be read', e);
  }
}
/** Whether this member may send to other organizations (the organization's policy, its roles). */
export function maySend() { return !!info && (!senderRoleRequired || info.roles.includes('sender')); }

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
  await loadStates();
  await refreshPartners(false);
  await refreshPolicy();
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
  states = emptyStates();
  notices = [];
  orgPartners = {};
  partnersProblem = null;
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

// Per-member state that decides what this browser trusts, protected against whoever can write
// the browser profile (localstate.js: signed by the member key with a serial number, copied to
// the server, the newer verified copy wins at unlock):
// - `pins`: the pinned organizations (fingerprints the member compared out of band);
// - `trust`: per organization, the highest revocation-list serial and the newest audit
//   checkpoint seen (trust.js), and `partners`, the highest serial of the member's own
//   organization's partner list (SPEC.md §5.8). Rolled back, they would let a server replay an
//   older list or a shortened trail unnoticed.
// A copy that does not verify is not used; the pages say so (pinsTampered, stateNotices).
// Not protected, on purpose: the idle-lock delay (capped at IDLE_MAX_SECONDS whatever the
// profile says), the language, the save mode and the list of sent envelopes (a convenience
// index of the receipts page; the receipts themselves come from the server).
const HEX64 = /^[0-9a-f]{64}$/;
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parsePins(text) {
  const p = JSON.parse(text);
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw new Error('shape');
  for (const [id, name] of Object.entries(p)) {
    if (!HEX64.test(id) || typeof name !== 'string') throw new Error('shape');
  }
  return p;
}

function parseTrust(text) {
  const v = JSON.parse(text);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('shape');
  const serials = v.serials || {};
  const checkpoints = v.checkpoints || {};
  for (const [id, n] of Object.entries(serials)) {
    if (!HEX64.test(id) || !Number.isSafeInteger(n) || n < 0) throw new Error('shape');
  }
  for (const [id, c] of Object.entries(checkpoints)) {
    if (!HEX64.test(id) || typeof c !== 'string' || !B64.test(c)) throw new Error('shape');
  }
  const partners = v.partners || 0;
  if (!Number.isSafeInteger(partners) || partners < 0) throw new Error('shape');
  return { serials, checkpoints, partners };
}

const KINDS = {
  pins: { empty: () => ({}), parse: parsePins },
  trust: { empty: () => ({ serials: {}, checkpoints: {}, partners: 0 }), parse: parseTrust },
};

function emptyStates() {
  const out = {};
  for (const [kind, k] of Object.entries(KINDS)) out[kind] = { value: k.empty(), serial: 0, tampered: false };
  return out;
}

let states = emptyStates();
let notices = [];
const queues = {};

async function loadState(kind) {
  const r = await localstate.load(session, info.certId, kind, KINDS[kind].parse);
  states[kind] = { value: r.value || KINDS[kind].empty(), serial: r.serial, tampered: r.tampered };
  return r.notices;
}

async function loadStates() {
  states = emptyStates();
  notices = [];
  for (const kind of Object.keys(KINDS)) {
    try {
      notices.push(...await loadState(kind));
    } catch (e) {
      console.warn(`soshiki: the ${kind} state could not be loaded`, e);
      states[kind].tampered = true;
    }
    if (kind !== 'pins' && states[kind].tampered) notices.push({ kind, what: 'tampered' });
  }
}

/**
 * Change state `kind` with `fn(copy) -> new value`, save it with the next serial (profile and
 * server). If another tab or device saved a newer one meanwhile, take that one and apply `fn`
 * to it instead. Changes of one kind run one after another.
 */
export function updateState(kind, fn) {
  const run = async () => {
    if (!session) throw new Error('invalid: unlock a key first');
    for (let attempt = 0; ; attempt++) {
      const cur = states[kind];
      const next = fn(JSON.parse(JSON.stringify(cur.value)));
      const serial = cur.serial + 1;
      try {
        await localstate.save(session, info.certId, kind, serial, JSON.stringify(next));
        states[kind] = { value: next, serial, tampered: false };
        return next;
      } catch (e) {
        if (!(e instanceof localstate.StateConflict) || attempt >= 2) throw e;
        await loadState(kind);
      }
    }
  };
  const q = (queues[kind] || Promise.resolve()).then(run, run);
  queues[kind] = q.catch(() => {});
  return q;
}

/** A copy of state `kind` (the empty state when locked). */
export function state(kind) {
  return JSON.parse(JSON.stringify(info ? states[kind].value : KINDS[kind].empty()));
}

/**
 * What the member must be told about the protected state since unlock: [{kind, what}] with
 * what = restoredMissing | restoredOlder | restoredInvalid | serverInvalid | serverUnavailable
 * | tampered.
 */
export function stateNotices() { return info ? notices.slice() : []; }
export function dismissStateNotices() { notices = []; }

/** Whether the stored pin list failed verification at unlock (it is then not used). */
export function pinsTampered() { return !!info && states.pins.tampered; }
export function pins() { return info ? state('pins') : {}; }
export async function pin(orgId, name) {
  if (!HEX64.test(orgId)) throw new Error('invalid: an organization id is 64 hex digits');
  await updateState('pins', (p) => ({ ...p, [orgId]: String(name) }));
}
export async function unpin(orgId) {
  await updateState('pins', (p) => { delete p[orgId]; return p; });
}

// The member's own organization's partner list (SPEC.md §5.8): signed by the organization key,
// maintained by its administrator, verified here against the member's own organization record
// and the highest serial this member has seen (kept in the protected `trust` state, so a
// replayed older list is refused even after the profile was rolled back). An organization it
// lists counts as pinned. A list that does not verify trusts nobody (partnersProblem says why).
let orgPartners = {};
let partnersProblem = null;

/** Fetch and verify the organization's partner list again (after unlock, after publishing). */
export async function refreshPartners(notify = true) {
  orgPartners = {};
  partnersProblem = null;
  const sk = need();
  if (!info || typeof sk.verifyPartners !== 'function') return;
  try {
    let l = null;
    try { l = await api.getJson(`/v1/orgs/${info.orgId}/partners`); } catch (e) {
      if (!(e && e.status === 404 && e.code === 'not-found')) throw e;
    }
    const seen = states.trust.value.partners || 0;
    const v = sk.verifyPartners(session.organizationRecord(), l ? l.list : null, seen, Math.floor(Date.now() / 1000));
    if (v) {
      const out = {};
      v.ids.forEach((id, i) => { out[id] = v.names[i]; });
      orgPartners = out;
      if (v.serial > seen) await updateState('trust', (t) => { t.partners = Math.max(t.partners || 0, v.serial); return t; });
    }
  } catch (e) {
    partnersProblem = (e && e.message) || String(e);
    console.warn('soshiki: the partner list of the organization is refused', e);
  }
  if (notify) changed();
}
/** The verified partner organizations of the member's own organization: {id: confirmed name}. */
export function partners() { return info ? { ...orgPartners } : {}; }
/** Why the partner list was refused (null if it verified or there is none). */
export function partnersRefused() { return info ? partnersProblem : null; }
/** Organizations this member may address: its own pins and the organization's partners. */
export function trustedOrgs() { return { ...partners(), ...pins() }; }
export function isPinned(orgId) {
  return !!info && (orgId === info.orgId || orgId in states.pins.value || orgId in orgPartners);
}
