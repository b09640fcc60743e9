//! The API as plain Rust (no JavaScript types), so that it can be tested natively. The
//! wasm-bindgen layer ([`crate::js`]) only converts arguments and results.
//!
//! Every step is a call into `soshiki-core`, `soshiki-proto` or `soshiki-client` (`steps`,
//! `rules`, `audit`). The checks the CLI and the browser must both make (enrollment, the forwarder's
//! checks of a request) are `soshiki_client::steps`, shared with `soshiki_client::flows`. The
//! remaining places marked `Mirrors flows::NAME` make the same short sequence of core calls as
//! that HTTP flow (sign a message, encrypt, make hops, verify a header, certify), each a few
//! lines with no check of their own.

use rand_core::OsRng;
use serde::Serialize;
use soshiki_client::audit::{verify_audit as client_verify_audit, AuditAnchor};
use soshiki_client::csv_split::{self, CsvError, CsvHeader, CsvSplit};
use soshiki_client::rules::{plan, Rule};
use soshiki_client::steps;
use soshiki_core::cert::{
    Certificate, Fingerprint, Organization, OrganizationKey, Roles, VerifiedCertificate,
};
use soshiki_core::envelope::{
    self, describe_hop, EncryptOptions, EnvelopeHeader, Label, Metadata, PartInfo, PartSource,
    Sender, SlotId, VerifiedEnvelope, PREFIX_LEN,
};
use soshiki_core::keyfile::{peek_key_file, KdfParams, MemberKey};
use soshiki_core::split::ForwardingRequest;
use soshiki_core::suite::{Ristretto255, Suite, SuiteId, P256};
use soshiki_core::wire::limits;
use soshiki_core::with_suite;
use soshiki_proto::{
    self as proto, json::AuditPage, verify_enrollment, ActionSpec, ActionStatement,
    EnrollmentRequest,
};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::local_state;
use crate::open::{HeldPart, Opener};

pub use soshiki_client::steps::PENDING_ORG_NAME;

/// A storage quota from JavaScript (a number of bytes; `null` or 0: no quota): a whole number
/// from 0 to [`proto::MAX_QUOTA_BYTES`], else `invalid`.
pub fn quota_from_js(bytes: Option<f64>) -> Result<Option<u64>> {
    match bytes {
        None => Ok(None),
        Some(b) if b.is_finite() && b >= 0.0 && b.fract() == 0.0 => {
            if b > proto::MAX_QUOTA_BYTES as f64 {
                Err(Error::invalid(format!(
                    "a quota is at most {} bytes",
                    proto::MAX_QUOTA_BYTES
                )))
            } else {
                // Exact: a whole number below 2^53.
                Ok(Some(b as u64).filter(|&b| b > 0))
            }
        }
        Some(_) => Err(Error::invalid("a quota is a whole number of bytes")),
    }
}

/// The suite of a self-signed organization record.
pub fn record_suite(record: &[u8]) -> Result<SuiteId> {
    Ok(soshiki_core::cert::ORGANIZATION_FRAME.peek_suite(record)?)
}

fn roles_of(r: Roles) -> Vec<String> {
    r.names().into_iter().map(String::from).collect()
}

fn labels_map(labels: &[Label]) -> serde_json::Map<String, serde_json::Value> {
    labels
        .iter()
        .map(|l| (l.key.clone(), serde_json::Value::String(l.value.clone())))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Free functions

/// `keyFileInfo`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct KeyFileInfo {
    /// `p256` or `ristretto255`.
    pub suite: String,
    /// `member` or `organization`.
    pub kind: String,
}

/// The suite and kind of a key file.
pub fn key_file_info(bytes: &[u8]) -> Result<KeyFileInfo> {
    let (suite, kind) = peek_key_file(bytes)?;
    Ok(KeyFileInfo {
        suite: suite.name().into(),
        kind: kind.into(),
    })
}

/// `organizationInfo`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationInfo {
    /// Fingerprint, hex.
    pub id: String,
    /// Name from the record.
    pub name: String,
    /// Suite name.
    pub suite: String,
    /// Creation time.
    pub created: u64,
    /// The fingerprint's short display form (to compare over the phone).
    pub fingerprint_short: String,
}

fn org_info<S: Suite>(o: &Organization<S>) -> OrganizationInfo {
    OrganizationInfo {
        id: o.fingerprint().to_hex(),
        name: o.name.clone(),
        suite: S::ID.name().into(),
        created: o.created,
        fingerprint_short: o.fingerprint().display_short(),
    }
}

/// Decode and self-verify an organization record.
pub fn organization_info(record: &[u8]) -> Result<OrganizationInfo> {
    with_suite!(record_suite(record)?, S => Ok(org_info(&Organization::<S>::from_bytes(record)?)))
}

/// `verifyMember`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfo {
    /// Certificate id (its fingerprint, hex).
    pub cert_id: String,
    /// Issuing organization id.
    pub org_id: String,
    /// Member name.
    pub name: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Validity start.
    pub not_before: u64,
    /// Validity end.
    pub not_after: u64,
    /// Same as `cert_id`.
    pub fingerprint: String,
    /// Short display form of the fingerprint.
    pub fingerprint_short: String,
}

fn member_info<S: Suite>(c: &Certificate<S>) -> MemberInfo {
    let fp = c.fingerprint();
    MemberInfo {
        cert_id: fp.to_hex(),
        org_id: c.issuer.to_hex(),
        name: c.member_name.clone(),
        roles: roles_of(c.roles),
        not_before: c.not_before,
        not_after: c.not_after,
        fingerprint: fp.to_hex(),
        fingerprint_short: fp.display_short(),
    }
}

fn verified_cert<S: Suite>(
    org: &Organization<S>,
    certificate: &[u8],
    now: u64,
) -> Result<VerifiedCertificate<S>> {
    let cert = Certificate::<S>::from_bytes(certificate)?;
    cert.verify(org, now).map_err(|_| {
        Error::untrusted(format!(
            "the certificate of {} is not issued by {} or not valid now",
            cert.member_name, org.name
        ))
    })
}

/// Verify a member certificate against a (pinned) organization record at `now`.
pub fn verify_member(org_record: &[u8], certificate: &[u8], now: u64) -> Result<MemberInfo> {
    with_suite!(record_suite(org_record)?, S => {
        let org = Organization::<S>::from_bytes(org_record)?;
        Ok(member_info(verified_cert(&org, certificate, now)?.certificate()))
    })
}

