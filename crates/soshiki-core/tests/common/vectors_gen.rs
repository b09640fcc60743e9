//! Deterministic generator of the checked-in test vectors (`tests/vectors/`, SPEC.md §11).
//!
//! Included with `#[path]` by `examples/generate_vectors.rs`, which writes the files, and by
//! `tests/vectors.rs`, which regenerates them in memory and fails on any difference.
//! Every file draws from its own ChaCha20 generator seeded with SHA-256 of a fixed label, and
//! every time is a constant, so regenerating gives the same bytes on every machine, and changing
//! how one file is generated leaves the others untouched.

#![allow(dead_code)] // the example and the test each use a different part of this module

use std::error::Error;
use std::io::Cursor;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use soshiki_core::armor;
use soshiki_core::cert::{Certificate, CertificateRequest, OrganizationKey, Roles};
use soshiki_core::envelope::{
    self, EncryptOptions, EnvelopeFile, EnvelopeHeader, Forwarder, Label, Metadata, PartInfo,
    PartSource, Sender, SlotId, PREFIX_LEN,
};
use soshiki_core::kdf::derive_slot_keys;
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::keys::{SecretKey, SigningKey};
use soshiki_core::scheme::{hazmat, Capsule, HopAuth, HopContext, HopStatement};
use soshiki_core::stream;
use soshiki_core::suite::{Suite, SuiteId};
use soshiki_core::wire::{limits, Writer};
use soshiki_core::with_suite;

/// Errors while generating (any failure is a bug in the generator or the core).
pub type GenResult<T> = Result<T, Box<dyn Error>>;

/// The fixed "now" of every vector (2023-11-14T22:13:20Z).
pub const NOW: u64 = 1_700_000_000;
/// Certificates are valid from `NOW` for ten years.
pub const VALIDITY: u64 = 10 * 365 * 86_400;
/// Chunk size used by the stream and envelope vectors.
pub const CHUNK: u32 = 1024;
/// Passphrase of the key-file vectors.
pub const PASSPHRASE: &str = "correct horse";
/// The command that regenerates the files.
pub const REGENERATE: &str = "cargo run -p soshiki-core --example generate_vectors";

/// Every vector file: `(file name, pretty JSON ending in a newline)`.
pub fn generate_all() -> GenResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for id in [SuiteId::P256, SuiteId::Ristretto255] {
        let name = id.name();
        with_suite!(id, S => {
            out.push((format!("scheme-{name}.json"), to_json(&scheme::<S>()?)?));
            out.push((format!("proof-{name}.json"), to_json(&proof::<S>()?)?));
            out.push((format!("kdf-{name}.json"), to_json(&kdf::<S>()?)?));
            out.push((format!("envelope-{name}.json"), to_json(&envelope_vector::<S>()?)?));
            out.push((format!("keyfile-{name}.json"), to_json(&keyfile_vector::<S>()?)?));
            out.push((format!("negative-{name}.json"), to_json(&negative::<S>()?)?));
            out.push((format!("status-{name}.json"), to_json(&status::<S>()?)?));
            out.push((format!("partners-{name}.json"), to_json(&partners::<S>()?)?));
        });
    }
    out.push(("stream.json".into(), to_json(&stream_vector()?)?));
    out.push(("armor.json".into(), to_json(&armor_vector()?)?));
    Ok(out)
}

fn to_json<T: Serialize>(v: &T) -> GenResult<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

/// A generator seeded with SHA-256 of `label`.
pub fn rng_for(label: &str) -> ChaCha20Rng {
    ChaCha20Rng::from_seed(Sha256::digest(label.as_bytes()).into())
}

fn hx(b: impl AsRef<[u8]>) -> String {
    hex::encode(b)
}

fn pt<S: Suite>(p: &S::Point) -> String {
    hex::encode(S::point_to_bytes(p))
}

fn sc<S: Suite>(s: &S::Scalar) -> String {
    hex::encode(S::scalar_to_bytes(s))
}

fn random_bytes<const N: usize>(rng: &mut ChaCha20Rng) -> [u8; N] {
    let mut b = [0u8; N];
    rng.fill_bytes(&mut b);
    b
}

fn random_point<S: Suite>(rng: &mut ChaCha20Rng) -> S::Point {
    S::mul_base(&S::random_scalar(rng))
}

fn encodings(id: SuiteId) -> &'static str {
    match id {
        SuiteId::P256 => "scalars: 32-byte big-endian; points: 33-byte SEC1 compressed",
        SuiteId::Ristretto255 => "scalars: 32-byte little-endian canonical; points: 32-byte canonical Ristretto255 encoding",
    }
}

// ---------------------------------------------------------------------------------------------
// scheme-<suite>.json

/// `scheme-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct SchemeFile {
    pub suite: String,
    pub description: String,
    pub cases: Vec<SchemeCase>,
}

/// One case of the bare slide formulas.
#[derive(Debug, Serialize, Deserialize)]
pub struct SchemeCase {
    pub a: String,
    pub b: String,
    pub r1: String,
    pub r2: String,
    #[serde(rename = "A")]
    pub big_a: String,
    #[serde(rename = "B")]
    pub big_b: String,
    #[serde(rename = "M")]
    pub m: String,
    #[serde(rename = "C1")]
    pub c1: String,
    #[serde(rename = "C2")]
    pub c2: String,
    #[serde(rename = "X")]
    pub x: String,
    #[serde(rename = "C1_prime")]
    pub c1_prime: String,
    #[serde(rename = "C2_prime")]
    pub c2_prime: String,
}

fn scheme<S: Suite>() -> GenResult<SchemeFile> {
    let mut rng = rng_for(&format!("scheme-{}", S::ID.name()));
    let mut cases = Vec::new();
    for _ in 0..8 {
        let a = SecretKey::<S>::generate(&mut rng);
        let b = SecretKey::<S>::generate(&mut rng);
        let r1 = S::random_scalar(&mut rng);
        let r2 = S::random_scalar(&mut rng);
        let m = random_point::<S>(&mut rng);
        let c = hazmat::encrypt_point_with_r(&m, a.public_key(), &r1);
        let (x, c2_prime) = hazmat::split_with_r(&c.c2, &a, b.public_key(), &r2);
        let c1_prime = S::sub(&c.c1, &x);
        let back = hazmat::decrypt_point_with_key(
            &Capsule::<S> {
                c1: c1_prime.clone(),
                c2: c2_prime.clone(),
            },
            &b,
        );
        if back != m {
            return Err("re-encrypted capsule does not decrypt to M".into());
        }
        cases.push(SchemeCase {
            a: hx(&a.to_secret_bytes()[..]),
            b: hx(&b.to_secret_bytes()[..]),
            r1: sc::<S>(&r1),
            r2: sc::<S>(&r2),
            big_a: hx(a.public_key().to_bytes()),
            big_b: hx(b.public_key().to_bytes()),
            m: pt::<S>(&m),
            c1: pt::<S>(&c.c1),
            c2: pt::<S>(&c.c2),
            x: pt::<S>(&x),
            c1_prime: pt::<S>(&c1_prime),
            c2_prime: pt::<S>(&c2_prime),
        });
    }
    Ok(SchemeFile {
        suite: S::ID.name().into(),
        description: format!(
            "The bare formulas of the source documents (SPEC.md §4.1, §4.2). A = a·P, B = b·P; \
             encrypt M to A: C1 = M + r1·A, C2 = r1·P; re-encrypt A → B: X = a·C2 − r2·B, \
             C1_prime = C1 − X, C2_prime = r2·P; decrypt by B: M = C1_prime − b·C2_prime. \
             Lower-case hex; {}.",
            encodings(S::ID)
        ),
        cases,
    })
}

// ---------------------------------------------------------------------------------------------
// proof-<suite>.json

/// `proof-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct ProofFile {
    pub suite: String,
    pub description: String,
    pub cases: Vec<ProofCase>,
}

/// One hop proof with its statement, randomness and every intermediate value.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProofCase {
    pub envelope_id: String,
    pub slot: u32,
    pub hop_index: u16,
    pub forwarder_cert: String,
    pub target_cert: String,
    pub time: u64,
    #[serde(rename = "A")]
    pub big_a: String,
    #[serde(rename = "B")]
    pub big_b: String,
    #[serde(rename = "C2")]
    pub c2: String,
    pub a: String,
    pub r2: String,
    pub k1: String,
    pub k2: String,
    #[serde(rename = "X")]
    pub x: String,
    #[serde(rename = "C2_prime")]
    pub c2_prime: String,
    #[serde(rename = "T1")]
    pub t1: String,
    #[serde(rename = "T2")]
    pub t2: String,
    #[serde(rename = "T3")]
    pub t3: String,
    pub statement: String,
    pub challenge_input: String,
    pub e: String,
    pub s1: String,
    pub s2: String,
    pub proof: String,
}

/// The encoded hop statement (SPEC.md §4.3), written from the spec rather than by the core.
pub fn encode_statement<S: Suite>(
    ctx: &HopContext,
    a: &S::Point,
    b: &S::Point,
    c2: &S::Point,
    c2_new: &S::Point,
    x: &S::Point,
) -> Vec<u8> {
    let mut w = Writer::new();
    w.suite(S::ID)
        .raw(&ctx.envelope_id)
        .u32(ctx.slot.to_wire())
        .u16(ctx.hop_index)
        .raw(&ctx.forwarder_cert.0)
        .raw(&ctx.target_cert.0)
        .u64(ctx.time)
        .point::<S>(a)
        .point::<S>(b)
        .point::<S>(c2)
        .point::<S>(c2_new)
        .point::<S>(x);
    w.into_bytes()
}

