#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! Storage for the Soshiki management server.
//!
//! Two traits, one story across backends (the contract tests in `tests/` run the same story
//! against every backend):
//! - [`Store`]: organizations, members, enrollments, authentication challenges and tokens,
//!   envelopes, deliveries, the audit trail, routing rules. SQLite (embedded default) and
//!   PostgreSQL, chosen from the database URL ([`open_store`]).
//! - [`BlobStore`]: envelope bodies. Local files (embedded default) and S3-compatible object
//!   storage, chosen from the blob URL ([`open_blobs`]).
//!
//! What is stored is what the server may know: organization records, certificates, envelope
//! headers (capsules, sealed metadata, hops) and body ciphertexts. No member secret key and no
//! plaintext is ever given to this crate (THREAT_MODEL.md, T1).
//!
//! Crash safety (the contract): a delivery becomes visible only through a committed
//! transaction ([`Store::commit_envelope`], [`Store::commit_forward`]) that the server calls
//! after the body is durably written ([`BlobStore::put`] returns only then). A crash before the
//! commit leaves at most an orphaned blob, which [`Store::referenced_blob_keys`] lets a collector
//! find and remove.

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

/// Errors from a store or blob store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A uniqueness or state precondition failed (already exists, already opened, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend failed (connection, I/O, SQL). Details are for the log, not for clients.
    #[error("storage backend error: {0}")]
    Backend(String),
    /// The URL names no supported backend.
    #[error("unsupported storage URL: {0}")]
    Url(String),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

/// An organization known to the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgRow {
    /// Organization fingerprint, lower-case hex (the primary key).
    pub id: String,
    /// Suite wire value.
    pub suite: u16,
    /// Display name (from the signed record).
    pub name: String,
    /// The self-signed organization record (`Organization::to_bytes`).
    pub record: Vec<u8>,
    /// Creation time.
    pub created: Timestamp,
    /// Days after which an unopened delivery expires (`None`: never).
    pub expiry_days: Option<u32>,
    /// Days after creation after which bodies are removed (`None`: kept).
    pub retention_days: Option<u32>,
}

/// A member's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    /// Certified and usable.
    Active,
    /// Revoked: receives nothing new, cannot log in.
    Revoked,
}

/// A certified member key (one row per certificate; rotation adds a row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRow {
    /// Certificate fingerprint, lower-case hex (the primary key).
    pub cert_id: String,
    /// Organization fingerprint.
    pub org_id: String,
    /// Member name (from the certificate).
    pub member_name: String,
    /// Role bits (from the certificate).
    pub roles: u8,
    /// The certificate (`Certificate::to_bytes`).
    pub certificate: Vec<u8>,
    /// Status.
    pub status: MemberStatus,
    /// Creation time.
    pub created: Timestamp,
    /// Revocation time.
    pub revoked_at: Option<Timestamp>,
}

/// An enrollment request's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnrollmentStatus {
    /// Waiting for the administrator.
    Pending,
    /// Certified; `cert_id` names the certificate.
    Approved,
    /// Refused.
    Rejected,
}

/// A member's request to be certified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrollmentRow {
    /// Random identifier (hex).
    pub id: String,
    /// Organization fingerprint.
    pub org_id: String,
    /// The signed request as sent by the member's device (opaque to the store).
    pub request: Vec<u8>,
    /// State.
    pub status: EnrollmentStatus,
    /// Creation time.
    pub created: Timestamp,
    /// The certificate issued on approval.
    pub cert_id: Option<String>,
}

/// An envelope stored by the server (one per upload).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeRow {
    /// Envelope id, lower-case hex (the primary key).
    pub id: String,
    /// Suite wire value.
    pub suite: u16,
    /// Sender's certificate fingerprint.
    pub sender_cert: String,
    /// Sender's organization fingerprint.
    pub sender_org: String,
    /// Recipient organization fingerprint.
    pub recipient_org: String,
    /// Key of the bodies blob in the blob store.
    pub blob_key: String,
    /// Length of the bodies blob.
    pub bodies_len: u64,
    /// Upload time.
    pub created: Timestamp,
    /// Whether the body was removed (retention or expiry).
    pub body_removed: bool,
}

/// A delivery's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// In the holder's inbox.
    Delivered,
    /// Forwarded onward (all of its parts).
    Forwarded,
    /// Opened by its reader.
    Opened,
    /// Recalled before it was opened; its capsules were destroyed.
    Recalled,
    /// Expired unopened; its capsules were destroyed.
    Expired,
}

