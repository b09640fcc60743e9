//! Negative tests, as a specification: every bad input is refused with its exact error, on both
//! suites where the case applies. Each case is one function, run as `<case>::p256` and
//! `<case>::ristretto255`.
mod common;

use std::io::Cursor;

use common::*;
use rand_chacha::ChaCha20Rng;
use soshiki_core::cert::{Certificate, CertificateRequest, Organization, Roles};
use soshiki_core::envelope::{
    self, EncryptOptions, EnvelopeFile, EnvelopeHeader, FileError, Forwarder, Hop, Label, Metadata,
    PartInfo, PartSource, Sender, SlotId,
};
use soshiki_core::error::{
    DecodeError, DecryptError, EncryptError, ForwardError, KeyFileError, VerifyError,
};
use soshiki_core::keyfile::{KdfParams, MemberIdentity, MemberKey};
use soshiki_core::keys::{
    DhOutput, EcdhOnlyKey, KeyHolder, PublicKey, SecretKey, SigningKey, VerifyingKey,
};
use soshiki_core::scheme::{make_share, Capsule, HopAuth, HopContext, HopProof, HopStatement};
use soshiki_core::split::{ForwardResponse, ForwardingRequest};
use soshiki_core::suite::{Ristretto255, Suite, SuiteId, P256};
use soshiki_core::wire::{limits, Reader, Writer};

