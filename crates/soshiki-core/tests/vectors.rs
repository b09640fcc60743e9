//! The checked-in test vectors (`tests/vectors/`, SPEC.md §11).
//!
//! 1. Every file is regenerated in memory and must equal the checked-in bytes.
//! 2. Each file is then checked from its JSON alone: the scheme formulas with the `p256` and
//!    `curve25519-dalek` crates directly, proofs by recomputing the challenge, key derivation
//!    with `hkdf`, bodies and sealed metadata with the `aes-gcm` crate, key files with `argon2`,
//!    following SPEC.md rather than the core's code paths; and through the core's public API.
//! 3. Every negative case must fail with exactly its expected error text.

#[path = "common/vectors_gen.rs"]
mod vectors_gen;
#[path = "common/vectors_gen_more.rs"]
mod vectors_gen_more;
#[path = "common/vectors_more_check.rs"]
mod vectors_more_check;

use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::PathBuf;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256, Sha512};

use soshiki_core::cert::{Certificate, Organization, OrganizationKey};
use soshiki_core::envelope::{self, EnvelopeFile, EnvelopeHeader, Metadata, SlotId, PREFIX_LEN};
use soshiki_core::kdf::derive_slot_keys;
use soshiki_core::keyfile::{MemberIdentity, MemberKey};
use soshiki_core::keys::{SecretKey, VerifyingKey};
use soshiki_core::scheme::{HopAuth, HopContext, HopProof, HopStatement, ReencryptionShare};
use soshiki_core::split::{ForwardResponse, ForwardingRequest};
use soshiki_core::suite::{Ristretto255, Suite, P256};
use soshiki_core::wire::Reader;
use soshiki_core::{armor, stream};

use vectors_gen::*;

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
}

fn load<T: DeserializeOwned>(name: &str) -> T {
    let path = vector_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e} (run `{REGENERATE}`)", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn unhex(s: &str) -> Vec<u8> {
    assert_eq!(s, s.to_ascii_lowercase(), "hex must be lower-case");
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex {s:.32}…: {e}"))
}

fn point<S: Suite>(s: &str) -> S::Point {
    S::point_from_bytes(&unhex(s)).unwrap_or_else(|e| panic!("point {s}: {e}"))
}

fn scalar<S: Suite>(s: &str) -> S::Scalar {
    S::scalar_from_bytes(&unhex(s)).unwrap_or_else(|e| panic!("scalar {s}: {e}"))
}

fn enc<S: Suite>(p: &S::Point) -> String {
    hex::encode(S::point_to_bytes(p))
}

// ---------------------------------------------------------------------------------------------
// (a) the files are exactly what the generator writes

