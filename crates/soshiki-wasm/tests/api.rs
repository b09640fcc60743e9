//! Native tests of the plain Rust API behind the JavaScript bindings.

use rand_core::OsRng;
use soshiki_client::proto::{self, json, ActionSpec, ActionStatement, B64};
use soshiki_core::cert::{CertificateRequest, OrganizationKey, Roles};
use soshiki_core::envelope::{EnvelopeFile, EnvelopeHeader};
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::keys::{SecretKey, SigningKey};
use soshiki_core::split::{ForwardResponse, ForwardingRequest};
use soshiki_core::suite::{Ristretto255, Suite, P256};
use soshiki_wasm::api::{
    self, CertRef, EncryptRequest, ForwardTarget, OutgoingPart, RulePart, Session,
};
use soshiki_wasm::error::Code;
use soshiki_wasm::local_state::{CopyStatus, LocalState, Sealed};
use zeroize::Zeroizing;

const NOW: u64 = 1_700_000_000;
const PASS: &[u8] = b"correct horse";

struct Org<S: Suite> {
    key: OrganizationKey<S>,
}

impl<S: Suite> Org<S> {
    fn new(name: &str) -> Self {
        Self {
            key: OrganizationKey::generate(name, NOW - 10, &mut OsRng).expect("org"),
        }
    }
    fn record(&self) -> Vec<u8> {
        self.key.organization().to_bytes()
    }
    fn member(&self, name: &str, roles: Roles) -> MemberKey<S> {
        let encryption = SecretKey::<S>::generate(&mut OsRng);
        let signing = SigningKey::<S>::generate(&mut OsRng);
        let req = CertificateRequest {
            member_name: name.into(),
            roles,
            encryption_key: encryption.public_key().clone(),
            signing_key: signing.verifying_key(),
            not_before: NOW - 5,
            not_after: NOW + 86_400,
        };
        let certificate = self.key.certify(&req, &mut OsRng).expect("certify");
        MemberKey {
            encryption,
            signing,
            organization: self.key.organization().clone(),
            certificate,
        }
    }
    fn session(&self, name: &str, roles: Roles) -> (Session, Vec<u8>) {
        let m = self.member(name, roles);
        let file = m
            .to_key_file(PASS, KdfParams::MINIMUM, &mut OsRng)
            .expect("key file");
        (
            Session::unlock(&file, PASS).expect("unlock"),
            m.certificate.to_bytes(),
        )
    }
}

fn part(name: &str, district: &str, data: &[u8]) -> OutgoingPart {
    OutgoingPart {
        name: name.into(),
        labels: vec![("district".into(), district.into())],
        data: Zeroizing::new(data.to_vec()),
    }
}

fn decrypt_all(
    session: &Session,
    header: &[u8],
    body_file: &[u8],
    piece: usize,
) -> Vec<(u32, Vec<u8>)> {
    let opener = session.begin_open(header, NOW).expect("begin open");
    let mut out = Vec::new();
    for p in &opener.info().parts {
        let (off, len) = (
            p.offset.expect("offset") as usize,
            p.cipher_length.expect("len") as usize,
        );
        let mut d = opener.part(p.index).expect("part");
        let mut plain = Vec::new();
        for c in body_file[off..off + len].chunks(piece) {
            plain.extend_from_slice(&d.push(c).expect("push"));
        }
        plain.extend_from_slice(&d.finish().expect("finish"));
        out.push((p.index, plain));
    }
    out
}

