//! The device-side protocol steps that involve keys and checks but no I/O, shared by the HTTP
//! flows ([`crate::flows`], feature `http`) and the browser (`soshiki-wasm`), so both run the
//! same code: enrollment (keys, proof of possession, the pending key), finishing an enrollment
//! (the certificate must come from the pinned organization and certify these keys), and the
//! forwarder's checks of a model-2 forwarding request.

use rand_core::CryptoRngCore;
use soshiki_core::cert::{
    Certificate, Fingerprint, Organization, OrganizationKey, Roles, VerifiedCertificate,
};
use soshiki_core::envelope::{Forwarder, Metadata, SlotId};
use soshiki_core::error::{DecodeError, DecryptError, ForwardError, KeyFileError, VerifyError};
use soshiki_core::keyfile::MemberKey;
use soshiki_core::keys::{SecretKey, SigningKey};
use soshiki_core::split::{ForwardingRequest, VerifiedRequest};
use soshiki_core::suite::Suite;
use soshiki_core::wire::limits;

use crate::proto::{
    enrollment_code, enrollment_code_matches, verify_enrollment, ActionSpec, ActionStatement,
    EnrollmentRequest,
};

/// The name of the throwaway organization that issues the placeholder certificate of a
/// pending key file.
pub const PENDING_ORG_NAME: &str = "soshiki pending enrollment";

/// Why a step refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// A bad argument.
    #[error("{0}")]
    Invalid(String),
    /// Something the server sent is not what it claims. Never proceed on this error.
    #[error("untrusted server data: {0}")]
    Untrusted(String),
    /// A wire object does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A signature, certificate or hop does not verify.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// Opening the routing metadata failed.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// A key file could not be made.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// The forwarder's shares could not be made.
    #[error(transparent)]
    Forward(#[from] ForwardError),
}

fn untrusted(msg: impl Into<String>) -> StepError {
    StepError::Untrusted(msg.into())
}

/// A new enrollment: the statement to post (signed by the new signing key: proof of
/// possession) and the new keys, held in a member key whose certificate is a placeholder issued
/// by a throwaway [`PENDING_ORG_NAME`] organization until the administrator's certificate
/// replaces it.
pub struct NewEnrollment<S: Suite> {
    /// The `enroll` action statement (`POST /v1/orgs/{org}/enrollments`).
    pub statement: ActionStatement,
    /// The request's [`enrollment_code`]: show it to the member, who tells it to the
    /// administrator over a channel the server does not control.
    pub code: String,
    /// The keys, to be protected by the member's passphrase at once.
    pub pending: MemberKey<S>,
}

impl<S: Suite> core::fmt::Debug for NewEnrollment<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NewEnrollment").finish_non_exhaustive()
    }
}

/// Generate a member's keys on this device and the signed enrollment request to `org`.
pub fn new_enrollment<S: Suite>(
    org: &Organization<S>,
    member_name: &str,
    roles: Roles,
    not_before: u64,
    not_after: u64,
    now: u64,
    rng: &mut impl CryptoRngCore,
) -> Result<NewEnrollment<S>, StepError> {
    if member_name.is_empty() || member_name.len() > limits::MAX_TEXT as usize {
        return Err(StepError::Invalid(
            "the member name must be 1 to 1024 bytes".into(),
        ));
    }
    if not_after <= not_before {
        return Err(StepError::Invalid(
            "the validity must end after it starts".into(),
        ));
    }
    let encryption = SecretKey::<S>::generate(rng);
    let signing = SigningKey::<S>::generate(rng);
    let request = EnrollmentRequest::<S> {
        member_name: member_name.into(),
        roles,
        encryption_key: encryption.public_key().clone(),
        signing_key: signing.verifying_key(),
        not_before,
        not_after,
    };
    let spec = ActionSpec::enroll(&org.fingerprint().to_hex(), &request.to_bytes());
    let statement = ActionStatement::sign(&spec, Fingerprint([0; 32]), now, &signing, rng);
    // The placeholder certificate lets the core key-file format hold keys without a real one.
    let placeholder_org = OrganizationKey::<S>::generate(PENDING_ORG_NAME, now, rng)?;
    let placeholder = placeholder_org.certify(&request.to_certificate_request(), rng)?;
    Ok(NewEnrollment {
        code: enrollment_code(&statement.detail),
        statement,
        pending: MemberKey {
            encryption,
            signing,
            organization: placeholder_org.organization().clone(),
            certificate: placeholder,
        },
    })
}