/// One holder's copy of (part of) an envelope: the header with this holder's capsules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRow {
    /// Random identifier (hex).
    pub id: String,
    /// The envelope.
    pub envelope_id: String,
    /// Holder's certificate fingerprint.
    pub holder_cert: String,
    /// Holder's organization fingerprint.
    pub holder_org: String,
    /// The delivery this one was forwarded from (`None` for the sender's delivery).
    pub parent: Option<String>,
    /// Who created it: the sender's or forwarder's certificate fingerprint.
    pub created_by: String,
    /// The envelope header for this holder (`EnvelopeHeader::to_bytes`); emptied on recall
    /// and expiry (the capsules are destroyed).
    pub header: Vec<u8>,
    /// The part indices this delivery holds.
    pub parts: Vec<u32>,
    /// State.
    pub status: DeliveryStatus,
    /// Creation time.
    pub created: Timestamp,
    /// Last state change.
    pub updated: Timestamp,
}

/// An audit entry to append (the store assigns sequence number and chain hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// The organization whose trail this entry joins.
    pub org_id: String,
    /// The encoded, actor-signed entry (opaque to the store).
    pub entry: Vec<u8>,
    /// Time.
    pub created: Timestamp,
}

/// A stored audit entry. `hash = SHA-256(prev_hash ‖ u64 seq ‖ entry)`, with `prev_hash` of
/// the first entry of an organization all zeros ([`audit_hash`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    /// Organization.
    pub org_id: String,
    /// Sequence number in the organization's trail, from 1.
    pub seq: u64,
    /// The entry.
    pub entry: Vec<u8>,
    /// The previous entry's hash.
    pub prev_hash: [u8; 32],
    /// This entry's hash.
    pub hash: [u8; 32],
    /// Time.
    pub created: Timestamp,
}

/// The audit chain hash.
pub fn audit_hash(prev_hash: &[u8; 32], seq: u64, entry: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(prev_hash);
    h.update(seq.to_be_bytes());
    h.update(entry);
    h.finalize().into()
}

/// A routing rule (evaluated by the forwarder's agent, which alone can read labels).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRow {
    /// Random identifier (hex).
    pub id: String,
    /// Organization.
    pub org_id: String,
    /// The forwarder the rule belongs to (certificate fingerprint).
    pub owner_cert: String,
    /// The rule text, e.g. `district=A -> <certificate fingerprint>`.
    pub rule: String,
    /// Evaluation order.
    pub position: i64,
    /// Creation time.
    pub created: Timestamp,
}

/// The metadata store.
///
/// Every method is one transaction. Methods that change several rows change all or none.
#[async_trait]
pub trait Store: Send + Sync {
    // organizations
    /// Register an organization; `Conflict` if its id exists.
    async fn create_org(&self, org: &OrgRow) -> Result<()>;
    /// One organization.
    async fn org(&self, id: &str) -> Result<OrgRow>;
    /// All organizations, by name.
    async fn orgs(&self) -> Result<Vec<OrgRow>>;
    /// Set expiry and retention.
    async fn set_org_policy(&self, id: &str, expiry_days: Option<u32>, retention_days: Option<u32>) -> Result<()>;

    // members and enrollment
    /// Record an enrollment request.
    async fn create_enrollment(&self, e: &EnrollmentRow) -> Result<()>;
    /// One enrollment.
    async fn enrollment(&self, id: &str) -> Result<EnrollmentRow>;
    /// An organization's enrollments with this status.
    async fn enrollments(&self, org_id: &str, status: EnrollmentStatus) -> Result<Vec<EnrollmentRow>>;
    /// Approve: insert the member and mark the enrollment approved, atomically. `Conflict` if
    /// the enrollment is not pending.
    async fn approve_enrollment(&self, enrollment_id: &str, member: &MemberRow, audit: &NewAuditEntry) -> Result<()>;
    /// Reject a pending enrollment.
    async fn reject_enrollment(&self, enrollment_id: &str) -> Result<()>;
    /// Insert a member directly (the organization's first administrator).
    async fn create_member(&self, member: &MemberRow, audit: &NewAuditEntry) -> Result<()>;
    /// One member certificate.
    async fn member(&self, cert_id: &str) -> Result<MemberRow>;
    /// An organization's members (all statuses), by name.
    async fn members(&self, org_id: &str) -> Result<Vec<MemberRow>>;
    /// Revoke a member, atomically with its audit entry.
    async fn revoke_member(&self, cert_id: &str, at: Timestamp, audit: &NewAuditEntry) -> Result<()>;

