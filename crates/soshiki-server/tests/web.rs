//! The embedded web UI: every file of `web/` (except the end-to-end tests) is served at its
//! path with the right content type, the strict Content-Security-Policy and nosniff; `/` is
//! the index page; ETags revalidate; no asset references an external URL. The browser crypto
//! module (`web/pkg/`) is served exactly when it was built.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use soshiki_server::{router, AppState};
use tower::ServiceExt;

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

fn has_pkg() -> bool {
    web_dir().join("pkg/soshiki_wasm_bg.wasm").is_file()
}

/// (URL path, file) of every file the binary must embed.
fn expected_assets() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read web dir")
            .map(|e| e.expect("dir entry"))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let url = format!("{rel}/{name}");
            let path = e.path();
            if path.is_dir() {
                if rel.is_empty() && (name == "e2e" || name == "node_modules") {
                    continue;
                }
                if rel.is_empty() && name == "pkg" && !has_pkg() {
                    continue;
                }
                walk(&path, &url, out);
            } else if rel == "/pkg" {
                if name.ends_with(".js") || name.ends_with(".wasm") {
                    out.push((url, path));
                }
            } else if !name.ends_with(".md") {
                // Everything but documentation is part of the UI.
                out.push((url, path));
            }
        }
    }
    let mut out = Vec::new();
    walk(&web_dir(), "", &mut out);
    out
}

fn expected_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        other => panic!("unexpected file type in web/: {path} ({other}); add it to build.rs"),
    }
}

async fn app(dir: &Path) -> Router {
    let store = soshiki_store::open_store(&format!("sqlite://{}", dir.join("db.sqlite").display()))
        .await
        .expect("store");
    let blobs = soshiki_store::open_blobs(&dir.join("blobs").display().to_string())
        .await
        .expect("blobs");
    router(AppState::new(
        store.into(),
        blobs.into(),
        "http://127.0.0.1:7780",
    ))
}

async fn get(app: &Router, path: &str, etag: Option<&str>) -> axum::response::Response {
    let mut req = Request::get(path);
    if let Some(e) = etag {
        req = req.header(header::IF_NONE_MATCH, e);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response")
}

fn header_str<'a>(resp: &'a axum::response::Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .expect("ascii header")
}

/// The policy allows nothing but this origin (and compiling WebAssembly).
fn check_csp(csp: &str, path: &str) {
    assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{path}: {csp}"
    );
    assert!(csp.contains("object-src 'none'"), "{path}: {csp}");
    for directive in csp.split(';') {
        for source in directive.split_whitespace().skip(1) {
            assert!(
                matches!(source, "'self'" | "'none'" | "'wasm-unsafe-eval'"),
                "{path}: CSP source {source} is not allowed: {csp}"
            );
        }
    }
}

