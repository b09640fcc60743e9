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
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), soshiki_store::StoreError> {
//! use futures::StreamExt;
//! use soshiki_store::{audit_hash, open_blobs, open_store, NewAuditEntry, OrgRow};
//!
//! let dir = tempfile::tempdir().expect("temporary directory");
//! let store = open_store(&format!("sqlite://{}/soshiki.sqlite", dir.path().display())).await?;
//! let blobs = open_blobs(&dir.path().join("bodies").display().to_string()).await?;
//!
//! // The body first, durably; then the rows that make it visible.
//! let body = bytes::Bytes::from_static(b"ciphertext");
//! let stream = futures::stream::iter([Ok::<_, std::io::Error>(body.clone())]).boxed();
//! blobs.put("0f1e2d", body.len() as u64, stream).await?;
//!
//! let org = OrgRow {
//!     id: "00aa".into(), suite: 1, name: "Omachi City".into(), record: b"signed".to_vec(),
//!     created: 1_700_000_000, expiry_days: Some(30), retention_days: None,
//!     max_validity_days: None, quota_bytes: None, sender_role_required: false,
//! };
//! store.create_org(&org).await?;
//! let entry = |text: &str| NewAuditEntry {
//!     org_id: "00aa".into(), entry: text.as_bytes().to_vec(), created: 1_700_000_000,
//! };
//! store.append_audit(&[entry("first"), entry("second")]).await?;
//!
//! // The trail is hash-chained from 32 zero bytes.
//! let trail = store.audit("00aa", 1, 100).await?;
//! assert_eq!(trail[0].hash, audit_hash(&[0; 32], 1, b"first"));
//! assert_eq!(trail[1].prev_hash, trail[0].hash);
//!
//! let mut range = blobs.get_range("0f1e2d", 6, 4).await?;
//! assert_eq!(range.next().await.transpose().expect("read").as_deref(), Some(&b"text"[..]));
//! # Ok(())
//! # }
//! ```
//!
//! Contract tests: `cargo test -p soshiki-store` runs them on SQLite and local files; with
//! `eval "$(scripts/services.sh start)"` first, on PostgreSQL and an S3-compatible server too
//! (`SOSHIKI_REQUIRE_SERVICES=1` makes a missing service a failure instead of a skip).

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

pub mod backup;
mod local;
pub mod migrate;
mod postgres;
mod rows;
mod s3;
mod sql;
mod sql_store;
mod sqlite;

pub use local::LocalBlobs;
pub use postgres::PgStore;
pub use s3::S3Blobs;
pub use sqlite::SqliteStore;

/// Open the metadata store named by `url`, creating or migrating its schema:
/// - `sqlite:///absolute/path/db.sqlite`, `sqlite://relative/path.sqlite?mode=rwc`:
///   [`SqliteStore`] (the file is created unless `mode=rw` or `mode=ro`; in-memory databases
///   are refused);
/// - `postgres://user:password@host:port/database` (or `postgresql://`): [`PgStore`].
pub async fn open_store(url: &str) -> Result<Box<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Box::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(PgStore::open(url).await?))
    } else {
        Err(StoreError::Url(format!(
            "{}: expected sqlite:… or postgres://…",
            url.split('?').next().unwrap_or_default()
        )))
    }
}

/// Open the blob store named by `url`:
/// - `file:///absolute/dir` or a plain path: [`LocalBlobs`] (the directory is created);
/// - `s3://bucket[/prefix]?endpoint=http://127.0.0.1:9000&access_key=…&secret_key=…&region=…`:
///   [`S3Blobs`] (missing settings come from the `AWS_*` environment variables).
pub async fn open_blobs(url: &str) -> Result<Box<dyn BlobStore>> {
    if url.starts_with("s3://") {
        Ok(Box::new(S3Blobs::open(url)?))
    } else if url.starts_with("file:") {
        let path = url::Url::parse(url)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .ok_or_else(|| StoreError::Url(format!("{url}: expected file:///absolute/dir")))?;
        Ok(Box::new(LocalBlobs::open(path).await?))
    } else if url.contains("://") || url.is_empty() {
        Err(StoreError::Url(format!(
            "{}: expected a directory, file:///dir or s3://bucket",
            url.split('?').next().unwrap_or_default()
        )))
    } else {
        Ok(Box::new(LocalBlobs::open(url).await?))
    }
}

