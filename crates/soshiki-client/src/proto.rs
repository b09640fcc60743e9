//! The wire protocol between the management server and its clients (`/v1`), shared by
//! `soshiki-server` and this crate so that both sides encode and check exactly the same bytes.
//!
//! - JSON bodies ([`json`]): binary values are standard base64 with padding ([`B64`]),
//!   identifiers are lower-case hex (organization and certificate ids are fingerprints).
//! - Binary bodies (`application/octet-stream`): an envelope header (`POST /v1/envelopes`), the
//!   bodies (`PUT /v1/uploads/{id}`), a forwarding request, an envelope download.
//! - Every mutating request carries an [`ActionStatement`] signed by the actor, in the
//!   [`ACTION_HEADER`] HTTP header (base64). The server checks it against the actor's
//!   certificate and stores it, byte for byte, as the actor's entry in the audit trail.
//!
//! # Action statements (audit entries)
//!
//! ```text
//! statement = "SKACT" ‖ u8(1) ‖ u16(suite)
//!           ‖ text16(action)                    e.g. "send", "forward" (see Action)
//!           ‖ actor[32]                         the actor's certificate fingerprint (zeros for "enroll")
//!           ‖ u64(time)                         the actor's clock, Unix seconds
//!           ‖ count(subjects) ‖ text16(subject)…   (≤ 64 subjects, each ≤ 1024 bytes)
//!           ‖ digest[32]                        SHA-256 of what the action is about (below)
//!           ‖ bytes32(detail)                   ≤ 1 MiB (the enrollment request, for "enroll"
//!                                                and "approve"; empty otherwise)
//!           ‖ signature[64]                     by the actor's signing key over
//!                                               "soshiki/v1/action" ‖ every preceding byte
//! ```
//!
//! What each action's subjects and digest are ([`ActionSpec`] builds them, for both sides):
//!
//! | action | subjects | digest over | detail |
//! |---|---|---|---|
//! | `register-admin` | org id, certificate id | the certificate | – |
//! | `enroll` | org id | the [`EnrollmentRequest`] encoding | the request |
//! | `approve` | enrollment id, certificate id | the certificate | the member's enroll statement |
//! | `reject` | enrollment id | the member's enroll statement | – |
//! | `revoke` | certificate id | the certificate | – |
//! | `send` | envelope id, recipient certificate id | the envelope header | – |
//! | `forward` | delivery id, envelope id, then `target:parts` per response | the responses ([`forward_digest`]) | – |
//! | `recall` | delivery id (the whole delivery); or delivery id, `parts:I,J…` (those parts only, ascending) | nothing (SHA-256 of the empty string) | – |
//! | `open` | delivery id, envelope id | nothing | – |
//! | `set-policy` | org id, `expiry=N|none`, `retention=N|none`, `max-validity=N|none`, `quota=BYTES|none` | nothing | – |
//! | `set-rules` | owner certificate id | the rules ([`rules_digest`]) | – |
//! | `publish-revocations` | org id, `serial=N` | the organization-signed revocation list | – |
//! | `checkpoint` | org id, `position=N` | the organization-signed audit checkpoint | – |
//! | `publish-partners` | org id, `serial=N` | the organization-signed partner list | – |
//!
//! The server accepts a statement only if its time is within [`MAX_CLOCK_SKEW`] of its own
//! clock. The audit trail chains entries per organization:
//! `hash = SHA-256(prev_hash ‖ u64(seq) ‖ entry)` ([`audit_hash`]), the first `prev_hash` all zeros.
//!
//! # Login
//!
//! `POST /v1/auth/challenge` gives a 32-byte nonce; the member signs [`login_message`]
//! (`"soshiki/v2/login" ‖ u16(len(origin)) ‖ origin ‖ nonce[32]`, the origin being the server's
//! URL origin as the client dialled it, e.g. `https://soshiki.example:8443`) and exchanges it for
//! a bearer token. Both sides refuse a nonce that is not exactly 32 bytes. The token expires
//! after one hour or when the member's certificate does, whichever is first.
//!
//! # Enrollment codes
//!
//! A member's device shows the [`enrollment_code`] of its request (16 digits in 4 groups, from
//! a domain-separated SHA-256 of the [`EnrollmentRequest`] encoding); the administrator types
//! it, and its client certifies only a request with that code
//! ([`crate::steps::certify_enrollment`]). The certificate's validity must lie within the
//! requested one and last at most the organization's `max_validity_days`
//! ([`json::Policy`]); the server refuses any other.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use soshiki_core::cert::{CertificateRequest, Fingerprint, Roles};
use soshiki_core::error::DecodeError;
use soshiki_core::keys::{PublicKey, SigningKey, VerifyingKey};
use soshiki_core::suite::{Suite, SuiteId};
use soshiki_core::wire::{limits, Reader, Writer};

/// The HTTP header carrying a base64 [`ActionStatement`] on every mutating request.
pub const ACTION_HEADER: &str = "soshiki-action";
/// The HTTP header carrying the operator's token when a server's organization registration is
/// closed.
pub const REGISTRATION_TOKEN_HEADER: &str = "soshiki-registration-token";
/// How far an action statement's time may be from the server's clock, in seconds.
pub const MAX_CLOCK_SKEW: u64 = 300;
/// The API version prefix.
pub const API_PREFIX: &str = "/v1";