/// The validity an administrator certifies for an enrollment request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidityChoice {
    /// Start (default: as requested); must not be before the requested start.
    pub not_before: Option<u64>,
    /// End (default: as requested, capped by the policy); must not be after the requested end.
    pub not_after: Option<u64>,
    /// The organization's `max_validity_days` (`None`: no limit).
    pub max_validity_days: Option<u32>,
}

/// The administrator's whole check before certifying an enrollment, shared by every client
/// (`flows::approve_enrollment`, the browser's `OrgKey.certify`):
/// - the statement is an `enroll` request for this organization with a valid proof of
///   possession;
/// - its [`enrollment_code`] is the one the administrator typed (`expected_code`, read from the
///   member's device), so a request swapped by the server is never certified;
/// - the validity lies within the requested one and lasts at most the policy's cap (a longer
///   request is shortened to the cap).
///
/// Returns the request and the certificate, made locally with the organization key.
pub fn certify_enrollment<S: Suite>(
    org_key: &OrganizationKey<S>,
    statement: &[u8],
    expected_code: &str,
    validity: ValidityChoice,
    rng: &mut impl CryptoRngCore,
) -> Result<(EnrollmentRequest<S>, Certificate<S>), StepError> {
    let org_id = org_key.organization().fingerprint().to_hex();
    let (st, request) = verify_enrollment::<S>(statement, &org_id)
        .map_err(|e| untrusted(format!("the enrollment request is invalid: {e}")))?;
    if crate::proto::normalize_enrollment_code(expected_code).is_none() {
        return Err(StepError::Invalid(
            "the enrollment code must be 16 digits (as shown on the member's device)".into(),
        ));
    }
    if !enrollment_code_matches(&st.detail, expected_code) {
        return Err(untrusted(
            "the enrollment code does not match this request: it is not the request made on the \
             member's device (the server may have replaced it); nothing was certified",
        ));
    }
    let mut req = request.to_certificate_request();
    if let Some(nb) = validity.not_before {
        req.not_before = nb;
    }
    if let Some(na) = validity.not_after {
        req.not_after = na;
    }
    if let Some(days) = validity.max_validity_days {
        let cap = req.not_before.saturating_add(u64::from(days) * 86_400);
        req.not_after = req.not_after.min(cap);
    }
    if req.not_before < request.not_before || req.not_after > request.not_after {
        return Err(StepError::Invalid(
            "the certificate's validity must lie within the requested validity".into(),
        ));
    }
    if req.not_after <= req.not_before {
        return Err(StepError::Invalid(
            "the validity must end after it starts".into(),
        ));
    }
    let cert = org_key.certify(&req, rng)?;
    Ok((request, cert))
}

/// Before finishing an enrollment whose pending state was kept somewhere another party could
/// write (a browser profile): check that `org` is the organization this device asked to join.
/// `statement` is the device's own `enroll` statement (the server keeps it, and the device may
/// keep a copy): it names the organization and is signed by the pending signing key, so nobody
/// without the passphrase can make one naming another organization. Refused unless it is an
/// `enroll` request for `org`, with a valid proof of possession, for exactly `pending`'s keys.
pub fn check_pending_organization<S: Suite>(
    org: &Organization<S>,
    statement: &[u8],
    pending: &MemberKey<S>,
) -> Result<(), StepError> {
    let mismatch = || {
        untrusted(
            "the organization stored with this pending enrollment is not the one this device \
             asked to join (the stored enrollment was changed); nothing was saved",
        )
    };
    let (_, request) =
        verify_enrollment::<S>(statement, &org.fingerprint().to_hex()).map_err(|_| mismatch())?;
    if request.encryption_key != *pending.encryption.public_key()
        || request.signing_key != pending.signing.verifying_key()
    {
        return Err(mismatch());
    }
    Ok(())
}

/// An approved enrollment: check that `certificate` is issued by the pinned `org` and
/// certifies exactly the pending keys; return the complete member key.
pub fn complete_enrollment<S: Suite>(
    org: &Organization<S>,
    certificate: Certificate<S>,
    pending: MemberKey<S>,
) -> Result<MemberKey<S>, StepError> {
    certificate
        .verify_at_issue(org)
        .map_err(|_| untrusted("the certificate is not issued by the pinned organization"))?;
    if certificate.encryption_key != *pending.encryption.public_key()
        || certificate.signing_key != pending.signing.verifying_key()
    {
        return Err(untrusted(
            "the certificate certifies other keys than this device's",
        ));
    }
    Ok(MemberKey {
        encryption: pending.encryption,
        signing: pending.signing,
        organization: org.clone(),
        certificate,
    })
}