/// Longest blob key.
pub const MAX_BLOB_KEY_LEN: usize = 128;

/// Check a blob key: 1 to [`MAX_BLOB_KEY_LEN`] characters from `[a-z0-9-]`, not starting with
/// `-` (so a key is never a path, a hidden or temporary file name, or an option).
pub(crate) fn validate_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= MAX_BLOB_KEY_LEN
        && !key.starts_with('-')
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::NotFound(format!("invalid blob key {key:?}")))
    }
}

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
    /// A new upload would take its organization over its storage quota (nothing was stored).
    #[error(
        "the organization's storage quota of {quota} bytes would be exceeded: {used} bytes are \
         used and {requested} more were requested"
    )]
    QuotaExceeded {
        /// Bytes the organization uses now ([`Store::org_usage`]).
        used: u64,
        /// Its quota.
        quota: u64,
        /// Bytes the refused upload needs ([`UploadRow::bytes`]).
        requested: u64,
    },
    /// The sender already has as many unfinished uploads as allowed (nothing was stored).
    #[error("{pending} uploads of this sender are unfinished; at most {limit} may be at once")]
    TooManyPendingUploads {
        /// The sender's live upload records.
        pending: u64,
        /// The most allowed at once.
        limit: u32,
    },
}

/// Result alias.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The largest page a list method returns (`limit` is clamped to `1..=MAX_PAGE`).
pub const MAX_PAGE: u32 = 1000;

/// Which page of a list: at most `limit` rows after the row whose id is `after` (keyset
/// pagination in SQL, in the list's own order). An `after` naming no row of that list is
/// `NotFound`, never an empty page, so a listing is never silently cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest<'a> {
    /// The id of the last row of the previous page (`None`: the first page).
    pub after: Option<&'a str>,
    /// Most rows to return (clamped to `1..=MAX_PAGE`).
    pub limit: u32,
}

impl<'a> PageRequest<'a> {
    /// The first page of at most `limit` rows.
    pub fn first(limit: u32) -> Self {
        PageRequest { after: None, limit }
    }

    /// The page after the row `after`.
    pub fn after(after: &'a str, limit: u32) -> Self {
        PageRequest {
            after: Some(after),
            limit,
        }
    }

    /// The effective limit.
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, MAX_PAGE)
    }
}

/// One page of a list: the rows, and the id to continue after when more rows follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows, in the list's order.
    pub items: Vec<T>,
    /// The id of the last row when another page follows, `None` on the last page.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Cut rows fetched with `limit + 1` to a page; `id` names a row.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, id: impl Fn(&T) -> &str) -> Self {
        let limit = limit as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| id(r).to_owned())
        } else {
            None
        };
        Page { items: rows, next }
    }
}

/// Process-wide counters, kept where the events happen; the server's `/metrics` reports them
/// (`soshiki_backend_errors_total{backend="database"|"blobs"}`,
/// `soshiki_audit_entries_total`).
pub mod counters {
    use std::sync::atomic::{AtomicU64, Ordering};

    use crate::StoreError;

    static DATABASE: AtomicU64 = AtomicU64::new(0);
    static BLOBS: AtomicU64 = AtomicU64::new(0);
    static AUDIT: AtomicU64 = AtomicU64::new(0);

    /// Database failures (connection, SQL, corrupt values) since the process started.
    pub fn database_errors() -> u64 {
        DATABASE.load(Ordering::Relaxed)
    }

    /// Blob-store failures (I/O, S3) since the process started.
    pub fn blob_errors() -> u64 {
        BLOBS.load(Ordering::Relaxed)
    }

    /// Audit-trail entries written since the process started (counted when written in their
    /// transaction; one whose transaction then fails to commit is also a database error).
    pub fn audit_entries() -> u64 {
        AUDIT.load(Ordering::Relaxed)
    }

