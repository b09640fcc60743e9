//! Organization-signed partner lists (SPEC.md §5.8).
//!
//! An organization publishes which other organizations its members may trust as a
//! [`PartnerList`] signed with its **organization key**: a monotonic serial number, the issue
//! time and the partner organizations' fingerprints, each with the name the administrator
//! confirmed when adding it. A server only relays the list; it cannot forge, extend, shorten
//! or swap one of its fingerprints.
//!
//! A member's client verifies its own organization's newest list ([`PartnerList::verify`]):
//! issued by that organization, not older than the newest serial the client has seen (a
//! server replaying an old list is caught), not issued in the future. An organization in the
//! verified list ([`VerifiedPartnerList::contains`]) counts as pinned for this member, in
//! addition to the member's own pins.
//!
//! Unlike a revocation list, a partner list carries no freshness deadline: a withheld or stale
//! list only means fewer organizations are trusted (the member falls back to personal pins),
//! never that a revoked party is trusted.

use rand_core::CryptoRngCore;

use crate::cert::{signed_message, Fingerprint, Organization, OrganizationKey};
use crate::error::{DecodeError, PartnerListError};
use crate::suite::{Suite, SuiteId};
use crate::wire::{limits, Codec, Frame, Reader, Writer};

const FRAME: Frame = Frame {
    magic: b"SKPAR",
    version: 1,
    what: "partner list",
};
const SIGNATURE_KIND: &str = "partner-list";
/// How far in the future a list's issue time may be (clock skew).
pub const MAX_ISSUE_SKEW: u64 = 300;

/// One partner organization.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Partner {
    /// The partner organization's fingerprint (SPEC.md §5.4).
    pub organization: Fingerprint,
    /// The partner organization's name as the administrator confirmed it (1 to 1024 bytes).
    pub name: String,
}

/// A partner list as read from the wire: **not yet verified**.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerList<S: Suite> {
    /// Fingerprint of the issuing organization.
    pub issuer: Fingerprint,
    /// Serial number, from 1, increasing with every list the organization publishes.
    pub serial: u64,
    /// Issue time.
    pub issued: u64,
    /// Partner organizations, in ascending order of fingerprint, without repetition.
    pub partners: Vec<Partner>,
    signature: [u8; 64],
    _suite: core::marker::PhantomData<S>,
}

/// The suite-independent content of a list.
struct Content {
    issuer: Fingerprint,
    serial: u64,
    issued: u64,
    partners: Vec<Partner>,
    signature: [u8; 64],
}

// The codec is not generic (one copy for both suites) and `#[inline]` (compiled with its
// callers' size optimization in the browser module).
#[inline]
fn write_signed_content(
    w: &mut Writer,
    issuer: &Fingerprint,
    serial: u64,
    issued: u64,
    partners: &[Partner],
) {
    w.raw(&issuer.0)
        .u64(serial)
        .u64(issued)
        .u32(partners.len() as u32);
    for p in partners {
        w.raw(&p.organization.0).bytes16(p.name.as_bytes());
    }
}

#[inline]
fn encode_body(
    suite: SuiteId,
    issuer: &Fingerprint,
    serial: u64,
    issued: u64,
    partners: &[Partner],
) -> Vec<u8> {
    let mut w = FRAME.writer_for(suite);
    write_signed_content(&mut w, issuer, serial, issued, partners);
    w.into_bytes()
}

#[inline]
fn read_content(r: &mut Reader<'_>) -> Result<Content, DecodeError> {
    let issuer = Fingerprint(r.array("partner list issuer")?);
    let serial = r.u64("partner list serial")?;
    if serial == 0 {
        return Err(DecodeError::InvalidValue("partner list serial"));
    }
    let issued = r.u64("partner list issue time")?;
    let n = r.count("partner organizations", limits::MAX_PARTNERS)?;
    let mut partners: Vec<Partner> = Vec::with_capacity(n.min(1024) as usize);
    for _ in 0..n {
        let organization = Fingerprint(r.array("partner organization")?);
        let name = r.text16("partner organization name", limits::MAX_TEXT)?;
        if name.is_empty() {
            return Err(DecodeError::InvalidValue("partner organization name"));
        }
        if partners
            .last()
            .is_some_and(|p| p.organization >= organization)
        {
            return Err(DecodeError::InvalidValue("partner organization order"));
        }
        partners.push(Partner { organization, name });
    }
    let signature = r.array("partner list signature")?;
    Ok(Content {
        issuer,
        serial,
        issued,
        partners,
        signature,
    })
}