/// After `ForwardingRequest::verify`: the request is for this member's organization, this
/// member holds the metadata and every offered part, and every wanted part is offered.
/// Returns the offered parts.
pub fn check_verified_request<S: Suite>(
    verified: &VerifiedRequest<S>,
    me: &MemberKey<S>,
    wanted: Option<&[u32]>,
) -> Result<Vec<u32>, StepError> {
    let request = verified.request();
    if request.core.recipient_org.fingerprint() != me.organization.fingerprint() {
        return Err(untrusted(
            "the envelope is addressed to another organization than this member's",
        ));
    }
    let my_fp = me.certificate.fingerprint();
    let holds = |slot: SlotId| {
        verified
            .holder(slot)
            .is_some_and(|h| h.certificate().fingerprint() == my_fp)
    };
    if !holds(SlotId::METADATA) {
        return Err(untrusted(
            "this member does not hold the envelope's metadata",
        ));
    }
    if let Some(p) = request.parts.iter().find(|p| !holds(p.slot)) {
        return Err(untrusted(format!(
            "{} is offered but not held by this member",
            p.slot
        )));
    }
    // The verified request offers part slots only.
    let offered: Vec<u32> = request
        .parts
        .iter()
        .filter_map(|p| p.slot.part_index())
        .collect();
    if let Some(w) = wanted {
        if let Some(p) = w.iter().find(|p| !offered.contains(p)) {
            return Err(untrusted(format!("part {p} was asked for but not offered")));
        }
    }
    Ok(offered)
}

/// What a forwarder sees of a request, verified once: the request itself (kept, so the
/// forward is made from what was shown, with no second fetch or verification), the routing
/// metadata and the offered parts. The sender is `verified.sender()`.
#[derive(Debug, Clone)]
pub struct RequestView<S: Suite> {
    /// The verified request.
    pub verified: VerifiedRequest<S>,
    /// Title, category and per-part labels, opened with this member's key.
    pub metadata: Metadata,
    /// The parts offered, all held by this member.
    pub offered: Vec<u32>,
}

/// The forwarder's whole check of a request before showing it: verify it completely
/// (sender, certificates, hops, `C2` chain, no time later than `now` plus
/// `soshiki_core::envelope::MAX_FUTURE_SKEW`), [`check_verified_request`], and open the
/// routing metadata with this member's key.
pub fn view_request<S: Suite>(
    request: ForwardingRequest<S>,
    me: &MemberKey<S>,
    wanted: Option<&[u32]>,
    now: u64,
) -> Result<RequestView<S>, StepError> {
    let (verified, offered) = verify_request(request, me, wanted, now)?;
    let metadata = verified.open_metadata(&me.encryption)?;
    Ok(RequestView {
        verified,
        metadata,
        offered,
    })
}

/// [`view_request`] without opening the metadata (a forward that shows nothing): the
/// verified request and the offered parts.
pub fn verify_request<S: Suite>(
    request: ForwardingRequest<S>,
    me: &MemberKey<S>,
    wanted: Option<&[u32]>,
    now: u64,
) -> Result<(VerifiedRequest<S>, Vec<u32>), StepError> {
    let verified = request
        .verify_at(now)
        .map_err(|e| untrusted(format!("the forwarding request does not verify: {e}")))?;
    let offered = check_verified_request(&verified, me, wanted)?;
    Ok((verified, offered))
}

/// The forwarder's step after [`verify_request`] (or [`view_request`]): one forward response
/// per target, each with the shares for its parts (sorted, disjoint, all `offered`), made from
/// the request as verified. `targets` are certificates the caller verified against its own
/// organization.
pub fn make_responses<S: Suite>(
    verified: &VerifiedRequest<S>,
    offered: &[u32],
    me: &MemberKey<S>,
    targets: &[(Vec<u32>, VerifiedCertificate<S>)],
    time: u64,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<Vec<u8>>, StepError> {
    let mut all: Vec<u32> = targets
        .iter()
        .flat_map(|(p, _)| p.iter().copied())
        .collect();
    all.sort_unstable();
    let n = all.len();
    all.dedup();
    if all.len() != n {
        return Err(StepError::Invalid(
            "a part can go to only one target in one forward".into(),
        ));
    }
    if let Some(p) = all.iter().find(|p| !offered.contains(p)) {
        return Err(StepError::Invalid(format!(
            "part {p} is not offered by the forwarding request this forward is made from"
        )));
    }
    let fwd = Forwarder {
        holder: &me.encryption,
        signer: &me.signing,
        cert: &me.certificate,
    };
    let mut out = Vec::with_capacity(targets.len());
    for (parts, target) in targets {
        let resp = verified.make_hops(&fwd, target, Some(parts), time, rng)?;
        out.push(resp.to_bytes());
    }
    Ok(out)
}