#[test]
fn checked_in_vectors_match_the_generator() {
    let generated = generate_all().expect("generating the vectors");
    let mut problems = Vec::new();
    for (name, json) in &generated {
        match std::fs::read_to_string(vector_dir().join(name)) {
            Ok(on_disk) if on_disk == *json => {}
            Ok(on_disk) => {
                let line = on_disk
                    .lines()
                    .zip(json.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(on_disk.lines().count().min(json.lines().count()));
                problems.push(format!("{name}: differs from line {}", line + 1));
            }
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    let names: BTreeSet<&str> = generated.iter().map(|(n, _)| n.as_str()).collect();
    for entry in std::fs::read_dir(vector_dir()).expect("vector directory") {
        let name = entry
            .expect("directory entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".json")
            && !names.contains(name.as_str())
            && !vectors_more_check::generated_more(&name)
        {
            problems.push(format!(
                "{name}: not produced by the generator (stale file)"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the checked-in test vectors differ from what the generator produces:\n  {}\n\
         If the change is intended, run `{REGENERATE}` and review the diff.",
        problems.join("\n  ")
    );
    assert_eq!(names.len(), 18);
}

// ---------------------------------------------------------------------------------------------
// (b) the slide formulas, with the curve crates directly

trait RawGroup {
    type Scalar: Copy;
    type Point: Copy + PartialEq + core::fmt::Debug;
    fn scalar(b: &[u8]) -> Self::Scalar;
    fn point(b: &[u8]) -> Self::Point;
    fn base(s: &Self::Scalar) -> Self::Point;
    fn mul(p: &Self::Point, s: &Self::Scalar) -> Self::Point;
    fn add(p: &Self::Point, q: &Self::Point) -> Self::Point;
    fn sub(p: &Self::Point, q: &Self::Point) -> Self::Point;
    fn encode(p: &Self::Point) -> Vec<u8>;
}

struct RawP256;

impl RawGroup for RawP256 {
    type Scalar = p256::Scalar;
    type Point = p256::ProjectivePoint;
    fn scalar(b: &[u8]) -> p256::Scalar {
        use p256::elliptic_curve::PrimeField;
        let arr: [u8; 32] = b.try_into().expect("32-byte scalar");
        Option::from(p256::Scalar::from_repr(arr.into())).expect("canonical big-endian scalar")
    }
    fn point(b: &[u8]) -> p256::ProjectivePoint {
        use p256::elliptic_curve::sec1::FromEncodedPoint;
        assert_eq!(b.len(), 33, "SEC1 compressed");
        let ep = p256::EncodedPoint::from_bytes(b).expect("SEC1");
        let ap: Option<p256::AffinePoint> = p256::AffinePoint::from_encoded_point(&ep).into();
        p256::ProjectivePoint::from(ap.expect("point on P-256"))
    }
    fn base(s: &p256::Scalar) -> p256::ProjectivePoint {
        p256::ProjectivePoint::GENERATOR * s
    }
    fn mul(p: &p256::ProjectivePoint, s: &p256::Scalar) -> p256::ProjectivePoint {
        *p * s
    }
    fn add(p: &p256::ProjectivePoint, q: &p256::ProjectivePoint) -> p256::ProjectivePoint {
        *p + q
    }
    fn sub(p: &p256::ProjectivePoint, q: &p256::ProjectivePoint) -> p256::ProjectivePoint {
        *p - q
    }
    fn encode(p: &p256::ProjectivePoint) -> Vec<u8> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        p.to_affine().to_encoded_point(true).as_bytes().to_vec()
    }
}

struct RawRistretto;

impl RawGroup for RawRistretto {
    type Scalar = curve25519_dalek::Scalar;
    type Point = curve25519_dalek::RistrettoPoint;
    fn scalar(b: &[u8]) -> curve25519_dalek::Scalar {
        let arr: [u8; 32] = b.try_into().expect("32-byte scalar");
        Option::from(curve25519_dalek::Scalar::from_canonical_bytes(arr))
            .expect("canonical little-endian scalar")
    }
    fn point(b: &[u8]) -> curve25519_dalek::RistrettoPoint {
        curve25519_dalek::ristretto::CompressedRistretto::from_slice(b)
            .expect("32 bytes")
            .decompress()
            .expect("canonical Ristretto255 encoding")
    }
    fn base(s: &curve25519_dalek::Scalar) -> curve25519_dalek::RistrettoPoint {
        curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT * s
    }
    fn mul(
        p: &curve25519_dalek::RistrettoPoint,
        s: &curve25519_dalek::Scalar,
    ) -> curve25519_dalek::RistrettoPoint {
        p * s
    }
    fn add(
        p: &curve25519_dalek::RistrettoPoint,
        q: &curve25519_dalek::RistrettoPoint,
    ) -> curve25519_dalek::RistrettoPoint {
        p + q
    }
    fn sub(
        p: &curve25519_dalek::RistrettoPoint,
        q: &curve25519_dalek::RistrettoPoint,
    ) -> curve25519_dalek::RistrettoPoint {
        p - q
    }
    fn encode(p: &curve25519_dalek::RistrettoPoint) -> Vec<u8> {
        p.compress().to_bytes().to_vec()
    }
}

fn check_scheme<G: RawGroup>(file: &str, suite: &str) {
    let f: SchemeFile = load(file);
    assert_eq!(f.suite, suite);
    assert!(f.cases.len() >= 8, "{file}: at least 8 cases");
    for (i, c) in f.cases.iter().enumerate() {
        let s = |h: &str| {
            let b = unhex(h);
            assert_eq!(b.len(), 32, "{file} case {i}: scalar length");
            G::scalar(&b)
        };
        let p = |h: &str| G::point(&unhex(h));
        let (a, b, r1, r2) = (s(&c.a), s(&c.b), s(&c.r1), s(&c.r2));
        let (big_a, big_b, m) = (p(&c.big_a), p(&c.big_b), p(&c.m));
        let (c1, c2, x, c1p, c2p) = (p(&c.c1), p(&c.c2), p(&c.x), p(&c.c1_prime), p(&c.c2_prime));
        assert_eq!(G::base(&a), big_a, "{file} case {i}: A = a·P");
        assert_eq!(G::base(&b), big_b, "{file} case {i}: B = b·P");
        assert_eq!(
            G::add(&m, &G::mul(&big_a, &r1)),
            c1,
            "{file} case {i}: C1 = M + r1·A"
        );
        assert_eq!(G::base(&r1), c2, "{file} case {i}: C2 = r1·P");
        assert_eq!(
            G::sub(&G::mul(&c2, &a), &G::mul(&big_b, &r2)),
            x,
            "{file} case {i}: X = a·C2 − r2·B"
        );
        assert_eq!(G::sub(&c1, &x), c1p, "{file} case {i}: C1' = C1 − X");
        assert_eq!(G::base(&r2), c2p, "{file} case {i}: C2' = r2·P");
        assert_eq!(
            G::sub(&c1p, &G::mul(&c2p, &b)),
            m,
            "{file} case {i}: M = C1' − b·C2'"
        );
        assert_eq!(
            G::sub(&c1, &G::mul(&c2, &a)),
            m,
            "{file} case {i}: M = C1 − a·C2"
        );
        assert_eq!(
            G::add(&m, &G::mul(&big_b, &r2)),
            c1p,
            "{file} case {i}: C1' = M + r2·B"
        );
        // The encodings are the canonical ones.
        for (name, h, q) in [
            ("A", &c.big_a, big_a),
            ("M", &c.m, m),
            ("C1", &c.c1, c1),
            ("X", &c.x, x),
            ("C1'", &c.c1_prime, c1p),
        ] {
            assert_eq!(
                hex::encode(G::encode(&q)),
                *h,
                "{file} case {i}: encoding of {name}"
            );
        }
    }
}

#[test]
fn scheme_vectors_hold_with_independent_arithmetic() {
    check_scheme::<RawP256>("scheme-p256.json", "p256");
    check_scheme::<RawRistretto>("scheme-ristretto255.json", "ristretto255");
}

fn check_scheme_with_core<S: Suite>(file: &str) {
    let f: SchemeFile = load(file);
    for c in &f.cases {
        let a = SecretKey::<S>::from_secret_bytes(&unhex(&c.a)).expect("a");
        let b = SecretKey::<S>::from_secret_bytes(&unhex(&c.b)).expect("b");
        assert_eq!(hex::encode(a.public_key().to_bytes()), c.big_a);
        let m = point::<S>(&c.m);
        let cap = soshiki_core::scheme::hazmat::encrypt_point_with_r(
            &m,
            a.public_key(),
            &scalar::<S>(&c.r1),
        );
        assert_eq!(
            (enc::<S>(&cap.c1), enc::<S>(&cap.c2)),
            (c.c1.clone(), c.c2.clone())
        );
        let (x, c2p) = soshiki_core::scheme::hazmat::split_with_r(
            &cap.c2,
            &a,
            b.public_key(),
            &scalar::<S>(&c.r2),
        );
        assert_eq!(
            (enc::<S>(&x), enc::<S>(&c2p)),
            (c.x.clone(), c.c2_prime.clone())
        );
        let cb = soshiki_core::scheme::Capsule::<S> {
            c1: point::<S>(&c.c1_prime),
            c2: c2p,
        };
        assert_eq!(
            soshiki_core::scheme::hazmat::decrypt_point_with_key(&cb, &b),
            m
        );
    }
}

#[test]
fn scheme_vectors_hold_with_the_core() {
    check_scheme_with_core::<P256>("scheme-p256.json");
    check_scheme_with_core::<Ristretto255>("scheme-ristretto255.json");
}

// ---------------------------------------------------------------------------------------------
// (c) hop proofs: recompute the commitments and the challenge

fn check_proofs<S: Suite>(file: &str) {
    let f: ProofFile = load(file);
    assert_eq!(f.suite, S::ID.name());
    assert!(!f.cases.is_empty());
    for (i, c) in f.cases.iter().enumerate() {
        let ctx = HopContext {
            envelope_id: unhex(&c.envelope_id)
                .try_into()
                .expect("16-byte envelope id"),
            slot: SlotId::from_wire(c.slot),
            hop_index: c.hop_index,
            forwarder_cert: soshiki_core::cert::Fingerprint(
                unhex(&c.forwarder_cert).try_into().expect("32 bytes"),
            ),
            target_cert: soshiki_core::cert::Fingerprint(
                unhex(&c.target_cert).try_into().expect("32 bytes"),
            ),
            time: c.time,
        };
        let (big_a, big_b, c2, x, c2p) = (
            point::<S>(&c.big_a),
            point::<S>(&c.big_b),
            point::<S>(&c.c2),
            point::<S>(&c.x),
            point::<S>(&c.c2_prime),
        );
        let (e, s1, s2) = (scalar::<S>(&c.e), scalar::<S>(&c.s1), scalar::<S>(&c.s2));
        let (a, r2, k1, k2) = (
            scalar::<S>(&c.a),
            scalar::<S>(&c.r2),
            scalar::<S>(&c.k1),
            scalar::<S>(&c.k2),
        );

        // The statement's layout (SPEC.md §4.3).
        let statement = unhex(&c.statement);
        assert_eq!(
            statement,
            encode_statement::<S>(&ctx, &big_a, &big_b, &c2, &c2p, &x),
            "{file} case {i}: statement layout"
        );
        assert_eq!(
            statement.len(),
            2 + 16 + 4 + 2 + 32 + 32 + 8 + 5 * S::POINT_LEN
        );

        // The relation, from the secrets.
        assert_eq!(S::mul_base(&a), big_a, "{file} case {i}: A = a·P");
        assert_eq!(
            S::sub(&S::mul(&c2, &a), &S::mul(&big_b, &r2)),
            x,
            "{file} case {i}: X"
        );
        assert_eq!(S::mul_base(&r2), c2p, "{file} case {i}: C2'");
        assert!(
            S::scalar_eq(&s1, &S::scalar_add(&k1, &S::scalar_mul(&e, &a))),
            "{file} case {i}: s1 = k1 + e·a"
        );
        assert!(
            S::scalar_eq(&s2, &S::scalar_add(&k2, &S::scalar_mul(&e, &r2))),
            "{file} case {i}: s2 = k2 + e·r2"
        );

        // The verifier's recomputation: T1 = s1·P − e·A, T2 = s2·P − e·C2', T3 = s1·C2 − s2·B − e·X.
        let t1 = S::sub(&S::mul_base(&s1), &S::mul(&big_a, &e));
        let t2 = S::sub(&S::mul_base(&s2), &S::mul(&c2p, &e));
        let t3 = S::sub(
            &S::sub(&S::mul(&c2, &s1), &S::mul(&big_b, &s2)),
            &S::mul(&x, &e),
        );
        assert_eq!(
            (enc::<S>(&t1), enc::<S>(&t2), enc::<S>(&t3)),
            (c.t1.clone(), c.t2.clone(), c.t3.clone()),
            "{file} case {i}: T1, T2, T3"
        );
        assert_eq!(S::mul_base(&k1), t1, "{file} case {i}: T1 = k1·P");

        // The challenge: H("hop-proof"; statement, T1, T2, T3) = SHA-512 of the tagged input,
        // reduced (P-256: big-endian, Ristretto255: little-endian, modulo the group order).
        let input = tagged_input(
            "hop-proof",
            &[
                &statement,
                &S::point_to_bytes(&t1),
                &S::point_to_bytes(&t2),
                &S::point_to_bytes(&t3),
            ],
        );
        assert_eq!(
            hex::encode(&input),
            c.challenge_input,
            "{file} case {i}: challenge input"
        );
        let wide: [u8; 64] = Sha512::digest(&input).into();
        assert!(
            S::scalar_eq(&S::scalar_from_wide(&wide), &e),
            "{file} case {i}: e = H(…) mod n"
        );

        // The core accepts the proof as encoded, and rejects it for another statement.
        assert_eq!(c.proof, format!("{}{}{}", c.e, c.s1, c.s2));
        let proof = HopProof::<S>::read(&mut Reader::new(&unhex(&c.proof))).expect("proof decodes");
        let share = ReencryptionShare {
            x: x.clone(),
            c2_new: c2p.clone(),
            auth: HopAuth::Proof(proof),
        };
        let from = soshiki_core::keys::PublicKey::<S>::from_point(big_a.clone());
        let to = soshiki_core::keys::PublicKey::<S>::from_point(big_b.clone());
        let st = HopStatement {
            context: &ctx,
            from: &from,
            to: &to,
            c2: &c2,
        };
        assert!(
            share.clone().verify(&st, None).is_ok(),
            "{file} case {i}: the core verifies the proof"
        );
        let later = HopContext {
            time: ctx.time + 1,
            ..ctx.clone()
        };
        let st_later = HopStatement {
            context: &later,
            ..st.clone()
        };
        assert!(
            share.verify(&st_later, None).is_err(),
            "{file} case {i}: bound to the hop's time"
        );
    }
}

#[test]
fn proof_vectors_recompute() {
    check_proofs::<P256>("proof-p256.json");
    check_proofs::<Ristretto255>("proof-ristretto255.json");
}

// ---------------------------------------------------------------------------------------------
// key derivation and STREAM, independently

fn hkdf_slot(
    id: soshiki_core::suite::SuiteId,
    m: &[u8],
    envelope_id: &[u8],
    slot: u32,
) -> ([u8; 32], [u8; 32]) {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(&kdf_salt(id, envelope_id)), m);
    let mut key = [0u8; 32];
    let mut commitment = [0u8; 32];
    hk.expand(
        &[&b"soshiki/v1/slot-key"[..], &slot.to_be_bytes()].concat(),
        &mut key,
    )
    .expect("length");
    hk.expand(
        &[&b"soshiki/v1/commitment"[..], &slot.to_be_bytes()].concat(),
        &mut commitment,
    )
    .expect("length");
    (key, commitment)
}

fn check_kdf<S: Suite>(file: &str) {
    let f: KdfFile = load(file);
    assert_eq!(f.suite, S::ID.name());
    assert!(f
        .cases
        .iter()
        .any(|c| SlotId::from_wire(c.slot).is_metadata()));
    for c in &f.cases {
        let m = unhex(&c.m);
        let id = unhex(&c.envelope_id);
        assert_eq!(hex::encode(kdf_salt(S::ID, &id)), c.salt);
        let (prk, _) = hkdf::Hkdf::<Sha256>::extract(Some(&unhex(&c.salt)), &m);
        assert_eq!(hex::encode(prk), c.prk);
        let (key, commitment) = hkdf_slot(S::ID, &m, &id, c.slot);
        assert_eq!(
            (hex::encode(key), hex::encode(commitment)),
            (c.key.clone(), c.commitment.clone())
        );
        let core = derive_slot_keys::<S>(
            &point::<S>(&c.m),
            &id.clone().try_into().expect("16 bytes"),
            SlotId::from_wire(c.slot),
        );
        assert_eq!(
            (hex::encode(&core.key[..]), hex::encode(core.commitment)),
            (c.key.clone(), c.commitment.clone())
        );
    }
}

#[test]
fn kdf_vectors_match_hkdf() {
    check_kdf::<P256>("kdf-p256.json");
    check_kdf::<Ristretto255>("kdf-ristretto255.json");
}

/// STREAM encryption written from SPEC.md §6.2 with the RustCrypto `aes-gcm` crate.
fn stream_seal(key: &[u8], chunk: usize, plaintext: &[u8]) -> Vec<u8> {
    let aead = aes_gcm::Aes256Gcm::new_from_slice(key).expect("32-byte key");
    let n = plaintext.len().div_ceil(chunk).max(1);
    let mut out = Vec::new();
    for i in 0..n {
        let end = ((i + 1) * chunk).min(plaintext.len());
        let mut nonce = [0u8; 12];
        nonce[7..11].copy_from_slice(&(i as u32).to_be_bytes());
        nonce[11] = u8::from(i + 1 == n);
        let sealed = aead
            .encrypt(
                aes_gcm::Nonce::from_slice(&nonce),
                Payload {
                    msg: &plaintext[i * chunk..end],
                    aad: b"",
                },
            )
            .expect("seal");
        out.extend_from_slice(&sealed);
    }
    out
}

/// The inverse of [`stream_seal`], for a body of known plaintext length.
fn stream_open(key: &[u8], chunk: usize, len: usize, body: &[u8]) -> Option<Vec<u8>> {
    let aead = aes_gcm::Aes256Gcm::new_from_slice(key).expect("32-byte key");
    let n = len.div_ceil(chunk).max(1);
    let mut out = Vec::new();
    let mut at = 0;
    for i in 0..n {
        let plain = if i + 1 == n { len - i * chunk } else { chunk };
        let sealed = body.get(at..at + plain + 16)?;
        at += plain + 16;
        let mut nonce = [0u8; 12];
        nonce[7..11].copy_from_slice(&(i as u32).to_be_bytes());
        nonce[11] = u8::from(i + 1 == n);
        out.extend_from_slice(
            &aead
                .decrypt(
                    aes_gcm::Nonce::from_slice(&nonce),
                    Payload {
                        msg: sealed,
                        aad: b"",
                    },
                )
                .ok()?,
        );
    }
    (at == body.len()).then_some(out)
}

#[test]
fn stream_vectors_match_an_independent_implementation() {
    let f: StreamFile = load("stream.json");
    let key = unhex(&f.key);
    let lens: Vec<u64> = f.cases.iter().map(|c| c.plaintext_len).collect();
    assert_eq!(lens, vec![0, 1, 1024, 2500]);
    assert_eq!(f.chunk_size, 1024);
    for c in &f.cases {
        let pt = unhex(&c.plaintext);
        let ct = unhex(&c.ciphertext);
        assert_eq!(pt.len() as u64, c.plaintext_len);
        assert_eq!(
            ct.len() as u64,
            stream::ciphertext_len(c.plaintext_len, f.chunk_size)
        );
        assert_eq!(
            stream_seal(&key, f.chunk_size as usize, &pt),
            ct,
            "length {}",
            c.plaintext_len
        );
        assert_eq!(hex::encode(Sha256::digest(&ct)), c.ciphertext_sha256);
        let k = zeroize::Zeroizing::new(<[u8; 32]>::try_from(&key[..]).expect("32 bytes"));
        let mut out = Vec::new();
        let digest = stream::decrypt(
            &k,
            f.chunk_size,
            c.plaintext_len,
            &mut &ct[..],
            &mut out,
            &mut |_| {},
        )
        .expect("core decrypts");
        assert_eq!(out, pt);
        assert_eq!(hex::encode(digest), c.ciphertext_sha256);
    }
}

// ---------------------------------------------------------------------------------------------
// (d) the envelope: decrypt with the given key, and check the layout from the spec

fn member<'a>(v: &'a EnvelopeVector, name: &str) -> &'a MemberInfo {
    v.members
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("member {name}"))
}

fn tagged_sha256(label: &str, items: &[&[u8]]) -> String {
    hex::encode(Sha256::digest(tagged_input(label, items)))
}

/// Decrypt every part with the core, check the metadata, return the verified header.
fn decrypt_all<S: Suite>(
    file_bytes: &[u8],
    v: &EnvelopeVector,
    reader: &SecretKey<S>,
) -> EnvelopeHeader<S> {
    let mut src = Cursor::new(file_bytes);
    let file = EnvelopeFile::<S>::open(&mut src).expect("file opens");
    let verified = file.header.clone().verify().expect("header verifies");
    assert_eq!(
        verified.sender().organization().fingerprint().to_hex(),
        v.sender_organization.fingerprint
    );
    assert_eq!(
        verified.recipient().organization().fingerprint().to_hex(),
        v.recipient_organization.fingerprint
    );
    let mut held = verified.slots_held_by(reader.public_key());
    held.sort_unstable();
    let part = |i| SlotId::part(i).expect("part");
    assert_eq!(held, vec![SlotId::METADATA, part(0), part(1)]);
    let meta = verified.open_metadata(reader).expect("metadata opens");
    assert_eq!(MetadataInfo::from_metadata(&meta), v.metadata);
    assert_eq!(hex::encode(meta.to_bytes()), v.metadata_encoding);
    for (i, expected) in v.plaintexts.iter().enumerate() {
        let mut out = Vec::new();
        envelope::decrypt_part(
            &verified,
            &file,
            &mut src,
            i as u32,
            reader,
            &mut out,
            &mut |_| {},
        )
        .expect("part decrypts");
        assert_eq!(hex::encode(&out), *expected, "part {i}");
    }
    file.header.clone()
}

fn check_envelope<S: Suite>(name: &str) {
    let v: EnvelopeVector = load(name);
    assert_eq!(v.suite, S::ID.name());
    let reader =
        SecretKey::<S>::from_secret_bytes(&unhex(&v.reader_encryption_secret)).expect("reader key");
    assert_eq!(
        hex::encode(reader.public_key().to_bytes()),
        member(&v, &v.reader).encryption_public
    );
    let file = unhex(&v.file);
    let compact = unhex(&v.compact_file);
    let original = unhex(&v.original_file);

    // The core decrypts both the in-place forwarded file and the compact copy.
    let h = decrypt_all::<S>(&file, &v, &reader);
    let h_compact = decrypt_all::<S>(&compact, &v, &reader);
    assert_eq!(h, h_compact);
    assert_eq!(hex::encode(h.to_bytes()), v.forwards[1].header);

    // Organizations and certificates: fingerprints from SPEC.md §5.
    for o in [&v.sender_organization, &v.recipient_organization] {
        let rec = Organization::<S>::from_bytes(&unhex(&o.record)).expect("organization record");
        assert_eq!(rec.name, o.name);
        let fp = tagged_sha256(
            "org-fingerprint",
            &[&S::ID.to_u16().to_be_bytes(), &rec.signing_key.to_bytes()],
        );
        assert_eq!(fp, o.fingerprint);
    }
    for m in &v.members {
        let cert = Certificate::<S>::from_bytes(&unhex(&m.certificate)).expect("certificate");
        assert_eq!(
            tagged_sha256("certificate-fingerprint", &[&unhex(&m.certificate)]),
            m.certificate_fingerprint
        );
        assert_eq!(cert.member_name, m.name);
        assert_eq!(
            hex::encode(cert.encryption_key.to_bytes()),
            m.encryption_public
        );
        assert_eq!(
            cert.roles.names(),
            m.roles.iter().map(String::as_str).collect::<Vec<_>>()
        );
        if let Some(secret) = &m.encryption_secret {
            let k = SecretKey::<S>::from_secret_bytes(&unhex(secret)).expect("secret");
            assert_eq!(hex::encode(k.public_key().to_bytes()), m.encryption_public);
        }
    }

    // The container (SPEC.md §8): prefix, bodies, then trailers; the last footer wins.
    let id = h.core.envelope_id;
    let mut prefix = b"SKENV\x01".to_vec();
    prefix.extend_from_slice(&S::ID.to_u16().to_be_bytes());
    prefix.extend_from_slice(&id);
    assert_eq!(prefix.len() as u64, PREFIX_LEN);
    assert!(
        file.starts_with(&prefix) && compact.starts_with(&prefix) && original.starts_with(&prefix)
    );
    let mut expected_file = original.clone();
    for step in &v.forwards {
        append_trailer(&mut expected_file, &unhex(&step.header));
    }
    assert_eq!(
        file, expected_file,
        "file = original ‖ trailer(hop 1) ‖ trailer(hop 2)"
    );
    let h0 = unhex(&v.original_header);
    assert!(original.ends_with(
        &[
            &h0[..],
            &(h0.len() as u64).to_be_bytes(),
            b"SKEND\x00\x00\x01"
        ]
        .concat()
    ));
    let bodies_len = original.len() - h0.len() - 16;
    let mut expected_compact = original[..bodies_len].to_vec();
    append_trailer(&mut expected_compact, &unhex(&v.forwards[1].header));
    assert_eq!(compact, expected_compact);

    // Each intermediate header verifies and names the expected holder.
    let holder_of = |hex_header: &str, who: &str| {
        let hdr = EnvelopeHeader::<S>::from_bytes(&unhex(hex_header)).expect("header decodes");
        let ver = hdr.clone().verify().expect("header verifies");
        let fp = member(&v, who).certificate_fingerprint.clone();
        for s in &hdr.slots {
            assert_eq!(
                ver.holder(s.slot)
                    .expect("holder")
                    .certificate()
                    .fingerprint()
                    .to_hex(),
                fp
            );
        }
        hdr
    };
    let h0h = holder_of(&v.original_header, "受信代表");
    let h1 = holder_of(&v.forwards[0].header, &v.forwards[0].to);
    holder_of(&v.forwards[1].header, &v.forwards[1].to);
    assert!(h0h.slots.iter().all(|s| s.hops.is_empty()));
    assert!(
        h.slots.iter().all(|s| s.hops.len() == 2),
        "two hops in every slot"
    );

    // The sender's signature: over "soshiki/v1/envelope-signature" ‖ the header up to it.
    let hb = h.to_bytes();
    let sig_at = hb
        .windows(64)
        .position(|w| w == h.sender_signature)
        .expect("signature in the header");
    let msg = [&b"soshiki/v1/envelope-signature"[..], &hb[..sig_at]].concat();
    let sender_vk: &VerifyingKey<S> = &h.core.sender_cert.signing_key;
    assert!(sender_vk.verify(&msg, &h.sender_signature));
    assert_eq!(
        hex::encode(sender_vk.to_bytes()),
        member(&v, "送信担当").signing_public
    );

    // Model 2: the request holds no part's C1; the response applied to hop 1's header gives hop 2's.
    let request = unhex(v.forwards[1].request.as_deref().expect("request"));
    for s in h1.slots.iter().filter(|s| !s.slot.is_metadata()) {
        let c1 = S::point_to_bytes(&s.capsule.c1);
        assert!(
            !request.windows(c1.len()).any(|w| w == c1),
            "the request leaks C1 of {}",
            s.slot
        );
    }
    let meta_c1 = S::point_to_bytes(&h1.slot(SlotId::METADATA).expect("metadata").capsule.c1);
    assert!(
        request.windows(meta_c1.len()).any(|w| w == meta_c1),
        "the metadata capsule travels whole"
    );
    ForwardingRequest::<S>::from_bytes(&request)
        .expect("request decodes")
        .verify()
        .expect("request verifies");
    let response = ForwardResponse::<S>::from_bytes(&unhex(
        v.forwards[1].response.as_deref().expect("response"),
    ))
    .expect("response decodes");
    assert_eq!(
        h1.apply_forward(&response)
            .expect("combiner applies the response"),
        h
    );

    // Independently of the core's decryption: M = C1 − b·C2, keys by HKDF, metadata and bodies
    // with aes-gcm.
    let b = scalar::<S>(&v.reader_encryption_secret);
    let mut body_at = PREFIX_LEN as usize;
    for (s, expected) in h.slots.iter().zip(&v.reader_slots) {
        assert_eq!(s.slot.to_wire(), expected.slot);
        let m = S::sub(&s.capsule.c1, &S::mul(&s.capsule.c2, &b));
        assert_eq!(enc::<S>(&m), expected.m);
        let (key, commitment) = hkdf_slot(S::ID, &S::point_to_bytes(&m), &id, expected.slot);
        assert_eq!(
            (hex::encode(key), hex::encode(commitment)),
            (expected.key.clone(), expected.commitment.clone())
        );
        let origin = h.core.origin(s.slot).expect("origin");
        assert_eq!(
            commitment, origin.commitment,
            "key commitment of slot {}",
            s.slot
        );
        let aead = aes_gcm::Aes256Gcm::new_from_slice(&key).expect("key");
        if let Some(index) = s.slot.part_index() {
            let part = &h.core.parts[index as usize];
            let len = part.plaintext_len as usize;
            let body_len = len + len.div_ceil(h.core.chunk_size as usize).max(1) * 16;
            let body = &file[body_at..body_at + body_len];
            body_at += body_len;
            assert_eq!(
                <[u8; 32]>::from(Sha256::digest(body)),
                part.body_digest,
                "body digest of part {}",
                index
            );
            let pt = stream_open(&key, h.core.chunk_size as usize, len, body).expect("body opens");
            assert_eq!(hex::encode(pt), v.plaintexts[index as usize]);
        } else {
            let aad = [&b"soshiki/v1/metadata"[..], &id].concat();
            let pt = aead
                .decrypt(
                    aes_gcm::Nonce::from_slice(&[0u8; 12]),
                    Payload {
                        msg: &h.core.sealed_metadata,
                        aad: &aad,
                    },
                )
                .expect("metadata opens");
            assert_eq!(hex::encode(&pt), v.metadata_encoding);
            assert_eq!(
                Metadata::from_bytes(&pt)
                    .expect("metadata decodes")
                    .parts
                    .len(),
                2
            );
        }
    }
}

#[test]
fn envelope_vectors_decrypt() {
    check_envelope::<P256>("envelope-p256.json");
    check_envelope::<Ristretto255>("envelope-ristretto255.json");
}

// ---------------------------------------------------------------------------------------------
// key files and identities

fn check_keyfile<S: Suite>(name: &str) {
    let v: KeyfileVector = load(name);
    assert_eq!(v.suite, S::ID.name());
    let pass = v.passphrase.as_bytes();
    let kf = unhex(&v.member_key_file);
    let m = MemberKey::<S>::from_key_file(&kf, pass).expect("member key file unlocks");
    let e = &v.member;
    assert_eq!(
        hex::encode(&m.encryption.to_secret_bytes()[..]),
        e.encryption_secret
    );
    assert_eq!(
        hex::encode(&m.signing.to_secret_bytes()[..]),
        e.signing_secret
    );
    assert_eq!(
        hex::encode(m.encryption.public_key().to_bytes()),
        e.encryption_public
    );
    assert_eq!(
        hex::encode(m.signing.verifying_key().to_bytes()),
        e.signing_public
    );
    assert_eq!(hex::encode(m.organization.to_bytes()), e.organization);
    assert_eq!(
        m.organization.fingerprint().to_hex(),
        e.organization_fingerprint
    );
    assert_eq!(hex::encode(m.certificate.to_bytes()), e.certificate);
    assert_eq!(
        m.certificate.fingerprint().to_hex(),
        e.certificate_fingerprint
    );
    assert_eq!(m.certificate.member_name, e.member_name);
    assert_eq!(
        m.certificate.roles.names(),
        e.roles.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let identity = unhex(&e.identity);
    assert_eq!(hex::encode(m.identity().to_bytes()), e.identity);
    let id = MemberIdentity::<S>::from_bytes(&identity).expect("identity decodes");
    id.verify(NOW).expect("identity verifies");
    assert_eq!(
        identity,
        [
            &b"SKMID\x01"[..],
            &S::ID.to_u16().to_be_bytes(),
            &unhex(&e.organization),
            &unhex(&e.certificate)
        ]
        .concat()
    );

    // The key-file layout and its protection, from SPEC.md §9.1 with argon2 and aes-gcm.
    let open = |bytes: &[u8], kind: u8| -> Vec<u8> {
        assert_eq!(&bytes[..6], b"SKKEY\x01");
        assert_eq!(bytes[6..8], S::ID.to_u16().to_be_bytes());
        assert_eq!(bytes[8], kind);
        let m_kib = u32::from_be_bytes(bytes[9..13].try_into().expect("4"));
        let t = u32::from_be_bytes(bytes[13..17].try_into().expect("4"));
        let p = bytes[17];
        assert_eq!((m_kib, t, p), (v.kdf.m_kib, v.kdf.t, v.kdf.p));
        let (salt, nonce) = (&bytes[18..34], &bytes[34..46]);
        let len = u32::from_be_bytes(bytes[46..50].try_into().expect("4")) as usize;
        assert_eq!(bytes.len(), 50 + len);
        let params = argon2::Params::new(m_kib, t, u32::from(p), Some(32)).expect("params");
        let mut key = [0u8; 32];
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into(pass, salt, &mut key)
            .expect("argon2id");
        aes_gcm::Aes256Gcm::new_from_slice(&key)
            .expect("key")
            .decrypt(
                aes_gcm::Nonce::from_slice(nonce),
                Payload {
                    msg: &bytes[50..],
                    aad: &bytes[..46],
                },
            )
            .expect("key file opens")
    };
    let plain = open(&kf, 1);
    let expected = [
        unhex(&e.encryption_secret),
        unhex(&e.signing_secret),
        unhex(&e.organization),
        unhex(&e.certificate),
    ]
    .concat();
    assert_eq!(plain, expected, "member key file plaintext layout");

    let okf = unhex(&v.organization_key_file);
    let plain = open(&okf, 2);
    assert_eq!(
        plain,
        [
            unhex(&v.organization.signing_secret),
            unhex(&e.organization)
        ]
        .concat()
    );
    let org =
        OrganizationKey::<S>::from_key_file(&okf, pass).expect("organization key file unlocks");
    assert_eq!(
        org.organization().fingerprint().to_hex(),
        v.organization.fingerprint
    );
    assert_eq!(org.organization().name, v.organization.name);
    assert_eq!(org.organization().created, v.organization.created);
    assert_eq!(
        hex::encode(&org.signing_key().to_secret_bytes()[..]),
        v.organization.signing_secret
    );
    assert_eq!(
        hex::encode(org.organization().signing_key.to_bytes()),
        v.organization.signing_public
    );
}

#[test]
fn keyfile_vectors_unlock() {
    check_keyfile::<P256>("keyfile-p256.json");
    check_keyfile::<Ristretto255>("keyfile-ristretto255.json");
}

// ---------------------------------------------------------------------------------------------
// armor

#[test]
fn armor_vectors() {
    let f: ArmorFile = load("armor.json");
    for c in &f.encode {
        let data = unhex(&c.data);
        assert_eq!(armor::encode(&c.kind, &data), c.armored);
        assert_eq!(
            armor::decode(c.armored.as_bytes()).expect("decodes"),
            (c.kind.clone(), data)
        );
        assert!(armor::is_armored(c.armored.as_bytes()));
        for line in c
            .armored
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with("-----"))
        {
            assert!(line.len() <= 64 && !line.is_empty());
        }
    }
    for c in &f.decode {
        assert_eq!(
            armor::decode(c.input.as_bytes()).expect(&c.name),
            (c.kind.clone(), unhex(&c.data)),
            "{}",
            c.name
        );
    }
    for c in &f.negative {
        match armor::decode(&unhex(&c.input)) {
            Ok(_) => panic!("armor case {:?} was accepted", c.name),
            Err(e) => assert_eq!(e.to_string(), c.expected_error, "armor case {:?}", c.name),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (e) negative cases

fn run_negative<S: Suite>(c: &NegativeCase) -> Result<(), String> {
    let input = unhex(&c.input);
    let s = |e: &dyn std::fmt::Display| e.to_string();
    match c.operation.as_str() {
        "point" => S::point_from_bytes(&input).map(drop).map_err(|e| s(&e)),
        "scalar" => S::scalar_from_bytes(&input).map(drop).map_err(|e| s(&e)),
        "organization" => Organization::<S>::from_bytes(&input)
            .map(drop)
            .map_err(|e| s(&e)),
        "certificate" => Certificate::<S>::from_bytes(&input)
            .map(drop)
            .map_err(|e| s(&e)),
        "identity" => MemberIdentity::<S>::from_bytes(&input)
            .map(drop)
            .map_err(|e| s(&e)),
        "metadata" => Metadata::from_bytes(&input).map(drop).map_err(|e| s(&e)),
        "envelope_header" => EnvelopeHeader::<S>::from_bytes(&input)
            .map(drop)
            .map_err(|e| s(&e)),
        "envelope_header_verify" => {
            let h =
                EnvelopeHeader::<S>::from_bytes(&input).map_err(|e| format!("(decoding) {e}"))?;
            h.clone().verify().map(drop).map_err(|e| s(&e))
        }
        "envelope_file_open" => EnvelopeFile::<S>::open(&mut Cursor::new(&input))
            .map(drop)
            .map_err(|e| s(&e)),
        "envelope_decrypt_part" => {
            let mut src = Cursor::new(&input);
            let file = EnvelopeFile::<S>::open(&mut src).map_err(|e| format!("(opening) {e}"))?;
            let verified = file
                .header
                .clone()
                .verify()
                .map_err(|e| format!("(verifying) {e}"))?;
            let key = SecretKey::<S>::from_secret_bytes(&unhex(c.key.as_deref().expect("key")))
                .expect("key");
            let part = c.part.expect("part");
            envelope::decrypt_part(
                &verified,
                &file,
                &mut src,
                part,
                &key,
                &mut Vec::new(),
                &mut |_| {},
            )
            .map_err(|e| s(&e))
        }
        "key_file_member" => {
            let pass = c.passphrase.as_deref().expect("passphrase");
            MemberKey::<S>::from_key_file(&input, pass.as_bytes())
                .map(drop)
                .map_err(|e| s(&e))
        }
        other => panic!("unknown operation {other}"),
    }
}

fn check_negative<S: Suite>(name: &str) {
    let f: NegativeFile = load(name);
    assert_eq!(f.suite, S::ID.name());
    let documented: BTreeSet<&str> = f.operations.iter().map(|o| o.operation.as_str()).collect();
    let mut failures = Vec::new();
    for c in &f.cases {
        assert!(
            documented.contains(c.operation.as_str()),
            "{}: undocumented operation {}",
            c.name,
            c.operation
        );
        match run_negative::<S>(c) {
            Ok(()) => failures.push(format!("{:?} ({}) was accepted", c.name, c.operation)),
            Err(e) if e == c.expected_error => {}
            Err(e) => failures.push(format!(
                "{:?} ({}): expected {:?}, got {:?}",
                c.name, c.operation, c.expected_error, e
            )),
        }
    }
    assert!(failures.is_empty(), "{name}:\n  {}", failures.join("\n  "));
    // Every required kind of negative case is present.
    for required in [
        "point not on the curve|not a Ristretto255 encoding",
        "point: identity",
        "scalar: not canonical",
        "scalar: zero",
        "wrong suite id",
        "bad magic",
        "unsupported version",
        "header: truncated",
        "header: trailing bytes",
        "part count over the limit",
        "chunk size not a power of two",
        "tampered sender signature",
        "tampered hop proof",
        "capsule lineage",
        "key commitment",
        "tampered body chunk",
        "truncated body",
        "wrong passphrase",
    ] {
        let any = required
            .split('|')
            .any(|r| f.cases.iter().any(|c| c.name.contains(r)));
        assert!(any, "{name}: no negative case for {required:?}");
    }
}

#[test]
fn negative_vectors_fail_as_expected() {
    check_negative::<P256>("negative-p256.json");
    check_negative::<Ristretto255>("negative-ristretto255.json");
}

// ---------------------------------------------------------------------------------------------
// status-<suite>.json: revocation lists and audit checkpoints (SPEC.md §5.6, §5.7)

fn check_status<S: Suite>(name: &str) {
    use soshiki_core::checkpoint::AuditCheckpoint;
    use soshiki_core::revocation::RevocationList;
    let f: StatusFile = load(name);
    assert_eq!(f.suite, S::ID.name());
    let org = Organization::<S>::from_bytes(&unhex(&f.organization.record)).expect("record");
    let other =
        Organization::<S>::from_bytes(&unhex(&f.other_organization.record)).expect("record");
    assert_eq!(org.fingerprint().to_hex(), f.organization.fingerprint);
    let signer = |s: &str| if s == "organization" { &org } else { &other };
    let mut lists = Vec::new();
    for l in &f.revocation_lists {
        // The layout of SPEC.md §5.6, field by field.
        let mut w = Vec::new();
        w.extend_from_slice(b"SKREV\x01");
        w.extend_from_slice(&S::ID.to_u16().to_be_bytes());
        w.extend_from_slice(&unhex(&signer(&l.signer).fingerprint().to_hex()));
        w.extend_from_slice(&l.serial.to_be_bytes());
        w.extend_from_slice(&l.issued.to_be_bytes());
        w.extend_from_slice(&l.next_update.to_be_bytes());
        w.extend_from_slice(&(l.revoked.len() as u32).to_be_bytes());
        for r in &l.revoked {
            w.extend_from_slice(&unhex(&r.certificate_fingerprint));
            w.extend_from_slice(&r.revoked_at.to_be_bytes());
        }
        assert_eq!(
            unhex(&l.signed_message),
            [&b"soshiki/v1/revocation-list-signature"[..], &w].concat()
        );
        w.extend_from_slice(&unhex(&l.signature));
        assert_eq!(hex::encode(&w), l.encoding);
        assert!(signer(&l.signer)
            .signing_key
            .verify(&unhex(&l.signed_message), &unhex(&l.signature)));
        let list = RevocationList::<S>::from_bytes(&w).expect("decodes");
        assert_eq!(list.to_bytes(), w);
        lists.push(list);
    }
    for c in &f.list_checks {
        let o = signer(&c.organization);
        match lists[c.list].verify(o, c.now, c.seen_serial) {
            Ok(v) => {
                assert_eq!(c.expected, "ok", "{}", c.name);
                for r in &lists[c.list].revoked {
                    assert_eq!(
                        c.revokes.contains(&r.certificate.to_hex()),
                        v.revocation(&r.certificate).is_some(),
                        "{}",
                        c.name
                    );
                }
                for fp in &c.revokes {
                    let fp = soshiki_core::cert::Fingerprint(unhex(fp).try_into().expect("32"));
                    assert!(v.revocation(&fp).is_some(), "{}", c.name);
                }
            }
            Err(e) => assert_eq!(e.to_string(), c.expected, "{}", c.name),
        }
    }
    for c in &f.checkpoints {
        let mut w = Vec::new();
        w.extend_from_slice(b"SKCHK\x01");
        w.extend_from_slice(&S::ID.to_u16().to_be_bytes());
        w.extend_from_slice(&unhex(&signer(&c.signer).fingerprint().to_hex()));
        w.extend_from_slice(&c.position.to_be_bytes());
        w.extend_from_slice(&unhex(&c.head));
        w.extend_from_slice(&c.time.to_be_bytes());
        assert_eq!(
            unhex(&c.signed_message),
            [&b"soshiki/v1/audit-checkpoint-signature"[..], &w].concat()
        );
        w.extend_from_slice(&unhex(&c.signature));
        assert_eq!(hex::encode(&w), c.encoding);
        let cp = AuditCheckpoint::<S>::from_bytes(&w).expect("decodes");
        assert_eq!(cp.verify(signer(&c.signer)), Ok(()));
        assert_eq!(cp.to_bytes(), w);
    }
    let mut failures = Vec::new();
    for c in &f.negative {
        let input = unhex(&c.input);
        let got = match c.operation.as_str() {
            "revocation_list" => RevocationList::<S>::from_bytes(&input)
                .map(drop)
                .map_err(|e| e.to_string()),
            "audit_checkpoint" => AuditCheckpoint::<S>::from_bytes(&input)
                .map(drop)
                .map_err(|e| e.to_string()),
            "audit_checkpoint_verify" => AuditCheckpoint::<S>::from_bytes(&input)
                .map_err(|e| format!("(decoding) {e}"))
                .and_then(|cp| cp.verify(&org).map_err(|e| e.to_string())),
            other => panic!("unknown operation {other}"),
        };
        match got {
            Ok(()) => failures.push(format!("{:?} was accepted", c.name)),
            Err(e) if e == c.expected_error => {}
            Err(e) => failures.push(format!(
                "{:?}: expected {:?}, got {:?}",
                c.name, c.expected_error, e
            )),
        }
    }
    assert!(failures.is_empty(), "{name}:\n  {}", failures.join("\n  "));
}

#[test]
fn status_vectors_verify() {
    check_status::<P256>("status-p256.json");
    check_status::<Ristretto255>("status-ristretto255.json");
}

// ---------------------------------------------------------------------------------------------
// partners-<suite>.json: partner lists (SPEC.md §5.8)

fn check_partners<S: Suite>(name: &str) {
    use soshiki_core::partners::PartnerList;
    let f: PartnersFile = load(name);
    assert_eq!(f.suite, S::ID.name());
    let org = Organization::<S>::from_bytes(&unhex(&f.organization.record)).expect("record");
    let other =
        Organization::<S>::from_bytes(&unhex(&f.other_organization.record)).expect("record");
    assert_eq!(org.fingerprint().to_hex(), f.organization.fingerprint);
    let signer = |s: &str| if s == "organization" { &org } else { &other };
    let mut lists = Vec::new();
    for l in &f.partner_lists {
        // The layout of SPEC.md §5.8, field by field.
        let mut w = Vec::new();
        w.extend_from_slice(b"SKPAR\x01");
        w.extend_from_slice(&S::ID.to_u16().to_be_bytes());
        w.extend_from_slice(&unhex(&signer(&l.signer).fingerprint().to_hex()));
        w.extend_from_slice(&l.serial.to_be_bytes());
        w.extend_from_slice(&l.issued.to_be_bytes());
        w.extend_from_slice(&(l.partners.len() as u32).to_be_bytes());
        for p in &l.partners {
            w.extend_from_slice(&unhex(&p.organization_fingerprint));
            w.extend_from_slice(&(p.name.len() as u16).to_be_bytes());
            w.extend_from_slice(p.name.as_bytes());
        }
        assert_eq!(
            unhex(&l.signed_message),
            [&b"soshiki/v1/partner-list-signature"[..], &w].concat()
        );
        w.extend_from_slice(&unhex(&l.signature));
        assert_eq!(hex::encode(&w), l.encoding);
        assert!(signer(&l.signer)
            .signing_key
            .verify(&unhex(&l.signed_message), &unhex(&l.signature)));
        let list = PartnerList::<S>::from_bytes(&w).expect("decodes");
        assert_eq!(list.to_bytes(), w);
        lists.push(list);
    }
    for c in &f.list_checks {
        match lists[c.list].verify(signer(&c.organization), c.seen_serial, c.now) {
            Ok(v) => {
                assert_eq!(c.expected, "ok", "{}", c.name);
                for p in &f.partner_lists[c.list].partners {
                    let fp = soshiki_core::cert::Fingerprint(
                        unhex(&p.organization_fingerprint).try_into().expect("32"),
                    );
                    assert!(v.contains(&fp), "{}", c.name);
                }
                assert!(!v.contains(&org.fingerprint()), "{}", c.name);
            }
            Err(e) => assert_eq!(e.to_string(), c.expected, "{}", c.name),
        }
    }
    let mut failures = Vec::new();
    for c in &f.negative {
        let input = unhex(&c.input);
        let got = match c.operation.as_str() {
            "partner_list" => PartnerList::<S>::from_bytes(&input)
                .map(drop)
                .map_err(|e| e.to_string()),
            "partner_list_verify" => PartnerList::<S>::from_bytes(&input)
                .map_err(|e| format!("(decoding) {e}"))
                .and_then(|l| {
                    l.verify(&org, 0, l.issued)
                        .map(drop)
                        .map_err(|e| e.to_string())
                }),
            other => panic!("unknown operation {other}"),
        };
        match got {
            Ok(()) => failures.push(format!("{:?} was accepted", c.name)),
            Err(e) if e == c.expected_error => {}
            Err(e) => failures.push(format!(
                "{:?}: expected {:?}, got {:?}",
                c.name, c.expected_error, e
            )),
        }
    }
    assert!(failures.is_empty(), "{name}:\n  {}", failures.join("\n  "));
}

#[test]
fn partner_vectors_verify() {
    check_partners::<P256>("partners-p256.json");
    check_partners::<Ristretto255>("partners-ristretto255.json");
}