#[tokio::test]
async fn every_asset_is_served_with_type_csp_and_cache_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path()).await;
    let assets = expected_assets();
    for must in [
        "/index.html",
        "/style.css",
        "/sw.js",
        "/js/app.js",
        "/js/i18n.js",
    ] {
        assert!(
            assets.iter().any(|(u, _)| u == must),
            "web/{must} is missing"
        );
    }
    for (url, file) in &assets {
        let resp = get(&app, url, None).await;
        assert_eq!(resp.status(), StatusCode::OK, "{url}");
        assert_eq!(
            header_str(&resp, "content-type"),
            expected_type(url),
            "{url}"
        );
        check_csp(header_str(&resp, "content-security-policy"), url);
        assert_eq!(
            header_str(&resp, "x-content-type-options"),
            "nosniff",
            "{url}"
        );
        assert_eq!(header_str(&resp, "cache-control"), "no-cache", "{url}");
        let etag = header_str(&resp, "etag").to_string();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        let disk = std::fs::read(file).expect("read asset");
        assert!(
            body == disk,
            "{url}: the served bytes differ from {}",
            file.display()
        );
        // Revalidation: the same ETag gives 304 without a body, still with the policy.
        let again = get(&app, url, Some(&etag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{url}");
        check_csp(header_str(&again, "content-security-policy"), url);
    }
    // `/` is the index page.
    let root = get(&app, "/", None).await;
    assert_eq!(root.status(), StatusCode::OK);
    assert_eq!(
        header_str(&root, "content-type"),
        "text/html; charset=utf-8"
    );
    check_csp(header_str(&root, "content-security-policy"), "/");
    let body = axum::body::to_bytes(root.into_body(), usize::MAX)
        .await
        .expect("body");
    assert!(body == std::fs::read(web_dir().join("index.html")).expect("index"));
    // The API is unchanged: unknown paths are still JSON errors, the e2e tests are not served.
    let missing = get(&app, "/v1/nothing", None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, "/e2e/package.json", None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/../Cargo.toml", None).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn crypto_module_is_served_exactly_when_built() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app(dir.path()).await;
    let wasm = get(&app, "/pkg/soshiki_wasm_bg.wasm", None).await;
    let js = get(&app, "/pkg/soshiki_wasm.js", None).await;
    if has_pkg() {
        assert_eq!(wasm.status(), StatusCode::OK);
        assert_eq!(header_str(&wasm, "content-type"), "application/wasm");
        assert_eq!(js.status(), StatusCode::OK);
    } else {
        // The UI then shows its bilingual "no browser crypto module" banner.
        assert_eq!(wasm.status(), StatusCode::NOT_FOUND);
        assert_eq!(js.status(), StatusCode::NOT_FOUND);
        let shell = std::fs::read_to_string(web_dir().join("js/app.js")).expect("app.js");
        assert!(shell.contains("scripts/build-web.sh"), "banner text");
        assert!(shell.contains("このビルドにはブラウザ用の暗号モジュールがありません"));
    }
}

/// Every `http://`/`https://` in the UI's files, and every protocol-relative reference in a
/// `src`, `href`, `url(…)` or import. Allowed: 127.0.0.1, and the SVG namespace identifier
/// (a name, never fetched).
fn external_references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for scheme in ["http://", "https://"] {
        let mut rest = text;
        while let Some(i) = rest.find(scheme) {
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ')' | '<' | '>')
                })
                .unwrap_or(tail.len());
            let url = &tail[..end];
            let allowed = url.starts_with(&format!("{scheme}127.0.0.1"))
                || url == "http://www.w3.org/2000/svg";
            if !allowed {
                found.push(url.to_string());
            }
            rest = &tail[scheme.len()..];
        }
    }
    let squeezed: String = text.split_whitespace().collect::<Vec<_>>().join("");
    for pat in [
        "src=\"//",
        "src='//",
        "href=\"//",
        "href='//",
        "url(//",
        "url(\"//",
        "url('//",
        "from'//",
        "from\"//",
        "import('//",
        "import(\"//",
        "fetch('//",
        "fetch(\"//",
    ] {
        if squeezed.contains(pat) {
            found.push(pat.to_string());
        }
    }
    found
}

#[test]
fn no_asset_references_an_external_url() {
    let mut checked = 0;
    for (url, file) in expected_assets() {
        if url.ends_with(".wasm") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("text asset");
        let bad = external_references(&text);
        assert!(bad.is_empty(), "{url} references external URLs: {bad:?}");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} assets scanned");
    // The scanner itself catches what it must.
    assert_eq!(
        external_references("<script src=\"https://cdn.example/x.js\">"),
        vec!["https://cdn.example/x.js".to_string()]
    );
    assert!(!external_references("<link href = \"//fonts.example/f.css\">").is_empty());
    assert!(!external_references("@import url('//x.example/a.css')").is_empty());
    assert!(
        external_references("fetch('/v1/inbox'); fetch('http://127.0.0.1:7780/v1')").is_empty()
    );
}
