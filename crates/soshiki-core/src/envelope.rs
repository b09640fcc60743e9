//! Document envelopes (SPEC.md §7).
//!
//! An envelope has
//! - a **signed core**: version, suite, envelope id, time, sender organization and certificate,
//!   recipient (representative) organization and certificate, chunk size, the sealed routing
//!   metadata, and per part its length, body digest and *origin capsule* (the digest of the
//!   sender's `C1`, the sender's `C2`, and the key commitment), all signed by the sender;
//! - **slots**: the current capsule of each part (and of the metadata, slot
//!   [`METADATA_SLOT`]) with its chain of hops, each hop a re-encryption proof or signature;
//! - the **certificates** the hops refer to;
//! - the list of part **bodies** present in this copy.
//!
//! Every holder of a slot can open the metadata (title, category, per-part labels) because the
//! metadata has a capsule of its own that travels with each forward; a server that stores the
//! header has no key and cannot. Forwarding touches only slots: bodies are never read, so its
//! cost does not depend on their size.
//!
//! Threat model (T1 body confidentiality, T3 tampering, T5 malleability): see THREAT_MODEL.md.

use std::io::{Read, Seek, SeekFrom, Write};

use rand_core::CryptoRngCore;

use crate::aead::Aes256Gcm;
use crate::cert::{Certificate, Fingerprint, Organization, Roles, VerifiedCertificate};
use crate::error::{DecodeError, DecryptError, EncryptError, ForwardError, VerifyError};
use crate::hash::digest256;
use crate::kdf::{derive_slot_keys, SlotKeys};
use crate::keys::{DhOutput, KeyHolder, SigningKey};
use crate::scheme::{
    hazmat, Capsule, HopAuth, HopContext, HopProof, HopStatement, ReencryptionShare,
};
use crate::stream;
use crate::suite::{Suite, SuiteId};
use crate::wire::{limits, Reader, Writer};

/// The slot number of the routing metadata's capsule.
pub const METADATA_SLOT: u32 = u32::MAX;
/// Envelope header format version.
pub const HEADER_VERSION: u8 = 1;
const HEADER_MAGIC: &[u8] = b"SKHDR";
const METADATA_VERSION: u8 = 1;

/// A human name for a slot, as used in messages.
pub fn slot_name(slot: u32) -> String {
    if slot == METADATA_SLOT {
        "metadata".into()
    } else {
        format!("part {slot}")
    }
}

// ---------------------------------------------------------------------------------------------
// Routing metadata (sealed)

/// A routing label on a part, e.g. `district=Yasaka` or `category=DV`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Key, 1–64 bytes.
    pub key: String,
    /// Value, 0–256 bytes.
    pub value: String,
}

impl Label {
    /// Parse `key=value`.
    pub fn parse(s: &str) -> Option<Label> {
        let (k, v) = s.split_once('=')?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty()
            || k.len() > limits::MAX_LABEL_KEY as usize
            || v.len() > limits::MAX_LABEL_VALUE as usize
        {
            return None;
        }
        Some(Label {
            key: k.into(),
            value: v.into(),
        })
    }
}

/// What the metadata says of one part.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PartInfo {
    /// A name, usually the original file name.
    pub name: String,
    /// Routing labels.
    pub labels: Vec<Label>,
}

/// The routing metadata, readable by every holder in the chain and by no server.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Metadata {
    /// Title (件名).
    pub title: String,
    /// Category, e.g. `care-certification`.
    pub category: String,
    /// One entry per part, in part order.
    pub parts: Vec<PartInfo>,
}

impl Metadata {
    fn check(&self) -> Result<(), EncryptError> {
        let too_long = |what, s: &str, lim: u32| {
            if s.len() > lim as usize {
                Err(EncryptError::LimitExceeded {
                    what,
                    limit: lim as u64,
                })
            } else {
                Ok(())
            }
        };
        too_long("title", &self.title, limits::MAX_TEXT)?;
        too_long("category", &self.category, limits::MAX_TEXT)?;
        for p in &self.parts {
            too_long("part name", &p.name, limits::MAX_TEXT)?;
            if p.labels.len() > limits::MAX_LABELS as usize {
                return Err(EncryptError::LimitExceeded {
                    what: "labels per part",
                    limit: limits::MAX_LABELS as u64,
                });
            }
            for l in &p.labels {
                if l.key.is_empty() {
                    return Err(EncryptError::Invalid("a label key is empty"));
                }
                too_long("label key", &l.key, limits::MAX_LABEL_KEY)?;
                too_long("label value", &l.value, limits::MAX_LABEL_VALUE)?;
            }
        }
        Ok(())
    }

    /// Encode (SPEC.md §7.2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(METADATA_VERSION)
            .bytes16(self.title.as_bytes())
            .bytes16(self.category.as_bytes())
            .u32(self.parts.len() as u32);
        for p in &self.parts {
            w.bytes16(p.name.as_bytes()).u32(p.labels.len() as u32);
            for l in &p.labels {
                w.bytes16(l.key.as_bytes()).bytes16(l.value.as_bytes());
            }
        }
        w.into_bytes()
    }

    /// Decode.
    pub fn from_bytes(b: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b);
        let v = r.u8("metadata version")?;
        if v != METADATA_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: "metadata",
                version: v,
            });
        }
        let title = r.text16("title", limits::MAX_TEXT)?;
        let category = r.text16("category", limits::MAX_TEXT)?;
        let n = r.count("metadata part count", limits::MAX_PARTS)?;
        let mut parts = Vec::with_capacity(n.min(1024) as usize);
        for _ in 0..n {
            let name = r.text16("part name", limits::MAX_TEXT)?;
            let nl = r.count("label count", limits::MAX_LABELS)?;
            let mut labels = Vec::with_capacity(nl as usize);
            for _ in 0..nl {
                let key = r.text16("label key", limits::MAX_LABEL_KEY)?;
                if key.is_empty() {
                    return Err(DecodeError::InvalidValue("empty label key"));
                }
                labels.push(Label {
                    key,
                    value: r.text16("label value", limits::MAX_LABEL_VALUE)?,
                });
            }
            parts.push(PartInfo { name, labels });
        }
        r.finish()?;
        Ok(Metadata {
            title,
            category,
            parts,
        })
    }
}

fn metadata_aad(envelope_id: &[u8; 16]) -> Vec<u8> {
    let mut a = b"soshiki/v1/metadata".to_vec();
    a.extend_from_slice(envelope_id);
    a
}

// ---------------------------------------------------------------------------------------------
// Wire structures

/// What the sender signs about a slot's capsule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginCapsule<S: Suite> {
    /// `H256("c1"; suite ‖ envelope id ‖ slot ‖ C1₀)`: binds `C1` without revealing it to
    /// model-2 forwarders, who must never learn it.
    pub c1_digest: [u8; 32],
    /// The sender's `C2₀`.
    pub c2: S::Point,
    /// Key commitment (see [`crate::kdf`]).
    pub commitment: [u8; 32],
}

