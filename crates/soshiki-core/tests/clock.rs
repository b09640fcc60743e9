//! Clocks and roles, as the verifier and the sender see them: signed times in the future beyond
//! `MAX_FUTURE_SKEW` are refused by `verify_at` (envelope header and forwarding request alike),
//! and an envelope is addressed only to a certificate carrying the representative role.
mod common;

use common::*;
use soshiki_core::cert::{choose_representative, Roles};
use soshiki_core::envelope::{
    self, EncryptOptions, Forwarder, PartInfo, PartSource, Sender, MAX_FUTURE_SKEW,
};
use soshiki_core::error::{EncryptError, VerifyError};
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn future_time(e: VerifyError) -> (String, u64) {
    match e {
        VerifyError::FutureTime { what, time, .. } => (what, time),
        other => panic!("expected a future-time refusal, got {other}"),
    }
}

/// A sender (or a server replaying its header) dates an envelope in the future: refused once
/// it lies beyond the stated skew of the verifier's clock, with an error naming the time.
fn envelope_dated_in_the_future_is_refused<S: Suite>() {
    let mut rng = rng(11);
    let w = world::<S>(1, &mut rng);
    let file = w.send(&[b"x".to_vec()], 1024, &mut rng);
    let h = open::<S>(&file).header;
    assert_eq!(h.core.created, NOW);
    h.clone().verify_at(NOW).expect("now");
    h.clone()
        .verify_at(NOW - MAX_FUTURE_SKEW)
        .expect("at the edge of the skew");
    let e = h
        .clone()
        .verify_at(NOW - MAX_FUTURE_SKEW - 1)
        .expect_err("too far in the future");
    let msg = e.to_string();
    assert_eq!(future_time(e), ("the envelope's creation time".into(), NOW));
    assert!(msg.contains("300 s"), "{msg}");
    // The clock-free check still accepts it: only verify_at knows the time.
    h.clone().verify().expect("structurally valid");
}

/// A forwarder dates a hop in the future (e.g. to outlive a certificate): the next reader and
/// the next forwarder refuse it; the same hop, once its time has come, is accepted.
fn hop_dated_in_the_future_is_refused<S: Suite>() {
    let mut rng = rng(12);
    let w = world::<S>(1, &mut rng);
    let file = w.send(&[b"x".to_vec()], 1024, &mut rng);
    let f = open::<S>(&file);
    let v = f.header.clone().verify_at(NOW).expect("verify");
    let fwd = Forwarder {
        holder: &w.rep.enc,
        signer: &w.rep.sig,
        cert: &w.rep.cert,
    };
    let later = NOW + 86_400;
    let h = v
        .forward(&fwd, &w.verified(&w.staff[0]), None, later, &mut rng)
        .expect("forward");
    let (what, time) = future_time(h.clone().verify_at(NOW).expect_err("hop from the future"));
    assert_eq!(time, later);
    assert!(what.starts_with("hop 1 of "), "{what}");
    h.clone()
        .verify_at(later)
        .expect("accepted when its time has come");
    let req = h.forwarding_request(None).expect("request");
    match req.clone().verify_at(NOW) {
        Ok(_) => panic!("the forwarder must refuse a hop from the future"),
        Err(e) => {
            future_time(e);
        }
    }
    req.clone().verify_at(later).expect("accepted later");
}

/// A directory labels a reader-only or forwarder member as the representative; the core never
/// addresses it: `encrypt` refuses the certificate and `choose_representative` skips it.
fn recipient_without_the_representative_role_is_refused<S: Suite>() {
    let mut rng = rng(13);
    let w = world::<S>(1, &mut rng);
    let reader = member(&w.city, "reader", Roles::READER, &mut rng);
    let sender = Sender {
        org: w.sender_org.organization(),
        cert: &w.sender.cert,
        signing_key: &w.sender.sig,
    };
    for m in [&reader, &w.staff[0]] {
        let mut out = Vec::new();
        let e = envelope::encrypt(
            &sender,
            &w.verified(m),
            &EncryptOptions {
                title: String::new(),
                category: String::new(),
                chunk_size: 1024,
                created: NOW,
            },
            vec![PartSource {
                info: PartInfo {
                    name: "a".into(),
                    labels: vec![],
                },
                len: 1,
                reader: Box::new(&b"x"[..]),
            }],
            &mut out,
            &mut rng,
            &mut |_| {},
        )
        .expect_err("not a representative");
        assert!(matches!(e, EncryptError::Invalid(m) if m.contains("representative role")));
        assert!(out.is_empty(), "nothing written");
    }
    let candidates = [
        w.verified(&reader),
        w.verified(&w.staff[0]),
        w.verified(&w.rep),
    ];
    let chosen = choose_representative(&candidates).expect("one representative");
    assert_eq!(chosen.certificate().fingerprint(), w.rep.cert.fingerprint());
    assert!(choose_representative(&candidates[..2]).is_none());
}

macro_rules! both_suites {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[test]
                fn p256() {
                    super::$case::<super::P256>();
                }
                #[test]
                fn ristretto255() {
                    super::$case::<super::Ristretto255>();
                }
            }
        )*
    };
}

both_suites!(
    envelope_dated_in_the_future_is_refused,
    hop_dated_in_the_future_is_refused,
    recipient_without_the_representative_role_is_refused,
);
