//! The envelope header: the signed core, slots, hops and their codec (SPEC.md §7).

use super::slot::SlotId;
use crate::cert::{Certificate, Fingerprint, Organization};
use crate::error::DecodeError;
use crate::hash::digest256;
use crate::scheme::{Capsule, HopAuth, HopProof, ReencryptionShare};
use crate::stream;
use crate::suite::Suite;
use crate::wire::{limits, Codec, Frame, Reader, Writer};

/// Envelope header format version.
pub const HEADER_VERSION: u8 = 1;

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

pub(super) fn c1_digest<S: Suite>(envelope_id: &[u8; 16], slot: SlotId, c1: &S::Point) -> [u8; 32] {
    digest256(
        "c1",
        &[
            &S::ID.to_u16().to_be_bytes(),
            envelope_id,
            &slot.to_wire().to_be_bytes(),
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
    /// AES-256-GCM of the encoded [`Metadata`](super::Metadata).
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

    pub(super) fn signed_message(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(b"soshiki/v1/envelope-signature");
        HEADER_FRAME.write_for(&mut w, S::ID);
        self.write(&mut w);
        w.into_bytes()
    }

    /// The origin capsule of a slot.
    pub fn origin(&self, slot: SlotId) -> Option<&OriginCapsule<S>> {
        match slot.part_index() {
            None => Some(&self.metadata_origin),
            Some(i) => self.parts.get(i as usize).map(|p| &p.origin),
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
    /// The metadata slot or a part's.
    pub slot: SlotId,
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

/// The frame of an envelope header (to read its suite before decoding it).
pub const HEADER_FRAME: Frame = Frame {
    magic: b"SKHDR",
    version: HEADER_VERSION,
    what: "envelope header",
};

impl<S: Suite> Codec for EnvelopeHeader<S> {
    const FRAME: Frame = HEADER_FRAME;
    type Suite = S;

    fn write_fields(&self, w: &mut Writer) {
        self.core.write(w);
        w.raw(&self.sender_signature);
        w.u32(self.certificates.len() as u32);
        for c in &self.certificates {
            w.raw(&c.to_bytes());
        }
        w.u32(self.slots.len() as u32);
        for s in &self.slots {
            w.u32(s.slot.to_wire());
            s.capsule.write(w);
            w.u32(s.hops.len() as u32);
            for h in &s.hops {
                h.write(w);
            }
        }
        w.u32(self.bodies.len() as u32);
        for b in &self.bodies {
            w.u32(*b);
        }
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let core = SignedCore::read(r)?;
        let sender_signature = r.array("sender signature")?;
        let nc = r.count("certificate count", limits::MAX_CERTIFICATES)?;
        let mut certificates = Vec::with_capacity(nc.min(64) as usize);
        for _ in 0..nc {
            certificates.push(Certificate::read(r)?);
        }
        let ns = r.count("slot count", limits::MAX_PARTS + 1)?;
        let mut slots: Vec<Slot<S>> = Vec::with_capacity(ns.min(4096) as usize);
        for _ in 0..ns {
            let slot = SlotId::from_wire(r.u32("slot")?);
            if slot
                .part_index()
                .is_some_and(|i| i as usize >= core.parts.len())
            {
                return Err(DecodeError::InvalidValue("slot number"));
            }
            // Metadata first, then parts strictly ascending: one slot per number.
            if slots.last().is_some_and(|prev| prev.slot >= slot) {
                return Err(DecodeError::InvalidValue("slot order"));
            }
            let capsule = Capsule::read(r)?;
            let nh = r.count("hop count", limits::MAX_HOPS)?;
            let mut hops = Vec::with_capacity(nh as usize);
            for _ in 0..nh {
                hops.push(Hop::read(r)?);
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
        Ok(Self {
            core,
            sender_signature,
            certificates,
            slots,
            bodies,
        })
    }
}

impl<S: Suite> EnvelopeHeader<S> {
    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decode a whole buffer (at most [`limits::MAX_HEADER`] bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() as u64 > limits::MAX_HEADER {
            return Err(DecodeError::LimitExceeded {
                what: limits::HEADER_LENGTH,
                limit: limits::MAX_HEADER,
            });
        }
        Self::decode(bytes)
    }

    /// The slot with this id, if held in this copy.
    pub fn slot(&self, slot: SlotId) -> Option<&Slot<S>> {
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
