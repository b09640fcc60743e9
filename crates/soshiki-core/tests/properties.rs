//! Property tests, on both suites:
//! - envelope round trips with random part counts, sizes (chunk boundaries included) and labels;
//! - random forwarding chains of up to 16 hops mixing model 1 (whole) and model 2 (split) hops,
//!   with parts routed to different members: each final reader decrypts exactly its parts, no
//!   earlier holder and no other member can, bodies are never touched and capsules never grow;
//! - wire round trips (header, metadata, certificate, organization, request, response);
//! - single-byte flips of an envelope file are rejected at open or verify or make decryption
//!   fail, and never yield a different plaintext (a part still reads only when the flip hit
//!   another part's body).
mod common;

use std::io::Cursor;

use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use rand_chacha::ChaCha20Rng;
use soshiki_core::cert::{Certificate, Organization, Roles};
use soshiki_core::envelope::{
    self, EncryptOptions, EnvelopeFile, EnvelopeHeader, Forwarder, Label, Metadata, PartInfo,
    PartSource, Sender, SlotId, PREFIX_LEN,
};
use soshiki_core::error::DecryptError;
use soshiki_core::keys::{DhOutput, KeyHolder, PublicKey, SecretKey};
use soshiki_core::split::{ForwardResponse, ForwardingRequest};
use soshiki_core::suite::{Ristretto255, Suite, P256};
use soshiki_core::wire::Writer;

const CHUNK: u32 = 1024;

// ---------------------------------------------------------------------------------------------
// Strategies

/// Body lengths from 0 to 5000, biased toward the 1 KiB chunk boundaries.
fn body_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        prop::sample::select(vec![
            0usize, 1, 1023, 1024, 1025, 2047, 2048, 2049, 3072, 5000
        ]),
        0usize..=5000,
    ]
}

/// Labels, including the longest key (64 bytes) and value (256 bytes) allowed.
fn label() -> impl Strategy<Value = Label> {
    prop_oneof![
        4 => ("[a-z][a-z0-9_-]{0,15}", "\\PC{0,24}").prop_map(|(key, value)| Label { key, value }),
        1 => ("[a-z]{64}", "[a-z0-9]{256}").prop_map(|(key, value)| Label { key, value }),
    ]
}

#[derive(Clone, Debug)]
struct PartSpec {
    name: String,
    labels: Vec<Label>,
    len: usize,
    fill: u8,
}

fn part_spec() -> impl Strategy<Value = PartSpec> {
    (
        "\\PC{0,12}",
        prop::collection::vec(label(), 0..=4),
        body_len(),
        any::<u8>(),
    )
        .prop_map(|(name, labels, len, fill)| PartSpec {
            name,
            labels,
            len,
            fill,
        })
}

fn parts() -> impl Strategy<Value = Vec<PartSpec>> {
    prop::collection::vec(part_spec(), 1..=5)
}

fn body(p: &PartSpec) -> Vec<u8> {
    (0..p.len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(p.fill) ^ (i >> 8) as u8)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// Encrypt `parts` to the representative with the given title; returns the file and bodies.
fn send_parts<S: Suite>(
    w: &World<S>,
    title: &str,
    parts: &[PartSpec],
    rng: &mut ChaCha20Rng,
) -> (Vec<u8>, EnvelopeHeader<S>, Vec<Vec<u8>>) {
    let bodies: Vec<Vec<u8>> = parts.iter().map(body).collect();
    let sources = parts
        .iter()
        .zip(&bodies)
        .map(|(p, b)| PartSource {
            info: PartInfo {
                name: p.name.clone(),
                labels: p.labels.clone(),
            },
            len: b.len() as u64,
            reader: Box::new(Cursor::new(b.clone())),
        })
        .collect();
    let sender = Sender {
        org: w.sender_org.organization(),
        cert: &w.sender.cert,
        signing_key: &w.sender.sig,
    };
    let opts = EncryptOptions {
        title: title.into(),
        category: "property".into(),
        chunk_size: CHUNK,
        created: NOW,
    };
    let mut file = Vec::new();
    let header = envelope::encrypt(
        &sender,
        &w.verified(&w.rep),
        &opts,
        sources,
        &mut file,
        rng,
        &mut |_| {},
    )
    .expect("encrypt");
    (file, header, bodies)
}

/// A key holder that claims `claimed` but computes with another member's secret: it passes the
/// "is this the current holder" check, so only the cryptography (capsule + key commitment)
/// stands between it and the plaintext.
struct Impostor<'a, S: Suite> {
    claimed: PublicKey<S>,
    real: &'a SecretKey<S>,
}

