//! Refusals over HTTP: bad tokens and signatures, revoked members, targets outside the
//! organization, malformed headers, wrong body lengths, body digest mismatches (with nothing
//! visible afterwards), and requests by members without the role.

mod common;

use common::*;
use rand_core::OsRng;
use soshiki_client::flows::{self, sign_action, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::json::TokenRequest;
use soshiki_client::proto::{login_message, ActionSpec, ActionStatement, B64};
use soshiki_client::{Client, ClientError, ClientOptions};
use soshiki_core::cert::{Certificate, Roles, VerifiedCertificate};
use soshiki_core::envelope::{
    self, EncryptOptions, Hop, Label, PartInfo, PartSource, Sender, SlotId, PREFIX_LEN,
};
use soshiki_core::keyfile::MemberKey;
use soshiki_core::keys::SigningKey;
use soshiki_core::scheme::{make_share, HopContext, HopStatement};
use soshiki_core::split::{ForwardResponse, ForwardingRequest};
use soshiki_core::suite::{Suite, P256};

fn status(e: &ClientError) -> u16 {
    e.status()
        .unwrap_or_else(|| panic!("expected an API error, got {e}"))
}

/// A locally encrypted envelope file: (file, header bytes, bodies).
fn encrypt<S: Suite>(
    sender: &MemberKey<S>,
    to: &VerifiedCertificate<S>,
    bodies: &[&[u8]],
) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let parts = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| PartSource {
            info: PartInfo {
                name: format!("p{i}"),
                labels: vec![Label::parse("k=v").expect("label")],
            },
            len: b.len() as u64,
            reader: Box::new(std::io::Cursor::new(b.to_vec())),
        })
        .collect();
    let s = Sender {
        org: &sender.organization,
        cert: &sender.certificate,
        signing_key: &sender.signing,
    };
    let opts = EncryptOptions {
        title: "t".into(),
        category: "c".into(),
        chunk_size: 1024,
        created: now(),
    };
    let mut file = Vec::new();
    let h = envelope::encrypt(&s, to, &opts, parts, &mut file, &mut OsRng, &mut |_| {})
        .expect("encrypt");
    let start = PREFIX_LEN as usize;
    let bodies = file[start..start + h.bodies_len() as usize].to_vec();
    (file, h.to_bytes(), bodies)
}

struct World<S: Suite> {
    ts: TestServer,
    pref: Org<S>,
    city: Org<S>,
    sender: Member<S>,
    rep: Member<S>,
    reader: Member<S>,
}

async fn world<S: Suite>() -> World<S> {
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<S>(&url, "県").await;
    let city = create_org::<S>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let reader = enroll(&url, &city, "担当", Roles::READER).await;
    World {
        ts,
        pref,
        city,
        sender,
        rep,
        reader,
    }
}