fn scenario<S: Suite>() {
    let pref = Org::<S>::new("長野県 福祉課");
    let city = Org::<S>::new("大町市 市民課");
    let (sender, _) = pref.session("送信担当", Roles::READER);
    let (rep, rep_cert) = city.session("受信代表", Roles::REPRESENTATIVE);
    let (staff, staff_cert) = city.session("大町地区担当", Roles::READER);
    assert_eq!(rep.member_name(), "受信代表");
    assert_eq!(rep.org_name(), "大町市 市民課");
    assert_eq!(rep.roles(), vec!["representative".to_string()]);
    assert_eq!(rep.suite(), S::ID.name());
    assert!(!rep.pending());

    let big: Vec<u8> = (0..5000u32).map(|i| (i * 31) as u8).collect();
    let req = EncryptRequest {
        recipient_org: city.record(),
        recipient_cert: rep_cert.clone(),
        title: "敬老会 名簿".into(),
        category: "list".into(),
        chunk_size: Some(1024),
        parts: vec![
            part("omachi.csv", "Omachi", &big),
            part("yasaka.csv", "Yasaka", b""),
        ],
    };
    let enc = sender.encrypt(&req, NOW).expect("encrypt");
    assert_eq!(enc.bodies_offset, soshiki_core::envelope::PREFIX_LEN);
    assert_eq!(
        &enc.envelope[enc.bodies_offset as usize..][..enc.bodies_length as usize].len(),
        &(enc.bodies_length as usize)
    );
    // The file is a valid envelope file whose header is the one returned.
    let file = EnvelopeFile::<S>::open(&mut std::io::Cursor::new(&enc.envelope)).expect("file");
    assert_eq!(file.header.to_bytes(), enc.header);

    // Encrypting to a certificate of another organization than the pinned one is refused.
    let mut wrong = EncryptRequest {
        recipient_org: pref.record(),
        parts: vec![],
        ..req
    };
    wrong.parts.push(part("x", "y", b"z"));
    assert_eq!(
        sender.encrypt(&wrong, NOW).expect_err("must fail").code,
        Code::Untrusted
    );

    // The representative opens directly, in pieces of every awkward size.
    for piece in [1, 7, 1040, 100_000] {
        let got = decrypt_all(&rep, &enc.header, &enc.envelope, piece);
        assert_eq!(got, vec![(0, big.clone()), (1, vec![])]);
    }
    let info = rep
        .begin_open(&enc.header, NOW)
        .expect("open")
        .info()
        .clone();
    assert_eq!(info.title, "敬老会 名簿");
    assert_eq!(info.sender_name, "送信担当");
    assert_eq!(info.parts[0].labels["district"], "Omachi");
    assert_eq!(info.parts[0].length, Some(5000));
    // The staff member holds nothing yet.
    assert_eq!(
        staff
            .begin_open(&enc.header, NOW)
            .expect_err("must fail")
            .code,
        Code::Invalid
    );

    // Model 2: the representative forwards the Omachi part to the staff member.
    let header = EnvelopeHeader::<S>::from_bytes(&enc.header).expect("header");
    let request = header.forwarding_request(None).expect("request").to_bytes();
    let view = rep.forward_view(&request, NOW).expect("view");
    assert_eq!(view.parts.len(), 2);
    assert_eq!(view.parts[1].labels["district"], "Yasaka");
    assert_eq!(view.envelope_id, enc.envelope_id);
    let targets = vec![ForwardTarget {
        certificate: staff_cert.clone(),
        parts: vec![0],
    }];
    // A forwarder that does not hold the request cannot forward it.
    assert!(staff.forward(&request, &targets, NOW + 60).is_err());
    // A target certificate from another organization is refused.
    let (_, outsider) = pref.session("外部", Roles::READER);
    let bad = vec![ForwardTarget {
        certificate: outsider,
        parts: vec![0],
    }];
    assert_eq!(
        rep.forward(&request, &bad, NOW + 60)
            .expect_err("must fail")
            .code,
        Code::Untrusted
    );
    let overlap = vec![targets[0].clone(), targets[0].clone()];
    assert_eq!(
        rep.forward(&request, &overlap, NOW + 60)
            .expect_err("must fail")
            .code,
        Code::Invalid
    );

    let responses = rep.forward(&request, &targets, NOW + 60).expect("forward");
    assert_eq!(responses.len(), 1);
    // The server's combiner accepts the response; the staff member opens its copy.
    let resp = ForwardResponse::<S>::from_bytes(&responses[0]).expect("response");
    let staff_header = header.apply_forward(&resp).expect("combine");
    let mut staff_file = Vec::new();
    soshiki_core::envelope::write_forwarded(
        &file,
        &mut std::io::Cursor::new(&enc.envelope),
        &staff_header,
        &mut staff_file,
        &mut |_| {},
    )
    .expect("write");
    let got = decrypt_all(&staff, &staff_header.to_bytes(), &staff_file, 333);
    assert_eq!(got, vec![(0, big.clone())]);
    let staff_info = staff
        .begin_open(&staff_header.to_bytes(), NOW)
        .expect("open");
    assert_eq!(staff_info.info().hops.len(), 1);
    assert_eq!(staff_info.info().hops[0].forwarder, "受信代表");
    assert_eq!(staff_info.info().hops[0].target, "大町地区担当");
    // The representative no longer holds the forwarded part in the staff copy.
    assert!(rep.begin_open(&staff_header.to_bytes(), NOW).is_err());

    // The action statement for the forward is signed by the representative and states it.
    let spec = ActionSpec::forward(
        "d1",
        &enc.envelope_id,
        &[(
            rep.resolve_cert(&CertRef::Bytes(staff_cert.clone()))
                .expect("id"),
            vec![0],
        )],
        &responses,
    );
    let header_value = rep.sign_action(&spec, NOW + 61);
    let st = ActionStatement::from_bytes(&B64::decode(&header_value).expect("b64")).expect("st");
    assert!(st.states(&spec));
    assert_eq!(st.actor.to_hex(), rep.cert_id());
    let rep_key = soshiki_core::cert::Certificate::<S>::from_bytes(&rep_cert).expect("cert");
    assert!(st.verify_signature(&rep_key.signing_key));
    let login = rep
        .sign_login("https://127.0.0.1:8443", &[7; 32])
        .expect("login");
    assert!(rep_key.signing_key.verify(
        &proto::login_message("https://127.0.0.1:8443", &[7; 32]).expect("message"),
        &login
    ));
    // A nonce of another length (one that could shift the origin boundary) is refused.
    for n in [0usize, 31, 33, 64] {
        assert!(rep
            .sign_login("https://127.0.0.1:8443", &vec![7; n])
            .is_err());
    }
}

#[test]
fn send_forward_open_p256() {
    scenario::<P256>();
}

#[test]
fn send_forward_open_ristretto255() {
    scenario::<Ristretto255>();
}