/// What `verifyRevocations` returns.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RevocationInfo {
    /// Serial number (remember it: the highest seen per organization).
    pub serial: u64,
    /// Issue time.
    pub issued: u64,
    /// When the list goes stale.
    pub next_update: u64,
    /// Revoked certificate ids.
    pub revoked: Vec<String>,
}

/// Verify an organization's revocation list (`None`: the server has none) against the pinned
/// record, the highest serial seen and `now` (`soshiki_client::trust::accept_revocation_list`);
/// with `certificate`, also refuse it if the list revokes it. Mirrors `flows::revocations` and
/// the check of `flows::certified_member`.
pub fn verify_revocations(
    org_record: &[u8],
    list: Option<&[u8]>,
    seen_serial: u64,
    now: u64,
    certificate: Option<&[u8]>,
) -> Result<RevocationInfo> {
    with_suite!(record_suite(org_record)?, S => {
        let org = Organization::<S>::from_bytes(org_record)?;
        let v = soshiki_client::trust::accept_revocation_list(&org, list, seen_serial, now)?;
        if let Some(c) = certificate {
            let cert = Certificate::<S>::from_bytes(c)?;
            soshiki_client::trust::check_not_revoked(&v, &cert)?;
        }
        let l = v.list();
        Ok(RevocationInfo {
            serial: l.serial,
            issued: l.issued,
            next_update: l.next_update,
            revoked: l.revoked.iter().map(|r| r.certificate.to_hex()).collect(),
        })
    })
}

/// What `verifyPartners` returns.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PartnersInfo {
    /// Serial number (remember it: the highest seen).
    pub serial: u64,
    /// Partner organization fingerprints.
    pub ids: Vec<String>,
    /// Their names as the administrator confirmed them (same order).
    pub names: Vec<String>,
}

/// Verify the member's own organization's partner list (`None`: the server has none) against
/// its record and the highest serial seen (`soshiki_client::trust::accept_partner_list`).
/// `Ok(None)`: none published and none seen. Mirrors `flows::partners`.
pub fn verify_partners(
    org_record: &[u8],
    list: Option<&[u8]>,
    seen_serial: u64,
    now: u64,
) -> Result<Option<PartnersInfo>> {
    with_suite!(record_suite(org_record)?, S => {
        let org = Organization::<S>::from_bytes(org_record)?;
        let v = soshiki_client::trust::accept_partner_list(&org, list, seen_serial, now)?;
        Ok(v.map(|v| {
            let ps = &v.list().partners;
            PartnersInfo {
                serial: v.serial(),
                ids: ps.iter().map(|p| p.organization.to_hex()).collect(),
                names: ps.iter().map(|p| p.name.clone()).collect(),
            }
        }))
    })
}

/// What `Session.verifyRules` returns.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RulesCheck {
    /// `signed`, `unsigned` or `empty`.
    pub state: String,
    /// The statement's time, when signed.
    pub time: Option<u64>,
    /// Why not signed.
    pub reason: Option<String>,
}

/// What `createEnrollment` returns.
pub struct Enrollment {
    /// The signed `enroll` statement (the `request` of `POST /v1/orgs/{org}/enrollments`).
    pub statement: Vec<u8>,
    /// The request's enrollment code (`proto::enrollment_code`), to show to the member: the
    /// administrator must type it to approve.
    pub code: String,
    /// The new keys under the passphrase, with a placeholder certificate.
    pub pending_key_file: Vec<u8>,
}

impl core::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Enrollment").finish_non_exhaustive()
    }
}

/// Generate a member's keys and the signed enrollment request (`steps::new_enrollment`, as
/// `flows::enroll` does before its HTTP call).
#[allow(clippy::too_many_arguments)]
pub fn create_enrollment(
    org_record: &[u8],
    member_name: &str,
    roles: &str,
    not_before: u64,
    not_after: u64,
    passphrase: &[u8],
    kdf: KdfParams,
    now: u64,
) -> Result<Enrollment> {
    let roles = Roles::parse(roles).ok_or_else(|| {
        Error::invalid("unknown role (expected admin, representative, forwarder, reader)")
    })?;
    with_suite!(record_suite(org_record)?, S => {
        let org = Organization::<S>::from_bytes(org_record)?;
        create_enrollment_for(&org, member_name, roles, not_before, not_after, passphrase, kdf, now)
    })
}

#[allow(clippy::too_many_arguments)]
fn create_enrollment_for<S: Suite>(
    org: &Organization<S>,
    member_name: &str,
    roles: Roles,
    not_before: u64,
    not_after: u64,
    passphrase: &[u8],
    kdf: KdfParams,
    now: u64,
) -> Result<Enrollment> {
    let steps::NewEnrollment {
        statement,
        code,
        pending,
    } = steps::new_enrollment(
        org,
        member_name,
        roles,
        not_before,
        not_after,
        now,
        &mut OsRng,
    )?;
    Ok(Enrollment {
        statement: statement.to_bytes(),
        code,
        pending_key_file: pending.to_key_file(passphrase, kdf, &mut OsRng)?,
    })
}

/// Check an issued certificate against the pinned organization and the pending keys; return
/// the complete member key file under the same passphrase.
///
/// The browser keeps `org_record` beside the pending key file in IndexedDB, where whoever can
/// write the profile could swap it; so first `statement` (this device's `enroll` statement,
/// signed by the pending key) must name exactly that organization
/// (`steps::check_pending_organization`). Then the checks are `steps::complete_enrollment`, as
/// in `flows::finish_enrollment`.
pub fn finish_enrollment(
    org_record: &[u8],
    certificate: &[u8],
    pending_key_file: &[u8],
    passphrase: &[u8],
    kdf: KdfParams,
    statement: &[u8],
) -> Result<Vec<u8>> {
    with_suite!(record_suite(org_record)?, S => {
        let org = Organization::<S>::from_bytes(org_record)?;
        let certificate = Certificate::<S>::from_bytes(certificate)?;
        let pending = MemberKey::<S>::from_key_file(pending_key_file, passphrase)?;
        steps::check_pending_organization(&org, statement, &pending)?;
        let key = steps::complete_enrollment(&org, certificate, pending)?;
        Ok(key.to_key_file(passphrase, kdf, &mut OsRng)?)
    })
}

