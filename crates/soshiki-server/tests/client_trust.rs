//! The clients never trust the server: attacks by a lying server or a database writer on
//! enrollment, addressing, login and token lifetime, each refused.

mod common;

use common::*;
use rand_core::OsRng;
use soshiki_client::flows::{self, sign_action};
use soshiki_client::proto::json::Policy;
use soshiki_client::proto::{verify_enrollment, ActionSpec};
use soshiki_client::steps;
use soshiki_client::ClientError;
use soshiki_core::cert::Roles;
use soshiki_core::keyfile::KdfParams;
use soshiki_core::suite::P256;

async fn db(ts: &TestServer) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", ts.db_path().display()))
        .await
        .expect("open db")
}

fn status(e: &ClientError) -> u16 {
    e.status()
        .unwrap_or_else(|| panic!("expected an API error, got {e}"))
}

/// Finding 1. Someone who can write the server's database replaces a member's pending
/// request by one for the attacker's own keys with the same name and roles. The administrator
/// approves with the enrollment code read from the member's device: the client refuses, and
/// nothing is certified. Restored, the genuine request is approved.
#[tokio::test]
async fn swapped_enrollment_request_is_not_certified() {
    let ts = start().await;
    let city = create_org::<P256>(&ts.url(), "大町市").await;
    let c = ts.client();
    let t = now();
    let ticket = flows::enroll(
        &c,
        city.record(),
        "田中",
        Roles::REPRESENTATIVE.union(Roles::READER),
        t - 60,
        t + 30 * 86400,
        PASS,
        KdfParams::MINIMUM,
    )
    .await
    .expect("enroll");
    assert_eq!(ticket.code.len(), 19, "{}", ticket.code);

    // The attacker's request: same name, roles and validity, its own keys, a valid proof.
    let forged = steps::new_enrollment(
        city.record(),
        "田中",
        Roles::REPRESENTATIVE.union(Roles::READER),
        t - 60,
        t + 30 * 86400,
        t,
        &mut OsRng,
    )
    .expect("attacker's request");
    assert_ne!(forged.code, ticket.code);
    let pool = db(&ts).await;
    let genuine: Vec<u8> = sqlx::query_scalar("SELECT request FROM enrollments WHERE id = ?")
        .bind(&ticket.id)
        .fetch_one(&pool)
        .await
        .expect("row");
    sqlx::query("UPDATE enrollments SET request = ? WHERE id = ?")
        .bind(forged.statement.to_bytes())
        .bind(&ticket.id)
        .execute(&pool)
        .await
        .expect("swap");

    // The administrator's review shows exactly what it would for the genuine request.
    let review = flows::pending_enrollments(&city.admin.client, &city.admin.key)
        .await
        .expect("list");
    let shown = review[0].request.as_ref().expect("valid proof");
    assert_eq!(
        (&shown.member_name[..], shown.roles),
        ("田中", Roles::REPRESENTATIVE.union(Roles::READER))
    );

    let e = flows::approve_enrollment(
        &city.admin.client,
        &city.admin.key,
        &city.key,
        &ticket.id,
        &ticket.code,
    )
    .await
    .expect_err("the swapped request must not be certified");
    assert!(matches!(e, ClientError::Untrusted(_)), "{e}");
    assert!(e.to_string().contains("enrollment code"), "{e}");
    let members = city
        .admin
        .client
        .members(&city.id())
        .await
        .expect("members");
    assert_eq!(members.len(), 1, "only the administrator is a member");
    assert_eq!(
        c.enrollment(&ticket.id).await.expect("info").status,
        "pending"
    );
    // A mistyped code is refused the same way; no code at all is not even tried.
    for typed in ["", "0000-0000-0000-0000", "12345"] {
        assert!(flows::approve_enrollment(
            &city.admin.client,
            &city.admin.key,
            &city.key,
            &ticket.id,
            typed,
        )
        .await
        .is_err());
    }

    // The genuine request, restored, is approved with the member's code.
    sqlx::query("UPDATE enrollments SET request = ? WHERE id = ?")
        .bind(&genuine)
        .bind(&ticket.id)
        .execute(&pool)
        .await
        .expect("restore");
    let m = flows::approve_enrollment(
        &city.admin.client,
        &city.admin.key,
        &city.key,
        &ticket.id,
        &ticket.code.replace('-', " "),
    )
    .await
    .expect("approve");
    assert_eq!(m.name, "田中");
    match flows::finish_enrollment(
        &c,
        &ticket.id,
        city.record(),
        &ticket.pending_key_file,
        PASS,
    )
    .await
    .expect("finish")
    {
        flows::EnrollmentOutcome::Approved(k) => {
            assert_eq!(k.certificate.fingerprint().to_hex(), m.cert_id)
        }
        other => panic!("expected approved, got {other:?}"),
    }
}

