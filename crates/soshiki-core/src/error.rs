//! One error enum per operation.
//!
//! Threat model: errors that a party without the key could use to learn something about a secret
//! are opaque. [`DecryptError::Failed`] does not say whether the capsule, the key commitment or a
//! chunk's tag was wrong. Errors about public data (a malformed field, a bad signature on a public
//! header) name the field, which helps users and leaks nothing.

use thiserror::Error;

use crate::suite::id::SuiteId;

/// A wire object could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Input ended inside a field.
    #[error("truncated input: {0} is incomplete")]
    Truncated(&'static str),
    /// Bytes left over after a complete object.
    #[error("{0} trailing bytes after the object")]
    TrailingBytes(usize),
    /// The object does not start with the expected magic bytes.
    #[error("not a Soshiki {0} (wrong magic bytes)")]
    BadMagic(&'static str),
    /// The version byte is not one this implementation reads.
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion {
        /// Object kind.
        what: &'static str,
        /// Version read.
        version: u8,
    },
    /// The suite identifier is unknown.
    #[error("unknown cipher suite 0x{0:04x}")]
    UnknownSuite(u16),
    /// The object belongs to another suite than the one expected.
    #[error("cipher suite mismatch: expected {expected}, found {found}")]
    SuiteMismatch {
        /// Suite expected by the caller.
        expected: SuiteId,
        /// Suite named by the object.
        found: SuiteId,
    },
    /// A point is not a valid, non-identity group element in canonical encoding.
    #[error("invalid group element")]
    InvalidPoint,
    /// A scalar is not canonical or is zero.
    #[error("invalid scalar")]
    InvalidScalar,
    /// A signature or signing key is malformed.
    #[error("invalid key encoding")]
    InvalidKey,
    /// A length or count is above its bound.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// Which length or count.
        what: &'static str,
        /// Its bound.
        limit: u64,
    },
    /// A text field is not UTF-8.
    #[error("{0} is not valid UTF-8")]
    InvalidUtf8(&'static str),
    /// A field has a value outside its allowed set.
    #[error("invalid value in {0}")]
    InvalidValue(&'static str),
    /// ASCII armor is malformed.
    #[error("invalid ASCII armor: {0}")]
    Armor(&'static str),
}

/// A public object failed verification. Names the object, never a secret.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The organization's self-signature is invalid.
    #[error("organization record signature is invalid")]
    Organization,
    /// A certificate's signature, issuer or validity is wrong.
    #[error("certificate {0} is invalid (signature, issuer or validity)")]
    Certificate(String),
    /// The organization is not the one the caller pinned.
    #[error("organization fingerprint {found} is not the pinned {expected}")]
    UnpinnedOrganization {
        /// Pinned fingerprint.
        expected: String,
        /// Fingerprint found.
        found: String,
    },
    /// The sender's signature over the envelope is invalid.
    #[error("the sender's signature on the envelope is invalid")]
    SenderSignature,
    /// A hop's proof or signature is invalid or the hop does not chain.
    #[error("hop {hop} of {slot} is invalid: {reason}")]
    Hop {
        /// Slot name (`metadata` or `part N`).
        slot: String,
        /// Hop number (1-based).
        hop: usize,
        /// What failed.
        reason: &'static str,
    },
    /// The current capsule does not descend from the one the sender signed.
    #[error("the capsule of {0} does not descend from the sender's capsule")]
    CapsuleLineage(String),
    /// The body's digest differs from the signed one.
    #[error("the body of part {0} does not match the sender's signed digest")]
    BodyDigest(u32),
    /// A re-encryption share's proof is invalid.
    #[error("re-encryption share proof is invalid")]
    ShareProof,
    /// Other structural inconsistency.
    #[error("inconsistent envelope: {0}")]
    Inconsistent(&'static str),
    /// An audit checkpoint is not signed by the pinned organization for its own trail.
    #[error("the audit checkpoint is not signed by the pinned organization")]
    Checkpoint,
    /// A signed time lies in the future by more than
    /// [`MAX_FUTURE_SKEW`](crate::envelope::MAX_FUTURE_SKEW) seconds of the verifier's clock.
    #[error(
        "{what} is dated {time}, more than {skew} s after this device's clock ({now}): \
         refused (check the clocks)"
    )]
    FutureTime {
        /// What carries the time (`the envelope's creation time`, `hop 2 of part 0`).
        what: String,
        /// The signed time.
        time: u64,
        /// The verifier's clock.
        now: u64,
        /// The allowed skew.
        skew: u64,
    },
}

/// A revocation list is not acceptable, or it revokes the certificate in question.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationError {
    /// Not issued by the pinned organization (issuer or signature).
    #[error("the revocation list is not signed by the pinned organization")]
    Signature,
    /// Older than a list the verifier has already seen: a replay.
    #[error("the revocation list has serial {found}, older than serial {seen} seen before: the server replays an old list")]
    Rollback {
        /// Serial of the list offered.
        found: u64,
        /// Highest serial seen before.
        seen: u64,
    },
    /// Past its next update: the organization has not published a newer list in time.
    #[error("the revocation list is stale: a newer one was due at {next_update} (now {now}); the organization's administrator must publish a new one")]
    Stale {
        /// When the next list was due.
        next_update: u64,
        /// The verifier's time.
        now: u64,
    },
    /// Issued in the future beyond the allowed clock skew.
    #[error("the revocation list is issued in the future ({issued}, now {now})")]
    Future {
        /// Issue time.
        issued: u64,
        /// The verifier's time.
        now: u64,
    },
    /// The certificate is of another organization than the list's.
    #[error("the certificate is not issued by the revocation list's organization")]
    OtherOrganization,
    /// The organization revoked the certificate.
    #[error("{member} was revoked by the organization (at {at})")]
    Revoked {
        /// Member name from the certificate.
        member: String,
        /// Revocation time.
        at: u64,
    },
    /// Bad arguments when issuing a list.
    #[error("invalid revocation list: {0}")]
    Invalid(&'static str),
}

/// Why a partner list (SPEC.md §5.8) is refused or cannot be issued.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartnerListError {
    /// Not issued by the member's own organization (issuer or signature).
    #[error("the partner list is not signed by the organization")]
    Signature,
    /// Older than a list the verifier has already seen: a replay.
    #[error("the partner list has serial {found}, older than serial {seen} seen before: the server replays an old list")]
    Rollback {
        /// Serial of the list offered.
        found: u64,
        /// Highest serial seen before.
        seen: u64,
    },
    /// Issued in the future beyond the allowed clock skew.
    #[error("the partner list is issued in the future ({issued}, now {now})")]
    Future {
        /// Issue time.
        issued: u64,
        /// The verifier's time.
        now: u64,
    },
    /// Bad arguments when issuing a list.
    #[error("invalid partner list: {0}")]
    Invalid(&'static str),
}

/// Decryption failed. Deliberately opaque.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptError {
    /// The envelope failed verification before any decryption was attempted.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// This key is not the current holder of the requested part.
    #[error("this key is not a recipient of {0}")]
    NotRecipient(String),
    /// The capsule did not open with this key, or the body was altered. No further detail.
    #[error("decryption failed")]
    Failed,
    /// The key holder (token, browser key) refused or failed.
    #[error("key holder error: {0}")]
    KeyHolder(String),
    /// Reading or writing the body failed.
    #[error("I/O error: {0}")]
    Io(String),
}

