//! The client side of every protocol step: what a member's device does with its keys, and the
//! checks it makes on everything the server returns.
//!
//! The server is a directory and a mailbox, not a trust anchor. These functions therefore
//! - verify every certificate against a **pinned** organization record (the member's own
//!   organization is the one in its key file, checked at enrollment; another organization is
//!   pinned by the caller after comparing fingerprints), never against a record the server
//!   supplies;
//! - verify every header and forwarding request completely (sender signature, certificates,
//!   hops, capsule lineage) before using a key;
//! - do all cryptography locally: encryption before upload, re-encryption shares (model 2: the
//!   forwarder never receives a part's `C1`), decryption after download.
//!
//! Every mutating call signs an [`ActionStatement`] with the member's signing key; the server
//! keeps it as the audit entry.

use std::path::{Path, PathBuf};

use rand_core::OsRng;
use soshiki_core::cert::{
    Certificate, Fingerprint, Organization, OrganizationKey, Roles, VerifiedCertificate,
};
use soshiki_core::envelope::{
    self, EncryptOptions, EnvelopeFile, Metadata, PartInfo, PartSource, Sender, SlotId, PREFIX_LEN,
};
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::keys::{SecretKey, SigningKey};
use soshiki_core::split::{ForwardingRequest, VerifiedRequest};
use soshiki_core::suite::Suite;
use soshiki_core::wire::limits;

use crate::audit::{verify_audit, AuditAnchor, AuditReport};
use crate::error::{ClientError, Result};
use crate::http::{Client, Progress};
use crate::proto::json::{
    DeliveryInfo, EnrollmentInfo, EnvelopeCommitted, ForwardResult, MemberInfo, OrgInfo, Policy,
    Token, TokenRequest,
};
use crate::proto::{
    login_message, verify_enrollment, ActionSpec, ActionStatement, EnrollmentRequest, B64,
};
use crate::trust::{self, CheckpointSeen, RulesSignature};
use soshiki_core::partners::{Partner, PartnerList, VerifiedPartnerList};
use soshiki_core::revocation::{RevocationList, VerifiedRevocationList};

/// The current Unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn untrusted(msg: impl Into<String>) -> ClientError {
    ClientError::Untrusted(msg.into())
}

/// Sign an action as `key`'s member, now.
pub fn sign_action<S: Suite>(key: &MemberKey<S>, spec: &ActionSpec) -> ActionStatement {
    ActionStatement::sign(
        spec,
        key.certificate.fingerprint(),
        unix_now(),
        &key.signing,
        &mut OsRng,
    )
}

/// A copy of a member key (the core's key types are deliberately not `Clone`).
pub fn copy_member_key<S: Suite>(k: &MemberKey<S>) -> Result<MemberKey<S>> {
    Ok(MemberKey {
        encryption: k.encryption.clone(),
        signing: SigningKey::from_secret_bytes(&k.signing.to_secret_bytes()[..])?,
        organization: k.organization.clone(),
        certificate: k.certificate.clone(),
    })
}

fn cert_id<S: Suite>(k: &MemberKey<S>) -> String {
    k.certificate.fingerprint().to_hex()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ClientError::Io(std::io::Error::other(e)))?
}

// ---------------------------------------------------------------------------------------------
// Organizations and administrators

/// Register an organization's self-signed record with the directory.
pub async fn register_organization<S: Suite>(
    client: &Client,
    org: &Organization<S>,
) -> Result<OrgInfo> {
    client.register_org(&org.to_bytes()).await
}

/// Fetch an organization record by fingerprint text (full hex, or at least 32 hex digits) and
/// check that it has that fingerprint. The caller pins it (e.g. [`crate::ClientState::pin`])
/// only if the fingerprint text came from a trusted channel.
pub async fn fetch_organization<S: Suite>(
    client: &Client,
    fingerprint: &str,
) -> Result<Organization<S>> {
    let digits: String = fingerprint
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase();
    let info = if digits.len() == 64 {
        client.org(&digits).await?
    } else {
        client
            .orgs()
            .await?
            .into_iter()
            .find(|o| o.id.starts_with(&digits) && digits.len() >= 32)
            .ok_or_else(|| ClientError::Invalid(format!("no organization {fingerprint}")))?
    };
    let org = Organization::<S>::from_bytes(&info.record.0)?;
    if !org.fingerprint().matches(fingerprint) {
        return Err(untrusted(format!(
            "the server returned organization {} for {fingerprint}",
            org.fingerprint().to_hex()
        )));
    }
    Ok(org)
}

/// Generate a member's keys locally and certify them with the organization key (for the
/// organization's first administrator, whose key cannot go through enrollment).
pub fn certify_new_member<S: Suite>(
    org_key: &OrganizationKey<S>,
    name: &str,
    roles: Roles,
    not_before: u64,
    not_after: u64,
) -> Result<MemberKey<S>> {
    let encryption = SecretKey::<S>::generate(&mut OsRng);
    let signing = SigningKey::<S>::generate(&mut OsRng);
    let req = soshiki_core::cert::CertificateRequest {
        member_name: name.into(),
        roles,
        encryption_key: encryption.public_key().clone(),
        signing_key: signing.verifying_key(),
        not_before,
        not_after,
    };
    let certificate = org_key.certify(&req, &mut OsRng)?;
    Ok(MemberKey {
        encryption,
        signing,
        organization: org_key.organization().clone(),
        certificate,
    })
}

/// Register the organization's first administrator (accepted only while the organization has
/// no member). The key's certificate must carry the admin role.
pub async fn register_first_admin<S: Suite>(
    client: &Client,
    admin: &MemberKey<S>,
) -> Result<MemberInfo> {
    let org_id = admin.organization.fingerprint().to_hex();
    let cert = admin.certificate.to_bytes();
    let spec = ActionSpec::register_admin(&org_id, &cert_id(admin), &cert);
    client
        .register_admin(&org_id, &cert, &sign_action(admin, &spec))
        .await
}