/// A part as `testRules` sees it.
#[derive(Clone, Debug)]
pub struct RulePart {
    /// Part index.
    pub index: u32,
    /// Name and labels.
    pub info: PartInfo,
}

/// One part's routing.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RuleMatch {
    /// Part index.
    pub part: u32,
    /// Target certificate id, or `None`: the part stays with the forwarder.
    pub target: Option<String>,
    /// Index of the first matching rule.
    pub rule: Option<usize>,
}

/// Which column to split by: `splitCsv`'s third argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CsvColumn {
    /// The column's number, 1-based (what a column picker holds).
    Number(u32),
    /// A header name, else a number in text (as `soshiki send --split-by`).
    Name(String),
}

/// `csvColumns`: the encoding and column names of a CSV file (for the column picker).
pub fn csv_columns(bytes: &[u8]) -> core::result::Result<CsvHeader, CsvError> {
    csv_split::inspect(bytes)
}

/// `splitCsv`: the parts of a CSV file, one per value of `column`, by the splitter the CLI
/// uses (`soshiki_client::csv_split`).
pub fn split_csv(
    bytes: &[u8],
    file_name: &str,
    column: &CsvColumn,
) -> core::result::Result<CsvSplit, CsvError> {
    match column {
        CsvColumn::Number(n) => csv_split::split_by_number(file_name, bytes, *n as usize),
        CsvColumn::Name(s) => csv_split::split_by_name(file_name, bytes, s),
    }
}

/// Route parts by rules with `soshiki_client::rules`.
pub fn test_rules(rules: &[String], parts: &[RulePart], category: &str) -> Result<Vec<RuleMatch>> {
    let parsed: Vec<Rule> = rules
        .iter()
        .map(|r| Rule::parse(r).map_err(Error::invalid))
        .collect::<Result<_>>()?;
    let max = parts
        .iter()
        .map(|p| p.index)
        .max()
        .map_or(0, |m| m as usize + 1);
    if max > limits::MAX_PARTS as usize {
        return Err(Error::invalid("part index out of range"));
    }
    let mut meta = Metadata {
        title: String::new(),
        category: category.into(),
        parts: vec![PartInfo::default(); max],
    };
    for p in parts {
        meta.parts[p.index as usize] = p.info.clone();
    }
    let indices: Vec<u32> = parts.iter().map(|p| p.index).collect();
    let (routes, _) = plan(&meta, &indices, &parsed);
    Ok(indices
        .iter()
        .map(|i| RuleMatch {
            part: *i,
            target: routes
                .iter()
                .find(|(_, ps)| ps.contains(i))
                .map(|(t, _)| t.clone()),
            rule: parsed.iter().position(|r| r.matches(&meta, *i)),
        })
        .collect())
}

/// `verifyAudit`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditResult {
    /// Whether every entry verified.
    pub ok: bool,
    /// Organization id.
    pub org_id: String,
    /// The verified entries (empty when `ok` is false).
    pub entries: Vec<AuditEntry>,
    /// The first bad entry (at most one: verification stops there).
    pub failures: Vec<AuditProblem>,
    /// The anchor to keep for the next verification.
    pub anchor: Option<AuditAnchor>,
    /// The newest organization-signed checkpoint the trail was checked against, base64
    /// (remember it).
    pub checkpoint: Option<String>,
    /// Its position.
    pub checkpoint_position: Option<u64>,
}

/// One verified audit entry.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Sequence number.
    pub seq: u64,
    /// Action name.
    pub action: String,
    /// The actor's name from its certificate.
    pub actor: String,
    /// The actor's certificate id.
    pub actor_cert: String,
    /// The actor's organization id.
    pub actor_org: String,
    /// Whether the actor's organization is pinned.
    pub actor_org_pinned: bool,
    /// The actor's clock.
    pub time: u64,
    /// Server time.
    pub created: i64,
    /// Subjects joined by ", ".
    pub subject: String,
    /// Subjects.
    pub subjects: Vec<String>,
}

/// A failed audit entry.
#[derive(Clone, Debug, Serialize)]
pub struct AuditProblem {
    /// Sequence number (0: the page itself).
    pub seq: u64,
    /// Why.
    pub reason: String,
}

/// Verify an audit page with `soshiki_client::audit::verify_audit`. `pinned` lists the
/// organization ids (hex) the user has pinned besides `org_record`'s.
pub fn verify_audit(
    org_record: &[u8],
    page_json: &str,
    pinned: &[String],
    anchor: Option<&AuditAnchor>,
) -> Result<AuditResult> {
    verify_audit_checkpoints(org_record, page_json, pinned, anchor, None, None)
}