const ACTION_MAGIC: &[u8] = b"SKACT";
const ENROLL_MAGIC: &[u8] = b"SKENR";
const VERSION: u8 = 1;
const MAX_SUBJECTS: u32 = 64;
const MAX_DETAIL: u32 = 1 << 20;

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

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

/// The audit chain hash: `SHA-256(prev_hash ‖ u64(seq) ‖ entry)`.
pub fn audit_hash(prev_hash: &[u8; 32], seq: u64, entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev_hash);
    h.update(seq.to_be_bytes());
    h.update(entry);
    h.finalize().into()
}

/// Digest of the forward responses of one `forward` action:
/// `SHA-256(u32(count) ‖ (u32(len) ‖ response)…)`.
pub fn forward_digest(responses: &[Vec<u8>]) -> [u8; 32] {
    length_prefixed_digest(responses.iter().map(|r| r.as_slice()))
}

/// Digest of a forwarder's rules: `SHA-256(u32(count) ‖ (u32(len) ‖ rule)…)`.
pub fn rules_digest(rules: &[String]) -> [u8; 32] {
    length_prefixed_digest(rules.iter().map(|r| r.as_bytes()))
}

fn length_prefixed_digest<'a>(items: impl ExactSizeIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((items.len() as u32).to_be_bytes());
    for i in items {
        h.update((i.len() as u32).to_be_bytes());
        h.update(i);
    }
    h.finalize().into()
}

/// Parse a 64-digit lower- or upper-case hex fingerprint.
pub fn parse_fingerprint(hex_text: &str) -> Option<Fingerprint> {
    let b = hex::decode(hex_text).ok()?;
    Some(Fingerprint(b.try_into().ok()?))
}

/// The suite named by an object's 8-byte prefix (`magic[5] ‖ version ‖ suite`), without decoding
/// it. `magic` is e.g. `b"SKORG"`, `b"SKCRT"`, `b"SKHDR"`, `b"SKACT"`.
pub fn peek_suite(bytes: &[u8], magic: &'static [u8]) -> Result<SuiteId, DecodeError> {
    soshiki_core::wire::peek_suite(bytes, magic, "object")
}

// ---------------------------------------------------------------------------------------------
// Actions

/// What an action statement is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// The organization's first administrator registers itself.
    RegisterAdmin,
    /// A member asks to be certified (signed by the new key: proof of possession).
    Enroll,
    /// An administrator approves an enrollment with a certificate.
    Approve,
    /// An administrator rejects an enrollment.
    Reject,
    /// An administrator revokes a member.
    Revoke,
    /// A member sends an envelope.
    Send,
    /// A forwarder re-encrypts parts to members (model 2).
    Forward,
    /// A forwarder or administrator recalls an unopened delivery.
    Recall,
    /// A reader opened a delivery.
    Open,
    /// An administrator sets the organization's expiry and retention.
    SetPolicy,
    /// A forwarder replaces its routing rules.
    SetRules,
    /// An administrator publishes the organization-signed revocation list.
    PublishRevocations,
    /// An administrator stores an organization-signed audit checkpoint.
    Checkpoint,
    /// An administrator publishes the organization-signed partner list.
    PublishPartners,
}

impl Action {
    const ALL: [Action; 14] = [
        Action::RegisterAdmin,
        Action::Enroll,
        Action::Approve,
        Action::Reject,
        Action::Revoke,
        Action::Send,
        Action::Forward,
        Action::Recall,
        Action::Open,
        Action::SetPolicy,
        Action::SetRules,
        Action::PublishRevocations,
        Action::Checkpoint,
        Action::PublishPartners,
    ];

    /// The wire name.
    pub const fn name(self) -> &'static str {
        match self {
            Action::RegisterAdmin => "register-admin",
            Action::Enroll => "enroll",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Revoke => "revoke",
            Action::Send => "send",
            Action::Forward => "forward",
            Action::Recall => "recall",
            Action::Open => "open",
            Action::SetPolicy => "set-policy",
            Action::SetRules => "set-rules",
            Action::PublishRevocations => "publish-revocations",
            Action::Checkpoint => "checkpoint",
            Action::PublishPartners => "publish-partners",
        }
    }

    /// Parse a wire name.
    pub fn from_name(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == s)
    }
}