/// Set the organization's policy: expiry, retention, longest certificate validity
/// (administrator).
pub async fn set_policy<S: Suite>(
    client: &Client,
    admin: &MemberKey<S>,
    policy: &Policy,
) -> Result<OrgInfo> {
    let org_id = admin.organization.fingerprint().to_hex();
    let spec = ActionSpec::set_policy(&org_id, policy);
    client
        .set_policy(&org_id, policy, &sign_action(admin, &spec))
        .await
}

// ---------------------------------------------------------------------------------------------
// Enrollment

/// What [`enroll`] returns: keep the id, write the pending key file.
#[derive(Clone)]
pub struct EnrollmentTicket {
    /// The enrollment id (poll it with [`finish_enrollment`]).
    pub id: String,
    /// The organization.
    pub org_id: String,
    /// The request's enrollment code (`proto::enrollment_code`): show it to the member, who
    /// gives it to the administrator; the administrator's client certifies only a request with
    /// this code.
    pub code: String,
    /// The new keys, protected by the passphrase: a member key file whose certificate is a
    /// placeholder issued by a throwaway "pending enrollment" organization, replaced on approval.
    pub pending_key_file: Vec<u8>,
}

impl core::fmt::Debug for EnrollmentTicket {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EnrollmentTicket")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

pub use crate::steps::PENDING_ORG_NAME;

/// Enroll: generate keys on this device, send a request signed by the new signing key (proof
/// of possession) to the pinned organization, and protect the keys with `passphrase`.
#[allow(clippy::too_many_arguments)]
pub async fn enroll<S: Suite>(
    client: &Client,
    org: &Organization<S>,
    member_name: &str,
    roles: Roles,
    not_before: u64,
    not_after: u64,
    passphrase: &[u8],
    kdf: KdfParams,
) -> Result<EnrollmentTicket> {
    let crate::steps::NewEnrollment {
        statement,
        code,
        pending,
    } = crate::steps::new_enrollment(
        org,
        member_name,
        roles,
        not_before,
        not_after,
        unix_now(),
        &mut OsRng,
    )?;
    let org_id = org.fingerprint().to_hex();
    let passphrase = passphrase.to_vec();
    let pending_key_file =
        blocking(move || Ok(pending.to_key_file(&passphrase, kdf, &mut OsRng)?)).await?;
    let id = client
        .create_enrollment(&org_id, &statement.to_bytes())
        .await?;
    Ok(EnrollmentTicket {
        id,
        org_id,
        code,
        pending_key_file,
    })
}

/// The state of an enrollment, seen by the member.
#[derive(Debug)]
#[non_exhaustive]
pub enum EnrollmentOutcome<S: Suite> {
    /// Not decided yet.
    Pending,
    /// Refused by the administrator.
    Rejected,
    /// Approved: the complete member key (save it with `MemberKey::to_key_file`).
    Approved(Box<MemberKey<S>>),
}

/// Poll an enrollment; once approved, check the certificate against the pinned organization
/// and against the pending keys, and return the complete member key.
pub async fn finish_enrollment<S: Suite>(
    client: &Client,
    enrollment_id: &str,
    org: &Organization<S>,
    pending_key_file: &[u8],
    passphrase: &[u8],
) -> Result<EnrollmentOutcome<S>> {
    let info = client.enrollment(enrollment_id).await?;
    match info.status.as_str() {
        "pending" => return Ok(EnrollmentOutcome::Pending),
        "rejected" => return Ok(EnrollmentOutcome::Rejected),
        "approved" => {}
        other => return Err(untrusted(format!("unknown enrollment status {other}"))),
    }
    if info.org_id != org.fingerprint().to_hex() {
        return Err(untrusted("the enrollment belongs to another organization"));
    }
    let cert_bytes = info
        .certificate
        .ok_or_else(|| untrusted("an approved enrollment without a certificate"))?;
    let certificate = Certificate::<S>::from_bytes(&cert_bytes.0)?;
    let (file, pass) = (pending_key_file.to_vec(), passphrase.to_vec());
    let pending = blocking(move || Ok(MemberKey::<S>::from_key_file(&file, &pass)?)).await?;
    // The organization comes from local state another party may write: it must be the one
    // this device's own enroll statement (signed by the pending key) names.
    crate::steps::check_pending_organization(org, &info.request.0, &pending)?;
    let key = crate::steps::complete_enrollment(org, certificate, pending)?;
    Ok(EnrollmentOutcome::Approved(Box::new(key)))
}

/// An enrollment as an administrator reviews it.
#[derive(Debug)]
pub struct EnrollmentReview<S: Suite> {
    /// As listed by the server.
    pub info: EnrollmentInfo,
    /// The request, if its proof of possession verifies; else why not.
    pub request: std::result::Result<EnrollmentRequest<S>, String>,
}

/// List the organization's pending enrollments with their proofs checked (administrator).
pub async fn pending_enrollments<S: Suite>(
    client: &Client,
    admin: &MemberKey<S>,
) -> Result<Vec<EnrollmentReview<S>>> {
    let org_id = admin.organization.fingerprint().to_hex();
    Ok(client
        .enrollments(&org_id, "pending")
        .await?
        .into_iter()
        .map(|info| {
            let request = verify_enrollment::<S>(&info.request.0, &org_id)
                .map(|(_, r)| r)
                .map_err(|e| e.to_string());
            EnrollmentReview { info, request }
        })
        .collect())
}

/// Approve an enrollment: check the member's proof of possession and that the request's
/// enrollment code is `expected_code` (typed by the administrator from the member's device),
/// certify the requested keys with the organization key **locally** (validity capped by the
/// organization's `max_validity_days`), and post the certificate
/// ([`crate::steps::certify_enrollment`]). A request the server swapped is refused and nothing
/// is certified.
pub async fn approve_enrollment<S: Suite>(
    client: &Client,
    admin: &MemberKey<S>,
    org_key: &OrganizationKey<S>,
    enrollment_id: &str,
    expected_code: &str,
) -> Result<MemberInfo> {
    let org_id = org_key.organization().fingerprint().to_hex();
    if admin.organization.fingerprint() != org_key.organization().fingerprint() {
        return Err(ClientError::Invalid(
            "the administrator's key and the organization key belong to different organizations"
                .into(),
        ));
    }
    let info = client.enrollment(enrollment_id).await?;
    if info.org_id != org_id {
        return Err(untrusted("the enrollment belongs to another organization"));
    }
    let policy = client.org(&org_id).await?;
    let (_, cert) = crate::steps::certify_enrollment(
        org_key,
        &info.request.0,
        expected_code,
        crate::steps::ValidityChoice {
            max_validity_days: policy.max_validity_days,
            ..Default::default()
        },
        &mut OsRng,
    )?;
    let cert_bytes = cert.to_bytes();
    let spec = ActionSpec::approve(
        enrollment_id,
        &cert.fingerprint().to_hex(),
        &cert_bytes,
        &info.request.0,
    );
    client
        .approve_enrollment(enrollment_id, &cert_bytes, &sign_action(admin, &spec))
        .await
}

/// Reject an enrollment (administrator).
pub async fn reject_enrollment<S: Suite>(
    client: &Client,
    admin: &MemberKey<S>,
    enrollment_id: &str,
) -> Result<EnrollmentInfo> {
    let info = client.enrollment(enrollment_id).await?;
    let spec = ActionSpec::reject(enrollment_id, &info.request.0);
    client
        .reject_enrollment(enrollment_id, &sign_action(admin, &spec))
        .await
}

/// Publish a new organization-signed revocation list (administrator, with the organization
/// key): the current list (verified to be this organization's) plus `revoke`, with the next
/// serial, fresh for `validity` seconds ([`trust::DEFAULT_REVOCATION_VALIDITY`] by default).
/// An organization publishes its first (empty) list when it registers; republish before the
/// list goes stale, or senders and forwarders refuse to address its members.
pub async fn publish_revocations<S: Suite>(
    client: &Client,
    admin: &MemberKey<S>,
    org_key: &OrganizationKey<S>,
    revoke: &[Fingerprint],
    validity: u64,
) -> Result<RevocationList<S>> {
    let org_id = org_key.organization().fingerprint().to_hex();
    if admin.organization.fingerprint() != org_key.organization().fingerprint() {
        return Err(ClientError::Invalid(
            "the administrator's key and the organization key belong to different organizations"
                .into(),
        ));
    }
    let current = client.revocation_list(&org_id).await?;
    let current_bytes = current.as_ref().map(|c| c.list.0.clone());
    let seen = client.revocation_serial(&org_id);
    if current.is_none() && seen > 0 {
        return Err(trust::TrustError::RevocationListWithheld {
            org: org_key.organization().name.clone(),
            seen,
        }
        .into());
    }
    let list = trust::next_revocation_list(
        org_key,
        current_bytes.as_deref(),
        revoke,
        unix_now(),
        validity,
        &mut OsRng,
    )?;
    if list.serial <= seen {
        return Err(
            trust::TrustError::from(soshiki_core::error::RevocationError::Rollback {
                found: list.serial - 1,
                seen,
            })
            .into(),
        );
    }
    let bytes = list.to_bytes();
    let spec = ActionSpec::publish_revocations(&org_id, list.serial, &bytes);
    client
        .publish_revocation_list(&org_id, &bytes, &sign_action(admin, &spec))
        .await?;
    client.remember_revocation_serial(&org_id, list.serial);
    Ok(list)
}

/// The member's own organization's partner list (SPEC.md §5.8), verified against the member's
/// organization and the highest serial this client has seen (which it then remembers).
/// `Ok(None)`: the organization has published none (and none was seen). An organization it
/// lists counts as pinned ([`org_is_trusted`]).
pub async fn partners<S: Suite>(
    client: &Client,
    me: &MemberKey<S>,
) -> Result<Option<VerifiedPartnerList<S>>> {
    let org = &me.organization;
    let org_id = org.fingerprint().to_hex();
    let key = trust::partner_serial_key(&org_id);
    let info = client.partner_list(&org_id).await?;
    let list = trust::accept_partner_list(
        org,
        info.as_ref().map(|i| i.list.0.as_slice()),
        client.revocation_serial(&key),
        unix_now(),
    )?;
    if let Some(l) = &list {
        client.remember_revocation_serial(&key, l.serial());
    }
    Ok(list)
}

/// Whether an organization may be addressed without asking: pinned by this member, or listed
/// in its own organization's verified partner list.
pub fn org_is_trusted<S: Suite>(
    pinned: bool,
    partners: Option<&VerifiedPartnerList<S>>,
    org: &Fingerprint,
) -> bool {
    pinned || partners.is_some_and(|p| p.contains(org))
}

/// Publish the next partner list (administrator, with the organization key): the current one
/// with `add` added and `remove` removed, serial + 1. The current list must verify (a server
/// that withholds or replays it is caught as for [`partners`]).
pub async fn publish_partners<S: Suite>(
    client: &Client,
    admin: &MemberKey<S>,
    org_key: &OrganizationKey<S>,
    add: &[Partner],
    remove: &[Fingerprint],
) -> Result<PartnerList<S>> {
    let org_id = org_key.organization().fingerprint().to_hex();
    if admin.organization.fingerprint() != org_key.organization().fingerprint() {
        return Err(ClientError::Invalid(
            "the administrator's key and the organization key belong to different organizations"
                .into(),
        ));
    }
    let current = partners(client, admin).await?;
    let current_bytes = current.as_ref().map(|c| c.list().to_bytes());
    let list = trust::next_partner_list(
        org_key,
        current_bytes.as_deref(),
        add,
        remove,
        unix_now(),
        &mut OsRng,
    )?;
    let bytes = list.to_bytes();
    let spec = ActionSpec::publish_partners(&org_id, list.serial, &bytes);
    client
        .publish_partner_list(&org_id, &bytes, &sign_action(admin, &spec))
        .await?;
    client.remember_revocation_serial(&trust::partner_serial_key(&org_id), list.serial);
    Ok(list)
}

/// Revoke a member (administrator, with the organization key): publish a new
/// organization-signed revocation list naming the certificate (what every client checks),
/// then record the revocation on the server (which refuses the member's logins and its use as
/// a target at once).
pub async fn revoke_member<S: Suite>(
    client: &Client,
    admin: &MemberKey<S>,
    org_key: &OrganizationKey<S>,
    cert_id: &str,
) -> Result<MemberInfo> {
    let info = client.member(cert_id).await?;
    let cert = Certificate::<S>::from_bytes(&info.certificate.0)?;
    if cert.fingerprint().to_hex() != cert_id {
        return Err(untrusted("the server returned another certificate"));
    }
    if cert.issuer != org_key.organization().fingerprint() {
        return Err(ClientError::Invalid(
            "the member belongs to another organization than this organization key's".into(),
        ));
    }
    publish_revocations(
        client,
        admin,
        org_key,
        &[cert.fingerprint()],
        trust::DEFAULT_REVOCATION_VALIDITY,
    )
    .await?;
    if info.status == "revoked" {
        return Ok(info);
    }
    let spec = ActionSpec::revoke(cert_id, &info.certificate.0);
    client.revoke(cert_id, &sign_action(admin, &spec)).await
}

/// The organization's newest revocation list, verified against the pinned `org` and the
/// highest serial this client has seen (which it then remembers), and fresh now. A sender or
/// forwarder refuses every certificate it revokes.
pub async fn revocations<S: Suite>(
    client: &Client,
    org: &Organization<S>,
) -> Result<VerifiedRevocationList<S>> {
    let org_id = org.fingerprint().to_hex();
    let info = client.revocation_list(&org_id).await?;
    accept_revocations(client, org, &org_id, info)
}

/// [`revocations`] from a list fetched and accepted up to [`crate::http::REVOCATION_REUSE`]
/// ago (verified again here, against the pinned organization and the highest serial seen):
/// the forward path, where one forwarder makes many forwards in a row. A refused list is never
/// kept, and a kept list that no longer passes (its `next_update` went by) is fetched again.
pub async fn recent_revocations<S: Suite>(
    client: &Client,
    org: &Organization<S>,
) -> Result<VerifiedRevocationList<S>> {
    let org_id = org.fingerprint().to_hex();
    if let Some(info) = client.recent_revocation_list(&org_id) {
        if let Ok(list) = accept_revocations(client, org, &org_id, info) {
            return Ok(list);
        }
    }
    let info = client.revocation_list(&org_id).await?;
    let list = accept_revocations(client, org, &org_id, info.clone())?;
    client.keep_revocation_list(&org_id, info);
    Ok(list)
}

fn accept_revocations<S: Suite>(
    client: &Client,
    org: &Organization<S>,
    org_id: &str,
    info: Option<crate::proto::json::RevocationListInfo>,
) -> Result<VerifiedRevocationList<S>> {
    let list = trust::accept_revocation_list(
        org,
        info.as_ref().map(|i| i.list.0.as_slice()),
        client.revocation_serial(org_id),
        unix_now(),
    )?;
    client.remember_revocation_serial(org_id, list.serial());
    Ok(list)
}

// ---------------------------------------------------------------------------------------------
// Login and directory

/// Log in: sign the server's challenge for this client's origin; the token is set on `client`
/// and returned (save it with [`crate::ClientState::save_token`]).
pub async fn login<S: Suite>(client: &mut Client, key: &MemberKey<S>) -> Result<Token> {
    let id = cert_id(key);
    let ch = client.challenge(&id).await?;
    let msg = login_message(client.origin(), &ch.nonce.0)
        .map_err(|e| untrusted(format!("the server's login challenge is refused: {e}")))?;
    let sig = key.signing.sign(&msg, &mut OsRng);
    let token = client
        .token(&TokenRequest {
            cert_id: id,
            nonce: ch.nonce,
            signature: B64(sig.to_vec()),
        })
        .await?;
    client.set_token(Some(token.token.clone()));
    Ok(token)
}

/// A directory entry with its certificate checked against the pinned organization.
#[derive(Debug)]
pub struct DirectoryEntry<S: Suite> {
    /// As listed by the server.
    pub info: MemberInfo,
    /// The verified certificate, or why it does not verify.
    pub certificate: std::result::Result<VerifiedCertificate<S>, String>,
}

impl<S: Suite> DirectoryEntry<S> {
    /// Active and verified.
    pub fn usable(&self) -> Option<&VerifiedCertificate<S>> {
        (self.info.status == "active")
            .then_some(self.certificate.as_ref().ok())
            .flatten()
    }
}

fn check_listed_certificate<S: Suite>(
    info: &MemberInfo,
    org: &Organization<S>,
    now: u64,
) -> std::result::Result<VerifiedCertificate<S>, String> {
    let cert = Certificate::<S>::from_bytes(&info.certificate.0).map_err(|e| e.to_string())?;
    if cert.fingerprint().to_hex() != info.cert_id {
        return Err("the listed id is not the certificate's fingerprint".into());
    }
    cert.verify(org, now)
        .map_err(|_| "not certified by the pinned organization (or expired)".to_string())
}

/// List an organization's members, each certificate verified against the pinned record.
pub async fn directory<S: Suite>(
    client: &Client,
    org: &Organization<S>,
) -> Result<Vec<DirectoryEntry<S>>> {
    let now = unix_now();
    Ok(client
        .members(&org.fingerprint().to_hex())
        .await?
        .into_iter()
        .map(|info| {
            let certificate = check_listed_certificate(&info, org, now);
            DirectoryEntry { info, certificate }
        })
        .collect())
}

/// One member's certificate, fetched by id, required active and verified against the pinned
/// organization: what a sender or forwarder addresses. Never trust a key the server merely
/// names.
pub async fn certified_member<S: Suite>(
    client: &Client,
    org: &Organization<S>,
    cert_id: &str,
) -> Result<VerifiedCertificate<S>> {
    let list = revocations(client, org).await?;
    check_member(client.member(cert_id).await?, org, cert_id, &list)
}

/// [`certified_member`] from a directory entry up to [`crate::http::MEMBER_REUSE`] old (the
/// certificate is verified again every time, against the revocation list `list`; the server
/// refuses targets revoked since).
async fn recent_certified_member<S: Suite>(
    client: &Client,
    org: &Organization<S>,
    cert_id: &str,
    list: &VerifiedRevocationList<S>,
) -> Result<VerifiedCertificate<S>> {
    check_member(client.member_recent(cert_id).await?, org, cert_id, list)
}

fn check_member<S: Suite>(
    info: MemberInfo,
    org: &Organization<S>,
    cert_id: &str,
    list: &VerifiedRevocationList<S>,
) -> Result<VerifiedCertificate<S>> {
    if info.cert_id != cert_id {
        return Err(untrusted(
            "the server returned another member than the one asked for",
        ));
    }
    if info.status != "active" {
        return Err(ClientError::Invalid(format!(
            "member {} is {}",
            info.name, info.status
        )));
    }
    let cert = check_listed_certificate(&info, org, unix_now())
        .map_err(|e| untrusted(format!("certificate of {}: {e}", info.name)))?;
    trust::check_not_revoked(list, cert.certificate())?;
    Ok(cert)
}

/// The organization's representative: the first active member whose certificate verifies
/// against the pinned organization, whose **certified** roles include the representative role
/// (`soshiki_core::cert::choose_representative`) and whom the organization's current signed
/// revocation list does not revoke. The roles the server lists in JSON are never consulted.
pub async fn representative<S: Suite>(
    client: &Client,
    org: &Organization<S>,
) -> Result<VerifiedCertificate<S>> {
    let list = revocations(client, org).await?;
    let entries = directory(client, org).await?;
    soshiki_core::cert::choose_representative(
        entries
            .iter()
            .filter_map(DirectoryEntry::usable)
            .filter(|c| trust::check_not_revoked(&list, c.certificate()).is_ok()),
    )
    .cloned()
    .ok_or_else(|| {
        ClientError::Invalid(format!(
            "{} has no active representative certified by its organization key",
            org.name
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Send

/// Where a part's plaintext comes from.
#[derive(Debug)]
pub enum PartData {
    /// A file, read while encrypting.
    File(PathBuf),
    /// Bytes in memory.
    Bytes(Vec<u8>),
}

/// A part to send.
#[derive(Debug)]
pub struct OutgoingPart {
    /// Name and routing labels (sealed: only holders can read them).
    pub info: PartInfo,
    /// Plaintext.
    pub data: PartData,
}

/// Send options.
#[derive(Clone, Debug)]
pub struct SendOptions {
    /// Title (sealed).
    pub title: String,
    /// Category (sealed).
    pub category: String,
    /// Chunk size (a power of two from 1 KiB to 16 MiB).
    pub chunk_size: u32,
    /// Where to write the temporary envelope file (default: the system's temporary directory).
    pub temp_dir: Option<PathBuf>,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            title: String::new(),
            category: String::new(),
            chunk_size: limits::DEFAULT_CHUNK,
            temp_dir: None,
        }
    }
}

/// Send: encrypt locally to `recipient` (a certificate the caller verified against the
/// recipient organization it pinned, e.g. from [`representative`]) into a temporary envelope
/// file, upload the header, then stream the bodies. Returns once the server has committed the
/// envelope. `progress` counts uploaded body bytes.
pub async fn send<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    recipient: &VerifiedCertificate<S>,
    options: &SendOptions,
    parts: Vec<OutgoingPart>,
    progress: Option<Progress>,
) -> Result<EnvelopeCommitted> {
    let me = copy_member_key(key)?;
    let to = recipient.clone();
    let opts = options.clone();
    let (temp, header, bodies_len) = blocking(move || {
        let temp = match &opts.temp_dir {
            Some(d) => tempfile::NamedTempFile::new_in(d)?,
            None => tempfile::NamedTempFile::new()?,
        };
        let mut sources = Vec::with_capacity(parts.len());
        for p in parts {
            let (len, reader): (u64, Box<dyn std::io::Read>) = match p.data {
                PartData::File(path) => {
                    let f = std::fs::File::open(&path)?;
                    let len = f.metadata()?.len();
                    (len, Box::new(std::io::BufReader::with_capacity(1 << 20, f)))
                }
                PartData::Bytes(b) => (b.len() as u64, Box::new(std::io::Cursor::new(b))),
            };
            sources.push(PartSource {
                info: p.info,
                len,
                reader,
            });
        }
        let sender = Sender {
            org: &me.organization,
            cert: &me.certificate,
            signing_key: &me.signing,
        };
        let eo = EncryptOptions {
            title: opts.title.clone(),
            category: opts.category.clone(),
            chunk_size: opts.chunk_size,
            created: unix_now(),
        };
        let mut out = std::io::BufWriter::with_capacity(1 << 20, temp.as_file());
        let header = envelope::encrypt(
            &sender,
            &to,
            &eo,
            sources,
            &mut out,
            &mut OsRng,
            &mut |_| {},
        )?;
        std::io::Write::flush(&mut out)?;
        drop(out);
        temp.as_file().sync_all()?;
        let bodies_len = header.bodies_len();
        Ok((temp, header.to_bytes(), bodies_len))
    })
    .await?;
    let envelope_id = hex::encode(&header[8..24]);
    let spec = ActionSpec::send(
        &envelope_id,
        &recipient.certificate().fingerprint().to_hex(),
        &header,
    );
    let upload = client
        .create_upload(header, &sign_action(key, &spec))
        .await?;
    if upload.bodies_len != bodies_len || upload.envelope_id != envelope_id {
        return Err(untrusted(
            "the server announced another envelope or body length than the one uploaded",
        ));
    }
    let committed = client
        .upload_bodies_from_file(
            &upload.upload_id,
            temp.path(),
            PREFIX_LEN,
            bodies_len,
            progress,
        )
        .await?;
    drop(temp);
    Ok(committed)
}

// ---------------------------------------------------------------------------------------------
// Forward (model 2)

/// What a forwarder sees of a delivery before forwarding it: the request, verified once and
/// kept ([`steps::RequestView`]: the routing metadata it opened with its key and the parts it
/// may forward). [`forward_viewed`] forwards from it without fetching or verifying again.
#[derive(Debug, Clone)]
pub struct ForwardView<S: Suite> {
    /// The delivery.
    pub delivery: DeliveryInfo,
    /// The verified request, its metadata and the offered parts.
    pub request: crate::steps::RequestView<S>,
}

impl<S: Suite> ForwardView<S> {
    /// Title, category and per-part labels.
    pub fn metadata(&self) -> &Metadata {
        &self.request.metadata
    }
    /// The parts offered, all held by this forwarder.
    pub fn parts(&self) -> &[u32] {
        &self.request.offered
    }
    /// The sender (check its organization against a pin before trusting the name).
    pub fn sender(&self) -> &VerifiedCertificate<S> {
        self.request.verified.sender()
    }
}

/// Fetch and verify a delivery's forwarding request (no part's `C1`): sender signature,
/// certificates, every hop and each `C2`'s descent from the sender's signed capsule, the
/// receiving organization being the member's own, and every offered part being held by this
/// member. Then open the routing metadata.
pub async fn forward_view<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    delivery_id: &str,
    parts: Option<&[u32]>,
) -> Result<ForwardView<S>> {
    let delivery = client.delivery(delivery_id).await?;
    let request = fetch_request(client, key, delivery_id, parts).await?;
    if delivery.envelope_id != hex::encode(request.verified.request().core.envelope_id) {
        return Err(untrusted("the forwarding request is for another envelope"));
    }
    Ok(ForwardView { delivery, request })
}

/// The one fetch and the one verification of a forward: the forwarding request for `parts`
/// (every forwardable part if `None`), checked by [`steps::view_request`].
async fn fetch_request<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    delivery_id: &str,
    parts: Option<&[u32]>,
) -> Result<crate::steps::RequestView<S>> {
    let bytes = client.forwarding_request(delivery_id, parts).await?;
    let me = copy_member_key(key)?;
    let want: Option<Vec<u32>> = parts.map(<[u32]>::to_vec);
    blocking(move || {
        let request = ForwardingRequest::<S>::from_bytes(&bytes)?;
        Ok(crate::steps::view_request(
            request,
            &me,
            want.as_deref(),
            unix_now(),
        )?)
    })
    .await
}

/// `(target certificate id, parts)` for each target of one forward.
type ForwardPlan = Vec<(String, Vec<u32>)>;

/// A forward plan checked as the server and the signed statement require: at least one
/// target, each with at least one part, parts sorted, no part twice, within the statement's
/// limits. Returns the sorted plan and every part in it.
fn checked_plan(plan: &[(String, Vec<u32>)]) -> Result<(ForwardPlan, Vec<u32>)> {
    if plan.is_empty() || plan.iter().any(|(_, p)| p.is_empty()) {
        return Err(ClientError::Invalid(
            "a forward needs at least one target with at least one part".into(),
        ));
    }
    let mut sorted: Vec<(String, Vec<u32>)> = plan.to_vec();
    for (_, p) in &mut sorted {
        p.sort_unstable();
    }
    crate::proto::check_forward_plan(&sorted).map_err(ClientError::Invalid)?;
    let mut all: Vec<u32> = sorted.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    all.sort_unstable();
    let n = all.len();
    all.dedup();
    if all.len() != n {
        return Err(ClientError::Invalid(
            "a part can go to only one target in one forward".into(),
        ));
    }
    Ok((sorted, all))
}

/// Forward parts of a delivery to members of the forwarder's organization, in one action:
/// `plan` lists `(target certificate id, parts)`; parts of different entries must not overlap.
/// Each target certificate is fetched from the directory and verified against the member's own
/// organization as pinned in its key file. The shares are made locally (model 2) and the
/// server combines them. One fetch and one verification of the forwarding request (for the
/// planned parts only); [`forward_viewed`] when the request was already fetched for a view.
pub async fn forward<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    delivery_id: &str,
    plan: &[(String, Vec<u32>)],
) -> Result<ForwardResult> {
    let (plan, all) = checked_plan(plan)?;
    let bytes = client.forwarding_request(delivery_id, Some(&all)).await?;
    let me = copy_member_key(key)?;
    let (verified, offered) = blocking(move || {
        let request = ForwardingRequest::<S>::from_bytes(&bytes)?;
        Ok(crate::steps::verify_request(
            request,
            &me,
            Some(&all),
            unix_now(),
        )?)
    })
    .await?;
    forward_with(client, key, delivery_id, verified, offered, &plan).await
}