#[test]
fn streaming_rejects_tampering_truncation_and_extension() {
    let city = Org::<P256>::new("city");
    let (rep, rep_cert) = city.session("rep", Roles::REPRESENTATIVE);
    let data: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let enc = rep
        .encrypt(
            &EncryptRequest {
                recipient_org: city.record(),
                recipient_cert: rep_cert,
                title: "t".into(),
                category: "c".into(),
                chunk_size: Some(1024),
                parts: vec![part("a", "b", &data)],
            },
            NOW,
        )
        .expect("encrypt");
    let opener = rep.begin_open(&enc.header, NOW).expect("open");
    let p = &opener.info().parts[0];
    let body =
        &enc.envelope[p.offset.expect("o") as usize..][..p.cipher_length.expect("l") as usize];

    // Flipped byte in the last chunk: the chunk fails, nothing more is released.
    let mut flipped = body.to_vec();
    let n = flipped.len();
    flipped[n - 3] ^= 1;
    let mut d = opener.part(0).expect("part");
    let err = d.push(&flipped).expect_err("must fail");
    assert_eq!(err.code, Code::DecryptFailed);
    assert!(d.push(&[]).is_err() && d.finish().is_err(), "stays failed");

    // Truncated: finish refuses, and the held-back last chunk is never released.
    let mut d = opener.part(0).expect("part");
    let released = d.push(&body[..n - 1]).expect("push");
    assert_eq!(&released[..], &data[..2048]);
    assert_eq!(d.finish().expect_err("must fail").code, Code::DecryptFailed);

    // Extended: one byte more than the signed length.
    let mut d = opener.part(0).expect("part");
    let mut longer = body.to_vec();
    longer.push(0);
    assert_eq!(
        d.push(&longer).expect_err("must fail").code,
        Code::DecryptFailed
    );

    // The last chunk is released only by finish.
    let mut d = opener.part(0).expect("part");
    let first = d.push(body).expect("push");
    assert_eq!(first.len(), 2048);
    assert_eq!(&d.finish().expect("finish")[..], &data[2048..]);

    // Not a part of this envelope.
    assert_eq!(opener.part(5).expect_err("must fail").code, Code::Invalid);
}

#[test]
fn enrollment_round_trip() {
    let city = Org::<P256>::new("大町市");
    let org_file = city
        .key
        .to_key_file(PASS, KdfParams::MINIMUM, &mut OsRng)
        .expect("org file");
    let e = api::create_enrollment(
        &city.record(),
        "田中",
        "forwarder, reader",
        NOW,
        NOW + 1000,
        PASS,
        KdfParams::MINIMUM,
        NOW,
    )
    .expect("enroll");
    // The statement is what the server checks: a valid proof of possession for this org.
    let org_id = city.key.organization().fingerprint().to_hex();
    proto::verify_enrollment::<P256>(&e.statement, &org_id).expect("valid request");
    let pending = Session::unlock(&e.pending_key_file, PASS).expect("pending");
    assert!(pending.pending());

    let admin = api::OrgKey::unlock(&org_file, PASS).expect("org key");
    assert_eq!(admin.org_id(), org_id);
    let review = admin.review_enrollment(&e.statement);
    assert!(review.ok, "{review:?}");
    assert_eq!(review.name, "田中");
    assert_eq!(
        review.roles,
        vec!["forwarder".to_string(), "reader".to_string()]
    );
    let mut tampered = e.statement.clone();
    let n = tampered.len();
    tampered[n - 1] ^= 1;
    let bad = admin.review_enrollment(&tampered);
    assert!(!bad.ok && bad.problem.is_some());
    assert_eq!(
        admin
            .certify(&tampered, &e.code, Default::default())
            .expect_err("must fail")
            .code,
        Code::Untrusted
    );
    assert!(admin.enrollment_code_matches(&e.statement, &e.code));
    assert!(admin.enrollment_code_matches(&e.statement, &e.code.replace('-', " ")));

    let cert = admin
        .certify(&e.statement, &e.code, Default::default())
        .expect("certify");
    let member = api::verify_member(&city.record(), &cert, NOW + 1).expect("verify");
    assert_eq!(member.name, "田中");
    assert_eq!(member.org_id, org_id);
    assert_eq!(
        api::verify_member(&city.record(), &cert, NOW + 2000)
            .expect_err("must fail")
            .code,
        Code::Untrusted,
        "expired"
    );
    let full = api::finish_enrollment(
        &city.record(),
        &cert,
        &e.pending_key_file,
        PASS,
        KdfParams::MINIMUM,
        &e.statement,
    )
    .expect("finish");
    let s = Session::unlock(&full, PASS).expect("unlock");
    assert!(!s.pending());
    assert_eq!(s.cert_id(), member.cert_id);
    assert_eq!(s.org_id(), org_id);

    // A certificate for other keys (another enrollment) is refused.
    let other = api::create_enrollment(
        &city.record(),
        "佐藤",
        "reader",
        NOW,
        NOW + 1000,
        PASS,
        KdfParams::MINIMUM,
        NOW,
    )
    .expect("enroll");
    let other_cert = admin
        .certify(&other.statement, &other.code, Default::default())
        .expect("certify");
    let err = api::finish_enrollment(
        &city.record(),
        &other_cert,
        &e.pending_key_file,
        PASS,
        KdfParams::MINIMUM,
        &e.statement,
    )
    .expect_err("must fail");
    assert_eq!(err.code, Code::Untrusted);
    // Wrong passphrase, empty name, bad roles.
    assert_eq!(
        Session::unlock(&full, b"nope").expect_err("must fail").code,
        Code::WrongPassphrase
    );
    assert_eq!(
        api::create_enrollment(
            &city.record(),
            "",
            "reader",
            NOW,
            NOW + 1,
            PASS,
            KdfParams::MINIMUM,
            NOW
        )
        .expect_err("must fail")
        .code,
        Code::Invalid
    );
    assert!(api::create_enrollment(
        &city.record(),
        "x",
        "king",
        NOW,
        NOW + 1,
        PASS,
        KdfParams::MINIMUM,
        NOW
    )
    .is_err());
    // An organization key file is not a member key file.
    assert_eq!(
        Session::unlock(&org_file, PASS)
            .expect_err("must fail")
            .code,
        Code::Invalid
    );
    assert_eq!(
        api::key_file_info(&org_file).expect("info").kind,
        "organization"
    );
    assert_eq!(api::key_file_info(&full).expect("info").kind, "member");
    assert_eq!(
        api::organization_info(&city.record()).expect("org").name,
        "大町市"
    );
    assert_eq!(
        api::organization_info(b"garbage")
            .expect_err("must fail")
            .code,
        Code::Malformed
    );

    // Export under a new passphrase and unlock again.
    let again = s
        .export_key_file(b"new pass", KdfParams::MINIMUM)
        .expect("export");
    assert_eq!(
        Session::unlock(&again, b"new pass")
            .expect("unlock")
            .cert_id(),
        s.cert_id()
    );
}

