//! Organization-signed revocation lists (SPEC.md §5.6).
//!
//! An organization publishes which of its certificates it has revoked as a [`RevocationList`]
//! signed with its **organization key**: a monotonic serial number, the issue time, the time by
//! which the next list is due (`next_update`, the organization's freshness policy carried in
//! the signed list itself) and the revoked certificates' fingerprints. A server only relays
//! the list; it cannot forge, extend or shorten one.
//!
//! Every client that addresses a member (a sender choosing a recipient, a forwarder choosing a
//! target) verifies the newest list against the organization it pinned
//! ([`RevocationList::verify`]): issued by that organization, not older than the newest serial
//! the client has seen (a server replaying an old list is caught), not stale (`now ≤
//! next_update`), not issued in the future; and then refuses any certificate the list revokes
//! ([`VerifiedRevocationList::check`]).
//!
//! Threat model (a lying server reports a revoked member as active): the member is refused
//! from the signed list; an older list is refused once a newer serial was seen; a withheld list
//! is refused by freshness.

use rand_core::CryptoRngCore;

use crate::cert::{signed_message, Certificate, Fingerprint, Organization, OrganizationKey};
use crate::error::{DecodeError, RevocationError};
use crate::suite::Suite;
use crate::wire::{limits, Codec, Frame, Reader, Writer};

/// How far in the future a list's issue time may be (clock skew between organizations).
pub const MAX_ISSUE_SKEW: u64 = 300;

/// One revoked certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Revoked {
    /// The revoked certificate's fingerprint (SPEC.md §5.4).
    pub certificate: Fingerprint,
    /// When it was revoked (Unix seconds; informative).
    pub revoked_at: u64,
}

/// A revocation list as read from the wire: **not yet verified**.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationList<S: Suite> {
    /// Fingerprint of the issuing organization.
    pub issuer: Fingerprint,
    /// Serial number, from 1, increasing with every list the organization publishes.
    pub serial: u64,
    /// Issue time.
    pub issued: u64,
    /// The list is stale after this time: a newer one must have been published by then.
    pub next_update: u64,
    /// Revoked certificates, in ascending order of fingerprint, without repetition.
    pub revoked: Vec<Revoked>,
    signature: [u8; 64],
    _suite: core::marker::PhantomData<S>,
}

impl<S: Suite> Codec for RevocationList<S> {
    const FRAME: Frame = Frame {
        magic: b"SKREV",
        version: 1,
        what: "revocation list",
    };
    type Suite = S;

    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let issuer = Fingerprint(r.array("revocation list issuer")?);
        let serial = r.u64("revocation list serial")?;
        if serial == 0 {
            return Err(DecodeError::InvalidValue("revocation list serial"));
        }
        let issued = r.u64("revocation list issue time")?;
        let next_update = r.u64("revocation list next update")?;
        if next_update <= issued {
            return Err(DecodeError::InvalidValue("revocation list next update"));
        }
        let n = r.count("revoked certificates", limits::MAX_REVOKED)?;
        let mut revoked: Vec<Revoked> = Vec::with_capacity(n.min(4096) as usize);
        for _ in 0..n {
            let certificate = Fingerprint(r.array("revoked certificate")?);
            let revoked_at = r.u64("revocation time")?;
            if revoked.last().is_some_and(|p| p.certificate >= certificate) {
                return Err(DecodeError::InvalidValue("revoked certificate order"));
            }
            revoked.push(Revoked {
                certificate,
                revoked_at,
            });
        }
        let signature = r.array("revocation list signature")?;
        Ok(Self {
            issuer,
            serial,
            issued,
            next_update,
            revoked,
            signature,
            _suite: core::marker::PhantomData,
        })
    }

    fn write_fields(&self, w: &mut Writer) {
        self.write_signed_fields(w);
        w.raw(&self.signature);
    }
}