/// Run a generic case on both suites: `case::p256` and `case::ristretto255`. Attributes before
/// a case (e.g. `#[ignore = "..."]`) apply to both.
macro_rules! both_suites {
    ($($(#[$attr:meta])* $case:ident),* $(,)?) => {
        $(
            mod $case {
                #[test]
                $(#[$attr])*
                fn p256() {
                    super::$case::<soshiki_core::suite::P256>();
                }
                #[test]
                $(#[$attr])*
                fn ristretto255() {
                    super::$case::<soshiki_core::suite::Ristretto255>();
                }
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------
// Fixtures

struct Fx<S: Suite> {
    w: World<S>,
    rng: ChaCha20Rng,
    /// Two parts (the second spans three chunks) from the sender to the representative.
    file: Vec<u8>,
    bodies: Vec<Vec<u8>>,
}

fn fx<S: Suite>() -> Fx<S> {
    let mut rng = rng(0x5eed);
    let w = world::<S>(3, &mut rng);
    let bodies = vec![
        b"Omachi: 12 residents".to_vec(),
        (0..2500u32).map(|i| (i * 7) as u8).collect(),
    ];
    let file = w.send(&bodies, 1024, &mut rng);
    Fx {
        w,
        rng,
        file,
        bodies,
    }
}

/// Model 1 forward of `file` by `from` to `to`; returns the new file.
fn forward<S: Suite>(
    file: &[u8],
    w: &World<S>,
    from: &Member<S>,
    to: &Member<S>,
    parts: Option<&[u32]>,
    time: u64,
    rng: &mut ChaCha20Rng,
) -> Vec<u8> {
    let f = open::<S>(file);
    let v = f.header.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &from.enc,
        signer: &from.sig,
        cert: &from.cert,
    };
    let h = v
        .forward(&fwd, &w.verified(to), parts, time, rng)
        .expect("forward");
    rewrap(file, &h)
}

/// A hop made with the scheme alone, bypassing every policy check `forward` makes (as a buggy
/// or malicious forwarder's software would): the re-encryption and its proof are correct, only
/// the rules (roles, validity, time) may be broken.
fn crafted_hop<S: Suite>(
    h: &EnvelopeHeader<S>,
    slot_no: SlotId,
    from: &Member<S>,
    to: &Certificate<S>,
    time: u64,
    rng: &mut ChaCha20Rng,
) -> Hop<S> {
    let slot = h.slot(slot_no).expect("slot held");
    let ctx = HopContext {
        envelope_id: h.core.envelope_id,
        slot: slot_no,
        hop_index: slot.hops.len() as u16 + 1,
        forwarder_cert: from.cert.fingerprint(),
        target_cert: to.fingerprint(),
        time,
    };
    let st = HopStatement {
        context: &ctx,
        from: &from.cert.encryption_key,
        to: &to.encryption_key,
        c2: &slot.capsule.c2,
    };
    let share = make_share(&st, &from.enc, Some(&from.sig), rng).expect("share");
    Hop {
        forwarder_cert: ctx.forwarder_cert,
        target_cert: ctx.target_cert,
        time,
        x: share.x,
        c2_new: share.c2_new,
        auth: share.auth,
    }
}

/// Model 1 by hand: a crafted hop on every slot of `h`, applied (`C1' = C1 − X`).
fn crafted_forward<S: Suite>(
    h: &EnvelopeHeader<S>,
    from: &Member<S>,
    to: &Certificate<S>,
    time: u64,
    rng: &mut ChaCha20Rng,
) -> EnvelopeHeader<S> {
    let mut out = h.clone();
    for s in out.slots.iter_mut() {
        let hop = crafted_hop(h, s.slot, from, to, time, rng);
        s.capsule = Capsule {
            c1: S::sub(&s.capsule.c1, &hop.x),
            c2: hop.c2_new.clone(),
        };
        s.hops.push(hop);
    }
    for c in [&from.cert, to] {
        if c.fingerprint() != h.core.recipient_cert.fingerprint() && !out.certificates.contains(c) {
            out.certificates.push(c.clone());
        }
    }
    out
}

/// Model 2 by hand: a response with a crafted hop for every slot of `h`.
fn crafted_response<S: Suite>(
    h: &EnvelopeHeader<S>,
    from: &Member<S>,
    to: &Certificate<S>,
    time: u64,
    rng: &mut ChaCha20Rng,
) -> ForwardResponse<S> {
    let hops = h
        .slots
        .iter()
        .map(|s| (s.slot, crafted_hop(h, s.slot, from, to, time, rng)))
        .collect();
    ForwardResponse {
        forwarder: from.cert.clone(),
        target: to.clone(),
        hops,
    }
}

/// Decrypt part `i` with any key holder (file key, token, impostor).
fn read_with<S: Suite>(
    file: &[u8],
    i: u32,
    holder: &dyn KeyHolder<S>,
) -> Result<Vec<u8>, DecryptError> {
    let f = open::<S>(file);
    let v = f.header.clone().verify()?;
    let mut out = Vec::new();
    envelope::decrypt_part(
        &v,
        &f,
        &mut Cursor::new(file),
        i,
        holder,
        &mut out,
        &mut |_| {},
    )?;
    Ok(out)
}

fn header<S: Suite>(file: &[u8]) -> EnvelopeHeader<S> {
    open::<S>(file).header
}

fn verify_err<S: Suite>(h: &EnvelopeHeader<S>) -> VerifyError {
    h.clone().verify().expect_err("the header must be rejected")
}

fn open_err<S: Suite>(file: &[u8]) -> DecodeError {
    match EnvelopeFile::<S>::open(&mut Cursor::new(file)) {
        Err(FileError::Decode(e)) => e,
        other => panic!("expected a decode error, got {other:?}"),
    }
}

/// The offset of `needle` in `hay`, which must occur exactly once.
fn find(hay: &[u8], needle: &[u8]) -> usize {
    let hits: Vec<usize> = hay
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "needle must occur once");
    hits[0]
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn hop_err(slot: &str, hop: usize, reason: &'static str) -> VerifyError {
    VerifyError::Hop {
        slot: slot.into(),
        hop,
        reason,
    }
}

/// A key holder that lies: it returns `a·Q + P` instead of `a·Q`, and cannot prove (so its hops
/// are signed, as an ECDH-only token's are). Its signature is valid; its re-encryption is wrong.
struct LyingHolder<S: Suite>(SecretKey<S>);

impl<S: Suite> KeyHolder<S> for LyingHolder<S> {
    fn public_key(&self) -> PublicKey<S> {
        self.0.public_key().clone()
    }
    fn diffie_hellman(&self, q: &S::Point) -> Result<DhOutput<S>, String> {
        match self.0.diffie_hellman(q)? {
            DhOutput::Point(p) => Ok(DhOutput::Point(S::add(&p, &S::generator()))),
            x => Ok(x),
        }
    }
}

/// Suite-specific encodings that are not valid points.
fn invalid_points<S: Suite>() -> Vec<Vec<u8>> {
    match S::ID {
        SuiteId::P256 => {
            let mut no_y = vec![0x02; 33]; // x = 1: x³ − 3x + b is not a square mod p
            no_y[1..].fill(0);
            no_y[32] = 1;
            let mut bad_tag = S::point_to_bytes(&S::generator());
            bad_tag[0] = 0x04;
            let mut x_ge_p = vec![0xff; 33]; // x ≥ p: a non-canonical field element
            x_ge_p[0] = 0x02;
            let mut uncompressed = vec![0x04; 65];
            uncompressed[1..].fill(0x11);
            vec![no_y, bad_tag, x_ge_p, uncompressed, vec![0x02; 10]]
        }
        SuiteId::Ristretto255 => vec![
            vec![0xff; 32], // s ≥ p
            hex::decode("0100000000000000000000000000000000000000000000000000000000000000")
                .expect("hex"), // negative s
            hex::decode("26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371")
                .expect("hex"), // x² not square
            vec![0x02; 31],
        ],
    }
}

/// The encoding of the identity element.
fn identity_encoding<S: Suite>() -> Vec<u8> {
    vec![0u8; S::POINT_LEN]
}

/// The group order (non-canonical as a scalar), in the suite's byte order.
fn group_order<S: Suite>() -> Vec<u8> {
    match S::ID {
        SuiteId::P256 => {
            hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
                .expect("hex")
        }
        SuiteId::Ristretto255 => {
            hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
                .expect("hex")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Points and scalars

fn invalid_point<S: Suite>() {
    for bad in invalid_points::<S>() {
        assert_eq!(
            S::point_from_bytes(&bad),
            Err(DecodeError::InvalidPoint),
            "{}",
            hex::encode(&bad)
        );
        assert_eq!(
            PublicKey::<S>::from_bytes(&bad),
            Err(DecodeError::InvalidPoint)
        );
    }
    // Inside a certificate: the member's encryption key.
    let f = fx::<S>();
    let cert = f.w.rep.cert.to_bytes();
    let at = find(&cert, &f.w.rep.enc.public_key().to_bytes());
    let bad = &invalid_points::<S>()[0];
    let mut b = cert.clone();
    b[at..at + S::POINT_LEN].copy_from_slice(&bad[..S::POINT_LEN]);
    assert_eq!(
        Certificate::<S>::from_bytes(&b),
        Err(DecodeError::InvalidPoint)
    );
}

fn identity_point<S: Suite>() {
    let id = identity_encoding::<S>();
    assert_eq!(S::point_from_bytes(&id), Err(DecodeError::InvalidPoint));
    assert_eq!(
        PublicKey::<S>::from_bytes(&id),
        Err(DecodeError::InvalidPoint)
    );
    // An identity encryption key in a certificate, and an identity C2 in a header.
    let f = fx::<S>();
    let cert = f.w.rep.cert.to_bytes();
    let mut b = cert.clone();
    let at = find(&cert, &f.w.rep.enc.public_key().to_bytes());
    b[at..at + S::POINT_LEN].copy_from_slice(&id);
    assert_eq!(
        Certificate::<S>::from_bytes(&b),
        Err(DecodeError::InvalidPoint)
    );
    let h = header::<S>(&f.file);
    let mut hb = h.to_bytes();
    let at = find(&hb, &S::point_to_bytes(&h.slots[1].capsule.c1)) + S::POINT_LEN;
    hb[at..at + S::POINT_LEN].copy_from_slice(&id);
    assert_eq!(
        EnvelopeHeader::<S>::from_bytes(&hb),
        Err(DecodeError::InvalidPoint)
    );
}

fn non_canonical_and_zero_scalar<S: Suite>() {
    let n = group_order::<S>();
    for bad in [n.clone(), vec![0xff; 32], vec![0u8; 32], vec![1u8; 31]] {
        assert!(
            matches!(S::scalar_from_bytes(&bad), Err(DecodeError::InvalidScalar)),
            "{}",
            hex::encode(&bad)
        );
        assert!(matches!(
            SecretKey::<S>::from_secret_bytes(&bad),
            Err(DecodeError::InvalidScalar)
        ));
    }
    // A hop proof whose challenge is the group order (or zero) does not decode.
    let mut f = fx::<S>();
    let (rep, s0) = (&f.w.rep, &f.w.staff[0]);
    let file = forward(&f.file, &f.w, rep, s0, None, NOW + 1, &mut f.rng);
    let h = header::<S>(&file);
    let mut w = Writer::new();
    h.slots[0].hops[0].write(&mut w);
    let hop = w.into_bytes();
    let e_at = 32 + 32 + 8 + 2 * S::POINT_LEN + 1;
    assert_eq!(hop[e_at - 1], 1, "a proof hop");
    for bad in [n, vec![0u8; 32]] {
        let mut b = hop.clone();
        b[e_at..e_at + 32].copy_from_slice(&bad);
        assert_eq!(
            Hop::<S>::read(&mut Reader::new(&b)),
            Err(DecodeError::InvalidScalar)
        );
        assert_eq!(
            HopProof::<S>::read(&mut Reader::new(&b[e_at..])),
            Err(DecodeError::InvalidScalar)
        );
    }
}

both_suites!(invalid_point, identity_point, non_canonical_and_zero_scalar);

// ---------------------------------------------------------------------------------------------
// Framing: suite, magic, version, truncation, trailing bytes

/// Objects of every wire type of one suite.
struct Objects {
    header: Vec<u8>,
    file: Vec<u8>,
    certificate: Vec<u8>,
    organization: Vec<u8>,
    identity: Vec<u8>,
    key_file: Vec<u8>,
    request: Vec<u8>,
    response: Vec<u8>,
}

fn objects<S: Suite>() -> Objects {
    let mut f = fx::<S>();
    let h = header::<S>(&f.file);
    let request = h.forwarding_request(None).expect("request");
    let v = request.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &f.w.rep.enc,
        signer: &f.w.rep.sig,
        cert: &f.w.rep.cert,
    };
    let response = v
        .make_hops(
            &fwd,
            &f.w.verified(&f.w.staff[0]),
            None,
            NOW + 1,
            &mut f.rng,
        )
        .expect("hops");
    let mk = MemberKey::<S> {
        encryption: f.w.rep.enc.clone(),
        signing: SigningKey::from_secret_bytes(&f.w.rep.sig.to_secret_bytes()[..]).expect("key"),
        organization: f.w.city.organization().clone(),
        certificate: f.w.rep.cert.clone(),
    };
    Objects {
        header: h.to_bytes(),
        file: f.file.clone(),
        certificate: f.w.rep.cert.to_bytes(),
        organization: f.w.city.organization().to_bytes(),
        identity: mk.identity().to_bytes(),
        key_file: mk
            .to_key_file(b"passphrase", KdfParams::MINIMUM, &mut f.rng)
            .expect("key file"),
        request: request.to_bytes(),
        response: response.to_bytes(),
    }
}

/// Decode every object as suite `S`, returning each error.
fn decode_all<S: Suite>(o: &Objects) -> Vec<(&'static str, DecodeError)> {
    let key_err = match MemberKey::<S>::from_key_file(&o.key_file, b"passphrase") {
        Err(KeyFileError::Decode(e)) => e,
        other => panic!("key file: expected a decode error, got {other:?}"),
    };
    vec![
        (
            "header",
            EnvelopeHeader::<S>::from_bytes(&o.header).expect_err("header"),
        ),
        ("file", open_err::<S>(&o.file)),
        (
            "certificate",
            Certificate::<S>::from_bytes(&o.certificate).expect_err("certificate"),
        ),
        (
            "organization",
            Organization::<S>::from_bytes(&o.organization).expect_err("organization"),
        ),
        (
            "identity",
            MemberIdentity::<S>::from_bytes(&o.identity).expect_err("identity"),
        ),
        ("key file", key_err),
        (
            "request",
            ForwardingRequest::<S>::from_bytes(&o.request).expect_err("request"),
        ),
        (
            "response",
            ForwardResponse::<S>::from_bytes(&o.response).expect_err("response"),
        ),
    ]
}

#[test]
fn ristretto_objects_read_as_p256_are_a_suite_mismatch() {
    let o = objects::<Ristretto255>();
    for (what, e) in decode_all::<P256>(&o) {
        assert_eq!(
            e,
            DecodeError::SuiteMismatch {
                expected: SuiteId::P256,
                found: SuiteId::Ristretto255
            },
            "{what}"
        );
    }
}

#[test]
fn p256_objects_read_as_ristretto_are_a_suite_mismatch() {
    let o = objects::<P256>();
    for (what, e) in decode_all::<Ristretto255>(&o) {
        assert_eq!(
            e,
            DecodeError::SuiteMismatch {
                expected: SuiteId::Ristretto255,
                found: SuiteId::P256
            },
            "{what}"
        );
    }
}

/// Every object starts with `magic[5] ‖ version ‖ suite`; the file, with the same after which
/// its header and footer follow.
fn edit_all(o: &Objects, at: usize, v: u8) -> Objects {
    let e = |b: &Vec<u8>| {
        let mut b = b.clone();
        b[at] = v;
        b
    };
    Objects {
        header: e(&o.header),
        file: e(&o.file),
        certificate: e(&o.certificate),
        organization: e(&o.organization),
        identity: e(&o.identity),
        key_file: e(&o.key_file),
        request: e(&o.request),
        response: e(&o.response),
    }
}

fn unknown_suite<S: Suite>() {
    let o = objects::<S>();
    for (what, e) in decode_all::<S>(&edit_all(&o, 7, 0x03)) {
        assert_eq!(e, DecodeError::UnknownSuite(0x0003), "{what}");
    }
}

fn bad_magic<S: Suite>() {
    let o = objects::<S>();
    let names = [
        "envelope header",
        "envelope file",
        "certificate",
        "organization record",
        "identity",
        "key file",
        "forwarding request",
        "forward response",
    ];
    for ((what, e), name) in decode_all::<S>(&edit_all(&o, 0, b'X'))
        .into_iter()
        .zip(names)
    {
        assert_eq!(e, DecodeError::BadMagic(name), "{what}");
    }
}

fn unsupported_version<S: Suite>() {
    let o = objects::<S>();
    let names = [
        "envelope header",
        "envelope file",
        "certificate",
        "organization record",
        "identity",
        "key file",
        "forwarding request",
        "forward response",
    ];
    for ((what, e), name) in decode_all::<S>(&edit_all(&o, 5, 2)).into_iter().zip(names) {
        assert_eq!(
            e,
            DecodeError::UnsupportedVersion {
                what: name,
                version: 2
            },
            "{what}"
        );
    }
    let meta = Metadata {
        title: "t".into(),
        category: "c".into(),
        parts: vec![],
    };
    let mut b = meta.to_bytes();
    b[0] = 9;
    assert_eq!(
        Metadata::from_bytes(&b),
        Err(DecodeError::UnsupportedVersion {
            what: "metadata",
            version: 9
        })
    );
}

fn truncated_header<S: Suite>() {
    let f = fx::<S>();
    let hb = header::<S>(&f.file).to_bytes();
    // Every strict prefix of a header is reported as truncated, never misread.
    for n in 0..hb.len() {
        let e = EnvelopeHeader::<S>::from_bytes(&hb[..n]).expect_err("prefix");
        assert!(
            matches!(e, DecodeError::Truncated(_)),
            "prefix of {n} bytes: {e:?}"
        );
    }
    // A file cut anywhere loses its footer; a file shorter than prefix and footer is refused.
    assert!(matches!(
        open_err::<S>(&f.file[..f.file.len() - 1]),
        DecodeError::Truncated(_)
    ));
    assert!(matches!(
        open_err::<S>(&f.file[..30]),
        DecodeError::Truncated("envelope file")
    ));
    // A file whose bodies are shorter than the header says.
    let mut short = f.file.clone();
    short.remove(100);
    assert_eq!(
        open_err::<S>(&short),
        DecodeError::Truncated("envelope bodies")
    );
    // Other objects.
    let o = objects::<S>();
    let cut = |b: &[u8]| b[..b.len() - 1].to_vec();
    assert!(matches!(
        Certificate::<S>::from_bytes(&cut(&o.certificate)),
        Err(DecodeError::Truncated(_))
    ));
    assert!(matches!(
        Organization::<S>::from_bytes(&cut(&o.organization)),
        Err(DecodeError::Truncated(_))
    ));
    assert!(matches!(
        MemberIdentity::<S>::from_bytes(&cut(&o.identity)),
        Err(DecodeError::Truncated(_))
    ));
    assert!(matches!(
        ForwardingRequest::<S>::from_bytes(&cut(&o.request)),
        Err(DecodeError::Truncated(_))
    ));
    assert!(matches!(
        ForwardResponse::<S>::from_bytes(&cut(&o.response)),
        Err(DecodeError::Truncated(_))
    ));
    assert!(matches!(
        MemberKey::<S>::from_key_file(&cut(&o.key_file), b"passphrase"),
        Err(KeyFileError::Decode(DecodeError::Truncated(_)))
    ));
}

fn trailing_bytes<S: Suite>() {
    let o = objects::<S>();
    let more = |b: &[u8], n: usize| [b, &vec![0u8; n][..]].concat();
    assert_eq!(
        EnvelopeHeader::<S>::from_bytes(&more(&o.header, 1)),
        Err(DecodeError::TrailingBytes(1))
    );
    assert_eq!(
        Certificate::<S>::from_bytes(&more(&o.certificate, 2)),
        Err(DecodeError::TrailingBytes(2))
    );
    assert_eq!(
        Organization::<S>::from_bytes(&more(&o.organization, 3)),
        Err(DecodeError::TrailingBytes(3))
    );
    assert_eq!(
        MemberIdentity::<S>::from_bytes(&more(&o.identity, 1)),
        Err(DecodeError::TrailingBytes(1))
    );
    assert_eq!(
        ForwardingRequest::<S>::from_bytes(&more(&o.request, 1)),
        Err(DecodeError::TrailingBytes(1))
    );
    assert_eq!(
        ForwardResponse::<S>::from_bytes(&more(&o.response, 1)),
        Err(DecodeError::TrailingBytes(1))
    );
    assert_eq!(
        MemberKey::<S>::from_key_file(&more(&o.key_file, 1), b"passphrase").map(|_| ()),
        Err(KeyFileError::Decode(DecodeError::TrailingBytes(1)))
    );
    let meta = Metadata {
        title: "t".into(),
        category: "c".into(),
        parts: vec![PartInfo::default()],
    };
    assert_eq!(
        Metadata::from_bytes(&more(&meta.to_bytes(), 1)),
        Err(DecodeError::TrailingBytes(1))
    );
}

both_suites!(
    unknown_suite,
    bad_magic,
    unsupported_version,
    truncated_header,
    trailing_bytes
);

// ---------------------------------------------------------------------------------------------
// Limits

fn parts_limit<S: Suite>() {
    let f = fx::<S>();
    let h = header::<S>(&f.file);
    let mut hb = h.to_bytes();
    let at = find(&hb, &h.core.sealed_metadata) + h.core.sealed_metadata.len();
    put_u32(&mut hb, at, limits::MAX_PARTS + 1);
    assert_eq!(
        EnvelopeHeader::<S>::from_bytes(&hb),
        Err(DecodeError::LimitExceeded {
            what: "part count",
            limit: limits::MAX_PARTS as u64
        })
    );
    put_u32(&mut hb, at, 0);
    assert_eq!(
        EnvelopeHeader::<S>::from_bytes(&hb),
        Err(DecodeError::InvalidValue("part count"))
    );
    // The encrypting side refuses before reading any part.
    let mut rng = rng(1);
    let sender = Sender {
        org: f.w.sender_org.organization(),
        cert: &f.w.sender.cert,
        signing_key: &f.w.sender.sig,
    };
    let opts = EncryptOptions {
        title: "t".into(),
        category: "c".into(),
        chunk_size: 1024,
        created: NOW,
    };
    let parts = (0..=limits::MAX_PARTS)
        .map(|_| PartSource {
            info: PartInfo::default(),
            len: 0,
            reader: Box::new(std::io::empty()),
        })
        .collect();
    let r = envelope::encrypt(
        &sender,
        &f.w.verified(&f.w.rep),
        &opts,
        parts,
        &mut Vec::new(),
        &mut rng,
        &mut |_| {},
    );
    assert!(
        matches!(r, Err(EncryptError::LimitExceeded { what: "parts", limit }) if limit == limits::MAX_PARTS as u64),
        "{r:?}"
    );
    let r = envelope::encrypt(
        &sender,
        &f.w.verified(&f.w.rep),
        &opts,
        vec![],
        &mut Vec::new(),
        &mut rng,
        &mut |_| {},
    );
    assert!(matches!(r, Err(EncryptError::Invalid(_))), "{r:?}");
}

fn hops_limit<S: Suite>() {
    let f = fx::<S>();
    let h = header::<S>(&f.file);
    let mut hb = h.to_bytes();
    let at = find(&hb, &S::point_to_bytes(&h.slots[0].capsule.c1)) + 2 * S::POINT_LEN;
    assert_eq!(
        hb[at..at + 4],
        [0, 0, 0, 0],
        "the metadata slot's hop count"
    );
    put_u32(&mut hb, at, limits::MAX_HOPS + 1);
    assert_eq!(
        EnvelopeHeader::<S>::from_bytes(&hb),
        Err(DecodeError::LimitExceeded {
            what: "hop count",
            limit: limits::MAX_HOPS as u64
        })
    );
}

fn certificates_limit<S: Suite>() {
    let f = fx::<S>();
    let h = header::<S>(&f.file);
    let mut hb = h.to_bytes();
    let at = find(&hb, &h.sender_signature) + 64;
    put_u32(&mut hb, at, limits::MAX_CERTIFICATES + 1);
    assert_eq!(
        EnvelopeHeader::<S>::from_bytes(&hb),
        Err(DecodeError::LimitExceeded {
            what: "certificate count",
            limit: limits::MAX_CERTIFICATES as u64
        })
    );
}

fn labels_limit<S: Suite>() {
    let label = |k: &str| Label {
        key: k.into(),
        value: "v".into(),
    };
    let many = PartInfo {
        name: "p".into(),
        labels: (0..=limits::MAX_LABELS)
            .map(|i| label(&format!("k{i}")))
            .collect(),
    };
    let meta = Metadata {
        title: "t".into(),
        category: "c".into(),
        parts: vec![many.clone()],
    };
    assert_eq!(
        Metadata::from_bytes(&meta.to_bytes()),
        Err(DecodeError::LimitExceeded {
            what: "label count",
            limit: limits::MAX_LABELS as u64
        })
    );
    let long_key = "k".repeat(limits::MAX_LABEL_KEY as usize + 1);
    let meta = Metadata {
        title: "t".into(),
        category: "c".into(),
        parts: vec![PartInfo {
            name: "p".into(),
            labels: vec![label(&long_key)],
        }],
    };
    assert_eq!(
        Metadata::from_bytes(&meta.to_bytes()),
        Err(DecodeError::LimitExceeded {
            what: "label key",
            limit: limits::MAX_LABEL_KEY as u64
        })
    );
    assert_eq!(Label::parse(&format!("{long_key}=v")), None);
    let meta = Metadata {
        title: "t".into(),
        category: "c".into(),
        parts: vec![PartInfo {
            name: "p".into(),
            labels: vec![label("")],
        }],
    };
    assert_eq!(
        Metadata::from_bytes(&meta.to_bytes()),
        Err(DecodeError::InvalidValue("empty label key"))
    );
    // The sender cannot produce such metadata either.
    let f = fx::<S>();
    let mut rng = rng(2);
    let sender = Sender {
        org: f.w.sender_org.organization(),
        cert: &f.w.sender.cert,
        signing_key: &f.w.sender.sig,
    };
    let opts = EncryptOptions {
        title: "t".into(),
        category: "c".into(),
        chunk_size: 1024,
        created: NOW,
    };
    let parts = vec![PartSource {
        info: many,
        len: 0,
        reader: Box::new(std::io::empty()),
    }];
    let r = envelope::encrypt(
        &sender,
        &f.w.verified(&f.w.rep),
        &opts,
        parts,
        &mut Vec::new(),
        &mut rng,
        &mut |_| {},
    );
    assert!(
        matches!(
            r,
            Err(EncryptError::LimitExceeded {
                what: "labels per part",
                limit: 16
            })
        ),
        "{r:?}"
    );
}

fn chunk_size_limit<S: Suite>() {
    let f = fx::<S>();
    let hb = header::<S>(&f.file).to_bytes();
    // magic[5] ‖ version ‖ suite[2] ‖ envelope id[16] ‖ created[8] ‖ chunk size
    assert_eq!(hb[32..36], 1024u32.to_be_bytes());
    for bad in [512u32, 3000, limits::MAX_CHUNK * 2, 0] {
        let mut b = hb.clone();
        put_u32(&mut b, 32, bad);
        assert_eq!(
            EnvelopeHeader::<S>::from_bytes(&b),
            Err(DecodeError::InvalidValue("chunk size")),
            "{bad}"
        );
    }
    let mut rng = rng(3);
    let sender = Sender {
        org: f.w.sender_org.organization(),
        cert: &f.w.sender.cert,
        signing_key: &f.w.sender.sig,
    };
    for bad in [512u32, 3000, limits::MAX_CHUNK * 2] {
        let opts = EncryptOptions {
            title: "t".into(),
            category: "c".into(),
            chunk_size: bad,
            created: NOW,
        };
        let parts = vec![PartSource {
            info: PartInfo::default(),
            len: 0,
            reader: Box::new(std::io::empty()),
        }];
        let r = envelope::encrypt(
            &sender,
            &f.w.verified(&f.w.rep),
            &opts,
            parts,
            &mut Vec::new(),
            &mut rng,
            &mut |_| {},
        );
        assert!(matches!(r, Err(EncryptError::Invalid(_))), "{bad}: {r:?}");
    }
}

fn header_length_limit<S: Suite>() {
    let big = vec![0u8; limits::MAX_HEADER as usize + 1];
    assert_eq!(
        EnvelopeHeader::<S>::from_bytes(&big),
        Err(DecodeError::LimitExceeded {
            what: "header length",
            limit: limits::MAX_HEADER
        })
    );
    // A footer announcing more than the limit is refused before anything is allocated.
    let f = fx::<S>();
    let mut file = f.file.clone();
    let at = file.len() - 16;
    file[at..at + 8].copy_from_slice(&(limits::MAX_HEADER + 1).to_be_bytes());
    assert_eq!(
        open_err::<S>(&file),
        DecodeError::LimitExceeded {
            what: "header length",
            limit: limits::MAX_HEADER
        }
    );
    // A footer announcing more than the file holds.
    let len = file.len() as u64;
    file[at..at + 8].copy_from_slice(&len.to_be_bytes());
    assert_eq!(
        open_err::<S>(&file),
        DecodeError::Truncated("envelope header")
    );
}

both_suites!(
    parts_limit,
    hops_limit,
    certificates_limit,
    labels_limit,
    chunk_size_limit,
    header_length_limit
);

// ---------------------------------------------------------------------------------------------
// Signatures and certificates

fn tampered_sender_signature<S: Suite>() {
    let f = fx::<S>();
    let h = header::<S>(&f.file);
    let mut t = h.clone();
    t.sender_signature[0] ^= 1;
    assert_eq!(verify_err(&t), VerifyError::SenderSignature);
    // Any change to what the sender signed: time, a body digest, the sealed metadata, C2.
    let mut t = h.clone();
    t.core.created += 1;
    assert_eq!(verify_err(&t), VerifyError::SenderSignature);
    let mut t = h.clone();
    t.core.parts[1].body_digest[5] ^= 0x40;
    assert_eq!(verify_err(&t), VerifyError::SenderSignature);
    let mut t = h.clone();
    t.core.sealed_metadata[3] ^= 1;
    assert_eq!(verify_err(&t), VerifyError::SenderSignature);
    let mut t = h.clone();
    t.core.parts[0].origin.commitment[0] ^= 1;
    assert_eq!(verify_err(&t), VerifyError::SenderSignature);
}

fn tampered_certificate<S: Suite>() {
    let f = fx::<S>();
    // A certificate with its roles changed no longer verifies.
    let mut c = f.w.staff[0].cert.clone();
    c.roles = Roles::ADMIN.union(Roles::REPRESENTATIVE);
    assert!(matches!(
        c.verify(f.w.city.organization(), NOW),
        Err(VerifyError::Certificate(_))
    ));
    // The sender's certificate in an envelope.
    let mut h = header::<S>(&f.file);
    h.core.sender_cert.roles = Roles::ADMIN;
    assert!(matches!(verify_err(&h), VerifyError::Certificate(_)));
    // A certificate issued by another organization under the same name.
    let mut rng = rng(4);
    let fake_city =
        soshiki_core::cert::OrganizationKey::<S>::generate("大町市", NOW - 100, &mut rng)
            .expect("org");
    let fake = member(
        &fake_city,
        "representative",
        Roles::REPRESENTATIVE,
        &mut rng,
    );
    assert!(matches!(
        fake.cert.verify(f.w.city.organization(), NOW),
        Err(VerifyError::Certificate(_))
    ));
    // A hop's target certificate with changed roles is no longer the one the hop names.
    let mut f = f;
    let (rep, s0) = (&f.w.rep, &f.w.staff[0]);
    let file = forward(&f.file, &f.w, rep, s0, None, NOW + 1, &mut f.rng);
    let mut h = header::<S>(&file);
    let i = h
        .certificates
        .iter()
        .position(|c| c.fingerprint() == s0.cert.fingerprint())
        .expect("target cert carried");
    h.certificates[i].roles = Roles::ADMIN.union(Roles::FORWARDER);
    assert_eq!(
        verify_err(&h),
        hop_err("metadata", 1, "target certificate missing")
    );
}

fn expired_certificate<S: Suite>() {
    let mut f = fx::<S>();
    let c = &f.w.staff[0].cert;
    assert!(c.verify(f.w.city.organization(), c.not_after).is_ok());
    assert!(matches!(
        c.verify(f.w.city.organization(), c.not_after + 1),
        Err(VerifyError::Certificate(_))
    ));
    assert!(matches!(
        c.verify(f.w.city.organization(), c.not_before - 1),
        Err(VerifyError::Certificate(_))
    ));
    // A hop made after the forwarder's certificate expired: the forwarder's software refuses,
    // and a reader rejects such a hop made by other means.
    let late = f.w.rep.cert.not_after + 1;
    let (rep, s0) = (&f.w.rep, &f.w.staff[0]);
    let h = header::<S>(&f.file);
    let v = h.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &rep.enc,
        signer: &rep.sig,
        cert: &rep.cert,
    };
    assert!(matches!(
        v.forward(&fwd, &f.w.verified(s0), None, late, &mut f.rng),
        Err(ForwardError::Invalid(_))
    ));
    let t = crafted_forward(&h, rep, &s0.cert, late, &mut f.rng);
    assert_eq!(
        verify_err(&t),
        hop_err(
            "metadata",
            1,
            "the forwarder's certificate was not valid at the hop's time"
        )
    );
    // A hop toward a target whose certificate had expired at the hop's time.
    let short = {
        let enc = SecretKey::<S>::generate(&mut f.rng);
        let sig = SigningKey::<S>::generate(&mut f.rng);
        let req = CertificateRequest {
            member_name: "temp".into(),
            roles: Roles::READER,
            encryption_key: enc.public_key().clone(),
            signing_key: sig.verifying_key(),
            not_before: NOW - 10,
            not_after: NOW + 100,
        };
        Member {
            cert: f.w.city.certify(&req, &mut f.rng).expect("certify"),
            enc,
            sig,
        }
    };
    let to_short = f.w.verified(&short);
    assert!(matches!(
        v.forward(&fwd, &to_short, None, NOW + 101, &mut f.rng),
        Err(ForwardError::Invalid(_))
    ));
    let t = crafted_forward(&h, &f.w.rep, &short.cert, NOW + 101, &mut f.rng);
    assert_eq!(
        verify_err(&t),
        hop_err(
            "metadata",
            1,
            "target certificate invalid at the hop's time"
        )
    );
    // An envelope created after the sender's certificate expired: the writer refuses what no
    // reader would accept (the reader's side is in the role/validity vectors, SPEC.md §11).
    let sender = Sender {
        org: f.w.sender_org.organization(),
        cert: &f.w.sender.cert,
        signing_key: &f.w.sender.sig,
    };
    let opts = EncryptOptions {
        title: "t".into(),
        category: "c".into(),
        chunk_size: 1024,
        created: f.w.sender.cert.not_after + 1,
    };
    let parts = vec![PartSource {
        info: PartInfo::default(),
        len: 1,
        reader: Box::new(&b"x"[..]),
    }];
    let mut out = Vec::new();
    let h = envelope::encrypt(
        &sender,
        &f.w.verified(&f.w.rep),
        &opts,
        parts,
        &mut out,
        &mut f.rng,
        &mut |_| {},
    );
    assert!(
        matches!(
            h,
            Err(EncryptError::Invalid(
                "the sender's certificate is not valid at the creation time"
            ))
        ),
        "{h:?}"
    );
    assert!(out.is_empty(), "nothing written");
}

both_suites!(
    tampered_sender_signature,
    tampered_certificate,
    expired_certificate
);

// ---------------------------------------------------------------------------------------------
// Hops

fn hop_by_non_holder<S: Suite>() {
    let mut f = fx::<S>();
    let (rep, s0, s1) = (&f.w.rep, &f.w.staff[0], &f.w.staff[1]);
    // Through the API: staff1 holds nothing of the representative's envelope.
    let fh = open::<S>(&f.file);
    let v = fh.header.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &s1.enc,
        signer: &s1.sig,
        cert: &s1.cert,
    };
    assert_eq!(
        v.forward(&fwd, &f.w.verified(s0), None, NOW + 1, &mut f.rng)
            .expect_err("not a holder"),
        ForwardError::NotHolder("any part".into())
    );
    assert_eq!(
        v.forward(&fwd, &f.w.verified(s0), Some(&[0]), NOW + 1, &mut f.rng)
            .expect_err("not a holder"),
        ForwardError::NotHolder("part 0".into())
    );
    // The holder's key presented with another member's certificate.
    let fwd = Forwarder {
        holder: &rep.enc,
        signer: &rep.sig,
        cert: &s1.cert,
    };
    assert!(matches!(
        v.forward(&fwd, &f.w.verified(s0), None, NOW + 1, &mut f.rng),
        Err(ForwardError::Invalid(_))
    ));
    // In a header: a hop naming a forwarder that was not the holder.
    let file = forward(&f.file, &f.w, rep, s0, None, NOW + 1, &mut f.rng);
    let mut h = header::<S>(&file);
    h.slots[0].hops[0].forwarder_cert = s1.cert.fingerprint();
    assert_eq!(
        verify_err(&h),
        hop_err("metadata", 1, "the forwarder is not the previous holder")
    );
    // Model 2: the combiner refuses a response from someone who is not the holder.
    let stored = header::<S>(&f.file);
    let req = stored.forwarding_request(None).expect("request");
    let v = req.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &rep.enc,
        signer: &rep.sig,
        cert: &rep.cert,
    };
    let mut resp = v
        .make_hops(&fwd, &f.w.verified(s0), None, NOW + 1, &mut f.rng)
        .expect("hops");
    resp.forwarder = s1.cert.clone();
    assert!(matches!(
        stored.apply_forward(&resp),
        Err(VerifyError::Inconsistent(_))
    ));
    // Hops genuinely made by a member who does not hold the slots.
    let resp = crafted_response(&stored, s1, &s0.cert, NOW + 1, &mut f.rng);
    assert_eq!(
        stored.apply_forward(&resp),
        Err(hop_err(
            "metadata",
            1,
            "the forwarder is not the previous holder"
        ))
    );
    let fwd1 = Forwarder {
        holder: &s1.enc,
        signer: &s1.sig,
        cert: &s1.cert,
    };
    assert_eq!(
        v.make_hops(&fwd1, &f.w.verified(s0), None, NOW + 1, &mut f.rng)
            .expect_err("not a holder"),
        ForwardError::NotHolder("any part".into())
    );
}

fn hop_out_of_order<S: Suite>() {
    let mut f = fx::<S>();
    let (rep, s0, s1) = (&f.w.rep, &f.w.staff[0], &f.w.staff[1]);
    let one = forward(&f.file, &f.w, rep, s0, None, NOW + 10, &mut f.rng);
    let two = forward(&one, &f.w, s0, s1, None, NOW + 20, &mut f.rng);
    let h = header::<S>(&two);
    h.clone().verify().expect("the chain in order verifies");
    // Hops swapped.
    let mut t = h.clone();
    t.slots[0].hops.swap(0, 1);
    assert_eq!(
        verify_err(&t),
        hop_err("metadata", 1, "the forwarder is not the previous holder")
    );
    // The first hop dropped.
    let mut t = h.clone();
    t.slots[0].hops.remove(0);
    assert_eq!(
        verify_err(&t),
        hop_err("metadata", 1, "the forwarder is not the previous holder")
    );
    // A hop dated before the previous one: refused by the forwarder, rejected by the reader.
    let h1 = header::<S>(&one);
    let v1 = h1.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &s0.enc,
        signer: &s0.sig,
        cert: &s0.cert,
    };
    assert!(matches!(
        v1.forward(&fwd, &f.w.verified(s1), None, NOW + 5, &mut f.rng),
        Err(ForwardError::Invalid(_))
    ));
    let back = crafted_forward(&h1, s0, &s1.cert, NOW + 5, &mut f.rng);
    assert_eq!(
        verify_err(&back),
        hop_err("metadata", 2, "hop time goes backwards")
    );
    // Nor may a hop predate the envelope.
    let early = crafted_forward(&header::<S>(&f.file), rep, &s0.cert, NOW - 1, &mut f.rng);
    assert_eq!(
        verify_err(&early),
        hop_err("metadata", 1, "hop time goes backwards")
    );
    // Hops of one slot moved to another slot are bound to their slot.
    let mut t = h.clone();
    let moved = t.slots[1].hops.clone();
    t.slots[0].hops = moved;
    assert_eq!(
        verify_err(&t),
        hop_err("metadata", 1, "proof or signature does not verify")
    );
}

fn tampered_hop_proof<S: Suite>() {
    let mut f = fx::<S>();
    let (rep, s0) = (&f.w.rep, &f.w.staff[0]);
    let file = forward(&f.file, &f.w, rep, s0, None, NOW + 1, &mut f.rng);
    let h = header::<S>(&file);
    // Another hop's proof.
    let mut t = h.clone();
    t.slots[0].hops[0].auth = h.slots[1].hops[0].auth.clone();
    assert_eq!(
        verify_err(&t),
        hop_err("metadata", 1, "proof or signature does not verify")
    );
    // X changed (and C1 compensated so that C1's lineage alone would still hold).
    let mut t = h.clone();
    let g = S::generator();
    t.slots[1].hops[0].x = S::add(&t.slots[1].hops[0].x, &g);
    t.slots[1].capsule.c1 = S::sub(&t.slots[1].capsule.c1, &g);
    assert_eq!(
        verify_err(&t),
        hop_err("part 0", 1, "proof or signature does not verify")
    );
    // The hop's time changed (it is bound into the proof).
    let mut t = h.clone();
    t.slots[2].hops[0].time += 1;
    assert_eq!(
        verify_err(&t),
        hop_err("part 1", 1, "proof or signature does not verify")
    );
    // A proof replaced by a signature-kind hop with garbage.
    let mut t = h.clone();
    t.slots[0].hops[0].auth = HopAuth::Signature([7u8; 64]);
    assert_eq!(
        verify_err(&t),
        hop_err("metadata", 1, "proof or signature does not verify")
    );
    // Model 2: the combiner checks every proof.
    let stored = header::<S>(&f.file);
    let req = stored.forwarding_request(None).expect("request");
    let v = req.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &f.w.rep.enc,
        signer: &f.w.rep.sig,
        cert: &f.w.rep.cert,
    };
    let mut resp = v
        .make_hops(
            &fwd,
            &f.w.verified(&f.w.staff[0]),
            None,
            NOW + 1,
            &mut f.rng,
        )
        .expect("hops");
    resp.hops[0].1.auth = resp.hops[1].1.auth.clone();
    assert!(matches!(
        stored.apply_forward(&resp),
        Err(VerifyError::Hop {
            reason: "proof or signature does not verify",
            ..
        })
    ));
}

fn c2_not_descending<S: Suite>() {
    let mut f = fx::<S>();
    let mut h = header::<S>(&f.file);
    let other = S::mul_base(&S::random_scalar(&mut f.rng));
    h.slots[1].capsule.c2 = other.clone();
    assert_eq!(verify_err(&h), VerifyError::CapsuleLineage("part 0".into()));
    // After hops, too.
    let (rep, s0) = (&f.w.rep, &f.w.staff[0]);
    let file = forward(&f.file, &f.w, rep, s0, None, NOW + 1, &mut f.rng);
    let mut h = header::<S>(&file);
    h.slots[0].capsule.c2 = other.clone();
    assert_eq!(
        verify_err(&h),
        VerifyError::CapsuleLineage("metadata".into())
    );
    // Model 2: the forwarder refuses a C2 the server substituted.
    let mut req = header::<S>(&f.file)
        .forwarding_request(None)
        .expect("request");
    req.parts[1].c2 = other;
    assert_eq!(
        req.clone().verify().expect_err("substituted C2"),
        VerifyError::CapsuleLineage("part 1".into())
    );
}

fn c1_lineage_broken<S: Suite>() {
    let mut f = fx::<S>();
    let g = S::generator();
    let mut h = header::<S>(&f.file);
    h.slots[1].capsule.c1 = S::add(&h.slots[1].capsule.c1, &g);
    assert_eq!(verify_err(&h), VerifyError::CapsuleLineage("part 0".into()));
    let (rep, s0) = (&f.w.rep, &f.w.staff[0]);
    let file = forward(&f.file, &f.w, rep, s0, None, NOW + 1, &mut f.rng);
    let mut t = header::<S>(&file);
    t.slots[2].capsule.c1 = S::add(&t.slots[2].capsule.c1, &g);
    assert_eq!(verify_err(&t), VerifyError::CapsuleLineage("part 1".into()));
    // Model 2: a server whose stored C1 was altered cannot combine onto it.
    let mut stored = header::<S>(&f.file);
    let req = stored.forwarding_request(None).expect("request");
    let v = req.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &f.w.rep.enc,
        signer: &f.w.rep.sig,
        cert: &f.w.rep.cert,
    };
    let resp = v
        .make_hops(
            &fwd,
            &f.w.verified(&f.w.staff[0]),
            None,
            NOW + 1,
            &mut f.rng,
        )
        .expect("hops");
    stored.slots[1].capsule.c1 = S::add(&stored.slots[1].capsule.c1, &g);
    assert_eq!(
        stored.apply_forward(&resp).expect_err("altered C1"),
        VerifyError::CapsuleLineage("part 0".into())
    );
}

fn wrong_key_commitment<S: Suite>() {
    // A forwarder whose key holder computes a wrong a·C2 signs a hop that verifies (signed hops
    // carry no correctness proof); the reader's key commitment catches it before any plaintext.
    let mut f = fx::<S>();
    let liar = LyingHolder(f.w.rep.enc.clone());
    let s0 = &f.w.staff[0];
    let v_file = open::<S>(&f.file);
    let v = v_file.header.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &liar,
        signer: &f.w.rep.sig,
        cert: &f.w.rep.cert,
    };
    let h = v
        .forward(&fwd, &f.w.verified(s0), None, NOW + 1, &mut f.rng)
        .expect("forward");
    assert!(matches!(h.slots[1].hops[0].auth, HopAuth::Signature(_)));
    let file = rewrap(&f.file, &h);
    header::<S>(&file).verify().expect("a signed hop verifies");
    for part in 0..2 {
        assert_eq!(
            read_part::<S>(&file, part, &s0.enc),
            Err(DecryptError::Failed)
        );
    }
    let h = header::<S>(&file);
    assert_eq!(
        h.clone().verify().expect("verify").open_metadata(&s0.enc),
        Err(DecryptError::Failed)
    );
}

fn tampered_or_truncated_body<S: Suite>() {
    let f = fx::<S>();
    let rep = &f.w.rep.enc;
    let fh = open::<S>(&f.file);
    let start = fh.body_start(1).expect("body") as usize;
    let len = fh.header.body_len(1) as usize;
    // A flipped byte in any chunk (first, middle, last tag).
    for at in [start, start + 1500, start + len - 1] {
        let mut t = f.file.clone();
        t[at] ^= 0x10;
        assert_eq!(
            read_part::<S>(&t, 1, rep),
            Err(DecryptError::Failed),
            "flip at {at}"
        );
        let tf = open::<S>(&t);
        let r = envelope::check_body_digest(&tf, &mut Cursor::new(&t), 1);
        assert!(
            matches!(r, Err(FileError::Verify(VerifyError::BodyDigest(1)))),
            "{r:?}"
        );
    }
    // Chunks swapped.
    let mut t = f.file.clone();
    let (a, b) = (start..start + 1040, start + 1040..start + 2080);
    let chunk0 = f.file[a.clone()].to_vec();
    t.copy_within(b.clone(), a.start);
    t[b].copy_from_slice(&chunk0);
    assert_eq!(read_part::<S>(&t, 1, rep), Err(DecryptError::Failed));
    // A body source that ends early.
    let v = fh.header.clone().verify().expect("verify");
    let mut out = Vec::new();
    let r = envelope::decrypt_part(
        &v,
        &fh,
        &mut Cursor::new(&f.file[..start + len - 1]),
        1,
        rep,
        &mut out,
        &mut |_| {},
    );
    assert_eq!(r, Err(DecryptError::Failed));
    // A body re-encrypted by a holder under the same key (every chunk authenticates) still
    // differs from the digest the sender signed.
    let keys = v.open_slot(part_slot(1), rep).expect("open");
    let mut other = Vec::new();
    let forged = vec![0x41u8; f.bodies[1].len()];
    soshiki_core::stream::encrypt(
        &keys.key,
        1024,
        forged.len() as u64,
        &mut &forged[..],
        &mut other,
        &mut |_| {},
    )
    .expect("encrypt");
    let mut t = f.file.clone();
    t[start..start + len].copy_from_slice(&other);
    assert_eq!(
        read_part::<S>(&t, 1, rep),
        Err(DecryptError::Verify(VerifyError::BodyDigest(1)))
    );
    // And the untouched part still reads.
    assert_eq!(read_part::<S>(&t, 0, rep), Ok(f.bodies[0].clone()));
}

fn reader_not_a_recipient<S: Suite>() {
    let mut f = fx::<S>();
    let (rep, s0, s1) = (&f.w.rep, &f.w.staff[0], &f.w.staff[1]);
    assert_eq!(
        read_part::<S>(&f.file, 0, &s1.enc),
        Err(DecryptError::NotRecipient("part 0".into()))
    );
    assert_eq!(
        read_part::<S>(&f.file, 0, &f.w.outsider.enc),
        Err(DecryptError::NotRecipient("part 0".into()))
    );
    let h = header::<S>(&f.file);
    assert_eq!(
        h.clone().verify().expect("verify").open_metadata(&s1.enc),
        Err(DecryptError::NotRecipient("metadata".into()))
    );
    // After part 0 alone went to staff0: staff0 has no part 1, and the representative no
    // longer holds part 0 in the forwarded copy.
    let file = forward(&f.file, &f.w, rep, s0, Some(&[0]), NOW + 1, &mut f.rng);
    assert_eq!(read_part::<S>(&file, 0, &s0.enc), Ok(f.bodies[0].clone()));
    assert_eq!(
        read_part::<S>(&file, 1, &s0.enc),
        Err(DecryptError::NotRecipient("part 1".into()))
    );
    assert_eq!(
        read_part::<S>(&file, 0, &rep.enc),
        Err(DecryptError::NotRecipient("part 0".into()))
    );
    assert_eq!(
        read_part::<S>(&file, 7, &s0.enc),
        Err(DecryptError::NotRecipient("part 7".into()))
    );
}

both_suites!(
    hop_by_non_holder,
    hop_out_of_order,
    tampered_hop_proof,
    c2_not_descending,
    c1_lineage_broken
);
both_suites!(
    wrong_key_commitment,
    tampered_or_truncated_body,
    reader_not_a_recipient
);

// ---------------------------------------------------------------------------------------------
// Key files

fn wrong_key_file_passphrase<S: Suite>() {
    let mut f = fx::<S>();
    let mk = MemberKey::<S> {
        encryption: f.w.rep.enc.clone(),
        signing: SigningKey::from_secret_bytes(&f.w.rep.sig.to_secret_bytes()[..]).expect("key"),
        organization: f.w.city.organization().clone(),
        certificate: f.w.rep.cert.clone(),
    };
    let kf = mk
        .to_key_file(b"correct horse", KdfParams::MINIMUM, &mut f.rng)
        .expect("key file");
    let back = MemberKey::<S>::from_key_file(&kf, b"correct horse").expect("unlock");
    assert_eq!(back.encryption.public_key(), mk.encryption.public_key());
    assert_eq!(
        MemberKey::<S>::from_key_file(&kf, b"correct horsE").map(|_| ()),
        Err(KeyFileError::Unlock)
    );
    assert_eq!(
        MemberKey::<S>::from_key_file(&kf, b"").map(|_| ()),
        Err(KeyFileError::Unlock)
    );
    // An altered file is indistinguishable from a wrong passphrase.
    let mut t = kf.clone();
    let last = t.len() - 1;
    t[last] ^= 1;
    assert_eq!(
        MemberKey::<S>::from_key_file(&t, b"correct horse").map(|_| ()),
        Err(KeyFileError::Unlock)
    );
    let mut t = kf.clone();
    t[20] ^= 1; // the salt, bound as associated data
    assert_eq!(
        MemberKey::<S>::from_key_file(&t, b"correct horse").map(|_| ()),
        Err(KeyFileError::Unlock)
    );
    // Protection parameters below the minimum are refused.
    let mut t = kf.clone();
    put_u32(&mut t, 9, 1024); // m_kib: magic[5] ‖ version ‖ suite[2] ‖ kind ‖ m_kib
    assert_eq!(
        MemberKey::<S>::from_key_file(&t, b"correct horse").map(|_| ()),
        Err(KeyFileError::Parameters)
    );
    // An organization key file is not a member key file.
    let ok =
        f.w.city
            .to_key_file(b"correct horse", KdfParams::MINIMUM, &mut f.rng)
            .expect("org key file");
    assert_eq!(
        MemberKey::<S>::from_key_file(&ok, b"correct horse").map(|_| ()),
        Err(KeyFileError::WrongKind {
            expected: "member",
            found: "organization"
        })
    );
    assert!(matches!(
        soshiki_core::cert::OrganizationKey::<S>::from_key_file(&ok, b"wrong"),
        Err(KeyFileError::Unlock)
    ));
}

both_suites!(wrong_key_file_passphrase);

// ---------------------------------------------------------------------------------------------
// Forwarding

fn forward_to_another_organization<S: Suite>() {
    let mut f = fx::<S>();
    let outsider =
        f.w.outsider
            .cert
            .verify(f.w.other_city.organization(), NOW)
            .expect("valid in its own organization");
    let fh = open::<S>(&f.file);
    let v = fh.header.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &f.w.rep.enc,
        signer: &f.w.rep.sig,
        cert: &f.w.rep.cert,
    };
    assert!(matches!(
        v.forward(&fwd, &outsider, None, NOW + 1, &mut f.rng),
        Err(ForwardError::Invalid(_))
    ));
    // Model 2: the forwarder refuses a target the server names from another organization.
    let req = fh.header.forwarding_request(None).expect("request");
    let rv = req.clone().verify().expect("verify");
    assert!(matches!(
        rv.make_hops(&fwd, &outsider, None, NOW + 1, &mut f.rng),
        Err(ForwardError::Invalid(_))
    ));
    // And the combiner refuses a response whose target is not certified by the organization.
    let mut resp = rv
        .make_hops(
            &fwd,
            &f.w.verified(&f.w.staff[0]),
            None,
            NOW + 1,
            &mut f.rng,
        )
        .expect("hops");
    resp.target = f.w.outsider.cert.clone();
    assert!(matches!(
        fh.header.apply_forward(&resp),
        Err(VerifyError::Inconsistent(_))
    ));
    // Hops genuinely made toward the outsider.
    let resp = crafted_response(
        &fh.header,
        &f.w.rep,
        &f.w.outsider.cert,
        NOW + 1,
        &mut f.rng,
    );
    assert_eq!(
        fh.header.apply_forward(&resp),
        Err(hop_err(
            "metadata",
            1,
            "target certificate invalid at the hop's time"
        ))
    );
}

fn forward_of_a_part_not_held<S: Suite>() {
    let mut f = fx::<S>();
    let (rep, s0, s1) = (&f.w.rep, &f.w.staff[0], &f.w.staff[1]);
    let file = forward(&f.file, &f.w, rep, s0, Some(&[0]), NOW + 1, &mut f.rng);
    let fh = open::<S>(&file);
    let v = fh.header.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &s0.enc,
        signer: &s0.sig,
        cert: &s0.cert,
    };
    let to = f.w.verified(s1);
    assert_eq!(
        v.forward(&fwd, &to, Some(&[1]), NOW + 2, &mut f.rng)
            .expect_err("not held"),
        ForwardError::NotHolder("part 1".into())
    );
    assert_eq!(
        v.forward(&fwd, &to, Some(&[0, 1]), NOW + 2, &mut f.rng)
            .expect_err("not held"),
        ForwardError::NotHolder("part 1".into())
    );
    assert_eq!(
        v.forward(&fwd, &to, Some(&[7]), NOW + 2, &mut f.rng)
            .expect_err("no such part"),
        ForwardError::NoSuchPart(7)
    );
    // Model 2: the server cannot even ask for it.
    assert_eq!(
        fh.header
            .forwarding_request(Some(&[1]))
            .expect_err("not in this copy"),
        ForwardError::NoSuchPart(1)
    );
}

