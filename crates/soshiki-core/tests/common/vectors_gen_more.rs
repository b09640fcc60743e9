//! Vectors added in the review of the wire specification (SPEC.md §11, §12): signed hops by key
//! holders that cannot prove (an x-only card for P-256, a non-extractable key for
//! Ristretto255), forwards that drop parts and bodies (model 1 and model 2), the combiner's
//! shape checks, role / validity / organization failures of writers, forwarders and readers,
//! the hop limit, non-canonical encodings, and identity-file verification with its time.
//!
//! Included with `#[path]` next to `vectors_gen.rs` by `examples/generate_vectors.rs` and by
//! `tests/vectors.rs`. Same rules as there: one ChaCha20 generator per file, seeded with SHA-256
//! of a fixed label, and constant times, so the output is the same on every machine.

#![allow(dead_code)] // the example and the test each use a different part of this module

use std::io::Cursor;

use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use soshiki_core::cert::{Certificate, CertificateRequest, OrganizationKey, Roles};
use soshiki_core::envelope::{
    self, EncryptOptions, EnvelopeFile, EnvelopeHeader, Forwarder, Hop, PartInfo, PartSource,
    Sender, SlotId,
};
use soshiki_core::keyfile::MemberIdentity;
use soshiki_core::keys::{DhOutput, EcdhOnlyKey, KeyHolder, PublicKey, SecretKey, SigningKey};
use soshiki_core::scheme::{make_share, Capsule, HopAuth, HopContext, HopStatement};
use soshiki_core::split::ForwardResponse;
use soshiki_core::suite::{Suite, SuiteId};
use soshiki_core::with_suite;

use super::vectors_gen::{
    encode_statement, fixture, part_slot, rng_for, ArmorDecodeCase, ArmorFile, ArmorNegative,
    Fixture, GenResult, Member, OrgInfo, CHUNK, NOW, VALIDITY,
};

/// Every file of this module: `(file name, pretty JSON ending in a newline)`.
pub fn generate_more() -> GenResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for id in [SuiteId::P256, SuiteId::Ristretto255] {
        let name = id.name();
        with_suite!(id, S => {
            let mut w = world::<S>()?;
            out.push((format!("hops-{name}.json"), to_json(&hops_vector(&w)?)?));
            out.push((format!("negative-more-{name}.json"), to_json(&negative_more(&mut w)?)?));
            out.push((format!("identity-{name}.json"), to_json(&identity_vector::<S>()?)?));
        });
    }
    out.push(("armor-more.json".into(), to_json(&armor_more()?)?));
    Ok(out)
}

fn to_json<T: Serialize>(v: &T) -> GenResult<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

fn hx(b: impl AsRef<[u8]>) -> String {
    hex::encode(b)
}

fn pt<S: Suite>(p: &S::Point) -> String {
    hex::encode(S::point_to_bytes(p))
}

fn org_info<S: Suite>(o: &OrganizationKey<S>) -> OrgInfo {
    let rec = o.organization();
    OrgInfo {
        name: rec.name.clone(),
        record: hx(rec.to_bytes()),
        fingerprint: rec.fingerprint().to_hex(),
    }
}

fn member<S: Suite>(
    org: &OrganizationKey<S>,
    name: &str,
    roles: Roles,
    validity: (u64, u64),
    rng: &mut ChaCha20Rng,
) -> GenResult<Member<S>> {
    let enc = SecretKey::<S>::generate(rng);
    let sig = SigningKey::<S>::generate(rng);
    certify(org, name, roles, validity, enc, sig, rng)
}

/// Certify existing keys (a second certificate for the same keys, other roles or validity).
fn certify<S: Suite>(
    org: &OrganizationKey<S>,
    name: &str,
    roles: Roles,
    (not_before, not_after): (u64, u64),
    enc: SecretKey<S>,
    sig: SigningKey<S>,
    rng: &mut ChaCha20Rng,
) -> GenResult<Member<S>> {
    let req = CertificateRequest {
        member_name: name.into(),
        roles,
        encryption_key: enc.public_key().clone(),
        signing_key: sig.verifying_key(),
        not_before,
        not_after,
    };
    let cert = org.certify(&req, rng)?;
    Ok(Member {
        name: name.into(),
        enc,
        sig,
        cert,
    })
}

fn clone_member<S: Suite>(m: &Member<S>) -> GenResult<Member<S>> {
    Ok(Member {
        name: m.name.clone(),
        enc: m.enc.clone(),
        sig: SigningKey::from_secret_bytes(&m.sig.to_secret_bytes()[..])?,
        cert: m.cert.clone(),
    })
}

/// A key holder that cannot make a proof, so that its hops are signed (SPEC.md §4.4): for
/// P-256 a card that returns only ECDH x-coordinates ([`EcdhOnlyKey`]); Ristretto255 has no
/// x-only holders, so a non-extractable key that returns whole points but never its scalar.
pub enum Card<S: Suite> {
    XOnly(EcdhOnlyKey<S>),
    NonExtractable(SecretKey<S>),
}

impl<S: Suite> Card<S> {
    pub fn new(key: &SecretKey<S>) -> Self {
        match S::ID {
            SuiteId::P256 => Card::XOnly(EcdhOnlyKey::new(key.clone())),
            SuiteId::Ristretto255 => Card::NonExtractable(key.clone()),
        }
    }

    pub fn description() -> &'static str {
        match S::ID {
            SuiteId::P256 => "x-only ECDH key holder (smart card): returns x(a·Q) only",
            SuiteId::Ristretto255 => "non-extractable key holder: returns a·Q, never a",
        }
    }
}

impl<S: Suite> KeyHolder<S> for Card<S> {
    fn public_key(&self) -> PublicKey<S> {
        match self {
            Card::XOnly(k) => k.public_key(),
            Card::NonExtractable(k) => k.public_key().clone(),
        }
    }

    fn diffie_hellman(&self, q: &S::Point) -> Result<DhOutput<S>, String> {
        match self {
            Card::XOnly(k) => k.diffie_hellman(q),
            // Deliberately not `secret_key()`: this holder cannot prove.
            Card::NonExtractable(k) => k.diffie_hellman(q),
        }
    }
}

/// The envelope fixture of `envelope-<suite>.json` plus the members the failure cases need.
pub struct World<S: Suite> {
    pub f: Fixture<S>,
    /// Another organization whose name is the receiving organization's.
    pub other_city: OrganizationKey<S>,
    /// A forwarder and reader of the other organization.
    pub outsider: Member<S>,
    /// An administrator of the receiving organization without any envelope role.
    pub clerk: Member<S>,
    /// A reader of the receiving organization whose certificate starts at `NOW + 1000`.
    pub late: Member<S>,
    /// Two forwarders who pass a one-part envelope back and forth up to the hop limit.
    pub ping: Member<S>,
    pub pong: Member<S>,
    /// The sender's keys certified with no role at all.
    pub bare_sender: Member<S>,
    pub rng: ChaCha20Rng,
}

pub fn world<S: Suite>() -> GenResult<World<S>> {
    let f = fixture::<S>()?;
    let mut rng = rng_for(&format!("review-vectors-{}", S::ID.name()));
    let other_city = OrganizationKey::<S>::generate("大町市 市民課", NOW, &mut rng)?;
    let valid = (NOW, NOW + VALIDITY);
    let both = Roles::FORWARDER.union(Roles::READER);
    let outsider = member(&other_city, "他組織の職員", both, valid, &mut rng)?;
    let clerk = member(&f.city, "管理者", Roles::ADMIN, valid, &mut rng)?;
    let late = member(
        &f.city,
        "新任担当",
        Roles::READER,
        (NOW + 1000, NOW + VALIDITY),
        &mut rng,
    )?;
    let ping = member(&f.city, "転送担当A", both, valid, &mut rng)?;
    let pong = member(&f.city, "転送担当B", both, valid, &mut rng)?;
    let bare_sender = certify(
        &f.sender_org,
        "送信担当",
        Roles::empty(),
        valid,
        f.sender.enc.clone(),
        SigningKey::from_secret_bytes(&f.sender.sig.to_secret_bytes()[..])?,
        &mut rng,
    )?;
    Ok(World {
        f,
        other_city,
        outsider,
        clerk,
        late,
        ping,
        pong,
        bare_sender,
        rng,
    })
}