/// [`verify_audit`], then `soshiki_client::trust::verify_checkpoints` with the checkpoint the
/// server serves (`GET /v1/orgs/{org}/checkpoint`) and the newest one this browser remembered;
/// the result's `checkpoint` is the newest, to remember. Mirrors `flows::audit`.
pub fn verify_audit_checkpoints(
    org_record: &[u8],
    page_json: &str,
    pinned: &[String],
    anchor: Option<&AuditAnchor>,
    served: Option<&[u8]>,
    remembered: Option<&[u8]>,
) -> Result<AuditResult> {
    let page: AuditPage = serde_json::from_str(page_json)
        .map_err(|e| Error::malformed(format!("audit page: {e}")))?;
    let pinned: Vec<String> = pinned.iter().map(|p| p.to_ascii_lowercase()).collect();
    let is_pinned = |fp: &Fingerprint| pinned.contains(&fp.to_hex());
    let from = page.entries.first().map_or(1, |e| e.seq);
    with_suite!(record_suite(org_record)?, S => {
        let org = Organization::<S>::from_bytes(org_record)?;
        let checked = client_verify_audit(&org, &page, from, anchor, &is_pinned).and_then(|r| {
            soshiki_client::trust::verify_checkpoints(&org, &page, from, served, remembered)
                .map(|c| (r, c))
        });
        Ok(match checked {
            Ok((report, checkpoint)) => AuditResult {
                checkpoint: checkpoint.as_ref().map(|c| proto::B64::encode(&c.checkpoint)),
                checkpoint_position: checkpoint.map(|c| c.position),
                ok: true,
                org_id: report.org_id,
                entries: report
                    .entries
                    .into_iter()
                    .map(|e| AuditEntry {
                        seq: e.seq,
                        action: e.statement.action.name().into(),
                        actor: e.actor_name,
                        actor_cert: e.statement.actor.to_hex(),
                        actor_org: e.actor_org,
                        actor_org_pinned: e.actor_org_pinned,
                        time: e.statement.time,
                        created: e.created,
                        subject: e.statement.subjects.join(", "),
                        subjects: e.statement.subjects,
                    })
                    .collect(),
                failures: vec![],
                anchor: report.anchor,
            },
            Err(f) => AuditResult {
                ok: false,
                org_id: page.org_id.clone(),
                entries: vec![],
                failures: vec![AuditProblem { seq: f.seq, reason: f.reason }],
                anchor: None,
                checkpoint: None,
                checkpoint_position: None,
            },
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Session: an unlocked member key

/// A member key of either suite. The core key types zeroize on drop.
pub enum Member {
    /// P-256.
    P256(Box<MemberKey<P256>>),
    /// Ristretto255.
    Ristretto255(Box<MemberKey<Ristretto255>>),
}

impl core::fmt::Debug for Member {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Member").finish_non_exhaustive()
    }
}

macro_rules! member {
    ($m:expr, $k:ident => $body:expr) => {
        match $m {
            Member::P256(b) => {
                let $k = &**b;
                $body
            }
            Member::Ristretto255(b) => {
                let $k = &**b;
                $body
            }
        }
    };
}

/// A reference to a member certificate: its id, or its bytes.
#[derive(Clone, Debug)]
pub enum CertRef {
    /// Certificate id (hex).
    Id(String),
    /// The certificate.
    Bytes(Vec<u8>),
}

/// A target of `forward`.
#[derive(Clone, Debug)]
pub struct ForwardTarget {
    /// The target's certificate.
    pub certificate: Vec<u8>,
    /// Parts to give it.
    pub parts: Vec<u32>,
}

/// A part to encrypt.
pub struct OutgoingPart {
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: Vec<(String, String)>,
    /// Plaintext (wiped on drop).
    pub data: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for OutgoingPart {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OutgoingPart")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What `encrypt` takes.
#[derive(Debug)]
pub struct EncryptRequest {
    /// The recipient organization's record (pinned by the caller).
    pub recipient_org: Vec<u8>,
    /// The recipient's (representative's) certificate.
    pub recipient_cert: Vec<u8>,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Chunk size (default 64 KiB).
    pub chunk_size: Option<u32>,
    /// Parts.
    pub parts: Vec<OutgoingPart>,
}

/// What `encrypt` returns.
#[derive(Clone)]
pub struct Encrypted {
    /// Envelope id, hex.
    pub envelope_id: String,
    /// The header (`POST /v1/envelopes`).
    pub header: Vec<u8>,
    /// The whole envelope file.
    pub envelope: Vec<u8>,
    /// Where the bodies start in `envelope`.
    pub bodies_offset: u64,
    /// Their length (`PUT /v1/uploads/{id}`).
    pub bodies_length: u64,
}

impl core::fmt::Debug for Encrypted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encrypted")
            .field("envelope_id", &self.envelope_id)
            .finish_non_exhaustive()
    }
}

/// A hop as the UI shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HopInfo {
    /// Forwarder's name.
    pub forwarder: String,
    /// Target's name.
    pub target: String,
    /// Forwarder's certificate id.
    pub forwarder_cert: String,
    /// Target's certificate id.
    pub target_cert: String,
    /// Time.
    pub time: u64,
}

fn hops_of<S: Suite>(h: &EnvelopeHeader<S>) -> Vec<HopInfo> {
    h.slot(SlotId::METADATA).map_or_else(Vec::new, |s| {
        s.hops
            .iter()
            .map(|hop| {
                let (forwarder, target) = describe_hop(h, hop);
                HopInfo {
                    forwarder,
                    target,
                    forwarder_cert: hop.forwarder_cert.to_hex(),
                    target_cert: hop.target_cert.to_hex(),
                    time: hop.time,
                }
            })
            .collect()
    })
}

/// A part in `forwardView` and `Opener.info`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PartView {
    /// Index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: serde_json::Map<String, serde_json::Value>,
    /// Plaintext length (opener only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Offset of the body in the envelope file (opener only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Body ciphertext length (opener only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_length: Option<u64>,
}

/// `forwardView` and `Opener.info`.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvelopeView {
    /// Envelope id.
    pub envelope_id: String,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Creation time (sender's clock).
    pub created: u64,
    /// Sender organization id.
    pub sender_org: String,
    /// Sender organization name (from the signed header).
    pub sender_org_name: String,
    /// Sender's name.
    pub sender_name: String,
    /// Sender's certificate id.
    pub sender_cert: String,
    /// Parts offered (forward) or readable (open).
    pub parts: Vec<PartView>,
    /// The chain of hops to this member.
    pub hops: Vec<HopInfo>,
}

fn view_of<S: Suite>(
    h: &EnvelopeHeader<S>,
    sender: &VerifiedCertificate<S>,
    meta: &Metadata,
    parts: Vec<PartView>,
) -> EnvelopeView {
    EnvelopeView {
        envelope_id: hex::encode(h.core.envelope_id),
        title: meta.title.clone(),
        category: meta.category.clone(),
        created: h.core.created,
        sender_org: sender.organization().fingerprint().to_hex(),
        sender_org_name: sender.organization().name.clone(),
        sender_name: sender.certificate().member_name.clone(),
        sender_cert: sender.certificate().fingerprint().to_hex(),
        parts,
        hops: hops_of(h),
    }
}

fn part_view(meta: &Metadata, index: u32) -> PartView {
    let info = meta.parts.get(index as usize).cloned().unwrap_or_default();
    PartView {
        index,
        name: info.name,
        labels: labels_map(&info.labels),
        length: None,
        offset: None,
        cipher_length: None,
    }
}

/// An unlocked member key.
#[derive(Debug)]
pub struct Session {
    key: Member,
}

impl Session {
    /// Unlock a member key file (Argon2id).
    pub fn unlock(key_file: &[u8], passphrase: &[u8]) -> Result<Session> {
        let (suite, _) = peek_key_file(key_file)?;
        let key = match suite {
            SuiteId::P256 => {
                Member::P256(Box::new(MemberKey::from_key_file(key_file, passphrase)?))
            }
            SuiteId::Ristretto255 => {
                Member::Ristretto255(Box::new(MemberKey::from_key_file(key_file, passphrase)?))
            }
        };
        Ok(Session { key })
    }

    /// The member key.
    pub fn member(&self) -> &Member {
        &self.key
    }

    /// Certificate id.
    pub fn cert_id(&self) -> String {
        member!(&self.key, k => k.certificate.fingerprint().to_hex())
    }
    /// Organization id.
    pub fn org_id(&self) -> String {
        member!(&self.key, k => k.organization.fingerprint().to_hex())
    }
    /// Organization name.
    pub fn org_name(&self) -> String {
        member!(&self.key, k => k.organization.name.clone())
    }
    /// Member name.
    pub fn member_name(&self) -> String {
        member!(&self.key, k => k.certificate.member_name.clone())
    }
    /// Role names.
    pub fn roles(&self) -> Vec<String> {
        member!(&self.key, k => roles_of(k.certificate.roles))
    }
    /// Suite name.
    pub fn suite(&self) -> String {
        member!(&self.key, k => suite_name(k))
    }
    /// Certificate validity start.
    pub fn not_before(&self) -> u64 {
        member!(&self.key, k => k.certificate.not_before)
    }
    /// Certificate validity end.
    pub fn not_after(&self) -> u64 {
        member!(&self.key, k => k.certificate.not_after)
    }
    /// Whether this is a pending enrollment's key file (placeholder certificate).
    pub fn pending(&self) -> bool {
        self.org_name() == PENDING_ORG_NAME
    }
    /// The organization record.
    pub fn organization_record(&self) -> Vec<u8> {
        member!(&self.key, k => k.organization.to_bytes())
    }
    /// The certificate.
    pub fn certificate(&self) -> Vec<u8> {
        member!(&self.key, k => k.certificate.to_bytes())
    }

    /// Protect the key with a passphrase.
    pub fn export_key_file(&self, passphrase: &[u8], kdf: KdfParams) -> Result<Vec<u8>> {
        if passphrase.is_empty() {
            return Err(Error::invalid("the passphrase is empty"));
        }
        member!(&self.key, k => Ok(k.to_key_file(passphrase, kdf, &mut OsRng)?))
    }

    /// Seal browser state that must survive in the profile without being changeable by
    /// whoever can write the profile (the pinned organizations, the trust anchors): `text`
    /// as state `kind` with `serial` (greater than every earlier one of this kind), signed by
    /// this member's key (`crate::local_state`). Verified with [`Session::open_local_state`].
    pub fn seal_local_state(&self, kind: &str, serial: u64, text: &str) -> Result<Vec<u8>> {
        local_state::check_kind(kind)?;
        if serial == 0 {
            return Err(Error::invalid("a state serial starts at 1"));
        }
        if text.len() > local_state::MAX_TEXT {
            return Err(Error::invalid(format!(
                "the state is too large (at most {} bytes)",
                local_state::MAX_TEXT
            )));
        }
        let cert_id = self.cert_id();
        let msg = local_state::signed_message(&cert_id, kind, serial, text);
        let signature = member!(&self.key, k => k.signing.sign(&msg, &mut OsRng).to_vec());
        Ok(local_state::Sealed {
            cert_id,
            kind: kind.into(),
            serial,
            text: text.into(),
            signature,
        }
        .to_bytes())
    }

    /// Open a sealed state: `untrusted` unless it is this member's signed state of `kind`
    /// (any change of text, serial, kind, member or signature is refused).
    pub fn open_local_state(&self, kind: &str, sealed: &[u8]) -> Result<local_state::LocalState> {
        let s = local_state::Sealed::from_bytes(sealed)?;
        let cert_id = self.cert_id();
        let msg = local_state::signed_message(&cert_id, kind, s.serial, &s.text);
        let ok = s.cert_id == cert_id
            && s.kind == kind
            && member!(&self.key, k => k.certificate.signing_key.verify(&msg, &s.signature));
        if !ok {
            return Err(Error::untrusted(format!(
                "the saved {kind} state is not this member's signed state"
            )));
        }
        Ok(local_state::LocalState {
            serial: s.serial,
            text: s.text,
        })
    }

    /// Choose between the browser profile's and the server's sealed copies of state `kind`
    /// (`local_state::reconcile`): the verified copy with the higher serial wins; the result
    /// says which copy is missing, older or invalid (to be replaced, and to tell the member).
    pub fn reconcile_local_state(
        &self,
        kind: &str,
        local: Option<&[u8]>,
        server: Option<&[u8]>,
    ) -> Result<local_state::Reconciled> {
        local_state::check_kind(kind)?;
        let open = |b: &[u8]| self.open_local_state(kind, b);
        Ok(local_state::reconcile(
            local.map(|b| (b, open(b))),
            server.map(|b| (b, open(b))),
        ))
    }

    /// The signature for `POST /v1/auth/token` over `proto::login_message` (length-prefixed
    /// origin, 32-byte nonce; any other nonce length is refused). Mirrors `flows::login`.
    pub fn sign_login(&self, origin: &str, nonce: &[u8]) -> Result<Vec<u8>> {
        let msg = proto::login_message(origin, nonce).map_err(|e| {
            Error::untrusted(format!("the server's login challenge is refused: {e}"))
        })?;
        Ok(member!(&self.key, k => k.signing.sign(&msg, &mut OsRng).to_vec()))
    }

    /// Sign an action statement (the `soshiki-action` header value).
    /// Mirrors `flows::sign_action`, with the time given.
    pub fn sign_action(&self, spec: &ActionSpec, now: u64) -> String {
        member!(&self.key, k => ActionStatement::sign(
            spec,
            k.certificate.fingerprint(),
            now,
            &k.signing,
            &mut OsRng,
        )
        .to_header_value())
    }

    /// A certificate id from a reference (bytes are decoded in this session's suite).
    pub fn resolve_cert(&self, c: &CertRef) -> Result<String> {
        match c {
            CertRef::Id(s) => proto::parse_fingerprint(s)
                .filter(|_| s.len() == 64)
                .map(|f| f.to_hex())
                .ok_or_else(|| Error::invalid("a certificate id must be 64 hex digits")),
            CertRef::Bytes(b) => member!(&self.key, k => cert_id_in(k, b)),
        }
    }

    /// Whether rules returned by `GET /v1/rules` are the ones this member signed
    /// (`soshiki_client::trust::verify_rules`). Mirrors `flows::signed_rules`.
    pub fn verify_rules(&self, rules: &[String], statement: Option<&[u8]>) -> RulesCheck {
        use soshiki_client::trust::RulesSignature;
        let sig = member!(&self.key, k => soshiki_client::trust::verify_rules(&k.certificate, rules, statement));
        match sig {
            RulesSignature::Empty => RulesCheck {
                state: "empty".into(),
                time: None,
                reason: None,
            },
            RulesSignature::Signed { time } => RulesCheck {
                state: "signed".into(),
                time: Some(time),
                reason: None,
            },
            RulesSignature::Unsigned(r) => RulesCheck {
                state: "unsigned".into(),
                time: None,
                reason: Some(r),
            },
        }
    }

    /// `actionSetRules`: checks each rule like `flows::set_rules`.
    pub fn set_rules_spec(&self, rules: &[String]) -> Result<ActionSpec> {
        for r in rules {
            Rule::parse(r).map_err(Error::invalid)?;
        }
        Ok(ActionSpec::set_rules(&self.cert_id(), rules))
    }

    /// `actionApprove`: the spec for an issued certificate and the member's enroll statement.
    pub fn approve_spec(
        &self,
        enrollment_id: &str,
        certificate: &[u8],
        statement: &[u8],
    ) -> Result<ActionSpec> {
        let id = self.resolve_cert(&CertRef::Bytes(certificate.to_vec()))?;
        Ok(ActionSpec::approve(
            enrollment_id,
            &id,
            certificate,
            statement,
        ))
    }

    /// Encrypt in memory. Mirrors the encrypting half of `flows::send`.
    pub fn encrypt(&self, req: &EncryptRequest, now: u64) -> Result<Encrypted> {
        member!(&self.key, k => encrypt_as(k, req, now))
    }

    /// Verify a forwarding request and open its labels.
    /// The checks are `steps::view_request`, as in `flows::forward_view`.
    pub fn forward_view(&self, request: &[u8], now: u64) -> Result<EnvelopeView> {
        member!(&self.key, k => forward_view_as(k, request, now))
    }

    /// Make one forward response per target. Mirrors the key-using half of `flows::forward`.
    pub fn forward(
        &self,
        request: &[u8],
        targets: &[ForwardTarget],
        now: u64,
    ) -> Result<Vec<Vec<u8>>> {
        member!(&self.key, k => forward_as(k, request, targets, now))
    }

    /// Verify a delivery's metadata copy (`GET …/metadata`: the header with the metadata slot
    /// and no part capsule) and open its title, category, part names and labels. Works for
    /// every holder, also after every part was forwarded onward.
    pub fn read_metadata(&self, header: &[u8], now: u64) -> Result<EnvelopeView> {
        member!(&self.key, k => read_metadata_as(k, header, now))
    }

    /// Verify a delivery's header and prepare to decrypt the parts this member holds.
    /// Mirrors `flows::decrypt_download` up to the decryption itself.
    pub fn begin_open(&self, header: &[u8], now: u64) -> Result<Opener> {
        member!(&self.key, k => begin_open_as(k, header, now))
    }
}

fn suite_name<S: Suite>(_: &MemberKey<S>) -> String {
    S::ID.name().into()
}

fn cert_id_in<S: Suite>(_k: &MemberKey<S>, bytes: &[u8]) -> Result<String> {
    Ok(Certificate::<S>::from_bytes(bytes)?.fingerprint().to_hex())
}

fn encrypt_as<S: Suite>(k: &MemberKey<S>, req: &EncryptRequest, now: u64) -> Result<Encrypted> {
    let org = Organization::<S>::from_bytes(&req.recipient_org)?;
    let to = verified_cert(&org, &req.recipient_cert, now)?;
    let chunk_size = req.chunk_size.unwrap_or(limits::DEFAULT_CHUNK);
    let mut sources = Vec::with_capacity(req.parts.len());
    let mut total = PREFIX_LEN;
    for p in &req.parts {
        let labels = p
            .labels
            .iter()
            .map(|(key, value)| Label {
                key: key.clone(),
                value: value.clone(),
            })
            .collect();
        total = total.saturating_add(soshiki_core::stream::ciphertext_len(
            p.data.len() as u64,
            chunk_size.max(limits::MIN_CHUNK),
        ));
        sources.push(PartSource {
            info: PartInfo {
                name: p.name.clone(),
                labels,
            },
            len: p.data.len() as u64,
            reader: Box::new(&p.data[..]),
        });
    }
    let sender = Sender {
        org: &k.organization,
        cert: &k.certificate,
        signing_key: &k.signing,
    };
    let opts = EncryptOptions {
        title: req.title.clone(),
        category: req.category.clone(),
        chunk_size,
        created: now,
    };
    let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0).saturating_add(4096));
    let header = envelope::encrypt(
        &sender,
        &to,
        &opts,
        sources,
        &mut out,
        &mut OsRng,
        &mut |_| {},
    )?;
    Ok(Encrypted {
        envelope_id: hex::encode(header.core.envelope_id),
        header: header.to_bytes(),
        envelope: out,
        bodies_offset: PREFIX_LEN,
        bodies_length: header.bodies_len(),
    })
}

