// What this browser accepts from the server about revocation and the audit trail, checked in
// wasm against keys the server does not hold (soshiki_client::trust): the organization-signed
// revocation list (SPEC.md §5.6) and audit checkpoints (§5.7). The newest revocation-list
// serial and the newest checkpoint seen are remembered per organization, so a server that
// replays an older list or withholds a checkpoint is caught. They are remembered in the
// member's protected `trust` state (session.js, localstate.js: signed by the member key,
// numbered, copied to the server), so that whoever can write the browser profile cannot roll
// them back or delete them unnoticed either.
import * as api from './api.js';
import { need } from './wasm.js';
import * as member from './session.js';

const now = () => Math.floor(Date.now() / 1000);

export function seenSerial(orgId) { return member.state('trust').serials[orgId] || 0; }
async function rememberSerial(orgId, serial) {
  if (serial <= seenSerial(orgId)) return;
  await member.updateState('trust', (v) => {
    v.serials[orgId] = Math.max(v.serials[orgId] || 0, serial);
    return v;
  });
}

async function getOrNull(path) {
  try { return await api.getJson(path, { auth: false }); } catch (e) {
    if (e && e.status === 404 && e.code === 'not-found') return null;
    throw e;
  }
}

/** The organization's newest revocation list as served (unverified), or null. */
export function fetchList(orgId) { return getOrNull(`/v1/orgs/${orgId}/revocations`); }

/**
 * Verify the organization's newest revocation list against its pinned record (throws
 * `untrusted` if missing, withheld, replayed, stale or not the organization's) and, with
 * `certificate`, refuse a certificate it revokes. Returns {serial, nextUpdate, revoked}.
 */
export async function checkRevocations(orgId, orgRecord, certificate = null) {
  const l = await fetchList(orgId);
  const info = need().verifyRevocations(orgRecord, l ? l.list : null, seenSerial(orgId), now(), certificate);
  await rememberSerial(orgId, info.serial);
  return info;
}

/** Publish the next revocation list (current one + `revoke`), signed with the organization key. */
export async function publishRevocations(session, orgKey, orgId, revoke = []) {
  const cur = await fetchList(orgId);
  const { serial, list } = orgKey.revocationList(cur ? cur.list : null, revoke, null);
  if (serial <= seenSerial(orgId)) throw new Error(`untrusted: the server serves an older revocation list than #${seenSerial(orgId)}`);
  await api.putJson(`/v1/orgs/${orgId}/revocations`, { list: api.b64encode(list) },
    { action: session.actionPublishRevocations(orgId, serial, list) });
  await rememberSerial(orgId, serial);
  return serial;
}

/** The newest checkpoint this browser saw (base64), or null. */
export function rememberedCheckpoint(orgId) { return member.state('trust').checkpoints[orgId] || null; }
export async function rememberCheckpoint(orgId, b64) {
  if (!b64 || rememberedCheckpoint(orgId) === b64) return;
  await member.updateState('trust', (v) => { v.checkpoints[orgId] = b64; return v; });
}

/** The checkpoint the server serves (base64), or null. */
export async function servedCheckpoint(orgId) {
  const c = await getOrNull(`/v1/orgs/${orgId}/checkpoint`);
  return c ? c.checkpoint : null;
}

/** Sign and store a checkpoint of the entry `seq` with chain hash `hash` (a verified page). */
export async function publishCheckpoint(session, orgKey, orgId, seq, hash) {
  const cp = orgKey.signCheckpoint(seq, hash);
  await api.putJson(`/v1/orgs/${orgId}/checkpoint`, { checkpoint: api.b64encode(cp) },
    { action: session.actionCheckpoint(orgId, seq, cp) });
  await rememberCheckpoint(orgId, api.b64encode(cp));
}

/**
 * Publish the next partner list of the organization (administrator, organization key
 * unlocked): the current one, verified like every member does, with the organization `add`
 * ({id, name}: the name the administrator confirmed) added and the ids `remove` removed. Then
 * this tab's view of the list is refreshed. Returns the new serial.
 */
export async function publishPartners(session, orgKey, orgId, { add = null, remove = [] } = {}) {
  let cur = null;
  try { cur = await api.getJson(`/v1/orgs/${orgId}/partners`); } catch (e) {
    if (!(e && e.status === 404 && e.code === 'not-found')) throw e;
  }
  const seen = member.state('trust').partners || 0;
  // The current list must verify (not changed, replayed or withheld) before it is extended.
  need().verifyPartners(session.organizationRecord(), cur ? cur.list : null, seen, now());
  const { serial, list } = orgKey.signPartners(cur ? cur.list : null, add ? add.id : null, add ? add.name : null, remove);
  await api.putJson(`/v1/orgs/${orgId}/partners`, { list: api.b64encode(list) },
    { action: session.actionPublishPartners(orgId, serial, list) });
  await member.refreshPartners();
  return serial;
}