async fn send_one<S: Suite>(w: &World<S>, bodies: &[&[u8]]) -> String {
    let to = flows::certified_member(&w.sender.client, w.city.record(), &w.rep.id())
        .await
        .expect("rep");
    let parts = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| OutgoingPart {
            info: PartInfo {
                name: format!("p{i}"),
                labels: vec![],
            },
            data: PartData::Bytes(b.to_vec()),
        })
        .collect();
    flows::send(
        &w.sender.client,
        &w.sender.key,
        &to,
        &SendOptions::default(),
        parts,
        None,
    )
    .await
    .expect("send")
    .delivery_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_and_signatures() {
    let w = world::<P256>().await;
    let mut c = w.ts.client();
    assert!(matches!(c.inbox(None).await, Err(ClientError::NotLoggedIn)));
    c.set_token(Some("not-a-token".into()));
    let e = c.inbox(None).await.expect_err("bad token");
    assert_eq!((status(&e), e.code()), (401, Some("unauthorized")));

    // A login signed by another key, or for another origin, is refused.
    let ch = c.challenge(&w.reader.id()).await.expect("challenge");
    let other = SigningKey::<P256>::generate(&mut OsRng);
    let sig = other.sign(
        &login_message(c.origin(), &ch.nonce.0).expect("message"),
        &mut OsRng,
    );
    let e = c
        .token(&TokenRequest {
            cert_id: w.reader.id(),
            nonce: ch.nonce.clone(),
            signature: B64(sig.to_vec()),
        })
        .await
        .expect_err("wrong key");
    assert_eq!(status(&e), 401);
    let ch = c.challenge(&w.reader.id()).await.expect("challenge");
    let sig = w.reader.key.signing.sign(
        &login_message("https://evil.example", &ch.nonce.0).expect("message"),
        &mut OsRng,
    );
    let e = c
        .token(&TokenRequest {
            cert_id: w.reader.id(),
            nonce: ch.nonce.clone(),
            signature: B64(sig.to_vec()),
        })
        .await
        .expect_err("wrong origin");
    assert_eq!(status(&e), 401);
    assert!(
        e.to_string().contains(c.origin()),
        "the message names the server's origin: {e}"
    );
    // A challenge is single-use.
    let sig = w.reader.key.signing.sign(
        &login_message(c.origin(), &ch.nonce.0).expect("message"),
        &mut OsRng,
    );
    let e = c
        .token(&TokenRequest {
            cert_id: w.reader.id(),
            nonce: ch.nonce,
            signature: B64(sig.to_vec()),
        })
        .await
        .expect_err("used challenge");
    assert_eq!(status(&e), 401);

    // Action statements: missing, signed by another key, describing another action.
    let delivery = send_one(&w, &[b"hello"]).await;
    let err = |r: Result<_, ClientError>| status(&r.expect_err("refused"));
    let good_spec = ActionSpec::recall(&delivery);
    let forged = ActionStatement::sign(
        &good_spec,
        w.sender.key.certificate.fingerprint(),
        now(),
        &other,
        &mut OsRng,
    );
    assert_eq!(err(w.sender.client.recall(&delivery, &forged).await), 403);
    let wrong = sign_action(&w.sender.key, &ActionSpec::recall(&"0".repeat(32)));
    assert_eq!(err(w.sender.client.recall(&delivery, &wrong).await), 400);
    let stale = ActionStatement::sign(
        &good_spec,
        w.sender.key.certificate.fingerprint(),
        now() - 3600,
        &w.sender.key.signing,
        &mut OsRng,
    );
    assert_eq!(err(w.sender.client.recall(&delivery, &stale).await), 400);
    let someone_else = sign_action(&w.reader.key, &good_spec);
    assert_eq!(
        err(w.sender.client.recall(&delivery, &someone_else).await),
        403
    );
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/deliveries/{delivery}/recall", w.ts.url()))
        .bearer_auth(login_token(&w.sender).await)
        .send()
        .await
        .expect("send");
    assert_eq!(raw.status().as_u16(), 400, "missing action header");
    // The delivery is still there, unrecalled.
    assert_eq!(
        w.rep.client.delivery(&delivery).await.expect("d").status,
        "delivered"
    );
}

async fn login_token<S: Suite>(m: &Member<S>) -> String {
    let mut c = Client::new(m.client.base_url(), &ClientOptions::default()).expect("client");
    flows::login(&mut c, &m.key).await.expect("login").token
}