/// The input of a tagged hash (SPEC.md §3.1): `u16(len(tag)) ‖ tag ‖ (u32(len(xᵢ)) ‖ xᵢ)…`,
/// `tag = "soshiki/v1/" ‖ label`.
pub fn tagged_input(label: &str, items: &[&[u8]]) -> Vec<u8> {
    let tag = format!("soshiki/v1/{label}");
    let mut v = (tag.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(tag.as_bytes());
    for item in items {
        v.extend_from_slice(&(item.len() as u32).to_be_bytes());
        v.extend_from_slice(item);
    }
    v
}

fn proof<S: Suite>() -> GenResult<ProofFile> {
    let mut rng = rng_for(&format!("proof-{}", S::ID.name()));
    let mut cases = Vec::new();
    for (slot, hop_index) in [
        (SlotId::METADATA, 1u16),
        (part_slot(0), 1),
        (part_slot(3), 2),
        (part_slot(limits::MAX_PARTS - 1), 64),
    ] {
        let ctx = HopContext {
            envelope_id: random_bytes(&mut rng),
            slot,
            hop_index,
            forwarder_cert: soshiki_core::cert::Fingerprint(random_bytes(&mut rng)),
            target_cert: soshiki_core::cert::Fingerprint(random_bytes(&mut rng)),
            time: NOW + u64::from(hop_index) * 60,
        };
        let a = SecretKey::<S>::generate(&mut rng);
        let b = SecretKey::<S>::generate(&mut rng);
        let c2 = random_point::<S>(&mut rng);
        let (r2, k1, k2) = (
            S::random_scalar(&mut rng),
            S::random_scalar(&mut rng),
            S::random_scalar(&mut rng),
        );
        let st = HopStatement {
            context: &ctx,
            from: a.public_key(),
            to: b.public_key(),
            c2: &c2,
        };
        let share = hazmat::share_with_proof(&st, &a, &r2, &k1, &k2);
        let proof_bytes = match &share.auth {
            HopAuth::Proof(p) => {
                let mut w = Writer::new();
                p.write(&mut w);
                w.into_bytes()
            }
            HopAuth::Signature(_) => return Err("a proof share carries a signature".into()),
        };
        let t1 = S::mul_base(&k1);
        let t2 = S::mul_base(&k2);
        let t3 = S::sub(&S::mul(&c2, &k1), &S::mul(b.public_key().point(), &k2));
        let statement = encode_statement::<S>(
            &ctx,
            a.public_key().point(),
            b.public_key().point(),
            &c2,
            &share.c2_new,
            &share.x,
        );
        let challenge_input = tagged_input(
            "hop-proof",
            &[
                &statement,
                &S::point_to_bytes(&t1),
                &S::point_to_bytes(&t2),
                &S::point_to_bytes(&t3),
            ],
        );
        cases.push(ProofCase {
            envelope_id: hx(ctx.envelope_id),
            slot: slot.to_wire(),
            hop_index,
            forwarder_cert: ctx.forwarder_cert.to_hex(),
            target_cert: ctx.target_cert.to_hex(),
            time: ctx.time,
            big_a: hx(a.public_key().to_bytes()),
            big_b: hx(b.public_key().to_bytes()),
            c2: pt::<S>(&c2),
            a: hx(&a.to_secret_bytes()[..]),
            r2: sc::<S>(&r2),
            k1: sc::<S>(&k1),
            k2: sc::<S>(&k2),
            x: pt::<S>(&share.x),
            c2_prime: pt::<S>(&share.c2_new),
            t1: pt::<S>(&t1),
            t2: pt::<S>(&t2),
            t3: pt::<S>(&t3),
            statement: hx(&statement),
            challenge_input: hx(&challenge_input),
            e: hx(&proof_bytes[..32]),
            s1: hx(&proof_bytes[32..64]),
            s2: hx(&proof_bytes[64..96]),
            proof: hx(&proof_bytes),
        });
    }
    Ok(ProofFile {
        suite: S::ID.name().into(),
        description: format!(
            "Hop proofs (SPEC.md §4.3). statement = suite ‖ envelope_id ‖ u32 slot ‖ u16 hop_index ‖ \
             forwarder_cert ‖ target_cert ‖ u64 time ‖ A ‖ B ‖ C2 ‖ C2_prime ‖ X. Commitments \
             T1 = k1·P, T2 = k2·P, T3 = k1·C2 − k2·B; challenge_input is the SHA-512 input of \
             H(\"hop-proof\"; statement, T1, T2, T3) and e is its output reduced to a scalar; \
             s1 = k1 + e·a, s2 = k2 + e·r2; proof = e ‖ s1 ‖ s2. A verifier recomputes \
             T1 = s1·P − e·A, T2 = s2·P − e·C2_prime, T3 = s1·C2 − s2·B − e·X and the challenge. {}.",
            encodings(S::ID)
        ),
        cases,
    })
}

// ---------------------------------------------------------------------------------------------
// kdf-<suite>.json

/// `kdf-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct KdfFile {
    pub suite: String,
    pub description: String,
    pub cases: Vec<KdfCase>,
}

/// One slot-key derivation.
#[derive(Debug, Serialize, Deserialize)]
pub struct KdfCase {
    #[serde(rename = "M")]
    pub m: String,
    pub envelope_id: String,
    pub slot: u32,
    pub salt: String,
    pub prk: String,
    pub key: String,
    pub commitment: String,
}

/// The slot of part `i` (a valid part index).
pub fn part_slot(i: u32) -> SlotId {
    SlotId::part(i).expect("a part index")
}

/// The HKDF salt of a slot key (SPEC.md §6.1).
pub fn kdf_salt(id: SuiteId, envelope_id: &[u8]) -> Vec<u8> {
    let mut salt = b"soshiki/v1/slot".to_vec();
    salt.extend_from_slice(&id.to_u16().to_be_bytes());
    salt.extend_from_slice(envelope_id);
    salt
}

fn kdf<S: Suite>() -> GenResult<KdfFile> {
    let mut rng = rng_for(&format!("kdf-{}", S::ID.name()));
    let mut cases = Vec::new();
    for slot in [
        SlotId::METADATA,
        part_slot(0),
        part_slot(1),
        part_slot(2),
        part_slot(0),
        part_slot(limits::MAX_PARTS - 1),
    ] {
        let m = random_point::<S>(&mut rng);
        let envelope_id: [u8; 16] = random_bytes(&mut rng);
        let keys = derive_slot_keys::<S>(&m, &envelope_id, slot);
        let salt = kdf_salt(S::ID, &envelope_id);
        let (prk, _) = hkdf::Hkdf::<Sha256>::extract(Some(&salt), &S::point_to_bytes(&m));
        cases.push(KdfCase {
            m: pt::<S>(&m),
            envelope_id: hx(envelope_id),
            slot: slot.to_wire(),
            salt: hx(&salt),
            prk: hx(prk),
            key: hx(&keys.key[..]),
            commitment: hx(keys.commitment),
        });
    }
    Ok(KdfFile {
        suite: S::ID.name().into(),
        description: "Slot keys (SPEC.md §6.1). salt = \"soshiki/v1/slot\" ‖ u16 suite ‖ envelope_id; \
                      prk = HKDF-SHA256-Extract(salt, encode(M)); key = HKDF-Expand(prk, \
                      \"soshiki/v1/slot-key\" ‖ u32 slot, 32); commitment = HKDF-Expand(prk, \
                      \"soshiki/v1/commitment\" ‖ u32 slot, 32). Slot 4294967295 is the metadata slot."
            .into(),
        cases,
    })
}

// ---------------------------------------------------------------------------------------------
// stream.json

/// `stream.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct StreamFile {
    pub description: String,
    pub key: String,
    pub chunk_size: u32,
    pub cases: Vec<StreamCase>,
}

/// One body encryption.
#[derive(Debug, Serialize, Deserialize)]
pub struct StreamCase {
    pub plaintext_len: u64,
    pub plaintext: String,
    pub ciphertext: String,
    pub ciphertext_sha256: String,
}

fn stream_vector() -> GenResult<StreamFile> {
    let mut rng = rng_for("stream");
    let key = zeroize::Zeroizing::new(random_bytes::<32>(&mut rng));
    let mut cases = Vec::new();
    for len in [0usize, 1, 1024, 2500] {
        let mut plaintext = vec![0u8; len];
        rng.fill_bytes(&mut plaintext);
        let mut ciphertext = Vec::new();
        let digest = stream::encrypt(
            &key,
            CHUNK,
            len as u64,
            &mut &plaintext[..],
            &mut ciphertext,
            &mut |_| {},
        )
        .map_err(|e| format!("stream encryption failed: {e:?}"))?;
        cases.push(StreamCase {
            plaintext_len: len as u64,
            plaintext: hx(&plaintext),
            ciphertext: hx(&ciphertext),
            ciphertext_sha256: hx(digest),
        });
    }
    Ok(StreamFile {
        description: "STREAM body encryption (SPEC.md §6.2): AES-256-GCM, chunks of chunk_size bytes \
                      (at least one chunk, the last one shorter or empty), chunk i sealed with nonce \
                      0x00×7 ‖ u32 i ‖ (0x01 if last else 0x00) and empty associated data, written as \
                      ciphertext ‖ 16-byte tag; ciphertext_sha256 is SHA-256 of the whole body."
            .into(),
        key: hx(&key[..]),
        chunk_size: CHUNK,
        cases,
    })
}

// ---------------------------------------------------------------------------------------------
// The envelope fixture (shared by envelope-<suite>.json and negative-<suite>.json)

/// A member's keys and certificate.
pub struct Member<S: Suite> {
    pub name: String,
    pub enc: SecretKey<S>,
    pub sig: SigningKey<S>,
    pub cert: Certificate<S>,
}

fn member<S: Suite>(
    org: &OrganizationKey<S>,
    name: &str,
    roles: Roles,
    rng: &mut ChaCha20Rng,
) -> GenResult<Member<S>> {
    let enc = SecretKey::<S>::generate(rng);
    let sig = SigningKey::<S>::generate(rng);
    let req = CertificateRequest {
        member_name: name.into(),
        roles,
        encryption_key: enc.public_key().clone(),
        signing_key: sig.verifying_key(),
        not_before: NOW,
        not_after: NOW + VALIDITY,
    };
    let cert = org.certify(&req, rng)?;
    Ok(Member {
        name: name.into(),
        enc,
        sig,
        cert,
    })
}

/// Everything the envelope and negative vectors are built from.
pub struct Fixture<S: Suite> {
    pub sender_org: OrganizationKey<S>,
    pub city: OrganizationKey<S>,
    pub sender: Member<S>,
    pub rep: Member<S>,
    pub chief: Member<S>,
    pub staff: Member<S>,
    pub metadata: Metadata,
    pub plaintexts: Vec<Vec<u8>>,
    /// The file `encrypt` wrote: prefix ‖ bodies ‖ h0 ‖ footer.
    pub original: Vec<u8>,
    pub h0: EnvelopeHeader<S>,
    /// After the representative's model-1 forward to the chief.
    pub h1: EnvelopeHeader<S>,
    /// The model-2 forwarding request for h1 and the chief's response.
    pub request: Vec<u8>,
    pub response: Vec<u8>,
    /// After the chief's model-2 forward to the staff member.
    pub h2: EnvelopeHeader<S>,
    /// `original ‖ trailer(h1) ‖ trailer(h2)`: two in-place forwards.
    pub file: Vec<u8>,
    /// `prefix ‖ bodies ‖ h2 ‖ footer`, as `write_forwarded` copies it.
    pub compact: Vec<u8>,
    /// Continues the fixture's generator (for re-signing in negative cases).
    pub rng: ChaCha20Rng,
}

const TITLE: &str = "敬老会 招待者名簿";
const CATEGORY: &str = "invitation-list";

fn part_plaintexts() -> Vec<Vec<u8>> {
    let mut omachi = String::from("番号,氏名,年齢,地区\n");
    let mut i = 1;
    while omachi.len() < 1100 {
        omachi.push_str(&format!("{i:04},住民{i:04},{},大町\n", 75 + i % 20));
        i += 1;
    }
    let yasaka = "番号,氏名,年齢,地区\n0001,住民A,81,八坂\n0002,住民B,77,八坂\n".to_string();
    vec![omachi.into_bytes(), yasaka.into_bytes()]
}

fn part_infos() -> GenResult<Vec<PartInfo>> {
    let label = |s: &str| Label::parse(s).ok_or_else(|| format!("bad label {s}"));
    Ok(vec![
        PartInfo {
            name: "omachi.csv".into(),
            labels: vec![label("district=Omachi")?, label("kind=list")?],
        },
        PartInfo {
            name: "yasaka.csv".into(),
            labels: vec![label("district=Yasaka")?],
        },
    ])
}