#[test]
fn rules_route_parts() {
    let t = "a".repeat(64);
    let rules = vec![
        format!("district=Omachi -> {t}"),
        format!("category=DV -> {}", "b".repeat(64)),
    ];
    let parts = vec![
        RulePart {
            index: 0,
            info: soshiki_core::envelope::PartInfo {
                name: "a".into(),
                labels: vec![soshiki_core::envelope::Label::parse("district=Omachi").expect("l")],
            },
        },
        RulePart {
            index: 2,
            info: Default::default(),
        },
    ];
    let got = api::test_rules(&rules, &parts, "list").expect("rules");
    assert_eq!(got[0].target.as_deref(), Some(t.as_str()));
    assert_eq!(got[0].rule, Some(0));
    assert_eq!(got[1].target, None);
    let got = api::test_rules(&rules, &parts, "DV").expect("rules");
    assert_eq!(got[1].rule, Some(1));
    let err = api::test_rules(&["district=A".into()], &parts, "").expect_err("must fail");
    assert_eq!(err.code, Code::Invalid);
    assert!(err.text.contains("district=A"));
}

#[test]
fn audit_pages_verify_and_edits_are_found() {
    let city = Org::<P256>::new("city");
    let m = city.member("admin", Roles::ADMIN);
    let (s, cert) = {
        let file = m
            .to_key_file(PASS, KdfParams::MINIMUM, &mut OsRng)
            .expect("file");
        (
            Session::unlock(&file, PASS).expect("unlock"),
            m.certificate.to_bytes(),
        )
    };
    let org_id = s.org_id();
    let mut prev = [0u8; 32];
    let mut entries = Vec::new();
    for (seq, spec) in [
        ActionSpec::recall("d1"),
        ActionSpec::set_policy(
            &org_id,
            &json::Policy {
                expiry_days: Some(30),
                retention_days: None,
                max_validity_days: None,
                quota_bytes: None,
                sender_role_required: false,
            },
        ),
    ]
    .iter()
    .enumerate()
    {
        let entry = B64::decode(&s.sign_action(spec, NOW)).expect("b64");
        let seq = seq as u64 + 1;
        let hash = proto::audit_hash(&prev, seq, &entry);
        entries.push(json::AuditRecord {
            seq,
            entry: B64(entry),
            prev_hash: hex::encode(prev),
            hash: hex::encode(hash),
            created: NOW as i64,
        });
        prev = hash;
    }
    let page = json::AuditPage {
        org_id: org_id.clone(),
        entries,
        certificates: vec![json::ActorCertificate {
            cert_id: s.cert_id(),
            certificate: B64(cert),
            org_record: B64(city.record()),
        }],
    };
    let text = serde_json::to_string(&page).expect("json");
    let r = api::verify_audit(&city.record(), &text, &[], None).expect("verify");
    assert!(r.ok);
    assert_eq!(r.entries.len(), 2);
    assert_eq!(r.entries[1].action, "set-policy");
    assert_eq!(r.entries[0].actor, "admin");
    let mut edited = page.clone();
    edited.entries[1].entry.0[20] ^= 1;
    let r = api::verify_audit(
        &city.record(),
        &serde_json::to_string(&edited).expect("json"),
        &[],
        None,
    )
    .expect("verify");
    assert!(!r.ok);
    assert_eq!(r.failures[0].seq, 2);
    assert_eq!(
        api::verify_audit(&city.record(), "{", &[], None)
            .expect_err("must fail")
            .code,
        Code::Malformed
    );
}

#[test]
fn forwarding_request_for_another_organization_is_untrusted() {
    let city = Org::<P256>::new("city");
    let other = Org::<P256>::new("other");
    let (rep, rep_cert) = city.session("rep", Roles::REPRESENTATIVE);
    let (other_rep, _) = other.session("rep2", Roles::REPRESENTATIVE);
    let enc = rep
        .encrypt(
            &EncryptRequest {
                recipient_org: city.record(),
                recipient_cert: rep_cert,
                title: String::new(),
                category: String::new(),
                chunk_size: None,
                parts: vec![part("a", "b", b"hello")],
            },
            NOW,
        )
        .expect("encrypt");
    let header = EnvelopeHeader::<P256>::from_bytes(&enc.header).expect("header");
    let request = header.forwarding_request(None).expect("request");
    let bytes = request.to_bytes();
    assert_eq!(
        other_rep
            .forward_view(&bytes, NOW)
            .expect_err("must fail")
            .code,
        Code::Untrusted
    );
    assert_eq!(
        other_rep
            .begin_open(&enc.header, NOW)
            .expect_err("must fail")
            .code,
        Code::Untrusted
    );
    // A tampered request does not verify.
    let mut bad: ForwardingRequest<P256> = request.clone();
    bad.core.created += 1;
    assert_eq!(
        rep.forward_view(&bad.to_bytes(), NOW)
            .expect_err("must fail")
            .code,
        Code::Untrusted
    );
    assert_eq!(
        rep.forward_view(b"junk", NOW).expect_err("must fail").code,
        Code::Malformed
    );
}