/// `prefix ‖ the bodies the new header keeps ‖ header ‖ footer`, copied from `src` as
/// `write_forwarded` does (SPEC.md §8).
fn forwarded_file<S: Suite>(src: &[u8], h: &EnvelopeHeader<S>) -> GenResult<Vec<u8>> {
    let file = EnvelopeFile::<S>::open(&mut Cursor::new(src))?;
    let mut out = Vec::new();
    envelope::write_forwarded(&file, &mut Cursor::new(src), h, &mut out, &mut |_| {})?;
    Ok(out)
}

/// One hop made without any of the forwarder's checks (for headers and responses that a
/// reader or the combiner must refuse): `make_share` over the statement of SPEC.md §4.3.
#[allow(clippy::too_many_arguments)]
fn raw_hop<S: Suite>(
    envelope_id: [u8; 16],
    slot: SlotId,
    hops_before: usize,
    c2: &S::Point,
    fwd: &Member<S>,
    target: &Certificate<S>,
    time: u64,
    rng: &mut ChaCha20Rng,
) -> GenResult<Hop<S>> {
    let ctx = HopContext {
        envelope_id,
        slot,
        hop_index: (hops_before + 1) as u16,
        forwarder_cert: fwd.cert.fingerprint(),
        target_cert: target.fingerprint(),
        time,
    };
    let st = HopStatement {
        context: &ctx,
        from: &fwd.cert.encryption_key,
        to: &target.encryption_key,
        c2,
    };
    let share = make_share(&st, &fwd.enc, Some(&fwd.sig), rng)?;
    Ok(Hop {
        forwarder_cert: ctx.forwarder_cert,
        target_cert: ctx.target_cert,
        time,
        x: share.x,
        c2_new: share.c2_new,
        auth: share.auth,
    })
}

/// Append a hop to every slot of `h` without checks, adding the certificates as §7.6 does.
fn raw_forward<S: Suite>(
    h: &EnvelopeHeader<S>,
    fwd: &Member<S>,
    target: &Certificate<S>,
    time: u64,
    rng: &mut ChaCha20Rng,
) -> GenResult<EnvelopeHeader<S>> {
    let mut out = h.clone();
    for slot in &mut out.slots {
        let hop = raw_hop(
            h.core.envelope_id,
            slot.slot,
            slot.hops.len(),
            &slot.capsule.c2,
            fwd,
            target,
            time,
            rng,
        )?;
        slot.capsule = Capsule {
            c1: S::sub(&slot.capsule.c1, &hop.x),
            c2: hop.c2_new.clone(),
        };
        slot.hops.push(hop);
    }
    for c in [&fwd.cert, target] {
        if c.fingerprint() != h.core.recipient_cert.fingerprint()
            && !out
                .certificates
                .iter()
                .any(|x| x.fingerprint() == c.fingerprint())
        {
            out.certificates.push(c.clone());
        }
    }
    Ok(out)
}

/// A response (SPEC.md §7.3) for every slot of `h`, made without the forwarder's checks.
fn raw_response<S: Suite>(
    h: &EnvelopeHeader<S>,
    fwd: &Member<S>,
    target: &Certificate<S>,
    time: u64,
    rng: &mut ChaCha20Rng,
) -> GenResult<ForwardResponse<S>> {
    let mut hops = Vec::new();
    for slot in &h.slots {
        let hop = raw_hop(
            h.core.envelope_id,
            slot.slot,
            slot.hops.len(),
            &slot.capsule.c2,
            fwd,
            target,
            time,
            rng,
        )?;
        hops.push((slot.slot, hop));
    }
    Ok(ForwardResponse {
        forwarder: fwd.cert.clone(),
        target: target.clone(),
        hops,
    })
}

/// Re-sign a header's core with the sender's key (SPEC.md §7): so that only a later check fails.
fn resign<S: Suite>(
    h: &mut EnvelopeHeader<S>,
    sender: &SigningKey<S>,
    rng: &mut ChaCha20Rng,
) -> GenResult<()> {
    let bytes = h.to_bytes();
    let at = bytes
        .windows(64)
        .position(|w| w == h.sender_signature)
        .ok_or("sender signature not found")?;
    let mut msg = b"soshiki/v1/envelope-signature".to_vec();
    msg.extend_from_slice(&bytes[..at]);
    h.sender_signature = sender.sign(&msg, rng);
    Ok(())
}

/// A one-part envelope from the fixture's sender to its representative.
fn small_envelope<S: Suite>(w: &mut World<S>) -> GenResult<(Vec<u8>, EnvelopeHeader<S>)> {
    let f = &w.f;
    let to = f.rep.cert.verify(f.city.organization(), NOW)?;
    let sender = Sender {
        org: f.sender_org.organization(),
        cert: &f.sender.cert,
        signing_key: &f.sender.sig,
    };
    let opts = EncryptOptions {
        title: "ホップ上限".into(),
        category: "limit".into(),
        chunk_size: CHUNK,
        created: NOW,
    };
    let parts = vec![PartSource {
        info: PartInfo {
            name: "one.txt".into(),
            labels: vec![],
        },
        len: 3,
        reader: Box::new(&b"abc"[..]),
    }];
    let mut file = Vec::new();
    let h = envelope::encrypt(
        &sender,
        &to,
        &opts,
        parts,
        &mut file,
        &mut w.rng,
        &mut |_| {},
    )?;
    Ok((file, h))
}

/// The one-part envelope after 64 hops in every slot: the representative to A, then A and B
/// alternately, one minute apart. Its current holder is B.
fn at_hop_limit<S: Suite>(w: &mut World<S>) -> GenResult<EnvelopeHeader<S>> {
    let (_, mut h) = small_envelope(w)?;
    let rep = clone_member(&w.f.rep)?;
    let ping = clone_member(&w.ping)?;
    let pong = clone_member(&w.pong)?;
    for i in 0..64u64 {
        let (from, to) = match i {
            0 => (&rep, &ping),
            i if i % 2 == 1 => (&ping, &pong),
            _ => (&pong, &ping),
        };
        h = raw_forward(&h, from, &to.cert, NOW + 60 * (i + 1), &mut w.rng)?;
    }
    h.clone().verify()?;
    Ok(h)
}

// ---------------------------------------------------------------------------------------------
// hops-<suite>.json

/// `hops-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct HopsFile {
    pub suite: String,
    pub description: String,
    pub sender_organization: OrgInfo,
    pub recipient_organization: OrgInfo,
    pub members: Vec<HopMember>,
    /// The original file of `envelope-<suite>.json` (same fixture).
    pub original_file: String,
    pub steps: Vec<HopStep>,
}

/// A member of the receiving organization, with its encryption secret.
#[derive(Debug, Serialize, Deserialize)]
pub struct HopMember {
    pub name: String,
    pub roles: Vec<String>,
    pub certificate: String,
    pub certificate_fingerprint: String,
    pub encryption_public: String,
    pub signing_public: String,
    pub encryption_secret: String,
    /// `file key` or the kind of holder that cannot prove (its hops are signed).
    pub key_holder: String,
}

/// One forward.
#[derive(Debug, Serialize, Deserialize)]
pub struct HopStep {
    pub name: String,
    /// `whole` (model 1) or `split` (model 2).
    pub model: String,
    /// `original` or the name of the step whose header and file this one forwards.
    pub source: String,
    pub from: String,
    pub to: String,
    pub time: u64,
    /// Model 2: the parts the request offers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered: Option<Vec<u32>>,
    /// The parts forwarded (the metadata slot always is).
    pub forwarded: Vec<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// The target's header, and its slot numbers and body list.
    pub header: String,
    pub slots: Vec<u32>,
    pub bodies: Vec<u32>,
    /// `prefix ‖ kept bodies ‖ header ‖ footer` (a new file, since bodies were dropped or the
    /// source is itself such a file).
    pub file: String,
    /// The hops of this step that carry a signature (kind 2) instead of a proof.
    pub signed_hops: Vec<SignedHop>,
    /// What the target can and cannot decrypt from `file`.
    pub reads: Vec<ReadCase>,
}