/// Append `header ‖ u64(len) ‖ "SKEND\0\0\x01"` (SPEC.md §8), written from the spec.
pub fn append_trailer(out: &mut Vec<u8>, header: &[u8]) {
    out.extend_from_slice(header);
    out.extend_from_slice(&(header.len() as u64).to_be_bytes());
    out.extend_from_slice(b"SKEND\x00\x00\x01");
}

/// The envelope of the vectors: encrypted by the prefecture's sender to Omachi city's
/// representative, forwarded (model 1) to the section chief, then (model 2) to the staff member.
pub fn fixture<S: Suite>() -> GenResult<Fixture<S>> {
    let mut rng = rng_for(&format!("envelope-fixture-{}", S::ID.name()));
    let sender_org = OrganizationKey::<S>::generate("長野県 福祉課", NOW, &mut rng)?;
    let city = OrganizationKey::<S>::generate("大町市 市民課", NOW, &mut rng)?;
    let sender = member(&sender_org, "送信担当", Roles::READER, &mut rng)?;
    let rep = member(&city, "受信代表", Roles::REPRESENTATIVE, &mut rng)?;
    let chief = member(
        &city,
        "課長",
        Roles::FORWARDER.union(Roles::READER),
        &mut rng,
    )?;
    let staff = member(&city, "大町地区担当", Roles::READER, &mut rng)?;

    let plaintexts = part_plaintexts();
    let infos = part_infos()?;
    let metadata = Metadata {
        title: TITLE.into(),
        category: CATEGORY.into(),
        parts: infos.clone(),
    };
    let parts: Vec<PartSource<'_>> = infos
        .into_iter()
        .zip(&plaintexts)
        .map(|(info, body)| PartSource {
            info,
            len: body.len() as u64,
            reader: Box::new(&body[..]),
        })
        .collect();
    let opts = EncryptOptions {
        title: TITLE.into(),
        category: CATEGORY.into(),
        chunk_size: CHUNK,
        created: NOW,
    };
    let to_rep = rep.cert.verify(city.organization(), NOW)?;
    let snd = Sender {
        org: sender_org.organization(),
        cert: &sender.cert,
        signing_key: &sender.sig,
    };
    let mut original = Vec::new();
    let h0 = envelope::encrypt(
        &snd,
        &to_rep,
        &opts,
        parts,
        &mut original,
        &mut rng,
        &mut |_| {},
    )?;

    // Hop 1, model 1: the representative re-encrypts every slot to the chief.
    let v0 = h0.clone().verify()?;
    let to_chief = chief.cert.verify(city.organization(), NOW + 60)?;
    let fwd_rep = Forwarder {
        holder: &rep.enc,
        signer: &rep.sig,
        cert: &rep.cert,
    };
    let h1 = v0.forward(&fwd_rep, &to_chief, None, NOW + 60, &mut rng)?;

    // Hop 2, model 2: the server sends the chief C2 only; the chief returns shares; the server
    // (keyless) combines them.
    let req = h1.forwarding_request(None)?;
    let request = req.to_bytes();
    let verified_req = req.clone().verify()?;
    let to_staff = staff.cert.verify(city.organization(), NOW + 120)?;
    let fwd_chief = Forwarder {
        holder: &chief.enc,
        signer: &chief.sig,
        cert: &chief.cert,
    };
    let resp = verified_req.make_hops(&fwd_chief, &to_staff, None, NOW + 120, &mut rng)?;
    let response = resp.to_bytes();
    let h2 = h1.apply_forward(&resp)?;

    let mut file = original.clone();
    append_trailer(&mut file, &h1.to_bytes());
    append_trailer(&mut file, &h2.to_bytes());
    let opened = EnvelopeFile::<S>::open(&mut Cursor::new(&file))?;
    if opened.header != h2 {
        return Err("the last trailer does not win".into());
    }
    let mut compact = Vec::new();
    envelope::write_forwarded(
        &opened,
        &mut Cursor::new(&file),
        &h2,
        &mut compact,
        &mut |_| {},
    )?;
    Ok(Fixture {
        sender_org,
        city,
        sender,
        rep,
        chief,
        staff,
        metadata,
        plaintexts,
        original,
        h0,
        h1,
        request,
        response,
        h2,
        file,
        compact,
        rng,
    })
}

// ---------------------------------------------------------------------------------------------
// envelope-<suite>.json

/// `envelope-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct EnvelopeVector {
    pub suite: String,
    pub description: String,
    pub created: u64,
    pub chunk_size: u32,
    pub sender_organization: OrgInfo,
    pub recipient_organization: OrgInfo,
    pub members: Vec<MemberInfo>,
    pub metadata: MetadataInfo,
    pub metadata_encoding: String,
    pub plaintexts: Vec<String>,
    pub original_header: String,
    pub original_file: String,
    pub forwards: Vec<ForwardStep>,
    pub file: String,
    pub compact_file: String,
    pub reader: String,
    pub reader_encryption_secret: String,
    pub reader_slots: Vec<SlotSecret>,
}

/// An organization record.
#[derive(Debug, Serialize, Deserialize)]
pub struct OrgInfo {
    pub name: String,
    pub record: String,
    pub fingerprint: String,
}

/// A member: certificate and public keys; the encryption secret for members of the
/// receiving organization.
#[derive(Debug, Serialize, Deserialize)]
pub struct MemberInfo {
    pub name: String,
    pub roles: Vec<String>,
    pub certificate: String,
    pub certificate_fingerprint: String,
    pub encryption_public: String,
    pub signing_public: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_secret: Option<String>,
}

/// Decoded routing metadata.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MetadataInfo {
    pub title: String,
    pub category: String,
    pub parts: Vec<PartMeta>,
}

/// One part's name and labels.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartMeta {
    pub name: String,
    pub labels: Vec<(String, String)>,
}

impl MetadataInfo {
    /// From the core's type.
    pub fn from_metadata(m: &Metadata) -> Self {
        MetadataInfo {
            title: m.title.clone(),
            category: m.category.clone(),
            parts: m
                .parts
                .iter()
                .map(|p| PartMeta {
                    name: p.name.clone(),
                    labels: p
                        .labels
                        .iter()
                        .map(|l| (l.key.clone(), l.value.clone()))
                        .collect(),
                })
                .collect(),
        }
    }
}

/// One forward.
#[derive(Debug, Serialize, Deserialize)]
pub struct ForwardStep {
    pub model: String,
    pub from: String,
    pub to: String,
    pub time: u64,
    pub header: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// What the final reader recovers for one slot.
#[derive(Debug, Serialize, Deserialize)]
pub struct SlotSecret {
    pub slot: u32,
    #[serde(rename = "M")]
    pub m: String,
    pub key: String,
    pub commitment: String,
}

fn org_info<S: Suite>(o: &OrganizationKey<S>) -> OrgInfo {
    let rec = o.organization();
    OrgInfo {
        name: rec.name.clone(),
        record: hx(rec.to_bytes()),
        fingerprint: rec.fingerprint().to_hex(),
    }
}

fn member_info<S: Suite>(m: &Member<S>, with_secret: bool) -> MemberInfo {
    MemberInfo {
        name: m.name.clone(),
        roles: m.cert.roles.names().into_iter().map(String::from).collect(),
        certificate: hx(m.cert.to_bytes()),
        certificate_fingerprint: m.cert.fingerprint().to_hex(),
        encryption_public: hx(m.enc.public_key().to_bytes()),
        signing_public: hx(m.sig.verifying_key().to_bytes()),
        encryption_secret: with_secret.then(|| hx(&m.enc.to_secret_bytes()[..])),
    }
}

fn envelope_vector<S: Suite>() -> GenResult<EnvelopeVector> {
    let f = fixture::<S>()?;
    let id = f.h2.core.envelope_id;
    let mut reader_slots = Vec::new();
    for slot in &f.h2.slots {
        let m = hazmat::decrypt_point_with_key(&slot.capsule, &f.staff.enc);
        let keys = derive_slot_keys::<S>(&m, &id, slot.slot);
        let origin = f.h2.core.origin(slot.slot).ok_or("slot without origin")?;
        if keys.commitment != origin.commitment {
            return Err("the reader's slot key does not match the commitment".into());
        }
        reader_slots.push(SlotSecret {
            slot: slot.slot.to_wire(),
            m: pt::<S>(&m),
            key: hx(&keys.key[..]),
            commitment: hx(keys.commitment),
        });
    }
    Ok(EnvelopeVector {
        suite: S::ID.name().into(),
        description: "A two-part envelope (SPEC.md §7, §8): encrypted by 送信担当 of 長野県 福祉課 to \
                      受信代表 of 大町市 市民課 (original_file), forwarded whole (model 1) to 課長, then \
                      split (model 2: forwarding request without any part's C1, response with proofs, \
                      combined by a keyless server) to 大町地区担当. file is original_file with both \
                      new trailers appended (in-place forwards; the last footer wins); compact_file is \
                      prefix ‖ bodies ‖ last header ‖ footer. reader_encryption_secret opens every slot \
                      of the last header; reader_slots lists the recovered M and derived keys."
            .into(),
        created: NOW,
        chunk_size: CHUNK,
        sender_organization: org_info(&f.sender_org),
        recipient_organization: org_info(&f.city),
        members: vec![
            member_info(&f.sender, false),
            member_info(&f.rep, true),
            member_info(&f.chief, true),
            member_info(&f.staff, true),
        ],
        metadata: MetadataInfo::from_metadata(&f.metadata),
        metadata_encoding: hx(f.metadata.to_bytes()),
        plaintexts: f.plaintexts.iter().map(hx).collect(),
        original_header: hx(f.h0.to_bytes()),
        original_file: hx(&f.original),
        forwards: vec![
            ForwardStep {
                model: "whole".into(),
                from: f.rep.name.clone(),
                to: f.chief.name.clone(),
                time: NOW + 60,
                header: hx(f.h1.to_bytes()),
                request: None,
                response: None,
            },
            ForwardStep {
                model: "split".into(),
                from: f.chief.name.clone(),
                to: f.staff.name.clone(),
                time: NOW + 120,
                header: hx(f.h2.to_bytes()),
                request: Some(hx(&f.request)),
                response: Some(hx(&f.response)),
            },
        ],
        file: hx(&f.file),
        compact_file: hx(&f.compact),
        reader: f.staff.name.clone(),
        reader_encryption_secret: hx(&f.staff.enc.to_secret_bytes()[..]),
        reader_slots,
    })
}

// ---------------------------------------------------------------------------------------------
// keyfile-<suite>.json

/// `keyfile-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct KeyfileVector {
    pub suite: String,
    pub description: String,
    pub passphrase: String,
    pub kdf: KdfInfo,
    pub member_key_file: String,
    pub member: MemberKeyInfo,
    pub organization_key_file: String,
    pub organization: OrgKeyInfo,
}

/// Argon2id parameters.
#[derive(Debug, Serialize, Deserialize)]
pub struct KdfInfo {
    pub m_kib: u32,
    pub t: u32,
    pub p: u8,
}