impl<S: Suite> KeyHolder<S> for Impostor<'_, S> {
    fn public_key(&self) -> PublicKey<S> {
        self.claimed.clone()
    }
    fn diffie_hellman(&self, q: &S::Point) -> Result<DhOutput<S>, String> {
        self.real.diffie_hellman(q)
    }
}

fn capsule_len<S: Suite>(h: &EnvelopeHeader<S>) -> Vec<usize> {
    h.slots
        .iter()
        .map(|s| {
            let mut w = Writer::new();
            s.capsule.write(&mut w);
            w.as_bytes().len()
        })
        .collect()
}

fn body_bytes<'a, S: Suite>(f: &EnvelopeFile<S>, file: &'a [u8], part: u32) -> &'a [u8] {
    let start = f.body_start(part).expect("body present") as usize;
    &file[start..start + f.header.body_len(part) as usize]
}

fn assert_header_roundtrip<S: Suite>(h: &EnvelopeHeader<S>) {
    let bytes = h.to_bytes();
    let back = EnvelopeHeader::<S>::from_bytes(&bytes).expect("header decodes");
    assert_eq!(&back, h);
    assert_eq!(back.to_bytes(), bytes);
}

// ---------------------------------------------------------------------------------------------
// 1. Envelope round trips

fn envelope_roundtrip<S: Suite>(title: &str, specs: &[PartSpec], seed: u64) {
    let mut rng = rng(seed);
    let w = world::<S>(1, &mut rng);
    let (file, header, bodies) = send_parts(&w, title, specs, &mut rng);
    let f = open::<S>(&file);
    assert_eq!(
        f.header, header,
        "the file's trailer is the header encrypt returned"
    );
    assert_header_roundtrip(&header);
    let bodies_len: u64 = bodies
        .iter()
        .map(|b| soshiki_core::stream::ciphertext_len(b.len() as u64, CHUNK))
        .sum();
    assert_eq!(f.header_offset, PREFIX_LEN + bodies_len);
    assert_eq!(
        file.len() as u64,
        f.header_offset + header.to_bytes().len() as u64 + 16
    );

    let v = f.header.clone().verify().expect("verify");
    let meta = v.open_metadata(&w.rep.enc).expect("metadata");
    let expected = Metadata {
        title: title.into(),
        category: "property".into(),
        parts: specs
            .iter()
            .map(|p| PartInfo {
                name: p.name.clone(),
                labels: p.labels.clone(),
            })
            .collect(),
    };
    assert_eq!(meta, expected);
    assert_eq!(
        Metadata::from_bytes(&meta.to_bytes()).expect("metadata decodes"),
        meta
    );
    for (i, b) in bodies.iter().enumerate() {
        let mut out = Vec::new();
        envelope::decrypt_part(
            &v,
            &f,
            &mut Cursor::new(&file),
            i as u32,
            &w.rep.enc,
            &mut out,
            &mut |_| {},
        )
        .expect("decrypt");
        assert_eq!(&out, b, "part {i}");
        envelope::check_body_digest(&f, &mut Cursor::new(&file), i as u32).expect("digest");
        assert!(matches!(
            read_part::<S>(&file, i as u32, &w.staff[0].enc),
            Err(DecryptError::NotRecipient(_))
        ));
    }
}