fn forward_view_as<S: Suite>(k: &MemberKey<S>, request: &[u8], now: u64) -> Result<EnvelopeView> {
    let request = ForwardingRequest::<S>::from_bytes(request)?;
    let view = steps::view_request(request, k, None, now)?;
    let parts = view
        .offered
        .iter()
        .map(|i| part_view(&view.metadata, *i))
        .collect();
    Ok(view_of(
        &view.verified.request().as_header_for_verification(),
        view.verified.sender(),
        &view.metadata,
        parts,
    ))
}

fn forward_as<S: Suite>(
    k: &MemberKey<S>,
    request: &[u8],
    targets: &[ForwardTarget],
    now: u64,
) -> Result<Vec<Vec<u8>>> {
    if targets.is_empty() || targets.iter().any(|t| t.parts.is_empty()) {
        return Err(Error::invalid(
            "a forward needs at least one target with at least one part",
        ));
    }
    // The same fan-out limit as the server and the CLI (the signed statement's subjects);
    // every certificate id is 64 hex digits.
    let plan: Vec<(String, Vec<u32>)> = targets
        .iter()
        .map(|t| {
            let mut p = t.parts.clone();
            p.sort_unstable();
            ("0".repeat(64), p)
        })
        .collect();
    soshiki_proto::check_forward_plan(&plan).map_err(Error::invalid)?;
    // Targets: verified against our own organization's record (from the key file), never
    // against whatever the server says (flows::certified_member).
    let mut verified_targets = Vec::with_capacity(targets.len());
    for t in targets {
        let mut parts = t.parts.clone();
        parts.sort_unstable();
        verified_targets.push((parts, verified_cert(&k.organization, &t.certificate, now)?));
    }
    let mut all: Vec<u32> = verified_targets
        .iter()
        .flat_map(|(p, _)| p.iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    // The request verified once, then the shares made from it (steps::make_responses checks
    // that no part goes to two targets and that every part is offered).
    let (verified, offered) = steps::verify_request(
        ForwardingRequest::<S>::from_bytes(request)?,
        k,
        Some(&all),
        now,
    )?;
    Ok(steps::make_responses(
        &verified,
        &offered,
        k,
        &verified_targets,
        now,
        &mut OsRng,
    )?)
}

/// A delivery's header, verified at `now` and addressed to this member's organization.
fn addressed_to_member<S: Suite>(
    k: &MemberKey<S>,
    header: EnvelopeHeader<S>,
    now: u64,
) -> Result<VerifiedEnvelope<S>> {
    let verified = header
        .verify_at(now)
        .map_err(|e| Error::untrusted(format!("the envelope does not verify: {e}")))?;
    if verified.header().core.recipient_org.fingerprint() != k.organization.fingerprint() {
        return Err(Error::untrusted(
            "the envelope is addressed to another organization than this member's",
        ));
    }
    Ok(verified)
}

fn read_metadata_as<S: Suite>(k: &MemberKey<S>, header: &[u8], now: u64) -> Result<EnvelopeView> {
    let header = EnvelopeHeader::<S>::from_bytes(header)?;
    let verified = addressed_to_member(k, header, now)?;
    let metadata = verified.open_metadata(&k.encryption)?;
    let parts = (0..verified.header().core.parts.len() as u32)
        .map(|i| part_view(&metadata, i))
        .collect();
    Ok(view_of(
        verified.header(),
        verified.sender(),
        &metadata,
        parts,
    ))
}

fn begin_open_as<S: Suite>(k: &MemberKey<S>, header: &[u8], now: u64) -> Result<Opener> {
    let verified = addressed_to_member(k, EnvelopeHeader::<S>::from_bytes(header)?, now)?;
    let header = verified.header();
    // The held part slots whose bodies are in this copy, with their part indexes.
    let held: Vec<(SlotId, u32)> = verified
        .slots_held_by(k.encryption.public_key())
        .into_iter()
        .filter_map(|s| Some((s, s.part_index()?)))
        .filter(|(_, i)| header.bodies.contains(i))
        .collect();
    if held.is_empty() {
        return Err(Error::invalid(
            "this delivery holds no part this member can read",
        ));
    }
    let metadata = verified.open_metadata(&k.encryption)?;
    let mut parts = Vec::with_capacity(held.len());
    let mut views = Vec::with_capacity(held.len());
    for (slot, index) in held {
        let keys = verified.open_slot(slot, &k.encryption)?;
        let desc = &header.core.parts[index as usize];
        let offset = header
            .body_offset(index)
            .ok_or_else(|| Error::invalid("the body is not in this copy"))?;
        let mut v = part_view(&metadata, index);
        v.length = Some(desc.plaintext_len);
        v.offset = Some(PREFIX_LEN + offset);
        v.cipher_length = Some(header.body_len(index));
        views.push(v);
        parts.push(HeldPart {
            index,
            plaintext_len: desc.plaintext_len,
            body_digest: desc.body_digest,
            key: keys.key,
        });
    }
    let info = view_of(header, verified.sender(), &metadata, views);
    Ok(Opener::new(info, header.core.chunk_size, parts))
}

// ---------------------------------------------------------------------------------------------
// OrgKey: an unlocked organization key (administrators approving enrollments)

/// An organization key of either suite.
pub enum OrgKey {
    /// P-256.
    P256(Box<OrganizationKey<P256>>),
    /// Ristretto255.
    Ristretto255(Box<OrganizationKey<Ristretto255>>),
}

impl core::fmt::Debug for OrgKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OrgKey").finish_non_exhaustive()
    }
}