/// What a member key file decodes to.
#[derive(Debug, Serialize, Deserialize)]
pub struct MemberKeyInfo {
    pub member_name: String,
    pub roles: Vec<String>,
    pub encryption_secret: String,
    pub signing_secret: String,
    pub encryption_public: String,
    pub signing_public: String,
    pub organization: String,
    pub organization_fingerprint: String,
    pub certificate: String,
    pub certificate_fingerprint: String,
    pub identity: String,
}

/// What an organization key file decodes to.
#[derive(Debug, Serialize, Deserialize)]
pub struct OrgKeyInfo {
    pub name: String,
    pub created: u64,
    pub signing_secret: String,
    pub signing_public: String,
    pub fingerprint: String,
}

/// The key-file fixture: an organization key, a member key and their files.
pub struct KeyfileFixture<S: Suite> {
    pub org: OrganizationKey<S>,
    pub member: MemberKey<S>,
    pub member_file: Vec<u8>,
    pub org_file: Vec<u8>,
}

pub fn keyfile_fixture<S: Suite>() -> GenResult<KeyfileFixture<S>> {
    let mut rng = rng_for(&format!("keyfile-{}", S::ID.name()));
    let org = OrganizationKey::<S>::generate("箕輪町 介護福祉課", NOW, &mut rng)?;
    let m = member(
        &org,
        "ケアマネジャー 山田",
        Roles::FORWARDER.union(Roles::READER),
        &mut rng,
    )?;
    let member = MemberKey {
        encryption: m.enc,
        signing: m.sig,
        organization: org.organization().clone(),
        certificate: m.cert,
    };
    let member_file = member.to_key_file(PASSPHRASE.as_bytes(), KdfParams::MINIMUM, &mut rng)?;
    let org_file = org.to_key_file(PASSPHRASE.as_bytes(), KdfParams::MINIMUM, &mut rng)?;
    Ok(KeyfileFixture {
        org,
        member,
        member_file,
        org_file,
    })
}

fn keyfile_vector<S: Suite>() -> GenResult<KeyfileVector> {
    let f = keyfile_fixture::<S>()?;
    let m = &f.member;
    let org = f.org.organization();
    Ok(KeyfileVector {
        suite: S::ID.name().into(),
        description:
            "Passphrase-protected key files (SPEC.md §9.1) with KdfParams::MINIMUM (Argon2id, \
                      8192 KiB, 1 pass, 1 lane) and the passphrase below (UTF-8), and the public \
                      identity file (§9.2) of the member."
                .into(),
        passphrase: PASSPHRASE.into(),
        kdf: KdfInfo {
            m_kib: KdfParams::MINIMUM.m_kib,
            t: KdfParams::MINIMUM.t,
            p: KdfParams::MINIMUM.p,
        },
        member_key_file: hx(&f.member_file),
        member: MemberKeyInfo {
            member_name: m.certificate.member_name.clone(),
            roles: m
                .certificate
                .roles
                .names()
                .into_iter()
                .map(String::from)
                .collect(),
            encryption_secret: hx(&m.encryption.to_secret_bytes()[..]),
            signing_secret: hx(&m.signing.to_secret_bytes()[..]),
            encryption_public: hx(m.encryption.public_key().to_bytes()),
            signing_public: hx(m.signing.verifying_key().to_bytes()),
            organization: hx(m.organization.to_bytes()),
            organization_fingerprint: m.organization.fingerprint().to_hex(),
            certificate: hx(m.certificate.to_bytes()),
            certificate_fingerprint: m.certificate.fingerprint().to_hex(),
            identity: hx(m.identity().to_bytes()),
        },
        organization_key_file: hx(&f.org_file),
        organization: OrgKeyInfo {
            name: org.name.clone(),
            created: org.created,
            signing_secret: hx(&f.org.signing_key().to_secret_bytes()[..]),
            signing_public: hx(org.signing_key.to_bytes()),
            fingerprint: org.fingerprint().to_hex(),
        },
    })
}

// ---------------------------------------------------------------------------------------------
// armor.json

/// `armor.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct ArmorFile {
    pub description: String,
    pub encode: Vec<ArmorCase>,
    pub decode: Vec<ArmorDecodeCase>,
    pub negative: Vec<ArmorNegative>,
}

/// `encode(kind, data) == armored` and `decode(armored) == (kind, data)`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ArmorCase {
    pub kind: String,
    pub data: String,
    pub armored: String,
}

/// Other accepted spellings.
#[derive(Debug, Serialize, Deserialize)]
pub struct ArmorDecodeCase {
    pub name: String,
    pub input: String,
    pub kind: String,
    pub data: String,
}

/// Rejected inputs (hex, since some are not UTF-8).
#[derive(Debug, Serialize, Deserialize)]
pub struct ArmorNegative {
    pub name: String,
    pub input: String,
    pub expected_error: String,
}

fn armor_vector() -> GenResult<ArmorFile> {
    let mut rng = rng_for("armor");
    let mut encode = Vec::new();
    for (kind, len) in [
        ("ENVELOPE", 0usize),
        ("KEY", 1),
        ("IDENTITY", 48),
        ("ORGANIZATION", 100),
    ] {
        let mut data = vec![0u8; len];
        rng.fill_bytes(&mut data);
        encode.push(ArmorCase {
            kind: kind.into(),
            data: hx(&data),
            armored: armor::encode(kind, &data),
        });
    }
    let base = &encode[3];
    let decode = vec![
        ArmorDecodeCase {
            name: "CRLF line endings".into(),
            input: base.armored.replace('\n', "\r\n"),
            kind: base.kind.clone(),
            data: base.data.clone(),
        },
        ArmorDecodeCase {
            name: "whitespace before BEGIN and after END".into(),
            input: format!("\n \t\n{}\n\n", base.armored),
            kind: base.kind.clone(),
            data: base.data.clone(),
        },
    ];
    let lines: Vec<&str> = base.armored.lines().collect();
    let join = |ls: &[&str]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    let long_line = format!("{}A", lines[1]);
    let bad_char = format!("AB*D{}", &lines[1][4..]);
    let negative = vec![
        ArmorNegative {
            name: "empty input".into(),
            input: hx(""),
            expected_error: "invalid ASCII armor: empty".into(),
        },
        ArmorNegative {
            name: "no BEGIN line".into(),
            input: hx("hello\n"),
            expected_error: "invalid ASCII armor: missing BEGIN line".into(),
        },
        ArmorNegative {
            name: "no END line".into(),
            input: hx(join(&lines[..lines.len() - 1])),
            expected_error: "invalid ASCII armor: missing END line".into(),
        },
        ArmorNegative {
            name: "END line names another kind".into(),
            input: hx(base
                .armored
                .replace("END SOSHIKI ORGANIZATION", "END SOSHIKI ENVELOPE")),
            expected_error: "invalid ASCII armor: bad line length".into(),
        },
        ArmorNegative {
            name: "line longer than 64 characters".into(),
            input: hx(join(&[lines[0], &long_line, lines[2], lines[3], lines[4]])),
            expected_error: "invalid ASCII armor: bad line length".into(),
        },
        ArmorNegative {
            name: "short line before the last".into(),
            input: hx(join(&[lines[0], lines[3], lines[1], lines[2], lines[4]])),
            expected_error: "invalid ASCII armor: bad line length".into(),
        },
        ArmorNegative {
            name: "empty line inside".into(),
            input: hx(join(&[
                lines[0], lines[1], "", lines[2], lines[3], lines[4],
            ])),
            expected_error: "invalid ASCII armor: bad line length".into(),
        },
        ArmorNegative {
            name: "character outside base64".into(),
            input: hx(join(&[lines[0], &bad_char, lines[2], lines[3], lines[4]])),
            expected_error: "invalid ASCII armor: invalid base64".into(),
        },
        ArmorNegative {
            name: "not UTF-8".into(),
            input: hx([0xffu8, 0xfe, 0x00]),
            expected_error: "invalid ASCII armor: not ASCII".into(),
        },
    ];
    Ok(ArmorFile {
        description: "ASCII armor (SPEC.md §10): \"-----BEGIN SOSHIKI <KIND>-----\", standard padded \
                      base64 in lines of exactly 64 characters (the last 1 to 64), \"-----END SOSHIKI \
                      <KIND>-----\", LF line endings on output; CRLF and surrounding whitespace \
                      accepted on input. negative inputs are hex."
            .into(),
        encode,
        decode,
        negative,
    })
}

// ---------------------------------------------------------------------------------------------
// negative-<suite>.json

/// `negative-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct NegativeFile {
    pub suite: String,
    pub description: String,
    pub operations: Vec<OperationDoc>,
    pub cases: Vec<NegativeCase>,
}

/// What an `operation` name means.
#[derive(Debug, Serialize, Deserialize)]
pub struct OperationDoc {
    pub operation: String,
    pub description: String,
}

/// One input that must be rejected with exactly `expected_error`.
#[derive(Debug, Serialize, Deserialize)]
pub struct NegativeCase {
    pub name: String,
    pub operation: String,
    pub input: String,
    pub expected_error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<u32>,
}

const OPERATIONS: &[(&str, &str)] = &[
    ("point", "decode one group element (Suite::point_from_bytes)"),
    ("scalar", "decode one scalar (Suite::scalar_from_bytes)"),
    ("organization", "decode an organization record and check its self-signature (Organization::from_bytes)"),
    ("certificate", "decode a certificate (Certificate::from_bytes)"),
    ("identity", "decode an identity file (MemberIdentity::from_bytes)"),
    ("metadata", "decode routing metadata plaintext (Metadata::from_bytes)"),
    ("envelope_header", "decode an envelope header (EnvelopeHeader::from_bytes)"),
    ("envelope_header_verify", "decode an envelope header, then verify it (EnvelopeHeader::verify)"),
    ("envelope_file_open", "open an envelope file: prefix, footer, header (EnvelopeFile::open)"),
    (
        "envelope_decrypt_part",
        "open the file, verify its header, then decrypt part `part` with the encryption secret `key` \
         (envelope::decrypt_part)",
    ),
    ("key_file_member", "unlock a member key file with `passphrase` (MemberKey::from_key_file)"),
];