    // authentication
    /// Store a login challenge.
    async fn put_challenge(&self, nonce: &[u8], cert_id: &str, expires: Timestamp) -> Result<()>;
    /// Consume a challenge: return its certificate id and delete it; `NotFound` if absent or
    /// expired at `now`.
    async fn take_challenge(&self, nonce: &[u8], now: Timestamp) -> Result<String>;
    /// Store a session token's hash.
    async fn put_token(&self, token_hash: &[u8], cert_id: &str, expires: Timestamp) -> Result<()>;
    /// The certificate id of a valid token at `now`.
    async fn token(&self, token_hash: &[u8], now: Timestamp) -> Result<String>;

    // envelopes and deliveries
    /// Make an uploaded envelope visible: insert the envelope, its first delivery (to the
    /// representative) and the audit entries, atomically. Call only after the body is durable.
    async fn commit_envelope(&self, env: &EnvelopeRow, first: &DeliveryRow, audit: &[NewAuditEntry]) -> Result<()>;
    /// One envelope.
    async fn envelope(&self, id: &str) -> Result<EnvelopeRow>;
    /// One delivery.
    async fn delivery(&self, id: &str) -> Result<DeliveryRow>;
    /// A holder's deliveries, newest first.
    async fn inbox(&self, holder_cert: &str) -> Result<Vec<DeliveryRow>>;
    /// All deliveries of an envelope, oldest first (receipts, chains).
    async fn deliveries_of(&self, envelope_id: &str) -> Result<Vec<DeliveryRow>>;
    /// Forward: insert the new deliveries, set the parent's status, append audit entries,
    /// atomically. `Conflict` unless the parent is `Delivered` (or `Forwarded`, when some of its
    /// parts were recalled back to it).
    async fn commit_forward(&self, parent_id: &str, parent_status: DeliveryStatus, new: &[DeliveryRow], audit: &[NewAuditEntry]) -> Result<()>;
    /// Recall: if the delivery is `Delivered` (not opened), set it `Recalled`, empty its header
    /// and set its parent back to `Delivered`, atomically with the audit entry. `Conflict` if it
    /// was opened, forwarded or already recalled.
    async fn recall(&self, delivery_id: &str, at: Timestamp, audit: &NewAuditEntry) -> Result<DeliveryRow>;
    /// Mark opened (idempotent), with its audit entry.
    async fn mark_opened(&self, delivery_id: &str, at: Timestamp, audit: &NewAuditEntry) -> Result<()>;
    /// Expire: unopened deliveries older than their organization's expiry become `Expired`
    /// (header emptied); envelopes past retention get `body_removed`. Returns the blob keys whose
    /// bodies may now be deleted.
    async fn expire(&self, now: Timestamp) -> Result<Vec<String>>;
    /// Every blob key referenced by an envelope whose body is not removed.
    async fn referenced_blob_keys(&self) -> Result<Vec<String>>;

    // audit
    /// Append entries to their organizations' trails (each chained to its trail's last entry).
    async fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<()>;
    /// An organization's trail from sequence number `from` (inclusive), in order.
    async fn audit(&self, org_id: &str, from: u64, limit: u32) -> Result<Vec<AuditRow>>;

    // rules
    /// Replace a forwarder's rules.
    async fn set_rules(&self, owner_cert: &str, rules: &[RuleRow]) -> Result<()>;
    /// A forwarder's rules, in order.
    async fn rules(&self, owner_cert: &str) -> Result<Vec<RuleRow>>;
}

/// A stream of body bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// The blob store for envelope bodies.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Write a blob from a stream of exactly `len` bytes; returns only when the blob is durable
    /// (fsync'd file and directory, or a completed S3 upload). A blob is never visible under
    /// `key` half-written: on error nothing remains under `key`.
    async fn put(&self, key: &str, len: u64, data: ByteStream) -> Result<()>;
    /// Read `len` bytes at `offset`.
    async fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<ByteStream>;
    /// Delete (idempotent).
    async fn delete(&self, key: &str) -> Result<()>;
    /// Every key with its last-modified time (for orphan collection).
    async fn list(&self) -> Result<Vec<(String, Timestamp)>>;
}