impl<S: Suite> OriginCapsule<S> {
    fn write(&self, w: &mut Writer) {
        w.raw(&self.c1_digest)
            .point::<S>(&self.c2)
            .raw(&self.commitment);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            c1_digest: r.array("c1 digest")?,
            c2: r.point::<S>("origin C2")?,
            commitment: r.array("key commitment")?,
        })
    }
}

fn c1_digest<S: Suite>(envelope_id: &[u8; 16], slot: u32, c1: &S::Point) -> [u8; 32] {
    digest256(
        "c1",
        &[
            &S::ID.to_u16().to_be_bytes(),
            envelope_id,
            &slot.to_be_bytes(),
            &S::point_to_bytes(c1),
        ],
    )
}

/// A part as the sender signed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartDescriptor<S: Suite> {
    /// Plaintext length in bytes.
    pub plaintext_len: u64,
    /// SHA-256 of the part's body ciphertext.
    pub body_digest: [u8; 32],
    /// The sender's capsule for this part.
    pub origin: OriginCapsule<S>,
}

/// The sender-signed part of the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCore<S: Suite> {
    /// Random envelope identifier.
    pub envelope_id: [u8; 16],
    /// Creation time, Unix seconds.
    pub created: u64,
    /// Body chunk size in bytes.
    pub chunk_size: u32,
    /// Sending organization.
    pub sender_org: Organization<S>,
    /// The sending member's certificate.
    pub sender_cert: Certificate<S>,
    /// Receiving organization.
    pub recipient_org: Organization<S>,
    /// The certificate the envelope was addressed to (normally the representative's).
    pub recipient_cert: Certificate<S>,
    /// The metadata slot's origin capsule.
    pub metadata_origin: OriginCapsule<S>,
    /// AES-256-GCM of the encoded [`Metadata`].
    pub sealed_metadata: Vec<u8>,
    /// Parts, index = position.
    pub parts: Vec<PartDescriptor<S>>,
}

impl<S: Suite> SignedCore<S> {
    fn write(&self, w: &mut Writer) {
        w.raw(&self.envelope_id)
            .u64(self.created)
            .u32(self.chunk_size);
        w.raw(&self.sender_org.to_bytes())
            .raw(&self.sender_cert.to_bytes());
        w.raw(&self.recipient_org.to_bytes())
            .raw(&self.recipient_cert.to_bytes());
        self.metadata_origin.write(w);
        w.bytes32(&self.sealed_metadata);
        w.u32(self.parts.len() as u32);
        for p in &self.parts {
            w.u64(p.plaintext_len).raw(&p.body_digest);
            p.origin.write(w);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let envelope_id = r.array("envelope id")?;
        let created = r.u64("created")?;
        let chunk_size = r.u32("chunk size")?;
        if !(limits::MIN_CHUNK..=limits::MAX_CHUNK).contains(&chunk_size)
            || !chunk_size.is_power_of_two()
        {
            return Err(DecodeError::InvalidValue("chunk size"));
        }
        let sender_org = Organization::read(r)?;
        let sender_cert = Certificate::read(r)?;
        let recipient_org = Organization::read(r)?;
        let recipient_cert = Certificate::read(r)?;
        let metadata_origin = OriginCapsule::read(r)?;
        let sealed_metadata = r.bytes32("sealed metadata", limits::MAX_METADATA)?.to_vec();
        let n = r.count("part count", limits::MAX_PARTS)?;
        if n == 0 {
            return Err(DecodeError::InvalidValue("part count"));
        }
        let mut parts = Vec::with_capacity(n.min(4096) as usize);
        for _ in 0..n {
            let plaintext_len = r.u64("part length")?;
            if !limits::part_len_ok(plaintext_len, chunk_size) {
                return Err(DecodeError::LimitExceeded {
                    what: "part length",
                    limit: limits::MAX_PART_LEN,
                });
            }
            parts.push(PartDescriptor {
                plaintext_len,
                body_digest: r.array("body digest")?,
                origin: OriginCapsule::read(r)?,
            });
        }
        Ok(Self {
            envelope_id,
            created,
            chunk_size,
            sender_org,
            sender_cert,
            recipient_org,
            recipient_cert,
            metadata_origin,
            sealed_metadata,
            parts,
        })
    }

    fn signed_message(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(b"soshiki/v1/envelope-signature")
            .raw(HEADER_MAGIC)
            .u8(HEADER_VERSION)
            .suite(S::ID);
        self.write(&mut w);
        w.into_bytes()
    }

    /// The origin capsule of a slot.
    pub fn origin(&self, slot: u32) -> Option<&OriginCapsule<S>> {
        if slot == METADATA_SLOT {
            Some(&self.metadata_origin)
        } else {
            self.parts.get(slot as usize).map(|p| &p.origin)
        }
    }
}

/// One re-encryption step in a slot's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop<S: Suite> {
    /// Fingerprint of the forwarder's certificate.
    pub forwarder_cert: Fingerprint,
    /// Fingerprint of the target's certificate.
    pub target_cert: Fingerprint,
    /// Time of the hop (Unix seconds).
    pub time: u64,
    /// `X`
    pub x: S::Point,
    /// `C2'`
    pub c2_new: S::Point,
    /// Proof or signature.
    pub auth: HopAuth<S>,
}

impl<S: Suite> Hop<S> {
    /// Encode (SPEC.md §7.1).
    pub fn write(&self, w: &mut Writer) {
        w.raw(&self.forwarder_cert.0)
            .raw(&self.target_cert.0)
            .u64(self.time)
            .point::<S>(&self.x)
            .point::<S>(&self.c2_new);
        match &self.auth {
            HopAuth::Proof(p) => {
                w.u8(1);
                p.write(w);
            }
            HopAuth::Signature(s) => {
                w.u8(2).raw(s);
            }
        }
    }

    /// Decode.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let forwarder_cert = Fingerprint(r.array("hop forwarder")?);
        let target_cert = Fingerprint(r.array("hop target")?);
        let time = r.u64("hop time")?;
        let x = r.point::<S>("hop X")?;
        let c2_new = r.point::<S>("hop C2'")?;
        let auth = match r.u8("hop kind")? {
            1 => HopAuth::Proof(HopProof::read(r)?),
            2 => HopAuth::Signature(r.array("hop signature")?),
            _ => return Err(DecodeError::InvalidValue("hop kind")),
        };
        Ok(Self {
            forwarder_cert,
            target_cert,
            time,
            x,
            c2_new,
            auth,
        })
    }

    /// The share this hop records.
    pub fn share(&self) -> ReencryptionShare<S> {
        ReencryptionShare {
            x: self.x.clone(),
            c2_new: self.c2_new.clone(),
            auth: self.auth.clone(),
        }
    }
}

/// A slot's current capsule and its history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot<S: Suite> {
    /// Part index or [`METADATA_SLOT`].
    pub slot: u32,
    /// Current capsule.
    pub capsule: Capsule<S>,
    /// Hops since the sender, oldest first.
    pub hops: Vec<Hop<S>>,
}

