//! Model 2: split re-encryption through a keyless management server (SPEC.md §7.3).
//!
//! ```text
//! server                                   forwarder (holds a, never C1 of a part)
//!   header.forwarding_request(parts) ──▶  request.verify()        sender, certificates, hops, C2 chain
//!                                          request.open_metadata() routing labels (metadata capsule is whole)
//!                                          request.make_hops(...)  one share + proof per slot
//!   header.apply_forward(&response) ◀──   ForwardResponse
//!     verifies every proof, C1' = C1 − X
//! ```
//! Threat model: the server holds `C1` but no key; the forwarder holds `a` but never a part's
//! `C1`; neither alone can decrypt a body (T1). The forwarder verifies that each `C2` is bound to
//! the envelope by the sender's signature and the previous hops, and re-encrypts only toward a
//! target certified by its own organization (T6, the forwarder as an oracle). The server's
//! combiner path ([`EnvelopeHeader::apply_forward`]) takes no key of any kind.

use rand_core::CryptoRngCore;

use super::header::{EnvelopeHeader, Hop, SignedCore, Slot};
use super::hops::{make_hops, select_parts, Forwarder, SlotState};
use super::metadata::Metadata;
use super::slot::SlotId;
use super::verify::{check_future, check_hop_times, verify_slot, CertCache, VerifiedEnvelope};
use crate::cert::{Certificate, VerifiedCertificate};
use crate::error::{DecodeError, DecryptError, ForwardError, VerifyError};
use crate::keys::KeyHolder;
use crate::suite::Suite;
use crate::wire::{limits, Codec, Frame, Reader, Writer};

pub use super::hops::ForwardResponse;

/// A part as a model-2 forwarder sees it: `C2` and the hops, never `C1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartView<S: Suite> {
    /// The part's slot (never the metadata slot).
    pub slot: SlotId,
    /// Current `C2`.
    pub c2: S::Point,
    /// Hops so far.
    pub hops: Vec<Hop<S>>,
}

/// What the server sends a forwarder. Contains no part's `C1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardingRequest<S: Suite> {
    /// The sender-signed core.
    pub core: SignedCore<S>,
    /// The sender's signature.
    pub sender_signature: [u8; 64],
    /// Certificates referred to by hops.
    pub certificates: Vec<Certificate<S>>,
    /// The metadata slot, whole: forwarders are meant to read the routing labels.
    pub metadata: Slot<S>,
    /// The parts offered for forwarding.
    pub parts: Vec<PartView<S>>,
}