impl core::fmt::Display for Action {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The content of an action, as both sides compute it (see the module table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionSpec {
    /// The action.
    pub action: Action,
    /// Subject identifiers.
    pub subjects: Vec<String>,
    /// SHA-256 of what the action is about.
    pub digest: [u8; 32],
    /// Attached bytes (the enrollment request for `enroll` and `approve`).
    pub detail: Vec<u8>,
}

impl ActionSpec {
    fn new(action: Action, subjects: Vec<String>, digest: [u8; 32]) -> Self {
        Self {
            action,
            subjects,
            digest,
            detail: vec![],
        }
    }

    /// `register-admin`: the first administrator's certificate.
    pub fn register_admin(org_id: &str, cert_id: &str, certificate: &[u8]) -> Self {
        Self::new(
            Action::RegisterAdmin,
            vec![org_id.into(), cert_id.into()],
            sha256(certificate),
        )
    }

    /// `enroll`: an [`EnrollmentRequest`] encoding.
    pub fn enroll(org_id: &str, request: &[u8]) -> Self {
        Self {
            detail: request.to_vec(),
            ..Self::new(Action::Enroll, vec![org_id.into()], sha256(request))
        }
    }

    /// `approve`: the issued certificate and the member's signed enroll statement.
    pub fn approve(
        enrollment_id: &str,
        cert_id: &str,
        certificate: &[u8],
        enroll_statement: &[u8],
    ) -> Self {
        Self {
            detail: enroll_statement.to_vec(),
            ..Self::new(
                Action::Approve,
                vec![enrollment_id.into(), cert_id.into()],
                sha256(certificate),
            )
        }
    }

    /// `reject`.
    pub fn reject(enrollment_id: &str, enroll_statement: &[u8]) -> Self {
        Self::new(
            Action::Reject,
            vec![enrollment_id.into()],
            sha256(enroll_statement),
        )
    }

    /// `revoke`.
    pub fn revoke(cert_id: &str, certificate: &[u8]) -> Self {
        Self::new(Action::Revoke, vec![cert_id.into()], sha256(certificate))
    }

    /// `send`: the envelope header as uploaded.
    pub fn send(envelope_id: &str, recipient_cert: &str, header: &[u8]) -> Self {
        Self::new(
            Action::Send,
            vec![envelope_id.into(), recipient_cert.into()],
            sha256(header),
        )
    }

    /// `forward`: one `target:parts` subject per response, in order (`parts` comma-separated).
    pub fn forward(
        delivery_id: &str,
        envelope_id: &str,
        targets: &[(String, Vec<u32>)],
        responses: &[Vec<u8>],
    ) -> Self {
        let mut subjects = vec![delivery_id.to_string(), envelope_id.to_string()];
        subjects.extend(targets.iter().map(|(t, parts)| forward_subject(t, parts)));
        Self::new(Action::Forward, subjects, forward_digest(responses))
    }

    /// `recall` of the whole delivery.
    pub fn recall(delivery_id: &str) -> Self {
        Self::new(Action::Recall, vec![delivery_id.into()], sha256(b""))
    }

    /// `recall` of some of a delivery's parts (`parts` ascending, without duplicates): the
    /// second subject `parts:I,J…` binds exactly which parts the actor recalls.
    pub fn recall_parts(delivery_id: &str, parts: &[u32]) -> Self {
        let p: Vec<String> = parts.iter().map(u32::to_string).collect();
        Self::new(
            Action::Recall,
            vec![delivery_id.into(), format!("parts:{}", p.join(","))],
            sha256(b""),
        )
    }

    /// `open`.
    pub fn open(delivery_id: &str, envelope_id: &str) -> Self {
        Self::new(
            Action::Open,
            vec![delivery_id.into(), envelope_id.into()],
            sha256(b""),
        )
    }

    /// `set-policy` (a quota of 0 is no quota: `quota=none`).
    pub fn set_policy(org_id: &str, policy: &json::Policy) -> Self {
        let opt = |o: Option<u32>| o.map_or_else(|| "none".to_string(), |d| d.to_string());
        let quota = policy
            .quota()
            .map_or_else(|| "none".to_string(), |b| b.to_string());
        Self::new(
            Action::SetPolicy,
            vec![
                org_id.into(),
                format!("expiry={}", opt(policy.expiry_days)),
                format!("retention={}", opt(policy.retention_days)),
                format!("max-validity={}", opt(policy.max_validity_days)),
                format!("quota={quota}"),
                format!(
                    "sender-role={}",
                    if policy.sender_role_required {
                        "required"
                    } else {
                        "not-required"
                    }
                ),
            ],
            sha256(b""),
        )
    }

    /// `publish-revocations`: the organization-signed revocation list with serial `serial`.
    pub fn publish_revocations(org_id: &str, serial: u64, list: &[u8]) -> Self {
        Self::new(
            Action::PublishRevocations,
            vec![org_id.into(), format!("serial={serial}")],
            sha256(list),
        )
    }

    /// `publish-partners`: the organization-signed partner list with serial `serial`.
    pub fn publish_partners(org_id: &str, serial: u64, list: &[u8]) -> Self {
        Self::new(
            Action::PublishPartners,
            vec![org_id.into(), format!("serial={serial}")],
            sha256(list),
        )
    }

    /// `checkpoint`: the organization-signed audit checkpoint at `position`.
    pub fn checkpoint(org_id: &str, position: u64, checkpoint: &[u8]) -> Self {
        Self::new(
            Action::Checkpoint,
            vec![org_id.into(), format!("position={position}")],
            sha256(checkpoint),
        )
    }

    /// `set-rules`.
    pub fn set_rules(owner_cert: &str, rules: &[String]) -> Self {
        Self::new(
            Action::SetRules,
            vec![owner_cert.into()],
            rules_digest(rules),
        )
    }
}

/// The largest organization storage quota, in bytes (1 PiB; [`json::Policy::quota_bytes`]).
/// Larger values are refused rather than silently meaning "unlimited"; below 2^53, so the
/// browser's numbers hold it exactly.
pub const MAX_QUOTA_BYTES: u64 = 1 << 50;

/// Most targets in one forward: a `forward` statement's subjects are the delivery, the
/// envelope and one `target:parts` per target, and a statement holds at most 64 subjects.
/// The server, the client and the browser all check this one number.
pub const MAX_FORWARD_TARGETS: usize = MAX_SUBJECTS as usize - 2;

/// Check a forward plan against the action-statement limits before anything is computed:
/// 1 to [`MAX_FORWARD_TARGETS`] targets, each `target:parts` subject at most
/// `limits::MAX_TEXT` bytes. The error names the limit.
pub fn check_forward_plan(targets: &[(String, Vec<u32>)]) -> Result<(), String> {
    if targets.is_empty() || targets.len() > MAX_FORWARD_TARGETS {
        return Err(format!(
            "a forward goes to 1 to {MAX_FORWARD_TARGETS} targets, not {}",
            targets.len()
        ));
    }
    for (t, parts) in targets {
        let n = forward_subject(t, parts).len();
        if n > limits::MAX_TEXT as usize {
            return Err(format!(
                "the parts given to one target are too many to sign ({n} bytes of part \
                 numbers; at most {}): forward them in several steps",
                limits::MAX_TEXT
            ));
        }
    }
    Ok(())
}

/// The subject naming one forward target: `target_cert_id:0,2,5`.
pub fn forward_subject(target_cert: &str, parts: &[u32]) -> String {
    let p: Vec<String> = parts.iter().map(u32::to_string).collect();
    format!("{target_cert}:{}", p.join(","))
}

/// An actor-signed action statement; also the stored audit entry. Unverified until
/// [`ActionStatement::verify_signature`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionStatement {
    /// Suite of the actor's keys.
    pub suite: SuiteId,
    /// The action.
    pub action: Action,
    /// Fingerprint of the actor's certificate; all zeros for `enroll` (the actor has none yet).
    pub actor: Fingerprint,
    /// The actor's time, Unix seconds.
    pub time: u64,
    /// Subject identifiers.
    pub subjects: Vec<String>,
    /// Digest of what the action is about.
    pub digest: [u8; 32],
    /// Attached bytes.
    pub detail: Vec<u8>,
    /// Signature by the actor's signing key.
    pub signature: [u8; 64],
}

impl ActionStatement {
    /// Sign a statement.
    pub fn sign<S: Suite>(
        spec: &ActionSpec,
        actor: Fingerprint,
        time: u64,
        key: &SigningKey<S>,
        rng: &mut impl rand_core::CryptoRngCore,
    ) -> Self {
        let mut s = ActionStatement {
            suite: S::ID,
            action: spec.action,
            actor,
            time,
            subjects: spec.subjects.clone(),
            digest: spec.digest,
            detail: spec.detail.clone(),
            signature: [0; 64],
        };
        s.signature = key.sign(&s.signed_message(), rng);
        s
    }