proptest! {
    #![proptest_config(Config::with_cases(24))]

    #[test]
    fn envelope_roundtrip_p256(title in "\\PC{0,40}", specs in parts(), seed in any::<u64>()) {
        envelope_roundtrip::<P256>(&title, &specs, seed);
    }

    #[test]
    fn envelope_roundtrip_ristretto(title in "\\PC{0,40}", specs in parts(), seed in any::<u64>()) {
        envelope_roundtrip::<Ristretto255>(&title, &specs, seed);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Random forwarding chains

/// One forwarding action of a plan, interpreted against the current state.
#[derive(Clone, Debug)]
struct Step {
    /// Which copy forwards: 0 = the newest copy that still owns parts, 1 = the one before, ...
    pick: usize,
    /// Which of the copy's owned parts go (bit i = i-th owned part; none set = all).
    mask: u8,
    /// Target member index (rep = 0, staff = 1..); the forwarder itself is skipped.
    target: usize,
    /// Model 2 (split, through a keyless combiner) instead of model 1 (whole).
    split: bool,
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop_oneof![3 => Just(0usize), 1 => 0usize..4],
        any::<u8>(),
        0usize..8,
        any::<bool>(),
    )
        .prop_map(|(pick, mask, target, split)| Step {
            pick,
            mask,
            target,
            split,
        })
}

/// A copy of the envelope held by one member.
struct Holding {
    file: Vec<u8>,
    /// Index into the city's members (rep = 0, staff = 1..).
    holder: usize,
    /// Parts this copy still owns (not yet handed on).
    owned: Vec<u32>,
}

const STAFF: usize = 4;

fn city_members<S: Suite>(w: &World<S>) -> Vec<&Member<S>> {
    std::iter::once(&w.rep).chain(w.staff.iter()).collect()
}

/// Every member of every organization in the world.
fn everyone<S: Suite>(w: &World<S>) -> Vec<&Member<S>> {
    let mut v = city_members(w);
    v.push(&w.sender);
    v.push(&w.outsider);
    v
}

/// Forward `parts` of `copy` to `target` with model 1 or model 2; returns the new file.
#[allow(clippy::too_many_arguments)]
fn forward_once<S: Suite>(
    w: &World<S>,
    copy: &Holding,
    parts: &[u32],
    target: &Member<S>,
    split: bool,
    time: u64,
    rng: &mut ChaCha20Rng,
) -> Vec<u8> {
    let members = city_members(w);
    let me = members[copy.holder];
    let fwd = Forwarder {
        holder: &me.enc,
        signer: &me.sig,
        cert: &me.cert,
    };
    let to = w.verified(target);
    let header = if split {
        // The server holds the header; the forwarder sees C2 values and the metadata slot.
        let stored = open::<S>(&copy.file).header;
        let req = stored.forwarding_request(Some(parts)).expect("request");
        let wire = req.to_bytes();
        for s in stored.slots.iter().filter(|s| !s.slot.is_metadata()) {
            let c1 = S::point_to_bytes(&s.capsule.c1);
            assert!(
                !wire.windows(c1.len()).any(|x| x == c1.as_slice()),
                "no part's C1 reaches a model-2 forwarder"
            );
        }
        let req = ForwardingRequest::<S>::from_bytes(&wire).expect("request decodes");
        assert_eq!(req.to_bytes(), wire);
        let verified = req.clone().verify().expect("request verifies");
        let resp = verified
            .make_hops(&fwd, &to, Some(parts), time, rng)
            .expect("make hops");
        let resp_wire = resp.to_bytes();
        let resp = ForwardResponse::<S>::from_bytes(&resp_wire).expect("response decodes");
        assert_eq!(resp.to_bytes(), resp_wire);
        stored.apply_forward(&resp).expect("combiner applies")
    } else {
        let f = open::<S>(&copy.file);
        let v = f.header.clone().verify().expect("verify before forwarding");
        v.forward(&fwd, &to, Some(parts), time, rng)
            .expect("forward")
    };
    assert_header_roundtrip(&header);
    rewrap(&copy.file, &header)
}

fn check_step<S: Suite>(original: &[u8], before: &[u8], after: &[u8], parts: &[u32]) {
    let (f0, fb, fa) = (open::<S>(original), open::<S>(before), open::<S>(after));
    fa.header
        .clone()
        .verify()
        .expect("the forwarded envelope verifies");
    // Capsules never grow: every slot's capsule is two points, at every hop.
    assert!(capsule_len(&fa.header)
        .iter()
        .all(|n| *n == 2 * S::POINT_LEN));
    let mut want: Vec<SlotId> = std::iter::once(SlotId::METADATA)
        .chain(parts.iter().map(|p| part_slot(*p)))
        .collect();
    want.sort();
    assert_eq!(
        fa.header.slots.iter().map(|s| s.slot).collect::<Vec<_>>(),
        want
    );
    assert_eq!(fa.header.bodies, parts);
    for s in &fa.header.slots {
        let prev = fb.header.slot(s.slot).expect("slot was held");
        assert_eq!(s.hops.len(), prev.hops.len() + 1, "one hop per forward");
        assert_eq!(
            &s.hops[..prev.hops.len()],
            &prev.hops[..],
            "history is kept"
        );
        assert_ne!(s.capsule, prev.capsule, "a fresh capsule");
    }
    // Bodies are copied byte for byte from the sender's file: forwarding never touches them.
    for p in parts {
        assert_eq!(body_bytes(&fa, after, *p), body_bytes(&f0, original, *p));
    }
}

fn check_final<S: Suite>(w: &World<S>, copy: &Holding, bodies: &[Vec<u8>]) {
    let members = city_members(w);
    let holder = members[copy.holder];
    let f = open::<S>(&copy.file);
    let v = f.header.clone().verify().expect("verify");
    for p in &copy.owned {
        let mut out = Vec::new();
        envelope::decrypt_part(
            &v,
            &f,
            &mut Cursor::new(&copy.file),
            *p,
            &holder.enc,
            &mut out,
            &mut |_| {},
        )
        .expect("final reader decrypts");
        assert_eq!(&out, &bodies[*p as usize], "part {p}");
        for m in everyone(w) {
            if m.enc.public_key() == holder.enc.public_key() {
                continue;
            }
            let mut out = Vec::new();
            let r = envelope::decrypt_part(
                &v,
                &f,
                &mut Cursor::new(&copy.file),
                *p,
                &m.enc,
                &mut out,
                &mut |_| {},
            );
            assert!(matches!(r, Err(DecryptError::NotRecipient(_))), "{r:?}");
            assert!(out.is_empty());
            // Even bypassing the holder check, another key does not open the capsule.
            let imp = Impostor {
                claimed: holder.enc.public_key().clone(),
                real: &m.enc,
            };
            assert!(matches!(
                v.open_slot(part_slot(*p), &imp),
                Err(DecryptError::Failed)
            ));
        }
    }
    // Exactly its parts: the copy holds the metadata and the parts routed to this reader, all
    // held by it; every other part is not in it.
    let held = v.slots_held_by(holder.enc.public_key());
    assert_eq!(
        held,
        f.header.slots.iter().map(|s| s.slot).collect::<Vec<_>>()
    );
    for p in 0..bodies.len() as u32 {
        if f.header.slot(part_slot(p)).is_none() {
            let mut out = Vec::new();
            let r = envelope::decrypt_part(
                &v,
                &f,
                &mut Cursor::new(&copy.file),
                p,
                &holder.enc,
                &mut out,
                &mut |_| {},
            );
            assert!(matches!(r, Err(DecryptError::NotRecipient(_))), "{r:?}");
        }
    }
    // The reader can read the routing labels too.
    let meta = v.open_metadata(&holder.enc).expect("metadata");
    assert_eq!(meta.parts.len(), bodies.len());
}

fn chain<S: Suite>(specs: &[PartSpec], steps: &[Step], seed: u64) {
    let mut rng = rng(seed);
    let w = world::<S>(STAFF, &mut rng);
    let (file, _, bodies) = send_parts(&w, "chain", specs, &mut rng);
    let n = city_members(&w).len();
    let mut copies = vec![Holding {
        file: file.clone(),
        holder: 0,
        owned: (0..specs.len() as u32).collect(),
    }];
    for (i, st) in steps.iter().enumerate() {
        let live: Vec<usize> = (0..copies.len())
            .filter(|c| !copies[*c].owned.is_empty())
            .collect();
        let Some(&ci) = live.get(live.len() - 1 - st.pick % live.len()) else {
            break;
        };
        let owned = &copies[ci].owned;
        let mut parts: Vec<u32> = owned
            .iter()
            .enumerate()
            .filter(|(k, _)| st.mask >> (k % 8) & 1 == 1)
            .map(|(_, p)| *p)
            .collect();
        if parts.is_empty() {
            parts = owned.clone();
        }
        let mut t = st.target % n;
        if t == copies[ci].holder {
            t = (t + 1) % n;
        }
        let target = city_members(&w)[t];
        let new = forward_once(
            &w,
            &copies[ci],
            &parts,
            target,
            st.split,
            NOW + 10 * (i as u64 + 1),
            &mut rng,
        );
        check_step::<S>(&file, &copies[ci].file, &new, &parts);
        copies[ci].owned.retain(|p| !parts.contains(p));
        copies.push(Holding {
            file: new,
            holder: t,
            owned: parts,
        });
    }
    // Every part is owned by exactly one copy: its final reader.
    let mut all: Vec<u32> = copies
        .iter()
        .flat_map(|c| c.owned.iter().copied())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..specs.len() as u32).collect::<Vec<_>>());
    for c in copies.iter().filter(|c| !c.owned.is_empty()) {
        check_final(&w, c, &bodies);
    }
}