/// A forward response made by hand (the core refuses to make one toward another
/// organization), to check that the server refuses it too.
fn craft<S: Suite>(
    req: &ForwardingRequest<S>,
    fwd: &MemberKey<S>,
    target: &Certificate<S>,
    parts: &[u32],
) -> Vec<u8> {
    let time = now();
    let mut hops = Vec::new();
    let part_slots = parts
        .iter()
        .map(|i| SlotId::part(*i).expect("a part index"));
    for slot in std::iter::once(SlotId::METADATA).chain(part_slots) {
        let (c2, n) = if slot.is_metadata() {
            (&req.metadata.capsule.c2, req.metadata.hops.len())
        } else {
            let p = req.parts.iter().find(|p| p.slot == slot).expect("part");
            (&p.c2, p.hops.len())
        };
        let ctx = HopContext {
            envelope_id: req.core.envelope_id,
            slot,
            hop_index: n as u16 + 1,
            forwarder_cert: fwd.certificate.fingerprint(),
            target_cert: target.fingerprint(),
            time,
        };
        let st = HopStatement {
            context: &ctx,
            from: &fwd.certificate.encryption_key,
            to: &target.encryption_key,
            c2,
        };
        let share =
            make_share(&st, &fwd.encryption, Some(&fwd.signing), &mut OsRng).expect("share");
        hops.push((
            slot,
            Hop {
                forwarder_cert: ctx.forwarder_cert,
                target_cert: ctx.target_cert,
                time,
                x: share.x,
                c2_new: share.c2_new,
                auth: share.auth,
            },
        ));
    }
    ForwardResponse {
        forwarder: fwd.certificate.clone(),
        target: target.clone(),
        hops,
    }
    .to_bytes()
}

