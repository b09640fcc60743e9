//! Verifying a header: certificates, the sender's signature, every hop (SPEC.md §7.4).

use super::header::{c1_digest, EnvelopeHeader, Hop, SignedCore};
use super::metadata::{decrypt_metadata, Metadata};
use super::slot::SlotId;
use crate::cert::{Certificate, Fingerprint, Roles, VerifiedCertificate};
use crate::error::{DecryptError, VerifyError};
use crate::kdf::{derive_slot_keys, SlotKeys};
use crate::keys::{DhOutput, KeyHolder};
use crate::scheme::{HopContext, HopStatement};
use crate::suite::Suite;

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
    slot: SlotId,
    hops: &[Hop<S>],
    c2_current: &S::Point,
    c1_current: Option<&S::Point>,
) -> Result<VerifiedCertificate<S>, VerifyError> {
    let core = &header.core;
    let name = slot.to_string();
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
    slot: SlotId,
    hops: &[Hop<S>],
    now: u64,
) -> Result<(), VerifyError> {
    for (i, hop) in hops.iter().enumerate() {
        check_future(&format!("hop {} of {slot}", i + 1), hop.time, now)?;
    }
    Ok(())
}

/// Whether a member with these roles may be the target of a hop.
pub(super) fn can_receive(roles: Roles) -> bool {
    roles.contains(Roles::READER)
        || roles.contains(Roles::FORWARDER)
        || roles.contains(Roles::REPRESENTATIVE)
}

/// A header whose signatures, certificates and hops have all been checked. It owns the header
/// ([`EnvelopeHeader::verify`] takes it by value), so whoever verified keeps what it verified;
/// [`VerifiedEnvelope::into_header`] gives it back.
#[derive(Debug, Clone)]
pub struct VerifiedEnvelope<S: Suite> {
    pub(super) header: EnvelopeHeader<S>,
    sender: VerifiedCertificate<S>,
    recipient: VerifiedCertificate<S>,
    holders: Vec<VerifiedCertificate<S>>,
}

impl<S: Suite> VerifiedEnvelope<S> {
    /// The header.
    pub fn header(&self) -> &EnvelopeHeader<S> {
        &self.header
    }
    /// The header, given back (for storing or sending it on).
    pub fn into_header(self) -> EnvelopeHeader<S> {
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
    pub fn holder(&self, slot: SlotId) -> Option<&VerifiedCertificate<S>> {
        self.header
            .slots
            .iter()
            .position(|s| s.slot == slot)
            .map(|i| &self.holders[i])
    }

    /// The slots this key currently holds.
    pub fn slots_held_by(&self, key: &crate::keys::PublicKey<S>) -> Vec<SlotId> {
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
        slot: SlotId,
        holder: &dyn KeyHolder<S>,
    ) -> Result<SlotKeys, DecryptError> {
        let s = self
            .header
            .slot(slot)
            .ok_or_else(|| DecryptError::NotRecipient(slot.to_string()))?;
        let current = self
            .holder(slot)
            .ok_or_else(|| DecryptError::NotRecipient(slot.to_string()))?;
        if current.encryption_key() != &holder.public_key() {
            return Err(DecryptError::NotRecipient(slot.to_string()));
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
        let keys = self.open_slot(SlotId::METADATA, holder)?;
        decrypt_metadata(&self.header.core, &keys)
    }
}

impl<S: Suite> EnvelopeHeader<S> {
    /// [`EnvelopeHeader::verify`], then [`EnvelopeHeader::check_times`] against the verifier's
    /// clock `now` (Unix seconds). What every client uses before trusting a header.
    pub fn verify_at(self, now: u64) -> Result<VerifiedEnvelope<S>, VerifyError> {
        let verified = self.verify()?;
        verified.header.check_times(now)?;
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
    pub fn verify(self) -> Result<VerifiedEnvelope<S>, VerifyError> {
        let core = &self.core;
        let sender = core.sender_cert.verify(&core.sender_org, core.created)?;
        if !sender
            .certificate()
            .signing_key
            .verify(&core.signed_message(), &self.sender_signature)
        {
            return Err(VerifyError::SenderSignature);
        }
        let certs = CertCache::new(&self);
        let recipient = certs.recipient()?;
        let mut holders = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            let holder = verify_slot(
                &self,
                &certs,
                slot.slot,
                &slot.hops,
                &slot.capsule.c2,
                Some(&slot.capsule.c1),
            )?;
            holders.push(holder);
        }
        drop(certs);
        Ok(VerifiedEnvelope {
            header: self,
            sender,
            recipient,
            holders,
        })
    }
}