/// A signed hop and everything needed to check it (SPEC.md §4.4).
#[derive(Debug, Serialize, Deserialize)]
pub struct SignedHop {
    pub slot: u32,
    pub hop_index: u16,
    pub envelope_id: String,
    pub forwarder_cert: String,
    pub target_cert: String,
    pub time: u64,
    #[serde(rename = "A")]
    pub big_a: String,
    #[serde(rename = "B")]
    pub big_b: String,
    #[serde(rename = "C2")]
    pub c2: String,
    #[serde(rename = "C2_prime")]
    pub c2_prime: String,
    #[serde(rename = "X")]
    pub x: String,
    pub statement: String,
    /// `"soshiki/v1/hop-signature" ‖ statement`
    pub signed_message: String,
    pub signature: String,
    pub forwarder_signing_public: String,
}

/// Decrypting `part` of the step's file with the target's key: `ok` with the plaintext, or the
/// exact error.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReadCase {
    pub part: u32,
    pub expected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<String>,
}

fn hop_member<S: Suite>(m: &Member<S>, key_holder: &str) -> HopMember {
    HopMember {
        name: m.name.clone(),
        roles: m.cert.roles.names().into_iter().map(String::from).collect(),
        certificate: hx(m.cert.to_bytes()),
        certificate_fingerprint: m.cert.fingerprint().to_hex(),
        encryption_public: hx(m.enc.public_key().to_bytes()),
        signing_public: hx(m.sig.verifying_key().to_bytes()),
        encryption_secret: hx(&m.enc.to_secret_bytes()[..]),
        key_holder: key_holder.into(),
    }
}

/// The signed hops appended by the forward from `before` to `after`.
fn signed_hops<S: Suite>(
    before: &EnvelopeHeader<S>,
    after: &EnvelopeHeader<S>,
    fwd: &Member<S>,
    target: &Member<S>,
) -> GenResult<Vec<SignedHop>> {
    let mut out = Vec::new();
    for slot in &after.slots {
        let prev = before.slot(slot.slot).ok_or("slot missing before")?;
        let hop = slot.hops.last().ok_or("no hop")?;
        let HopAuth::Signature(sig) = &hop.auth else {
            return Err("a card's hop carries a proof".into());
        };
        let ctx = HopContext {
            envelope_id: after.core.envelope_id,
            slot: slot.slot,
            hop_index: slot.hops.len() as u16,
            forwarder_cert: hop.forwarder_cert,
            target_cert: hop.target_cert,
            time: hop.time,
        };
        let statement = encode_statement::<S>(
            &ctx,
            fwd.enc.public_key().point(),
            target.enc.public_key().point(),
            &prev.capsule.c2,
            &hop.c2_new,
            &hop.x,
        );
        let mut signed_message = b"soshiki/v1/hop-signature".to_vec();
        signed_message.extend_from_slice(&statement);
        if !fwd.sig.verifying_key().verify(&signed_message, sig) {
            return Err("signed hop does not verify over the spec's statement".into());
        }
        out.push(SignedHop {
            slot: slot.slot.to_wire(),
            hop_index: ctx.hop_index,
            envelope_id: hx(ctx.envelope_id),
            forwarder_cert: ctx.forwarder_cert.to_hex(),
            target_cert: ctx.target_cert.to_hex(),
            time: hop.time,
            big_a: hx(fwd.enc.public_key().to_bytes()),
            big_b: hx(target.enc.public_key().to_bytes()),
            c2: pt::<S>(&prev.capsule.c2),
            c2_prime: pt::<S>(&hop.c2_new),
            x: pt::<S>(&hop.x),
            statement: hx(&statement),
            signed_message: hx(&signed_message),
            signature: hx(sig),
            forwarder_signing_public: hx(fwd.sig.verifying_key().to_bytes()),
        });
    }
    Ok(out)
}

/// What `reader` decrypts of each part of `file`.
fn reads<S: Suite>(
    file: &[u8],
    reader: &Member<S>,
    parts: u32,
    plaintexts: &[Vec<u8>],
) -> GenResult<Vec<ReadCase>> {
    let mut out = Vec::new();
    let opened = EnvelopeFile::<S>::open(&mut Cursor::new(file))?;
    let verified = opened.header.clone().verify()?;
    for part in 0..parts {
        let mut pt = Vec::new();
        let r = envelope::decrypt_part(
            &verified,
            &opened,
            &mut Cursor::new(file),
            part,
            &reader.enc,
            &mut pt,
            &mut |_| {},
        );
        out.push(match r {
            Ok(()) => {
                if pt != plaintexts[part as usize] {
                    return Err("wrong plaintext".into());
                }
                ReadCase {
                    part,
                    expected: "ok".into(),
                    expected_kind: None,
                    plaintext: Some(hx(&pt)),
                }
            }
            Err(e) => ReadCase {
                part,
                expected: e.to_string(),
                expected_kind: Some(decrypt_kind(&e).into()),
                plaintext: None,
            },
        });
    }
    Ok(out)
}

fn decrypt_kind(e: &soshiki_core::error::DecryptError) -> &'static str {
    use soshiki_core::error::DecryptError as E;
    match e {
        E::NotRecipient(_) => "not-recipient",
        E::Failed => "failed",
        _ => "other",
    }
}