/// Finding 1, validity. The organization's policy caps a certificate's validity: the
/// administrator's client shortens a longer request to the cap, and the server refuses a
/// certificate that lasts longer (or longer than requested) even if an administrator's
/// client made one.
#[tokio::test]
async fn certificate_validity_is_capped_by_the_organization_policy() {
    let ts = start().await;
    let city = create_org::<P256>(&ts.url(), "大町市").await;
    let policy = Policy {
        expiry_days: None,
        retention_days: None,
        max_validity_days: Some(30),
        quota_bytes: None,
        sender_role_required: false,
    };
    let org = flows::set_policy(&city.admin.client, &city.admin.key, &policy)
        .await
        .expect("policy");
    assert_eq!(org.max_validity_days, Some(30));
    let bad = Policy {
        max_validity_days: Some(0),
        ..policy.clone()
    };
    assert_eq!(
        status(
            &flows::set_policy(&city.admin.client, &city.admin.key, &bad)
                .await
                .expect_err("zero days")
        ),
        400
    );

    let c = ts.client();
    let t = now();
    let enroll = |days: u64| {
        let c = &c;
        let city = &city;
        async move {
            flows::enroll(
                c,
                city.record(),
                "長期",
                Roles::READER,
                t - 60,
                t - 60 + days * 86400,
                PASS,
                KdfParams::MINIMUM,
            )
            .await
            .expect("enroll")
        }
    };
    // A year is requested; the administrator's client certifies 30 days.
    let ticket = enroll(365).await;
    let m = flows::approve_enrollment(
        &city.admin.client,
        &city.admin.key,
        &city.key,
        &ticket.id,
        &ticket.code,
    )
    .await
    .expect("approve");
    let cert = soshiki_core::cert::Certificate::<P256>::from_bytes(&m.certificate.0).expect("cert");
    assert_eq!(cert.not_after - cert.not_before, 30 * 86400);

    // A certificate for the whole year, posted directly, is refused by the server.
    let ticket = enroll(365).await;
    let info = c.enrollment(&ticket.id).await.expect("info");
    let (_, req) = verify_enrollment::<P256>(&info.request.0, &city.id()).expect("valid");
    let post = |cert: soshiki_core::cert::Certificate<P256>| {
        let city = &city;
        let id = ticket.id.clone();
        let request = info.request.0.clone();
        async move {
            let spec = ActionSpec::approve(
                &id,
                &cert.fingerprint().to_hex(),
                &cert.to_bytes(),
                &request,
            );
            city.admin
                .client
                .approve_enrollment(&id, &cert.to_bytes(), &sign_action(&city.admin.key, &spec))
                .await
        }
    };
    let year = city
        .key
        .certify(&req.to_certificate_request(), &mut OsRng)
        .expect("cert");
    let e = post(year).await.expect_err("longer than the policy");
    assert_eq!(status(&e), 400, "{e}");
    assert_eq!(e.code(), Some("validity-over-policy"), "{e}");
    assert!(e.to_string().contains("max_validity_days"), "{e}");
    // Longer than requested (even within the cap) is refused too.
    let mut longer = req.to_certificate_request();
    longer.not_before -= 86400;
    longer.not_after = longer.not_before + 10 * 86400;
    let e = post(city.key.certify(&longer, &mut OsRng).expect("cert"))
        .await
        .expect_err("outside the request");
    assert_eq!(status(&e), 400, "{e}");
    // Within both: accepted.
    let mut within = req.to_certificate_request();
    within.not_after = within.not_before + 20 * 86400;
    post(city.key.certify(&within, &mut OsRng).expect("cert"))
        .await
        .expect("within the request and the policy");
}

