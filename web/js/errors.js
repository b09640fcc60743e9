// Turns any failure into a clear sentence in the chosen language that still says exactly what
// went wrong: the wasm module's codes ("<code>: <text>"), the server's JSON errors
// ({error: {code, message}} with the HTTP status), and network failures.
import { ApiError, NetworkError } from './api.js';
import { lang, t } from './i18n.js';

const WASM_CODES = ['malformed', 'wrong-passphrase', 'untrusted', 'decrypt-failed', 'invalid', 'internal', 'no-crypto-module'];

/** {summary, detail}: summary in the UI language, detail the precise technical reason. */
export function describe(e) {
  if (e instanceof ApiError) {
    const key = `err.api.${e.code}`;
    let summary = t(key);
    if (summary === key) summary = e.status >= 500 ? t('err.api.internal') : t('err.api.other', { status: e.status });
    // The server's sentence is English, for operators: a Japanese page names only the stable
    // code (which the administrator can look up) and leaves the sentence to the console.
    if (lang() === 'ja') {
      if (e.detail) console.warn(`server: ${e.code}: ${e.detail}`);
      return { summary, detail: e.code ? `${t('err.code')} ${e.code}` : '' };
    }
    return { summary, detail: e.detail };
  }
  if (e instanceof NetworkError) return { summary: t('err.network'), detail: e.message };
  if (e && e.name === 'AbortError') return { summary: t('err.aborted'), detail: '' };
  const msg = String((e && e.message) || e);
  const m = /^([a-z-]+): ?([\s\S]*)$/.exec(msg);
  if (m && WASM_CODES.includes(m[1])) return { summary: t(`err.wasm.${m[1]}`), detail: m[2] };
  if (e && e.userMessage) return { summary: e.userMessage, detail: e.detailMessage || '' };
  return { summary: t('err.unexpected'), detail: msg };
}

/** The error as one line: "summary (detail)". */
export function errorText(e) {
  const { summary, detail } = describe(e);
  return detail ? `${summary} (${t('err.detail')}: ${detail})` : summary;
}

/** A user-facing error raised by the UI itself (e.g. a check in the browser failed). */
export function userError(messageKey, params, detail) {
  const e = new Error(`ui: ${messageKey}`);
  e.userMessage = t(messageKey, params);
  e.detailMessage = detail || '';
  return e;
}