    /// A database failure, counted.
    pub(crate) fn database_error(detail: String) -> StoreError {
        DATABASE.fetch_add(1, Ordering::Relaxed);
        StoreError::Backend(detail)
    }

    /// A blob-store failure, counted.
    pub(crate) fn blob_error(detail: String) -> StoreError {
        BLOBS.fetch_add(1, Ordering::Relaxed);
        StoreError::Backend(detail)
    }

    /// `n` audit entries written.
    pub(crate) fn audit_written(n: usize) {
        AUDIT.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Seconds since the Unix epoch.
pub type Timestamp = i64;

/// An organization's policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrgPolicy {
    /// Days after which an unopened delivery expires (`None`: never).
    pub expiry_days: Option<u32>,
    /// Days after creation after which bodies are removed (`None`: kept).
    pub retention_days: Option<u32>,
    /// The longest validity of a member certificate, in days (`None`: no limit).
    pub max_validity_days: Option<u32>,
    /// The storage quota in bytes (`None`: unlimited; never `Some(0)`): what
    /// [`Store::org_usage`] counts may not exceed it through a new upload.
    pub quota_bytes: Option<u64>,
    /// Whether only members with the sender role may send to other organizations.
    pub sender_role_required: bool,
}

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
    /// The longest validity of a member certificate, in days (`None`: no limit).
    pub max_validity_days: Option<u32>,
    /// The storage quota in bytes (`None`: unlimited; never `Some(0)`): what
    /// [`Store::org_usage`] counts may not exceed it through a new upload.
    pub quota_bytes: Option<u64>,
    /// Whether only members with the sender role may send to other organizations.
    pub sender_role_required: bool,
}

/// A member's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    /// Certified and usable.
    Active,
    /// Revoked: receives nothing new, cannot log in.
    Revoked,
}

/// A status name that names no status of its kind ([`MemberStatus`], [`EnrollmentStatus`],
/// [`DeliveryStatus`] from `str`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} status {name:?}")]
pub struct UnknownStatus {
    /// Which status: `member`, `enrollment` or `delivery`.
    pub kind: &'static str,
    /// The name given.
    pub name: String,
}