/// Encrypting an envelope failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// A parameter is outside its bound.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// Which parameter.
        what: &'static str,
        /// Its bound.
        limit: u64,
    },
    /// A recipient certificate failed verification.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The inputs are inconsistent.
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    /// Reading a part or writing the output failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Forwarding (re-encryption) failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardError {
    /// The envelope or target failed verification; nothing was re-encrypted.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The forwarding key is not the current holder of that slot.
    #[error("this key is not the current holder of {0}")]
    NotHolder(String),
    /// The slot already has the maximum number of hops.
    #[error("{0} already has the maximum number of hops")]
    TooManyHops(String),
    /// The forwarder's certificate does not allow forwarding.
    #[error("the forwarder's certificate has no forwarding role")]
    NoForwardingRole,
    /// No such part.
    #[error("no part {0} in this envelope")]
    NoSuchPart(u32),
    /// The key holder (token, browser key) refused or failed.
    #[error("key holder error: {0}")]
    KeyHolder(String),
    /// Inputs are inconsistent.
    #[error("invalid input: {0}")]
    Invalid(&'static str),
}

/// A passphrase-protected key file could not be opened or written.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file is malformed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Wrong passphrase or altered file (indistinguishable on purpose).
    #[error("wrong passphrase or damaged key file")]
    Unlock,
    /// The file holds another kind of key than requested.
    #[error(
        "wrong kind of key file: it holds {} {found} key, not {} {expected} key",
        article(found),
        article(expected)
    )]
    WrongKind {
        /// Kind requested.
        expected: &'static str,
        /// Kind found.
        found: &'static str,
    },
    /// Argon2 parameters out of the accepted range.
    #[error("key-file protection parameters are outside the accepted range")]
    Parameters,
}

/// "a" or "an" for the key kinds named in [`KeyFileError::WrongKind`].
fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
