//! Resource exhaustion, played as the attacker: a flood of unauthenticated requests from one
//! address, an organization registered by a stranger on a shared server, a forward wider than
//! a signed statement can name or one target given more parts than a statement can name, and
//! enrollment requests left pending forever.

mod common;

use common::*;
use soshiki_client::flows;
use soshiki_client::proto::json::ForwardBody;
use soshiki_client::proto::{B64, MAX_FORWARD_TARGETS};
use soshiki_client::ClientError;
use soshiki_core::cert::{OrganizationKey, Roles};
use soshiki_core::envelope::Forwarder;
use soshiki_core::keyfile::KdfParams;
use soshiki_core::split::ForwardingRequest;
use soshiki_core::suite::P256;
use soshiki_server::maintenance::run_once;
use soshiki_server::{Limits, RateLimit, Registration};

async fn start_with(limits: Limits) -> TestServer {
    let dir = tempfile::tempdir().expect("tmp");
    let mut cfg = config(dir.path());
    cfg.limits = limits;
    let server = soshiki_server::start(cfg).await.expect("start");
    TestServer { dir, server }
}

async fn post_json(url: &str, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("POST")
}

async fn error_code(r: reqwest::Response) -> String {
    let v: serde_json::Value = r.json().await.expect("json error body");
    v["error"]["code"].as_str().expect("code").to_string()
}

/// One address asks for login challenges (and registers organizations) as fast as it can:
/// past its burst it gets 429 `rate-limited` with a `Retry-After`, before any work is done;
/// logged-in members are not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_from_one_address_is_rate_limited() {
    let ts = start_with(Limits {
        rate_limit: RateLimit {
            per_minute: 6,
            burst: 8,
        },
        ..Limits::default()
    })
    .await;
    let url = ts.url();
    // create_org: registration, first administrator, login (challenge + token) = 3 limited
    // requests; the enrollment + login of a member: 3 more.
    let city = create_org::<P256>(&url, "市").await;
    let reader = enroll(&url, &city, "担当", Roles::READER).await;
    let mut refused = None;
    for i in 0..10 {
        let r = post_json(
            &format!("{url}/v1/auth/challenge"),
            serde_json::json!({ "cert_id": reader.id() }),
        )
        .await;
        if r.status() == 429 {
            refused = Some((i, r));
            break;
        }
        assert!(r.status().is_success(), "{}", r.status());
    }
    let (i, r) = refused.expect("the flood is refused");
    assert!(i <= 3, "refused after the burst, not after {i} more");
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=10).contains(&retry), "{retry}");
    assert_eq!(error_code(r).await, "rate-limited");
    // Registration and enrollment share the address's bucket: both are refused before their
    // body is looked at (the bodies here are invalid, which would be a 400 otherwise).
    let r = post_json(
        &format!("{url}/v1/orgs"),
        serde_json::json!({ "record": "" }),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert_eq!(error_code(r).await, "rate-limited");
    let r = post_json(
        &format!("{url}/v1/orgs/{}/enrollments", city.id()),
        serde_json::json!({ "request": "" }),
    )
    .await;
    assert_eq!(r.status(), 429, "enrollment creation is rate-limited too");
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(error_code(r).await, "rate-limited");
    // Authenticated work goes on.
    reader.client.inbox(None).await.expect("inbox still served");
}

/// On a shared server with closed registration, a stranger cannot register an organization
/// (403 `registration-closed`, with no token or a wrong one); the operator with the token can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_registration_admits_only_the_operator() {
    let token = "operator-token-0123456789abcdef".to_string();
    let ts = start_with(Limits {
        registration: Registration::Closed {
            token: token.clone(),
        },
        ..Limits::default()
    })
    .await;
    let client = ts.client();
    let key = OrganizationKey::<P256>::generate("勝手な組織", now() - 60, &mut rand_core::OsRng)
        .expect("org key");
    let record = key.organization().to_bytes();
    for attempt in [None, Some("wrong-token-0123456789abcdef")] {
        let e = client
            .register_org_with_token(&record, attempt)
            .await
            .expect_err("stranger");
        assert_eq!(
            (e.status(), e.code()),
            (Some(403), Some("registration-closed")),
            "{e}"
        );
    }
    assert!(client.orgs().await.expect("list").is_empty());
    client
        .register_org_with_token(&record, Some(&token))
        .await
        .expect("the operator registers");
    assert_eq!(client.orgs().await.expect("list").len(), 1);
}

/// A forward to more targets than a signed forward statement can name (it holds 64
/// subjects: the delivery, the envelope and one per target): the client refuses before any
/// request, naming the limit, and the server answers 400 `too-many-targets` naming it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_wider_than_a_statement_is_refused_with_its_limit() {
    assert_eq!(MAX_FORWARD_TARGETS, 62);
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<P256>(&url, "県").await;
    let city = create_org::<P256>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");
    let parts = (0..63)
        .map(|i| flows::OutgoingPart {
            info: soshiki_core::envelope::PartInfo {
                name: format!("p{i}"),
                labels: vec![],
            },
            data: flows::PartData::Bytes(vec![1]),
        })
        .collect();
    let sent = flows::send(
        &sender.client,
        &sender.key,
        &to,
        &flows::SendOptions::default(),
        parts,
        None,
    )
    .await
    .expect("send");
    let plan: Vec<(String, Vec<u32>)> = (0..63u32)
        .map(|i| (format!("{:064x}", i + 1), vec![i]))
        .collect();
    let e = flows::forward(&rep.client, &rep.key, &sent.delivery_id, &plan)
        .await
        .expect_err("too wide");
    assert!(
        matches!(&e, ClientError::Invalid(m) if m.contains("62")),
        "{e}"
    );
    // Straight to the server: 63 responses (their content is never looked at), with a
    // statement header that is present (every change needs one) but never reached.
    let token = {
        let mut c = ts.client();
        flows::login(&mut c, &rep.key).await.expect("login").token
    };
    let body = ForwardBody {
        responses: (0..63).map(|_| B64(vec![0u8; 8])).collect(),
    };
    let r = reqwest::Client::new()
        .post(format!("{url}/v1/deliveries/{}/forward", sent.delivery_id))
        .bearer_auth(token)
        .header(soshiki_client::proto::ACTION_HEADER, "AAAA")
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "too-many-targets");
    assert!(v["error"]["message"].as_str().expect("msg").contains("62"));
    let d = rep.client.delivery(&sent.delivery_id).await.expect("d");
    assert!(d.forwards.is_empty() && d.status == "delivered");
}