fn hops_vector<S: Suite>(w: &World<S>) -> GenResult<HopsFile> {
    let f = &w.f;
    let mut rng = rng_for(&format!("hops-{}", S::ID.name()));
    let city = f.city.organization();
    let card = Card::new(&f.chief.enc);
    let rep_fwd = Forwarder {
        holder: &f.rep.enc,
        signer: &f.rep.sig,
        cert: &f.rep.cert,
    };
    let card_fwd = Forwarder {
        holder: &card,
        signer: &f.chief.sig,
        cert: &f.chief.cert,
    };
    let names = |v: &[u32]| v.to_vec();
    let mut steps = Vec::new();

    // A: model 1, the representative forwards only part 1 (part 0 and its body are dropped).
    let t_a = NOW + 60;
    let h_a = f.h0.clone().verify()?.forward(
        &rep_fwd,
        &f.chief.cert.verify(city, t_a)?,
        Some(&[1]),
        t_a,
        &mut rng,
    )?;
    let file_a = forwarded_file(&f.original, &h_a)?;
    // B: model 1, the chief's card forwards what it holds to the staff member: signed hops.
    let t_b = NOW + 120;
    let h_b = h_a.clone().verify()?.forward(
        &card_fwd,
        &f.staff.cert.verify(city, t_b)?,
        None,
        t_b,
        &mut rng,
    )?;
    let file_b = forwarded_file(&file_a, &h_b)?;
    // C: model 2, the request offers both parts, the representative forwards part 0 only.
    let t_c = NOW + 180;
    let req_c = f.h0.forwarding_request(None)?;
    let resp_c = req_c.clone().verify()?.make_hops(
        &rep_fwd,
        &f.chief.cert.verify(city, t_c)?,
        Some(&[0]),
        t_c,
        &mut rng,
    )?;
    let h_c = f.h0.apply_forward(&resp_c)?;
    let file_c = forwarded_file(&f.original, &h_c)?;
    // D: model 2, the request offers part 0 only; the chief's card answers: signed hops.
    let t_d = NOW + 240;
    let req_d = h_c.forwarding_request(Some(&[0]))?;
    let resp_d = req_d.clone().verify()?.make_hops(
        &card_fwd,
        &f.staff.cert.verify(city, t_d)?,
        None,
        t_d,
        &mut rng,
    )?;
    let h_d = h_c.apply_forward(&resp_d)?;
    let file_d = forwarded_file(&file_c, &h_d)?;

    let slots =
        |h: &EnvelopeHeader<S>| h.slots.iter().map(|s| s.slot.to_wire()).collect::<Vec<_>>();
    let n = f.h0.core.parts.len() as u32;
    for (name, model, source, from, to, time, offered, forwarded, req, resp, h, prev, file) in [
        (
            "A",
            "whole",
            "original",
            &f.rep,
            &f.chief,
            t_a,
            None,
            names(&[1]),
            None,
            None,
            &h_a,
            &f.h0,
            &file_a,
        ),
        (
            "B",
            "whole",
            "A",
            &f.chief,
            &f.staff,
            t_b,
            None,
            names(&[1]),
            None,
            None,
            &h_b,
            &h_a,
            &file_b,
        ),
        (
            "C",
            "split",
            "original",
            &f.rep,
            &f.chief,
            t_c,
            Some(names(&[0, 1])),
            names(&[0]),
            Some(req_c.to_bytes()),
            Some(resp_c.to_bytes()),
            &h_c,
            &f.h0,
            &file_c,
        ),
        (
            "D",
            "split",
            "C",
            &f.chief,
            &f.staff,
            t_d,
            Some(names(&[0])),
            names(&[0]),
            Some(req_d.to_bytes()),
            Some(resp_d.to_bytes()),
            &h_d,
            &h_c,
            &file_d,
        ),
    ] {
        let signed = if from.name == f.chief.name {
            signed_hops(prev, h, from, to)?
        } else {
            Vec::new()
        };
        steps.push(HopStep {
            name: name.into(),
            model: model.into(),
            source: source.into(),
            from: from.name.clone(),
            to: to.name.clone(),
            time,
            offered,
            forwarded,
            request: req.map(hx),
            response: resp.map(hx),
            header: hx(h.to_bytes()),
            slots: slots(h),
            bodies: h.bodies.clone(),
            file: hx(file),
            signed_hops: signed,
            reads: reads(file, to, n, &f.plaintexts)?,
        });
    }
    Ok(HopsFile {
        suite: S::ID.name().into(),
        description: format!(
            "Forwards that drop parts and bodies, and signed hops (SPEC.md §4.4, §7.3, §7.6, §8), \
             from the envelope of envelope-{name}.json (original_file). A: model 1, 受信代表 \
             forwards part 1 only to 課長; B: 課長, whose key is a {card}, forwards A's copy to \
             大町地区担当 (every hop signed); C: model 2, the request offers parts 0 and 1 and \
             受信代表 forwards part 0 only; D: model 2 from C's copy, the request offers part 0 \
             and 課長's {card} answers (signed hops). Each step's file is a new file: prefix ‖ the \
             kept bodies, byte for byte ‖ header ‖ footer. signed_hops give each signed hop's \
             statement (§4.3) and the message its forwarder signed; reads give what the target \
             decrypts of each part, with its encryption secret.",
            name = S::ID.name(),
            card = Card::<S>::description(),
        ),
        sender_organization: org_info(&f.sender_org),
        recipient_organization: org_info(&f.city),
        members: vec![
            hop_member(&f.rep, "file key"),
            hop_member(&f.chief, Card::<S>::description()),
            hop_member(&f.staff, "file key"),
        ],
        original_file: hx(&f.original),
        steps,
    })
}

// ---------------------------------------------------------------------------------------------
// negative-more-<suite>.json

/// `negative-more-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct MoreNegativeFile {
    pub suite: String,
    pub description: String,
    pub operations: Vec<(String, String)>,
    pub cases: Vec<MoreCase>,
}

/// One input that must be rejected with exactly `expected_error` (kind `expected_kind`).
#[derive(Debug, Serialize, Deserialize)]
pub struct MoreCase {
    pub name: String,
    pub operation: String,
    /// Hex: a header, file, request, response or certificate (per operation); empty for
    /// `encrypt`.
    pub input: String,
    pub expected_error: String,
    pub expected_kind: String,
    /// `combine`: the forward response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// `forward`: the forwarder's certificate and secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarder: Option<ForwarderInput>,
    /// `forward`: the target; `encrypt`: the recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetInput>,
    /// `encrypt`: the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<SenderInput>,
    /// `forward`: the hop time; `encrypt`: `created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
    /// `forward`: the requested parts (absent: all held parts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<u32>>,
}

/// A forwarder's certificate and secrets (a file key).
#[derive(Debug, Serialize, Deserialize)]
pub struct ForwarderInput {
    pub certificate: String,
    pub encryption_secret: String,
    pub signing_secret: String,
}

/// A certificate and the organization record it is verified against, at `verified_at`.
#[derive(Debug, Serialize, Deserialize)]
pub struct TargetInput {
    pub certificate: String,
    pub organization: String,
    pub verified_at: u64,
}

/// A sender's organization record, certificate and signing secret.
#[derive(Debug, Serialize, Deserialize)]
pub struct SenderInput {
    pub organization: String,
    pub certificate: String,
    pub signing_secret: String,
}

const MORE_OPERATIONS: &[(&str, &str)] = &[
    (
        "certificate",
        "decode a certificate (Certificate::from_bytes)",
    ),
    (
        "envelope_header",
        "decode an envelope header (EnvelopeHeader::from_bytes)",
    ),
    (
        "envelope_header_verify",
        "decode an envelope header, then verify it (EnvelopeHeader::verify, SPEC.md §7.4)",
    ),
    (
        "envelope_file_open",
        "open an envelope file (EnvelopeFile::open, SPEC.md §8)",
    ),
    (
        "forwarding_request",
        "decode a forwarding request (ForwardingRequest::from_bytes)",
    ),
    (
        "forwarding_request_verify",
        "decode a forwarding request, then verify it (ForwardingRequest::verify, SPEC.md §7.3)",
    ),
    (
        "forward_response",
        "decode a forward response (ForwardResponse::from_bytes)",
    ),
    (
        "combine",
        "decode the header `input` (which verifies) and the `response`, then combine them \
         (EnvelopeHeader::apply_forward, SPEC.md §7.3)",
    ),
    (
        "forward",
        "decode and verify the header `input`; verify `target.certificate` against \
         `target.organization` at `target.verified_at`; forward (model 1) with `forwarder`'s file \
         key at `time`, the `parts` requested or all held parts (VerifiedEnvelope::forward, \
         SPEC.md §7.6)",
    ),
    (
        "encrypt",
        "verify `target` (the recipient) as for `forward`; encrypt one part of 1 byte with \
         chunk size 1024 and `created = time` from `sender` (envelope::encrypt, SPEC.md §7.5)",
    ),
];

fn case(name: &str, operation: &str, input: impl AsRef<[u8]>, error: &str, kind: &str) -> MoreCase {
    MoreCase {
        name: name.into(),
        operation: operation.into(),
        input: hx(input),
        expected_error: error.into(),
        expected_kind: kind.into(),
        response: None,
        forwarder: None,
        target: None,
        sender: None,
        time: None,
        parts: None,
    }
}

fn forwarder_input<S: Suite>(cert: &Certificate<S>, keys: &Member<S>) -> ForwarderInput {
    ForwarderInput {
        certificate: hx(cert.to_bytes()),
        encryption_secret: hx(&keys.enc.to_secret_bytes()[..]),
        signing_secret: hx(&keys.sig.to_secret_bytes()[..]),
    }
}

fn target_input<S: Suite>(
    m: &Member<S>,
    org: &OrganizationKey<S>,
    verified_at: u64,
) -> GenResult<TargetInput> {
    m.cert.verify(org.organization(), verified_at)?;
    Ok(TargetInput {
        certificate: hx(m.cert.to_bytes()),
        organization: hx(org.organization().to_bytes()),
        verified_at,
    })
}

