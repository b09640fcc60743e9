//! Enrollment: a member's device sends an `enroll` [`ActionStatement`] whose detail is an
//! [`EnrollmentRequest`] encoding, signed by the requested signing key (proof of possession);
//! [`verify_enrollment`] is the one check both sides run.
//!
//! # Enrollment codes
//!
//! A member's device shows the [`enrollment_code`] of its request (16 digits in 4 groups, from
//! a domain-separated SHA-256 of the [`EnrollmentRequest`] encoding); the administrator types
//! it, and its client certifies only a request with that code
//! (`soshiki_client::steps::certify_enrollment`, crates/soshiki-client/src/steps.rs). The
//! certificate's validity must lie within the requested one and last at most the
//! organization's `max_validity_days` ([`json::Policy`](crate::json::Policy)); the server
//! refuses any other.

use crate::action::{ActionSpec, ActionStatement};
use sha2::{Digest, Sha256};
use soshiki_core::cert::{CertificateRequest, Fingerprint, Roles};
use soshiki_core::error::DecodeError;
use soshiki_core::keys::{PublicKey, VerifyingKey};
use soshiki_core::suite::Suite;
use soshiki_core::wire::{limits, Codec, Frame, Reader, Writer};

/// The number of decimal digits of an [`enrollment_code`] (≈ 53 bits).
pub const ENROLLMENT_CODE_DIGITS: usize = 16;

/// The enrollment code of an [`EnrollmentRequest`] encoding: 16 decimal digits in 4 groups of 4
/// (`"0123-4567-8901-2345"`), the first 16 bytes of
/// `SHA-256("soshiki/v1/enrollment-code" ‖ request)` read as a big-endian integer modulo 10^16.
///
/// The member's device shows it when it enrolls; the administrator's client certifies a request
/// only if the administrator typed the same code ([`enrollment_code_matches`]). The code binds
/// the keys, name, roles and validity, so a request swapped by the server (or anyone who can
/// write its database) is refused even if it shows the same name and roles.
pub fn enrollment_code(request: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"soshiki/v1/enrollment-code");
    h.update(request);
    let d: [u8; 32] = h.finalize().into();
    let mut first = [0u8; 16];
    first.copy_from_slice(&d[..16]);
    let n = u128::from_be_bytes(first) % 10u128.pow(ENROLLMENT_CODE_DIGITS as u32);
    let digits = format!("{n:016}");
    let groups: Vec<&str> = (0..4).map(|i| &digits[i * 4..i * 4 + 4]).collect();
    groups.join("-")
}

/// A typed enrollment code in canonical form (`"0123-4567-8901-2345"`): spaces and hyphens are
/// ignored, full-width digits accepted; `None` unless exactly 16 digits remain.
pub fn normalize_enrollment_code(typed: &str) -> Option<String> {
    let mut digits = String::with_capacity(ENROLLMENT_CODE_DIGITS);
    for c in typed.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            ' ' | '-' | '\u{3000}' | '－' | '‐' | '\t' => {}
            _ => return None,
        }
    }
    if digits.len() != ENROLLMENT_CODE_DIGITS {
        return None;
    }
    let groups: Vec<&str> = (0..4).map(|i| &digits[i * 4..i * 4 + 4]).collect();
    Some(groups.join("-"))
}

/// Whether `typed` is the enrollment code of this request encoding.
pub fn enrollment_code_matches(request: &[u8], typed: &str) -> bool {
    normalize_enrollment_code(typed).is_some_and(|c| c == enrollment_code(request))
}

/// What a member asks its organization to certify, signed (inside an `enroll`
/// [`ActionStatement`]) by the new signing key as proof of possession.
///
/// ```text
/// "SKENR" ‖ u8(1) ‖ u16(suite) ‖ text16(member name) ‖ u8(roles) ‖ enc(A) ‖ signing key
///         ‖ u64(not before) ‖ u64(not after)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrollmentRequest<S: Suite> {
    /// Display name.
    pub member_name: String,
    /// Requested roles.
    pub roles: Roles,
    /// The new encryption key.
    pub encryption_key: PublicKey<S>,
    /// The new signing key.
    pub signing_key: VerifyingKey<S>,
    /// Requested validity start.
    pub not_before: u64,
    /// Requested validity end.
    pub not_after: u64,
}

impl<S: Suite> Codec for EnrollmentRequest<S> {
    const FRAME: Frame = Frame {
        magic: b"SKENR",
        version: 1,
        what: "enrollment request",
    };
    type Suite = S;

    fn write_fields(&self, w: &mut Writer) {
        w.bytes16(self.member_name.as_bytes())
            .u8(self.roles.bits())
            .raw(&self.encryption_key.to_bytes())
            .raw(&self.signing_key.to_bytes())
            .u64(self.not_before)
            .u64(self.not_after);
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let member_name = r.text16("member name", limits::MAX_TEXT)?;
        let roles = Roles::from_bits(r.u8("roles")?)?;
        let encryption_key = PublicKey::from_bytes(r.take(S::POINT_LEN, "encryption key")?)?;
        let signing_key = VerifyingKey::from_bytes(r.take(S::SIG_PUBLIC_LEN, "signing key")?)?;
        let not_before = r.u64("not before")?;
        let not_after = r.u64("not after")?;
        Ok(Self {
            member_name,
            roles,
            encryption_key,
            signing_key,
            not_before,
            not_after,
        })
    }
}