macro_rules! org_key {
    ($m:expr, $k:ident => $body:expr) => {
        match $m {
            OrgKey::P256(b) => {
                let $k = &**b;
                $body
            }
            OrgKey::Ristretto255(b) => {
                let $k = &**b;
                $body
            }
        }
    };
}

/// `OrgKey.reviewEnrollment`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentReview {
    /// Requested name ("" if unreadable).
    pub name: String,
    /// Requested roles.
    pub roles: Vec<String>,
    /// Requested validity start.
    pub not_before: u64,
    /// Requested validity end.
    pub not_after: u64,
    /// Requested validity in whole days.
    pub validity_days: u64,
    /// Whether the request is for this organization and its proof of possession verifies.
    pub ok: bool,
    /// Why not.
    pub problem: Option<String>,
}

fn review_as<S: Suite>(o: &OrganizationKey<S>, statement: &[u8]) -> EnrollmentReview {
    let org_id = o.organization().fingerprint().to_hex();
    let review = |r: &EnrollmentRequest<S>, problem: Option<String>| EnrollmentReview {
        name: r.member_name.clone(),
        roles: roles_of(r.roles),
        not_before: r.not_before,
        not_after: r.not_after,
        validity_days: r.validity_days(),
        ok: problem.is_none(),
        problem,
    };
    match verify_enrollment::<S>(statement, &org_id) {
        Ok((_, r)) => review(&r, None),
        Err(e) => {
            let decoded = ActionStatement::from_bytes(statement)
                .ok()
                .and_then(|st| EnrollmentRequest::<S>::from_bytes(&st.detail).ok());
            match decoded {
                Some(r) => review(&r, Some(e.to_string())),
                None => EnrollmentReview {
                    name: String::new(),
                    roles: vec![],
                    not_before: 0,
                    not_after: 0,
                    validity_days: 0,
                    ok: false,
                    problem: Some(e.to_string()),
                },
            }
        }
    }
}