impl<S: Suite> RevocationList<S> {
    fn write_signed_fields(&self, w: &mut Writer) {
        w.raw(&self.issuer.0)
            .u64(self.serial)
            .u64(self.issued)
            .u64(self.next_update)
            .u32(self.revoked.len() as u32);
        for r in &self.revoked {
            w.raw(&r.certificate.0).u64(r.revoked_at);
        }
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

    /// Whether the organization's signature is valid (issuer and signature only).
    pub fn is_signed_by(&self, org: &Organization<S>) -> bool {
        self.issuer == org.fingerprint()
            && org.signing_key.verify(
                &signed_message("revocation-list", &self.body()),
                &self.signature,
            )
    }

    /// Verify against the (pinned) organization at time `now`, given the highest serial this
    /// verifier has seen for the organization (0 if none): signed by the organization, serial
    /// not below `seen_serial`, `issued ≤ now + MAX_ISSUE_SKEW`, `now ≤ next_update`.
    pub fn verify(
        &self,
        org: &Organization<S>,
        now: u64,
        seen_serial: u64,
    ) -> Result<VerifiedRevocationList<S>, RevocationError> {
        if !self.is_signed_by(org) {
            return Err(RevocationError::Signature);
        }
        if self.serial < seen_serial {
            return Err(RevocationError::Rollback {
                found: self.serial,
                seen: seen_serial,
            });
        }
        if self.issued > now.saturating_add(MAX_ISSUE_SKEW) {
            return Err(RevocationError::Future {
                issued: self.issued,
                now,
            });
        }
        if now > self.next_update {
            return Err(RevocationError::Stale {
                next_update: self.next_update,
                now,
            });
        }
        Ok(VerifiedRevocationList { list: self.clone() })
    }
}

/// A revocation list checked against its organization, current at the verifier's time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedRevocationList<S: Suite> {
    list: RevocationList<S>,
}

impl<S: Suite> VerifiedRevocationList<S> {
    /// The list.
    pub fn list(&self) -> &RevocationList<S> {
        &self.list
    }

    /// Its serial number.
    pub fn serial(&self) -> u64 {
        self.list.serial
    }

    /// The revocation of this certificate, if it is revoked.
    pub fn revocation(&self, certificate: &Fingerprint) -> Option<&Revoked> {
        self.list
            .revoked
            .binary_search_by(|r| r.certificate.cmp(certificate))
            .ok()
            .map(|i| &self.list.revoked[i])
    }

    /// Refuse a certificate of this organization that the list revokes (a certificate of
    /// another organization is refused too: this list cannot speak for it).
    pub fn check(&self, cert: &Certificate<S>) -> Result<(), RevocationError> {
        if cert.issuer != self.list.issuer {
            return Err(RevocationError::OtherOrganization);
        }
        match self.revocation(&cert.fingerprint()) {
            Some(r) => Err(RevocationError::Revoked {
                member: cert.member_name.clone(),
                at: r.revoked_at,
            }),
            None => Ok(()),
        }
    }
}

