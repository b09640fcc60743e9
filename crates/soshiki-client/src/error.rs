//! The client's error type.

use soshiki_core::envelope::FileError;
use soshiki_core::error::{
    DecodeError, DecryptError, EncryptError, ForwardError, KeyFileError, VerifyError,
};

use crate::audit::AuditFailure;

/// Anything a client call can fail with. Messages are meant for users.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server could not be reached or the connection failed.
    #[error("cannot reach the server: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server refused the request (4xx) or failed (5xx).
    #[error("the server answered {status}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Error code (`bad-request`, `not-found`, `conflict`, …).
        code: String,
        /// The server's message.
        message: String,
    },
    /// Something the server sent is not what it claims, or is not certified by the pinned
    /// organization. Never proceed on this error.
    #[error("untrusted server data: {0}")]
    Untrusted(String),
    /// A wire object does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A signature, certificate or hop does not verify.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// Local encryption failed.
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    /// Local decryption failed.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// Making the re-encryption shares failed.
    #[error(transparent)]
    Forward(#[from] ForwardError),
    /// A key file could not be read or written.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// The downloaded envelope file is damaged.
    #[error(transparent)]
    File(#[from] FileError),
    /// The audit trail does not verify.
    #[error(transparent)]
    Audit(#[from] AuditFailure),
    /// A revocation list is missing, stale, replayed or not the organization's, or it revokes
    /// the member addressed. Never proceed on this error.
    #[error(transparent)]
    Trust(#[from] crate::trust::TrustError),
    /// Local I/O.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The caller asked for something impossible (no such part, empty plan, …).
    #[error("{0}")]
    Invalid(String),
    /// The request needs a login first.
    #[error("not logged in: run the login step first")]
    NotLoggedIn,
}

impl ClientError {
    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API error code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, ClientError>;

impl From<crate::steps::StepError> for ClientError {
    fn from(e: crate::steps::StepError) -> Self {
        use crate::steps::StepError as E;
        match e {
            E::Invalid(m) => ClientError::Invalid(m),
            E::Untrusted(m) => ClientError::Untrusted(m),
            E::Decode(e) => ClientError::Decode(e),
            E::Verify(e) => ClientError::Verify(e),
            E::Decrypt(e) => ClientError::Decrypt(e),
            E::KeyFile(e) => ClientError::KeyFile(e),
            E::Forward(e) => ClientError::Forward(e),
        }
    }
}
