// Turns any failure into a clear sentence in the chosen language that still says exactly what
// went wrong: the wasm module's codes ("<code>: <text>"), the server's JSON errors
// ({error: {code, message}} with the HTTP status), and network failures.
import { ApiError, NetworkError } from './api.js';
import { t } from './i18n.js';
import { visibleText } from './ui.js';

const WASM_CODES = ['malformed', 'wrong-passphrase', 'untrusted', 'decrypt-failed', 'invalid', 'internal', 'no-crypto-module'];

/** {summary, detail}: summary in the UI language, detail the precise technical reason. */
export function describe(e) {
  if (e instanceof ApiError) {
    const key = `err.api.${e.code}`;
    let summary = t(key);
    if (summary === key) summary = e.status >= 500 ? t('err.api.internal') : t('err.api.other', { status: e.status });
    // The server's sentence is English, for operators: it stays behind the 詳細 toggle, with
    // the stable code an administrator can look up.
    return { summary, detail: e.code ? `${t('err.code')} ${e.code}: ${e.detail || ''}` : e.detail };
  }
  if (e instanceof NetworkError) return { summary: t('err.network'), detail: e.message };
  if (e && e.name === 'AbortError') return { summary: t('err.aborted'), detail: '' };
  const msg = String((e && e.message) || e);
  const m = /^([a-z-]+): ?([\s\S]*)$/.exec(msg);
  if (m && WASM_CODES.includes(m[1])) return { summary: t(`err.wasm.${m[1]}`), detail: m[2] };
  if (e && e.userMessage) return { summary: e.userMessage, detail: e.detailMessage || '' };
  return { summary: t('err.unexpected'), detail: msg };
}

/** The error as one line: "summary (detail)" (for logs and tests). */
export function errorLine(e) {
  const { summary, detail } = describe(e);
  return detail ? `${summary} (${t('err.detail')}: ${detail})` : summary;
}

/**
 * The error for the page: the sentence in the UI language, and the technical detail (often
 * the server's English sentence) behind a closed 詳細 / detail toggle, so a clerk reads only
 * their language unless they open it for the help desk.
 */
export function errorText(e) {
  const { summary, detail } = describe(e);
  return explained(summary, detail);
}

/**
 * A sentence in the UI language with a technical detail (often English: a server message, a
 * verification reason) behind a closed 詳細 / detail toggle. Both go through the same bidi
 * masking as h(): names quoted in them are shown, never obeyed.
 */
export function explained(summary, detail) {
  const span = document.createElement('span');
  span.className = 'error-message';
  span.append(visibleText(summary ?? ''));
  if (detail) {
    const det = document.createElement('details');
    det.className = 'error-detail';
    const sum = document.createElement('summary');
    sum.textContent = t('err.detail');
    const code = document.createElement('code');
    code.textContent = visibleText(detail);
    det.append(sum, code);
    span.append(' ', det);
  }
  return span;
}

/** A user-facing error raised by the UI itself (e.g. a check in the browser failed). */
export function userError(messageKey, params, detail) {
  const e = new Error(`ui: ${messageKey}`);
  e.userMessage = t(messageKey, params);
  e.detailMessage = detail || '';
  return e;
}