/// An envelope header as read from the wire: **not yet verified**.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeHeader<S: Suite> {
    /// Sender-signed part.
    pub core: SignedCore<S>,
    /// The sender's signature over the core.
    pub sender_signature: [u8; 64],
    /// Certificates referred to by hops (issued by the recipient organization).
    pub certificates: Vec<Certificate<S>>,
    /// The slots held in this copy, metadata first, then parts by index.
    pub slots: Vec<Slot<S>>,
    /// Indices of the parts whose bodies follow in this copy, ascending.
    pub bodies: Vec<u32>,
}

impl<S: Suite> EnvelopeHeader<S> {
    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(HEADER_MAGIC).u8(HEADER_VERSION).suite(S::ID);
        self.core.write(&mut w);
        w.raw(&self.sender_signature);
        w.u32(self.certificates.len() as u32);
        for c in &self.certificates {
            w.raw(&c.to_bytes());
        }
        w.u32(self.slots.len() as u32);
        for s in &self.slots {
            w.u32(s.slot);
            s.capsule.write(&mut w);
            w.u32(s.hops.len() as u32);
            for h in &s.hops {
                h.write(&mut w);
            }
        }
        w.u32(self.bodies.len() as u32);
        for b in &self.bodies {
            w.u32(*b);
        }
        w.into_bytes()
    }

    /// Decode a whole buffer.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() as u64 > limits::MAX_HEADER {
            return Err(DecodeError::LimitExceeded {
                what: limits::HEADER_LENGTH,
                limit: limits::MAX_HEADER,
            });
        }
        let mut r = Reader::new(bytes);
        if r.take(HEADER_MAGIC.len(), "header magic")? != HEADER_MAGIC {
            return Err(DecodeError::BadMagic("envelope header"));
        }
        let v = r.u8("header version")?;
        if v != HEADER_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: "envelope header",
                version: v,
            });
        }
        r.expect_suite::<S>()?;
        let core = SignedCore::read(&mut r)?;
        let sender_signature = r.array("sender signature")?;
        let nc = r.count("certificate count", limits::MAX_CERTIFICATES)?;
        let mut certificates = Vec::with_capacity(nc.min(64) as usize);
        for _ in 0..nc {
            certificates.push(Certificate::read(&mut r)?);
        }
        let ns = r.count("slot count", limits::MAX_PARTS + 1)?;
        let mut slots: Vec<Slot<S>> = Vec::with_capacity(ns.min(4096) as usize);
        for _ in 0..ns {
            let slot = r.u32("slot")?;
            if slot != METADATA_SLOT && slot as usize >= core.parts.len() {
                return Err(DecodeError::InvalidValue("slot number"));
            }
            // Metadata first, then parts strictly ascending: one slot per number.
            let order = |s: u32| {
                if s == METADATA_SLOT {
                    0u64
                } else {
                    s as u64 + 1
                }
            };
            if let Some(prev) = slots.last() {
                if order(prev.slot) >= order(slot) {
                    return Err(DecodeError::InvalidValue("slot order"));
                }
            }
            let capsule = Capsule::read(&mut r)?;
            let nh = r.count("hop count", limits::MAX_HOPS)?;
            let mut hops = Vec::with_capacity(nh as usize);
            for _ in 0..nh {
                hops.push(Hop::read(&mut r)?);
            }
            slots.push(Slot {
                slot,
                capsule,
                hops,
            });
        }
        let nb = r.count("body count", limits::MAX_PARTS)?;
        let mut bodies: Vec<u32> = Vec::with_capacity(nb.min(4096) as usize);
        for _ in 0..nb {
            let b = r.u32("body index")?;
            if b as usize >= core.parts.len() || bodies.last().is_some_and(|p| *p >= b) {
                return Err(DecodeError::InvalidValue("body index"));
            }
            bodies.push(b);
        }
        r.finish()?;
        Ok(Self {
            core,
            sender_signature,
            certificates,
            slots,
            bodies,
        })
    }

    /// The slot with this number, if held in this copy.
    pub fn slot(&self, slot: u32) -> Option<&Slot<S>> {
        self.slots.iter().find(|s| s.slot == slot)
    }

    /// Body ciphertext length of part `index`.
    pub fn body_len(&self, index: u32) -> u64 {
        self.core.parts.get(index as usize).map_or(0, |p| {
            stream::ciphertext_len(p.plaintext_len, self.core.chunk_size)
        })
    }

    /// Total length of the bodies present in this copy.
    pub fn bodies_len(&self) -> u64 {
        self.bodies.iter().map(|b| self.body_len(*b)).sum()
    }

    /// Offset of part `index`'s body relative to the start of the body region.
    pub fn body_offset(&self, index: u32) -> Option<u64> {
        let mut off = 0;
        for b in &self.bodies {
            if *b == index {
                return Some(off);
            }
            off += self.body_len(*b);
        }
        None
    }

    pub(crate) fn find_cert(&self, fp: &Fingerprint) -> Option<&Certificate<S>> {
        if self.core.recipient_cert.fingerprint() == *fp {
            return Some(&self.core.recipient_cert);
        }
        self.certificates.iter().find(|c| c.fingerprint() == *fp)
    }

    /// [`EnvelopeHeader::verify`], then [`EnvelopeHeader::check_times`] against the verifier's
    /// clock `now` (Unix seconds). What every client uses before trusting a header.
    pub fn verify_at(&self, now: u64) -> Result<VerifiedEnvelope<'_, S>, VerifyError> {
        let verified = self.verify()?;
        self.check_times(now)?;
        Ok(verified)
    }

    /// Refuse signed times in the future: the creation time and every hop time must be at most
    /// [`MAX_FUTURE_SKEW`] seconds after `now`. (Hop times never go backwards and never precede
    /// the creation time; [`EnvelopeHeader::verify`] checks that.)
    pub fn check_times(&self, now: u64) -> Result<(), VerifyError> {
        check_future("the envelope's creation time", self.core.created, now)?;
        for slot in &self.slots {
            check_hop_times(slot.slot, &slot.hops, now)?;
        }
        Ok(())
    }

    /// Verify everything public: organizations, certificates, the sender's signature, every
    /// hop of every slot, and each capsule's descent from the sender's capsule. Needs no key.
    /// Independent of any clock: clients call [`EnvelopeHeader::verify_at`].
    pub fn verify(&self) -> Result<VerifiedEnvelope<'_, S>, VerifyError> {
        let core = &self.core;
        let sender = core.sender_cert.verify(&core.sender_org, core.created)?;
        if !sender
            .certificate()
            .signing_key
            .verify(&core.signed_message(), &self.sender_signature)
        {
            return Err(VerifyError::SenderSignature);
        }
        let certs = CertCache::new(self);
        let recipient = certs.recipient()?;
        let mut holders = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            let holder = verify_slot(
                self,
                &certs,
                slot.slot,
                &slot.hops,
                &slot.capsule.c2,
                Some(&slot.capsule.c1),
            )?;
            holders.push(holder);
        }
        Ok(VerifiedEnvelope {
            header: self,
            sender,
            recipient,
            holders,
        })
    }
}