/// [`forward`] from a request already fetched and verified by [`forward_view`] (the agent, a
/// page that showed it): no second fetch or verification. Every planned part must be offered
/// in the view.
pub async fn forward_viewed<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    view: &ForwardView<S>,
    plan: &[(String, Vec<u32>)],
) -> Result<ForwardResult> {
    let (plan, _) = checked_plan(plan)?;
    forward_with(
        client,
        key,
        &view.delivery.id,
        view.request.verified.clone(),
        view.request.offered.clone(),
        &plan,
    )
    .await
}

async fn forward_with<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    delivery_id: &str,
    verified: VerifiedRequest<S>,
    offered: Vec<u32>,
    plan: &[(String, Vec<u32>)],
) -> Result<ForwardResult> {
    // Targets: verified against our own organization's record (from the key file) and its
    // signed revocation list, never against whatever the server says.
    let list = recent_revocations(client, &key.organization).await?;
    let mut targets = Vec::with_capacity(plan.len());
    for (t, parts) in plan {
        let cert = recent_certified_member(client, &key.organization, t, &list).await?;
        targets.push((parts.clone(), cert));
    }
    let me = copy_member_key(key)?;
    let envelope_id = hex::encode(verified.request().core.envelope_id);
    let responses = blocking(move || {
        Ok(crate::steps::make_responses(
            &verified,
            &offered,
            &me,
            &targets,
            unix_now(),
            &mut OsRng,
        )?)
    })
    .await?;
    let spec = ActionSpec::forward(delivery_id, &envelope_id, plan, &responses);
    let result = client
        .forward(delivery_id, responses, &sign_action(key, &spec))
        .await?;
    let got: Vec<(String, Vec<u32>)> = result
        .deliveries
        .iter()
        .map(|d| (d.holder_cert.clone(), d.parts.clone()))
        .collect();
    if got != plan {
        return Err(untrusted(
            "the server reports other deliveries than the ones forwarded",
        ));
    }
    Ok(result)
}