impl<S: Suite> OrganizationKey<S> {
    /// Issue a revocation list (the entries are sorted and deduplicated; the first revocation
    /// time of a repeated certificate is kept).
    pub fn issue_revocation_list(
        &self,
        serial: u64,
        issued: u64,
        next_update: u64,
        revoked: &[Revoked],
        rng: &mut impl CryptoRngCore,
    ) -> Result<RevocationList<S>, RevocationError> {
        if serial == 0 {
            return Err(RevocationError::Invalid("the serial number starts at 1"));
        }
        if next_update <= issued {
            return Err(RevocationError::Invalid(
                "the next update must come after the issue time",
            ));
        }
        let mut entries = revoked.to_vec();
        entries.sort();
        entries.dedup_by(|b, a| a.certificate == b.certificate);
        if entries.len() > limits::MAX_REVOKED as usize {
            return Err(RevocationError::Invalid("too many revoked certificates"));
        }
        let mut list = RevocationList {
            issuer: self.organization().fingerprint(),
            serial,
            issued,
            next_update,
            revoked: entries,
            signature: [0; 64],
            _suite: core::marker::PhantomData,
        };
        list.signature = self
            .signing_key()
            .sign(&signed_message("revocation-list", &list.body()), rng);
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::{CertificateRequest, Roles};
    use crate::keys::{SecretKey, SigningKey};
    use crate::suite::{Ristretto255, P256};
    use rand_chacha::rand_core::SeedableRng;

    fn cert<S: Suite>(
        org: &OrganizationKey<S>,
        name: &str,
        rng: &mut rand_chacha::ChaCha20Rng,
    ) -> Certificate<S> {
        let req = CertificateRequest {
            member_name: name.into(),
            roles: Roles::READER,
            encryption_key: SecretKey::<S>::generate(rng).public_key().clone(),
            signing_key: SigningKey::<S>::generate(rng).verifying_key(),
            not_before: 0,
            not_after: 10_000,
        };
        org.certify(&req, rng).expect("certify")
    }

    fn story<S: Suite>() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let org = OrganizationKey::<S>::generate("大町市", 1, &mut rng).expect("org");
        let other = OrganizationKey::<S>::generate("大町市", 1, &mut rng).expect("org");
        let (a, b) = (cert(&org, "a", &mut rng), cert(&org, "b", &mut rng));
        let rev = [Revoked {
            certificate: a.fingerprint(),
            revoked_at: 50,
        }];
        let list = org
            .issue_revocation_list(2, 1000, 2000, &rev, &mut rng)
            .expect("issue");
        let back = RevocationList::<S>::from_bytes(&list.to_bytes()).expect("decode");
        assert_eq!(back, list);
        let v = back.verify(org.organization(), 1500, 2).expect("valid");
        assert!(matches!(v.check(&a), Err(RevocationError::Revoked { .. })));
        assert!(v.check(&b).is_ok());
        assert_eq!(
            back.verify(org.organization(), 1500, 3).unwrap_err(),
            RevocationError::Rollback { found: 2, seen: 3 }
        );
        assert_eq!(
            back.verify(org.organization(), 2001, 0).unwrap_err(),
            RevocationError::Stale {
                next_update: 2000,
                now: 2001
            }
        );
        assert!(matches!(
            back.verify(org.organization(), 600, 0),
            Err(RevocationError::Future { .. })
        ));
        assert_eq!(
            back.verify(other.organization(), 1500, 0).unwrap_err(),
            RevocationError::Signature
        );
        // Another organization's key signing a list that names this organization as issuer.
        let mut forged = other
            .issue_revocation_list(9, 1000, 2000, &[], &mut rng)
            .expect("issue");
        forged.issuer = org.organization().fingerprint();
        assert_eq!(
            forged.verify(org.organization(), 1500, 0).unwrap_err(),
            RevocationError::Signature
        );
        // Any flipped byte of the signed part fails decoding or the signature.
        let bytes = list.to_bytes();
        for i in 0..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x40;
            if let Ok(l) = RevocationList::<S>::from_bytes(&t) {
                assert!(l.verify(org.organization(), 1500, 0).is_err(), "byte {i}");
            }
        }
    }

    #[test]
    fn revocation_lists_p256() {
        story::<P256>();
    }

    #[test]
    fn revocation_lists_ristretto() {
        story::<Ristretto255>();
    }

    #[test]
    fn entries_are_sorted_and_unique_on_the_wire() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(6);
        let org = OrganizationKey::<P256>::generate("x", 1, &mut rng).expect("org");
        let e = |b: u8| Revoked {
            certificate: Fingerprint([b; 32]),
            revoked_at: 1,
        };
        let list = org
            .issue_revocation_list(1, 1, 2, &[e(3), e(1), e(3)], &mut rng)
            .expect("issue");
        assert_eq!(list.revoked, vec![e(1), e(3)]);
        // Swap the two entries on the wire: refused as out of order before any signature.
        let mut bytes = list.to_bytes();
        let start = 5 + 1 + 2 + 32 + 8 + 8 + 8 + 4;
        let (x, y) = bytes[start..start + 80].split_at_mut(40);
        x.swap_with_slice(y);
        assert_eq!(
            RevocationList::<P256>::from_bytes(&bytes).unwrap_err(),
            DecodeError::InvalidValue("revoked certificate order")
        );
    }
}