    fn body(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(ACTION_MAGIC)
            .u8(VERSION)
            .suite(self.suite)
            .bytes16(self.action.name().as_bytes())
            .raw(&self.actor.0)
            .u64(self.time)
            .u32(self.subjects.len() as u32);
        for s in &self.subjects {
            w.bytes16(s.as_bytes());
        }
        w.raw(&self.digest).bytes32(&self.detail);
        w.into_bytes()
    }

    /// The signed message: `"soshiki/v1/action" ‖ body`.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut m = b"soshiki/v1/action".to_vec();
        m.extend_from_slice(&self.body());
        m
    }

    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.body();
        b.extend_from_slice(&self.signature);
        b
    }

    /// Decode (strict: no trailing bytes, bounded counts, known action names).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.take(ACTION_MAGIC.len(), "action magic")? != ACTION_MAGIC {
            return Err(DecodeError::BadMagic("action statement"));
        }
        let v = r.u8("action version")?;
        if v != VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: "action statement",
                version: v,
            });
        }
        let suite = SuiteId::from_u16(r.u16("suite")?)?;
        let action = Action::from_name(&r.text16("action", 64)?)
            .ok_or(DecodeError::InvalidValue("action"))?;
        let actor = Fingerprint(r.array("actor")?);
        let time = r.u64("action time")?;
        let n = r.count("subject count", MAX_SUBJECTS)?;
        let mut subjects = Vec::with_capacity(n as usize);
        for _ in 0..n {
            subjects.push(r.text16("subject", limits::MAX_TEXT)?);
        }
        let digest = r.array("action digest")?;
        let detail = r.bytes32("action detail", MAX_DETAIL)?.to_vec();
        let signature = r.array("action signature")?;
        r.finish()?;
        Ok(Self {
            suite,
            action,
            actor,
            time,
            subjects,
            digest,
            detail,
            signature,
        })
    }

    /// Whether the signature verifies with `key` (and the statement is of suite `S`).
    pub fn verify_signature<S: Suite>(&self, key: &VerifyingKey<S>) -> bool {
        self.suite == S::ID && key.verify(&self.signed_message(), &self.signature)
    }

    /// Whether the statement states exactly `spec`.
    pub fn states(&self, spec: &ActionSpec) -> bool {
        self.action == spec.action
            && self.subjects == spec.subjects
            && self.digest == spec.digest
            && self.detail == spec.detail
    }

    /// Base64 for the [`ACTION_HEADER`].
    pub fn to_header_value(&self) -> String {
        B64::encode(&self.to_bytes())
    }
}

