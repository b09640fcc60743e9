//! Action statements (audit entries): every mutating request carries an [`ActionStatement`]
//! signed by the actor, in the [`ACTION_HEADER`](crate::ACTION_HEADER) HTTP header (base64). The
//! server checks it against the actor's certificate and stores it, byte for byte, as the actor's
//! entry in the audit trail (chained by [`audit_hash`](crate::audit_hash)).
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
//! | `enroll` | org id | the [`EnrollmentRequest`](crate::EnrollmentRequest) encoding | the request |
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
//!
//! The server accepts a statement only if its time is within
//! [`MAX_CLOCK_SKEW`](crate::MAX_CLOCK_SKEW) of its own clock.

use crate::b64::B64;
use crate::digest::{forward_digest, rules_digest, sha256};
use crate::json;
use soshiki_core::cert::Fingerprint;
use soshiki_core::error::DecodeError;
use soshiki_core::keys::{SigningKey, VerifyingKey};
use soshiki_core::suite::{Suite, SuiteId};
use soshiki_core::wire::{limits, Frame, Reader};

/// An action statement's frame; the statement names its suite (any suite), so it is read with
/// [`Frame::read_any`].
const FRAME: Frame = Frame {
    magic: b"SKACT",
    version: 1,
    what: "action statement",
};
const MAX_SUBJECTS: u32 = 64;
const MAX_DETAIL: u32 = 1 << 20;

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

    /// `enroll`: an [`EnrollmentRequest`](crate::EnrollmentRequest) encoding.
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
        let mut w = FRAME.writer_for(self.suite);
        w.bytes16(self.action.name().as_bytes())
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
        let suite = FRAME.read_any(&mut r)?;
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

    /// Base64 for the [`ACTION_HEADER`](crate::ACTION_HEADER).
    pub fn to_header_value(&self) -> String {
        B64::encode(&self.to_bytes())
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
}