// ---------------------------------------------------------------------------------------------
// Open, recall, receipts

/// A part written by [`open`].
#[derive(Clone, Debug)]
pub struct OpenedPart {
    /// Part index.
    pub index: u32,
    /// Name and labels from the sealed metadata.
    pub info: PartInfo,
    /// Where the plaintext was written.
    pub path: PathBuf,
    /// Plaintext length.
    pub len: u64,
}

/// What [`open`] returns.
#[derive(Debug)]
pub struct OpenedEnvelope<S: Suite> {
    /// Envelope id.
    pub envelope_id: String,
    /// Title, category, labels.
    pub metadata: Metadata,
    /// The sender, verified against the organization record in the signed header; compare
    /// `sender.organization().fingerprint()` with a pin before trusting the name.
    pub sender: VerifiedCertificate<S>,
    /// The parts this member could read, written to the output directory.
    pub parts: Vec<OpenedPart>,
}

pub use crate::names::safe_part_name;

/// Open a delivery: download the envelope stream to a temporary file in `out_dir`, verify the
/// whole chain, check that it is addressed to the member's own organization, decrypt every part
/// this member holds (each into a temporary file, renamed only when every part succeeded) and
/// mark the delivery opened. Existing files are never overwritten.
pub async fn open<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    delivery_id: &str,
    out_dir: &Path,
    progress: Option<Progress>,
) -> Result<OpenedEnvelope<S>> {
    let delivery = client.delivery(delivery_id).await?;
    let download = tempfile::NamedTempFile::new_in(out_dir)?;
    {
        let f = download.reopen()?;
        let mut w = tokio::io::BufWriter::new(tokio::fs::File::from_std(f));
        client
            .download_envelope(delivery_id, &mut w, progress)
            .await?;
    }
    let me = copy_member_key(key)?;
    let dir = out_dir.to_path_buf();
    let opened = blocking(move || decrypt_download(&download, &me, &dir)).await?;
    if opened.envelope_id != delivery.envelope_id {
        return Err(untrusted(
            "the server sent another envelope than the delivery's",
        ));
    }
    let spec = ActionSpec::open(delivery_id, &opened.envelope_id);
    client
        .mark_opened(delivery_id, &sign_action(key, &spec))
        .await?;
    Ok(opened)
}

