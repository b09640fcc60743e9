//! Organizations and member certificates (SPEC.md §5).
//!
//! An organization is identified by its signing key; its [`Organization`] record is self-signed
//! and its **fingerprint** is what people compare and pin. Every member key is certified by its
//! organization ([`Certificate`]). Wire types are unverified; [`Certificate::verify`] turns one
//! into a [`VerifiedCertificate`] given the organization the caller trusts, and only verified
//! certificates can be used as recipients or forwarding targets.
//!
//! Threat model (T2, a lying directory): clients verify every certificate themselves against a
//! pinned organization; a server or file can substitute a key only by forging an organization
//! signature.

use rand_core::CryptoRngCore;

use crate::error::{DecodeError, VerifyError};
use crate::hash::digest256;
use crate::keys::{PublicKey, SigningKey, VerifyingKey};
use crate::suite::Suite;
use crate::wire::{limits, Codec, Frame, Reader, Writer};

/// Member roles (bit flags on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Roles(u8);

impl Roles {
    /// Organization administrator: certifies and revokes members.
    pub const ADMIN: Roles = Roles(1);
    /// Receiving representative (受信代表者): the address other organizations send to.
    pub const REPRESENTATIVE: Roles = Roles(2);
    /// Forwarder: re-encrypts inside the organization.
    pub const FORWARDER: Roles = Roles(4);
    /// Reader: the staff member in charge, who opens documents.
    pub const READER: Roles = Roles(8);
    /// Sender: may send documents to other organizations, where the organization's policy
    /// requires this role for sending (enforced by the sending organization's server and
    /// clients; a reader does not check it, SPEC.md §5.3).
    pub const SENDER: Roles = Roles(16);
    const ALL: u8 = 0x1f;

    /// No role.
    pub const fn empty() -> Self {
        Roles(0)
    }
    /// Wire value.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// From the wire value; unknown bits are an error.
    pub fn from_bits(b: u8) -> Result<Self, DecodeError> {
        if b & !Self::ALL != 0 {
            return Err(DecodeError::InvalidValue("roles"));
        }
        Ok(Roles(b))
    }
    /// Whether all roles of `other` are held.
    pub const fn contains(self, other: Roles) -> bool {
        self.0 & other.0 == other.0
    }
    /// Union.
    pub const fn union(self, other: Roles) -> Roles {
        Roles(self.0 | other.0)
    }
    /// Names, for display and the CLI: `admin,representative,forwarder,reader,sender`.
    pub fn names(self) -> Vec<&'static str> {
        [
            (Self::ADMIN, "admin"),
            (Self::REPRESENTATIVE, "representative"),
            (Self::FORWARDER, "forwarder"),
            (Self::READER, "reader"),
            (Self::SENDER, "sender"),
        ]
        .into_iter()
        .filter(|(r, _)| self.contains(*r))
        .map(|(_, n)| n)
        .collect()
    }
    /// Parse a comma-separated list of names.
    pub fn parse(s: &str) -> Option<Roles> {
        let mut r = Roles::empty();
        for n in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            r = r.union(match n {
                "admin" => Self::ADMIN,
                "representative" | "rep" => Self::REPRESENTATIVE,
                "forwarder" => Self::FORWARDER,
                "reader" => Self::READER,
                "sender" => Self::SENDER,
                _ => return None,
            });
        }
        Some(r)
    }
}

/// A 32-byte fingerprint (organization or certificate).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Short human form: the first 16 bytes as 8 groups of 4 hex digits.
    pub fn display_short(&self) -> String {
        let h = hex::encode(&self.0[..16]);
        h.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
    /// Parse hex, accepting spaces and colons, and a prefix of at least 16 bytes.
    pub fn matches(&self, text: &str) -> bool {
        let clean: String = text
            .chars()
            .filter(|c| c.is_ascii_hexdigit())
            .collect::<String>()
            .to_ascii_lowercase();
        clean.len() >= 32 && self.to_hex().starts_with(&clean)
    }
}

impl core::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

/// An organization's self-signed public record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization<S: Suite> {
    /// Display name, e.g. "大町市 市民課".
    pub name: String,
    /// The organization's signing key.
    pub signing_key: VerifyingKey<S>,
    /// Creation time (Unix seconds).
    pub created: u64,
    signature: [u8; 64],
}