impl<S: Suite> Codec for PartnerList<S> {
    const FRAME: Frame = FRAME;
    type Suite = S;

    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let c = read_content(r)?;
        Ok(Self {
            issuer: c.issuer,
            serial: c.serial,
            issued: c.issued,
            partners: c.partners,
            signature: c.signature,
            _suite: core::marker::PhantomData,
        })
    }

    fn write_fields(&self, w: &mut Writer) {
        write_signed_content(w, &self.issuer, self.serial, self.issued, &self.partners);
        w.raw(&self.signature);
    }
}

impl<S: Suite> PartnerList<S> {
    fn body(&self) -> Vec<u8> {
        encode_body(
            S::ID,
            &self.issuer,
            self.serial,
            self.issued,
            &self.partners,
        )
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
                &signed_message(SIGNATURE_KIND, &self.body()),
                &self.signature,
            )
    }

    /// Verify against the member's own (pinned) organization at time `now`, given the highest
    /// serial this verifier has seen for the organization's partner list (0 if none): signed
    /// by the organization, serial not below `seen_serial`, `issued ≤ now + MAX_ISSUE_SKEW`.
    pub fn verify(
        &self,
        org: &Organization<S>,
        seen_serial: u64,
        now: u64,
    ) -> Result<VerifiedPartnerList<S>, PartnerListError> {
        if !self.is_signed_by(org) {
            return Err(PartnerListError::Signature);
        }
        if self.serial < seen_serial {
            return Err(PartnerListError::Rollback {
                found: self.serial,
                seen: seen_serial,
            });
        }
        if self.issued > now.saturating_add(MAX_ISSUE_SKEW) {
            return Err(PartnerListError::Future {
                issued: self.issued,
                now,
            });
        }
        Ok(VerifiedPartnerList { list: self.clone() })
    }
}

/// A partner list checked against its organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedPartnerList<S: Suite> {
    list: PartnerList<S>,
}

impl<S: Suite> VerifiedPartnerList<S> {
    /// The list.
    pub fn list(&self) -> &PartnerList<S> {
        &self.list
    }

    /// Its serial number.
    pub fn serial(&self) -> u64 {
        self.list.serial
    }

    /// The partner with this organization fingerprint, if listed.
    pub fn partner(&self, organization: &Fingerprint) -> Option<&Partner> {
        self.list
            .partners
            .binary_search_by(|p| p.organization.cmp(organization))
            .ok()
            .map(|i| &self.list.partners[i])
    }

    /// Whether the organization is a trusted partner.
    pub fn contains(&self, organization: &Fingerprint) -> bool {
        self.partner(organization).is_some()
    }
}