fn more_than_max_hops<S: Suite>() {
    let mut rng = rng(64);
    let w = world::<S>(1, &mut rng);
    let mut file = w.send(&[vec![]], 1024, &mut rng);
    let pair = [&w.rep, &w.staff[0]];
    for i in 0..limits::MAX_HOPS as usize {
        file = forward(
            &file,
            &w,
            pair[i % 2],
            pair[(i + 1) % 2],
            None,
            NOW + i as u64,
            &mut rng,
        );
    }
    let h = header::<S>(&file);
    assert_eq!(h.slots[0].hops.len(), limits::MAX_HOPS as usize);
    let v = h.clone().verify().expect("64 hops verify");
    let holder = pair[limits::MAX_HOPS as usize % 2];
    assert_eq!(read_part::<S>(&file, 0, &holder.enc), Ok(vec![]));
    let fwd = Forwarder {
        holder: &holder.enc,
        signer: &holder.sig,
        cert: &holder.cert,
    };
    let to = w.verified(pair[1 - limits::MAX_HOPS as usize % 2]);
    assert_eq!(
        v.forward(&fwd, &to, None, NOW + 100, &mut rng)
            .expect_err("65th hop"),
        ForwardError::TooManyHops("metadata".into())
    );
    let req = h.forwarding_request(None).expect("request");
    let rv = req.clone().verify().expect("verify");
    assert_eq!(
        rv.make_hops(&fwd, &to, None, NOW + 100, &mut rng)
            .expect_err("65th hop"),
        ForwardError::TooManyHops("metadata".into())
    );
}

