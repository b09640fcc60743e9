//! Login: `POST /v1/auth/challenge` gives a 32-byte nonce; the member signs [`login_message`]
//! (`"soshiki/v2/login" ‖ u16(len(origin)) ‖ origin ‖ nonce[32]`, the origin being the server's
//! URL origin as the client dialled it, e.g. `https://soshiki.example:8443`) and exchanges it for
//! a bearer token ([`crate::json::TokenRequest`]). Both sides refuse a nonce that is not exactly
//! 32 bytes. The token expires after one hour or when the member's certificate does, whichever
//! is first.

/// The length of a login challenge's nonce, in bytes. A nonce of any other length is refused.
pub const LOGIN_NONCE_LEN: usize = 32;

/// The longest origin a login statement can name, in bytes.
pub const MAX_ORIGIN_LEN: usize = 2048;

/// Why a login statement cannot be made.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginError {
    /// The nonce is not [`LOGIN_NONCE_LEN`] bytes.
    #[error("a login nonce must be exactly {LOGIN_NONCE_LEN} bytes, not {0}")]
    NonceLength(usize),
    /// The origin is longer than [`MAX_ORIGIN_LEN`] bytes.
    #[error("the origin is longer than {MAX_ORIGIN_LEN} bytes")]
    OriginLength,
}

/// The message a member signs to log in:
/// `"soshiki/v2/login" ‖ u16(len(origin)) ‖ origin ‖ nonce[32]`.
///
/// The origin is length-prefixed and the nonce has a fixed length, so no choice of nonce can
/// move the boundary between them: a signature made for one origin never verifies for another
/// (the v1 statement, `"soshiki/v1/login" ‖ origin ‖ nonce`, let a server pick a nonce that
/// turned a signature for `https://a.example` into one for a longer origin).
pub fn login_message(origin: &str, nonce: &[u8]) -> Result<Vec<u8>, LoginError> {
    if nonce.len() != LOGIN_NONCE_LEN {
        return Err(LoginError::NonceLength(nonce.len()));
    }
    if origin.len() > MAX_ORIGIN_LEN {
        return Err(LoginError::OriginLength);
    }
    let mut m = Vec::with_capacity(18 + origin.len() + LOGIN_NONCE_LEN);
    m.extend_from_slice(b"soshiki/v2/login");
    m.extend_from_slice(&(origin.len() as u16).to_be_bytes());
    m.extend_from_slice(origin.as_bytes());
    m.extend_from_slice(nonce);
    Ok(m)
}