fn certify_as<S: Suite>(
    o: &OrganizationKey<S>,
    statement: &[u8],
    code: &str,
    validity: steps::ValidityChoice,
) -> Result<Vec<u8>> {
    let (_, cert) = steps::certify_enrollment(o, statement, code, validity, &mut OsRng)?;
    Ok(cert.to_bytes())
}

fn code_matches_as<S: Suite>(o: &OrganizationKey<S>, statement: &[u8], typed: &str) -> bool {
    let org_id = o.organization().fingerprint().to_hex();
    verify_enrollment::<S>(statement, &org_id)
        .is_ok_and(|(st, _)| proto::enrollment_code_matches(&st.detail, typed))
}

impl OrgKey {
    /// Unlock an organization key file.
    pub fn unlock(key_file: &[u8], passphrase: &[u8]) -> Result<OrgKey> {
        let (suite, _) = peek_key_file(key_file)?;
        Ok(match suite {
            SuiteId::P256 => OrgKey::P256(Box::new(OrganizationKey::from_key_file(
                key_file, passphrase,
            )?)),
            SuiteId::Ristretto255 => OrgKey::Ristretto255(Box::new(
                OrganizationKey::from_key_file(key_file, passphrase)?,
            )),
        })
    }
    /// Organization id.
    pub fn org_id(&self) -> String {
        org_key!(self, o => o.organization().fingerprint().to_hex())
    }
    /// Organization name.
    pub fn org_name(&self) -> String {
        org_key!(self, o => o.organization().name.clone())
    }
    /// Suite name.
    pub fn suite(&self) -> String {
        org_key!(self, o => org_info(o.organization()).suite)
    }
    /// The organization record.
    pub fn organization_record(&self) -> Vec<u8> {
        org_key!(self, o => o.organization().to_bytes())
    }
    /// The next revocation list: `current` (the list the server serves, checked to be this
    /// organization's; `None` for the first) plus `revoke` (certificate ids), the next serial,
    /// fresh for `validity` seconds. Mirrors `flows::publish_revocations`. Returns
    /// `(serial, encoded list)`.
    pub fn revocation_list(
        &self,
        current: Option<&[u8]>,
        revoke: &[String],
        now: u64,
        validity: u64,
    ) -> Result<(u64, Vec<u8>)> {
        let fps = revoke
            .iter()
            .map(|c| {
                proto::parse_fingerprint(c)
                    .filter(|_| c.len() == 64)
                    .ok_or_else(|| Error::invalid("a certificate id must be 64 hex digits"))
            })
            .collect::<Result<Vec<Fingerprint>>>()?;
        org_key!(self, o => {
            let l = soshiki_client::trust::next_revocation_list(o, current, &fps, now, validity, &mut OsRng)?;
            Ok((l.serial, l.to_bytes()))
        })
    }
    /// The next partner list: `current` (checked to be this organization's; `None` for the
    /// first) with `add` (fingerprint, confirmed name) added and `remove` (fingerprints)
    /// removed, the next serial. Mirrors `flows::publish_partners`. Returns
    /// `(serial, encoded list)`.
    pub fn partner_list(
        &self,
        current: Option<&[u8]>,
        add: Option<(&str, &str)>,
        remove: &[String],
        now: u64,
    ) -> Result<(u64, Vec<u8>)> {
        let fp = |c: &str| {
            proto::parse_fingerprint(c)
                .filter(|_| c.len() == 64)
                .ok_or_else(|| Error::invalid("an organization fingerprint must be 64 hex digits"))
        };
        let add = add
            .map(|(id, name)| {
                Ok::<_, Error>(soshiki_core::partners::Partner {
                    organization: fp(id)?,
                    name: name.into(),
                })
            })
            .transpose()?;
        let remove = remove.iter().map(|c| fp(c)).collect::<Result<Vec<_>>>()?;
        org_key!(self, o => {
            let l = soshiki_client::trust::next_partner_list(o, current, add.as_slice(), &remove, now, &mut OsRng)?;
            Ok((l.serial, l.to_bytes()))
        })
    }
    /// Sign a checkpoint of the organization's trail: entry `position` has chain hash
    /// `head_hex`. Mirrors `flows::checkpoint` (the caller verifies the trail first).
    pub fn sign_checkpoint(&self, position: u64, head_hex: &str, now: u64) -> Result<Vec<u8>> {
        let head: [u8; 32] = hex::decode(head_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::invalid("the head hash must be 64 hex digits"))?;
        org_key!(self, o => Ok(o.sign_checkpoint(position, head, now, &mut OsRng)?.to_bytes()))
    }
    /// Check an `enroll` statement (`verify_enrollment`). Mirrors `flows::pending_enrollments`.
    pub fn review_enrollment(&self, statement: &[u8]) -> EnrollmentReview {
        org_key!(self, o => review_as(o, statement))
    }
    /// Whether `typed` is the enrollment code of a valid `enroll` statement for this
    /// organization (to enable the approve button; [`OrgKey::certify`] checks it again).
    pub fn enrollment_code_matches(&self, statement: &[u8], typed: &str) -> bool {
        org_key!(self, o => code_matches_as(o, statement, typed))
    }

    /// Certify the keys of a verified enrollment whose enrollment code is `code` (typed by the
    /// administrator from the member's device); validity as requested unless shortened, capped
    /// by the organization's `max_validity_days`. The checks are `steps::certify_enrollment`,
    /// as in `flows::approve_enrollment`: no path certifies a request without its code.
    pub fn certify(
        &self,
        statement: &[u8],
        code: &str,
        validity: steps::ValidityChoice,
    ) -> Result<Vec<u8>> {
        org_key!(self, o => certify_as(o, statement, code, validity))
    }
}