/// Finding 2. A lying directory (here: a database writer) lists a reader-only member with the
/// representative role. The sender picks the representative from the verified certificates'
/// signed roles only, so that member is never addressed; and encrypting to its certificate is
/// refused by the core whatever the directory says.
#[tokio::test]
async fn representative_role_claimed_only_by_the_directory_is_never_addressed() {
    let ts = start().await;
    let city = create_org::<P256>(&ts.url(), "大町市").await;
    let pref = create_org::<P256>(&ts.url(), "県").await;
    let sender = enroll(&ts.url(), &pref, "県 送信担当", Roles::READER).await;
    // Listed first by name, reader only.
    let staff = enroll(&ts.url(), &city, "A 職員", Roles::READER).await;
    let pool = db(&ts).await;
    let claim = |roles: u8| {
        let pool = pool.clone();
        let id = staff.id();
        async move {
            sqlx::query("UPDATE members SET roles = ? WHERE cert_id = ?")
                .bind(i64::from(roles))
                .bind(id)
                .execute(&pool)
                .await
                .expect("rewrite roles");
        }
    };
    claim((Roles::REPRESENTATIVE.union(Roles::READER)).bits()).await;
    let listed = sender.client.members(&city.id()).await.expect("directory");
    let lie = listed
        .iter()
        .find(|m| m.cert_id == staff.id())
        .expect("listed");
    assert_ne!(
        lie.roles & Roles::REPRESENTATIVE.bits(),
        0,
        "the directory lies"
    );

    // With no certified representative, there is nobody to send to.
    let e = flows::representative(&sender.client, city.record())
        .await
        .expect_err("no certified representative");
    assert!(matches!(e, ClientError::Invalid(_)), "{e}");

    // With a certified representative listed after the liar, the representative is chosen.
    let rep = enroll(&ts.url(), &city, "Z 受信代表", Roles::REPRESENTATIVE).await;
    let chosen = flows::representative(&sender.client, city.record())
        .await
        .expect("representative");
    assert_eq!(chosen.certificate().fingerprint().to_hex(), rep.id());

    // Addressing the reader's (verified) certificate directly is refused before any upload.
    let staff_cert = flows::certified_member(&sender.client, city.record(), &staff.id())
        .await
        .expect("verified certificate");
    let e = flows::send(
        &sender.client,
        &sender.key,
        &staff_cert,
        &flows::SendOptions::default(),
        vec![flows::OutgoingPart {
            info: soshiki_core::envelope::PartInfo {
                name: "a.txt".into(),
                labels: vec![],
            },
            data: flows::PartData::Bytes(b"secret".to_vec()),
        }],
        None,
    )
    .await
    .expect_err("not a representative");
    assert!(e.to_string().contains("representative role"), "{e}");
    let inbox = staff.client.inbox(None).await.expect("inbox");
    assert!(inbox.is_empty(), "nothing was delivered to the reader");
}

/// Finding 7. A malicious server whose origin is a prefix of the real server's origin hands the
/// member a "nonce" made of the rest of the real origin followed by the real server's nonce.
/// Under the old statement (`"soshiki/v1/login" ‖ origin ‖ nonce`) the signature was valid for
/// the real server. Now the client refuses a nonce that is not 32 bytes, the statement
/// length-prefixes the origin, and the server refuses both the old-format signature and any
/// nonce of another length.
#[tokio::test]
async fn login_signed_for_a_shifted_origin_is_not_accepted() {
    let ts = start().await;
    let city = create_org::<P256>(&ts.url(), "大町市").await;
    let member = enroll(&ts.url(), &city, "職員", Roles::READER).await;
    let c = ts.client();
    let real_origin = c.origin().to_string();
    let (evil_origin, rest) = real_origin.split_at(real_origin.rfind(':').expect("port"));
    assert!(evil_origin.starts_with("http://") && rest.starts_with(':'));
    let ch = c.challenge(&member.id()).await.expect("challenge");
    assert_eq!(ch.nonce.0.len(), 32);
    let crafted: Vec<u8> = [rest.as_bytes(), &ch.nonce.0].concat();

    // The member's device refuses to sign the crafted challenge at all.
    let e = soshiki_client::proto::login_message(evil_origin, &crafted)
        .expect_err("a 32-byte nonce only");
    assert!(e.to_string().contains("32"), "{e}");
    // And the new statements for the two origins differ, whatever the nonce.
    assert_ne!(
        soshiki_client::proto::login_message(evil_origin, &crafted[..32]).expect("message"),
        soshiki_client::proto::login_message(&real_origin, &ch.nonce.0).expect("message")
    );

    // What an old client signed for the malicious origin: relayed, it is refused.
    let old = [
        b"soshiki/v1/login".as_slice(),
        evil_origin.as_bytes(),
        &crafted,
    ]
    .concat();
    assert_eq!(
        old,
        [
            b"soshiki/v1/login".as_slice(),
            real_origin.as_bytes(),
            &ch.nonce.0
        ]
        .concat(),
        "the collision the old format allowed"
    );
    let relayed = soshiki_client::proto::json::TokenRequest {
        cert_id: member.id(),
        nonce: ch.nonce.clone(),
        signature: soshiki_client::proto::B64(member.key.signing.sign(&old, &mut OsRng).to_vec()),
    };
    let e = c.token(&relayed).await.expect_err("relayed login");
    assert_eq!(status(&e), 401, "{e}");

    // A nonce of any other length is refused by the server before anything else.
    let ch = c.challenge(&member.id()).await.expect("challenge");
    let msg = soshiki_client::proto::login_message(&real_origin, &ch.nonce.0).expect("message");
    let sig = member.key.signing.sign(&msg, &mut OsRng).to_vec();
    let long = soshiki_client::proto::json::TokenRequest {
        cert_id: member.id(),
        nonce: soshiki_client::proto::B64([ch.nonce.0.as_slice(), b"x"].concat()),
        signature: soshiki_client::proto::B64(sig.clone()),
    };
    assert_eq!(status(&c.token(&long).await.expect_err("33 bytes")), 400);
    // The genuine answer to the same challenge still logs in.
    let good = soshiki_client::proto::json::TokenRequest {
        cert_id: member.id(),
        nonce: ch.nonce,
        signature: soshiki_client::proto::B64(sig),
    };
    c.token(&good).await.expect("login");
}

