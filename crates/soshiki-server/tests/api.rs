//! The router without a socket (`oneshot`): the OpenAPI document describes exactly the routes,
//! errors are JSON with safe messages, and the server's sources never name a secret key or a
//! decryption function.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use soshiki_client::proto::json::ErrorBody;
use soshiki_server::{router, routes, AppState, OPENAPI_JSON};
use tower::ServiceExt;

async fn state(dir: &std::path::Path) -> AppState {
    let store = soshiki_store::open_store(&format!("sqlite://{}", dir.join("db.sqlite").display()))
        .await
        .expect("store");
    let blobs = soshiki_store::open_blobs(&dir.join("blobs").display().to_string())
        .await
        .expect("blobs");
    AppState::new(Arc::from(store), Arc::from(blobs), "http://127.0.0.1:1")
}

async fn call(app: axum::Router, method: Method, uri: &str, body: Body) -> (StatusCode, Vec<u8>) {
    let resp = app
        .oneshot(
            Request::builder()
                .method(method)
                .uri(uri)
                .body(body)
                .expect("request"),
        )
        .await
        .expect("response");
    let status = resp.status();
    let b = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .expect("body");
    (status, b.to_vec())
}

#[tokio::test]
async fn openapi_describes_every_route_and_nothing_else() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let served: BTreeSet<(String, String)> = routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(served, documented, "router and OpenAPI document differ");
    // Every $ref resolves.
    let text = OPENAPI_JSON;
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().expect("name");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "missing schema {name}"
        );
    }
    // And it is served.
    let dir = tempfile::tempdir().expect("tmp");
    let (status, body) = call(
        router(state(dir.path()).await),
        Method::GET,
        "/v1/openapi.json",
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, OPENAPI_JSON.as_bytes());
}

#[tokio::test]
async fn every_route_is_routed_and_errors_are_json() {
    let dir = tempfile::tempdir().expect("tmp");
    let app = router(state(dir.path()).await);
    for (method, path) in routes() {
        let uri = path
            .replace("{org}", &"a".repeat(64))
            .replace("{cert}", &"b".repeat(64))
            .replace("{id}", &"c".repeat(32));
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let (status, body) = call(app.clone(), m, &uri, Body::empty()).await;
        if status.is_success() {
            continue;
        }
        let e: ErrorBody = serde_json::from_slice(&body)
            .unwrap_or_else(|_| panic!("{method} {uri}: non-JSON error {status}"));
        assert!(
            e.error.code != "no-route" && e.error.code != "method-not-allowed",
            "{method} {path} is not routed"
        );
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {uri}: {}",
            e.error.message
        );
    }
    let (status, body) = call(app.clone(), Method::GET, "/v1/nothing", Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_slice::<ErrorBody>(&body)
            .expect("json")
            .error
            .code,
        "no-route"
    );
    let (status, _) = call(app.clone(), Method::DELETE, "/v1/orgs", Body::empty()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // Bad input names what is wrong.
    let (status, body) = call(app.clone(), Method::GET, "/v1/orgs/nothex", Body::empty()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let e: ErrorBody = serde_json::from_slice(&body).expect("json");
    assert!(e.error.message.contains("hex"), "{}", e.error.message);
    let (status, body) = call(
        app.clone(),
        Method::GET,
        &format!("/v1/orgs/{}", "a".repeat(64)),
        Body::empty(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_slice::<ErrorBody>(&body)
            .expect("json")
            .error
            .message,
        "unknown organization"
    );
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/orgs")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"record":"U0tPUkcBAAE="}"#))
        .expect("req");
    let resp = app.clone().oneshot(req).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Bodies are bounded.
    let big = format!(r#"{{"record":"{}"}}"#, "A".repeat(3 << 20));
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/orgs")
        .header("content-type", "application/json")
        .body(Body::from(big))
        .expect("req");
    let resp = app.clone().oneshot(req).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Unauthenticated requests to member endpoints.
    let (status, body) = call(app, Method::GET, "/v1/inbox", Body::empty()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        serde_json::from_slice::<ErrorBody>(&body)
            .expect("json")
            .error
            .code,
        "unauthorized"
    );
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The server must never hold anything that decrypts nor call a decryption function: its
/// sources may not even name one.
#[test]
fn server_sources_never_name_secrets_or_decryption() {
    const FORBIDDEN: [&str; 9] = [
        "SecretKey",
        "KeyHolder",
        "open_slot",
        "open_metadata",
        "decrypt_part",
        "decrypt_point",
        "MemberKey",
        "OrganizationKey",
        "to_secret_bytes",
    ];
    let mut files = Vec::new();
    rust_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() >= 10, "found the sources: {files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        for word in FORBIDDEN {
            assert!(!text.contains(word), "{} names {word}", f.display());
        }
    }
}

/// Every specific error code is listed in docs/server-design.md and translated by the web UI
/// (`err.api.CODE` in web/js/i18n.js), so a Japanese user never reads the server's English.
#[test]
fn every_specific_error_code_is_documented_and_translated() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let design = std::fs::read_to_string(root.join("docs/server-design.md")).expect("design");
    let i18n = std::fs::read_to_string(root.join("web/js/i18n.js")).expect("i18n");
    for code in soshiki_server::codes::ALL {
        assert!(
            design.contains(&format!("| `{code}` |")),
            "{code} is not in the error table of docs/server-design.md"
        );
        assert!(
            i18n.contains(&format!("'err.api.{code}'")),
            "{code} has no err.api translation in web/js/i18n.js"
        );
    }
}