fn hop_reason(slot: &str, hop: usize, reason: &str) -> String {
    format!("hop {hop} of {slot} is invalid: {reason}")
}

fn cert_error<S: Suite>(c: &Certificate<S>) -> String {
    format!(
        "certificate {} ({}) is invalid (signature, issuer or validity)",
        c.member_name,
        c.fingerprint().display_short()
    )
}

/// The signature `(r, n − s)` (P-256, high S) or `(R, S + ℓ)` (Ed25519, S not canonical): the
/// same signature in a form every verifier MUST reject (SPEC.md §3.3).
fn non_canonical_signature(id: SuiteId, sig: &[u8; 64]) -> [u8; 64] {
    let mut out = *sig;
    match id {
        SuiteId::P256 => {
            let n = hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
                .expect("hex");
            let mut borrow = 0i16;
            for i in (0..32).rev() {
                let d = n[i] as i16 - sig[32 + i] as i16 - borrow;
                borrow = i16::from(d < 0);
                out[32 + i] = d.rem_euclid(256) as u8;
            }
        }
        SuiteId::Ristretto255 => {
            let l = hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
                .expect("hex");
            let mut carry = 0u16;
            for i in 0..32 {
                let s = sig[32 + i] as u16 + l[i] as u16 + carry;
                out[32 + i] = s as u8;
                carry = s >> 8;
            }
        }
    }
    out
}

/// A verifying-key encoding that names no key however it is read: P-256, x not below the
/// field prime; Ed25519, `y + p` for the smallest y < 19 on the curve (not of small order),
/// a non-canonical spelling of a valid point that `ed25519-dalek` alone accepts.
pub fn non_canonical_verifying_key(id: SuiteId) -> GenResult<Vec<u8>> {
    match id {
        SuiteId::P256 => {
            let mut k = vec![0xffu8; 33];
            k[0] = 0x02;
            Ok(k)
        }
        SuiteId::Ristretto255 => {
            for y in 2u8..19 {
                let mut b = [0xffu8; 32];
                b[0] = 0xed + y;
                b[31] = 0x7f;
                let p = curve25519_dalek::edwards::CompressedEdwardsY(b).decompress();
                if p.is_some_and(|p| !p.is_small_order()) {
                    return Ok(b.to_vec());
                }
            }
            Err("no non-canonical encoding found".into())
        }
    }
}