impl<S: Suite> OrganizationKey<S> {
    /// Issue a partner list (entries are sorted; a repeated fingerprint keeps its first name;
    /// the organization itself cannot be its own partner).
    pub fn issue_partner_list(
        &self,
        serial: u64,
        issued: u64,
        partners: &[Partner],
        rng: &mut impl CryptoRngCore,
    ) -> Result<PartnerList<S>, PartnerListError> {
        if serial == 0 {
            return Err(PartnerListError::Invalid("the serial number starts at 1"));
        }
        let me = self.organization().fingerprint();
        let mut entries: Vec<Partner> = Vec::with_capacity(partners.len());
        for p in partners {
            if p.name.is_empty() || p.name.len() > limits::MAX_TEXT as usize {
                return Err(PartnerListError::Invalid(
                    "a partner organization's name must be 1 to 1024 bytes",
                ));
            }
            if p.organization == me {
                return Err(PartnerListError::Invalid(
                    "an organization cannot be its own partner",
                ));
            }
            // Sorted insertion (no general sort: it keeps the browser module small).
            if let Err(at) = entries.binary_search_by(|e| e.organization.cmp(&p.organization)) {
                entries.insert(at, p.clone());
            }
        }
        if entries.len() > limits::MAX_PARTNERS as usize {
            return Err(PartnerListError::Invalid("too many partner organizations"));
        }
        let mut list = PartnerList {
            issuer: me,
            serial,
            issued,
            partners: entries,
            signature: [0; 64],
            _suite: core::marker::PhantomData,
        };
        list.signature = self
            .signing_key()
            .sign(&signed_message(SIGNATURE_KIND, &list.body()), rng);
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{Ristretto255, P256};
    use rand_chacha::rand_core::SeedableRng;

    fn partner(b: u8, name: &str) -> Partner {
        Partner {
            organization: Fingerprint([b; 32]),
            name: name.into(),
        }
    }

    fn story<S: Suite>() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let org = OrganizationKey::<S>::generate("大町市", 1, &mut rng).expect("org");
        let other = OrganizationKey::<S>::generate("大町市", 1, &mut rng).expect("org");
        let pref = OrganizationKey::<S>::generate("長野県", 1, &mut rng).expect("org");
        let pref_fp = pref.organization().fingerprint();
        let entries = [
            Partner {
                organization: pref_fp,
                name: "長野県".into(),
            },
            partner(9, "松本市"),
        ];
        let list = org
            .issue_partner_list(2, 1000, &entries, &mut rng)
            .expect("issue");
        let back = PartnerList::<S>::from_bytes(&list.to_bytes()).expect("decode");
        assert_eq!(back, list);
        let v = back.verify(org.organization(), 2, 1000).expect("valid");
        assert!(v.contains(&pref_fp));
        assert_eq!(v.partner(&pref_fp).map(|p| p.name.as_str()), Some("長野県"));
        assert!(!v.contains(&other.organization().fingerprint()));
        assert_eq!(v.serial(), 2);
    }

    #[test]
    fn partner_lists_p256() {
        story::<P256>();
    }

    #[test]
    fn partner_lists_ristretto() {
        story::<Ristretto255>();
    }

    fn fixture() -> (
        OrganizationKey<P256>,
        PartnerList<P256>,
        rand_chacha::ChaCha20Rng,
    ) {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
        let org = OrganizationKey::<P256>::generate("大町市", 1, &mut rng).expect("org");
        let list = org
            .issue_partner_list(
                3,
                1000,
                &[partner(1, "長野県"), partner(5, "松本市")],
                &mut rng,
            )
            .expect("issue");
        (org, list, rng)
    }

    #[test]
    fn a_partner_list_signed_by_another_organization_is_refused() {
        let (org, _, mut rng) = fixture();
        let other = OrganizationKey::<P256>::generate("大町市", 1, &mut rng).expect("org");
        let theirs = other
            .issue_partner_list(9, 1000, &[partner(1, "x")], &mut rng)
            .expect("issue");
        assert_eq!(
            theirs.verify(org.organization(), 0, 1000).unwrap_err(),
            PartnerListError::Signature
        );
        // Another organization's key signing a list that names this organization as issuer.
        let mut forged = theirs.clone();
        forged.issuer = org.organization().fingerprint();
        assert_eq!(
            forged.verify(org.organization(), 0, 1000).unwrap_err(),
            PartnerListError::Signature
        );
    }

