// The sealed routing metadata of a delivery (title, category, per-part labels, hops), opened in
// the browser from the delivery's metadata copy (GET …/metadata: the header with the metadata
// slot only, no part C1, no body), which every holder gets whatever its roles, also after it
// forwarded every part onward, and which is not a download. Cached for this tab only.
import * as api from './api.js';
import * as session from './session.js';
import { now, fmtTime } from './ui.js';

const cache = new Map();

export function forget(id) { cache.delete(id); }
export function clearCache() { cache.clear(); }

export function canForward(d) {
  return (session.hasRole('forwarder') || session.hasRole('representative'))
    && d.status === 'delivered' && (d.forwardable_parts || []).length > 0;
}

export function canOpen(d) {
  return session.hasRole('reader') && (d.status === 'delivered' || d.status === 'opened') && d.body_available !== false;
}

/** {title, category, senderOrg, senderName, parts:[{index,name,labels,length?}], hops} or throws. */
export async function loadMeta(d) {
  if (cache.has(d.id)) return cache.get(d.id);
  const s = session.current();
  if (!['delivered', 'opened', 'forwarded'].includes(d.status)) return null;
  const copy = await api.getBytes(`/v1/deliveries/${d.id}/metadata`);
  const meta = s.readMetadata(copy, now());
  if (meta.envelopeId && meta.envelopeId !== d.envelope_id) {
    throw new Error('untrusted: the server sent another envelope than the delivery\'s');
  }
  cache.set(d.id, meta);
  return meta;
}

export function orgIdOf(x) {
  if (!x) return '';
  if (typeof x === 'string') return x;
  return x.id || x.orgId || '';
}
/** The sender organization's name from an envelope view (senderOrgName), '' if absent. */
export function orgNameOf(view) {
  if (!view) return '';
  if (typeof view.senderOrgName === 'string') return view.senderOrgName;
  const x = view.senderOrg;
  if (!x || typeof x === 'string') return '';
  return x.name || x.orgName || '';
}

/** One hop as text: "A → B (time)". Tolerant of the wasm module's field names. */
export function hopText(hop) {
  if (!hop || typeof hop !== 'object') return String(hop);
  const from = hop.fromName || hop.forwarderName || hop.from || hop.forwarder || '';
  const to = hop.toName || hop.targetName || hop.to || hop.target || '';
  const parts = hop.parts ? ` [${[].concat(hop.parts).join(',')}]` : '';
  const when = hop.time ? ` (${fmtTime(hop.time)})` : '';
  return `${from} → ${to}${parts}${when}`;
}