fn neg(
    name: &str,
    operation: &str,
    input: impl AsRef<[u8]>,
    expected_error: impl Into<String>,
) -> NegativeCase {
    NegativeCase {
        name: name.into(),
        operation: operation.into(),
        input: hx(input),
        expected_error: expected_error.into(),
        passphrase: None,
        key: None,
        part: None,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> GenResult<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .ok_or_else(|| "sub-encoding not found".into())
}

fn other_suite(id: SuiteId) -> SuiteId {
    match id {
        SuiteId::P256 => SuiteId::Ristretto255,
        SuiteId::Ristretto255 => SuiteId::P256,
    }
}

/// Re-sign a header's core with the sender's key: `"soshiki/v1/envelope-signature" ‖` the
/// header encoding up to the sender signature (SPEC.md §7).
fn resign<S: Suite>(
    h: &mut EnvelopeHeader<S>,
    sender: &SigningKey<S>,
    rng: &mut ChaCha20Rng,
) -> GenResult<()> {
    let bytes = h.to_bytes();
    let sig_pos = find(&bytes, &h.sender_signature)?;
    let mut msg = b"soshiki/v1/envelope-signature".to_vec();
    msg.extend_from_slice(&bytes[..sig_pos]);
    h.sender_signature = sender.sign(&msg, rng);
    h.clone().verify()?;
    Ok(())
}

/// A point encoding that does not decode to a group element although it is well formed:
/// P-256, the smallest x with no point; Ristretto255, the smallest non-negative canonical field
/// element that is not a valid encoding.
fn off_curve<S: Suite>() -> GenResult<Vec<u8>> {
    for i in 1u8..=255 {
        let enc = match S::ID {
            SuiteId::P256 => {
                let mut e = vec![0u8; 33];
                e[0] = 0x02;
                e[32] = i;
                e
            }
            SuiteId::Ristretto255 => {
                let mut e = vec![0u8; 32];
                e[0] = i.wrapping_mul(2);
                e
            }
        };
        if S::point_from_bytes(&enc).is_err() {
            return Ok(enc);
        }
    }
    Err("no off-curve encoding found".into())
}

fn negative<S: Suite>() -> GenResult<NegativeFile> {
    let id = S::ID;
    let pl = S::POINT_LEN;
    let mut f = fixture::<S>()?;
    let mut cases = Vec::new();

    // --- points and scalars (SPEC.md §3)
    cases.push(neg(
        match id {
            SuiteId::P256 => "point not on the curve",
            SuiteId::Ristretto255 => "point: field element that is not a Ristretto255 encoding",
        },
        "point",
        off_curve::<S>()?,
        "invalid group element",
    ));
    cases.push(neg(
        "point: identity",
        "point",
        vec![0u8; pl],
        "invalid group element",
    ));
    match id {
        SuiteId::P256 => {
            let unc = hex::decode(concat!(
                "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
                "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
            ))?;
            cases.push(neg(
                "point: the base point in 65-byte uncompressed form",
                "point",
                &unc,
                "invalid group element",
            ));
            cases.push(neg(
                "point: SEC1 identity (one zero byte)",
                "point",
                [0u8],
                "invalid group element",
            ));
            let mut big_x = vec![0xffu8; 33];
            big_x[0] = 0x02;
            cases.push(neg(
                "point: x not below the field prime",
                "point",
                &big_x,
                "invalid group element",
            ));
        }
        SuiteId::Ristretto255 => {
            let mut p = vec![0xffu8; 32];
            p[0] = 0xed;
            p[31] = 0x7f;
            cases.push(neg(
                "point: non-canonical field element (p)",
                "point",
                &p,
                "invalid group element",
            ));
            let mut odd = vec![0u8; 32];
            odd[0] = 1;
            cases.push(neg(
                "point: negative field element (odd)",
                "point",
                &odd,
                "invalid group element",
            ));
            cases.push(neg(
                "point: 33 bytes",
                "point",
                [0u8; 33],
                "invalid group element",
            ));
        }
    }
    let order: Vec<u8> = match id {
        SuiteId::P256 => {
            hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")?
        }
        SuiteId::Ristretto255 => {
            hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")?
        }
    };
    cases.push(neg(
        "scalar: not canonical (the group order)",
        "scalar",
        &order,
        "invalid scalar",
    ));
    cases.push(neg(
        "scalar: not canonical (all ones)",
        "scalar",
        [0xffu8; 32],
        "invalid scalar",
    ));
    cases.push(neg("scalar: zero", "scalar", [0u8; 32], "invalid scalar"));
    cases.push(neg(
        "scalar: 31 bytes",
        "scalar",
        [1u8; 31],
        "invalid scalar",
    ));

    // --- organizations, certificates, identities (SPEC.md §5, §9.2)
    let org = f.city.organization().to_bytes();
    let mut bad_sig = org.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 0x01;
    cases.push(neg(
        "organization: self-signature does not verify",
        "organization",
        &bad_sig,
        "invalid value in organization self-signature",
    ));
    let mut org_v2 = org.clone();
    org_v2[5] = 2;
    cases.push(neg(
        "organization: unsupported version",
        "organization",
        &org_v2,
        "unsupported organization record version 2",
    ));
    let cert = f.staff.cert.to_bytes();
    let roles_at = 5 + 1 + 2 + 16 + 32 + 2 + f.staff.cert.member_name.len();
    let mut bad_roles = cert.clone();
    bad_roles[roles_at] = 0x20;
    cases.push(neg(
        "certificate: unknown role bit",
        "certificate",
        &bad_roles,
        "invalid value in roles",
    ));
    let mut cert_magic = cert.clone();
    cert_magic[..5].copy_from_slice(b"SKORG");
    cases.push(neg(
        "certificate: bad magic",
        "certificate",
        &cert_magic,
        "not a Soshiki certificate (wrong magic bytes)",
    ));
    let mut cert_suite = cert.clone();
    cert_suite[6..8].copy_from_slice(&other_suite(id).to_u16().to_be_bytes());
    cases.push(neg(
        "certificate: wrong suite id",
        "certificate",
        &cert_suite,
        format!(
            "cipher suite mismatch: expected {}, found {}",
            id,
            other_suite(id)
        ),
    ));
    let mut enc_key_identity = cert.clone();
    let key_at = roles_at + 1;
    enc_key_identity[key_at..key_at + pl].fill(0);
    cases.push(neg(
        "certificate: identity as encryption key",
        "certificate",
        &enc_key_identity,
        "invalid group element",
    ));
    let ident = soshiki_core::keyfile::MemberIdentity {
        organization: f.city.organization().clone(),
        certificate: f.staff.cert.clone(),
    }
    .to_bytes();
    let mut ident_magic = ident.clone();
    ident_magic[..5].copy_from_slice(b"SKKEY");
    cases.push(neg(
        "identity: bad magic",
        "identity",
        &ident_magic,
        "not a Soshiki identity (wrong magic bytes)",
    ));
    let mut ident_trailing = ident.clone();
    ident_trailing.extend_from_slice(&[0, 0]);
    cases.push(neg(
        "identity: trailing bytes",
        "identity",
        &ident_trailing,
        "2 trailing bytes after the object",
    ));

    // --- routing metadata plaintext (SPEC.md §7.2)
    let meta = f.metadata.to_bytes();
    let mut meta_v2 = meta.clone();
    meta_v2[0] = 2;
    cases.push(neg(
        "metadata: unsupported version",
        "metadata",
        &meta_v2,
        "unsupported metadata version 2",
    ));
    let mut w = Writer::new();
    w.u8(1)
        .bytes16(b"t")
        .bytes16(b"c")
        .u32(1)
        .bytes16(b"p")
        .u32(1)
        .bytes16(b"")
        .bytes16(b"v");
    cases.push(neg(
        "metadata: empty label key",
        "metadata",
        w.as_bytes(),
        "invalid value in empty label key",
    ));
    let mut w = Writer::new();
    w.u8(1)
        .bytes16(b"t")
        .bytes16(b"c")
        .u32(1)
        .bytes16(b"p")
        .u32(limits::MAX_LABELS + 1);
    cases.push(neg(
        "metadata: label count over the limit",
        "metadata",
        w.as_bytes(),
        "label count exceeds the limit of 16",
    ));
    let mut w = Writer::new();
    w.u8(1).bytes16(&[0xff, 0xfe]);
    cases.push(neg(
        "metadata: title not UTF-8",
        "metadata",
        w.as_bytes(),
        "title is not valid UTF-8",
    ));

    // --- envelope header decoding (SPEC.md §7)
    let h2 = f.h2.to_bytes();
    let mut x = h2.clone();
    x[..5].copy_from_slice(b"SKHDX");
    cases.push(neg(
        "header: bad magic",
        "envelope_header",
        &x,
        "not a Soshiki envelope header (wrong magic bytes)",
    ));
    let mut x = h2.clone();
    x[5] = 2;
    cases.push(neg(
        "header: unsupported version",
        "envelope_header",
        &x,
        "unsupported envelope header version 2",
    ));
    let mut x = h2.clone();
    x[6..8].copy_from_slice(&other_suite(id).to_u16().to_be_bytes());
    cases.push(neg(
        "header: wrong suite id",
        "envelope_header",
        &x,
        format!(
            "cipher suite mismatch: expected {}, found {}",
            id,
            other_suite(id)
        ),
    ));
    let mut x = h2.clone();
    x[6..8].copy_from_slice(&[0x00, 0x03]);
    cases.push(neg(
        "header: unknown suite id",
        "envelope_header",
        &x,
        "unknown cipher suite 0x0003",
    ));
    cases.push(neg(
        "header: truncated inside the envelope id",
        "envelope_header",
        &h2[..18],
        "truncated input: envelope id is incomplete",
    ));
    cases.push(neg(
        "header: truncated inside the last body index",
        "envelope_header",
        &h2[..h2.len() - 1],
        "truncated input: body index is incomplete",
    ));
    let mut x = h2.clone();
    x.push(0);
    cases.push(neg(
        "header: trailing bytes",
        "envelope_header",
        &x,
        "1 trailing bytes after the object",
    ));
    let chunk_at = 8 + 16 + 8;
    let mut x = h2.clone();
    x[chunk_at..chunk_at + 4].copy_from_slice(&3000u32.to_be_bytes());
    cases.push(neg(
        "header: chunk size not a power of two",
        "envelope_header",
        &x,
        "invalid value in chunk size",
    ));
    let mut x = h2.clone();
    x[chunk_at..chunk_at + 4].copy_from_slice(&512u32.to_be_bytes());
    cases.push(neg(
        "header: chunk size below 1 KiB",
        "envelope_header",
        &x,
        "invalid value in chunk size",
    ));
    let sig_pos = find(&h2, &f.h2.sender_signature)?;
    let part_count_at = sig_pos - f.h2.core.parts.len() * (8 + 32 + 32 + pl + 32) - 4;
    let mut x = h2.clone();
    x[part_count_at..part_count_at + 4].copy_from_slice(&(limits::MAX_PARTS + 1).to_be_bytes());
    cases.push(neg(
        "header: part count over the limit",
        "envelope_header",
        &x,
        "part count exceeds the limit of 100000",
    ));
    let mut x = h2.clone();
    x[part_count_at..part_count_at + 4].copy_from_slice(&0u32.to_be_bytes());
    cases.push(neg(
        "header: no parts",
        "envelope_header",
        &x,
        "invalid value in part count",
    ));
    // Hop 2 of part 1 (the chief's model-2 hop).
    let hop = &f.h2.slots[2].hops[1];
    let mut w = Writer::new();
    hop.write(&mut w);
    let hop_at = find(&h2, w.as_bytes())?;
    let kind_at = hop_at + 32 + 32 + 8 + 2 * pl;
    let mut x = h2.clone();
    x[kind_at] = 3;
    cases.push(neg(
        "header: unknown hop kind",
        "envelope_header",
        &x,
        "invalid value in hop kind",
    ));

    // --- envelope header verification (SPEC.md §7.4)
    let mut x = h2.clone();
    x[sig_pos + 10] ^= 0x01;
    cases.push(neg(
        "verify: tampered sender signature",
        "envelope_header_verify",
        &x,
        "the sender's signature on the envelope is invalid",
    ));
    let mut x = h2.clone();
    // s1 of hop 2 of part 1: flip its least significant bit (keeps the scalar canonical).
    let s1_at = kind_at + 1 + 32;
    match id {
        SuiteId::P256 => x[s1_at + 31] ^= 0x01,
        SuiteId::Ristretto255 => x[s1_at] ^= 0x01,
    }
    cases.push(neg(
        "verify: tampered hop proof",
        "envelope_header_verify",
        &x,
        "hop 2 of part 1 is invalid: proof or signature does not verify",
    ));
    let mut x = h2.clone();
    let x_at = hop_at + 32 + 32 + 8;
    let other = S::point_to_bytes(&S::add(&hop.x, &S::generator()));
    x[x_at..x_at + pl].copy_from_slice(&other);
    cases.push(neg(
        "verify: hop X replaced",
        "envelope_header_verify",
        &x,
        "hop 2 of part 1 is invalid: proof or signature does not verify",
    ));
    let mut h = f.h2.clone();
    h.slots[1].capsule.c1 = S::add(&h.slots[1].capsule.c1, &S::generator());
    cases.push(neg(
        "verify: C1 does not descend from the sender's C1 (capsule lineage)",
        "envelope_header_verify",
        h.to_bytes(),
        "the capsule of part 0 does not descend from the sender's capsule",
    ));
    let mut h = f.h2.clone();
    h.slots[2].capsule.c2 = S::add(&h.slots[2].capsule.c2, &S::generator());
    cases.push(neg(
        "verify: C2 is not the last hop's C2'",
        "envelope_header_verify",
        h.to_bytes(),
        "the capsule of part 1 does not descend from the sender's capsule",
    ));
    let mut h = f.h2.clone();
    h.slots[1].hops.remove(0);
    cases.push(neg(
        "verify: first hop missing (forwarder is not the holder)",
        "envelope_header_verify",
        h.to_bytes(),
        "hop 1 of part 0 is invalid: the forwarder is not the previous holder",
    ));
    let mut h = f.h2.clone();
    h.slots[0].hops[1].time = NOW + 59;
    cases.push(neg(
        "verify: hop time goes backwards",
        "envelope_header_verify",
        h.to_bytes(),
        "hop 2 of metadata is invalid: hop time goes backwards",
    ));
    let mut h = f.h2.clone();
    h.certificates.clear();
    cases.push(neg(
        "verify: hop target certificate missing",
        "envelope_header_verify",
        h.to_bytes(),
        "hop 1 of metadata is invalid: target certificate missing",
    ));
    let mut h = f.h2.clone();
    h.core.sender_cert.member_name.push('X');
    let fp = h.core.sender_cert.fingerprint();
    cases.push(neg(
        "verify: sender certificate altered",
        "envelope_header_verify",
        h.to_bytes(),
        format!(
            "certificate {} ({}) is invalid (signature, issuer or validity)",
            h.core.sender_cert.member_name,
            fp.display_short()
        ),
    ));

    // --- envelope file container (SPEC.md §8)
    let file = f.compact.clone();
    let mut x = file.clone();
    x[..5].copy_from_slice(b"SKENX");
    cases.push(neg(
        "file: bad magic",
        "envelope_file_open",
        &x,
        "not a Soshiki envelope file (wrong magic bytes)",
    ));
    let mut x = file.clone();
    x[5] = 2;
    cases.push(neg(
        "file: unsupported version",
        "envelope_file_open",
        &x,
        "unsupported envelope file version 2",
    ));
    let mut x = file.clone();
    x[6..8].copy_from_slice(&other_suite(id).to_u16().to_be_bytes());
    cases.push(neg(
        "file: wrong suite id",
        "envelope_file_open",
        &x,
        format!(
            "cipher suite mismatch: expected {}, found {}",
            id,
            other_suite(id)
        ),
    ));
    cases.push(neg(
        "file: truncated (footer missing)",
        "envelope_file_open",
        &file[..file.len() - 1],
        "truncated input: envelope file (missing footer: incomplete or damaged) is incomplete",
    ));
    let hlen = h2.len();
    let header_at = file.len() - 16 - hlen;
    let mut x = file[..header_at - 1].to_vec();
    x.extend_from_slice(&file[header_at..]);
    cases.push(neg(
        "file: truncated body (one byte of the last body missing)",
        "envelope_file_open",
        &x,
        "truncated input: envelope bodies is incomplete",
    ));
    let mut x = file.clone();
    let len_at = file.len() - 16;
    x[len_at..len_at + 8].copy_from_slice(&(limits::MAX_HEADER + 1).to_be_bytes());
    cases.push(neg(
        "file: header length over the limit",
        "envelope_file_open",
        &x,
        "header length exceeds the limit of 67108864",
    ));
    let mut x = file.clone();
    x[len_at..len_at + 8].copy_from_slice(&(file.len() as u64).to_be_bytes());
    cases.push(neg(
        "file: header length beyond the file",
        "envelope_file_open",
        &x,
        "truncated input: envelope header is incomplete",
    ));
    let mut x = file.clone();
    x[8] ^= 0x01;
    cases.push(neg(
        "file: envelope id differs between prefix and header",
        "envelope_file_open",
        &x,
        "invalid value in envelope id differs between prefix and header",
    ));
    let mut x = file.clone();
    x.truncate(header_at);
    cases.push(neg(
        "file: header and footer missing",
        "envelope_file_open",
        &x,
        "truncated input: envelope file (missing footer: incomplete or damaged) is incomplete",
    ));

    // --- decryption (SPEC.md §7.4, §6.2): opaque failures
    let staff_key = hx(&f.staff.enc.to_secret_bytes()[..]);
    let with_key = |mut c: NegativeCase, key: &str, part: u32| {
        c.key = Some(key.into());
        c.part = Some(part);
        c
    };
    let base = file[..header_at].to_vec();
    let mut h = f.h2.clone();
    h.core.parts[0].origin.commitment[0] ^= 0x01;
    resign(&mut h, &f.sender.sig, &mut f.rng)?;
    let mut x = base.clone();
    append_trailer(&mut x, &h.to_bytes());
    cases.push(with_key(
        neg(
            "decrypt: key commitment does not match (re-signed by the sender)",
            "envelope_decrypt_part",
            &x,
            "decryption failed",
        ),
        &staff_key,
        0,
    ));
    let mut h = f.h2.clone();
    h.core.parts[0].body_digest[0] ^= 0x01;
    resign(&mut h, &f.sender.sig, &mut f.rng)?;
    let mut x = base.clone();
    append_trailer(&mut x, &h.to_bytes());
    cases.push(with_key(
        neg(
            "decrypt: body digest differs from the signed one (re-signed by the sender)",
            "envelope_decrypt_part",
            &x,
            "the body of part 0 does not match the sender's signed digest",
        ),
        &staff_key,
        0,
    ));
    let mut x = file.clone();
    x[PREFIX_LEN as usize + 1100] ^= 0x01; // inside chunk 1 of part 0
    cases.push(with_key(
        neg(
            "decrypt: tampered body chunk",
            "envelope_decrypt_part",
            &x,
            "decryption failed",
        ),
        &staff_key,
        0,
    ));
    let mut x = file.clone();
    let body1_at =
        PREFIX_LEN as usize + stream::ciphertext_len(f.plaintexts[0].len() as u64, CHUNK) as usize;
    x[body1_at + 3] ^= 0x80;
    cases.push(with_key(
        neg(
            "decrypt: tampered body (last chunk)",
            "envelope_decrypt_part",
            &x,
            "decryption failed",
        ),
        &staff_key,
        1,
    ));
    cases.push(with_key(
        neg(
            "decrypt: key of an earlier holder",
            "envelope_decrypt_part",
            &file,
            "this key is not a recipient of part 0",
        ),
        &hx(&f.chief.enc.to_secret_bytes()[..]),
        0,
    ));

    // --- key files (SPEC.md §9.1)
    let kf = keyfile_fixture::<S>()?.member_file;
    let pass = |mut c: NegativeCase, p: &str| {
        c.passphrase = Some(p.into());
        c
    };
    cases.push(pass(
        neg(
            "key file: wrong passphrase",
            "key_file_member",
            &kf,
            "wrong passphrase or damaged key file",
        ),
        "correct horse battery",
    ));
    let mut x = kf.clone();
    let last = x.len() - 1;
    x[last] ^= 0x01;
    cases.push(pass(
        neg(
            "key file: tampered tag",
            "key_file_member",
            &x,
            "wrong passphrase or damaged key file",
        ),
        PASSPHRASE,
    ));
    let mut x = kf.clone();
    x[30] ^= 0x01; // inside the salt, which is associated data
    cases.push(pass(
        neg(
            "key file: tampered salt",
            "key_file_member",
            &x,
            "wrong passphrase or damaged key file",
        ),
        PASSPHRASE,
    ));
    let mut x = kf.clone();
    x[9..13].copy_from_slice(&1024u32.to_be_bytes());
    cases.push(pass(
        neg(
            "key file: Argon2 memory below the accepted range",
            "key_file_member",
            &x,
            "key-file protection parameters are outside the accepted range",
        ),
        PASSPHRASE,
    ));
    let mut x = kf.clone();
    x[8] = 2;
    cases.push(pass(
        neg(
            "key file: organization kind",
            "key_file_member",
            &x,
            "wrong kind of key file: it holds an organization key, not a member key",
        ),
        PASSPHRASE,
    ));
    let mut x = kf.clone();
    x[5] = 9;
    cases.push(pass(
        neg(
            "key file: unsupported version",
            "key_file_member",
            &x,
            "unsupported key file version 9",
        ),
        PASSPHRASE,
    ));
    let mut x = kf.clone();
    x.push(0);
    cases.push(pass(
        neg(
            "key file: trailing bytes",
            "key_file_member",
            &x,
            "1 trailing bytes after the object",
        ),
        PASSPHRASE,
    ));

    Ok(NegativeFile {
        suite: id.name().into(),
        description: format!(
            "Inputs that must be rejected, one per case, with the exact Display text of the core's \
             error. Every operation runs with the {} suite; `input` is hex; cases built from the \
             envelope of envelope-{}.json (its compact file and last header), some re-signed by \
             its sender so that only the later check fails.",
            id,
            id.name()
        ),
        operations: OPERATIONS
            .iter()
            .map(|(o, d)| OperationDoc {
                operation: (*o).into(),
                description: (*d).into(),
            })
            .collect(),
        cases,
    })
}

// ---------------------------------------------------------------------------------------------
// status-<suite>.json: revocation lists (SPEC.md §5.6) and audit checkpoints (SPEC.md §5.7)

/// `status-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct StatusFile {
    pub suite: String,
    pub description: String,
    pub organization: OrgInfo,
    /// Another organization of the same name (its signatures must not verify).
    pub other_organization: OrgInfo,
    pub revocation_lists: Vec<RevocationListVector>,
    pub checkpoints: Vec<CheckpointVector>,
    /// `RevocationList::verify` cases: every list of `revocation_lists` by index.
    pub list_checks: Vec<ListCheck>,
    /// Inputs that must be rejected, with the reference implementation's exact error text.
    pub negative: Vec<NegativeCase>,
}