/// `as_str`, `FromStr` and `ALL` for a status enum: each variant's one name, as stored in the
/// database and shown in the API.
macro_rules! status_names {
    ($ty:ident, $kind:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every status, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The status's name, as stored and as the API shows it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = UnknownStatus;

            fn from_str(s: &str) -> std::result::Result<Self, UnknownStatus> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(UnknownStatus {
                        kind: $kind,
                        name: s.to_owned(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_names!(MemberStatus, "member", {
    Active => "active",
    Revoked => "revoked",
});

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

status_names!(EnrollmentStatus, "enrollment", {
    Pending => "pending",
    Approved => "approved",
    Rejected => "rejected",
});

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

status_names!(DeliveryStatus, "delivery", {
    Delivered => "delivered",
    Forwarded => "forwarded",
    Opened => "opened",
    Recalled => "recalled",
    Expired => "expired",
});

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
    /// When its holder first downloaded its capsules or bodies, as the server observed it
    /// (`None`: never). A downloaded delivery can no longer be recalled.
    pub downloaded: Option<Timestamp>,
}

/// One delivery of an envelope as its sender's receipts need it ([`Store::receipt_rows`]): the
/// delivery without its header, and the certified roles of its holder and of the member who
/// created it (`None`: no such member row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptRow {
    /// The delivery; its `header` is left empty.
    pub delivery: DeliveryRow,
    /// The holder's roles.
    pub holder_roles: Option<u8>,
    /// The roles of the sender or forwarder who created it.
    pub creator_roles: Option<u8>,
}

/// A pending upload: what the server records from `POST /v1/envelopes` until the envelope
/// commits. The orphan collector keeps exactly the blobs that committed envelopes and live
/// upload records claim ([`Store::claimed_blob_keys`]), never judging a blob by its
/// modification time, so a slow upload is never collected before it commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadRow {
    /// Random identifier (hex).
    pub id: String,
    /// The sender's organization.
    pub org_id: String,
    /// The sender (who alone may complete the upload).
    pub actor_cert: String,
    /// Key of the blob holding the pending record (statement, digests, header).
    pub record_key: String,
    /// Key of the body blob the upload writes.
    pub blob_key: String,
    /// What the upload stores, in bytes: the announced length of the bodies plus the pending
    /// record (statement, digests, header). It counts against the organization's quota while
    /// the record is alive, and the envelope it commits may occupy at most this much.
    pub bytes: u64,
    /// Creation time.
    pub created: Timestamp,
    /// The record claims its blobs until then (plus [`UPLOAD_GRACE`]); it can be renewed
    /// while alive, and an envelope commits only while it is alive.
    pub expires: Timestamp,
}

/// Seconds after its expiry during which an upload record still claims its blobs: server
/// processes whose clocks differ by less than this never collect a blob that another one is
/// about to commit.
pub const UPLOAD_GRACE: Timestamp = 600;

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

/// An organization's newest organization-signed list (opaque to the store): its revocation
/// list or its partner list, each kept newest serial only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedListRow {
    /// Organization.
    pub org_id: String,
    /// The list's serial number (from 1).
    pub serial: u64,
    /// The encoded list.
    pub list: Vec<u8>,
    /// When it was stored.
    pub created: Timestamp,
}

/// An organization's newest organization-signed revocation list.
pub type RevocationListRow = SignedListRow;
/// An organization's newest organization-signed partner list.
pub type PartnerListRow = SignedListRow;

/// An organization's newest organization-signed audit checkpoint (opaque to the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointRow {
    /// Organization.
    pub org_id: String,
    /// The anchored sequence number (from 1).
    pub position: u64,
    /// The encoded checkpoint.
    pub checkpoint: Vec<u8>,
    /// When it was stored.
    pub created: Timestamp,
}

/// A member's newest sealed browser state of one kind (opaque to the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalStateRow {
    /// The member's certificate id.
    pub cert_id: String,
    /// Kind of state (`pins`, `trust`).
    pub kind: String,
    /// Its serial number (from 1).
    pub serial: u64,
    /// The sealed state, signed by the member key on the member's device.
    pub state: Vec<u8>,
    /// When it was stored.
    pub updated: Timestamp,
}