// ---------------------------------------------------------------------------------------------
// Enrollment

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

impl<S: Suite> EnrollmentRequest<S> {
    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(ENROLL_MAGIC)
            .u8(VERSION)
            .suite(S::ID)
            .bytes16(self.member_name.as_bytes())
            .u8(self.roles.bits())
            .raw(&self.encryption_key.to_bytes())
            .raw(&self.signing_key.to_bytes())
            .u64(self.not_before)
            .u64(self.not_after);
        w.into_bytes()
    }

    /// Decode.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.take(ENROLL_MAGIC.len(), "enrollment magic")? != ENROLL_MAGIC {
            return Err(DecodeError::BadMagic("enrollment request"));
        }
        let v = r.u8("enrollment version")?;
        if v != VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: "enrollment request",
                version: v,
            });
        }
        r.expect_suite::<S>()?;
        let member_name = r.text16("member name", limits::MAX_TEXT)?;
        let roles = Roles::from_bits(r.u8("roles")?)?;
        let encryption_key = PublicKey::from_bytes(r.take(S::POINT_LEN, "encryption key")?)?;
        let signing_key = VerifyingKey::from_bytes(r.take(S::SIG_PUBLIC_LEN, "signing key")?)?;
        let not_before = r.u64("not before")?;
        let not_after = r.u64("not after")?;
        r.finish()?;
        Ok(Self {
            member_name,
            roles,
            encryption_key,
            signing_key,
            not_before,
            not_after,
        })
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

// ---------------------------------------------------------------------------------------------
// JSON

/// Bytes carried in JSON as standard base64 with padding.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct B64(pub Vec<u8>);

impl B64 {
    /// Encode bytes as base64 text.
    pub fn encode(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }
    /// Decode base64 text.
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD.decode(s).ok()
    }
}

impl core::fmt::Debug for B64 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "B64({} bytes)", self.0.len())
    }
}

impl From<Vec<u8>> for B64 {
    fn from(v: Vec<u8>) -> Self {
        B64(v)
    }
}

impl Serialize for B64 {
    fn serialize<Se: serde::Serializer>(&self, s: Se) -> Result<Se::Ok, Se::Error> {
        s.serialize_str(&B64::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for B64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        B64::decode(&s)
            .map(B64)
            .ok_or_else(|| serde::de::Error::custom("invalid base64"))
    }
}

/// The JSON request and response bodies of the API.
pub mod json {
    use super::B64;
    use serde::{Deserialize, Serialize};

    /// Every error response: `{"error": {"code": …, "message": …}}`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct ErrorBody {
        /// The error.
        pub error: ErrorDetail,
    }