/// Certificates of one header, each signature checked at most once per verification pass
/// (an envelope with many parts refers to the same few certificates in every slot).
pub(crate) struct CertCache<'h, S: Suite> {
    core: &'h SignedCore<S>,
    index: Vec<(Fingerprint, &'h Certificate<S>)>,
    signature_ok: std::cell::RefCell<std::collections::HashMap<Fingerprint, bool>>,
}

impl<'h, S: Suite> CertCache<'h, S> {
    pub(crate) fn new(header: &'h EnvelopeHeader<S>) -> Self {
        let index = std::iter::once(&header.core.recipient_cert)
            .chain(&header.certificates)
            .map(|c| (c.fingerprint(), c))
            .collect();
        Self {
            core: &header.core,
            index,
            signature_ok: Default::default(),
        }
    }

    /// The recipient certificate, verified against the recipient organization at creation
    /// time (it is the first entry of the index).
    pub(crate) fn recipient(&self) -> Result<VerifiedCertificate<S>, VerifyError> {
        let (fp, cert) = self.index[0];
        self.recipient_org_cert(&fp, self.core.created)
            .ok_or_else(|| {
                VerifyError::Certificate(format!("{} ({})", cert.member_name, fp.display_short()))
            })
    }

    fn contains(&self, fp: &Fingerprint) -> bool {
        self.index.iter().any(|(f, _)| f == fp)
    }

    /// The certificate with this fingerprint, issued by the recipient organization and valid
    /// at `at`.
    fn recipient_org_cert(&self, fp: &Fingerprint, at: u64) -> Option<VerifiedCertificate<S>> {
        let cert = self.index.iter().find(|(f, _)| f == fp).map(|(_, c)| *c)?;
        let org = &self.core.recipient_org;
        let ok = *self
            .signature_ok
            .borrow_mut()
            .entry(*fp)
            .or_insert_with(|| cert.verify(org, cert.not_before).is_ok());
        (ok && cert.not_before <= at && at <= cert.not_after)
            .then(|| VerifiedCertificate::checked(cert.clone(), org.clone()))
    }
}

/// Verify one slot's chain. `c1` is `None` for a model-2 forwarder, which never sees `C1`; then
/// the lineage of `C1` is left to the combiner and the reader. Returns the current holder.
pub(crate) fn verify_slot<S: Suite>(
    header: &EnvelopeHeader<S>,
    certs: &CertCache<'_, S>,
    slot: u32,
    hops: &[Hop<S>],
    c2_current: &S::Point,
    c1_current: Option<&S::Point>,
) -> Result<VerifiedCertificate<S>, VerifyError> {
    let core = &header.core;
    let name = slot_name(slot);
    let origin = core
        .origin(slot)
        .ok_or(VerifyError::Inconsistent("slot has no origin"))?;
    let mut holder = certs.recipient()?;
    let mut c2 = origin.c2.clone();
    let mut sum_x: Option<S::Point> = None;
    let mut last_time = core.created;
    for (i, hop) in hops.iter().enumerate() {
        let err = |reason| VerifyError::Hop {
            slot: name.clone(),
            hop: i + 1,
            reason,
        };
        if hop.forwarder_cert != holder.certificate().fingerprint() {
            return Err(err("the forwarder is not the previous holder"));
        }
        if hop.time < last_time {
            return Err(err("hop time goes backwards"));
        }
        last_time = hop.time;
        let fwd = holder.certificate();
        if !(fwd.roles.contains(Roles::FORWARDER) || fwd.roles.contains(Roles::REPRESENTATIVE)) {
            return Err(err("the forwarder's certificate has no forwarding role"));
        }
        if !(fwd.not_before <= hop.time && hop.time <= fwd.not_after) {
            return Err(err(
                "the forwarder's certificate was not valid at the hop's time",
            ));
        }
        if !certs.contains(&hop.target_cert) {
            return Err(err("target certificate missing"));
        }
        let target = certs
            .recipient_org_cert(&hop.target_cert, hop.time)
            .ok_or_else(|| err("target certificate invalid at the hop's time"))?;
        if !can_receive(target.certificate().roles) {
            return Err(err(
                "the target's certificate has no reading or forwarding role",
            ));
        }
        let ctx = HopContext {
            envelope_id: core.envelope_id,
            slot,
            hop_index: (i + 1) as u16,
            forwarder_cert: hop.forwarder_cert,
            target_cert: hop.target_cert,
            time: hop.time,
        };
        let st = HopStatement {
            context: &ctx,
            from: &fwd.encryption_key,
            to: target.encryption_key(),
            c2: &c2,
        };
        hop.share()
            .verify(&st, Some(&fwd.signing_key))
            .map_err(|_| err("proof or signature does not verify"))?;
        c2 = hop.c2_new.clone();
        sum_x = Some(match sum_x {
            None => hop.x.clone(),
            Some(s) => S::add(&s, &hop.x),
        });
        holder = target;
    }
    if &c2 != c2_current {
        return Err(VerifyError::CapsuleLineage(name));
    }
    if let Some(c1) = c1_current {
        let c1_0 = match &sum_x {
            None => c1.clone(),
            Some(s) => S::add(c1, s),
        };
        if c1_digest::<S>(&core.envelope_id, slot, &c1_0) != origin.c1_digest {
            return Err(VerifyError::CapsuleLineage(name));
        }
    }
    Ok(holder)
}

/// How far after the verifier's clock (seconds) a signed time may lie: an envelope's creation
/// time and a hop's time later than `now + MAX_FUTURE_SKEW` are refused
/// ([`VerifyError::FutureTime`]).
pub const MAX_FUTURE_SKEW: u64 = 300;

pub(crate) fn check_future(what: &str, time: u64, now: u64) -> Result<(), VerifyError> {
    if time > now.saturating_add(MAX_FUTURE_SKEW) {
        return Err(VerifyError::FutureTime {
            what: what.to_string(),
            time,
            now,
            skew: MAX_FUTURE_SKEW,
        });
    }
    Ok(())
}

pub(crate) fn check_hop_times<S: Suite>(
    slot: u32,
    hops: &[Hop<S>],
    now: u64,
) -> Result<(), VerifyError> {
    for (i, hop) in hops.iter().enumerate() {
        check_future(
            &format!("hop {} of {}", i + 1, slot_name(slot)),
            hop.time,
            now,
        )?;
    }
    Ok(())
}

/// Whether a member with these roles may be the target of a hop.
fn can_receive(roles: Roles) -> bool {
    roles.contains(Roles::READER)
        || roles.contains(Roles::FORWARDER)
        || roles.contains(Roles::REPRESENTATIVE)
}

/// A header whose signatures, certificates and hops have all been checked.
#[derive(Debug)]
pub struct VerifiedEnvelope<'a, S: Suite> {
    header: &'a EnvelopeHeader<S>,
    sender: VerifiedCertificate<S>,
    recipient: VerifiedCertificate<S>,
    holders: Vec<VerifiedCertificate<S>>,
}