both_suites!(
    forward_to_another_organization,
    forward_of_a_part_not_held,
    more_than_max_hops
);

// ---------------------------------------------------------------------------------------------
// ECDH-only key holders (smart cards, PKCS#11 tokens, WebCrypto)

#[test]
fn ecdh_only_holder_decrypts_and_forwards_p256() {
    let mut f = fx::<P256>();
    let (rep, s0, s1) = (&f.w.rep, &f.w.staff[0], &f.w.staff[1]);
    let card = EcdhOnlyKey::new(s0.enc.clone());
    let file = forward(&f.file, &f.w, rep, s0, None, NOW + 1, &mut f.rng);
    // The card holder reads (the sign of x(a·C2) is resolved by the key commitment).
    for (i, b) in f.bodies.iter().enumerate() {
        assert_eq!(read_with::<P256>(&file, i as u32, &card).as_ref(), Ok(b));
    }
    // It forwards (model 1); its hops carry a signature instead of a proof.
    let fh = open::<P256>(&file);
    let v = fh.header.clone().verify().expect("verify");
    assert_eq!(
        v.open_metadata(&card).expect("labels").parts[1].labels[0].value,
        "D1"
    );
    let fwd = Forwarder {
        holder: &card,
        signer: &s0.sig,
        cert: &s0.cert,
    };
    let h = v
        .forward(&fwd, &f.w.verified(s1), None, NOW + 2, &mut f.rng)
        .expect("card forwards");
    assert!(h
        .slots
        .iter()
        .all(|s| matches!(s.hops[1].auth, HopAuth::Signature(_))));
    assert!(h
        .slots
        .iter()
        .all(|s| matches!(s.hops[0].auth, HopAuth::Proof(_))));
    let out = rewrap(&file, &h);
    for (i, b) in f.bodies.iter().enumerate() {
        assert_eq!(read_part::<P256>(&out, i as u32, &s1.enc).as_ref(), Ok(b));
    }
    // Model 2 with the card.
    let stored = header::<P256>(&file);
    let req = stored.forwarding_request(None).expect("request");
    let rv = req.clone().verify().expect("verify");
    let resp = rv
        .make_hops(&fwd, &f.w.verified(s1), Some(&[1]), NOW + 2, &mut f.rng)
        .expect("card makes hops");
    let delivered = stored
        .apply_forward(&resp)
        .expect("combiner accepts a signed hop");
    let out = rewrap(&file, &delivered);
    assert_eq!(read_part::<P256>(&out, 1, &s1.enc), Ok(f.bodies[1].clone()));
    // A signed hop whose signature is altered is refused.
    let mut t = h.clone();
    if let HopAuth::Signature(sig) = &mut t.slots[1].hops[1].auth {
        sig[10] ^= 1;
    }
    assert_eq!(
        verify_err(&t),
        hop_err("part 0", 2, "proof or signature does not verify")
    );
}