fn decrypt_download<S: Suite>(
    download: &tempfile::NamedTempFile,
    me: &MemberKey<S>,
    dir: &Path,
) -> Result<OpenedEnvelope<S>> {
    let mut src = std::io::BufReader::with_capacity(1 << 20, download.reopen()?);
    let file = EnvelopeFile::<S>::open(&mut src)?;
    let verified = file
        .header
        .clone()
        .verify_at(unix_now())
        .map_err(|e| untrusted(format!("the envelope does not verify: {e}")))?;
    if file.header.core.recipient_org.fingerprint() != me.organization.fingerprint() {
        return Err(untrusted(
            "the envelope is addressed to another organization than this member's",
        ));
    }
    let held: Vec<u32> = verified
        .slots_held_by(me.encryption.public_key())
        .into_iter()
        .filter_map(SlotId::part_index)
        .filter(|i| file.header.bodies.contains(i))
        .collect();
    if held.is_empty() {
        return Err(ClientError::Invalid(
            "this delivery holds no part this member can read".into(),
        ));
    }
    let metadata = verified.open_metadata(&me.encryption)?;
    let mut temps = Vec::with_capacity(held.len());
    for index in &held {
        let tmp = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file());
            envelope::decrypt_part(
                &verified,
                &file,
                &mut src,
                *index,
                &me.encryption,
                &mut out,
                &mut |_| {},
            )?;
            std::io::Write::flush(&mut out)?;
        }
        tmp.as_file().sync_all()?;
        temps.push((*index, tmp));
    }
    let mut parts = Vec::with_capacity(temps.len());
    for (index, tmp) in temps {
        let info = metadata.parts[index as usize].clone();
        let name = safe_part_name(&info.name, index);
        let mut path = dir.join(&name);
        let mut tmp = Some(tmp);
        for attempt in 0..100u32 {
            if attempt > 0 {
                path = dir.join(format!("{index}-{attempt}-{name}"));
            }
            let Some(t) = tmp.take() else { break };
            match t.persist_noclobber(&path) {
                Ok(_) => break,
                Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => tmp = Some(e.file),
                Err(e) => return Err(e.error.into()),
            }
        }
        if tmp.is_some() {
            return Err(ClientError::Invalid(format!(
                "no free file name for part {index} in {}",
                dir.display()
            )));
        }
        parts.push(OpenedPart {
            index,
            len: file.header.core.parts[index as usize].plaintext_len,
            info,
            path,
        });
    }
    Ok(OpenedEnvelope {
        envelope_id: hex::encode(file.header.core.envelope_id),
        metadata,
        sender: verified.sender().clone(),
        parts,
    })
}

