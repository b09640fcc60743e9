//! The one error type of the JavaScript API: a code the UI maps to Japanese or English text,
//! and an English message that names what went wrong but never contains secret material
//! (the core's own errors are already safe to show: see `soshiki_core::error`).

use soshiki_client::audit::AuditFailure;
use soshiki_core::error::{
    DecodeError, DecryptError, EncryptError, ForwardError, KeyFileError, VerifyError,
};
use soshiki_proto::EnrollmentError;

/// What kind of failure (the prefix of the JS `Error` message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Cannot parse the input.
    Malformed,
    /// Wrong passphrase or damaged key file.
    WrongPassphrase,
    /// A signature, certificate or chain does not verify, or does not match a pin.
    Untrusted,
    /// Decryption failed (opaque).
    DecryptFailed,
    /// A bad argument.
    Invalid,
    /// Anything else.
    Internal,
}

impl Code {
    /// The wire text of the code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Malformed => "malformed",
            Code::WrongPassphrase => "wrong-passphrase",
            Code::Untrusted => "untrusted",
            Code::DecryptFailed => "decrypt-failed",
            Code::Invalid => "invalid",
            Code::Internal => "internal",
        }
    }
}

/// An API error: `"<code>: <text>"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The code.
    pub code: Code,
    /// English text, free of secrets.
    pub text: String,
}

impl Error {
    /// An error with this code and text.
    pub fn new(code: Code, text: impl Into<String>) -> Self {
        Self {
            code,
            text: text.into(),
        }
    }
    /// `invalid`.
    pub fn invalid(text: impl Into<String>) -> Self {
        Self::new(Code::Invalid, text)
    }
    /// `untrusted`.
    pub fn untrusted(text: impl Into<String>) -> Self {
        Self::new(Code::Untrusted, text)
    }
    /// `malformed`.
    pub fn malformed(text: impl Into<String>) -> Self {
        Self::new(Code::Malformed, text)
    }
    /// `decrypt-failed` with the core's opaque text.
    pub fn decrypt_failed() -> Self {
        Self::new(Code::DecryptFailed, "decryption failed")
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.text)
    }
}

impl std::error::Error for Error {}

/// Result of the API.
pub type Result<T> = core::result::Result<T, Error>;

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::malformed(e.to_string())
    }
}

impl From<VerifyError> for Error {
    fn from(e: VerifyError) -> Self {
        Error::untrusted(e.to_string())
    }
}

impl From<KeyFileError> for Error {
    fn from(e: KeyFileError) -> Self {
        match e {
            KeyFileError::Unlock => Error::new(Code::WrongPassphrase, e.to_string()),
            KeyFileError::WrongKind { .. } => Error::invalid(e.to_string()),
            _ => Error::malformed(e.to_string()),
        }
    }
}

impl From<DecryptError> for Error {
    fn from(e: DecryptError) -> Self {
        match e {
            DecryptError::Verify(v) => v.into(),
            DecryptError::NotRecipient(_) => Error::invalid(e.to_string()),
            DecryptError::Failed => Error::decrypt_failed(),
            _ => Error::new(Code::Internal, e.to_string()),
        }
    }
}

impl From<EncryptError> for Error {
    fn from(e: EncryptError) -> Self {
        match e {
            EncryptError::Verify(v) => v.into(),
            EncryptError::Io(_) => Error::new(Code::Internal, e.to_string()),
            _ => Error::invalid(e.to_string()),
        }
    }
}

impl From<ForwardError> for Error {
    fn from(e: ForwardError) -> Self {
        match e {
            ForwardError::Verify(v) => v.into(),
            ForwardError::KeyHolder(_) => Error::new(Code::Internal, e.to_string()),
            _ => Error::invalid(e.to_string()),
        }
    }
}

impl From<EnrollmentError> for Error {
    fn from(e: EnrollmentError) -> Self {
        match e {
            EnrollmentError::Decode(d) => d.into(),
            EnrollmentError::Invalid(_) => Error::invalid(e.to_string()),
            _ => Error::untrusted(e.to_string()),
        }
    }
}

impl From<soshiki_client::trust::TrustError> for Error {
    fn from(e: soshiki_client::trust::TrustError) -> Self {
        Error::untrusted(e.to_string())
    }
}

impl From<AuditFailure> for Error {
    fn from(e: AuditFailure) -> Self {
        Error::untrusted(e.to_string())
    }
}

impl From<soshiki_client::steps::StepError> for Error {
    fn from(e: soshiki_client::steps::StepError) -> Self {
        use soshiki_client::steps::StepError as E;
        match e {
            E::Invalid(m) => Error::invalid(m),
            E::Untrusted(m) => Error::untrusted(m),
            E::Decode(e) => e.into(),
            E::Verify(e) => e.into(),
            E::Decrypt(e) => e.into(),
            E::KeyFile(e) => e.into(),
            E::Forward(e) => e.into(),
            _ => Error::new(Code::Internal, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_code() {
        let e: Error = KeyFileError::Unlock.into();
        assert_eq!(
            e.to_string(),
            "wrong-passphrase: wrong passphrase or damaged key file"
        );
        let e: Error = DecryptError::Failed.into();
        assert_eq!(e.to_string(), "decrypt-failed: decryption failed");
        let e: Error = DecryptError::Verify(VerifyError::SenderSignature).into();
        assert_eq!(e.code, Code::Untrusted);
        let e: Error = DecodeError::Truncated("x").into();
        assert_eq!(e.code, Code::Malformed);
    }
}
