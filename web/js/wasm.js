// Loads the browser crypto module (web/pkg, built by scripts/build-web.sh and embedded in the
// server binary). When the build has none, `crypto()` is null and the shell shows a banner.

let mod = null;
let failure = null;

export async function loadCrypto() {
  try {
    const m = await import('/pkg/soshiki_wasm.js');
    await m.default();
    mod = m;
  } catch (e) {
    failure = e;
    mod = null;
  }
  return mod;
}

/** The module, or null when this build has none. */
export function crypto() { return mod; }
export function cryptoFailure() { return failure; }

/** The module, or throw a recognisable error (the UI maps it to the banner text). */
export function need() {
  if (!mod) {
    const e = new Error('no-crypto-module: this build has no browser crypto module');
    e.code = 'no-crypto-module';
    throw e;
  }
  return mod;
}