    /// An error's code and safe message.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct ErrorDetail {
        /// `bad-request`, `unauthorized`, `forbidden`, `not-found`, `conflict`, `gone`,
        /// `too-large`, `no-route` or `internal`.
        pub code: String,
        /// What is wrong (never an internal detail).
        pub message: String,
    }

    /// `GET /v1/info`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct ServerInfo {
        /// Always `soshiki/v1`.
        pub api: String,
        /// Server version.
        pub version: String,
        /// The origin the server signs logins for.
        pub origin: String,
    }

    /// `POST /v1/orgs`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct RegisterOrg {
        /// The self-signed organization record.
        pub record: B64,
    }

    /// An organization in the directory.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct OrgInfo {
        /// Fingerprint, hex.
        pub id: String,
        /// Suite name (`p256`, `ristretto255`).
        pub suite: String,
        /// Name from the record.
        pub name: String,
        /// The self-signed record (verify and pin it yourself).
        pub record: B64,
        /// Registration time.
        pub created: i64,
        /// Days after which unopened deliveries expire.
        pub expiry_days: Option<u32>,
        /// Days after which bodies are removed.
        pub retention_days: Option<u32>,
        /// The longest validity of a member certificate, in days (`null`: no limit).
        #[serde(default)]
        pub max_validity_days: Option<u32>,
        /// The storage quota in bytes (`null`: unlimited).
        #[serde(default)]
        pub quota_bytes: Option<u64>,
        /// Whether only members with the sender role may send to other organizations.
        #[serde(default)]
        pub sender_role_required: bool,
    }

    /// `GET /v1/orgs`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct OrgList {
        /// Organizations, by name.
        pub orgs: Vec<OrgInfo>,
        /// The cursor of the next page (`after`), `null` on the last page.
        #[serde(default)]
        pub next: Option<String>,
    }

    /// `PUT /v1/orgs/{org}/policy`.
    #[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
    pub struct Policy {
        /// Days after which an unopened delivery expires (`null`: never).
        pub expiry_days: Option<u32>,
        /// Days after which bodies are removed (`null`: kept).
        pub retention_days: Option<u32>,
        /// The longest validity of a member certificate the organization issues, in days
        /// (`null`: no limit). The administrator's client caps an approval at it and the server
        /// refuses a certificate that exceeds it.
        #[serde(default)]
        pub max_validity_days: Option<u32>,
        /// The organization's storage quota in bytes (`null` or 0: unlimited; at most
        /// [`super::MAX_QUOTA_BYTES`]): the bodies of envelopes its members sent that the server
        /// still stores, the headers of deliveries they created and their unfinished uploads.
        /// An upload that would exceed it is refused (413 `quota-exceeded`).
        #[serde(default)]
        pub quota_bytes: Option<u64>,
        /// Whether only members with the sender role (`Roles::SENDER`) may send to other
        /// organizations (`false`, the default: every member may). The server refuses a `send`
        /// by a member without it (403 `no-sending-role`); clients do not offer sending.
        #[serde(default)]
        pub sender_role_required: bool,
    }

    impl Policy {
        /// The quota, `None` for no quota (absent or 0).
        pub fn quota(&self) -> Option<u64> {
            self.quota_bytes.filter(|&b| b > 0)
        }
    }

    /// `POST /v1/orgs/{org}/members` (first administrator) and
    /// `POST /v1/enrollments/{id}/approve`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct CertificateBody {
        /// A certificate issued by the organization.
        pub certificate: B64,
    }

    /// A member certificate in the directory.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct MemberInfo {
        /// Certificate fingerprint, hex.
        pub cert_id: String,
        /// Organization fingerprint, hex.
        pub org_id: String,
        /// Name from the certificate.
        pub name: String,
        /// Role bits.
        pub roles: u8,
        /// Role names.
        pub role_names: Vec<String>,
        /// The certificate (verify it against your pinned organization).
        pub certificate: B64,
        /// `active` or `revoked`.
        pub status: String,
        /// Registration time.
        pub created: i64,
        /// Revocation time.
        pub revoked_at: Option<i64>,
    }

    /// `GET /v1/orgs/{org}/members`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct MemberList {
        /// Members (all statuses), by name.
        pub members: Vec<MemberInfo>,
        /// The cursor of the next page (`after`), `null` on the last page.
        #[serde(default)]
        pub next: Option<String>,
    }

    /// `POST /v1/orgs/{org}/enrollments`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct CreateEnrollment {
        /// The `enroll` action statement (see [`super::verify_enrollment`]).
        pub request: B64,
    }

    /// The answer to an enrollment.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct EnrollmentCreated {
        /// Enrollment id (keep it to fetch the certificate).
        pub id: String,
    }

    /// An enrollment.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct EnrollmentInfo {
        /// Id.
        pub id: String,
        /// Organization.
        pub org_id: String,
        /// The member's `enroll` statement.
        pub request: B64,
        /// `pending`, `approved` or `rejected`.
        pub status: String,
        /// Time of the request.
        pub created: i64,
        /// The issued certificate's id, once approved.
        pub cert_id: Option<String>,
        /// The issued certificate, once approved.
        pub certificate: Option<B64>,
    }

    /// `GET /v1/orgs/{org}/enrollments`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct EnrollmentList {
        /// Enrollments with the requested status, oldest first.
        pub enrollments: Vec<EnrollmentInfo>,
        /// The cursor of the next page (`after`), `null` on the last page.
        #[serde(default)]
        pub next: Option<String>,
    }

    /// `POST /v1/auth/challenge`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct ChallengeRequest {
        /// The member's certificate id.
        pub cert_id: String,
    }

    /// A login challenge.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct Challenge {
        /// 32 random bytes to sign.
        pub nonce: B64,
        /// Expiry time.
        pub expires: i64,
    }

    /// `POST /v1/auth/token`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct TokenRequest {
        /// The member's certificate id.
        pub cert_id: String,
        /// The challenge's nonce.
        pub nonce: B64,
        /// Signature over [`super::login_message`].
        pub signature: B64,
    }

    /// A bearer token.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct Token {
        /// `Authorization: Bearer <token>`.
        pub token: String,
        /// Expiry time.
        pub expires: i64,
        /// Whose token it is.
        pub cert_id: String,
    }

    /// `POST /v1/envelopes`: where to upload the bodies.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct UploadCreated {
        /// `PUT /v1/uploads/{upload_id}`.
        pub upload_id: String,
        /// The envelope id (hex).
        pub envelope_id: String,
        /// Exactly how many bytes to upload.
        pub bodies_len: u64,
    }

    /// `PUT /v1/uploads/{id}`: the envelope is committed and delivered.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct EnvelopeCommitted {
        /// Envelope id.
        pub envelope_id: String,
        /// The representative's delivery.
        pub delivery_id: String,
    }

    /// A delivery: one holder's copy of (some parts of) an envelope. No capsule.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct DeliveryInfo {
        /// Id.
        pub id: String,
        /// Envelope id.
        pub envelope_id: String,
        /// Suite name.
        pub suite: String,
        /// Holder's certificate id.
        pub holder_cert: String,
        /// Holder's organization.
        pub holder_org: String,
        /// The delivery it was forwarded from.
        pub parent: Option<String>,
        /// Who created it (sender or forwarder certificate id).
        pub created_by: String,
        /// Part indices held.
        pub parts: Vec<u32>,
        /// Parts not currently forwarded onward (what a forward may still take).
        pub forwardable_parts: Vec<u32>,
        /// `delivered`, `forwarded`, `opened`, `recalled` or `expired`.
        pub status: String,
        /// Creation time.
        pub created: i64,
        /// Last change.
        pub updated: i64,
        /// Sender's certificate id.
        pub sender_cert: String,
        /// Sender's name (from the directory; the signed header is authoritative).
        pub sender_name: String,
        /// Sender's organization id.
        pub sender_org: String,
        /// Sender's organization name (from the directory).
        pub sender_org_name: String,
        /// Whether the body is still stored.
        pub body_available: bool,
        /// When the holder first downloaded the delivery's capsules or bodies, as the server
        /// observed it (`None`: never). A downloaded delivery cannot be recalled.
        #[serde(default)]
        pub downloaded: Option<i64>,
        /// The deliveries forwarded from this one (recalled ones included), oldest first: what
        /// its holder may recall from any device. Empty for a viewer outside the holder's
        /// organization (the sender never learns who holds what inside it).
        #[serde(default)]
        pub forwards: Vec<ForwardedInfo>,
    }

    /// A delivery forwarded from another one.
    #[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
    pub struct ForwardedInfo {
        /// Id.
        pub id: String,
        /// Holder's certificate id.
        pub holder_cert: String,
        /// Part indices.
        pub parts: Vec<u32>,
        /// `delivered`, `forwarded`, `opened`, `recalled` or `expired`.
        pub status: String,
        /// Creation time.
        pub created: i64,
    }

    /// `GET /v1/inbox`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct Inbox {
        /// Newest first.
        pub deliveries: Vec<DeliveryInfo>,
        /// The cursor of the next page (`after`), `null` on the last page.
        #[serde(default)]
        pub next: Option<String>,
    }

    /// `POST /v1/deliveries/{id}/forward`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct ForwardBody {
        /// One encoded `ForwardResponse` per target.
        pub responses: Vec<B64>,
    }

    /// `POST /v1/deliveries/{id}/recall` (optional body): recall only these parts.
    #[derive(Clone, Debug, Default, Serialize, Deserialize)]
    pub struct RecallBody {
        /// The parts to recall (ascending, no duplicates, a proper subset of the delivery's);
        /// absent: the whole delivery.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parts: Option<Vec<u32>>,
    }

    /// A delivery created by a forward.
    #[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
    pub struct NewDelivery {
        /// Id.
        pub id: String,
        /// Target certificate id.
        pub holder_cert: String,
        /// Parts.
        pub parts: Vec<u32>,
    }

    /// The answer to a forward.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct ForwardResult {
        /// One per response, in order.
        pub deliveries: Vec<NewDelivery>,
    }

    /// One event in an envelope's life, as its sender sees it.
    #[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
    pub struct Receipt {
        /// `delivered`, `forwarded`, `downloaded` (observed by the server: the holder took
        /// the capsules or bodies), `opened` (reported by the reader after a download),
        /// `recalled` or `expired`.
        pub kind: String,
        /// When.
        pub time: i64,
        /// The delivery concerned.
        pub delivery_id: String,
        /// Parts concerned.
        pub parts: Vec<u32>,
        /// Role names of the member who acted (forwarder, or the reader who opened).
        pub by_roles: Vec<String>,
        /// Role names of the holder of the delivery.
        pub holder_roles: Vec<String>,
    }

    /// `GET /v1/envelopes/{id}/receipts`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct Receipts {
        /// Envelope id.
        pub envelope_id: String,
        /// In time order.
        pub receipts: Vec<Receipt>,
    }

    /// One stored audit entry.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct AuditRecord {
        /// Sequence number, from 1.
        pub seq: u64,
        /// The actor-signed statement.
        pub entry: B64,
        /// Previous hash, hex.
        pub prev_hash: String,
        /// This entry's hash, hex.
        pub hash: String,
        /// Server time of the entry.
        pub created: i64,
    }

    /// An actor certificate with its organization record, for audit verification.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct ActorCertificate {
        /// Certificate id.
        pub cert_id: String,
        /// The certificate.
        pub certificate: B64,
        /// The issuing organization's record.
        pub org_record: B64,
    }

    /// `GET /v1/orgs/{org}/audit`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct AuditPage {
        /// Organization.
        pub org_id: String,
        /// Entries in order.
        pub entries: Vec<AuditRecord>,
        /// Every certificate an entry names as its actor.
        pub certificates: Vec<ActorCertificate>,
    }

    /// `GET/PUT /v1/rules`.
    #[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
    pub struct Rules {
        /// Rules in evaluation order (text, evaluated by the forwarder's agent).
        pub rules: Vec<String>,
        /// In answers: the owner's `set-rules` action statement that stored these rules (the
        /// agent applies the rules only if it verifies with the owner's own key; `null` for
        /// rules stored without one). Ignored in requests (the statement is the action header).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub statement: Option<B64>,
    }

    /// `PUT /v1/orgs/{org}/revocations` and `PUT /v1/orgs/{org}/partners`: an
    /// organization-signed list (revocation list, SPEC.md §5.6; partner list, §5.8).
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct SignedListBody {
        /// The organization-signed list.
        pub list: B64,
    }
    /// `PUT /v1/orgs/{org}/revocations`.
    pub type RevocationListBody = SignedListBody;
    /// `PUT /v1/orgs/{org}/partners`.
    pub type PartnerListBody = SignedListBody;

    /// `GET /v1/orgs/{org}/revocations` and `GET /v1/orgs/{org}/partners`: the newest list
    /// the organization published.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct SignedListInfo {
        /// Organization.
        pub org_id: String,
        /// The list's serial number (verify the list itself).
        pub serial: u64,
        /// The organization-signed list.
        pub list: B64,
        /// When the server stored it.
        pub created: i64,
    }
    /// `GET /v1/orgs/{org}/revocations`.
    pub type RevocationListInfo = SignedListInfo;
    /// `GET /v1/orgs/{org}/partners`.
    pub type PartnerListInfo = SignedListInfo;

    /// `PUT /v1/orgs/{org}/checkpoint`.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct CheckpointBody {
        /// The organization-signed audit checkpoint (SPEC.md §5.7).
        pub checkpoint: B64,
    }

    /// `PUT /v1/me/local-state/{kind}` and its answer, and `GET /v1/me/local-state/{kind}`:
    /// a member's own browser state (pins, trust anchors), sealed and signed by the member key
    /// on the member's device. The server stores it opaquely, newest serial only.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct LocalStateBody {
        /// The state's serial number (the server keeps only a greater one than it has).
        #[serde(deserialize_with = "json_integer")]
        pub serial: u64,
        /// The sealed state (at most 64 KiB).
        pub state: B64,
    }

    /// A JSON integer as JSON Schema defines it: `12` and `12.0` alike (any number without a
    /// fractional part), within `u64`.
    fn json_integer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum N {
            U(u64),
            F(f64),
        }
        match N::deserialize(d)? {
            N::U(n) => Ok(n),
            N::F(f) if f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&f) => Ok(f as u64),
            N::F(f) => Err(serde::de::Error::custom(format!(
                "{f} is not a non-negative integer"
            ))),
        }
    }

    /// `GET /v1/orgs/{org}/checkpoint`: the newest checkpoint of the organization's trail.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    pub struct CheckpointInfo {
        /// Organization.
        pub org_id: String,
        /// The anchored position (verify the checkpoint itself).
        pub position: u64,
        /// The organization-signed checkpoint.
        pub checkpoint: B64,
        /// When the server stored it.
        pub created: i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use soshiki_core::suite::{Ristretto255, P256};

    fn roundtrip<S: Suite>() {
        let mut rng = rand_core::OsRng;
        let key = SigningKey::<S>::generate(&mut rng);
        let spec = ActionSpec::forward(
            "d1",
            "e1",
            &[("t1".into(), vec![0, 2]), ("t2".into(), vec![1])],
            &[vec![1, 2], vec![3]],
        );
        let st = ActionStatement::sign(&spec, Fingerprint([7; 32]), 1_700_000_000, &key, &mut rng);
        let back = ActionStatement::from_bytes(&st.to_bytes()).expect("decode");
        assert_eq!(back, st);
        assert!(back.verify_signature(&key.verifying_key()));
        assert!(back.states(&spec));
        assert_eq!(back.subjects[2], "t1:0,2");
        let other = SigningKey::<S>::generate(&mut rng);
        assert!(!back.verify_signature(&other.verifying_key()));
        let mut bytes = st.to_bytes();
        let n = bytes.len();
        bytes[n - 70] ^= 1;
        let tampered = ActionStatement::from_bytes(&bytes).expect("still decodes");
        assert!(!tampered.verify_signature(&key.verifying_key()));
        bytes.push(0);
        assert!(
            ActionStatement::from_bytes(&bytes).is_err(),
            "trailing byte"
        );
    }

    #[test]
    fn statements_roundtrip_and_verify() {
        roundtrip::<P256>();
        roundtrip::<Ristretto255>();
    }

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

    #[test]
    fn b64_json() {
        let v = json::RegisterOrg {
            record: B64(vec![0, 1, 2, 255]),
        };
        let s = serde_json::to_string(&v).expect("json");
        assert_eq!(s, r#"{"record":"AAEC/w=="}"#);
        let back: json::RegisterOrg = serde_json::from_str(&s).expect("parse");
        assert_eq!(back.record.0, vec![0, 1, 2, 255]);
        assert!(serde_json::from_str::<json::RegisterOrg>(r#"{"record":"!!"}"#).is_err());
    }
}