/// Finding 11, tokens. A token expires with its member's certificate, whichever comes first of
/// that and one hour; and a token whose expiry a database writer extends past the certificate's
/// end is refused once the certificate has expired.
#[tokio::test]
async fn token_never_outlives_its_certificate() {
    let ts = start().await;
    let city = create_org::<P256>(&ts.url(), "大町市").await;
    let mut c = ts.client();
    let t = now();
    let ticket = flows::enroll(
        &c,
        city.record(),
        "短期",
        Roles::READER,
        t - 60,
        t + 3,
        PASS,
        KdfParams::MINIMUM,
    )
    .await
    .expect("enroll");
    flows::approve_enrollment(
        &city.admin.client,
        &city.admin.key,
        &city.key,
        &ticket.id,
        &ticket.code,
    )
    .await
    .expect("approve");
    let key = match flows::finish_enrollment(
        &c,
        &ticket.id,
        city.record(),
        &ticket.pending_key_file,
        PASS,
    )
    .await
    .expect("finish")
    {
        flows::EnrollmentOutcome::Approved(k) => *k,
        other => panic!("expected approved, got {other:?}"),
    };
    let token = flows::login(&mut c, &key).await.expect("login");
    assert_eq!(
        token.expires,
        i64::try_from(key.certificate.not_after).expect("time"),
        "the token ends with the certificate, not an hour later"
    );
    c.inbox(None).await.expect("valid now");
    // A database writer extends the token by an hour.
    let pool = db(&ts).await;
    sqlx::query("UPDATE tokens SET expires = expires + 3600 WHERE cert_id = ?")
        .bind(key.certificate.fingerprint().to_hex())
        .execute(&pool)
        .await
        .expect("extend");
    while now() <= key.certificate.not_after {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let e = c.inbox(None).await.expect_err("certificate expired");
    assert_eq!(status(&e), 401, "{e}");
    assert!(e.to_string().contains("expired"), "{e}");
}

/// Finding 13. A sender names parts to escape the reader's output directory, hide a real
/// extension behind a right-to-left override, or hit a Windows device name: the reader's
/// `open` writes every part inside its directory under the one part-name policy.
#[tokio::test]
async fn hostile_part_names_stay_inside_the_output_directory() {
    let ts = start().await;
    let city = create_org::<P256>(&ts.url(), "大町市").await;
    let pref = create_org::<P256>(&ts.url(), "県").await;
    let sender = enroll(&ts.url(), &pref, "送信担当", Roles::READER).await;
    let rep = enroll(
        &ts.url(),
        &city,
        "受信代表",
        Roles::REPRESENTATIVE.union(Roles::READER),
    )
    .await;
    let to = flows::representative(&sender.client, city.record())
        .await
        .expect("representative");
    let names = [
        ("../../escape.txt", "escape.txt"),
        ("invoice\u{202E}txt.exe", "invoicetxt.exe"),
        ("CON", "_CON"),
        (".profile", "profile"),
        ("C:\\Windows\\win.ini", "win.ini"),
    ];
    let parts = names
        .iter()
        .map(|(n, _)| flows::OutgoingPart {
            info: soshiki_core::envelope::PartInfo {
                name: (*n).into(),
                labels: vec![],
            },
            data: flows::PartData::Bytes(n.as_bytes().to_vec()),
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
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("out");
    std::fs::create_dir(&out).expect("out dir");
    let opened = flows::open(&rep.client, &rep.key, &sent.delivery_id, &out, None)
        .await
        .expect("open");
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut want: Vec<String> = names.iter().map(|(_, s)| (*s).to_string()).collect();
    want.sort();
    assert_eq!(written, want);
    for p in &opened.parts {
        assert_eq!(p.path.parent(), Some(out.as_path()));
    }
    let outside: Vec<_> = std::fs::read_dir(root.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        outside,
        vec![std::ffi::OsString::from("out")],
        "nothing escaped"
    );
}