/// The frame of an organization record (to read its suite before decoding it).
pub const ORGANIZATION_FRAME: Frame = Frame {
    magic: b"SKORG",
    version: 1,
    what: "organization record",
};

impl<S: Suite> Codec for Organization<S> {
    const FRAME: Frame = ORGANIZATION_FRAME;
    type Suite = S;

    /// The fields, and the self-signature checked.
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name = r.text16("organization name", limits::MAX_TEXT)?;
        let signing_key = VerifyingKey::from_bytes(r.take(S::SIG_PUBLIC_LEN, "organization key")?)?;
        let created = r.u64("organization created")?;
        let signature = r.array::<64>("organization signature")?;
        let org = Organization {
            name,
            signing_key,
            created,
            signature,
        };
        if !org.self_signature_valid() {
            return Err(DecodeError::InvalidValue("organization self-signature"));
        }
        Ok(org)
    }

    fn write_fields(&self, w: &mut Writer) {
        Self::write_signed_fields(w, &self.name, &self.signing_key, self.created);
        w.raw(&self.signature);
    }
}

impl<S: Suite> Organization<S> {
    fn write_signed_fields(w: &mut Writer, name: &str, vk: &VerifyingKey<S>, created: u64) {
        w.bytes16(name.as_bytes()).raw(&vk.to_bytes()).u64(created);
    }

    /// What the organization signs: the frame and every field but the signature.
    fn body(name: &str, vk: &VerifyingKey<S>, created: u64) -> Vec<u8> {
        Self::FRAME.encode::<S>(|w| Self::write_signed_fields(w, name, vk, created))
    }

    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decode from a reader and check the self-signature.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        <Self as Codec>::read(r)
    }

    /// Decode a whole buffer.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(bytes)
    }

    fn self_signature_valid(&self) -> bool {
        let body = Self::body(&self.name, &self.signing_key, self.created);
        self.signing_key
            .verify(&signed_message("organization", &body), &self.signature)
    }

    /// The organization's fingerprint: `H256("org-fingerprint"; suite ‖ signing key)`.
    /// It depends only on the key, so renaming does not change it.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint(digest256(
            "org-fingerprint",
            &[&S::ID.to_u16().to_be_bytes(), &self.signing_key.to_bytes()],
        ))
    }
}

pub(crate) fn signed_message(kind: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!("soshiki/v1/{kind}-signature").into_bytes();
    m.extend_from_slice(body);
    m
}

/// An organization's secret signing key with its record.
pub struct OrganizationKey<S: Suite> {
    key: SigningKey<S>,
    record: Organization<S>,
}

