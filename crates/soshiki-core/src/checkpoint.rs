//! Organization-signed audit checkpoints (SPEC.md §5.7).
//!
//! A server keeps each organization's audit trail as a hash chain; whoever writes its database
//! can delete or renumber entries and recompute every hash consistently. An [`AuditCheckpoint`]
//! anchors the trail outside the server: the organization's administrator signs, with the
//! **organization key**, the position (sequence number) of an entry, that entry's chain hash
//! and the time. Any client holding a checkpoint — one it remembered, or one the server served —
//! checks that the trail it reads has that hash at that position, so a rewrite of anything up
//! to the checkpoint is detected by every client, including a fresh browser.
//!
//! The chain hash itself is defined by the trail (`soshiki_client::proto::audit_hash`); for the
//! checkpoint it is 32 opaque bytes.

use rand_core::CryptoRngCore;

use crate::cert::{signed_message, Fingerprint, Organization, OrganizationKey};
use crate::error::{DecodeError, VerifyError};
use crate::suite::Suite;
use crate::wire::{Codec, Frame, Reader, Writer};

/// A signed audit checkpoint as read from the wire: **not yet verified**.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCheckpoint<S: Suite> {
    /// Fingerprint of the organization whose trail it anchors (and whose key signs it).
    pub org: Fingerprint,
    /// Sequence number of the anchored entry (from 1).
    pub position: u64,
    /// That entry's chain hash.
    pub head: [u8; 32],
    /// When the administrator signed it.
    pub time: u64,
    signature: [u8; 64],
    _suite: core::marker::PhantomData<S>,
}

impl<S: Suite> Codec for AuditCheckpoint<S> {
    const FRAME: Frame = Frame {
        magic: b"SKCHK",
        version: 1,
        what: "audit checkpoint",
    };
    type Suite = S;

    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let org = Fingerprint(r.array("checkpoint organization")?);
        let position = r.u64("checkpoint position")?;
        if position == 0 {
            return Err(DecodeError::InvalidValue("checkpoint position"));
        }
        let head = r.array("checkpoint head hash")?;
        let time = r.u64("checkpoint time")?;
        let signature = r.array("checkpoint signature")?;
        Ok(Self {
            org,
            position,
            head,
            time,
            signature,
            _suite: core::marker::PhantomData,
        })
    }

    fn write_fields(&self, w: &mut Writer) {
        self.write_signed_fields(w);
        w.raw(&self.signature);
    }
}

impl<S: Suite> AuditCheckpoint<S> {
    fn write_signed_fields(&self, w: &mut Writer) {
        w.raw(&self.org.0)
            .u64(self.position)
            .raw(&self.head)
            .u64(self.time);
    }

    /// What the organization signs: the frame and every field but the signature.
    fn body(&self) -> Vec<u8> {
        Self::FRAME.encode::<S>(|w| self.write_signed_fields(w))
    }

    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decode a whole buffer (strict; the signature is not checked: see [`Self::verify`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(bytes)
    }

    /// Verify that the (pinned) organization signed this checkpoint of its own trail.
    pub fn verify(&self, org: &Organization<S>) -> Result<(), VerifyError> {
        let ok = self.org == org.fingerprint()
            && org.signing_key.verify(
                &signed_message("audit-checkpoint", &self.body()),
                &self.signature,
            );
        if ok {
            Ok(())
        } else {
            Err(VerifyError::Checkpoint)
        }
    }
}

impl<S: Suite> OrganizationKey<S> {
    /// Sign a checkpoint of this organization's audit trail: entry `position` has chain hash
    /// `head`.
    pub fn sign_checkpoint(
        &self,
        position: u64,
        head: [u8; 32],
        time: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<AuditCheckpoint<S>, VerifyError> {
        if position == 0 {
            return Err(VerifyError::Inconsistent(
                "a checkpoint anchors an entry (position from 1)",
            ));
        }
        let mut c = AuditCheckpoint {
            org: self.organization().fingerprint(),
            position,
            head,
            time,
            signature: [0; 64],
            _suite: core::marker::PhantomData,
        };
        c.signature = self
            .signing_key()
            .sign(&signed_message("audit-checkpoint", &c.body()), rng);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{Ristretto255, P256};
    use rand_chacha::rand_core::SeedableRng;

    fn story<S: Suite>() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let org = OrganizationKey::<S>::generate("大町市", 1, &mut rng).expect("org");
        let other = OrganizationKey::<S>::generate("大町市", 1, &mut rng).expect("org");
        let c = org
            .sign_checkpoint(12, [9; 32], 1000, &mut rng)
            .expect("sign");
        let back = AuditCheckpoint::<S>::from_bytes(&c.to_bytes()).expect("decode");
        assert_eq!(back, c);
        back.verify(org.organization()).expect("valid");
        assert_eq!(
            back.verify(other.organization()),
            Err(VerifyError::Checkpoint)
        );
        let mut moved = back.clone();
        moved.position = 11;
        assert!(moved.verify(org.organization()).is_err());
        let mut bytes = c.to_bytes();
        bytes.push(0);
        assert!(AuditCheckpoint::<S>::from_bytes(&bytes).is_err());
        assert!(org.sign_checkpoint(0, [0; 32], 1, &mut rng).is_err());
    }

    #[test]
    fn checkpoints_p256() {
        story::<P256>();
    }

    #[test]
    fn checkpoints_ristretto() {
        story::<Ristretto255>();
    }
}