    #[test]
    fn a_swapped_partner_fingerprint_or_any_flipped_byte_is_refused() {
        let (org, list, _) = fixture();
        let mut swapped = list.clone();
        swapped.partners[0].organization = Fingerprint([2; 32]);
        assert_eq!(
            swapped.verify(org.organization(), 0, 1000).unwrap_err(),
            PartnerListError::Signature
        );
        let mut renamed = list.clone();
        renamed.partners[0].name = "偽の県".into();
        assert!(renamed.verify(org.organization(), 0, 1000).is_err());
        let bytes = list.to_bytes();
        for i in 0..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x40;
            if let Ok(l) = PartnerList::<P256>::from_bytes(&t) {
                assert!(l.verify(org.organization(), 0, 1000).is_err(), "byte {i}");
            }
        }
    }

    #[test]
    fn an_older_partner_list_replayed_after_a_newer_one_was_seen_is_refused() {
        let (org, list, _) = fixture();
        assert!(list.verify(org.organization(), 3, 1000).is_ok());
        assert_eq!(
            list.verify(org.organization(), 4, 1000).unwrap_err(),
            PartnerListError::Rollback { found: 3, seen: 4 }
        );
    }

    #[test]
    fn a_partner_list_issued_in_the_future_is_refused() {
        let (org, list, _) = fixture();
        assert!(list
            .verify(org.organization(), 0, 1000 - MAX_ISSUE_SKEW)
            .is_ok());
        assert_eq!(
            list.verify(org.organization(), 0, 1000 - MAX_ISSUE_SKEW - 1)
                .unwrap_err(),
            PartnerListError::Future {
                issued: 1000,
                now: 1000 - MAX_ISSUE_SKEW - 1
            }
        );
    }

    #[test]
    fn partner_entries_are_sorted_and_unique_on_the_wire() {
        let (org, _, mut rng) = fixture();
        let list = org
            .issue_partner_list(
                1,
                1,
                &[partner(3, "c"), partner(1, "a"), partner(3, "z")],
                &mut rng,
            )
            .expect("issue");
        assert_eq!(list.partners, vec![partner(1, "a"), partner(3, "c")]);
        // Swap the two entries on the wire: refused as out of order before any signature.
        let mut bytes = list.to_bytes();
        let start = 5 + 1 + 2 + 32 + 8 + 8 + 4;
        let (x, y) = bytes[start..start + 70].split_at_mut(35);
        x.swap_with_slice(y);
        assert_eq!(
            PartnerList::<P256>::from_bytes(&bytes).unwrap_err(),
            DecodeError::InvalidValue("partner organization order")
        );
        // A repeated entry on the wire is refused the same way.
        let mut dup = list.to_bytes();
        dup.copy_within(start..start + 32, start + 35);
        assert_eq!(
            PartnerList::<P256>::from_bytes(&dup).unwrap_err(),
            DecodeError::InvalidValue("partner organization order")
        );
    }

    #[test]
    fn malformed_partner_lists_are_refused_with_a_named_field() {
        let (org, list, mut rng) = fixture();
        let bytes = list.to_bytes();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(PartnerList::<P256>::from_bytes(&trailing).is_err());
        assert!(PartnerList::<P256>::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(PartnerList::<Ristretto255>::from_bytes(&bytes).is_err());
        let mut zero = bytes.clone();
        zero[40..48].copy_from_slice(&0u64.to_be_bytes());
        assert_eq!(
            PartnerList::<P256>::from_bytes(&zero).unwrap_err(),
            DecodeError::InvalidValue("partner list serial")
        );
        let mut many = bytes.clone();
        many[56..60].copy_from_slice(&(limits::MAX_PARTNERS + 1).to_be_bytes());
        assert!(matches!(
            PartnerList::<P256>::from_bytes(&many).unwrap_err(),
            DecodeError::LimitExceeded { .. }
        ));
        assert!(org.issue_partner_list(0, 1, &[], &mut rng).is_err());
        assert!(org
            .issue_partner_list(1, 1, &[partner(1, "")], &mut rng)
            .is_err());
        let me = Partner {
            organization: org.organization().fingerprint(),
            name: "大町市".into(),
        };
        assert!(org.issue_partner_list(1, 1, &[me], &mut rng).is_err());
    }
}