/// One signed revocation list and its fields.
#[derive(Debug, Serialize, Deserialize)]
pub struct RevocationListVector {
    pub signer: String,
    pub serial: u64,
    pub issued: u64,
    pub next_update: u64,
    pub revoked: Vec<RevokedVector>,
    /// `"soshiki/v1/revocation-list-signature" ‖` every field before the signature.
    pub signed_message: String,
    pub signature: String,
    pub encoding: String,
}

/// One revoked certificate.
#[derive(Debug, Serialize, Deserialize)]
pub struct RevokedVector {
    pub certificate_fingerprint: String,
    pub revoked_at: u64,
}

/// One signed checkpoint.
#[derive(Debug, Serialize, Deserialize)]
pub struct CheckpointVector {
    pub signer: String,
    pub position: u64,
    pub head: String,
    pub time: u64,
    /// `"soshiki/v1/audit-checkpoint-signature" ‖` every field before the signature.
    pub signed_message: String,
    pub signature: String,
    pub encoding: String,
}

/// Verifying list `list` against `organization` at `now`, the verifier having seen `seen_serial`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ListCheck {
    pub name: String,
    pub list: usize,
    /// `organization` or `other_organization`.
    pub organization: String,
    pub now: u64,
    pub seen_serial: u64,
    /// `ok` or the exact error text.
    pub expected: String,
    /// For `ok`: certificates of `organization` this list revokes, by fingerprint (checked
    /// with `VerifiedRevocationList::check`); any other fingerprint is not revoked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revokes: Vec<String>,
}

