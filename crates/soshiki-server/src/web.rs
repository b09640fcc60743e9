//! The browser UI, embedded in the binary and served at `/` (the API stays under `/v1`).
//!
//! Every file of `web/` is compiled in by `build.rs` (`include_bytes!`), so the UI works on a
//! closed network: no CDN, no external origin. Each answer carries a strict
//! Content-Security-Policy (only `'self'`, plus `'wasm-unsafe-eval'` to compile the crypto
//! module), `X-Content-Type-Options: nosniff`, an ETag and `Cache-Control: no-cache` (the
//! browser revalidates, so a new binary's UI is picked up at once; unchanged files cost a 304).
//!
//! The browser crypto module (`web/pkg/`, built by `scripts/build-web.sh`) is embedded only
//! when it existed at build time (`cfg(soshiki_web_pkg)`); without it the pages load and show
//! a banner telling the operator how to build it.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

/// One embedded file.
#[derive(Debug)]
pub(crate) struct Asset {
    /// URL path (`/index.html`, `/js/app.js`, `/pkg/soshiki_wasm_bg.wasm`).
    pub path: &'static str,
    /// `Content-Type` header value.
    pub content_type: &'static str,
    /// Quoted ETag (a hash of the content computed at build time).
    pub etag: &'static str,
    /// The file's bytes.
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The Content-Security-Policy of every UI answer: nothing but this server.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; worker-src 'self'; \
manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";

/// Whether this build embeds the browser crypto module.
pub(crate) const HAS_CRYPTO_MODULE: bool = cfg!(soshiki_web_pkg);

fn serve(asset: &'static Asset, headers: &HeaderMap) -> Response {
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == asset.etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = asset.body.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        r
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    h.insert(
        "Cross-Origin-Opener-Policy",
        HeaderValue::from_static("same-origin"),
    );
    resp
}

/// The UI's routes: `/` (the index page) and every embedded file at its path.
pub(crate) fn router() -> Router<AppState> {
    let mut r = Router::new();
    for asset in ASSETS {
        r = r.route(
            asset.path,
            get(move |headers: HeaderMap| async move { serve(asset, &headers) }),
        );
        if asset.path == "/index.html" {
            r = r.route(
                "/",
                get(move |headers: HeaderMap| async move { serve(asset, &headers) }),
            );
        }
    }
    tracing::debug!(
        files = ASSETS.len(),
        crypto_module = HAS_CRYPTO_MODULE,
        "web UI embedded"
    );
    r
}
