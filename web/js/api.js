// The /v1 HTTP API, as crates/soshiki-client/src/http.rs calls it. Only this server's origin is
// ever contacted (relative URLs). Binary values travel as standard base64 in JSON.

export const ACTION_HEADER = 'soshiki-action';

/** An error answered by the server: {error: {code, message}} with the HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = message;
  }
}

/** The network failed (server stopped, connection refused…). */
export class NetworkError extends Error {
  constructor(cause) {
    super(String(cause && cause.message ? cause.message : cause));
    this.name = 'NetworkError';
  }
}

export function b64encode(bytes) {
  let s = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(s);
}

export function b64decode(text) {
  const s = atob(String(text));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

let token = null;
let reauth = null;
export function setToken(tk) { token = tk; }
/** A function that logs in again (the token lasts one hour); tried once on a 401. */
export function setReauth(fn) { reauth = fn; }
export function hasToken() { return token !== null; }

async function check(resp) {
  if (resp.ok) return resp;
  let code = 'http';
  let message = resp.statusText || `HTTP ${resp.status}`;
  try {
    const body = await resp.json();
    if (body && body.error) { code = body.error.code; message = body.error.message; }
  } catch (_) { /* not JSON */ }
  throw new ApiError(resp.status, code, message);
}

/**
 * One request. opts: {json, body, action, auth (default true), contentType}.
 * Returns the Response (checked).
 */
export async function request(method, path, opts = {}) {
  const headers = {};
  if (opts.auth !== false && token) headers.Authorization = `Bearer ${token}`;
  if (opts.action) headers[ACTION_HEADER] = opts.action;
  let body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = opts.contentType || 'application/octet-stream';
    body = opts.body;
  }
  let resp;
  try {
    resp = await fetch(path, { method, headers, body, cache: 'no-store', credentials: 'omit', signal: opts.signal });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new NetworkError(e);
  }
  if (resp.status === 401 && headers.Authorization && reauth && !opts.noRetry) {
    // An expired token: log in again with the unlocked key and repeat the request once (a 401
    // is answered before anything changes; a signed statement stays valid for 300 s).
    await reauth();
    return request(method, path, { ...opts, noRetry: true });
  }
  return check(resp);
}

export async function getJson(path, opts) { return (await request('GET', path, opts)).json(); }

/** Rows per page and the most pages one listing follows (a looping server cannot hang us). */
export const PAGE_LIMIT = 1000;
export const MAX_PAGES = 1000;

/**
 * GET every page of a list endpoint (`limit`/`after`, answer `next`) and return the rows of
 * `field` concatenated. A repeated cursor or more than MAX_PAGES pages is an error.
 */
export async function getAllPages(path, field, opts) {
  const rows = [];
  let after = null;
  for (let i = 0; i < MAX_PAGES; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const cursor = after === null ? '' : `&after=${encodeURIComponent(after)}`;
    const page = await getJson(`${path}${sep}limit=${PAGE_LIMIT}${cursor}`, opts);
    rows.push(...(page[field] || []));
    if (page.next === null || page.next === undefined) return rows;
    if (page.next === after) throw new Error('the server repeated a page cursor');
    after = page.next;
  }
  throw new Error(`the listing did not end after ${MAX_PAGES} pages`);
}
export async function postJson(path, json, opts = {}) { return (await request('POST', path, { ...opts, json })).json(); }
export async function putJson(path, json, opts = {}) { return (await request('PUT', path, { ...opts, json })).json(); }
export async function getBytes(path, opts) {
  return new Uint8Array(await (await request('GET', path, opts)).arrayBuffer());
}

/** PUT bytes with upload progress (XMLHttpRequest: fetch has no upload progress). */
export function putWithProgress(path, bytes, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', path);
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.loaded, e.lengthComputable ? e.total : bytes.length);
    xhr.onerror = () => reject(new NetworkError('upload failed'));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* empty */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else if (body && body.error) reject(new ApiError(xhr.status, body.error.code, body.error.message));
      else reject(new ApiError(xhr.status, 'http', xhr.statusText || `HTTP ${xhr.status}`));
    };
    xhr.send(bytes);
  });
}