impl<S: Suite> core::fmt::Debug for OrganizationKey<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OrganizationKey")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl<S: Suite> OrganizationKey<S> {
    /// Create an organization.
    pub fn generate(
        name: &str,
        created: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, VerifyError> {
        Self::from_signing_key(SigningKey::generate(rng), name, created, rng)
    }

    /// Rebuild from a stored signing key.
    pub fn from_signing_key(
        key: SigningKey<S>,
        name: &str,
        created: u64,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, VerifyError> {
        if name.is_empty() || name.len() > limits::MAX_TEXT as usize {
            return Err(VerifyError::Inconsistent(
                "organization name must be 1 to 1024 bytes",
            ));
        }
        let vk = key.verifying_key();
        let body = Organization::<S>::body(name, &vk, created);
        let signature = key.sign(&signed_message("organization", &body), rng);
        Ok(Self {
            record: Organization {
                name: name.into(),
                signing_key: vk,
                created,
                signature,
            },
            key,
        })
    }

    /// Rebuild from a signing key and its stored record; `None` if they do not match.
    pub fn from_parts(key: SigningKey<S>, record: Organization<S>) -> Option<Self> {
        (record.signing_key == key.verifying_key() && record.self_signature_valid())
            .then_some(Self { key, record })
    }

    /// The public record.
    pub fn organization(&self) -> &Organization<S> {
        &self.record
    }

    /// The signing key (secret).
    pub fn signing_key(&self) -> &SigningKey<S> {
        &self.key
    }

    /// Certify a member's keys.
    pub fn certify(
        &self,
        req: &CertificateRequest<S>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Certificate<S>, VerifyError> {
        if req.member_name.is_empty() || req.member_name.len() > limits::MAX_TEXT as usize {
            return Err(VerifyError::Inconsistent(
                "member name must be 1 to 1024 bytes",
            ));
        }
        if req.not_after <= req.not_before {
            return Err(VerifyError::Inconsistent(
                "certificate validity ends before it starts",
            ));
        }
        let mut serial = [0u8; 16];
        rng.fill_bytes(&mut serial);
        let mut c = Certificate {
            serial,
            issuer: self.record.fingerprint(),
            member_name: req.member_name.clone(),
            roles: req.roles,
            encryption_key: req.encryption_key.clone(),
            signing_key: req.signing_key.clone(),
            not_before: req.not_before,
            not_after: req.not_after,
            signature: [0; 64],
        };
        c.signature = self
            .key
            .sign(&signed_message("certificate", &c.body()), rng);
        Ok(c)
    }
}

/// What a member asks its organization to certify.
#[derive(Clone, Debug)]
pub struct CertificateRequest<S: Suite> {
    /// Display name.
    pub member_name: String,
    /// Roles requested.
    pub roles: Roles,
    /// ElGamal key `A`.
    pub encryption_key: PublicKey<S>,
    /// Signature key.
    pub signing_key: VerifyingKey<S>,
    /// Validity start (Unix seconds).
    pub not_before: u64,
    /// Validity end (Unix seconds).
    pub not_after: u64,
}

/// A member certificate as read from the wire: **not yet verified**.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate<S: Suite> {
    /// Random serial number.
    pub serial: [u8; 16],
    /// Fingerprint of the issuing organization.
    pub issuer: Fingerprint,
    /// Member's display name.
    pub member_name: String,
    /// Roles.
    pub roles: Roles,
    /// ElGamal key `A`.
    pub encryption_key: PublicKey<S>,
    /// Signature key.
    pub signing_key: VerifyingKey<S>,
    /// Validity start.
    pub not_before: u64,
    /// Validity end.
    pub not_after: u64,
    signature: [u8; 64],
}

impl<S: Suite> Codec for Certificate<S> {
    const FRAME: Frame = Frame {
        magic: b"SKCRT",
        version: 1,
        what: "certificate",
    };
    type Suite = S;

    /// The fields (no verification).
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Certificate {
            serial: r.array("certificate serial")?,
            issuer: Fingerprint(r.array("certificate issuer")?),
            member_name: r.text16("member name", limits::MAX_TEXT)?,
            roles: Roles::from_bits(r.u8("roles")?)?,
            encryption_key: PublicKey::from_point(r.point::<S>("encryption key")?),
            signing_key: VerifyingKey::from_bytes(r.take(S::SIG_PUBLIC_LEN, "signing key")?)?,
            not_before: r.u64("not before")?,
            not_after: r.u64("not after")?,
            signature: r.array("certificate signature")?,
        })
    }

    fn write_fields(&self, w: &mut Writer) {
        self.write_signed_fields(w);
        w.raw(&self.signature);
    }
}

impl<S: Suite> Certificate<S> {
    fn write_signed_fields(&self, w: &mut Writer) {
        w.raw(&self.serial)
            .raw(&self.issuer.0)
            .bytes16(self.member_name.as_bytes())
            .u8(self.roles.bits())
            .raw(self.encryption_key.as_bytes())
            .raw(&self.signing_key.to_bytes())
            .u64(self.not_before)
            .u64(self.not_after);
    }

    /// What the organization signs: the frame and every field but the signature.
    fn body(&self) -> Vec<u8> {
        Self::FRAME.encode::<S>(|w| self.write_signed_fields(w))
    }

    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decode (no verification).
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        <Self as Codec>::read(r)
    }

    /// Decode a whole buffer.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(bytes)
    }

    /// The certificate's fingerprint, `H256("certificate-fingerprint"; encoding)`; hops name
    /// certificates by it.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint(digest256("certificate-fingerprint", &[&self.to_bytes()]))
    }

    /// Verify against the issuing organization, valid at time `now` (Unix seconds).
    pub fn verify(
        &self,
        org: &Organization<S>,
        now: u64,
    ) -> Result<VerifiedCertificate<S>, VerifyError> {
        let ok = self.issuer == org.fingerprint()
            && org.signing_key.verify(
                &signed_message("certificate", &self.body()),
                &self.signature,
            )
            && self.not_before <= now
            && now <= self.not_after;
        if ok {
            Ok(VerifiedCertificate {
                cert: self.clone(),
                org: org.clone(),
            })
        } else {
            Err(VerifyError::Certificate(format!(
                "{} ({})",
                self.member_name,
                self.fingerprint().display_short()
            )))
        }
    }

    /// Verify the signature only, ignoring the validity period (for historic hops, which were
    /// checked at their own time).
    pub fn verify_at_issue(
        &self,
        org: &Organization<S>,
    ) -> Result<VerifiedCertificate<S>, VerifyError> {
        self.verify(org, self.not_before)
    }
}