const STATUS_OPERATIONS: &[(&str, &str)] = &[
    ("revocation_list", "decode a revocation list (RevocationList::from_bytes)"),
    ("audit_checkpoint", "decode an audit checkpoint (AuditCheckpoint::from_bytes)"),
    (
        "audit_checkpoint_verify",
        "decode an audit checkpoint, then verify it against `organization` (AuditCheckpoint::verify)",
    ),
];

fn list_vector<S: Suite>(
    signer: &str,
    l: &soshiki_core::revocation::RevocationList<S>,
) -> RevocationListVector {
    let enc = l.to_bytes();
    let body = &enc[..enc.len() - 64];
    RevocationListVector {
        signer: signer.into(),
        serial: l.serial,
        issued: l.issued,
        next_update: l.next_update,
        revoked: l
            .revoked
            .iter()
            .map(|r| RevokedVector {
                certificate_fingerprint: r.certificate.to_hex(),
                revoked_at: r.revoked_at,
            })
            .collect(),
        signed_message: hx([&b"soshiki/v1/revocation-list-signature"[..], body].concat()),
        signature: hx(&enc[enc.len() - 64..]),
        encoding: hx(&enc),
    }
}

fn checkpoint_vector<S: Suite>(
    signer: &str,
    c: &soshiki_core::checkpoint::AuditCheckpoint<S>,
) -> CheckpointVector {
    let enc = c.to_bytes();
    let body = &enc[..enc.len() - 64];
    CheckpointVector {
        signer: signer.into(),
        position: c.position,
        head: hx(c.head),
        time: c.time,
        signed_message: hx([&b"soshiki/v1/audit-checkpoint-signature"[..], body].concat()),
        signature: hx(&enc[enc.len() - 64..]),
        encoding: hx(&enc),
    }
}