impl<'a, S: Suite> VerifiedEnvelope<'a, S> {
    /// The header.
    pub fn header(&self) -> &'a EnvelopeHeader<S> {
        self.header
    }
    /// The sender's verified certificate (check its organization's fingerprint against a pin).
    pub fn sender(&self) -> &VerifiedCertificate<S> {
        &self.sender
    }
    /// The certificate the sender addressed.
    pub fn recipient(&self) -> &VerifiedCertificate<S> {
        &self.recipient
    }
    /// The current holder of a slot held in this copy.
    pub fn holder(&self, slot: u32) -> Option<&VerifiedCertificate<S>> {
        self.header
            .slots
            .iter()
            .position(|s| s.slot == slot)
            .map(|i| &self.holders[i])
    }

    /// The slots this key currently holds.
    pub fn slots_held_by(&self, key: &crate::keys::PublicKey<S>) -> Vec<u32> {
        self.header
            .slots
            .iter()
            .zip(&self.holders)
            .filter(|(_, h)| h.encryption_key() == key)
            .map(|(s, _)| s.slot)
            .collect()
    }

    /// Open a slot's capsule: recover `M`, derive the keys and check the commitment.
    /// A holder that returns only an x-coordinate is resolved here by the commitment.
    pub fn open_slot(
        &self,
        slot: u32,
        holder: &dyn KeyHolder<S>,
    ) -> Result<SlotKeys, DecryptError> {
        let s = self
            .header
            .slot(slot)
            .ok_or_else(|| DecryptError::NotRecipient(slot_name(slot)))?;
        let current = self
            .holder(slot)
            .ok_or_else(|| DecryptError::NotRecipient(slot_name(slot)))?;
        if current.encryption_key() != &holder.public_key() {
            return Err(DecryptError::NotRecipient(slot_name(slot)));
        }
        let origin = self.header.core.origin(slot).ok_or(DecryptError::Failed)?;
        let id = &self.header.core.envelope_id;
        let candidates: Vec<S::Point> = match holder
            .diffie_hellman(&s.capsule.c2)
            .map_err(DecryptError::KeyHolder)?
        {
            DhOutput::Point(d) => vec![S::sub(&s.capsule.c1, &d)],
            DhOutput::XCoordinate(x) => match S::lift_x(&x) {
                Some((y, _)) => vec![S::sub(&s.capsule.c1, &y), S::add(&s.capsule.c1, &y)],
                None => vec![],
            },
        };
        for m in candidates {
            let keys = derive_slot_keys::<S>(&m, id, slot);
            if keys.commitment_matches(&origin.commitment) {
                return Ok(keys);
            }
        }
        Err(DecryptError::Failed)
    }

    /// Open and decode the routing metadata.
    pub fn open_metadata(&self, holder: &dyn KeyHolder<S>) -> Result<Metadata, DecryptError> {
        let keys = self.open_slot(METADATA_SLOT, holder)?;
        decrypt_metadata(&self.header.core, &keys)
    }

    /// Forward (model 1, file mode): re-encrypt the metadata slot and the chosen parts (all held
    /// parts if `parts` is `None`) to `target`. Returns the new header; bodies are untouched.
    /// The hops are the same as in model 2 ([`crate::split`]); here the forwarder also applies
    /// them, since it holds `C1`.
    pub fn forward(
        &self,
        forwarder: &Forwarder<'_, S>,
        target: &VerifiedCertificate<S>,
        parts: Option<&[u32]>,
        time: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<EnvelopeHeader<S>, ForwardError> {
        let me = forwarder.cert.fingerprint();
        let held = self.slots_held_by(&forwarder.holder.public_key());
        let view = |slot: u32| {
            let s = self.header.slot(slot)?;
            let holder = self.holder(slot)?.certificate().fingerprint();
            Some(SlotState {
                holder,
                c2: &s.capsule.c2,
                hops: &s.hops,
            })
        };
        let wanted = select_parts(&self.header.core, &held, parts)?;
        let response = make_hops(
            &self.header.core,
            &view,
            &me,
            forwarder,
            target,
            &wanted,
            time,
            rng,
        )?;
        // We made these shares ourselves one line above: combine without re-verifying.
        self.header
            .combine_unchecked(&response, &wanted)
            .map_err(ForwardError::Invalid)
    }
}

/// What hop-making needs to know of a slot.
pub(crate) struct SlotState<'a, S: Suite> {
    /// Fingerprint of the current holder's certificate.
    pub holder: Fingerprint,
    /// Current `C2`.
    pub c2: &'a S::Point,
    /// Hops so far.
    pub hops: &'a [Hop<S>],
}

/// Which parts to forward: the requested ones (each must be held) or all held parts.
pub(crate) fn select_parts<S: Suite>(
    core: &SignedCore<S>,
    held: &[u32],
    parts: Option<&[u32]>,
) -> Result<Vec<u32>, ForwardError> {
    let wanted: Vec<u32> = match parts {
        Some(p) => {
            for i in p {
                if *i as usize >= core.parts.len() {
                    return Err(ForwardError::NoSuchPart(*i));
                }
                if !held.contains(i) {
                    return Err(ForwardError::NotHolder(slot_name(*i)));
                }
            }
            let mut v = p.to_vec();
            v.sort_unstable();
            v.dedup();
            v
        }
        None => held
            .iter()
            .copied()
            .filter(|s| *s != METADATA_SLOT)
            .collect(),
    };
    if wanted.is_empty() {
        return Err(ForwardError::NotHolder("any part".into()));
    }
    if !held.contains(&METADATA_SLOT) {
        return Err(ForwardError::NotHolder(slot_name(METADATA_SLOT)));
    }
    Ok(wanted)
}