/// A certificate checked against its organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCertificate<S: Suite> {
    cert: Certificate<S>,
    org: Organization<S>,
}

impl<S: Suite> VerifiedCertificate<S> {
    /// For callers that have just checked `cert` against `org` (signature cached per
    /// verification pass, validity checked by the caller).
    pub(crate) fn checked(cert: Certificate<S>, org: Organization<S>) -> Self {
        Self { cert, org }
    }

    /// The certificate.
    pub fn certificate(&self) -> &Certificate<S> {
        &self.cert
    }
    /// Its issuing organization.
    pub fn organization(&self) -> &Organization<S> {
        &self.org
    }
    /// Shorthand for the certified encryption key.
    pub fn encryption_key(&self) -> &PublicKey<S> {
        &self.cert.encryption_key
    }
    /// Whether the certificate carries the representative role (受信代表者): the only role an
    /// envelope may be addressed to.
    pub fn is_representative(&self) -> bool {
        self.cert.roles.contains(Roles::REPRESENTATIVE)
    }
}

/// The representative to address: the first certificate, among certificates already verified
/// against the recipient organization, whose **signed** roles include the representative role.
/// Roles reported by a directory are never consulted; a certificate without the role is never
/// chosen (and [`crate::envelope::encrypt`] refuses it as a recipient).
pub fn choose_representative<'a, S: Suite>(
    verified: impl IntoIterator<Item = &'a VerifiedCertificate<S>>,
) -> Option<&'a VerifiedCertificate<S>> {
    verified.into_iter().find(|c| c.is_representative())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;
    use crate::suite::{Ristretto255, P256};
    use rand_chacha::rand_core::SeedableRng;

    fn certify_and_verify<S: Suite>() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        let org = OrganizationKey::<S>::generate("大町市", 100, &mut rng).expect("org");
        let other = OrganizationKey::<S>::generate("大町市", 100, &mut rng).expect("org");
        let rec = Organization::<S>::from_bytes(&org.organization().to_bytes()).expect("roundtrip");
        assert_eq!(&rec, org.organization());
        let enc = SecretKey::<S>::generate(&mut rng);
        let sig = SigningKey::<S>::generate(&mut rng);
        let req = CertificateRequest {
            member_name: "田中".into(),
            roles: Roles::READER,
            encryption_key: enc.public_key().clone(),
            signing_key: sig.verifying_key(),
            not_before: 100,
            not_after: 200,
        };
        let cert = org.certify(&req, &mut rng).expect("certify");
        let back = Certificate::<S>::from_bytes(&cert.to_bytes()).expect("decode");
        assert!(back.verify(org.organization(), 150).is_ok());
        assert!(back.verify(org.organization(), 201).is_err(), "expired");
        assert!(
            back.verify(other.organization(), 150).is_err(),
            "same name, other key"
        );
        let mut tampered = back.clone();
        tampered.roles = Roles::ADMIN;
        assert!(tampered.verify(org.organization(), 150).is_err());
        let mut bytes = org.organization().to_bytes();
        bytes[10] ^= 1;
        assert!(Organization::<S>::from_bytes(&bytes).is_err());
    }

    #[test]
    fn certificates_p256() {
        certify_and_verify::<P256>();
    }

    #[test]
    fn certificates_ristretto() {
        certify_and_verify::<Ristretto255>();
    }

    #[test]
    fn roles_parse_and_print() {
        let r = Roles::parse("forwarder, reader").expect("parse");
        assert_eq!(r.names(), vec!["forwarder", "reader"]);
        assert!(Roles::parse("king").is_none());
        let s = Roles::parse("reader,sender").expect("parse");
        assert_eq!(s.names(), vec!["reader", "sender"]);
        assert_eq!(Roles::from_bits(0x18).expect("reader and sender"), s);
        assert!(Roles::from_bits(0x20).is_err());
    }
}