fn negative_more<S: Suite>(w: &mut World<S>) -> GenResult<MoreNegativeFile> {
    let id = S::ID;
    let limit = at_hop_limit(w)?;
    let w = &*w;
    let f = &w.f;
    let city = &f.city;
    let mut rng = rng_for(&format!("negative-more-{}", id.name()));
    let mut cases = Vec::new();
    let h0 = &f.h0;
    let h0b = h0.to_bytes();

    // --- non-canonical encodings (SPEC.md §3.2, §3.3)
    let mut cert = f.staff.cert.to_bytes();
    let vk = f.staff.sig.verifying_key().to_bytes();
    let at = cert
        .windows(vk.len())
        .position(|x| x == vk.as_slice())
        .ok_or("signing key not found")?;
    cert[at..at + vk.len()].copy_from_slice(&non_canonical_verifying_key(id)?);
    cases.push(case(
        match id {
            SuiteId::P256 => "certificate: signing key with x not below the field prime",
            SuiteId::Ristretto255 => {
                "certificate: Ed25519 signing key in a non-canonical encoding (y + p)"
            }
        },
        "certificate",
        &cert,
        "invalid key encoding",
        "invalid-key",
    ));
    let mut h = h0.clone();
    h.sender_signature = non_canonical_signature(id, &h.sender_signature);
    cases.push(case(
        match id {
            SuiteId::P256 => "verify: sender signature in high-S form (r, n − s)",
            SuiteId::Ristretto255 => "verify: Ed25519 sender signature with S + ℓ",
        },
        "envelope_header_verify",
        h.to_bytes(),
        "the sender's signature on the envelope is invalid",
        "sender-signature",
    ));

    // --- limits enforced by the header decoder (SPEC.md §2.3)
    let part_len_error = "part length exceeds the limit of 70368744177664";
    for (name, len) in [
        ("header: part length above 2^46", (1u64 << 46) + 1),
        (
            "header: part length within 2^46 but more than 2^32 chunks of 1024 bytes",
            (1u64 << 42) + 1,
        ),
    ] {
        let mut h = h0.clone();
        h.core.parts[0].plaintext_len = len;
        cases.push(case(
            name,
            "envelope_header",
            h.to_bytes(),
            part_len_error,
            "limit-exceeded",
        ));
    }
    let mut h = limit.clone();
    let extra = h.slots[0].hops[63].clone();
    h.slots[0].hops.push(extra);
    cases.push(case(
        "header: a slot with 65 hops",
        "envelope_header",
        h.to_bytes(),
        "hop count exceeds the limit of 64",
        "limit-exceeded",
    ));

    // --- the footer's last byte (SPEC.md §2.2, §8)
    let mut file = f.original.clone();
    let last = file.len() - 1;
    file[last] = 2;
    cases.push(case(
        "file: footer with container version 2",
        "envelope_file_open",
        &file,
        "truncated input: envelope file (missing footer: incomplete or damaged) is incomplete",
        "truncated",
    ));

    // --- offered parts (SPEC.md §7.3)
    let req = h0.forwarding_request(None)?;
    let ascending = "invalid value in request parts must be ascending";
    let mut r = req.clone();
    r.parts.swap(0, 1);
    cases.push(case(
        "request: offered parts in descending order",
        "forwarding_request",
        r.to_bytes(),
        ascending,
        "invalid-value",
    ));
    let mut r = req.clone();
    r.parts[1] = r.parts[0].clone();
    cases.push(case(
        "request: a part offered twice",
        "forwarding_request",
        r.to_bytes(),
        ascending,
        "invalid-value",
    ));
    let mut r = req.clone();
    r.parts[0].slot = SlotId::METADATA;
    r.parts.truncate(1);
    cases.push(case(
        "request: the metadata slot offered as a part",
        "forwarding_request",
        r.to_bytes(),
        ascending,
        "invalid-value",
    ));
    let mut r = req.clone();
    r.parts[1].slot = part_slot(7);
    cases.push(case(
        "request verify: offered part number out of range",
        "forwarding_request_verify",
        r.to_bytes(),
        "inconsistent envelope: part number out of range",
        "inconsistent",
    ));
    let mut r = req.clone();
    r.parts[0].c2 = r.parts[1].c2.clone();
    cases.push(case(
        "request verify: offered C2 does not descend from the sender's C2",
        "forwarding_request_verify",
        r.to_bytes(),
        "the capsule of part 0 does not descend from the sender's capsule",
        "capsule-lineage",
    ));

    // --- the combiner (SPEC.md §7.3)
    let to_chief = f.chief.cert.verify(city.organization(), NOW + 60)?;
    let rep_fwd = Forwarder {
        holder: &f.rep.enc,
        signer: &f.rep.sig,
        cert: &f.rep.cert,
    };
    let resp = req
        .verify()?
        .make_hops(&rep_fwd, &to_chief, None, NOW + 60, &mut rng)?;
    h0.apply_forward(&resp)?;
    let combine = |name: &str, header: &[u8], r: &ForwardResponse<S>, error: &str, kind: &str| {
        let mut c = case(name, "combine", header, error, kind);
        c.response = Some(hx(r.to_bytes()));
        c
    };
    let meta_first = "inconsistent envelope: a forward must re-encrypt the metadata slot first";
    let once =
        "inconsistent envelope: forwarded parts must be listed once each, in ascending order";
    let (m, p0, p1) = (
        resp.hops[0].clone(),
        resp.hops[1].clone(),
        resp.hops[2].clone(),
    );
    for (name, hops, error) in [
        ("combine: no hop at all", vec![], meta_first),
        (
            "combine: a part before the metadata slot",
            vec![p0.clone(), m.clone(), p1.clone()],
            meta_first,
        ),
        (
            "combine: parts in descending order",
            vec![m.clone(), p1.clone(), p0.clone()],
            once,
        ),
        (
            "combine: a part twice",
            vec![m.clone(), p0.clone(), p0.clone()],
            once,
        ),
        (
            "combine: the metadata slot twice",
            vec![m.clone(), m.clone(), p0.clone()],
            once,
        ),
        (
            "combine: the metadata slot alone (no part)",
            vec![m.clone()],
            "inconsistent envelope: a forward must re-encrypt at least one part",
        ),
    ] {
        let mut r = resp.clone();
        r.hops = hops;
        cases.push(combine(name, &h0b, &r, error, "inconsistent"));
    }
    // A copy that holds part 1 only (a partial forward) receives a response for part 0 too.
    let to_chief_a = f.chief.cert.verify(city.organization(), NOW + 30)?;
    let h_a =
        h0.clone()
            .verify()?
            .forward(&rep_fwd, &to_chief_a, Some(&[1]), NOW + 30, &mut rng)?;
    let resp_from_a = h_a.forwarding_request(None)?.verify()?.make_hops(
        &Forwarder {
            holder: &f.chief.enc,
            signer: &f.chief.sig,
            cert: &f.chief.cert,
        },
        &f.staff.cert.verify(city.organization(), NOW + 60)?,
        None,
        NOW + 60,
        &mut rng,
    )?;
    let mut r = resp_from_a.clone();
    r.hops
        .insert(1, (part_slot(0), resp_from_a.hops[1].1.clone()));
    cases.push(combine(
        "combine: a response for a part the copy does not hold",
        &h_a.to_bytes(),
        &r,
        "inconsistent envelope: a forwarded part is not in this delivery",
        "inconsistent",
    ));
    let mut r = resp.clone();
    r.hops[2].1.target_cert = f.staff.cert.fingerprint();
    cases.push(combine(
        "combine: a hop names another target than the response",
        &h0b,
        &r,
        "inconsistent envelope: a hop names another forwarder or target than the response",
        "inconsistent",
    ));
    let mut r = resp.clone();
    r.hops[2].1.x = r.hops[1].1.x.clone();
    cases.push(combine(
        "combine: a share that does not match its proof",
        &h0b,
        &r,
        &hop_reason("part 1", 1, "proof or signature does not verify"),
        "hop",
    ));
    let outsider_resp = raw_response(h0, &f.rep, &w.outsider.cert, NOW + 60, &mut rng)?;
    cases.push(combine(
        "combine: a target certified by another organization of the same name",
        &h0b,
        &outsider_resp,
        &hop_reason(
            "metadata",
            1,
            "target certificate invalid at the hop's time",
        ),
        "hop",
    ));
    let holder = &w.pong; // the current holder after 64 hops
    let over = raw_response(&limit, holder, &w.ping.cert, NOW + 65 * 60, &mut rng)?;
    cases.push(combine(
        "combine: a 65th hop",
        &limit.to_bytes(),
        &over,
        "inconsistent envelope: a forwarded slot already has the maximum number of hops",
        "inconsistent",
    ));
    let mut rb = resp.to_bytes();
    let count_at = 8 + resp.forwarder.to_bytes().len() + resp.target.to_bytes().len();
    rb[count_at..count_at + 4].copy_from_slice(&100_002u32.to_be_bytes());
    cases.push(case(
        "response: hop count over the limit",
        "forward_response",
        &rb,
        "response hop count exceeds the limit of 100001",
        "limit-exceeded",
    ));

    // --- forwarding, model 1 (SPEC.md §7.6): the forwarder's own checks
    let fwd_case = |name: &str,
                    header: &EnvelopeHeader<S>,
                    fwd: ForwarderInput,
                    target: TargetInput,
                    time: u64,
                    parts: Option<Vec<u32>>,
                    error: &str,
                    kind: &str| {
        let mut c = case(name, "forward", header.to_bytes(), error, kind);
        c.forwarder = Some(fwd);
        c.target = Some(target);
        c.time = Some(time);
        c.parts = parts;
        c
    };
    let rep_in = || forwarder_input(&f.rep.cert, &f.rep);
    let chief_target = || target_input(&f.chief, city, NOW + 60);
    cases.push(fwd_case(
        "forward: target certified by another organization of the same name",
        h0,
        rep_in(),
        target_input(&w.outsider, &w.other_city, NOW + 60)?,
        NOW + 60,
        None,
        "invalid input: the target is not a member of the receiving organization",
        "invalid",
    ));
    cases.push(fwd_case(
        "forward: target without a reading or forwarding role (admin only)",
        h0,
        rep_in(),
        target_input(&w.clerk, city, NOW + 60)?,
        NOW + 60,
        None,
        "invalid input: the target's certificate has no reading or forwarding role",
        "invalid",
    ));
    let h_staff = h0.clone().verify()?.forward(
        &rep_fwd,
        &f.staff.cert.verify(city.organization(), NOW + 30)?,
        None,
        NOW + 30,
        &mut rng,
    )?;
    cases.push(fwd_case(
        "forward: forwarder without a forwarding role (reader only)",
        &h_staff,
        forwarder_input(&f.staff.cert, &f.staff),
        chief_target()?,
        NOW + 60,
        None,
        "the forwarder's certificate has no forwarding role",
        "no-forwarding-role",
    ));
    cases.push(fwd_case(
        "forward: forwarder's certificate expired at the forwarding time",
        h0,
        rep_in(),
        chief_target()?,
        f.rep.cert.not_after + 1,
        None,
        "invalid input: the forwarder's certificate is not valid at the forwarding time",
        "invalid",
    ));
    cases.push(fwd_case(
        "forward: target's certificate not yet valid at the forwarding time",
        h0,
        rep_in(),
        target_input(&w.late, city, NOW + 1000)?,
        NOW + 60,
        None,
        "invalid input: the target's certificate is not valid at the forwarding time",
        "invalid",
    ));
    let chief_in = || forwarder_input(&f.chief.cert, &f.chief);
    cases.push(fwd_case(
        "forward: time earlier than the slot's last hop",
        &h_a,
        chief_in(),
        target_input(&f.staff, city, NOW)?,
        NOW + 20,
        None,
        "invalid input: the forwarding time is earlier than the envelope or its last hop",
        "invalid",
    ));
    cases.push(fwd_case(
        "forward: the key of a former holder",
        &h_a,
        rep_in(),
        chief_target()?,
        NOW + 60,
        None,
        "this key is not the current holder of any part",
        "not-holder",
    ));
    cases.push(fwd_case(
        "forward: a part number the envelope does not have",
        h0,
        rep_in(),
        chief_target()?,
        NOW + 60,
        Some(vec![2]),
        "no part 2 in this envelope",
        "no-such-part",
    ));
    cases.push(fwd_case(
        "forward: a part dropped by an earlier partial forward",
        &h_a,
        chief_in(),
        target_input(&f.staff, city, NOW + 60)?,
        NOW + 60,
        Some(vec![0]),
        "this key is not the current holder of part 0",
        "not-holder",
    ));
    cases.push(fwd_case(
        "forward: the holder's keys with another member's certificate",
        h0,
        forwarder_input(&f.chief.cert, &f.rep),
        target_input(&f.staff, city, NOW + 60)?,
        NOW + 60,
        None,
        "invalid input: the forwarding keys do not match the forwarder's certificate",
        "invalid",
    ));
    cases.push(fwd_case(
        "forward: a slot at the hop limit (64 hops)",
        &limit,
        forwarder_input(&holder.cert, holder),
        target_input(&w.ping, city, NOW)?,
        NOW + 65 * 60,
        None,
        "metadata already has the maximum number of hops",
        "too-many-hops",
    ));

    // --- the reader's role and validity checks (SPEC.md §7.4)
    let verify_case = |name: &str, h: &EnvelopeHeader<S>, error: &str, kind: &str| {
        case(name, "envelope_header_verify", h.to_bytes(), error, kind)
    };
    let expired_sender = certify(
        &f.sender_org,
        "送信担当",
        Roles::READER,
        (NOW - 100, NOW - 1),
        f.sender.enc.clone(),
        SigningKey::from_secret_bytes(&f.sender.sig.to_secret_bytes()[..])?,
        &mut rng,
    )?;
    let mut h = h0.clone();
    h.core.sender_cert = expired_sender.cert.clone();
    resign(&mut h, &f.sender.sig, &mut rng)?;
    cases.push(verify_case(
        "verify: sender certificate expired at the creation time (re-signed by the sender)",
        &h,
        &cert_error(&expired_sender.cert),
        "certificate",
    ));
    let late_rep = certify(
        city,
        "受信代表",
        Roles::REPRESENTATIVE,
        (NOW + 1, NOW + VALIDITY),
        f.rep.enc.clone(),
        SigningKey::from_secret_bytes(&f.rep.sig.to_secret_bytes()[..])?,
        &mut rng,
    )?;
    let mut h = h0.clone();
    h.core.recipient_cert = late_rep.cert.clone();
    resign(&mut h, &f.sender.sig, &mut rng)?;
    cases.push(verify_case(
        "verify: recipient certificate not yet valid at the creation time (re-signed)",
        &h,
        &cert_error(&late_rep.cert),
        "certificate",
    ));
    let target_invalid = hop_reason(
        "metadata",
        1,
        "target certificate invalid at the hop's time",
    );
    cases.push(verify_case(
        "verify: hop to a target certified by another organization of the same name",
        &raw_forward(h0, &f.rep, &w.outsider.cert, NOW + 60, &mut rng)?,
        &target_invalid,
        "hop",
    ));
    cases.push(verify_case(
        "verify: hop to a target whose certificate is not yet valid at the hop's time",
        &raw_forward(h0, &f.rep, &w.late.cert, NOW + 60, &mut rng)?,
        &target_invalid,
        "hop",
    ));
    cases.push(verify_case(
        "verify: hop to a target without a reading or forwarding role",
        &raw_forward(h0, &f.rep, &w.clerk.cert, NOW + 60, &mut rng)?,
        &hop_reason(
            "metadata",
            1,
            "the target's certificate has no reading or forwarding role",
        ),
        "hop",
    ));
    cases.push(verify_case(
        "verify: hop by a forwarder without a forwarding role (reader only)",
        &raw_forward(&h_staff, &f.staff, &f.chief.cert, NOW + 60, &mut rng)?,
        &hop_reason(
            "metadata",
            2,
            "the forwarder's certificate has no forwarding role",
        ),
        "hop",
    ));
    cases.push(verify_case(
        "verify: hop after the forwarder's certificate expired",
        &raw_forward(
            h0,
            &f.rep,
            &f.chief.cert,
            f.rep.cert.not_after + 1,
            &mut rng,
        )?,
        &hop_reason(
            "metadata",
            1,
            "the forwarder's certificate was not valid at the hop's time",
        ),
        "hop",
    ));
    // A signed hop (a card's) whose signature was altered.
    let card = Card::new(&f.chief.enc);
    let mut h_signed = h_a.clone().verify()?.forward(
        &Forwarder {
            holder: &card,
            signer: &f.chief.sig,
            cert: &f.chief.cert,
        },
        &f.staff.cert.verify(city.organization(), NOW + 60)?,
        None,
        NOW + 60,
        &mut rng,
    )?;
    match &mut h_signed.slots[1].hops[1].auth {
        HopAuth::Signature(s) => s[10] ^= 0x01,
        HopAuth::Proof(_) => return Err("a card's hop carries a proof".into()),
    }
    cases.push(verify_case(
        "verify: signed hop (x-only or non-extractable holder) with an altered signature",
        &h_signed,
        &hop_reason("part 1", 2, "proof or signature does not verify"),
        "hop",
    ));

    // --- the writer's checks (SPEC.md §7.5)
    let enc_case =
        |name: &str, sender: SenderInput, recipient: TargetInput, created: u64, error: &str| {
            let mut c = case(name, "encrypt", b"", error, "invalid");
            c.sender = Some(sender);
            c.target = Some(recipient);
            c.time = Some(created);
            c
        };
    let sender_in = |org: &OrganizationKey<S>, m: &Member<S>| SenderInput {
        organization: hx(org.organization().to_bytes()),
        certificate: hx(m.cert.to_bytes()),
        signing_secret: hx(&m.sig.to_secret_bytes()[..]),
    };
    cases.push(enc_case(
        "encrypt: recipient without the representative role",
        sender_in(&f.sender_org, &f.sender),
        target_input(&f.chief, city, NOW)?,
        NOW,
        "invalid input: the recipient's certificate does not carry the representative role: an \
         envelope is addressed only to an organization's representative",
    ));
    cases.push(enc_case(
        "encrypt: sender certificate expired at the creation time",
        sender_in(&f.sender_org, &f.sender),
        target_input(&f.rep, city, NOW)?,
        f.sender.cert.not_after + 1,
        "invalid input: the sender's certificate is not valid at the creation time",
    ));
    cases.push(enc_case(
        "encrypt: recipient certificate not yet valid at the creation time",
        sender_in(&f.sender_org, &f.sender),
        target_input(&late_rep, city, NOW + 1)?,
        NOW,
        "invalid input: the recipient's certificate is not valid at the creation time",
    ));
    cases.push(enc_case(
        "encrypt: sender certificate issued by another organization",
        sender_in(&f.sender_org, &f.chief),
        target_input(&f.rep, city, NOW)?,
        NOW,
        "invalid input: the sender's certificate is not issued by the sender's organization",
    ));

    Ok(MoreNegativeFile {
        suite: id.name().into(),
        description: format!(
            "More inputs that must be rejected (SPEC.md §2.5, §11), each with the reference \
             implementation's exact text (informative) and its error kind (normative where \
             SPEC.md fixes the order of checks). Built from the envelope of \
             envelope-{name}.json; a one-part envelope passed back and forth 64 times gives the \
             hop-limit cases; other members: 他組織の職員 (certified by another organization \
             named like the receiving one), 管理者 (admin only), 新任担当 (valid from created + \
             1000). Every operation runs with the {id} suite; hex inputs.",
            name = id.name(),
        ),
        operations: MORE_OPERATIONS
            .iter()
            .map(|(o, d)| ((*o).into(), (*d).into()))
            .collect(),
        cases,
    })
}