/// The forwarder's side of a forward, shared by model 1 and model 2: one hop (share with proof,
/// or signature) for the metadata slot and for each wanted part, toward a verified target of
/// the receiving organization.
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_hops<'a, S: Suite>(
    core: &SignedCore<S>,
    view: &dyn Fn(u32) -> Option<SlotState<'a, S>>,
    me: &Fingerprint,
    forwarder: &Forwarder<'_, S>,
    target: &VerifiedCertificate<S>,
    wanted: &[u32],
    time: u64,
    rng: &mut impl CryptoRngCore,
) -> Result<crate::split::ForwardResponse<S>, ForwardError> {
    // T6 (forwarder as oracle): re-encrypt only toward a key certified by our own organization.
    if target.organization().fingerprint() != core.recipient_org.fingerprint() {
        return Err(ForwardError::Invalid(
            "the target is not a member of the receiving organization",
        ));
    }
    if forwarder.cert.encryption_key != forwarder.holder.public_key()
        || forwarder.cert.signing_key != forwarder.signer.verifying_key()
    {
        return Err(ForwardError::Invalid(
            "the forwarding keys do not match the forwarder's certificate",
        ));
    }
    if !can_receive(target.certificate().roles) {
        return Err(ForwardError::Invalid(
            "the target's certificate has no reading or forwarding role",
        ));
    }
    let roles = forwarder.cert.roles;
    if !(roles.contains(Roles::FORWARDER) || roles.contains(Roles::REPRESENTATIVE)) {
        return Err(ForwardError::NoForwardingRole);
    }
    if !(forwarder.cert.not_before <= time && time <= forwarder.cert.not_after) {
        return Err(ForwardError::Invalid(
            "the forwarder's certificate is not valid at the forwarding time",
        ));
    }
    if target.certificate().not_before > time || time > target.certificate().not_after {
        return Err(ForwardError::Invalid(
            "the target's certificate is not valid at the forwarding time",
        ));
    }
    let mut hops = Vec::with_capacity(wanted.len() + 1);
    for slot_no in std::iter::once(METADATA_SLOT).chain(wanted.iter().copied()) {
        let st = view(slot_no).ok_or_else(|| ForwardError::NotHolder(slot_name(slot_no)))?;
        if st.holder != *me {
            return Err(ForwardError::NotHolder(slot_name(slot_no)));
        }
        // The checks a reader will make of this hop, made before any key is used.
        if time < st.hops.last().map_or(core.created, |h| h.time) {
            return Err(ForwardError::Invalid(
                "the forwarding time is earlier than the envelope or its last hop",
            ));
        }
        if st.hops.len() >= limits::MAX_HOPS as usize {
            return Err(ForwardError::TooManyHops(slot_name(slot_no)));
        }
        let ctx = HopContext {
            envelope_id: core.envelope_id,
            slot: slot_no,
            hop_index: (st.hops.len() + 1) as u16,
            forwarder_cert: *me,
            target_cert: target.certificate().fingerprint(),
            time,
        };
        let statement = HopStatement {
            context: &ctx,
            from: &forwarder.cert.encryption_key,
            to: target.encryption_key(),
            c2: st.c2,
        };
        let share =
            crate::scheme::make_share(&statement, forwarder.holder, Some(forwarder.signer), rng)
                .map_err(ForwardError::KeyHolder)?;
        hops.push((
            slot_no,
            Hop {
                forwarder_cert: *me,
                target_cert: ctx.target_cert,
                time,
                x: share.x,
                c2_new: share.c2_new,
                auth: share.auth,
            },
        ));
    }
    Ok(crate::split::ForwardResponse {
        forwarder: forwarder.cert.clone(),
        target: target.certificate().clone(),
        hops,
    })
}

impl<S: Suite> EnvelopeHeader<S> {
    /// Apply hops whose shares are known to be valid: `C1' = C1 − X` for each slot. Builds the
    /// target's header: the metadata slot, the forwarded parts, their bodies if present.
    pub(crate) fn combine_unchecked(
        &self,
        response: &crate::split::ForwardResponse<S>,
        parts: &[u32],
    ) -> Result<EnvelopeHeader<S>, &'static str> {
        let mut slots = Vec::with_capacity(response.hops.len());
        for (slot_no, hop) in &response.hops {
            if let Some(slot) = self.slot(*slot_no) {
                let mut hops = slot.hops.clone();
                hops.push(hop.clone());
                let capsule = Capsule {
                    c1: S::sub(&slot.capsule.c1, &hop.x),
                    c2: hop.c2_new.clone(),
                };
                slots.push(Slot {
                    slot: *slot_no,
                    capsule,
                    hops,
                });
            }
        }
        let mut certificates = self.certificates.clone();
        for c in [&response.forwarder, &response.target] {
            if c.fingerprint() != self.core.recipient_cert.fingerprint()
                && !certificates
                    .iter()
                    .any(|x| x.fingerprint() == c.fingerprint())
            {
                certificates.push(c.clone());
            }
        }
        if certificates.len() > limits::MAX_CERTIFICATES as usize {
            return Err("too many certificates in the envelope");
        }
        let bodies = self
            .bodies
            .iter()
            .copied()
            .filter(|b| parts.contains(b))
            .collect();
        let out = EnvelopeHeader {
            core: self.core.clone(),
            sender_signature: self.sender_signature,
            certificates,
            slots,
            bodies,
        };
        if out.to_bytes().len() as u64 > limits::MAX_HEADER {
            return Err("the forwarded header would exceed the header size limit");
        }
        Ok(out)
    }
}

fn decrypt_metadata<S: Suite>(
    core: &SignedCore<S>,
    keys: &SlotKeys,
) -> Result<Metadata, DecryptError> {
    let pt = Aes256Gcm::new(&keys.key)
        .open(
            &[0u8; 12],
            &metadata_aad(&core.envelope_id),
            &core.sealed_metadata,
        )
        .map_err(|_| DecryptError::Failed)?;
    let m = Metadata::from_bytes(&pt).map_err(|_| DecryptError::Failed)?;
    if m.parts.len() != core.parts.len() {
        return Err(DecryptError::Verify(VerifyError::Inconsistent(
            "the metadata describes another number of parts",
        )));
    }
    Ok(m)
}

/// A forwarder's credentials: its key holder, signing key and certificate.
pub struct Forwarder<'a, S: Suite> {
    /// The forwarder's encryption key (file key, token, browser key).
    pub holder: &'a dyn KeyHolder<S>,
    /// Signs hops when the holder cannot prove.
    pub signer: &'a SigningKey<S>,
    /// The forwarder's certificate (must be the slot's current holder).
    pub cert: &'a Certificate<S>,
}

impl<S: Suite> core::fmt::Debug for Forwarder<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Forwarder")
            .field("cert", &self.cert.member_name)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Encryption

/// The sender's credentials.
pub struct Sender<'a, S: Suite> {
    /// Sending organization.
    pub org: &'a Organization<S>,
    /// Sender's certificate.
    pub cert: &'a Certificate<S>,
    /// Sender's signing key.
    pub signing_key: &'a SigningKey<S>,
}

impl<S: Suite> core::fmt::Debug for Sender<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("cert", &self.cert.member_name)
            .finish_non_exhaustive()
    }
}

/// A part to encrypt: its metadata and a source of exactly `len` bytes.
pub struct PartSource<'a> {
    /// Name and labels.
    pub info: PartInfo,
    /// Plaintext length.
    pub len: u64,
    /// Plaintext.
    pub reader: Box<dyn Read + 'a>,
}

impl core::fmt::Debug for PartSource<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PartSource")
            .field("info", &self.info)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Options for [`encrypt`].
#[derive(Clone, Debug)]
pub struct EncryptOptions {
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Chunk size (power of two, 1 KiB – 16 MiB).
    pub chunk_size: u32,
    /// Creation time, Unix seconds.
    pub created: u64,
}

fn fresh_slot<S: Suite>(
    to: &VerifiedCertificate<S>,
    envelope_id: &[u8; 16],
    slot: u32,
    rng: &mut impl CryptoRngCore,
) -> (Capsule<S>, OriginCapsule<S>, SlotKeys) {
    // M is a uniformly random group element; the body key is derived from it.
    let m = S::mul_base(&S::random_scalar(rng));
    let capsule = hazmat::encrypt_point_with_r(&m, to.encryption_key(), &S::random_scalar(rng));
    let keys = derive_slot_keys::<S>(&m, envelope_id, slot);
    let origin = OriginCapsule {
        c1_digest: c1_digest::<S>(envelope_id, slot, &capsule.c1),
        c2: capsule.c2.clone(),
        commitment: keys.commitment,
    };
    (capsule, origin, keys)
}

