//! What an operator sees (issue 10): the log, `/metrics`, `/healthz` and `/readyz`.
//!
//! One scenario runs with every event at debug level captured as JSON lines: enrollment,
//! logins, a send, forwards, an open, a partial recall, a revocation, a refused login, a
//! refused statement, a rate limit, a blob store that fails. Then:
//! - no log line holds a secret: a bearer token, the key-file passphrase, a member's secret
//!   key bytes, a part's `C1`, or a plaintext — raw, hex or base64;
//! - every request has one access line with its route template and request id, and a client's
//!   `x-request-id` is answered and logged;
//! - security events are at warn; a 5xx is logged with its cause;
//! - `/metrics` counts requests by route and status, deliveries, forwards, recalls, opens,
//!   upload bytes, audit entries and backend errors; `/readyz` says which backend is down.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use common::*;
use soshiki_client::flows::{self, OutgoingPart, PartData, SendOptions};
use soshiki_core::cert::Roles;
use soshiki_core::envelope::{EnvelopeHeader, PartInfo};
use soshiki_core::suite::{Suite, P256};

/// The captured log: every line the subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<serde_json::Value> {
        let text = String::from_utf8(self.0.lock().expect("log").clone()).expect("utf-8 log");
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            .collect()
    }
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("log").clone()).expect("utf-8 log")
    }
}

fn field<'a>(line: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    line.get(name)
        .or_else(|| line.get("fields").and_then(|f| f.get(name)))
        .and_then(|v| v.as_str())
}