/// Recall some parts of an unopened delivery (its creator, or an administrator of its
/// organization): the delivery keeps its other parts; the recalled ones become forwardable
/// again from the previous holder. `parts` is sorted and deduplicated here.
pub async fn recall_parts<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    delivery_id: &str,
    parts: &[u32],
) -> Result<DeliveryInfo> {
    let mut parts = parts.to_vec();
    parts.sort_unstable();
    parts.dedup();
    let spec = ActionSpec::recall_parts(delivery_id, &parts);
    client
        .recall_parts(delivery_id, &parts, &sign_action(key, &spec))
        .await
}

/// Recall an unopened delivery (its creator, or an administrator of its organization). Its
/// parts become forwardable again from the previous holder.
pub async fn recall<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    delivery_id: &str,
) -> Result<DeliveryInfo> {
    let spec = ActionSpec::recall(delivery_id);
    client.recall(delivery_id, &sign_action(key, &spec)).await
}

// ---------------------------------------------------------------------------------------------
// Audit and rules

/// Fetch the organization's whole audit trail and verify it ([`verify_audit`]); `anchor` is the
/// one kept from the previous verification, `checkpoint` the newest organization-signed
/// checkpoint this client saw before. The trail must extend both that checkpoint and the one
/// the server serves ([`trust::verify_checkpoints`]); the report's `checkpoint` is the newest,
/// to remember. Administrators only.
pub async fn audit<S: Suite>(
    client: &Client,
    org: &Organization<S>,
    anchor: Option<&AuditAnchor>,
    checkpoint: Option<&[u8]>,
    is_pinned: &dyn Fn(&Fingerprint) -> bool,
) -> Result<AuditReport> {
    const PAGE: u32 = 1000;
    let org_id = org.fingerprint().to_hex();
    let served = client.checkpoint(&org_id).await?;
    let mut page = client.audit(&org_id, 1, PAGE).await?;
    loop {
        let got = page.entries.len();
        if got == 0 || got % PAGE as usize != 0 {
            break;
        }
        let next = client
            .audit(&org_id, page.entries.len() as u64 + 1, PAGE)
            .await?;
        if next.entries.is_empty() {
            break;
        }
        page.entries.extend(next.entries);
        page.certificates.extend(next.certificates);
    }
    let mut report = verify_audit(org, &page, 1, anchor, is_pinned)?;
    let seen = trust::verify_checkpoints(
        org,
        &page,
        1,
        served.as_ref().map(|c| c.checkpoint.0.as_slice()),
        checkpoint,
    )?;
    report.checkpoint = seen.map(|c| c.checkpoint);
    Ok(report)
}