impl<S: Suite> EnrollmentRequest<S> {
    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decode.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(bytes)
    }

    /// The core certificate request the administrator certifies.
    pub fn to_certificate_request(&self) -> CertificateRequest<S> {
        CertificateRequest {
            member_name: self.member_name.clone(),
            roles: self.roles,
            encryption_key: self.encryption_key.clone(),
            signing_key: self.signing_key.clone(),
            not_before: self.not_before,
            not_after: self.not_after,
        }
    }

    /// Whether a certificate certifies exactly this request's keys, name and roles, for a
    /// validity within the requested one (an administrator may shorten it, never extend it).
    pub fn is_certified_by(&self, cert: &soshiki_core::cert::Certificate<S>) -> bool {
        cert.member_name == self.member_name
            && cert.roles == self.roles
            && cert.encryption_key == self.encryption_key
            && cert.signing_key == self.signing_key
            && cert.not_before >= self.not_before
            && cert.not_after <= self.not_after
            && cert.not_before < cert.not_after
    }

    /// The requested validity in whole days (rounded up).
    pub fn validity_days(&self) -> u64 {
        self.not_after
            .saturating_sub(self.not_before)
            .div_ceil(86_400)
    }
}

/// Why an enroll statement is not acceptable.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnrollmentError {
    /// Malformed bytes.
    #[error("malformed enrollment: {0}")]
    Decode(#[from] DecodeError),
    /// Not an `enroll` statement for this organization, or the digest does not match.
    #[error("not an enrollment request for this organization")]
    Mismatch,
    /// The proof of possession (signature by the new signing key) does not verify.
    #[error("the enrollment request's proof of possession does not verify")]
    Signature,
    /// Name or validity out of range.
    #[error("invalid enrollment request: {0}")]
    Invalid(&'static str),
}

/// Decode and check an `enroll` statement for organization `org_id`: shape, digest, and the
/// signature by the requested signing key (proof of possession). Returns the statement and the
/// request.
pub fn verify_enrollment<S: Suite>(
    statement: &[u8],
    org_id: &str,
) -> Result<(ActionStatement, EnrollmentRequest<S>), EnrollmentError> {
    let st = ActionStatement::from_bytes(statement)?;
    if st.suite != S::ID || st.actor != Fingerprint([0; 32]) {
        return Err(EnrollmentError::Mismatch);
    }
    let req = EnrollmentRequest::<S>::from_bytes(&st.detail)?;
    if !st.states(&ActionSpec::enroll(org_id, &st.detail)) {
        return Err(EnrollmentError::Mismatch);
    }
    if !st.verify_signature(&req.signing_key) {
        return Err(EnrollmentError::Signature);
    }
    if req.member_name.is_empty() {
        return Err(EnrollmentError::Invalid("the member name is empty"));
    }
    if req.not_after <= req.not_before {
        return Err(EnrollmentError::Invalid(
            "the validity ends before it starts",
        ));
    }
    Ok((st, req))
}

#[cfg(test)]
mod tests {
    use super::*;
    use soshiki_core::keys::SigningKey;
    use soshiki_core::suite::{Ristretto255, P256};

    #[test]
    fn enrollment_proof_of_possession() {
        let mut rng = rand_core::OsRng;
        let sk = SigningKey::<P256>::generate(&mut rng);
        let enc = soshiki_core::keys::SecretKey::<P256>::generate(&mut rng);
        let req = EnrollmentRequest::<P256> {
            member_name: "田中".into(),
            roles: Roles::READER,
            encryption_key: enc.public_key().clone(),
            signing_key: sk.verifying_key(),
            not_before: 1,
            not_after: 2,
        };
        let bytes = req.to_bytes();
        assert_eq!(
            EnrollmentRequest::<P256>::from_bytes(&bytes).expect("decode"),
            req
        );
        let st = ActionStatement::sign(
            &ActionSpec::enroll("org", &bytes),
            Fingerprint([0; 32]),
            5,
            &sk,
            &mut rng,
        );
        let (_, back) = verify_enrollment::<P256>(&st.to_bytes(), "org").expect("valid");
        assert_eq!(back, req);
        assert_eq!(
            verify_enrollment::<P256>(&st.to_bytes(), "other org").unwrap_err(),
            EnrollmentError::Mismatch
        );
        // Signed by another key than the one requested: no proof of possession.
        let st2 = ActionStatement::sign(
            &ActionSpec::enroll("org", &bytes),
            Fingerprint([0; 32]),
            5,
            &SigningKey::<P256>::generate(&mut rng),
            &mut rng,
        );
        assert_eq!(
            verify_enrollment::<P256>(&st2.to_bytes(), "org").unwrap_err(),
            EnrollmentError::Signature
        );
        assert!(verify_enrollment::<Ristretto255>(&st.to_bytes(), "org").is_err());
    }
}