async fn post_forward<S: Suite>(
    m: &Member<S>,
    delivery: &str,
    target: &str,
    parts: &[u32],
    resp: Vec<u8>,
) -> Result<(), ClientError> {
    let envelope = m.client.delivery(delivery).await?.envelope_id;
    let spec = ActionSpec::forward(
        delivery,
        &envelope,
        &[(target.to_string(), parts.to_vec())],
        std::slice::from_ref(&resp),
    );
    m.client
        .forward(delivery, vec![resp], &sign_action(&m.key, &spec))
        .await
        .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_outside_the_organization_is_refused() {
    let w = world::<P256>().await;
    let delivery = send_one(&w, &[b"a", b"b"]).await;
    // The client refuses: the target is not certified by the forwarder's own organization.
    let e = flows::forward(
        &w.rep.client,
        &w.rep.key,
        &delivery,
        &[(w.sender.id(), vec![0])],
    )
    .await
    .expect_err("foreign target");
    assert!(matches!(e, ClientError::Untrusted(_)), "{e}");
    // The server refuses a response crafted toward another organization's member.
    let req = ForwardingRequest::<P256>::from_bytes(
        &w.rep
            .client
            .forwarding_request(&delivery, None)
            .await
            .expect("req"),
    )
    .expect("decode");
    let resp = craft(&req, &w.rep.key, &w.sender.key.certificate, &[0]);
    let e = post_forward(&w.rep, &delivery, &w.sender.id(), &[0], resp)
        .await
        .expect_err("refused");
    assert_eq!(status(&e), 400, "{e}");
    // Nothing was forwarded.
    let d = w.rep.client.delivery(&delivery).await.expect("d");
    assert_eq!(
        (d.status.as_str(), d.forwardable_parts),
        ("delivered", vec![0, 1])
    );
    // A non-holder cannot ask for a forwarding request; a reader-only holder cannot forward.
    let e = w
        .reader
        .client
        .forwarding_request(&delivery, None)
        .await
        .expect_err("not the holder");
    assert_eq!(status(&e), 403);
    let fwd = flows::forward(
        &w.rep.client,
        &w.rep.key,
        &delivery,
        &[(w.reader.id(), vec![0, 1])],
    )
    .await
    .expect("forward");
    let e = w
        .reader
        .client
        .forwarding_request(&fwd.deliveries[0].id, None)
        .await
        .expect_err("no role");
    assert_eq!(status(&e), 403);
    // Forwarding a part again is refused until it is recalled.
    let e = w
        .rep
        .client
        .forwarding_request(&delivery, Some(&[0]))
        .await
        .expect_err("already forwarded");
    assert_eq!(status(&e), 409);
    let _ = &w.pref;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_members_cannot_log_in_or_receive() {
    let w = world::<P256>().await;
    let url = w.ts.url();
    let victim = enroll(&url, &w.city, "退職者", Roles::READER).await;
    let rep2 = enroll(&url, &w.city, "旧代表", Roles::REPRESENTATIVE).await;
    let delivery = send_one(&w, &[b"x"]).await;
    // Only an administrator of the member's organization may revoke (the server's check; the
    // client flow also needs the organization key).
    let spec = ActionSpec::revoke(&victim.id(), &victim.key.certificate.to_bytes());
    let e = w
        .pref
        .admin
        .client
        .revoke(&victim.id(), &sign_action(&w.pref.admin.key, &spec))
        .await
        .expect_err("other org");
    assert_eq!(status(&e), 403);
    let e = w
        .rep
        .client
        .revoke(&victim.id(), &sign_action(&w.rep.key, &spec))
        .await
        .expect_err("not admin");
    assert_eq!(status(&e), 403);
    // Nor publish the organization's revocation list.
    let e = flows::publish_revocations(&w.rep.client, &w.rep.key, &w.city.key, &[], 3600)
        .await
        .expect_err("not admin");
    assert_eq!(status(&e), 403);
    let e = flows::revoke_member(
        &w.pref.admin.client,
        &w.pref.admin.key,
        &w.pref.key,
        &victim.id(),
    )
    .await
    .expect_err("another organization's member");
    assert!(matches!(e, ClientError::Invalid(_)), "{e}");
    let info = flows::revoke_member(
        &w.city.admin.client,
        &w.city.admin.key,
        &w.city.key,
        &victim.id(),
    )
    .await
    .expect("revoke");
    assert_eq!(info.status, "revoked");
    flows::revoke_member(
        &w.city.admin.client,
        &w.city.admin.key,
        &w.city.key,
        &rep2.id(),
    )
    .await
    .expect("revoke rep2");
    // Its token no longer works, and it cannot log in again.
    assert_eq!(
        status(&victim.client.inbox(None).await.expect_err("revoked token")),
        401
    );
    let mut c = w.ts.client();
    assert_eq!(
        status(&flows::login(&mut c, &victim.key).await.expect_err("login")),
        401
    );
    // The client will not address it.
    let e = flows::forward(
        &w.rep.client,
        &w.rep.key,
        &delivery,
        &[(victim.id(), vec![0])],
    )
    .await
    .expect_err("revoked target");
    assert!(matches!(e, ClientError::Invalid(_)), "{e}");
    // Nor will the server accept a share toward it (its certificate is still validly signed).
    let req = ForwardingRequest::<P256>::from_bytes(
        &w.rep
            .client
            .forwarding_request(&delivery, None)
            .await
            .expect("req"),
    )
    .expect("decode");
    let resp = craft(&req, &w.rep.key, &victim.key.certificate, &[0]);
    let e = post_forward(&w.rep, &delivery, &victim.id(), &[0], resp)
        .await
        .expect_err("refused");
    assert_eq!(status(&e), 400, "{e}");
    assert_eq!(e.code(), Some("target-not-member"), "{e}");
    assert!(e.to_string().contains("revoked"), "{e}");
    // Nobody can send to a revoked representative.
    let to = rep2
        .key
        .certificate
        .verify(w.city.record(), now())
        .expect("still signed");
    let (_, header, _) = encrypt(&w.sender.key, &to, &[b"x"]);
    let env = hex::encode(&header[8..24]);
    let spec = ActionSpec::send(&env, &rep2.id(), &header);
    let e = w
        .sender
        .client
        .create_upload(header, &sign_action(&w.sender.key, &spec))
        .await
        .expect_err("revoked recipient");
    assert_eq!(status(&e), 400, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_uploads_are_refused_and_nothing_becomes_visible() {
    let w = world::<P256>().await;
    let to = flows::certified_member(&w.sender.client, w.city.record(), &w.rep.id())
        .await
        .expect("rep");
    let action = |h: &[u8]| {
        let env = hex::encode(&h[8..24]);
        sign_action(&w.sender.key, &ActionSpec::send(&env, &w.rep.id(), h))
    };
    // Malformed headers.
    let e = w
        .sender
        .client
        .create_upload(b"SKHDR garbage".to_vec(), &action(&[0; 30]))
        .await
        .expect_err("garbage");
    assert_eq!(status(&e), 400);
    // A header larger than the JSON limit is still read whole (the route allows 64 MiB) and
    // refused for what it is.
    let mut big = b"SKHDR\x01\x00\x01".to_vec();
    big.resize(3 << 20, 0);
    let e = w
        .sender
        .client
        .create_upload(big.clone(), &action(&big))
        .await
        .expect_err("big garbage");
    assert_eq!(status(&e), 400, "{e}");
    let (_, header, bodies) = encrypt(&w.sender.key, &to, &[&[7u8; 3000], &[9u8; 100]]);
    let mut bad = header.clone();
    let n = bad.len();
    bad[n - 20] ^= 0x40;
    let e = w
        .sender
        .client
        .create_upload(bad.clone(), &action(&bad))
        .await
        .expect_err("tampered header");
    assert_eq!(status(&e), 400, "{e}");
    // The statement must describe this very header.
    let e = w
        .sender
        .client
        .create_upload(header.clone(), &action(&bad))
        .await
        .expect_err("statement for another header");
    assert_eq!(status(&e), 400);
    // Someone else cannot upload the sender's envelope.
    let env = hex::encode(&header[8..24]);
    let e = w
        .reader
        .client
        .create_upload(
            header.clone(),
            &sign_action(&w.reader.key, &ActionSpec::send(&env, &w.rep.id(), &header)),
        )
        .await
        .expect_err("not the sender");
    assert_eq!(status(&e), 403);

    let up = w
        .sender
        .client
        .create_upload(header.clone(), &action(&header))
        .await
        .expect("upload created");
    assert_eq!(up.bodies_len, bodies.len() as u64);
    // Wrong length, announced.
    let short = bodies[..bodies.len() - 1].to_vec();
    let e = w
        .sender
        .client
        .upload_bodies(&up.upload_id, short.clone().into(), short.len() as u64)
        .await
        .expect_err("short");
    assert_eq!(status(&e), 400, "{e}");
    // Wrong length, streamed without a length.
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(short))]);
    let resp = reqwest::Client::new()
        .put(format!("{}/v1/uploads/{}", w.ts.url(), up.upload_id))
        .bearer_auth(login_token(&w.sender).await)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status().as_u16(), 400);
    // A body that does not match the signed digest.
    let mut wrong = bodies.clone();
    wrong[3100] ^= 1;
    let e = w
        .sender
        .client
        .upload_bodies(&up.upload_id, wrong.into(), bodies.len() as u64)
        .await
        .expect_err("digest");
    assert_eq!(status(&e), 400);
    assert!(e.to_string().contains("part 1"), "{e}");
    // Nothing is visible: no delivery, no envelope, no body blob.
    assert!(w.rep.client.inbox(None).await.expect("inbox").is_empty());
    let blobs: Vec<String> = std::fs::read_dir(w.ts.blob_dir())
        .expect("dir")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(blobs.iter().all(|b| !b.starts_with("body-")), "{blobs:?}");
    // The correct body still goes through.
    let ok = w
        .sender
        .client
        .upload_bodies(&up.upload_id, bodies.clone().into(), bodies.len() as u64)
        .await
        .expect("upload");
    assert_eq!(
        w.rep.client.inbox(None).await.expect("inbox")[0].id,
        ok.delivery_id
    );
    // The upload is finished; the same envelope cannot be sent twice.
    let e = w
        .sender
        .client
        .upload_bodies(&up.upload_id, bodies.clone().into(), bodies.len() as u64)
        .await
        .expect_err("done");
    assert_eq!(status(&e), 404);
    let e = w
        .sender
        .client
        .create_upload(header.clone(), &action(&header))
        .await
        .expect_err("duplicate");
    assert_eq!(status(&e), 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_enrollment_checks() {
    let w = world::<P256>().await;
    let delivery = send_one(&w, &[b"secret"]).await;
    // The representative can forward but never download.
    assert_eq!(
        status(
            &w.rep
                .client
                .delivery_header(&delivery)
                .await
                .expect_err("no")
        ),
        403
    );
    let mut sink = Vec::new();
    assert_eq!(
        status(
            &w.rep
                .client
                .download_envelope(&delivery, &mut sink, None)
                .await
                .expect_err("no")
        ),
        403
    );
    assert!(sink.is_empty());
    // Another member cannot see the delivery.
    assert_eq!(
        status(&w.reader.client.delivery(&delivery).await.expect_err("no")),
        403
    );
    // The first administrator can be registered only once.
    let extra = flows::certify_new_member(
        &w.city.key,
        "second admin",
        Roles::ADMIN,
        now() - 60,
        now() + 3600,
    )
    .expect("key");
    assert_eq!(
        status(
            &flows::register_first_admin(&w.ts.client(), &extra)
                .await
                .expect_err("twice")
        ),
        409
    );
    // Enrollment: only an administrator may list, approve or reject; a certificate for other
    // keys is refused.
    let c = w.ts.client();
    let ticket = flows::enroll(
        &c,
        w.city.record(),
        "新人",
        Roles::READER,
        now() - 60,
        now() + 3600,
        PASS,
        soshiki_core::keyfile::KdfParams::MINIMUM,
    )
    .await
    .expect("enroll");
    assert_eq!(
        status(
            &w.rep
                .client
                .enrollments(&w.city.id(), "pending")
                .await
                .expect_err("no")
        ),
        403
    );
    let e = flows::approve_enrollment(
        &w.rep.client,
        &w.rep.key,
        &w.city.key,
        &ticket.id,
        &ticket.code,
    )
    .await
    .expect_err("not admin");
    assert_eq!(status(&e), 403);
    let info = c.enrollment(&ticket.id).await.expect("info");
    let (_, req) = soshiki_client::proto::verify_enrollment::<P256>(&info.request.0, &w.city.id())
        .expect("valid");
    let mut other = req.to_certificate_request();
    other.roles = Roles::ADMIN;
    let cert = w.city.key.certify(&other, &mut OsRng).expect("cert");
    let spec = ActionSpec::approve(
        &ticket.id,
        &cert.fingerprint().to_hex(),
        &cert.to_bytes(),
        &info.request.0,
    );
    let e = w
        .city
        .admin
        .client
        .approve_enrollment(
            &ticket.id,
            &cert.to_bytes(),
            &sign_action(&w.city.admin.key, &spec),
        )
        .await
        .expect_err("escalated roles");
    assert_eq!(status(&e), 400, "{e}");
    flows::reject_enrollment(&w.city.admin.client, &w.city.admin.key, &ticket.id)
        .await
        .expect("reject");
    let out = flows::finish_enrollment(
        &c,
        &ticket.id,
        w.city.record(),
        &ticket.pending_key_file,
        PASS,
    )
    .await
    .expect("poll");
    assert!(matches!(out, flows::EnrollmentOutcome::Rejected));
    // A request whose proof of possession does not verify is refused.
    let mut forged = info.request.0.clone();
    let n = forged.len();
    forged[n - 1] ^= 1;
    assert_eq!(
        status(
            &c.create_enrollment(&w.city.id(), &forged)
                .await
                .expect_err("bad proof")
        ),
        400
    );
    // Unknown ids and malformed ids.
    assert_eq!(
        status(&c.enrollment(&"ab".repeat(16)).await.expect_err("unknown")),
        404
    );
    assert_eq!(
        status(&c.enrollment("XYZ").await.expect_err("malformed")),
        400
    );
}

/// A replayed action statement: the representative forwards, recalls, and then someone holding
/// its token sends the very same forward request again (same responses, same signed statement)
/// within the clock window. The part is free again, but the statement is already in the audit
/// trail: 409, and nothing is forwarded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_action_statement_is_refused() {
    let w = world::<P256>().await;
    let delivery = send_one(&w, &[b"a"]).await;
    let req = ForwardingRequest::<P256>::from_bytes(
        &w.rep
            .client
            .forwarding_request(&delivery, None)
            .await
            .expect("request"),
    )
    .expect("decodes");
    let resp = craft(&req, &w.rep.key, &w.reader.key.certificate, &[0]);
    let envelope = w
        .rep
        .client
        .delivery(&delivery)
        .await
        .expect("d")
        .envelope_id;
    let spec = ActionSpec::forward(
        &delivery,
        &envelope,
        &[(w.reader.id(), vec![0])],
        std::slice::from_ref(&resp),
    );
    let statement = sign_action(&w.rep.key, &spec);
    let first = w
        .rep
        .client
        .forward(&delivery, vec![resp.clone()], &statement)
        .await
        .expect("first forward");
    flows::recall(&w.rep.client, &w.rep.key, &first.deliveries[0].id)
        .await
        .expect("recall");
    let e = w
        .rep
        .client
        .forward(&delivery, vec![resp], &statement)
        .await
        .expect_err("the replay is refused");
    assert_eq!(status(&e), 409, "{e}");
    // Not reported as a changed delivery: the delivery is as it was, the statement is used.
    assert_eq!(e.code(), Some("conflict"), "{e}");
    let d = w.rep.client.delivery(&delivery).await.expect("d");
    assert_eq!(d.status, "delivered");
    assert_eq!(d.forwardable_parts, vec![0], "the part is still free");
    // A fresh statement for the same forward is accepted.
    post_forward(
        &w.rep,
        &delivery,
        &w.reader.id(),
        &[0],
        craft(&req, &w.rep.key, &w.reader.key.certificate, &[0]),
    )
    .await
    .expect("a new statement");
}

/// A forwarder prepared a forward (forwarding request fetched, shares made) and meanwhile the
/// representative recalled the delivery from it: the stale forward is refused with 409
/// `delivery-changed` (reload it), and so is a new forwarding request; nothing is forwarded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_prepared_before_a_recall_is_refused_as_changed() {
    let w = world::<P256>().await;
    let chief = enroll(&w.ts.url(), &w.city, "課長", Roles::FORWARDER).await;
    let delivery = send_one(&w, &[b"a"]).await;
    let to_chief = flows::forward(
        &w.rep.client,
        &w.rep.key,
        &delivery,
        &[(chief.id(), vec![0])],
    )
    .await
    .expect("to the chief")
    .deliveries[0]
        .id
        .clone();
    let req = ForwardingRequest::<P256>::from_bytes(
        &chief
            .client
            .forwarding_request(&to_chief, None)
            .await
            .expect("request"),
    )
    .expect("decode");
    let resp = craft(&req, &chief.key, &w.reader.key.certificate, &[0]);
    flows::recall(&w.rep.client, &w.rep.key, &to_chief)
        .await
        .expect("recalled meanwhile");
    let e = post_forward(&chief, &to_chief, &w.reader.id(), &[0], resp)
        .await
        .expect_err("stale forward");
    assert_eq!(
        (status(&e), e.code()),
        (409, Some("delivery-changed")),
        "{e}"
    );
    let e = chief
        .client
        .forwarding_request(&to_chief, None)
        .await
        .expect_err("recalled");
    assert_eq!(
        (status(&e), e.code()),
        (409, Some("delivery-changed")),
        "{e}"
    );
    assert!(w.reader.client.inbox(None).await.expect("inbox").is_empty());
}