// ---------------------------------------------------------------------------------------------
// identity-<suite>.json

/// `identity-<suite>.json`
#[derive(Debug, Serialize, Deserialize)]
pub struct IdentityVectorFile {
    pub suite: String,
    pub description: String,
    pub organization: SignedOrg,
    pub other_organization: SignedOrg,
    pub identities: Vec<IdentityInfo>,
    pub checks: Vec<IdentityCheck>,
}

/// An organization record with its self-signed message (SPEC.md §5.1).
#[derive(Debug, Serialize, Deserialize)]
pub struct SignedOrg {
    pub name: String,
    pub record: String,
    pub fingerprint: String,
    pub signing_public: String,
    /// `"soshiki/v1/organization-signature" ‖` the record up to its signature.
    pub signed_message: String,
    pub signature: String,
}

/// An identity file and its parts.
#[derive(Debug, Serialize, Deserialize)]
pub struct IdentityInfo {
    pub name: String,
    pub identity: String,
    pub certificate: String,
    /// `"soshiki/v1/certificate-signature" ‖` the certificate up to its signature.
    pub certificate_signed_message: String,
    pub certificate_signature: String,
    pub not_before: u64,
    pub not_after: u64,
    pub roles: Vec<String>,
}

/// `MemberIdentity::verify(time)` of identity number `identity`: `ok` or the exact error.
#[derive(Debug, Serialize, Deserialize)]
pub struct IdentityCheck {
    pub name: String,
    pub identity: usize,
    pub time: u64,
    pub expected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_kind: Option<String>,
}

