//! Making and combining re-encryption hops, shared by both forwarding models, and the
//! forwarder's answer ([`ForwardResponse`]) (SPEC.md §7.3).

use rand_core::CryptoRngCore;

use super::header::{EnvelopeHeader, Hop, SignedCore, Slot};
use super::slot::SlotId;
use super::verify::can_receive;
use crate::cert::{Certificate, Fingerprint, Roles, VerifiedCertificate};
use crate::error::{DecodeError, ForwardError};
use crate::keys::{KeyHolder, SigningKey};
use crate::scheme::{Capsule, HopContext, HopStatement};
use crate::suite::Suite;
use crate::wire::{limits, Codec, Frame, Reader, Writer};

/// What hop-making needs to know of a slot.
pub(crate) struct SlotState<'a, S: Suite> {
    /// Fingerprint of the current holder's certificate.
    pub holder: Fingerprint,
    /// Current `C2`.
    pub c2: &'a S::Point,
    /// Hops so far.
    pub hops: &'a [Hop<S>],
}

/// Which parts to forward: the requested part indexes (each must be held) or all held parts.
/// Returns their slots, ascending.
pub(crate) fn select_parts<S: Suite>(
    core: &SignedCore<S>,
    held: &[SlotId],
    parts: Option<&[u32]>,
) -> Result<Vec<SlotId>, ForwardError> {
    let wanted: Vec<SlotId> = match parts {
        Some(p) => {
            let mut v = Vec::with_capacity(p.len());
            for i in p {
                let slot = SlotId::part(*i)
                    .filter(|_| (*i as usize) < core.parts.len())
                    .ok_or(ForwardError::NoSuchPart(*i))?;
                if !held.contains(&slot) {
                    return Err(ForwardError::NotHolder(slot.to_string()));
                }
                v.push(slot);
            }
            v.sort_unstable();
            v.dedup();
            v
        }
        None => held.iter().copied().filter(|s| !s.is_metadata()).collect(),
    };
    if wanted.is_empty() {
        return Err(ForwardError::NotHolder("any part".into()));
    }
    if !held.contains(&SlotId::METADATA) {
        return Err(ForwardError::NotHolder(SlotId::METADATA.to_string()));
    }
    Ok(wanted)
}

/// The forwarder's side of a forward, shared by model 1 and model 2: one hop (share with proof,
/// or signature) for the metadata slot and for each wanted part, toward a verified target of
/// the receiving organization.
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_hops<'a, S: Suite>(
    core: &SignedCore<S>,
    view: &dyn Fn(SlotId) -> Option<SlotState<'a, S>>,
    me: &Fingerprint,
    forwarder: &Forwarder<'_, S>,
    target: &VerifiedCertificate<S>,
    wanted: &[SlotId],
    time: u64,
    rng: &mut impl CryptoRngCore,
) -> Result<ForwardResponse<S>, ForwardError> {
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
    for slot_no in std::iter::once(SlotId::METADATA).chain(wanted.iter().copied()) {
        let st = view(slot_no).ok_or_else(|| ForwardError::NotHolder(slot_no.to_string()))?;
        if st.holder != *me {
            return Err(ForwardError::NotHolder(slot_no.to_string()));
        }
        // The checks a reader will make of this hop, made before any key is used.
        if time < st.hops.last().map_or(core.created, |h| h.time) {
            return Err(ForwardError::Invalid(
                "the forwarding time is earlier than the envelope or its last hop",
            ));
        }
        if st.hops.len() >= limits::MAX_HOPS as usize {
            return Err(ForwardError::TooManyHops(slot_no.to_string()));
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
    Ok(ForwardResponse {
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
        response: &ForwardResponse<S>,
        parts: &[SlotId],
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
            .filter(|b| SlotId::part(*b).is_some_and(|s| parts.contains(&s)))
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

/// until [`EnvelopeHeader::apply_forward`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardResponse<S: Suite> {
    /// The forwarder's certificate.
    pub forwarder: Certificate<S>,
    /// The target's certificate.
    pub target: Certificate<S>,
    /// `(slot, hop)`, the metadata slot included.
    pub hops: Vec<(SlotId, Hop<S>)>,
}

impl<S: Suite> Codec for ForwardResponse<S> {
    const FRAME: Frame = Frame {
        magic: b"SKFRS",
        version: 1,
        what: "forward response",
    };
    type Suite = S;

    fn write_fields(&self, w: &mut Writer) {
        w.raw(&self.forwarder.to_bytes())
            .raw(&self.target.to_bytes())
            .u32(self.hops.len() as u32);
        for (s, h) in &self.hops {
            w.u32(s.to_wire());
            h.write(w);
        }
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let forwarder = Certificate::read(r)?;
        let target = Certificate::read(r)?;
        let n = r.count("response hop count", limits::MAX_PARTS + 1)?;
        let mut hops = Vec::with_capacity(n.min(4096) as usize);
        for _ in 0..n {
            let s = SlotId::from_wire(r.u32("slot")?);
            hops.push((s, Hop::read(r)?));
        }
        Ok(Self {
            forwarder,
            target,
            hops,
        })
    }
}

impl<S: Suite> ForwardResponse<S> {
    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decode.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(bytes)
    }
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