fn status<S: Suite>() -> GenResult<StatusFile> {
    use soshiki_core::revocation::Revoked;
    let mut rng = rng_for(&format!("soshiki status vectors {}", S::ID.name()));
    let org = OrganizationKey::<S>::generate("大町市 市民課", NOW, &mut rng)?;
    let other = OrganizationKey::<S>::generate("大町市 市民課", NOW, &mut rng)?;
    let fp = |b: u8| {
        soshiki_core::cert::Fingerprint(random_bytes_n(&mut rng_for(&format!("revoked {b}"))))
    };
    let (a, b) = (fp(1), fp(2));
    let day = 86_400;
    let first = org.issue_revocation_list(1, NOW, NOW + 30 * day, &[], &mut rng)?;
    let second = org.issue_revocation_list(
        2,
        NOW + day,
        NOW + 31 * day,
        &[
            Revoked {
                certificate: b,
                revoked_at: NOW + day,
            },
            Revoked {
                certificate: a,
                revoked_at: NOW + 100,
            },
        ],
        &mut rng,
    )?;
    let forged = other.issue_revocation_list(3, NOW + day, NOW + 31 * day, &[], &mut rng)?;
    let lists = [
        list_vector("organization", &first),
        list_vector("organization", &second),
        list_vector("other_organization", &forged),
    ];
    let check = |name: &str,
                 list: usize,
                 o: &str,
                 now: u64,
                 seen: u64,
                 expected: &str,
                 revokes: &[&soshiki_core::cert::Fingerprint]| ListCheck {
        name: name.into(),
        list,
        organization: o.into(),
        now,
        seen_serial: seen,
        expected: expected.into(),
        revokes: revokes.iter().map(|f| f.to_hex()).collect(),
    };
    let list_checks = vec![
        check("first list, current", 0, "organization", NOW + 10, 0, "ok", &[]),
        check("second list revokes two certificates", 1, "organization", NOW + 2 * day, 1, "ok", &[&a, &b]),
        check("second list, same serial seen before", 1, "organization", NOW + 2 * day, 2, "ok", &[&a, &b]),
        check(
            "first list replayed after the second was seen",
            0,
            "organization",
            NOW + 2 * day,
            2,
            "the revocation list has serial 1, older than serial 2 seen before: the server replays an old list",
            &[],
        ),
        check(
            "first list after its next update",
            0,
            "organization",
            NOW + 30 * day + 1,
            0,
            &format!(
                "the revocation list is stale: a newer one was due at {} (now {}); the organization's administrator must publish a new one",
                NOW + 30 * day,
                NOW + 30 * day + 1
            ),
            &[],
        ),
        check(
            "second list issued in the future",
            1,
            "organization",
            NOW + day - 301,
            0,
            &format!("the revocation list is issued in the future ({}, now {})", NOW + day, NOW + day - 301),
            &[],
        ),
        check("second list against another organization", 1, "other_organization", NOW + 2 * day, 0, "the revocation list is not signed by the pinned organization", &[]),
        check(
            "a list of another organization with the same name",
            2,
            "organization",
            NOW + 2 * day,
            0,
            "the revocation list is not signed by the pinned organization",
            &[],
        ),
    ];
    let cp = org.sign_checkpoint(12, random_bytes(&mut rng), NOW + 3600, &mut rng)?;
    let cp_other = other.sign_checkpoint(12, cp.head, NOW + 3600, &mut rng)?;
    let checkpoints = vec![
        checkpoint_vector("organization", &cp),
        checkpoint_vector("other_organization", &cp_other),
    ];

    // Negative cases.
    let mut negative = Vec::new();
    let lb = second.to_bytes();
    let mut t = lb.clone();
    t[..5].copy_from_slice(b"SKCRT");
    negative.push(neg(
        "revocation list: bad magic",
        "revocation_list",
        &t,
        "not a Soshiki revocation list (wrong magic bytes)",
    ));
    let mut t = lb.clone();
    t[5] = 2;
    negative.push(neg(
        "revocation list: unsupported version",
        "revocation_list",
        &t,
        "unsupported revocation list version 2",
    ));
    let mut t = lb.clone();
    t[6..8].copy_from_slice(&other_suite(S::ID).to_u16().to_be_bytes());
    negative.push(neg(
        "revocation list: wrong suite id",
        "revocation_list",
        &t,
        format!(
            "cipher suite mismatch: expected {}, found {}",
            S::ID,
            other_suite(S::ID)
        ),
    ));
    let serial_at = 8 + 32;
    let mut t = lb.clone();
    t[serial_at..serial_at + 8].copy_from_slice(&0u64.to_be_bytes());
    negative.push(neg(
        "revocation list: serial zero",
        "revocation_list",
        &t,
        "invalid value in revocation list serial",
    ));
    let mut t = lb.clone();
    let (issued_at, next_at) = (serial_at + 8, serial_at + 16);
    let issued = t[issued_at..issued_at + 8].to_vec();
    t[next_at..next_at + 8].copy_from_slice(&issued);
    negative.push(neg(
        "revocation list: next update not after the issue time",
        "revocation_list",
        &t,
        "invalid value in revocation list next update",
    ));
    let count_at = next_at + 8;
    let mut t = lb.clone();
    t[count_at..count_at + 4].copy_from_slice(&(limits::MAX_REVOKED + 1).to_be_bytes());
    negative.push(neg(
        "revocation list: revoked count over the limit",
        "revocation_list",
        &t,
        format!(
            "revoked certificates exceeds the limit of {}",
            limits::MAX_REVOKED
        ),
    ));
    let mut t = lb.clone();
    let e0 = count_at + 4;
    let (x, y) = t[e0..e0 + 80].split_at_mut(40);
    x.swap_with_slice(y);
    negative.push(neg(
        "revocation list: entries out of order",
        "revocation_list",
        &t,
        "invalid value in revoked certificate order",
    ));
    let mut t = lb.clone();
    let dup = t[e0..e0 + 40].to_vec();
    t[e0 + 40..e0 + 80].copy_from_slice(&dup);
    negative.push(neg(
        "revocation list: repeated certificate",
        "revocation_list",
        &t,
        "invalid value in revoked certificate order",
    ));
    negative.push(neg(
        "revocation list: truncated signature",
        "revocation_list",
        &lb[..lb.len() - 1],
        "truncated input: revocation list signature is incomplete",
    ));
    let mut t = lb.clone();
    t.push(0);
    negative.push(neg(
        "revocation list: trailing bytes",
        "revocation_list",
        &t,
        "1 trailing bytes after the object",
    ));

    let cb = cp.to_bytes();
    let mut t = cb.clone();
    t[..5].copy_from_slice(b"SKREV");
    negative.push(neg(
        "checkpoint: bad magic",
        "audit_checkpoint",
        &t,
        "not a Soshiki audit checkpoint (wrong magic bytes)",
    ));
    let mut t = cb.clone();
    t[5] = 0;
    negative.push(neg(
        "checkpoint: unsupported version",
        "audit_checkpoint",
        &t,
        "unsupported audit checkpoint version 0",
    ));
    let mut t = cb.clone();
    t[40..48].copy_from_slice(&0u64.to_be_bytes());
    negative.push(neg(
        "checkpoint: position zero",
        "audit_checkpoint",
        &t,
        "invalid value in checkpoint position",
    ));
    negative.push(neg(
        "checkpoint: truncated head hash",
        "audit_checkpoint",
        &cb[..60],
        "truncated input: checkpoint head hash is incomplete",
    ));
    let mut t = cb.clone();
    t[48] ^= 1;
    negative.push(neg(
        "checkpoint: head hash changed after signing",
        "audit_checkpoint_verify",
        &t,
        "the audit checkpoint is not signed by the pinned organization",
    ));
    let mut t = cb.clone();
    t[40..48].copy_from_slice(&11u64.to_be_bytes());
    negative.push(neg(
        "checkpoint: position changed after signing",
        "audit_checkpoint_verify",
        &t,
        "the audit checkpoint is not signed by the pinned organization",
    ));
    negative.push(neg(
        "checkpoint: signed by another organization's key",
        "audit_checkpoint_verify",
        cp_other.to_bytes(),
        "the audit checkpoint is not signed by the pinned organization",
    ));

    Ok(StatusFile {
        suite: S::ID.name().into(),
        description: format!(
            "Organization-signed revocation lists (SPEC.md §5.6) and audit checkpoints (§5.7), {}. \
             Negative operations: {}.",
            encodings(S::ID),
            STATUS_OPERATIONS
                .iter()
                .map(|(o, d)| format!("`{o}`: {d}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        organization: org_info(&org),
        other_organization: org_info(&other),
        revocation_lists: lists.into(),
        checkpoints,
        list_checks,
        negative,
    })
}

fn random_bytes_n(rng: &mut ChaCha20Rng) -> [u8; 32] {
    random_bytes(rng)
}

// ---------------------------------------------------------------------------------------------
// partners-<suite>.json: partner lists (SPEC.md §5.8)

/// `partners-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct PartnersFile {
    pub suite: String,
    pub description: String,
    pub organization: OrgInfo,
    /// Another organization of the same name (its signatures must not verify).
    pub other_organization: OrgInfo,
    pub partner_lists: Vec<PartnerListVector>,
    /// `PartnerList::verify` cases: every list of `partner_lists` by index.
    pub list_checks: Vec<PartnerCheck>,
    /// Inputs that must be rejected, with the reference implementation's exact error text.
    pub negative: Vec<NegativeCase>,
}

/// One signed partner list and its fields.
#[derive(Debug, Serialize, Deserialize)]
pub struct PartnerListVector {
    pub signer: String,
    pub serial: u64,
    pub issued: u64,
    pub partners: Vec<PartnerVector>,
    /// `"soshiki/v1/partner-list-signature" ‖` every field before the signature.
    pub signed_message: String,
    pub signature: String,
    pub encoding: String,
}

/// One partner organization.
#[derive(Debug, Serialize, Deserialize)]
pub struct PartnerVector {
    pub organization_fingerprint: String,
    pub name: String,
}

/// Verifying list `list` against `organization` at `now`, the verifier having seen `seen_serial`.
#[derive(Debug, Serialize, Deserialize)]
pub struct PartnerCheck {
    pub name: String,
    pub list: usize,
    /// `organization` or `other_organization`.
    pub organization: String,
    pub now: u64,
    pub seen_serial: u64,
    /// `ok` or the exact error text.
    pub expected: String,
}

const PARTNER_OPERATIONS: &[(&str, &str)] = &[
    ("partner_list", "decode a partner list (PartnerList::from_bytes)"),
    (
        "partner_list_verify",
        "decode a partner list, then verify it against `organization` with seen serial 0 at its own issue time (PartnerList::verify)",
    ),
];

fn partner_list_vector<S: Suite>(
    signer: &str,
    l: &soshiki_core::partners::PartnerList<S>,
) -> PartnerListVector {
    let enc = l.to_bytes();
    let body = &enc[..enc.len() - 64];
    PartnerListVector {
        signer: signer.into(),
        serial: l.serial,
        issued: l.issued,
        partners: l
            .partners
            .iter()
            .map(|p| PartnerVector {
                organization_fingerprint: p.organization.to_hex(),
                name: p.name.clone(),
            })
            .collect(),
        signed_message: hx([&b"soshiki/v1/partner-list-signature"[..], body].concat()),
        signature: hx(&enc[enc.len() - 64..]),
        encoding: hx(&enc),
    }
}

fn partners<S: Suite>() -> GenResult<PartnersFile> {
    use soshiki_core::partners::Partner;
    let mut rng = rng_for(&format!("soshiki partner vectors {}", S::ID.name()));
    let org = OrganizationKey::<S>::generate("大町市 市民課", NOW, &mut rng)?;
    let other = OrganizationKey::<S>::generate("大町市 市民課", NOW, &mut rng)?;
    let pref = OrganizationKey::<S>::generate("長野県 危機管理部", NOW, &mut rng)?;
    let matsumoto = OrganizationKey::<S>::generate("松本市", NOW, &mut rng)?;
    let p = |o: &OrganizationKey<S>| Partner {
        organization: o.organization().fingerprint(),
        name: o.organization().name.clone(),
    };
    let day = 86_400;
    let first = org.issue_partner_list(1, NOW, &[p(&pref)], &mut rng)?;
    let second = org.issue_partner_list(2, NOW + day, &[p(&matsumoto), p(&pref)], &mut rng)?;
    let forged = other.issue_partner_list(3, NOW + day, &[p(&pref)], &mut rng)?;
    let lists = vec![
        partner_list_vector("organization", &first),
        partner_list_vector("organization", &second),
        partner_list_vector("other_organization", &forged),
    ];
    let check =
        |name: &str, list: usize, o: &str, now: u64, seen: u64, expected: &str| PartnerCheck {
            name: name.into(),
            list,
            organization: o.into(),
            now,
            seen_serial: seen,
            expected: expected.into(),
        };
    let list_checks = vec![
        check("first list", 0, "organization", NOW + 10, 0, "ok"),
        check("second list, first seen before", 1, "organization", NOW + 2 * day, 1, "ok"),
        check("second list, same serial seen before", 1, "organization", NOW + 2 * day, 2, "ok"),
        check("partner lists do not go stale", 0, "organization", NOW + 3650 * day, 0, "ok"),
        check(
            "first list replayed after the second was seen",
            0,
            "organization",
            NOW + 2 * day,
            2,
            "the partner list has serial 1, older than serial 2 seen before: the server replays an old list",
        ),
        check(
            "second list issued in the future",
            1,
            "organization",
            NOW + day - 301,
            0,
            &format!("the partner list is issued in the future ({}, now {})", NOW + day, NOW + day - 301),
        ),
        check("second list against another organization", 1, "other_organization", NOW + 2 * day, 0, "the partner list is not signed by the organization"),
        check(
            "a list of another organization with the same name",
            2,
            "organization",
            NOW + 2 * day,
            0,
            "the partner list is not signed by the organization",
        ),
    ];

    let mut negative = Vec::new();
    let lb = second.to_bytes();
    let mut t = lb.clone();
    t[..5].copy_from_slice(b"SKREV");
    negative.push(neg(
        "partner list: bad magic",
        "partner_list",
        &t,
        "not a Soshiki partner list (wrong magic bytes)",
    ));
    let mut t = lb.clone();
    t[5] = 2;
    negative.push(neg(
        "partner list: unsupported version",
        "partner_list",
        &t,
        "unsupported partner list version 2",
    ));
    let mut t = lb.clone();
    t[6..8].copy_from_slice(&other_suite(S::ID).to_u16().to_be_bytes());
    negative.push(neg(
        "partner list: wrong suite id",
        "partner_list",
        &t,
        format!(
            "cipher suite mismatch: expected {}, found {}",
            S::ID,
            other_suite(S::ID)
        ),
    ));
    let serial_at = 8 + 32;
    let mut t = lb.clone();
    t[serial_at..serial_at + 8].copy_from_slice(&0u64.to_be_bytes());
    negative.push(neg(
        "partner list: serial zero",
        "partner_list",
        &t,
        "invalid value in partner list serial",
    ));
    let count_at = serial_at + 16;
    let mut t = lb.clone();
    t[count_at..count_at + 4].copy_from_slice(&(limits::MAX_PARTNERS + 1).to_be_bytes());
    negative.push(neg(
        "partner list: partner count over the limit",
        "partner_list",
        &t,
        format!(
            "partner organizations exceeds the limit of {}",
            limits::MAX_PARTNERS
        ),
    ));
    // The entries of `second`: fingerprint ‖ u16 length ‖ name.
    let e0 = count_at + 4;
    let len0 = u16::from_be_bytes([lb[e0 + 32], lb[e0 + 33]]) as usize;
    let e1 = e0 + 34 + len0;
    let len1 = u16::from_be_bytes([lb[e1 + 32], lb[e1 + 33]]) as usize;
    let end = e1 + 34 + len1;
    let mut t = lb[..e0].to_vec();
    t.extend_from_slice(&lb[e1..end]);
    t.extend_from_slice(&lb[e0..e1]);
    t.extend_from_slice(&lb[end..]);
    negative.push(neg(
        "partner list: entries out of order",
        "partner_list",
        &t,
        "invalid value in partner organization order",
    ));
    let mut t = lb[..e1].to_vec();
    t.extend_from_slice(&lb[e0..e1]);
    t.extend_from_slice(&lb[end..]);
    negative.push(neg(
        "partner list: repeated organization",
        "partner_list",
        &t,
        "invalid value in partner organization order",
    ));
    let mut t = lb.clone();
    t[e0 + 32..e0 + 34].copy_from_slice(&(limits::MAX_TEXT as u16 + 1).to_be_bytes());
    negative.push(neg(
        "partner list: name longer than the limit",
        "partner_list",
        &t,
        format!(
            "partner organization name exceeds the limit of {}",
            limits::MAX_TEXT
        ),
    ));
    let mut t = lb[..e0 + 32].to_vec();
    t.extend_from_slice(&0u16.to_be_bytes());
    t.extend_from_slice(&lb[e0 + 34 + len0..]);
    negative.push(neg(
        "partner list: empty name",
        "partner_list",
        &t,
        "invalid value in partner organization name",
    ));
    let mut t = lb.clone();
    t[e0 + 34] = 0xff;
    negative.push(neg(
        "partner list: name not UTF-8",
        "partner_list",
        &t,
        "partner organization name is not valid UTF-8",
    ));
    negative.push(neg(
        "partner list: truncated signature",
        "partner_list",
        &lb[..lb.len() - 1],
        "truncated input: partner list signature is incomplete",
    ));
    let mut t = lb.clone();
    t.push(0);
    negative.push(neg(
        "partner list: trailing bytes",
        "partner_list",
        &t,
        "1 trailing bytes after the object",
    ));
    let mut t = lb.clone();
    t[e1 + 31] ^= 1;
    negative.push(neg(
        "partner list: a partner fingerprint swapped after signing",
        "partner_list_verify",
        &t,
        "the partner list is not signed by the organization",
    ));
    negative.push(neg(
        "partner list: signed by another organization's key",
        "partner_list_verify",
        forged.to_bytes(),
        "the partner list is not signed by the organization",
    ));

    Ok(PartnersFile {
        suite: S::ID.name().into(),
        description: format!(
            "Organization-signed partner lists (SPEC.md §5.8), {}. Negative operations: {}.",
            encodings(S::ID),
            PARTNER_OPERATIONS
                .iter()
                .map(|(o, d)| format!("`{o}`: {d}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        organization: org_info(&org),
        other_organization: org_info(&other),
        partner_lists: lists,
        list_checks,
        negative,
    })
}