fn signed_org<S: Suite>(o: &OrganizationKey<S>) -> SignedOrg {
    let rec = o.organization().to_bytes();
    let body = &rec[..rec.len() - 64];
    SignedOrg {
        name: o.organization().name.clone(),
        record: hx(&rec),
        fingerprint: o.organization().fingerprint().to_hex(),
        signing_public: hx(o.organization().signing_key.to_bytes()),
        signed_message: hx([&b"soshiki/v1/organization-signature"[..], body].concat()),
        signature: hx(&rec[rec.len() - 64..]),
    }
}

fn identity_info<S: Suite>(name: &str, id: &MemberIdentity<S>) -> IdentityInfo {
    let c = id.certificate.to_bytes();
    let body = &c[..c.len() - 64];
    IdentityInfo {
        name: name.into(),
        identity: hx(id.to_bytes()),
        certificate: hx(&c),
        certificate_signed_message: hx([&b"soshiki/v1/certificate-signature"[..], body].concat()),
        certificate_signature: hx(&c[c.len() - 64..]),
        not_before: id.certificate.not_before,
        not_after: id.certificate.not_after,
        roles: id
            .certificate
            .roles
            .names()
            .into_iter()
            .map(String::from)
            .collect(),
    }
}

fn identity_vector<S: Suite>() -> GenResult<IdentityVectorFile> {
    let mut rng = rng_for(&format!("identity-{}", S::ID.name()));
    let org = OrganizationKey::<S>::generate("池田町 総務課", NOW, &mut rng)?;
    let other = OrganizationKey::<S>::generate("池田町 総務課", NOW, &mut rng)?;
    let clerk = member(
        &org,
        "窓口担当",
        Roles::READER,
        (NOW, NOW + VALIDITY),
        &mut rng,
    )?;
    let rep = member(
        &org,
        "受信代表",
        Roles::REPRESENTATIVE.union(Roles::FORWARDER),
        (NOW + 100, NOW + 200),
        &mut rng,
    )?;
    let ident = |o: &OrganizationKey<S>, c: &Certificate<S>| MemberIdentity {
        organization: o.organization().clone(),
        certificate: c.clone(),
    };
    let mut renamed = clerk.cert.clone();
    renamed.member_name = "窓口担当(偽)".into();
    let identities = [
        ("窓口担当", ident(&org, &clerk.cert)),
        (
            "窓口担当 with another organization's record",
            ident(&other, &clerk.cert),
        ),
        ("窓口担当 renamed after signing", ident(&org, &renamed)),
        ("受信代表 (valid for 100 seconds)", ident(&org, &rep.cert)),
    ];
    let mut checks = Vec::new();
    for (name, i, time) in [
        ("at not_before", 0, NOW),
        ("at not_after", 0, NOW + VALIDITY),
        ("one second before not_before", 0, NOW - 1),
        ("one second after not_after", 0, NOW + VALIDITY + 1),
        ("enclosed organization is not the issuer", 1, NOW + 10),
        ("certificate altered after signing", 2, NOW + 10),
        ("inside a short validity", 3, NOW + 150),
        ("before a short validity", 3, NOW + 99),
        ("after a short validity", 3, NOW + 201),
    ] {
        let (expected, expected_kind) = match identities[i].1.verify(time) {
            Ok(_) => ("ok".to_string(), None),
            Err(e) => (e.to_string(), Some("certificate".to_string())),
        };
        checks.push(IdentityCheck {
            name: name.into(),
            identity: i,
            time,
            expected,
            expected_kind,
        });
    }
    Ok(IdentityVectorFile {
        suite: S::ID.name().into(),
        description: "Identity files (SPEC.md §9.2): Organization ‖ Certificate. checks give \
                      MemberIdentity::verify(time): ok iff the certificate's issuer is the enclosed \
                      organization's fingerprint, its signature verifies with the organization's \
                      key over certificate_signed_message, and not_before ≤ time ≤ not_after. \
                      time is the time of the operation the identity is used for (created when \
                      encrypting, the hop time when forwarding). The records' signed messages \
                      spell out SPEC.md §3.1's \"body\": every field from the magic up to the \
                      signature."
            .into(),
        organization: signed_org(&org),
        other_organization: signed_org(&other),
        identities: identities
            .iter()
            .map(|(n, i)| identity_info(n, i))
            .collect(),
        checks,
    })
}

// ---------------------------------------------------------------------------------------------
// armor-more.json

/// The decoder's order of checks and line splitting (SPEC.md §10), on top of `armor.json`.
fn armor_more() -> GenResult<ArmorFile> {
    use rand_chacha::rand_core::RngCore;
    let mut rng = rng_for("armor-more");
    let mut data = vec![0u8; 60];
    rng.fill_bytes(&mut data);
    let a = soshiki_core::armor::encode("IDENTITY", &data);
    let lines: Vec<&str> = a.lines().collect();
    let empty = soshiki_core::armor::encode("KEY", &[]);
    let accepted = |name: &str, input: String, kind: &str, data: &[u8]| ArmorDecodeCase {
        name: name.into(),
        input,
        kind: kind.into(),
        data: hx(data),
    };
    let decode = vec![
        accepted(
            "no final newline",
            a.trim_end().to_string(),
            "IDENTITY",
            &data,
        ),
        accepted(
            "final newlines, spaces and CRLF after the END line (no empty last line)",
            format!("{}\r\n\n  \t\n", a.trim_end()),
            "IDENTITY",
            &data,
        ),
        accepted("empty object: BEGIN then END", empty.clone(), "KEY", &[]),
        accepted(
            "mixed LF and CRLF",
            a.replacen('\n', "\r\n", 2),
            "IDENTITY",
            &data,
        ),
    ];
    let rejected = |name: &str, input: &[u8], reason: &str| ArmorNegative {
        name: name.into(),
        input: hx(input),
        expected_error: format!("invalid ASCII armor: {reason}"),
    };
    let join = |ls: &[&str]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    let negative = vec![
        rejected("only ASCII whitespace", b" \t\r\n\n", "empty"),
        rejected(
            "U+3000 (ideographic space) before the BEGIN line",
            format!("\u{3000}{a}").as_bytes(),
            "missing BEGIN line",
        ),
        rejected(
            "U+3000 after the END line",
            format!("{a}\u{3000}").as_bytes(),
            "text after the END line",
        ),
        rejected(
            "two CRs before LF",
            a.replace('\n', "\r\r\n").as_bytes(),
            "missing BEGIN line",
        ),
        rejected(
            "blank line before the END line",
            join(&[lines[0], lines[1], lines[2], "", lines[3]]).as_bytes(),
            "bad line length",
        ),
        rejected(
            "line length checked before the END line is looked for",
            join(&[lines[0], lines[2], lines[1]]).as_bytes(),
            "bad line length",
        ),
        rejected(
            "missing END line reported before invalid base64",
            join(&[lines[0], "!!!!"]).as_bytes(),
            "missing END line",
        ),
        rejected(
            "text after the END line reported before invalid base64",
            format!(
                "{}-----END SOSHIKI IDENTITY-----\nx\n",
                join(&[lines[0], "!!!!"])
            )
            .as_bytes(),
            "text after the END line",
        ),
        rejected(
            "non-canonical padding bits",
            join(&[lines[0], "AB==", "-----END SOSHIKI IDENTITY-----"]).as_bytes(),
            "invalid base64",
        ),
        rejected(
            "not UTF-8 reported before a missing BEGIN line",
            &[b'x', 0xff],
            "not ASCII",
        ),
    ];
    Ok(ArmorFile {
        description: "More ASCII armor cases (SPEC.md §10): the decoder trims ASCII whitespace \
                      only (so a final newline never makes an empty last line), splits lines at \
                      LF removing one CR, and reports the first failure in the order of §10. \
                      encode is empty; decode cases are accepted, negative inputs (hex) rejected."
            .into(),
        encode: vec![],
        decode,
        negative,
    })
}