/// Encrypt parts to a recipient, writing a complete envelope file to `out`
/// (prefix, bodies, header, footer; see [`EnvelopeFile`]). Constant memory for any size.
/// `progress` receives the total plaintext bytes done.
///
/// The recipient must be a verified certificate whose signed roles include the representative
/// role ([`VerifiedCertificate::is_representative`]); any other is refused before anything is
/// written, whatever a directory says about it.
pub fn encrypt<S: Suite>(
    sender: &Sender<'_, S>,
    recipient: &VerifiedCertificate<S>,
    options: &EncryptOptions,
    parts: Vec<PartSource<'_>>,
    out: &mut dyn Write,
    rng: &mut impl CryptoRngCore,
    progress: &mut dyn FnMut(u64),
) -> Result<EnvelopeHeader<S>, EncryptError> {
    if parts.is_empty() {
        return Err(EncryptError::Invalid("an envelope needs at least one part"));
    }
    if parts.len() > limits::MAX_PARTS as usize {
        return Err(EncryptError::LimitExceeded {
            what: "parts",
            limit: limits::MAX_PARTS as u64,
        });
    }
    let cs = options.chunk_size;
    if !(limits::MIN_CHUNK..=limits::MAX_CHUNK).contains(&cs) || !cs.is_power_of_two() {
        return Err(EncryptError::Invalid(
            "chunk size must be a power of two from 1 KiB to 16 MiB",
        ));
    }
    if sender.cert.issuer != sender.org.fingerprint() {
        return Err(EncryptError::Invalid(
            "the sender's certificate is not issued by the sender's organization",
        ));
    }
    if !recipient.is_representative() {
        return Err(EncryptError::Invalid(
            "the recipient's certificate does not carry the representative role: an envelope \
             is addressed only to an organization's representative",
        ));
    }
    let metadata = Metadata {
        title: options.title.clone(),
        category: options.category.clone(),
        parts: parts.iter().map(|p| p.info.clone()).collect(),
    };
    metadata.check()?;
    // Every reader verifies the sender's certificate at `created` (SPEC.md §7.4 step 1):
    // refuse to write what no reader would accept.
    if sender.cert.verify(sender.org, options.created).is_err() {
        return Err(EncryptError::Invalid(
            "the sender's certificate is not valid at the creation time",
        ));
    }
    let to = recipient.certificate();
    if !(to.not_before <= options.created && options.created <= to.not_after) {
        return Err(EncryptError::Invalid(
            "the recipient's certificate is not valid at the creation time",
        ));
    }
    let mut envelope_id = [0u8; 16];
    rng.fill_bytes(&mut envelope_id);
    out.write_all(&file_prefix::<S>(&envelope_id))?;

    let (meta_capsule, metadata_origin, meta_keys) =
        fresh_slot(recipient, &envelope_id, METADATA_SLOT, rng);
    let sealed_metadata = Aes256Gcm::new(&meta_keys.key).seal(
        &[0u8; 12],
        &metadata_aad(&envelope_id),
        &metadata.to_bytes(),
    );
    if sealed_metadata.len() > limits::MAX_METADATA as usize {
        return Err(EncryptError::LimitExceeded {
            what: "metadata",
            limit: limits::MAX_METADATA as u64,
        });
    }
    let mut slots = vec![Slot {
        slot: METADATA_SLOT,
        capsule: meta_capsule,
        hops: vec![],
    }];
    let mut descriptors = Vec::with_capacity(parts.len());
    let mut done_before = 0u64;
    for (i, mut part) in parts.into_iter().enumerate() {
        if !limits::part_len_ok(part.len, cs) {
            return Err(EncryptError::LimitExceeded {
                what: "part length",
                limit: limits::MAX_PART_LEN,
            });
        }
        let (capsule, origin, keys) = fresh_slot(recipient, &envelope_id, i as u32, rng);
        let base = done_before;
        let body_digest =
            stream::encrypt(&keys.key, cs, part.len, &mut part.reader, out, &mut |d| {
                progress(base + d)
            })
            .map_err(|e| match e {
                stream::StreamError::Io(e) => EncryptError::Io(e),
                _ => EncryptError::Invalid(
                    "a part's source ended early or ran past its announced length",
                ),
            })?;
        done_before += part.len;
        descriptors.push(PartDescriptor {
            plaintext_len: part.len,
            body_digest,
            origin,
        });
        slots.push(Slot {
            slot: i as u32,
            capsule,
            hops: vec![],
        });
    }
    let core = SignedCore {
        envelope_id,
        created: options.created,
        chunk_size: cs,
        sender_org: sender.org.clone(),
        sender_cert: sender.cert.clone(),
        recipient_org: recipient.organization().clone(),
        recipient_cert: recipient.certificate().clone(),
        metadata_origin,
        sealed_metadata,
        parts: descriptors,
    };
    let sender_signature = sender.signing_key.sign(&core.signed_message(), rng);
    let bodies = (0..core.parts.len() as u32).collect();
    let header = EnvelopeHeader {
        core,
        sender_signature,
        certificates: vec![],
        slots,
        bodies,
    };
    let encoded = header.to_bytes();
    if encoded.len() as u64 > limits::MAX_HEADER {
        return Err(EncryptError::LimitExceeded {
            what: limits::HEADER_LENGTH,
            limit: limits::MAX_HEADER,
        });
    }
    write_encoded_trailer(&encoded, out)?;
    Ok(header)
}

// ---------------------------------------------------------------------------------------------
// The envelope file container (SPEC.md §8)

const FILE_MAGIC: &[u8] = b"SKENV";
const FOOTER_MAGIC: &[u8; 8] = b"SKEND\x00\x00\x01";
/// Prefix length: magic, version, suite, envelope id.
pub const PREFIX_LEN: u64 = 5 + 1 + 2 + 16;
const FOOTER_LEN: u64 = 16;
/// File container version.
pub const FILE_VERSION: u8 = 1;

/// The envelope file prefix: `"SKENV" ‖ version ‖ suite ‖ envelope id` (SPEC.md §8).
pub fn file_prefix<S: Suite>(envelope_id: &[u8; 16]) -> Vec<u8> {
    let mut w = Writer::new();
    w.raw(FILE_MAGIC)
        .u8(FILE_VERSION)
        .suite(S::ID)
        .raw(envelope_id);
    w.into_bytes()
}

/// Write `header ‖ footer` (the footer is `u64(header length) ‖ "SKEND\0\0\1"`).
pub fn write_trailer<S: Suite>(
    header: &EnvelopeHeader<S>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    write_encoded_trailer(&header.to_bytes(), out)
}

fn write_encoded_trailer(h: &[u8], out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(h)?;
    out.write_all(&(h.len() as u64).to_be_bytes())?;
    out.write_all(FOOTER_MAGIC)?;
    out.flush()
}

/// The suite of an envelope file, read from its prefix.
pub fn peek_file_suite(prefix: &[u8]) -> Result<SuiteId, DecodeError> {
    crate::wire::peek_suite(prefix, FILE_MAGIC, "envelope")
}