/// The metadata store.
///
/// Every method is one transaction. Methods that change several rows change all or none, and
/// append their audit entries in the same transaction. State changes are conditional, so of
/// two racing requests (two recalls, a recall and an open, two approvals) exactly one wins and
/// the other gets `Conflict`, also across server processes sharing one database.
///
/// Errors: `NotFound` for a missing row (or a row referencing a missing organization, member,
/// envelope or delivery), `Conflict` for a duplicate id or a refused state change.
#[async_trait]
pub trait Store: Send + Sync {
    // organizations
    /// Register an organization; `Conflict` if its id exists.
    async fn create_org(&self, org: &OrgRow) -> Result<()>;
    /// One organization.
    async fn org(&self, id: &str) -> Result<OrgRow>;
    /// A page of organizations, by name (then id).
    async fn orgs(&self, page: PageRequest<'_>) -> Result<Page<OrgRow>>;
    /// Set expiry, retention, the longest certificate validity and the storage quota,
    /// atomically with the audit entries; `NotFound` if there is no such organization.
    async fn set_org_policy(
        &self,
        id: &str,
        policy: &OrgPolicy,
        audit: &[NewAuditEntry],
    ) -> Result<()>;

    // members and enrollment
    /// Record an enrollment request; `Conflict` if its id exists.
    async fn create_enrollment(&self, e: &EnrollmentRow) -> Result<()>;
    /// One enrollment.
    async fn enrollment(&self, id: &str) -> Result<EnrollmentRow>;
    /// A page of an organization's enrollments with this status, oldest first.
    async fn enrollments(
        &self,
        org_id: &str,
        status: EnrollmentStatus,
        page: PageRequest<'_>,
    ) -> Result<Page<EnrollmentRow>>;
    /// Delete the pending enrollments created at or before `created_before` (expired
    /// requests); approved and rejected ones stay. Returns how many were deleted.
    async fn purge_enrollments(&self, created_before: Timestamp) -> Result<u64>;
    /// Approve: insert the member and mark the enrollment approved (with the member's
    /// certificate id), atomically with the audit entry. `Conflict` if the enrollment is not
    /// pending, if the member belongs to another organization or its certificate exists.
    async fn approve_enrollment(
        &self,
        enrollment_id: &str,
        member: &MemberRow,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    /// Reject a pending enrollment, atomically with the audit entries; `Conflict` if it is
    /// not pending.
    async fn reject_enrollment(&self, enrollment_id: &str, audit: &[NewAuditEntry]) -> Result<()>;
    /// Insert a member directly (the organization's first administrator), with its audit entry.
    /// `Conflict` if the organization already has a member: later members enroll. The check
    /// and the insert are one transaction, so two racing "first administrators" cannot both win.
    async fn create_member(&self, member: &MemberRow, audit: &NewAuditEntry) -> Result<()>;
    /// One member certificate.
    async fn member(&self, cert_id: &str) -> Result<MemberRow>;
    /// An organization's members (all statuses), by name.
    async fn members(&self, org_id: &str, page: PageRequest<'_>) -> Result<Page<MemberRow>>;
    /// Revoke a member, atomically with its audit entry; its session tokens and pending
    /// challenges are deleted with it. `Conflict` if already revoked.
    async fn revoke_member(
        &self,
        cert_id: &str,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<()>;

    // authentication
    /// Store a login challenge; `Conflict` if the nonce exists.
    async fn put_challenge(&self, nonce: &[u8], cert_id: &str, expires: Timestamp) -> Result<()>;
    /// Consume a challenge: return its certificate id and delete it; `NotFound` if absent or
    /// expired at `now` (`expires <= now`; an expired challenge is deleted too).
    async fn take_challenge(&self, nonce: &[u8], now: Timestamp) -> Result<String>;
    /// Store a session token's hash; `Conflict` if it exists.
    async fn put_token(&self, token_hash: &[u8], cert_id: &str, expires: Timestamp) -> Result<()>;
    /// The member a valid token at `now` (`expires > now`) was issued to, whatever its status
    /// (the caller refuses revoked members); `NotFound` otherwise.
    async fn token(&self, token_hash: &[u8], now: Timestamp) -> Result<MemberRow>;

    // envelopes and deliveries
    /// Make an uploaded envelope visible: insert the envelope, its first delivery (to the
    /// representative) and the audit entries, atomically. Call only after the body is durable.
    /// `Conflict` if the envelope or delivery id exists, if `first` is not a parentless
    /// delivery of `env`, or if the sender or the recipient is not an active member of its
    /// organization (checked in the transaction: a concurrent revocation cannot slip past).
    async fn commit_envelope(
        &self,
        env: &EnvelopeRow,
        first: &DeliveryRow,
        audit: &[NewAuditEntry],
    ) -> Result<()>;
    /// Record a pending upload; `Conflict` if its id or blob key exists, `NotFound` if its
    /// organization or sender is unknown, `QuotaExceeded` (and nothing recorded) if the
    /// organization has a quota and its usage at `upload.created` ([`Store::org_usage`]) plus
    /// `upload.bytes` exceeds it. The check and the insert are one transaction that holds the
    /// organization's row, so concurrent uploads of one organization (across server processes
    /// too) cannot together pass its quota. Likewise `TooManyPendingUploads` (nothing recorded)
    /// if its sender already has `max_pending` upload records alive at `upload.created`
    /// (unfinished uploads: created, not yet committed, not expired).
    async fn create_upload(&self, upload: &UploadRow, max_pending: u32) -> Result<()>;
    /// The bytes an organization occupies at `now`, read in one statement:
    /// - the bodies (`bodies_len`) of envelopes its members sent whose body is not removed;
    /// - the headers (`length(header)`, capsules included) of deliveries its members created:
    ///   first deliveries of what they sent and forwards they made (a recalled or expired
    ///   delivery's header is emptied, so it counts 0);
    /// - the `bytes` of its members' upload records alive at `now` (`expires > now`).
    async fn org_usage(&self, org_id: &str, now: Timestamp) -> Result<u64>;
    /// One upload record (expired ones included, until they are purged).
    async fn upload(&self, id: &str) -> Result<UploadRow>;
    /// Remove an upload record that never started (its pending record could not be stored):
    /// it no longer reserves quota. Idempotent.
    async fn abandon_upload(&self, id: &str) -> Result<()>;
    /// How many upload records are alive at `now` (uploads started and not yet committed or
    /// expired). One indexed read; also the readiness probe of the database.
    async fn pending_uploads(&self, now: Timestamp) -> Result<u64>;
    /// A `PUT` starts: the live upload's record now claims `blob_key` (a fresh key per
    /// attempt, so an abandoned earlier attempt can never commit) until `expires`. `Conflict`
    /// if it expired at `now` (`expires <= now`), `NotFound` if it is gone.
    async fn renew_upload(
        &self,
        id: &str,
        now: Timestamp,
        expires: Timestamp,
        blob_key: &str,
    ) -> Result<UploadRow>;
    /// [`Store::commit_envelope`] for an upload: in the same transaction, the upload's record
    /// must still be alive at `now`, name `env.blob_key` and have reserved at least what the
    /// envelope occupies (`env.bodies_len` plus the first delivery's header), and is deleted.
    /// `Conflict` if it expired, names another blob or reserved less, `NotFound` if it is gone (then the caller deletes the
    /// blob: the collector may already consider it unclaimed).
    async fn commit_upload(
        &self,
        upload_id: &str,
        now: Timestamp,
        env: &EnvelopeRow,
        first: &DeliveryRow,
        audit: &[NewAuditEntry],
    ) -> Result<()>;
    /// Every blob key something still claims at `now`, read in one statement: the bodies of
    /// envelopes whose body is not removed, and the record and body keys of uploads whose
    /// `expires + UPLOAD_GRACE > now`. Any other blob is an orphan (sorted, deduplicated).
    async fn claimed_blob_keys(&self, now: Timestamp) -> Result<Vec<String>>;
    /// One envelope.
    async fn envelope(&self, id: &str) -> Result<EnvelopeRow>;
    /// One delivery.
    async fn delivery(&self, id: &str) -> Result<DeliveryRow>;
    /// A page of a holder's deliveries (only those with `status` when given), newest first.
    async fn inbox(
        &self,
        holder_cert: &str,
        status: Option<DeliveryStatus>,
        page: PageRequest<'_>,
    ) -> Result<Page<DeliveryRow>>;
    /// All deliveries of an envelope, oldest first (maintenance, tests). Unbounded: request
    /// handlers use [`Store::receipt_rows`] (paged) and [`Store::children`] instead.
    async fn deliveries_of(&self, envelope_id: &str) -> Result<Vec<DeliveryRow>>;
    /// A page of an envelope's deliveries for its sender's receipts, oldest first (`created`,
    /// then insertion order; keyset after the delivery `page.after` of this envelope, else
    /// `NotFound`), each with its holder's and creator's roles, read in one statement. The
    /// rows' `header` is left empty.
    async fn receipt_rows(
        &self,
        envelope_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Page<ReceiptRow>>;
    /// The deliveries forwarded from `parent_id`, oldest first, with an empty `header`: every
    /// one that was not recalled (they hold disjoint parts of the parent, so there are at most
    /// as many as the parent has parts) and the newest `recalled` recalled ones. What a
    /// delivery's holder can still read or forward depends on the first kind only, so forward
    /// and recall cycles never make a request read more rows.
    async fn children(&self, parent_id: &str, recalled: u32) -> Result<Vec<DeliveryRow>>;
    /// Forward: insert the new deliveries, set the parent's status, append audit entries,
    /// atomically. `Conflict` unless the parent is `Delivered` (or `Forwarded`, when some of its
    /// parts were recalled back to it). `new` must be non-empty, and every new delivery must
    /// name this parent and its envelope, carry only parts of the parent that no live (not
    /// recalled) child holds, and be held by an active member of its organization, else
    /// `Conflict`: of two racing forwards of the same part, across processes too, exactly one
    /// commits. `parent_status` is the status the caller expects the parent to get —
    /// `Forwarded` if the live children then hold all its parts, else `Delivered` — checked in
    /// the transaction (`Conflict` if the parent changed meanwhile). The parent's `updated`
    /// becomes the latest `created` of `new`.
    async fn commit_forward(
        &self,
        parent_id: &str,
        parent_status: DeliveryStatus,
        new: &[DeliveryRow],
        audit: &[NewAuditEntry],
    ) -> Result<()>;
    /// Recall: if the delivery is `Delivered` (not opened) and was never downloaded, set it
    /// `Recalled`, empty its header and set its parent back to `Delivered`, atomically with the
    /// audit entry. `Conflict` if it was downloaded, opened, forwarded, expired or already
    /// recalled (of a recall racing a download, exactly one wins). The parent goes back to `Delivered`
    /// only if it was `Forwarded`. Returns the recalled delivery as stored.
    async fn recall(
        &self,
        delivery_id: &str,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<DeliveryRow>;
    /// Recall some of a delivery's parts: if the delivery is `Delivered`, never downloaded,
    /// and `recalled.parts` is a non-empty proper subset of its parts, atomically with the
    /// audit entry: the delivery keeps the other parts with `kept_header` (its header without
    /// the recalled parts' slots and bodies), `recalled` is inserted as a `Recalled` delivery
    /// of the same holder and parent holding exactly the recalled parts (header empty: their
    /// capsules are destroyed), and the parent goes back to `Delivered` if it was
    /// `Forwarded`. `Conflict` otherwise (downloaded, opened, forwarded, expired, recalled, or
    /// the parts changed meanwhile). Returns the delivery as it now stands.
    async fn recall_parts(
        &self,
        delivery_id: &str,
        kept_header: &[u8],
        recalled: &DeliveryRow,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<DeliveryRow>;
    /// Record that the holder downloads the delivery's capsules or bodies now: sets
    /// `downloaded` to `at` unless it is already set (the first download counts). `Conflict`
    /// unless the delivery is `Delivered` or `Opened`, so a download racing a recall, a
    /// forward of its last part or an expiry either is recorded first (and the recall is then
    /// refused) or fails. Returns the delivery as stored.
    async fn record_download(&self, delivery_id: &str, at: Timestamp) -> Result<DeliveryRow>;
    /// Mark a `Delivered` delivery opened, with its audit entry. Idempotent: on an `Opened`
    /// delivery nothing changes and no entry is appended. `Conflict` if it was forwarded,
    /// recalled or expired.
    async fn mark_opened(
        &self,
        delivery_id: &str,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    /// Expire: unopened (`Delivered` or `Forwarded`) deliveries older than their holder
    /// organization's expiry become `Expired` (header emptied); envelopes past the sender's or
    /// the recipient's retention, or of which no delivery holds a capsule any more (all expired
    /// or recalled), get `body_removed`. Expired challenges and tokens are deleted, and upload
    /// records expired for longer than [`UPLOAD_GRACE`]. Returns the
    /// blob keys whose bodies may now be deleted (no remaining envelope references them).
    async fn expire(&self, now: Timestamp) -> Result<Vec<String>>;
    /// Every blob key referenced by an envelope whose body is not removed, sorted.
    async fn referenced_blob_keys(&self) -> Result<Vec<String>>;

    // audit
    /// Append entries to their organizations' trails (each chained to its trail's last entry),
    /// all or none. Safe under concurrent writers: sequence numbers stay contiguous.
    async fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<()>;
    /// An organization's trail from sequence number `from` (inclusive), in order.
    async fn audit(&self, org_id: &str, from: u64, limit: u32) -> Result<Vec<AuditRow>>;

    // rules
    /// Replace a forwarder's rules and the owner-signed `statement` that sets them, atomically
    /// with the audit entries; `Conflict` if a rule names another owner or ids repeat.
    async fn set_rules(
        &self,
        owner_cert: &str,
        rules: &[RuleRow],
        statement: &[u8],
        audit: &[NewAuditEntry],
    ) -> Result<()>;
    /// A forwarder's rules, in order.
    async fn rules(&self, owner_cert: &str) -> Result<Vec<RuleRow>>;
    /// The statement stored with a forwarder's current rules (`None` if it never set any).
    async fn rules_statement(&self, owner_cert: &str) -> Result<Option<Vec<u8>>>;

    // organization-signed status
    /// Store an organization's revocation list, atomically with its audit entry; `Conflict`
    /// unless its serial is greater than the stored list's, `NotFound` for an unknown
    /// organization.
    async fn put_revocation_list(
        &self,
        list: &RevocationListRow,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    /// An organization's newest revocation list; `NotFound` if it has published none.
    async fn revocation_list(&self, org_id: &str) -> Result<RevocationListRow>;
    /// Store an organization's partner list, atomically with its audit entry; `Conflict`
    /// unless its serial is greater than the stored list's, `NotFound` for an unknown
    /// organization.
    async fn put_partner_list(&self, list: &PartnerListRow, audit: &NewAuditEntry) -> Result<()>;
    /// An organization's newest partner list; `NotFound` if it has published none.
    async fn partner_list(&self, org_id: &str) -> Result<PartnerListRow>;
    /// Store an organization's audit checkpoint, atomically with its audit entry; `Conflict`
    /// unless its position is greater than the stored checkpoint's, `NotFound` for an unknown
    /// organization.
    async fn put_checkpoint(&self, checkpoint: &CheckpointRow, audit: &NewAuditEntry)
        -> Result<()>;
    /// An organization's newest audit checkpoint; `NotFound` if there is none.
    async fn checkpoint(&self, org_id: &str) -> Result<CheckpointRow>;

    // members' own browser state
    /// Store a member's sealed browser state of one kind; `Conflict` unless its serial is
    /// greater than the stored one's, `NotFound` for an unknown member.
    async fn put_local_state(&self, state: &LocalStateRow) -> Result<()>;
    /// A member's newest sealed browser state of `kind`; `NotFound` if there is none.
    async fn local_state(&self, cert_id: &str, kind: &str) -> Result<LocalStateRow>;
}

/// A stream of body bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// The blob store for envelope bodies.
///
/// Keys are 1 to [`MAX_BLOB_KEY_LEN`] characters from `[a-z0-9-]`, not starting with `-`;
/// other keys (paths, `..`, hidden names) are refused with `NotFound`.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Write a blob from a stream of exactly `len` bytes; returns only when the blob is durable
    /// (fsync'd file and directory, or a completed S3 upload). A blob is never visible under
    /// `key` half-written: on error (a failing or short stream, a cancelled future) nothing of
    /// it becomes visible, and a blob already stored under `key` stays as it was.
    async fn put(&self, key: &str, len: u64, data: ByteStream) -> Result<()>;
    /// Read `len` bytes at `offset`, streamed; `NotFound` if the key or the range does not exist.
    async fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<ByteStream>;
    /// Delete (idempotent).
    async fn delete(&self, key: &str) -> Result<()>;
    /// Every key with its last-modified time (for orphan collection), sorted by key.
    async fn list(&self) -> Result<Vec<(String, Timestamp)>>;
    /// Whether the store is reachable (readiness): one cheap request, no blob read or written.
    async fn ping(&self) -> Result<()>;
    /// The file holding a committed blob, when the store keeps blobs as plain files on this
    /// machine (a backup then copies it with blocking reads of its own instead of the stream).
    /// `None` for a remote store or an invalid key.
    fn local_file(&self, _key: &str) -> Option<std::path::PathBuf> {
        None
    }
}
