//! Model 2 against the server: no forwarding request ever carries a part's `C1`, and a server
//! that substitutes a `C2` or a target's key is caught by the client before it uses its key.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use common::*;
use rand_core::OsRng;
use soshiki_client::flows::{self, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::json::{MemberInfo, MemberList};
use soshiki_client::proto::B64;
use soshiki_client::{Client, ClientError, ClientOptions};
use soshiki_core::cert::{OrganizationKey, Roles};
use soshiki_core::envelope::{EnvelopeHeader, PartInfo};
use soshiki_core::split::ForwardingRequest;
use soshiki_core::suite::{Ristretto255, Suite, P256};
use soshiki_server::{router, AppState};

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn send3<S: Suite>(sender: &Member<S>, city: &Org<S>, rep: &Member<S>) -> String {
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");
    let parts = (0..3)
        .map(|i| OutgoingPart {
            info: PartInfo {
                name: format!("part{i}"),
                labels: vec![],
            },
            data: PartData::Bytes(vec![i as u8 + 1; 5000]),
        })
        .collect();
    flows::send(
        &sender.client,
        &sender.key,
        &to,
        &SendOptions::default(),
        parts,
        None,
    )
    .await
    .expect("send")
    .delivery_id
}

async fn no_c1_in_forwarding_requests<S: Suite>() {
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<S>(&url, "県").await;
    let city = create_org::<S>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let chief = enroll(&url, &city, "課長", Roles::FORWARDER).await;
    let staff = enroll(&url, &city, "担当", Roles::READER).await;
    let d = send3(&sender, &city, &rep).await;

    let check = |req_bytes: &[u8], stored: &[u8], expect_parts: &[u32]| {
        let h = EnvelopeHeader::<S>::from_bytes(stored).expect("stored header");
        let req = ForwardingRequest::<S>::from_bytes(req_bytes).expect("request");
        assert_eq!(
            req.parts
                .iter()
                .filter_map(|p| p.slot.part_index())
                .collect::<Vec<_>>(),
            expect_parts
        );
        for s in &h.slots {
            let c1 = S::point_to_bytes(&s.capsule.c1);
            let c2 = S::point_to_bytes(&s.capsule.c2);
            match s.slot.part_index() {
                // By design the metadata capsule is whole: the search does find a C1.
                None => assert!(contains(req_bytes, &c1), "metadata C1 is present"),
                Some(i) => {
                    assert!(!contains(req_bytes, &c1), "C1 of part {i} leaked");
                    if expect_parts.contains(&i) {
                        assert!(contains(req_bytes, &c2), "C2 of part {i} offered");
                    }
                }
            }
        }
    };
    let store = ts.server.state.store.clone();
    for parts in [None, Some(&[1u32][..]), Some(&[0, 2][..])] {
        let bytes = rep
            .client
            .forwarding_request(&d, parts)
            .await
            .expect("request");
        check(
            &bytes,
            &store.delivery(&d).await.expect("d").header,
            parts.unwrap_or(&[0, 1, 2]),
        );
    }
    // A part the delivery does not have is not found (a well-formed request, nothing there).
    match rep.client.forwarding_request(&d, Some(&[7u32][..])).await {
        Err(ClientError::Api { status, .. }) => assert_eq!(status, 404),
        other => panic!("part 7 of a three-part delivery: {other:?}"),
    }
    // One hop further: the chief's request holds no C1 of its delivery either.
    let f = flows::forward(&rep.client, &rep.key, &d, &[(chief.id(), vec![0, 1, 2])])
        .await
        .expect("forward");
    let dc = &f.deliveries[0].id;
    let bytes = chief
        .client
        .forwarding_request(dc, None)
        .await
        .expect("request");
    check(
        &bytes,
        &store.delivery(dc).await.expect("d").header,
        &[0, 1, 2],
    );
    // And the chain still works end to end.
    let f2 = flows::forward(&chief.client, &chief.key, dc, &[(staff.id(), vec![1])])
        .await
        .expect("forward");
    let out = tempfile::tempdir().expect("tmp");
    let opened = flows::open(
        &staff.client,
        &staff.key,
        &f2.deliveries[0].id,
        out.path(),
        None,
    )
    .await
    .expect("open");
    assert_eq!(read(&opened.parts[0].path), vec![2u8; 5000]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_requests_never_contain_a_part_c1_p256() {
    no_c1_in_forwarding_requests::<P256>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_requests_never_contain_a_part_c1_ristretto255() {
    no_c1_in_forwarding_requests::<Ristretto255>().await;
}

/// What the malicious server does.
#[derive(Clone)]
enum Attack {
    None,
    /// Replace the first offered part's `C2` in forwarding requests.
    SwapC2,
    /// Replace the metadata slot's `C2` in forwarding requests.
    SwapMetadataC2,
    /// Answer `GET /v1/members/{id}` for `id` with another certificate.
    SwapCertificate {
        id: String,
        cert: Vec<u8>,
    },
    /// Invent a member `id` of organization `org` (also listed in the directory).
    InventMember {
        id: String,
        org: String,
        cert: Vec<u8>,
    },
}

async fn body_bytes(resp: Response) -> (axum::http::response::Parts, Vec<u8>) {
    let (parts, body) = resp.into_parts();
    let b = axum::body::to_bytes(body, 1 << 26).await.expect("body");
    (parts, b.to_vec())
}

fn rebuild(mut parts: axum::http::response::Parts, body: Vec<u8>) -> Response {
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

fn fake_member(id: &str, org: &str, cert: &[u8]) -> MemberInfo {
    MemberInfo {
        cert_id: id.into(),
        org_id: org.into(),
        name: "課長".into(),
        roles: Roles::READER.bits(),
        role_names: vec!["reader".into()],
        certificate: B64(cert.to_vec()),
        status: "active".into(),
        created: 0,
        revoked_at: None,
    }
}

async fn tamper<S: Suite>(attack: Arc<Mutex<Attack>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let attack = attack.lock().expect("lock").clone();
    if let Attack::InventMember { id, org, cert } = &attack {
        if path == format!("/v1/members/{id}") {
            let j = serde_json::to_vec(&fake_member(id, org, cert)).expect("json");
            return Response::builder()
                .header("content-type", "application/json")
                .body(Body::from(j))
                .expect("response");
        }
    }
    let resp = next.run(req).await;
    if !resp.status().is_success() {
        return resp;
    }
    match attack {
        Attack::SwapC2 | Attack::SwapMetadataC2 if path.ends_with("/forwarding-request") => {
            let (parts, body) = body_bytes(resp).await;
            let mut r = ForwardingRequest::<S>::from_bytes(&body).expect("request");
            let other = S::mul_base(&S::random_scalar(&mut OsRng));
            if matches!(attack, Attack::SwapC2) {
                r.parts[0].c2 = other;
            } else {
                r.metadata.capsule.c2 = other;
            }
            rebuild(parts, r.to_bytes())
        }
        Attack::SwapCertificate { id, cert } if path == format!("/v1/members/{id}") => {
            let (parts, body) = body_bytes(resp).await;
            let mut m: MemberInfo = serde_json::from_slice(&body).expect("json");
            m.certificate = B64(cert);
            rebuild(parts, serde_json::to_vec(&m).expect("json"))
        }
        Attack::InventMember { id, org, cert } if path == format!("/v1/orgs/{org}/members") => {
            let (parts, body) = body_bytes(resp).await;
            let mut l: MemberList = serde_json::from_slice(&body).expect("json");
            l.members.push(fake_member(&id, &org, &cert));
            rebuild(parts, serde_json::to_vec(&l).expect("json"))
        }
        _ => resp,
    }
}

fn untrusted<T>(r: Result<T, ClientError>) -> String {
    match r {
        Err(ClientError::Untrusted(m)) => m,
        Err(e) => panic!("expected an untrusted-data error, got {e}"),
        Ok(_) => panic!("the client accepted the server's substitution"),
    }
}

async fn malicious_server_is_caught<S: Suite>() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = config(dir.path());
    let store: Arc<dyn soshiki_store::Store> = Arc::from(
        soshiki_store::open_store(&cfg.database_url)
            .await
            .expect("store"),
    );
    let blobs: Arc<dyn soshiki_store::BlobStore> = Arc::from(
        soshiki_store::open_blobs(&cfg.blobs_url)
            .await
            .expect("blobs"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let attack = Arc::new(Mutex::new(Attack::None));
    let a2 = attack.clone();
    let app = router(AppState::new(store, blobs, url.clone())).layer(axum::middleware::from_fn(
        move |req: Request, next: Next| tamper::<S>(a2.clone(), req, next),
    ));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let pref = create_org::<S>(&url, "県").await;
    let city = create_org::<S>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let chief = enroll(&url, &city, "課長", Roles::READER).await;
    let d = send3(&sender, &city, &rep).await;
    let set = |a: Attack| *attack.lock().expect("lock") = a;
    let unchanged = || async {
        let info = rep.client.delivery(&d).await.expect("d");
        assert_eq!(
            (info.status.as_str(), info.forwardable_parts),
            ("delivered", vec![0, 1, 2])
        );
    };

    // A substituted C2 (of a part, or of the metadata) fails the request's verification.
    for a in [Attack::SwapC2, Attack::SwapMetadataC2] {
        set(a);
        let m = untrusted(flows::forward_view(&rep.client, &rep.key, &d, None).await);
        assert!(m.contains("does not verify"), "{m}");
        untrusted(flows::forward(&rep.client, &rep.key, &d, &[(chief.id(), vec![0])]).await);
        unchanged().await;
    }

    // A substituted target certificate: another organization's member under the target's id.
    let attacker =
        OrganizationKey::<S>::generate("市", now() - 60, &mut OsRng).expect("attacker org");
    let mallory =
        flows::certify_new_member(&attacker, "課長", Roles::READER, now() - 60, now() + 3600)
            .expect("key");
    set(Attack::SwapCertificate {
        id: chief.id(),
        cert: mallory.certificate.to_bytes(),
    });
    // A fresh client: `rep.client` reuses the honest directory entry it fetched above.
    let mut fresh = Client::new(&url, &ClientOptions::default()).expect("client");
    flows::login(&mut fresh, &rep.key).await.expect("login");
    untrusted(flows::forward(&fresh, &rep.key, &d, &[(chief.id(), vec![0])]).await);
    unchanged().await;
    // A member the server merely names: listed in the city's directory, certified by an
    // organization of the same name but another key.
    let mid = mallory.certificate.fingerprint().to_hex();
    set(Attack::InventMember {
        id: mid.clone(),
        org: city.id(),
        cert: mallory.certificate.to_bytes(),
    });
    let dir = flows::directory(&rep.client, city.record())
        .await
        .expect("directory");
    let fake = dir.iter().find(|e| e.info.cert_id == mid).expect("listed");
    assert!(fake.usable().is_none() && fake.certificate.is_err());
    let m = untrusted(flows::forward(&rep.client, &rep.key, &d, &[(mid, vec![0])]).await);
    assert!(m.contains("pinned"), "{m}");
    unchanged().await;

    // An honest server: the same forward goes through and the chief reads its part.
    set(Attack::None);
    let f = flows::forward(&rep.client, &rep.key, &d, &[(chief.id(), vec![0])])
        .await
        .expect("forward");
    let out = tempfile::tempdir().expect("tmp");
    let mut c = Client::new(&url, &ClientOptions::default()).expect("client");
    flows::login(&mut c, &chief.key).await.expect("login");
    let opened = flows::open(&c, &chief.key, &f.deliveries[0].id, out.path(), None)
        .await
        .expect("open");
    assert_eq!(read(&opened.parts[0].path), vec![1u8; 5000]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn substituted_c2_or_target_key_is_caught_p256() {
    malicious_server_is_caught::<P256>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn substituted_c2_or_target_key_is_caught_ristretto255() {
    malicious_server_is_caught::<Ristretto255>().await;
}