impl<S: Suite> EnvelopeHeader<S> {
    /// The server's step 1: a forwarding request for `parts` (all held parts if `None`).
    pub fn forwarding_request(
        &self,
        parts: Option<&[u32]>,
    ) -> Result<ForwardingRequest<S>, ForwardError> {
        let metadata = self
            .slot(SlotId::METADATA)
            .ok_or_else(|| ForwardError::NotHolder(SlotId::METADATA.to_string()))?
            .clone();
        let part_slots: Vec<&Slot<S>> = match parts {
            None => self
                .slots
                .iter()
                .filter(|s| !s.slot.is_metadata())
                .collect(),
            Some(p) => {
                let mut p = p.to_vec();
                p.sort_unstable();
                p.dedup();
                p.iter()
                    .map(|i| {
                        SlotId::part(*i)
                            .and_then(|s| self.slot(s))
                            .ok_or(ForwardError::NoSuchPart(*i))
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        Ok(ForwardingRequest {
            core: self.core.clone(),
            sender_signature: self.sender_signature,
            certificates: self.certificates.clone(),
            metadata,
            parts: part_slots
                .into_iter()
                .map(|s| PartView {
                    slot: s.slot,
                    c2: s.capsule.c2.clone(),
                    hops: s.hops.clone(),
                })
                .collect(),
        })
    }

    /// The server's step 2 (the combiner): verify every hop of a forwarder's response against
    /// this header and apply it, `C1' = C1 − X`. Returns the target's header. Takes no key.
    pub fn apply_forward(
        &self,
        response: &ForwardResponse<S>,
    ) -> Result<EnvelopeHeader<S>, VerifyError> {
        // Shape: the metadata slot first, then parts strictly ascending, each held here.
        let Some(((SlotId::METADATA, _), rest)) = response.hops.split_first() else {
            return Err(VerifyError::Inconsistent(
                "a forward must re-encrypt the metadata slot first",
            ));
        };
        if rest.windows(2).any(|w| w[0].0 >= w[1].0) || rest.iter().any(|(s, _)| s.is_metadata()) {
            return Err(VerifyError::Inconsistent(
                "forwarded parts must be listed once each, in ascending order",
            ));
        }
        // As in model 1 (`select_parts`): a forward carries at least one part.
        if rest.is_empty() {
            return Err(VerifyError::Inconsistent(
                "a forward must re-encrypt at least one part",
            ));
        }
        for (slot_no, hop) in &response.hops {
            let Some(slot) = self.slot(*slot_no) else {
                return Err(VerifyError::Inconsistent(
                    "a forwarded part is not in this delivery",
                ));
            };
            // A 65th hop would make a header that no reader decodes (SPEC.md §2.3).
            if slot.hops.len() >= limits::MAX_HOPS as usize {
                return Err(VerifyError::Inconsistent(
                    "a forwarded slot already has the maximum number of hops",
                ));
            }
            if hop.forwarder_cert != response.forwarder.fingerprint()
                || hop.target_cert != response.target.fingerprint()
            {
                return Err(VerifyError::Inconsistent(
                    "a hop names another forwarder or target than the response",
                ));
            }
        }
        let parts: Vec<SlotId> = rest.iter().map(|(s, _)| *s).collect();
        let out = self
            .combine_unchecked(response, &parts)
            .map_err(VerifyError::Inconsistent)?;
        // Verify every new slot exactly as a reader will: the forwarder is the previous holder
        // and may forward, certificates are valid at the hop's time, times do not go back, the
        // proof (or signature) verifies, and C1' descends from the sender's C1.
        let certs = CertCache::new(&out);
        for slot in &out.slots {
            verify_slot(
                &out,
                &certs,
                slot.slot,
                &slot.hops,
                &slot.capsule.c2,
                Some(&slot.capsule.c1),
            )?;
        }
        Ok(out)
    }
}

impl<S: Suite> ForwardingRequest<S> {
    /// The request as a header holding only the metadata slot (what `verify` checks; also what
    /// `envelope::describe_hop` needs to name a hop's members).
    pub fn as_header_for_verification(&self) -> EnvelopeHeader<S> {
        EnvelopeHeader {
            core: self.core.clone(),
            sender_signature: self.sender_signature,
            certificates: self.certificates.clone(),
            slots: vec![self.metadata.clone()],
            bodies: vec![],
        }
    }

    /// [`ForwardingRequest::verify`], then no signed time (creation, any hop) later than
    /// [`MAX_FUTURE_SKEW`](crate::envelope::MAX_FUTURE_SKEW) seconds after `now`.
    pub fn verify_at(self, now: u64) -> Result<VerifiedRequest<S>, VerifyError> {
        let verified = self.verify()?;
        let r = &verified.request;
        check_future("the envelope's creation time", r.core.created, now)?;
        check_hop_times(r.metadata.slot, &r.metadata.hops, now)?;
        for p in &r.parts {
            check_hop_times(p.slot, &p.hops, now)?;
        }
        Ok(verified)
    }

    /// The forwarder's check, before computing anything with its key: the sender's signature
    /// and certificate, the recipient certificate, the metadata slot completely, and for each
    /// part every hop and that its `C2` descends from the sender's signed `C2`.
    pub fn verify(self) -> Result<VerifiedRequest<S>, VerifyError> {
        let metadata = self.as_header_for_verification().verify()?;
        if metadata.holder(SlotId::METADATA).is_none() {
            return Err(VerifyError::Inconsistent("metadata slot"));
        }
        let certs = CertCache::new(metadata.header());
        let mut holders = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            if p.slot
                .part_index()
                .is_none_or(|i| i as usize >= self.core.parts.len())
            {
                return Err(VerifyError::Inconsistent("part number out of range"));
            }
            holders.push(verify_slot(
                metadata.header(),
                &certs,
                p.slot,
                &p.hops,
                &p.c2,
                None,
            )?);
        }
        drop(certs);
        Ok(VerifiedRequest {
            request: self,
            metadata,
            holders,
        })
    }

    /// Encode (SPEC.md §7.3).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decode.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(bytes)
    }
}

impl<S: Suite> Codec for ForwardingRequest<S> {
    const FRAME: Frame = Frame {
        magic: b"SKFRQ",
        version: 1,
        what: "forwarding request",
    };
    type Suite = S;

    fn write_fields(&self, w: &mut Writer) {
        let h = self.as_header_for_verification().to_bytes();
        w.bytes32(&h);
        w.u32(self.parts.len() as u32);
        for p in &self.parts {
            w.u32(p.slot.to_wire())
                .point::<S>(&p.c2)
                .u32(p.hops.len() as u32);
            for hop in &p.hops {
                hop.write(w);
            }
        }
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let h = EnvelopeHeader::<S>::from_bytes(
            r.bytes32("request header", limits::MAX_HEADER as u32)?,
        )?;
        if h.slots.len() != 1 || !h.slots[0].slot.is_metadata() || !h.bodies.is_empty() {
            return Err(DecodeError::InvalidValue(
                "request header must hold exactly the metadata slot",
            ));
        }
        let n = r.count("request part count", limits::MAX_PARTS)?;
        let mut parts = Vec::with_capacity(n.min(4096) as usize);
        for _ in 0..n {
            let slot = SlotId::from_wire(r.u32("part")?);
            if slot.is_metadata() || parts.last().is_some_and(|p: &PartView<S>| p.slot >= slot) {
                return Err(DecodeError::InvalidValue("request parts must be ascending"));
            }
            let c2 = r.point::<S>("part C2")?;
            let nh = r.count("hop count", limits::MAX_HOPS)?;
            let mut hops = Vec::with_capacity(nh as usize);
            for _ in 0..nh {
                hops.push(Hop::read(r)?);
            }
            parts.push(PartView { slot, c2, hops });
        }
        let mut slots = h.slots;
        let metadata = slots.remove(0);
        Ok(Self {
            core: h.core,
            sender_signature: h.sender_signature,
            certificates: h.certificates,
            metadata,
            parts,
        })
    }
}

/// A forwarding request whose signatures and chains have been checked. It owns the request
/// ([`ForwardingRequest::verify`] takes it by value), so a forwarder keeps what it verified
/// from showing the request to making its hops; [`VerifiedRequest::into_request`] gives it back.
#[derive(Debug, Clone)]
pub struct VerifiedRequest<S: Suite> {
    request: ForwardingRequest<S>,
    /// The request's metadata slot as a verified header (sender, recipient, metadata holder).
    metadata: VerifiedEnvelope<S>,
    /// The current holder of each offered part, in the request's order.
    holders: Vec<VerifiedCertificate<S>>,
}

impl<S: Suite> VerifiedRequest<S> {
    /// The request this verification is about.
    pub fn request(&self) -> &ForwardingRequest<S> {
        &self.request
    }

    /// The request, given back.
    pub fn into_request(self) -> ForwardingRequest<S> {
        self.request
    }

    fn metadata_holder(&self) -> &VerifiedCertificate<S> {
        self.metadata
            .holder(SlotId::METADATA)
            .expect("checked by ForwardingRequest::verify")
    }

    /// The current holder of a slot in the request.
    pub fn holder(&self, slot: SlotId) -> Option<&VerifiedCertificate<S>> {
        if slot.is_metadata() {
            return Some(self.metadata_holder());
        }
        self.request
            .parts
            .iter()
            .position(|p| p.slot == slot)
            .map(|i| &self.holders[i])
    }

    /// The sender's verified certificate.
    pub fn sender(&self) -> &VerifiedCertificate<S> {
        self.metadata.sender()
    }

    /// Open the routing metadata (title, category, labels) with the forwarder's key.
    pub fn open_metadata(&self, holder: &dyn KeyHolder<S>) -> Result<Metadata, DecryptError> {
        self.metadata.open_metadata(holder)
    }

    /// The forwarder's step: shares for the metadata slot and each of `parts` (all offered parts
    /// held by this forwarder if `None`), toward `target`.
    pub fn make_hops(
        &self,
        forwarder: &Forwarder<'_, S>,
        target: &VerifiedCertificate<S>,
        parts: Option<&[u32]>,
        time: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<ForwardResponse<S>, ForwardError> {
        let me = forwarder.cert.fingerprint();
        let key = forwarder.holder.public_key();
        let mut held: Vec<SlotId> = self
            .request
            .parts
            .iter()
            .zip(&self.holders)
            .filter(|(_, h)| h.encryption_key() == &key)
            .map(|(p, _)| p.slot)
            .collect();
        if self.metadata_holder().encryption_key() == &key {
            held.push(SlotId::METADATA);
        }
        let wanted = select_parts(&self.request.core, &held, parts)?;
        let view = |slot: SlotId| -> Option<SlotState<'_, S>> {
            if slot.is_metadata() {
                let m = &self.request.metadata;
                return Some(SlotState {
                    holder: self.metadata_holder().certificate().fingerprint(),
                    c2: &m.capsule.c2,
                    hops: &m.hops,
                });
            }
            let i = self.request.parts.iter().position(|p| p.slot == slot)?;
            let p = &self.request.parts[i];
            Some(SlotState {
                holder: self.holders[i].certificate().fingerprint(),
                c2: &p.c2,
                hops: &p.hops,
            })
        };
        make_hops(
            &self.request.core,
            &view,
            &me,
            forwarder,
            target,
            &wanted,
            time,
            rng,
        )
    }
}