/// A lying server replaces a member's pending request by one for the attacker's keys with the
/// same name and roles: the browser administrator types the code shown on the member's device,
/// and `OrgKey.certify` refuses to certify the swapped request.
#[test]
fn swapped_enrollment_request_is_not_certified_in_the_browser() {
    let city = Org::<P256>::new("大町市");
    let org_file = city
        .key
        .to_key_file(PASS, KdfParams::MINIMUM, &mut OsRng)
        .expect("org file");
    let admin = api::OrgKey::unlock(&org_file, PASS).expect("org key");
    let enroll = |name: &str| {
        api::create_enrollment(
            &city.record(),
            name,
            "representative,reader",
            NOW,
            NOW + 86_400,
            PASS,
            KdfParams::MINIMUM,
            NOW,
        )
        .expect("enroll")
    };
    let member = enroll("田中");
    let attacker = enroll("田中");
    // The swapped request is well formed and proves possession of the attacker's keys; the
    // review shows exactly what the member's would.
    let (r1, r2) = (
        admin.review_enrollment(&member.statement),
        admin.review_enrollment(&attacker.statement),
    );
    assert!(r2.ok);
    assert_eq!((&r1.name, &r1.roles), (&r2.name, &r2.roles));
    assert_ne!(member.code, attacker.code);
    assert!(!admin.enrollment_code_matches(&attacker.statement, &member.code));
    let err = admin
        .certify(&attacker.statement, &member.code, Default::default())
        .expect_err("the swapped request must not be certified");
    assert_eq!(err.code, Code::Untrusted, "{}", err.text);
    // Without a code (or a malformed one) nothing is certified either.
    for typed in ["", "1234", "abcd-efgh-ijkl-mnop"] {
        assert!(admin
            .certify(&member.statement, typed, Default::default())
            .is_err());
    }
    // The right request with its code is certified, capped by the policy.
    let cert = admin
        .certify(
            &member.statement,
            &member.code,
            soshiki_client::steps::ValidityChoice {
                max_validity_days: Some(1),
                ..Default::default()
            },
        )
        .expect("certify");
    let info = api::verify_member(&city.record(), &cert, NOW + 1).expect("verify");
    assert_eq!(info.not_after - info.not_before, 86_400);
    // A validity longer than the request is refused.
    assert!(admin
        .certify(
            &member.statement,
            &member.code,
            soshiki_client::steps::ValidityChoice {
                not_after: Some(NOW + 2 * 86_400),
                ..Default::default()
            },
        )
        .is_err());
}

/// A lying server labels a reader-only member as the representative: the browser's `encrypt`
/// checks the role in the verified certificate and refuses to address it.
#[test]
fn browser_encrypt_refuses_a_recipient_without_the_representative_role() {
    let pref = Org::<P256>::new("長野県");
    let city = Org::<P256>::new("大町市");
    let (sender, _) = pref.session("送信担当", Roles::READER);
    let (_, reader_cert) = city.session("職員", Roles::READER);
    let (_, forwarder_cert) = city.session("課長", Roles::FORWARDER.union(Roles::READER));
    for cert in [reader_cert, forwarder_cert] {
        let req = EncryptRequest {
            recipient_org: city.record(),
            recipient_cert: cert,
            title: String::new(),
            category: String::new(),
            chunk_size: None,
            parts: vec![part("a.csv", "Omachi", b"secret")],
        };
        let e = sender.encrypt(&req, NOW).expect_err("must be refused");
        assert_eq!(e.code, Code::Invalid, "{}", e.text);
        assert!(e.text.contains("representative role"), "{}", e.text);
    }
}

/// Someone who can write the browser profile (but has no passphrase) edits the stored pin
/// list: its signature by the member key no longer verifies, nor does another member's list,
/// another kind of state or a changed serial, so the page refuses it at unlock.
#[test]
fn pin_list_edited_in_the_browser_profile_does_not_verify() {
    let city = Org::<P256>::new("大町市");
    let (alice, _) = city.session("alice", Roles::READER);
    let (bob, _) = city.session("bob", Roles::READER);
    let pins = r#"{"aa":"長野県"}"#;
    let sealed = alice.seal_local_state("pins", 3, pins).expect("seal");
    let opened = alice.open_local_state("pins", &sealed).expect("opens");
    assert_eq!((opened.serial, opened.text.as_str()), (3, pins));
    let refused = |what: &str, r: Result<LocalState, soshiki_wasm::error::Error>| {
        assert_eq!(r.expect_err(what).code, Code::Untrusted, "{what}");
    };
    let mut s = Sealed::from_bytes(&sealed).expect("decodes");
    s.text = r#"{"aa":"長野県","bb":"攻撃者"}"#.into();
    refused("edited list", alice.open_local_state("pins", &s.to_bytes()));
    let mut s = Sealed::from_bytes(&sealed).expect("decodes");
    s.serial = 99;
    refused(
        "raised serial",
        alice.open_local_state("pins", &s.to_bytes()),
    );
    refused("other kind", alice.open_local_state("trust", &sealed));
    refused(
        "another member's list",
        bob.open_local_state("pins", &sealed),
    );
    let bobs = bob.seal_local_state("pins", 4, pins).expect("seal");
    refused(
        "signed by another member",
        alice.open_local_state("pins", &bobs),
    );
    let mut s = Sealed::from_bytes(&bobs).expect("decodes");
    s.cert_id = alice.cert_id();
    refused(
        "relabelled as alice's",
        alice.open_local_state("pins", &s.to_bytes()),
    );
    let mut bad = sealed.clone();
    let n = bad.len();
    bad[n - 5] ^= 1;
    refused("bad signature", alice.open_local_state("pins", &bad));
    assert_eq!(
        alice
            .open_local_state("pins", &sealed[..n - 1])
            .expect_err("truncated")
            .code,
        Code::Malformed
    );
    assert_eq!(
        alice
            .seal_local_state("pins", 0, pins)
            .expect_err("serial 0")
            .code,
        Code::Invalid
    );
    assert_eq!(
        alice
            .seal_local_state("Pins!", 1, pins)
            .expect_err("bad kind")
            .code,
        Code::Invalid
    );
}