#[test]
fn ecdh_only_holder_is_refused_on_ristretto255() {
    // Ristretto255 has no x-only ECDH: such a holder reports an error instead of guessing.
    let mut f = fx::<Ristretto255>();
    let card = EcdhOnlyKey::new(f.w.rep.enc.clone());
    assert!(matches!(
        read_with::<Ristretto255>(&f.file, 0, &card),
        Err(DecryptError::KeyHolder(_))
    ));
    let fh = open::<Ristretto255>(&f.file);
    let v = fh.header.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &card,
        signer: &f.w.rep.sig,
        cert: &f.w.rep.cert,
    };
    assert!(matches!(
        v.forward(
            &fwd,
            &f.w.verified(&f.w.staff[0]),
            None,
            NOW + 1,
            &mut f.rng
        ),
        Err(ForwardError::KeyHolder(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Roles, and the combiner (model 2) holding hops to the same rules as the reader

fn forwarding_needs_the_forwarder_role<S: Suite>() {
    let mut f = fx::<S>();
    let reader = member(&f.w.city, "reader only", Roles::READER, &mut f.rng);
    let file = forward(&f.file, &f.w, &f.w.rep, &reader, None, NOW + 1, &mut f.rng);
    read_part::<S>(&file, 0, &reader.enc).expect("a reader reads");
    let h = header::<S>(&file);
    let to = f.w.verified(&f.w.staff[0]);
    let fwd = Forwarder {
        holder: &reader.enc,
        signer: &reader.sig,
        cert: &reader.cert,
    };
    // Model 1 and model 2: the reader's software refuses to forward.
    let v = h.clone().verify().expect("verify");
    assert_eq!(
        v.forward(&fwd, &to, None, NOW + 2, &mut f.rng)
            .expect_err("no role"),
        ForwardError::NoForwardingRole
    );
    let req = h.forwarding_request(None).expect("request");
    let rv = req.clone().verify().expect("verify");
    assert_eq!(
        rv.make_hops(&fwd, &to, None, NOW + 2, &mut f.rng)
            .expect_err("no role"),
        ForwardError::NoForwardingRole
    );
    // A hop made anyway is rejected by the next reader.
    let t = crafted_forward(&h, &reader, &f.w.staff[0].cert, NOW + 2, &mut f.rng);
    assert_eq!(
        verify_err(&t),
        hop_err(
            "metadata",
            2,
            "the forwarder's certificate has no forwarding role"
        )
    );
    // A target with no reading or forwarding role (an administrator only) cannot receive.
    let admin = member(&f.w.city, "admin only", Roles::ADMIN, &mut f.rng);
    let h0 = header::<S>(&f.file);
    let v0 = h0.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &f.w.rep.enc,
        signer: &f.w.rep.sig,
        cert: &f.w.rep.cert,
    };
    assert!(matches!(
        v0.forward(&fwd, &f.w.verified(&admin), None, NOW + 1, &mut f.rng),
        Err(ForwardError::Invalid(_))
    ));
    let t = crafted_forward(&h0, &f.w.rep, &admin.cert, NOW + 1, &mut f.rng);
    assert_eq!(
        verify_err(&t),
        hop_err(
            "metadata",
            1,
            "the target's certificate has no reading or forwarding role"
        )
    );
}

both_suites!(forwarding_needs_the_forwarder_role);

/// The combiner must refuse what the reader would reject, with the reader's error: otherwise a
/// server delivers an envelope its reader cannot open.
fn combiner_rejects<S: Suite>(
    stored: &EnvelopeHeader<S>,
    resp: &ForwardResponse<S>,
    slot: &str,
    hop: usize,
    reason: &'static str,
) {
    assert_eq!(stored.apply_forward(resp), Err(hop_err(slot, hop, reason)));
}

fn combiner_rejects_hop_by_member_without_forwarding_role<S: Suite>() {
    let mut f = fx::<S>();
    let reader = member(&f.w.city, "reader only", Roles::READER, &mut f.rng);
    let file = forward(&f.file, &f.w, &f.w.rep, &reader, None, NOW + 1, &mut f.rng);
    let stored = header::<S>(&file);
    let resp = crafted_response(&stored, &reader, &f.w.staff[0].cert, NOW + 2, &mut f.rng);
    combiner_rejects(
        &stored,
        &resp,
        "metadata",
        2,
        "the forwarder's certificate has no forwarding role",
    );
}

fn combiner_rejects_hop_time_going_backwards<S: Suite>() {
    let mut f = fx::<S>();
    let (rep, s0, s1) = (&f.w.rep, &f.w.staff[0], &f.w.staff[1]);
    let file = forward(&f.file, &f.w, rep, s0, None, NOW + 100, &mut f.rng);
    let stored = header::<S>(&file);
    let resp = crafted_response(&stored, s0, &s1.cert, NOW + 50, &mut f.rng);
    combiner_rejects(&stored, &resp, "metadata", 2, "hop time goes backwards");
}

fn combiner_rejects_hop_outside_forwarder_validity<S: Suite>() {
    let mut f = fx::<S>();
    let stored = header::<S>(&f.file);
    let late = f.w.rep.cert.not_after + 1;
    // A target whose certificate is still valid then, so that only the forwarder's is not.
    let long = {
        let enc = SecretKey::<S>::generate(&mut f.rng);
        let sig = SigningKey::<S>::generate(&mut f.rng);
        let req = CertificateRequest {
            member_name: "long-lived".into(),
            roles: Roles::READER,
            encryption_key: enc.public_key().clone(),
            signing_key: sig.verifying_key(),
            not_before: NOW - 10,
            not_after: late + 1000,
        };
        Member {
            cert: f.w.city.certify(&req, &mut f.rng).expect("certify"),
            enc,
            sig,
        }
    };
    let resp = crafted_response(&stored, &f.w.rep, &long.cert, late, &mut f.rng);
    combiner_rejects(
        &stored,
        &resp,
        "metadata",
        1,
        "the forwarder's certificate was not valid at the hop's time",
    );
}

fn combiner_rejects_target_without_receiving_role<S: Suite>() {
    let mut f = fx::<S>();
    let admin = member(&f.w.city, "admin only", Roles::ADMIN, &mut f.rng);
    let stored = header::<S>(&f.file);
    let resp = crafted_response(&stored, &f.w.rep, &admin.cert, NOW + 1, &mut f.rng);
    combiner_rejects(
        &stored,
        &resp,
        "metadata",
        1,
        "the target's certificate has no reading or forwarding role",
    );
}

both_suites!(
    combiner_rejects_hop_by_member_without_forwarding_role,
    combiner_rejects_hop_time_going_backwards,
    combiner_rejects_hop_outside_forwarder_validity,
    combiner_rejects_target_without_receiving_role,
);

// ---------------------------------------------------------------------------------------------
// Signature keys have one encoding

fn invalid_signing_key<S: Suite>() {
    let f = fx::<S>();
    let good = f.w.rep.sig.verifying_key().to_bytes();
    assert_eq!(
        VerifyingKey::<S>::from_bytes(&good),
        Ok(f.w.rep.sig.verifying_key())
    );
    let mut bad = vec![good[..good.len() - 1].to_vec(), vec![0u8; good.len()]];
    match S::ID {
        // Uncompressed tag on a 33-byte key; x ≥ p.
        SuiteId::P256 => {
            let mut t = good.clone();
            t[0] = 0x04;
            bad.push(t);
            let mut t = vec![0xff; 33];
            t[0] = 0x02;
            bad.push(t);
        }
        // A small-order ("weak") Ed25519 key: the identity, y = 1.
        SuiteId::Ristretto255 => {
            let mut t = vec![0u8; 32];
            t[0] = 1;
            bad.push(t);
        }
    }
    for b in bad {
        assert_eq!(
            VerifyingKey::<S>::from_bytes(&b),
            Err(DecodeError::InvalidKey),
            "{}",
            hex::encode(&b)
        );
    }
}

both_suites!(invalid_signing_key);

/// SEC1 also defines a "compact" tag (0x05: x only). Accepting it gives a P-256 signing key two
/// encodings, so a certificate or organization record has two byte strings that decode to the
/// same object and both verify (their signatures cover the re-encoded, canonical bytes).
#[test]
fn p256_signing_key_in_compact_form_is_rejected() {
    let f = fx::<P256>();
    let good = f.w.rep.sig.verifying_key().to_bytes();
    let mut compact = good.clone();
    compact[0] = 0x05;
    assert_eq!(
        VerifyingKey::<P256>::from_bytes(&compact),
        Err(DecodeError::InvalidKey)
    );
    let cert = f.w.rep.cert.to_bytes();
    let at = find(&cert, &good);
    let mut b = cert.clone();
    b[at] = 0x05;
    assert_eq!(
        Certificate::<P256>::from_bytes(&b),
        Err(DecodeError::InvalidKey)
    );
}
