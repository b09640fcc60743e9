//! Forwarding in model 1 (file mode): the forwarder holds the whole header and applies
//! its own hops (SPEC.md §7.3).

use rand_core::CryptoRngCore;

use super::header::EnvelopeHeader;
use super::hops::{make_hops, select_parts, Forwarder, SlotState};
use super::slot::SlotId;
use super::verify::VerifiedEnvelope;
use crate::cert::VerifiedCertificate;
use crate::error::ForwardError;
use crate::suite::Suite;

impl<S: Suite> VerifiedEnvelope<S> {
    /// Forward (model 1, file mode): re-encrypt the metadata slot and the chosen parts (all held
    /// parts if `parts` is `None`) to `target`. Returns the new header; bodies are untouched.
    /// The hops are the same as in model 2 ([`super::model2`]); here the forwarder also applies
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
        let view = |slot: SlotId| {
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