fn small_parts() -> impl Strategy<Value = Vec<PartSpec>> {
    prop::collection::vec(
        (
            prop::collection::vec(label(), 0..=2),
            body_len(),
            any::<u8>(),
        )
            .prop_map(|(labels, len, fill)| PartSpec {
                name: "p".into(),
                labels,
                len,
                fill,
            }),
        1..=5,
    )
}

proptest! {
    #![proptest_config(Config::with_cases(24))]

    #[test]
    fn random_chains_p256(specs in small_parts(), steps in prop::collection::vec(step(), 0..=16), seed in any::<u64>()) {
        chain::<P256>(&specs, &steps, seed);
    }

    #[test]
    fn random_chains_ristretto(specs in small_parts(), steps in prop::collection::vec(step(), 0..=16), seed in any::<u64>()) {
        chain::<Ristretto255>(&specs, &steps, seed);
    }
}

/// Exactly 16 hops on one path, whole and split mixed at random, all parts travelling together:
/// the capsule stays two points and every earlier holder is locked out.
fn sixteen_hops<S: Suite>(modes: &[bool], targets: &[usize], seed: u64) {
    let steps: Vec<Step> = modes
        .iter()
        .zip(targets)
        .map(|(split, target)| Step {
            pick: 0,
            mask: 0xff,
            target: *target,
            split: *split,
        })
        .collect();
    let specs: Vec<PartSpec> = [0usize, 1024, 1500]
        .iter()
        .map(|len| PartSpec {
            name: "p".into(),
            labels: vec![],
            len: *len,
            fill: 1,
        })
        .collect();
    chain::<S>(&specs, &steps, seed);
}