/// One officer given more parts than one signed `target:parts` subject can name (300 part
/// numbers are more than its 1024 bytes): the client refuses before any request, naming the
/// limit and saying to forward in several steps; a forwarder that skips that check and sends
/// genuine responses straight to the server gets 400 `too-many-targets` with the same
/// explanation, and nothing is forwarded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_parts_for_one_target_are_refused_with_their_limit() {
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<P256>(&url, "県").await;
    let city = create_org::<P256>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let officer = enroll(&url, &city, "担当", Roles::READER).await;
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");
    const N: u32 = 300;
    let parts = (0..N)
        .map(|i| flows::OutgoingPart {
            info: soshiki_core::envelope::PartInfo {
                name: format!("p{i}"),
                labels: vec![],
            },
            data: flows::PartData::Bytes(vec![1]),
        })
        .collect();
    let sent = flows::send(
        &sender.client,
        &sender.key,
        &to,
        &flows::SendOptions::default(),
        parts,
        None,
    )
    .await
    .expect("send");
    let all: Vec<u32> = (0..N).collect();
    let plan = vec![(officer.id(), all.clone())];
    let limit = soshiki_core::wire::limits::MAX_TEXT;
    assert!(soshiki_client::proto::forward_subject(&officer.id(), &all).len() > limit as usize);
    let e = flows::forward(&rep.client, &rep.key, &sent.delivery_id, &plan)
        .await
        .expect_err("too many parts for one target");
    assert!(
        matches!(&e, ClientError::Invalid(m)
            if m.contains("too many to sign") && m.contains(&format!("at most {limit}"))
                && m.contains("several steps")),
        "{e}"
    );

    // Straight to the server, with genuine responses made by the representative.
    let bytes = rep
        .client
        .forwarding_request(&sent.delivery_id, Some(&all))
        .await
        .expect("forwarding request");
    let request = ForwardingRequest::<P256>::from_bytes(&bytes).expect("request");
    let verified = request.verify_at(now()).expect("verifies");
    let target = flows::certified_member(&rep.client, city.record(), &officer.id())
        .await
        .expect("officer");
    let fwd = Forwarder {
        holder: &rep.key.encryption,
        signer: &rep.key.signing,
        cert: &rep.key.certificate,
    };
    let response = verified
        .make_hops(&fwd, &target, Some(&all), now(), &mut rand_core::OsRng)
        .expect("hops")
        .to_bytes();
    let token = {
        let mut c = ts.client();
        flows::login(&mut c, &rep.key).await.expect("login").token
    };
    let r = reqwest::Client::new()
        .post(format!("{url}/v1/deliveries/{}/forward", sent.delivery_id))
        .bearer_auth(token)
        .header(soshiki_client::proto::ACTION_HEADER, "AAAA")
        .json(&ForwardBody {
            responses: vec![B64(response)],
        })
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "too-many-targets");
    let m = v["error"]["message"].as_str().expect("msg");
    assert!(
        m.contains("too many to sign") && m.contains(&format!("at most {limit}")),
        "{m}"
    );
    let d = rep.client.delivery(&sent.delivery_id).await.expect("d");
    assert!(d.forwards.is_empty() && d.status == "delivered");
    assert_eq!(d.forwardable_parts, all);
}

/// Enrollment requests that nobody decides on do not pile up: past the server's enrollment
/// lifetime an approval is refused (410 `enrollment-expired`) and the maintenance task
/// deletes the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_enrollments_expire() {
    let ts = start_with(Limits {
        enrollment_ttl: 0,
        ..Limits::default()
    })
    .await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "市").await;
    let t = now();
    let ticket = flows::enroll(
        &ts.client(),
        city.record(),
        "放置",
        Roles::READER,
        t - 60,
        t + 86_400,
        PASS,
        KdfParams::MINIMUM,
    )
    .await
    .expect("enroll");
    let e = flows::approve_enrollment(
        &city.admin.client,
        &city.admin.key,
        &city.key,
        &ticket.id,
        &ticket.code,
    )
    .await
    .expect_err("expired");
    assert_eq!(
        (e.status(), e.code()),
        (Some(410), Some("enrollment-expired")),
        "{e}"
    );
    let r = run_once(&ts.server.state, ts.server.state.now())
        .await
        .expect("pass");
    assert_eq!(r.enrollments, 1);
    let e = ts
        .client()
        .enrollment(&ticket.id)
        .await
        .expect_err("purged");
    assert_eq!(e.status(), Some(404));
}