/// An envelope file opened for reading: its header, and where its bodies are.
#[derive(Debug)]
pub struct EnvelopeFile<S: Suite> {
    /// The header (unverified until [`EnvelopeHeader::verify`]).
    pub header: EnvelopeHeader<S>,
    /// Offset of the header in the file (bodies end at or before it).
    pub header_offset: u64,
}

/// Why an envelope file could not be opened or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// A structural problem.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A body does not match the signed digest.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// Reading failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl<S: Suite> EnvelopeFile<S> {
    /// Read the prefix and the trailer (the header) of a seekable envelope file. Reads no body.
    pub fn open<R: Read + Seek>(f: &mut R) -> Result<Self, FileError> {
        let len = f.seek(SeekFrom::End(0))?;
        if len < PREFIX_LEN + FOOTER_LEN {
            return Err(DecodeError::Truncated("envelope file").into());
        }
        f.seek(SeekFrom::Start(0))?;
        let mut prefix = [0u8; PREFIX_LEN as usize];
        f.read_exact(&mut prefix)?;
        let mut r = Reader::new(&prefix);
        if r.take(FILE_MAGIC.len(), "file magic")? != FILE_MAGIC {
            return Err(DecodeError::BadMagic("envelope file").into());
        }
        let v = r.u8("file version")?;
        if v != FILE_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: "envelope file",
                version: v,
            }
            .into());
        }
        r.expect_suite::<S>()?;
        let id: [u8; 16] = r.array("envelope id")?;
        f.seek(SeekFrom::Start(len - FOOTER_LEN))?;
        let mut footer = [0u8; FOOTER_LEN as usize];
        f.read_exact(&mut footer)?;
        if &footer[8..] != FOOTER_MAGIC {
            return Err(DecodeError::Truncated(
                "envelope file (missing footer: incomplete or damaged)",
            )
            .into());
        }
        let hlen = u64::from_be_bytes(
            footer[..8]
                .try_into()
                .map_err(|_| DecodeError::Truncated("footer"))?,
        );
        if hlen > limits::MAX_HEADER {
            return Err(DecodeError::LimitExceeded {
                what: limits::HEADER_LENGTH,
                limit: limits::MAX_HEADER,
            }
            .into());
        }
        if hlen > len - PREFIX_LEN - FOOTER_LEN {
            return Err(DecodeError::Truncated("envelope header").into());
        }
        let header_offset = len - FOOTER_LEN - hlen;
        f.seek(SeekFrom::Start(header_offset))?;
        let mut hb = vec![0u8; hlen as usize];
        f.read_exact(&mut hb)?;
        let header = EnvelopeHeader::<S>::from_bytes(&hb)?;
        if header.core.envelope_id != id {
            return Err(
                DecodeError::InvalidValue("envelope id differs between prefix and header").into(),
            );
        }
        if PREFIX_LEN + header.bodies_len() > header_offset {
            return Err(DecodeError::Truncated("envelope bodies").into());
        }
        Ok(Self {
            header,
            header_offset,
        })
    }

    /// Absolute file offset of part `index`'s body.
    pub fn body_start(&self, index: u32) -> Option<u64> {
        self.header.body_offset(index).map(|o| PREFIX_LEN + o)
    }
}

/// Decrypt part `index` from an opened envelope file into `out`, verifying every chunk and the
/// signed body digest. On error the caller must discard what was written (the CLI writes to a
/// temporary file and renames only on success).
pub fn decrypt_part<S: Suite, R: Read + Seek>(
    verified: &VerifiedEnvelope<'_, S>,
    file: &EnvelopeFile<S>,
    src: &mut R,
    index: u32,
    holder: &dyn KeyHolder<S>,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<(), DecryptError> {
    let keys = verified.open_slot(index, holder)?;
    let start = file.body_start(index).ok_or_else(|| {
        DecryptError::NotRecipient(format!("{} (body not in this copy)", slot_name(index)))
    })?;
    let desc = &verified.header().core.parts[index as usize];
    src.seek(SeekFrom::Start(start))
        .map_err(|e| DecryptError::Io(e.to_string()))?;
    let body_len = stream::ciphertext_len(desc.plaintext_len, verified.header().core.chunk_size);
    let mut limited =
        std::io::BufReader::with_capacity(body_len.min(1 << 20) as usize, src.take(body_len));
    let digest = stream::decrypt(
        &keys.key,
        verified.header().core.chunk_size,
        desc.plaintext_len,
        &mut limited,
        out,
        progress,
    )
    .map_err(|e| match e {
        stream::StreamError::Io(e) => DecryptError::Io(e.to_string()),
        _ => DecryptError::Failed,
    })?;
    if digest != desc.body_digest {
        return Err(DecryptError::Verify(VerifyError::BodyDigest(index)));
    }
    Ok(())
}

/// Verify a body's ciphertext against the signed digest without any key (for `verify`).
/// A read failure is [`FileError::Io`]; a mismatch is [`FileError::Verify`].
pub fn check_body_digest<S: Suite, R: Read + Seek>(
    file: &EnvelopeFile<S>,
    src: &mut R,
    index: u32,
) -> Result<(), FileError> {
    use sha2::Digest;
    let start = file
        .body_start(index)
        .ok_or(VerifyError::Inconsistent("body not present"))?;
    src.seek(SeekFrom::Start(start))?;
    let mut h = sha2::Sha256::new();
    let want = file.header.body_len(index);
    let mut take = src.take(want);
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    loop {
        let n = take.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got += n as u64;
        h.update(&buf[..n]);
    }
    let d: [u8; 32] = h.finalize().into();
    if got != want || d != file.header.core.parts[index as usize].body_digest {
        return Err(VerifyError::BodyDigest(index).into());
    }
    Ok(())
}

/// Copy a forwarded envelope to `out`: the prefix, the bodies the new header keeps (byte for
/// byte, no cryptography), then the new header and footer.
pub fn write_forwarded<S: Suite, R: Read + Seek>(
    file: &EnvelopeFile<S>,
    src: &mut R,
    new_header: &EnvelopeHeader<S>,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<(), FileError> {
    out.write_all(&file_prefix::<S>(&new_header.core.envelope_id))?;
    let mut done = 0;
    for b in &new_header.bodies {
        let start = file
            .body_start(*b)
            .ok_or(DecodeError::InvalidValue("body not present in the source"))?;
        src.seek(SeekFrom::Start(start))?;
        let n = std::io::copy(&mut src.take(file.header.body_len(*b)), out)?;
        if n != file.header.body_len(*b) {
            return Err(DecodeError::Truncated("envelope body").into());
        }
        done += n;
        progress(done);
    }
    write_trailer(new_header, out)?;
    Ok(())
}

/// The display names of a hop's forwarder and target (member names from the certificates in
/// the header, or short fingerprints when a certificate is missing).
pub fn describe_hop<S: Suite>(h: &EnvelopeHeader<S>, hop: &Hop<S>) -> (String, String) {
    let name = |fp: &Fingerprint| {
        h.find_cert(fp)
            .map_or_else(|| fp.display_short(), |c| c.member_name.clone())
    };
    (name(&hop.forwarder_cert), name(&hop.target_cert))
}
