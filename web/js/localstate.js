// Browser state that whoever can write the browser profile (but has no passphrase) must not
// change, roll back or delete unnoticed: the pinned organizations and the trust anchors. Each
// saved state is sealed in wasm (Session.sealLocalState): signed by the member key together
// with the member's certificate id, the kind of state and a serial number that grows with every
// save. A copy is kept in localStorage and another on the server (PUT /v1/me/local-state/KIND,
// which only ever accepts a greater serial). At unlock the verified copy with the higher serial
// wins (Session.reconcileLocalState) and the other copy is rewritten. The server alone cannot
// forge a state (it has no member key); rolling one back needs both the profile and the server.
import * as api from './api.js';

function storageKey(kind, certId) { return `soshiki.state.${kind}.${certId}`; }

// A copy as bytes for wasm: null stays null (missing); text that is not even base64 becomes
// bytes that do not verify (invalid), so it is reported and replaced like any altered copy.
function bytesOrInvalid(b64) {
  if (b64 === null || b64 === undefined) return null;
  try { return api.b64decode(b64); } catch (_) { return new Uint8Array(1); }
}

/** The server's copy (base64) or null; throws when the server cannot be asked. */
async function fetchServerCopy(kind) {
  try {
    return (await api.getJson(`/v1/me/local-state/${kind}`)).state;
  } catch (e) {
    if (e && e.status === 404 && e.code === 'not-found') return null;
    throw e;
  }
}

/**
 * Load state `kind` for the unlocked wasm session `s`: returns {value, serial, tampered,
 * notices}. `parse(text)` turns the verified text into a value (throws if it is not one);
 * `value` is null when there is no usable copy. `notices` lists what the member must be told:
 * {kind, what} with what = restoredMissing | restoredOlder | restoredInvalid | serverInvalid |
 * serverUnavailable.
 */
export async function load(s, certId, kind, parse) {
  const local = localStorage.getItem(storageKey(kind, certId));
  let server = null;
  let serverOk = true;
  try {
    server = await fetchServerCopy(kind);
  } catch (e) {
    serverOk = false;
    console.warn(`soshiki: the server's copy of the ${kind} state could not be fetched`, e);
  }
  const r = s.reconcileLocalState(kind, bytesOrInvalid(local), bytesOrInvalid(server));
  const notices = [];
  const note = (what) => notices.push({ kind, what });
  let value = null;
  let tampered = false;
  if (r.text !== null && r.text !== undefined) {
    try { value = parse(r.text); } catch (_) { tampered = true; }
  }
  if (r.sealed) {
    const b64 = api.b64encode(r.sealed);
    if (r.local !== 'current') {
      // The profile's copy was missing, older or altered: the newer signed copy is restored.
      if (r.local === 'missing') note('restoredMissing');
      else if (r.local === 'older') note('restoredOlder');
      else note('restoredInvalid');
      localStorage.setItem(storageKey(kind, certId), b64);
    }
    if (serverOk && r.server !== 'current') {
      try {
        await api.putJson(`/v1/me/local-state/${kind}`, { serial: r.serial, state: b64 });
      } catch (e) {
        console.warn(`soshiki: the ${kind} state could not be copied to the server`, e);
      }
    }
  } else if (r.local === 'invalid') {
    tampered = true;
  }
  if (r.server === 'invalid') {
    console.warn(`soshiki: the server's copy of the ${kind} state does not verify with this member's key; ignored`);
    note('serverInvalid');
  }
  if (!serverOk) note('serverUnavailable');
  return { value, serial: r.serial, tampered, notices };
}

/** Raised by save() when the server holds a newer copy (another tab or device saved). */
export class StateConflict extends Error {
  constructor(kind) { super(`the server holds a newer ${kind} state`); this.name = 'StateConflict'; }
}

/**
 * Seal `text` as state `kind` with `serial` and store it on the server, then in the profile.
 * Throws StateConflict (nothing written) if the server already holds this or a greater serial;
 * if the server cannot be reached the profile's copy is written anyway (the next unlock copies
 * the newer one to the server).
 */
export async function save(s, certId, kind, serial, text) {
  const b64 = api.b64encode(s.sealLocalState(kind, serial, text));
  try {
    await api.putJson(`/v1/me/local-state/${kind}`, { serial, state: b64 });
  } catch (e) {
    if (e && e.status === 409) throw new StateConflict(kind);
    console.warn(`soshiki: the ${kind} state could not be stored on the server`, e);
  }
  localStorage.setItem(storageKey(kind, certId), b64);
}