/// Sign a checkpoint of the organization's trail with the organization key (administrator):
/// verify the whole trail first (against `anchor` and the checkpoint `remembered`), then anchor
/// its last entry and store the checkpoint on the server. Returns the new checkpoint.
pub async fn checkpoint<S: Suite>(
    client: &Client,
    admin: &MemberKey<S>,
    org_key: &OrganizationKey<S>,
    anchor: Option<&AuditAnchor>,
    remembered: Option<&[u8]>,
    is_pinned: &dyn Fn(&Fingerprint) -> bool,
) -> Result<(AuditReport, CheckpointSeen)> {
    let org = org_key.organization();
    if admin.organization.fingerprint() != org.fingerprint() {
        return Err(ClientError::Invalid(
            "the administrator's key and the organization key belong to different organizations"
                .into(),
        ));
    }
    let report = audit(client, org, anchor, remembered, is_pinned).await?;
    let last = report.anchor.clone().ok_or_else(|| {
        ClientError::Invalid("the audit trail is empty: nothing to anchor".into())
    })?;
    let head: [u8; 32] = hex::decode(&last.hash)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| untrusted("malformed audit hash"))?;
    let time = unix_now();
    let cp = org_key.sign_checkpoint(last.seq, head, time, &mut OsRng)?;
    let bytes = cp.to_bytes();
    let org_id = org.fingerprint().to_hex();
    let spec = ActionSpec::checkpoint(&org_id, last.seq, &bytes);
    client
        .publish_checkpoint(&org_id, &bytes, &sign_action(admin, &spec))
        .await?;
    Ok((
        report,
        CheckpointSeen {
            checkpoint: bytes,
            position: last.seq,
            time,
        },
    ))
}

/// The member's own rules with their signature checked ([`trust::verify_rules`]): only rules
/// stored with the `set-rules` statement the member's own key signed over exactly them are
/// [`RulesSignature::Signed`]. An agent applies nothing else.
pub async fn signed_rules<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
) -> Result<(Vec<String>, RulesSignature)> {
    let r = client.rules_with_statement().await?;
    let sig = trust::verify_rules(
        &key.certificate,
        &r.rules,
        r.statement.as_ref().map(|s| s.0.as_slice()),
    );
    Ok((r.rules, sig))
}

/// Replace the forwarder's routing rules (see [`crate::rules`] for the syntax).
pub async fn set_rules<S: Suite>(
    client: &Client,
    key: &MemberKey<S>,
    rules: &[String],
) -> Result<Vec<String>> {
    for r in rules {
        crate::rules::Rule::parse(r).map_err(ClientError::Invalid)?;
    }
    let spec = ActionSpec::set_rules(&cert_id(key), rules);
    client.set_rules(rules, &sign_action(key, &spec)).await
}
