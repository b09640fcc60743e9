#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! # Soshiki protocol: the wire format between the management server and its clients (`/v1`)
//!
//! Shared by `soshiki-server`, `soshiki-client` (which re-exports it as `soshiki_client::proto`)
//! and the browser (`soshiki-wasm`), so that every side encodes and checks exactly the same
//! bytes. It holds no behaviour of either side: no HTTP, no storage, no key files.
//!
//! - JSON bodies ([`json`]): binary values are standard base64 with padding ([`B64`]),
//!   identifiers are lower-case hex (organization and certificate ids are fingerprints,
//!   [`parse_fingerprint`]).
//! - Binary bodies (`application/octet-stream`): an envelope header (`POST /v1/envelopes`), the
//!   bodies (`PUT /v1/uploads/{id}`), a forwarding request, an envelope download.
//! - Every mutating request carries an [`ActionStatement`] signed by the actor, in the
//!   [`ACTION_HEADER`] HTTP header (base64). The server checks it against the actor's
//!   certificate and stores it, byte for byte, as the actor's entry in the audit trail.
//!
//! | module | what | wire description |
//! |---|---|---|
//! | [`action`] | [`Action`], [`ActionSpec`], [`ActionStatement`], the forward limits | the statement encoding and the table of each action's subjects, digest and detail |
//! | [`enrollment`] | [`EnrollmentRequest`], [`verify_enrollment`], [`enrollment_code`] | the request encoding and the enrollment code |
//! | [`login`] | [`login_message`] | the login challenge and signed message |
//! | [`digest`] | [`sha256`], [`audit_hash`], [`forward_digest`], [`rules_digest`] | the audit hash chain and the length-prefixed digests |
//! | [`json`] | the request and response bodies | one type per body, named by its endpoint |
//! | [`b64`] | [`B64`] | base64 in JSON |
//! | [`ids`] | [`parse_fingerprint`] | hex ids (an object's suite prefix: `soshiki_core::wire::Frame::peek_suite`) |
//!
//! Every item is also re-exported here, so `soshiki_proto::ActionSpec` and
//! `soshiki_proto::action::ActionSpec` name the same type.

pub mod action;
pub mod b64;
pub mod digest;
pub mod enrollment;
pub mod ids;
pub mod json;
pub mod login;

pub use action::{
    check_forward_plan, forward_subject, Action, ActionSpec, ActionStatement, MAX_FORWARD_TARGETS,
};
pub use b64::B64;
pub use digest::{audit_hash, forward_digest, rules_digest, sha256};
pub use enrollment::{
    enrollment_code, enrollment_code_matches, normalize_enrollment_code, verify_enrollment,
    EnrollmentError, EnrollmentRequest, ENROLLMENT_CODE_DIGITS,
};
pub use ids::parse_fingerprint;
pub use login::{login_message, LoginError, LOGIN_NONCE_LEN, MAX_ORIGIN_LEN};

/// The HTTP header carrying a base64 [`ActionStatement`] on every mutating request.
pub const ACTION_HEADER: &str = "soshiki-action";
/// The HTTP header carrying the operator's token when a server's organization registration is
/// closed.
pub const REGISTRATION_TOKEN_HEADER: &str = "soshiki-registration-token";
/// How far an action statement's time may be from the server's clock, in seconds.
pub const MAX_CLOCK_SKEW: u64 = 300;
/// The API version prefix.
pub const API_PREFIX: &str = "/v1";

/// The largest organization storage quota, in bytes (1 PiB; [`json::Policy::quota_bytes`]).
/// Larger values are refused rather than silently meaning "unlimited"; below 2^53, so the
/// browser's numbers hold it exactly.
pub const MAX_QUOTA_BYTES: u64 = 1 << 50;