/// Someone who can write the browser profile puts back an older signed pin list (re-adding an
/// organization the member unpinned), or deletes the list: the server's copy, with the higher
/// serial, wins at unlock and the profile's copy is reported older or missing. A server copy
/// that is not this member's signed state (the server cannot sign one) is ignored.
#[test]
fn rolled_back_or_deleted_pin_list_is_replaced_by_the_newer_signed_copy() {
    let city = Org::<P256>::new("大町市");
    let (alice, _) = city.session("alice", Roles::READER);
    let (mallory, _) = city.session("mallory", Roles::READER);
    let old = alice
        .seal_local_state("pins", 1, r#"{"aa":"攻撃者"}"#)
        .expect("seal");
    let new = alice.seal_local_state("pins", 2, "{}").expect("seal");

    // Rolled back in the profile: the server's newer copy is chosen.
    let r = alice
        .reconcile_local_state("pins", Some(&old), Some(&new))
        .expect("reconcile");
    assert_eq!((r.serial, r.text.as_deref()), (2, Some("{}")));
    assert_eq!(
        (r.local, r.server),
        (CopyStatus::Older, CopyStatus::Current)
    );
    assert_eq!(r.sealed.as_deref(), Some(&new[..]));
    // Deleted from the profile.
    let r = alice
        .reconcile_local_state("pins", None, Some(&new))
        .expect("reconcile");
    assert_eq!(
        (r.serial, r.local, r.server),
        (2, CopyStatus::Missing, CopyStatus::Current)
    );
    // Edited in the profile (does not verify): the server's copy.
    let r = alice
        .reconcile_local_state("pins", Some(b"SKBS garbage"), Some(&new))
        .expect("reconcile");
    assert_eq!((r.serial, r.local), (2, CopyStatus::Invalid));
    // The server is behind (an earlier upload failed): the profile's newer copy wins and goes
    // back to the server.
    let r = alice
        .reconcile_local_state("pins", Some(&new), Some(&old))
        .expect("reconcile");
    assert_eq!(
        (r.serial, r.local, r.server),
        (2, CopyStatus::Current, CopyStatus::Older)
    );
    let r = alice
        .reconcile_local_state("pins", Some(&new), None)
        .expect("reconcile");
    assert_eq!(
        (r.serial, r.local, r.server),
        (2, CopyStatus::Current, CopyStatus::Missing)
    );
    // A lying server serves a list of its own making (signed by another key, or another
    // member's, or a higher serial on someone else's list): ignored, the profile's is used.
    let forged = mallory
        .seal_local_state("pins", 50, r#"{"aa":"攻撃者"}"#)
        .expect("seal");
    let r = alice
        .reconcile_local_state("pins", Some(&new), Some(&forged))
        .expect("reconcile");
    assert_eq!((r.serial, r.text.as_deref()), (2, Some("{}")));
    assert_eq!(
        (r.local, r.server),
        (CopyStatus::Current, CopyStatus::Invalid)
    );
    // Nothing anywhere: a first use; the next save is serial 1.
    let r = alice
        .reconcile_local_state("pins", None, None)
        .expect("reconcile");
    assert_eq!((r.serial, r.text, r.sealed), (0, None, None));
    assert_eq!(
        (r.local, r.server),
        (CopyStatus::Missing, CopyStatus::Missing)
    );
    // Both present and identical: nothing to do.
    let r = alice
        .reconcile_local_state("pins", Some(&new), Some(&new))
        .expect("reconcile");
    assert_eq!(
        (r.local, r.server),
        (CopyStatus::Current, CopyStatus::Current)
    );
}

/// Someone who can write the browser profile swaps the organization record stored with a
/// pending enrollment for one of their own, whose key certified this device's public keys
/// (they are in the enrollment request on the server): finishing is refused, because the
/// device's own enroll statement, signed by the pending key, names the real organization.
#[test]
fn pending_enrollment_with_a_swapped_organization_record_is_not_finished() {
    let city = Org::<P256>::new("大町市");
    let attacker = Org::<P256>::new("大町市");
    let e = api::create_enrollment(
        &city.record(),
        "田中",
        "reader",
        NOW,
        NOW + 1000,
        PASS,
        KdfParams::MINIMUM,
        NOW,
    )
    .expect("enroll");
    // The attacker certifies the requested keys with its own organization key.
    let st = ActionStatement::from_bytes(&e.statement).expect("statement");
    let request = proto::EnrollmentRequest::<P256>::from_bytes(&st.detail).expect("request");
    let forged_cert = attacker
        .key
        .certify(&request.to_certificate_request(), &mut OsRng)
        .expect("certify")
        .to_bytes();
    let err = api::finish_enrollment(
        &attacker.record(),
        &forged_cert,
        &e.pending_key_file,
        PASS,
        KdfParams::MINIMUM,
        &e.statement,
    )
    .expect_err("a swapped organization record must be refused");
    assert_eq!(err.code, Code::Untrusted);
    assert!(
        err.text.contains("not the one this device asked to join"),
        "{}",
        err.text
    );
    // Another device's statement for the attacker's organization does not help either: it is
    // not signed by this device's pending key.
    let other = api::create_enrollment(
        &attacker.record(),
        "田中",
        "reader",
        NOW,
        NOW + 1000,
        PASS,
        KdfParams::MINIMUM,
        NOW,
    )
    .expect("enroll");
    let err = api::finish_enrollment(
        &attacker.record(),
        &forged_cert,
        &e.pending_key_file,
        PASS,
        KdfParams::MINIMUM,
        &other.statement,
    )
    .expect_err("another device's statement must be refused");
    assert_eq!(err.code, Code::Untrusted);
    // The real organization's certificate with the real record finishes.
    let admin = api::OrgKey::unlock(
        &city
            .key
            .to_key_file(PASS, KdfParams::MINIMUM, &mut OsRng)
            .expect("org file"),
        PASS,
    )
    .expect("org key");
    let cert = admin
        .certify(&e.statement, &e.code, Default::default())
        .expect("certify");
    api::finish_enrollment(
        &city.record(),
        &cert,
        &e.pending_key_file,
        PASS,
        KdfParams::MINIMUM,
        &e.statement,
    )
    .expect("the real organization finishes");
}

/// The browser's partner list: the administrator adds and removes a partner with the
/// organization key; members verify it; a list with a swapped fingerprint, an older list after
/// a newer one was seen, a withheld list and another organization's list are refused.
#[test]
fn partner_lists_signed_by_the_organization_and_refused_when_changed() {
    let org = Org::<P256>::new("大町市");
    let other = Org::<P256>::new("大町市");
    let pref = Org::<P256>::new("長野県");
    let pref_id = pref.key.organization().fingerprint().to_hex();
    let org_file = org
        .key
        .to_key_file(PASS, KdfParams::MINIMUM, &mut OsRng)
        .expect("org file");
    let admin = api::OrgKey::unlock(&org_file, PASS).expect("org key");
    assert_eq!(
        api::verify_partners(&org.record(), None, 0, NOW).expect("none"),
        None
    );
    let (s1, l1) = admin
        .partner_list(None, Some((&pref_id, "長野県")), &[], NOW)
        .expect("first");
    let (s2, l2) = admin
        .partner_list(Some(&l1), None, std::slice::from_ref(&pref_id), NOW)
        .expect("second");
    assert_eq!((s1, s2), (1, 2));
    let info = api::verify_partners(&org.record(), Some(&l1), 0, NOW + 10)
        .expect("ok")
        .expect("a list");
    assert_eq!(info.ids, vec![pref_id.clone()]);
    assert_eq!(info.names, vec!["長野県".to_string()]);
    let info = api::verify_partners(&org.record(), Some(&l2), 1, NOW + 10)
        .expect("ok")
        .expect("a list");
    assert!(info.ids.is_empty() && info.names.is_empty());
    let e = api::verify_partners(&org.record(), Some(&l1), 2, NOW + 10)
        .expect_err("replayed older list");
    assert!(e.to_string().contains("older than serial 2"), "{e}");
    let e = api::verify_partners(&org.record(), None, 2, NOW + 10).expect_err("withheld");
    assert!(e.to_string().contains("withholds"), "{e}");
    let mut swapped = l1.clone();
    let entry = 5 + 1 + 2 + 32 + 8 + 8 + 4;
    swapped[entry..entry + 32].copy_from_slice(&other.key.organization().fingerprint().0);
    let e = api::verify_partners(&org.record(), Some(&swapped), 0, NOW + 10)
        .expect_err("swapped fingerprint");
    assert_eq!(e.code, Code::Untrusted);
    let e = api::verify_partners(&other.record(), Some(&l1), 0, NOW + 10)
        .expect_err("another organization");
    assert_eq!(e.code, Code::Untrusted);
    assert!(admin
        .partner_list(None, Some(("abc", "x")), &[], NOW)
        .is_err());
}

/// The browser's checks of organization-signed status: a revocation list that revokes the
/// addressed certificate, a replayed (older) list, a list of another organization; a signed
/// checkpoint; rules with and without their owner's signed statement.
#[test]
fn revocation_lists_checkpoints_and_signed_rules() {
    let org = Org::<P256>::new("市");
    let other = Org::<P256>::new("市");
    let org_file = org
        .key
        .to_key_file(PASS, KdfParams::MINIMUM, &mut OsRng)
        .expect("org file");
    let admin = api::OrgKey::unlock(&org_file, PASS).expect("org key");
    let leaver = org.member("退職者", Roles::READER);
    let clerk = org.member("担当", Roles::READER);
    let leaver_id = leaver.certificate.fingerprint().to_hex();
    let (s1, l1) = admin
        .revocation_list(None, &[], NOW, 86_400)
        .expect("first");
    let (s2, l2) = admin
        .revocation_list(Some(&l1), std::slice::from_ref(&leaver_id), NOW, 86_400)
        .expect("second");
    assert_eq!((s1, s2), (1, 2));
    let info = api::verify_revocations(&org.record(), Some(&l2), 1, NOW + 10, None).expect("ok");
    assert_eq!(info.revoked, vec![leaver_id]);
    api::verify_revocations(
        &org.record(),
        Some(&l2),
        2,
        NOW + 10,
        Some(&clerk.certificate.to_bytes()),
    )
    .expect("the clerk is not revoked");
    let e = api::verify_revocations(
        &org.record(),
        Some(&l2),
        2,
        NOW + 10,
        Some(&leaver.certificate.to_bytes()),
    )
    .expect_err("revoked");
    assert_eq!(e.code, Code::Untrusted);
    let e = api::verify_revocations(&org.record(), Some(&l1), 2, NOW + 10, None)
        .expect_err("replayed older list");
    assert!(e.to_string().contains("older than serial 2"), "{e}");
    let e = api::verify_revocations(&other.record(), Some(&l2), 0, NOW + 10, None)
        .expect_err("another organization");
    assert_eq!(e.code, Code::Untrusted);
    let e = api::verify_revocations(&org.record(), None, 2, NOW + 10, None).expect_err("withheld");
    assert!(e.to_string().contains("withholds"), "{e}");
    let e = api::verify_revocations(&org.record(), Some(&l2), 0, NOW + 2 * 86_400, None)
        .expect_err("stale");
    assert!(e.to_string().contains("stale"), "{e}");

    let cp = admin
        .sign_checkpoint(3, &"ab".repeat(32), NOW)
        .expect("checkpoint");
    assert!(admin.sign_checkpoint(3, "zz", NOW).is_err());
    soshiki_core::checkpoint::AuditCheckpoint::<P256>::from_bytes(&cp)
        .expect("decodes")
        .verify(org.key.organization())
        .expect("signed by the organization");

    let (rep, _) = org.session("代表", Roles::REPRESENTATIVE);
    let rules = vec![format!("district=A -> {}", "a".repeat(64))];
    let statement = rep.sign_action(&rep.set_rules_spec(&rules).expect("spec"), NOW);
    let statement = B64::decode(&statement).expect("b64");
    assert_eq!(rep.verify_rules(&rules, Some(&statement)).state, "signed");
    let edited = vec![format!("district=A -> {}", "b".repeat(64))];
    let c = rep.verify_rules(&edited, Some(&statement));
    assert_eq!(c.state, "unsigned", "{c:?}");
    assert_eq!(rep.verify_rules(&rules, None).state, "unsigned");
    assert_eq!(rep.verify_rules(&[], None).state, "empty");
}

/// The browser's quota argument: whole bytes from 0 (no quota) to 2^50; anything else is
/// `invalid` before a statement is signed.
#[test]
fn quota_from_the_browser_is_whole_bytes_within_the_bound() {
    use soshiki_wasm::api::quota_from_js;
    assert_eq!(quota_from_js(None), Ok(None));
    assert_eq!(quota_from_js(Some(0.0)), Ok(None));
    assert_eq!(
        quota_from_js(Some(20.0 * 1024.0 * 1024.0 * 1024.0)),
        Ok(Some(20 << 30))
    );
    assert_eq!(
        quota_from_js(Some(proto::MAX_QUOTA_BYTES as f64)),
        Ok(Some(proto::MAX_QUOTA_BYTES))
    );
    for bad in [
        1.5,
        -1.0,
        f64::NAN,
        f64::INFINITY,
        proto::MAX_QUOTA_BYTES as f64 * 2.0,
    ] {
        let e = quota_from_js(Some(bad)).expect_err("refused");
        assert_eq!(e.code, Code::Invalid, "{bad}: {e:?}");
    }
}

/// The browser's splitter is the CLI's: a CP932 file split by number or by name gives the same
/// parts, with the original bytes; a refusal keeps its structured code.
#[test]
fn split_csv_by_number_or_name_is_the_shared_splitter() {
    use soshiki_client::csv_split::{self, CsvEncoding, CsvError};
    // 番号,地区 / 1,大町 / 2,八坂 / 3,大町 in CP932 (CRLF), 表 = 95 5C in the header.
    let file: &[u8] = b"\x94\xd4\x8d\x86,\x92\x6e\x8b\xe6\x95\x5c\r\n1,\x91\xe5\x92\xac\r\n2,\x94\xaa\x8d\xe2\r\n3,\x91\xe5\x92\xac\r\n";
    let header = api::csv_columns(file).expect("columns");
    assert_eq!(header.encoding, CsvEncoding::Cp932);
    assert_eq!(header.columns, ["番号", "地区表"]);
    let by_number = api::split_csv(file, "list.csv", &api::CsvColumn::Number(2)).expect("split");
    let by_name =
        api::split_csv(file, "list.csv", &api::CsvColumn::Name("地区表".into())).expect("split");
    assert_eq!(by_number, by_name);
    assert_eq!(
        by_number,
        csv_split::split("list.csv", file, 1).expect("shared")
    );
    let head: &[u8] = b"\x94\xd4\x8d\x86,\x92\x6e\x8b\xe6\x95\x5c\r\n";
    assert_eq!(
        by_number.parts[0].bytes,
        [head, b"1,\x91\xe5\x92\xac\r\n3,\x91\xe5\x92\xac\r\n"].concat()
    );
    assert_eq!(by_number.parts[0].name, "list_大町.csv");
    assert_eq!(by_number.parts[1].value, "八坂");
    assert!(matches!(
        api::split_csv(file, "list.csv", &api::CsvColumn::Number(0)),
        Err(CsvError::NoSuchColumn { .. })
    ));
    assert!(matches!(
        api::split_csv(file, "list.csv", &api::CsvColumn::Number(3)),
        Err(CsvError::NoSuchColumn { .. })
    ));
    assert!(matches!(
        api::csv_columns(b"\xff\xfe1\x002\x00"),
        Err(CsvError::Utf16 { .. })
    ));
}