/// Every spelling of `secret` a log could carry: raw (as text where it is text), hex, base64.
fn spellings(secret: &[u8]) -> Vec<String> {
    let mut out = vec![
        hex::encode(secret),
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
    ];
    if let Ok(s) = std::str::from_utf8(secret) {
        out.push(s.to_owned());
    }
    // Base64 of a prefix: catches a secret embedded in a longer encoded blob.
    if secret.len() >= 24 {
        out.push(base64::engine::general_purpose::STANDARD.encode(&secret[..24])[..28].to_owned());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_hold_no_secret_and_metrics_count_what_happened() {
    let log = Captured::default();
    let sink = log.clone();
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_writer(move || sink.clone())
        .init();

    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(dir.path());
    // A tight rate limit on the unauthenticated endpoints, reached below on purpose.
    cfg.limits.rate_limit = soshiki_server::RateLimit {
        per_minute: 60,
        burst: 40,
    };
    let server = soshiki_server::start(cfg).await.expect("start");
    let url = server.url().to_string();
    let st = server.state.clone();

    let pref = create_org::<P256>(&url, "長野県").await;
    let city = create_org::<P256>(&url, "大町市").await;
    let mut sender = enroll(&url, &pref, "送付担当", Roles::READER.union(Roles::SENDER)).await;
    let mut rep = enroll(
        &url,
        &city,
        "代表",
        Roles::REPRESENTATIVE
            .union(Roles::FORWARDER)
            .union(Roles::READER),
    )
    .await;
    let mut staff = enroll(&url, &city, "担当", Roles::READER).await;
    let mut secrets: Vec<(String, Vec<u8>)> = vec![("passphrase".into(), PASS.to_vec())];
    for (who, m) in [
        ("sender", &mut sender),
        ("rep", &mut rep),
        ("staff", &mut staff),
    ] {
        let t = flows::login(&mut m.client, &m.key).await.expect("login");
        secrets.push((format!("{who} token"), t.token.into_bytes()));
        secrets.push((
            format!("{who} encryption key"),
            m.key.encryption.to_secret_bytes().to_vec(),
        ));
        secrets.push((
            format!("{who} signing key"),
            m.key.signing.to_secret_bytes().to_vec(),
        ));
    }
    for (who, o) in [("pref", &pref), ("city", &city)] {
        secrets.push((
            format!("{who} organization key"),
            o.key.signing_key().to_secret_bytes().to_vec(),
        ));
    }

    // Send three parts, forward two, open one, recall one.
    let plain: Vec<Vec<u8>> = (0..3)
        .map(|i| format!("氏名,住所\n架空 太郎{i},架空県大町{i}番地 PLAINTEXT-{i}\n").into_bytes())
        .collect();
    for (i, p) in plain.iter().enumerate() {
        secrets.push((format!("plaintext {i}"), p.clone()));
    }
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");
    let parts = plain
        .iter()
        .enumerate()
        .map(|(i, p)| OutgoingPart {
            info: PartInfo {
                name: format!("part{i}.csv"),
                labels: vec![],
            },
            data: PartData::Bytes(p.clone()),
        })
        .collect();
    let sent = flows::send(
        &sender.client,
        &sender.key,
        &to,
        &SendOptions::default(),
        parts,
        None,
    )
    .await
    .expect("send");
    let header = st
        .store
        .delivery(&sent.delivery_id)
        .await
        .expect("delivery")
        .header;
    let h = EnvelopeHeader::<P256>::from_bytes(&header).expect("header");
    for s in h.slots.iter().filter(|s| !s.slot.is_metadata()) {
        secrets.push((
            format!("C1 of {}", s.slot),
            P256::point_to_bytes(&s.capsule.c1).to_vec(),
        ));
    }
    let f = flows::forward(
        &rep.client,
        &rep.key,
        &sent.delivery_id,
        &[(staff.id(), vec![0, 1])],
    )
    .await
    .expect("forward");
    let fwd = f.deliveries[0].id.clone();
    let out = tempfile::tempdir().expect("out");
    let opened = flows::open(&staff.client, &staff.key, &fwd, out.path(), None)
        .await
        .expect("open");
    assert_eq!(read(&opened.parts[0].path), plain[0]);
    // The last part to the same officer by mistake, then recalled.
    let f2 = flows::forward(
        &rep.client,
        &rep.key,
        &sent.delivery_id,
        &[(staff.id(), vec![2])],
    )
    .await
    .expect("second forward");
    let wrong_part = f2.deliveries[0].id.clone();
    // A statement signed for another delivery is refused (a security event)...
    let wrong = flows::sign_action(
        &rep.key,
        &soshiki_client::proto::ActionSpec::recall("not-this-delivery"),
    );
    assert!(rep.client.recall(&wrong_part, &wrong).await.is_err());
    // ...the right one recalls.
    flows::recall(&rep.client, &rep.key, &wrong_part)
        .await
        .expect("recall");

    // A login with a forged signature.
    let challenge = staff
        .client
        .challenge(&staff.id())
        .await
        .expect("challenge");
    let bad_login = staff
        .client
        .token(&soshiki_client::proto::json::TokenRequest {
            cert_id: staff.id(),
            nonce: challenge.nonce.clone(),
            signature: soshiki_client::proto::B64(vec![7u8; 64]),
        })
        .await;
    assert!(bad_login.is_err(), "a forged login signature is refused");
    flows::revoke_member(&city.admin.client, &city.admin.key, &city.key, &staff.id())
        .await
        .expect("revoke");

    // A client's request id is answered and logged; a made-up one too long is replaced.
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{url}/healthz"))
        .header("x-request-id", "ops-check-42")
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "ops-check-42");
    let r = http
        .get(format!("{url}/healthz"))
        .header("x-request-id", "x".repeat(200))
        .send()
        .await
        .expect("healthz");
    let given = r.headers()["x-request-id"].to_str().expect("id").to_owned();
    assert!(given.len() == 32 && given != "x".repeat(200), "{given}");
    let ready = http
        .get(format!("{url}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);

    // The rate limit: challenges from one address until refused.
    let mut limited = false;
    for _ in 0..200 {
        let r = http
            .post(format!("{url}/v1/auth/challenge"))
            .json(&serde_json::json!({ "cert_id": rep.id() }))
            .send()
            .await
            .expect("challenge");
        if r.status() == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "the rate limit was reached");

    // The blob store fails (its directory replaced by a file): a download is a logged 5xx,
    // readiness names the blob store.
    let blobs = dir.path().join("blobs");
    std::fs::rename(&blobs, dir.path().join("blobs.moved")).expect("move blobs");
    std::fs::write(&blobs, b"not a directory").expect("file");
    let third = flows::send(
        &sender.client,
        &sender.key,
        &to,
        &SendOptions::default(),
        vec![OutgoingPart {
            info: PartInfo {
                name: "third.csv".into(),
                labels: vec![],
            },
            data: PartData::Bytes(plain[2].clone()),
        }],
        None,
    )
    .await;
    assert!(
        matches!(
            third,
            Err(soshiki_client::ClientError::Api { status: 500, .. })
        ),
        "the blob store fails: {third:?}"
    );
    let not_ready = http
        .get(format!("{url}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(not_ready.status(), 503);
    let body: serde_json::Value = not_ready.json().await.expect("json");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["blobs"], "unavailable");

    // Metrics.
    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for want in [
        "soshiki_http_requests_total{method=\"POST\",route=\"/v1/deliveries/{id}/forward\",status=\"201\"} 2",
        "soshiki_http_requests_total{method=\"POST\",route=\"/v1/envelopes\",status=\"500\"} 1",
        "soshiki_http_requests_total{method=\"POST\",route=\"/v1/auth/token\",status=\"401\"} 1",
        "soshiki_events_total{event=\"delivery\"} 1",
        "soshiki_events_total{event=\"forward\"} 2",
        "soshiki_events_total{event=\"open\"} 1",
        "soshiki_events_total{event=\"recall\"} 1",
        "soshiki_events_total{event=\"login_refused\"}",
        "soshiki_events_total{event=\"statement_refused\"}",
        "soshiki_events_total{event=\"rate_limited\"}",
        "soshiki_http_request_duration_seconds_bucket{",
        "soshiki_pending_uploads 0",
        "soshiki_backend_errors_total{backend=\"blobs\"}",
        "# EOF",
    ] {
        assert!(metrics.contains(want), "/metrics lacks {want}:\n{metrics}");
    }
    let uploaded: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("soshiki_upload_bytes_total "))
        .expect("upload bytes")
        .parse()
        .expect("number");
    assert!(uploaded > plain.iter().map(Vec::len).sum::<usize>() as u64);
    let audit: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("soshiki_audit_entries_total "))
        .expect("audit entries")
        .parse()
        .expect("number");
    assert!(audit >= 5, "{audit}");
    assert!(
        !metrics.contains("soshiki_backend_errors_total{backend=\"blobs\"} 0"),
        "{metrics}"
    );

    server.shutdown().await.expect("shutdown");

    // The log.
    let text = log.text();
    for (what, secret) in &secrets {
        for s in spellings(secret) {
            assert!(!text.contains(&s), "the log holds {what} (as {s:?})");
        }
    }
    let lines = log.lines();
    assert!(
        lines.iter().any(|l| l["level"] == "DEBUG"),
        "the scenario ran with debug logging"
    );
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["target"] == "soshiki::access")
        .collect();
    assert!(access.len() > 30, "one access line per request");
    for l in &access {
        assert!(
            field(l, "request_id").is_some_and(|id| !id.is_empty()),
            "{l}"
        );
        assert!(field(l, "route").is_some(), "{l}");
        assert!(
            l.get("status")
                .or_else(|| l["fields"].get("status"))
                .is_some(),
            "{l}"
        );
        let route = field(l, "route").expect("route");
        assert!(
            route == "-" || !route.contains(&rep.id()),
            "the route template, not the path with its ids: {route}"
        );
    }
    assert!(access
        .iter()
        .any(|l| field(l, "route") == Some("/v1/deliveries/{id}/forward")));
    assert!(access
        .iter()
        .any(|l| field(l, "request_id") == Some("ops-check-42")));
    let warn = |event: &str| {
        lines
            .iter()
            .any(|l| l["level"] == "WARN" && field(l, "event") == Some(event))
    };
    for e in [
        "login-refused",
        "statement-refused",
        "member-revoked",
        "rate-limited",
    ] {
        assert!(warn(e), "no warn line for {e}");
    }
    assert!(
        lines.iter().any(|l| l["level"] == "ERROR"
            && field(l, "message") == Some("internal error")
            && field(l, "detail").is_some_and(|d| d.contains("blob"))),
        "a 5xx is logged with its cause"
    );
}

/// `metrics_bind`: `/metrics` on the operator's address only, health on both.
#[tokio::test]
async fn metrics_can_have_their_own_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(dir.path());
    cfg.metrics_bind = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let server = soshiki_server::start(cfg).await.expect("start");
    let ops = server.metrics_addr.expect("metrics address");
    let http = reqwest::Client::new();
    let main = server.url().to_string();
    let on_main = http
        .get(format!("{main}/metrics"))
        .send()
        .await
        .expect("main");
    assert_eq!(on_main.status(), 404, "no /metrics on the main address");
    let m = http
        .get(format!("http://{ops}/metrics"))
        .send()
        .await
        .expect("ops");
    assert_eq!(m.status(), 200);
    assert!(m.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("application/openmetrics-text"));
    let text = m.text().await.expect("text");
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(text.contains("soshiki_audit_entries_total "), "{text}");
    assert!(text.contains("soshiki_pending_uploads 0"), "{text}");
    // A production server has no demo "try as" list (it hands out key files in demo mode).
    let demo = http
        .get(format!("{main}/v1/demo/members"))
        .send()
        .await
        .expect("demo");
    assert_eq!(demo.status(), 404, "no demo list without serve --demo");
    for path in ["/healthz", "/readyz"] {
        for base in [main.clone(), format!("http://{ops}")] {
            let r = http.get(format!("{base}{path}")).send().await.expect(path);
            assert_eq!(r.status(), 200, "{base}{path}");
        }
    }
    server.shutdown().await.expect("shutdown");
}
