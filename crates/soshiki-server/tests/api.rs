//! The router without a socket (`oneshot`): the OpenAPI document describes exactly the routes,
//! errors are JSON with safe messages, the server's sources never name a secret key or a
//! decryption function, and the server does not depend on the client crate.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use soshiki_client::proto::json::ErrorBody;
use soshiki_server::{codes, router, routes, AppState, OPENAPI_JSON, SIGNED_ROUTES};
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

/// The error body's `code` is one of a closed set: the OpenAPI document enumerates exactly the
/// server's codes, docs/server-design.md explains every specific one, and the web UI has a
/// Japanese and English text for every one (so a clerk never reads an English server sentence).
#[test]
fn every_error_code_is_documented_and_translated() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
    let documented: BTreeSet<String> = doc["components"]["schemas"]["Error"]["properties"]["error"]
        ["properties"]["code"]["enum"]
        .as_array()
        .expect("the error code is an enum")
        .iter()
        .map(|c| c.as_str().expect("code").to_string())
        .collect();
    let served: BTreeSet<String> = codes::GENERIC
        .iter()
        .chain(codes::ALL)
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        documented, served,
        "OpenAPI error codes and the server's differ"
    );

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let design = std::fs::read_to_string(root.join("docs/server-design.md")).expect("design");
    let i18n = std::fs::read_to_string(root.join("web/js/i18n.js")).expect("i18n.js");
    for code in codes::ALL {
        assert!(
            design.contains(&format!("| `{code}` |")),
            "docs/server-design.md has no row for {code}"
        );
    }
    for code in &served {
        let line = i18n
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("'err.api.{code}':")))
            .unwrap_or_else(|| panic!("web/js/i18n.js has no err.api.{code}"));
        // [Japanese, English] on the line (or the next): the Japanese text has kana or kanji.
        assert!(
            line.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c)),
            "err.api.{code} has no Japanese text: {line}"
        );
    }
}

/// Exactly the signed routes declare `soshiki-action` as a required header, and a request to
/// one of them without it is refused with 400 before the state is looked at.
#[tokio::test]
async fn signed_routes_require_the_action_header() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
    let mut declared = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let required = op["parameters"].as_array().is_some_and(|ps| {
                ps.iter().any(|p| {
                    p["name"] == "soshiki-action" && p["in"] == "header" && p["required"] == true
                })
            });
            if required {
                declared.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let signed: BTreeSet<(String, String)> = SIGNED_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        declared, signed,
        "OpenAPI required headers and SIGNED_ROUTES differ"
    );

    let dir = tempfile::tempdir().expect("tmp");
    let app = router(state(dir.path()).await);
    for (method, path) in SIGNED_ROUTES {
        let uri = path
            .replace("{org}", &"a".repeat(64))
            .replace("{cert}", &"b".repeat(64))
            .replace("{id}", &"c".repeat(32));
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let (status, body) = call(app.clone(), m, &uri, Body::from("{}")).await;
        let e: ErrorBody = serde_json::from_slice(&body).expect("JSON error");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}");
        assert!(
            e.error.message.contains("soshiki-action"),
            "{method} {path}: {}",
            e.error.message
        );
    }
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

/// The names of the crates a manifest's normal dependencies (`[dependencies]`,
/// `[build-dependencies]` and their `[target.….…]` forms) resolve to, each with its directory
/// when it is a path dependency (directly or through `[workspace.dependencies]`).
fn normal_dependencies(crate_dir: &std::path::Path) -> Vec<(String, Option<std::path::PathBuf>)> {
    let read = |p: &std::path::Path| -> toml::Table {
        toml::from_str(&std::fs::read_to_string(p).expect("read manifest")).expect("parse manifest")
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workspace = read(&root.join("Cargo.toml"));
    let shared = workspace["workspace"]["dependencies"]
        .as_table()
        .expect("[workspace.dependencies]");
    let manifest = read(&crate_dir.join("Cargo.toml"));
    let mut tables: Vec<&toml::Table> = Vec::new();
    for section in ["dependencies", "build-dependencies"] {
        tables.extend(manifest.get(section).and_then(toml::Value::as_table));
        for (_, t) in manifest
            .get("target")
            .and_then(toml::Value::as_table)
            .into_iter()
            .flatten()
        {
            tables.extend(t.get(section).and_then(toml::Value::as_table));
        }
    }
    let mut out = Vec::new();
    for (key, spec) in tables.into_iter().flatten() {
        let inherited = spec.get("workspace").and_then(toml::Value::as_bool) == Some(true);
        let (spec, base) = if inherited {
            (&shared[key], root.clone())
        } else {
            (spec, crate_dir.to_path_buf())
        };
        let name = spec
            .get("package")
            .and_then(toml::Value::as_str)
            .unwrap_or(key);
        let dir = spec
            .get("path")
            .and_then(toml::Value::as_str)
            .map(|p| base.join(p));
        out.push((name.to_string(), dir));
    }
    out
}

/// Every crate `crate_dir` depends on for its build (not its tests), following path
/// dependencies through the workspace.
fn normal_dependency_closure(crate_dir: &std::path::Path) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![crate_dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for (name, path) in normal_dependencies(&dir) {
            if seen.insert(name) {
                todo.extend(path);
            }
        }
    }
    seen
}

/// The server shares the wire protocol with the client through `soshiki-proto`, never by
/// depending on the client crate (which may stay a dev-dependency of the server's tests), and
/// the protocol crate depends on neither side.
#[test]
fn server_builds_without_the_client_crate() {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The check sees the client where it is a dependency (the CLI, through the workspace).
    let cli = normal_dependency_closure(&crates.join("soshiki-cli"));
    assert!(cli.contains("soshiki-client"), "CLI dependencies: {cli:?}");
    let server = normal_dependency_closure(&crates.join("soshiki-server"));
    for expected in ["soshiki-proto", "soshiki-core", "soshiki-store", "axum"] {
        assert!(server.contains(expected), "server dependencies: {server:?}");
    }
    assert!(
        !server.contains("soshiki-client"),
        "soshiki-server depends on soshiki-client for its build: {server:?}"
    );
    let proto = normal_dependency_closure(&crates.join("soshiki-proto"));
    assert!(
        proto.contains("soshiki-core"),
        "proto dependencies: {proto:?}"
    );
    for side in ["soshiki-client", "soshiki-server", "soshiki-store"] {
        assert!(
            !proto.contains(side),
            "soshiki-proto depends on {side}: {proto:?}"
        );
    }
}