proptest! {
    #![proptest_config(Config::with_cases(4))]

    #[test]
    fn sixteen_hops_p256(modes in prop::collection::vec(any::<bool>(), 16), targets in prop::collection::vec(0usize..8, 16), seed in any::<u64>()) {
        sixteen_hops::<P256>(&modes, &targets, seed);
    }

    #[test]
    fn sixteen_hops_ristretto(modes in prop::collection::vec(any::<bool>(), 16), targets in prop::collection::vec(0usize..8, 16), seed in any::<u64>()) {
        sixteen_hops::<Ristretto255>(&modes, &targets, seed);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Wire round trips of the smaller objects

fn metadata() -> impl Strategy<Value = Metadata> {
    (
        "\\PC{0,64}",
        "\\PC{0,16}",
        prop::collection::vec(
            ("\\PC{0,32}", prop::collection::vec(label(), 0..=16)),
            0..=8,
        ),
    )
        .prop_map(|(title, category, parts)| Metadata {
            title,
            category,
            parts: parts
                .into_iter()
                .map(|(name, labels)| PartInfo { name, labels })
                .collect(),
        })
}

fn certificate_roundtrip<S: Suite>(name: &str, org_name: &str, roles: u8, seed: u64) {
    let mut rng = rng(seed);
    let org =
        soshiki_core::cert::OrganizationKey::<S>::generate(org_name, NOW, &mut rng).expect("org");
    let bytes = org.organization().to_bytes();
    let back = Organization::<S>::from_bytes(&bytes).expect("organization decodes");
    assert_eq!(&back, org.organization());
    assert_eq!(back.to_bytes(), bytes);
    let m = member(
        &org,
        name,
        Roles::from_bits(roles & 0x1f).expect("roles"),
        &mut rng,
    );
    let bytes = m.cert.to_bytes();
    let back = Certificate::<S>::from_bytes(&bytes).expect("certificate decodes");
    assert_eq!(back, m.cert);
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(back.fingerprint(), m.cert.fingerprint());
    back.clone()
        .verify(org.organization(), NOW)
        .expect("still verifies");
}

proptest! {
    #![proptest_config(Config::with_cases(64))]

    #[test]
    fn metadata_roundtrip(m in metadata()) {
        let bytes = m.to_bytes();
        let back = Metadata::from_bytes(&bytes).expect("decodes");
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.to_bytes(), bytes.clone());
        // Any strict prefix is rejected, never misread.
        prop_assert!(Metadata::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    }
}

proptest! {
    #![proptest_config(Config::with_cases(16))]

    #[test]
    fn certificate_roundtrip_p256(name in "\\PC{1,40}", org in "\\PC{1,40}", roles in any::<u8>(), seed in any::<u64>()) {
        certificate_roundtrip::<P256>(&name, &org, roles, seed);
    }

    #[test]
    fn certificate_roundtrip_ristretto(name in "\\PC{1,40}", org in "\\PC{1,40}", roles in any::<u8>(), seed in any::<u64>()) {
        certificate_roundtrip::<Ristretto255>(&name, &org, roles, seed);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Single-byte flips

/// What the reader gets from a (possibly damaged) file: for each part, the plaintext or the
/// stage at which it was refused.
fn read_all<S: Suite>(
    file: &[u8],
    key: &SecretKey<S>,
    parts: u32,
) -> Vec<Result<Vec<u8>, &'static str>> {
    let f = match EnvelopeFile::<S>::open(&mut Cursor::new(file)) {
        Ok(f) => f,
        Err(_) => return vec![Err("open")],
    };
    let v = match f.header.clone().verify() {
        Ok(v) => v,
        Err(_) => return vec![Err("verify")],
    };
    (0..parts)
        .map(|i| {
            let mut out = Vec::new();
            envelope::decrypt_part(
                &v,
                &f,
                &mut Cursor::new(file),
                i,
                key,
                &mut out,
                &mut |_| {},
            )
            .map(|()| out)
            .map_err(|_| "decrypt")
        })
        .collect()
}

fn byte_flips<S: Suite>(cases: u32) {
    let mut rng = rng(77);
    let w = world::<S>(1, &mut rng);
    let specs = [
        PartSpec {
            name: "a".into(),
            labels: vec![],
            len: 100,
            fill: 3,
        },
        PartSpec {
            name: "b".into(),
            labels: vec![],
            len: 1500,
            fill: 4,
        },
    ];
    let (file, _, bodies) = send_parts(&w, "flip", &specs, &mut rng);
    // One hop (model 1), so that hop proofs and carried certificates are in the file too.
    let copy = Holding {
        file,
        holder: 0,
        owned: vec![0, 1],
    };
    let file = forward_once(&w, &copy, &[0, 1], &w.staff[0], false, NOW + 1, &mut rng);
    let reader = &w.staff[0].enc;
    assert_eq!(
        read_all::<S>(&file, reader, 2),
        bodies.iter().cloned().map(Ok).collect::<Vec<_>>()
    );
    let f = open::<S>(&file);
    let body_ranges: Vec<std::ops::Range<usize>> = (0..2)
        .map(|p| {
            let start = f.body_start(p).expect("body") as usize;
            start..start + f.header.body_len(p) as usize
        })
        .collect();

    let mut runner = TestRunner::new(Config::with_cases(cases));
    runner
        .run(&(any::<Index>(), 1u8..=255), |(pos, mask)| {
            let mut damaged = file.clone();
            let at = pos.index(damaged.len());
            damaged[at] ^= mask;
            for (i, r) in read_all::<S>(&damaged, reader, 2).into_iter().enumerate() {
                if let Ok(pt) = r {
                    // Never another plaintext; and a part reads at all only if the flip hit
                    // another part's body (bodies are independent), never the header.
                    prop_assert_eq!(
                        &pt,
                        &bodies[i],
                        "flip at {} (^{:#04x}) gave another plaintext for part {}",
                        at,
                        mask,
                        i
                    );
                    let elsewhere = body_ranges
                        .iter()
                        .enumerate()
                        .any(|(j, range)| j != i && range.contains(&at));
                    prop_assert!(
                        elsewhere,
                        "flip at {} (^{:#04x}) was not detected for part {}",
                        at,
                        mask,
                        i
                    );
                }
            }
            Ok(())
        })
        .expect("every flip is detected and none yields a different plaintext");
}

#[test]
fn byte_flips_never_change_plaintext_p256() {
    byte_flips::<P256>(400);
}

#[test]
fn byte_flips_never_change_plaintext_ristretto() {
    byte_flips::<Ristretto255>(400);
}
