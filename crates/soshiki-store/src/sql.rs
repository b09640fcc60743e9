//! The SQL implementation shared by the SQLite and PostgreSQL stores.
//!
//! Both backends run the same statements (sqlx accepts `$n` placeholders on both); what differs
//! is how a write transaction starts and how the audit trail's heads are locked, which each
//! backend provides as inherent methods (`begin_write`, `lock_audit_heads`), plus the row-lock
//! suffixes passed to [`sql_store!`]. The macro expands to `impl Store for …` in the backend's
//! module.

use std::borrow::Cow;

use sqlx::error::ErrorKind;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::{DeliveryStatus, EnrollmentStatus, MemberStatus, Result, StoreError};

/// Seconds in a day (expiry and retention are configured in days).
pub(crate) const DAY: i64 = 86_400;

/// A migrator over the given `(version, description, sql)` migrations, embedded at build time.
pub(crate) fn migrator(migrations: &[(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(sql),
                    false,
                )
            })
            .collect(),
    )
}

/// Map a sqlx error: unique violations are conflicts, missing rows and foreign-key violations
/// are "not found", everything else is a backend failure.
pub(crate) fn db_err(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound(what.to_owned()),
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict(format!("{what}: already exists")),
            ErrorKind::ForeignKeyViolation => {
                StoreError::NotFound(format!("{what}: a referenced row does not exist"))
            }
            _ => crate::counters::database_error(format!("{what}: {e}")),
        },
        _ => crate::counters::database_error(format!("{what}: {e}")),
    }
}

/// A corrupt or out-of-range stored value.
pub(crate) fn corrupt(what: &str) -> StoreError {
    crate::counters::database_error(format!("stored value out of range: {what}"))
}

/// `u64` to the databases' signed 64-bit integers.
pub(crate) fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| crate::counters::database_error(format!("{what} too large: {v}")))
}

/// Encode part indices compactly: 4 bytes big-endian each.
pub(crate) fn encode_parts(parts: &[u32]) -> Vec<u8> {
    parts.iter().flat_map(|p| p.to_be_bytes()).collect()
}

/// Decode [`encode_parts`].
pub(crate) fn decode_parts(bytes: &[u8]) -> Result<Vec<u32>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(corrupt("parts"));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

pub(crate) fn member_status_str(s: MemberStatus) -> &'static str {
    match s {
        MemberStatus::Active => "active",
        MemberStatus::Revoked => "revoked",
    }
}

pub(crate) fn parse_member_status(s: &str) -> Result<MemberStatus> {
    match s {
        "active" => Ok(MemberStatus::Active),
        "revoked" => Ok(MemberStatus::Revoked),
        _ => Err(corrupt("member status")),
    }
}

pub(crate) fn enrollment_status_str(s: EnrollmentStatus) -> &'static str {
    match s {
        EnrollmentStatus::Pending => "pending",
        EnrollmentStatus::Approved => "approved",
        EnrollmentStatus::Rejected => "rejected",
    }
}

pub(crate) fn parse_enrollment_status(s: &str) -> Result<EnrollmentStatus> {
    match s {
        "pending" => Ok(EnrollmentStatus::Pending),
        "approved" => Ok(EnrollmentStatus::Approved),
        "rejected" => Ok(EnrollmentStatus::Rejected),
        _ => Err(corrupt("enrollment status")),
    }
}

pub(crate) fn delivery_status_str(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Forwarded => "forwarded",
        DeliveryStatus::Opened => "opened",
        DeliveryStatus::Recalled => "recalled",
        DeliveryStatus::Expired => "expired",
    }
}

pub(crate) fn parse_delivery_status(s: &str) -> Result<DeliveryStatus> {
    match s {
        "delivered" => Ok(DeliveryStatus::Delivered),
        "forwarded" => Ok(DeliveryStatus::Forwarded),
        "opened" => Ok(DeliveryStatus::Opened),
        "recalled" => Ok(DeliveryStatus::Recalled),
        "expired" => Ok(DeliveryStatus::Expired),
        _ => Err(corrupt("delivery status")),
    }
}

/// Days (`u32`) as stored (`i64`).
pub(crate) fn days_to_db(d: Option<u32>) -> Option<i64> {
    d.map(i64::from)
}

/// Days as stored back to `u32`.
pub(crate) fn days_from_db(d: Option<i64>, what: &str) -> Result<Option<u32>> {
    d.map(|v| u32::try_from(v).map_err(|_| corrupt(what)))
        .transpose()
}

/// A byte count (`u64`) as stored.
pub(crate) fn bytes_to_db(b: Option<u64>, what: &str) -> Result<Option<i64>> {
    b.map(|v| to_i64(v, what)).transpose()
}

/// A byte count as stored back to `u64`.
pub(crate) fn bytes_from_db(b: Option<i64>, what: &str) -> Result<Option<u64>> {
    b.map(|v| u64::try_from(v).map_err(|_| corrupt(what)))
        .transpose()
}

/// The bytes an organization (`$1`) occupies at `$2` (see `Store::org_usage`), one statement.
/// Each sum is cast to BIGINT (PostgreSQL sums BIGINT columns as NUMERIC).
pub(crate) const ORG_USAGE_SQL: &str = "SELECT \
     CAST((SELECT COALESCE(SUM(e.bodies_len), 0) FROM envelopes e \
           WHERE e.sender_org = $1 AND e.body_removed = FALSE) AS BIGINT) AS bodies, \
     CAST((SELECT COALESCE(SUM(LENGTH(d.header)), 0) FROM deliveries d \
           JOIN members m ON m.cert_id = d.created_by WHERE m.org_id = $1) AS BIGINT) AS headers, \
     CAST((SELECT COALESCE(SUM(u.bytes), 0) FROM uploads u \
           WHERE u.org_id = $1 AND u.expires > $2) AS BIGINT) AS pending";

/// A 32-byte hash as stored.
pub(crate) fn hash32(v: &[u8], what: &str) -> Result<[u8; 32]> {
    v.try_into().map_err(|_| corrupt(what))
}

/// The distinct organizations of some audit entries, sorted (the lock order).
pub(crate) fn audit_orgs(entries: &[crate::NewAuditEntry]) -> Vec<&str> {
    let mut orgs: Vec<&str> = entries.iter().map(|e| e.org_id.as_str()).collect();
    orgs.sort_unstable();
    orgs.dedup();
    orgs
}

macro_rules! org_cols {
    () => {
        "id, suite, name, record, created, expiry_days, retention_days, max_validity_days, \
         quota_bytes, sender_role_required"
    };
}
macro_rules! member_cols {
    () => {
        "cert_id, org_id, member_name, roles, certificate, status, created, revoked_at"
    };
}
macro_rules! enrollment_cols {
    () => {
        "id, org_id, request, status, created, cert_id"
    };
}
macro_rules! envelope_cols {
    () => {
        "id, suite, sender_cert, sender_org, recipient_org, blob_key, bodies_len, created, \
         body_removed"
    };
}
macro_rules! delivery_cols {
    () => {
        "id, envelope_id, holder_cert, holder_org, parent, created_by, header, parts, status, \
         created, updated, downloaded"
    };
}
/// The delivery columns but `header`, qualified by the alias `d`.
macro_rules! delivery_summary_cols {
    () => {
        "d.id, d.envelope_id, d.holder_cert, d.holder_org, d.parent, d.created_by, d.parts, \
         d.status, d.created, d.updated, d.downloaded"
    };
}
macro_rules! audit_cols {
    () => {
        "org_id, seq, entry, prev_hash, hash, created"
    };
}
macro_rules! upload_cols {
    () => {
        "id, org_id, actor_cert, record_key, blob_key, bytes, created, expires"
    };
}
macro_rules! rule_cols {
    () => {
        "id, org_id, owner_cert, rule, position, created"
    };
}
pub(crate) use {
    audit_cols, delivery_cols, delivery_summary_cols, enrollment_cols, envelope_cols, member_cols,
    org_cols, rule_cols, upload_cols,
};

/// Implement [`crate::Store`] for `$store` over sqlx database `$db` with row type `$row`.
///
/// The store type provides, with `$tx` a write transaction that dereferences to the backend's
/// connection (dropping it uncommitted rolls it back):
/// - `fn reader(&self) -> &sqlx::Pool<$db>` for single-statement reads;
/// - `async fn begin_write(&self) -> Result<$tx>`;
/// - `async fn commit_write(tx: $tx) -> Result<()>`, which returns once the transaction is
///   durably committed;
/// - `async fn lock_audit_heads(tx, orgs: &[&str]) -> Result<()>`, which serializes appends to
///   those organizations' trails until the transaction ends (called first in a transaction).
///
/// `$for_share` / `$for_update` are appended to row reads that must hold their row until the
/// transaction ends (empty on SQLite, whose write transaction excludes every other writer).
macro_rules! sql_store {
    (
        $store:ty,
        $db:ty,
        $row:ty,
        tx = $tx:ty,
        for_share = $for_share:literal,
        for_update = $for_update:literal
    ) => {
        use std::collections::HashMap;

        use async_trait::async_trait;
        use sqlx::Row as _;

        use $crate::sql::{
            audit_cols, audit_orgs, bytes_from_db, bytes_to_db, db_err, decode_parts,
            days_from_db, days_to_db, ORG_USAGE_SQL,
            delivery_cols, delivery_status_str, delivery_summary_cols, encode_parts, enrollment_cols,
            enrollment_status_str, envelope_cols, hash32, member_cols, member_status_str,
            org_cols, parse_delivery_status, parse_enrollment_status, parse_member_status,
            rule_cols, to_i64, corrupt, upload_cols, DAY,
        };
        use $crate::{
            audit_hash, AuditRow, CheckpointRow, DeliveryRow, DeliveryStatus, EnrollmentRow,
            EnrollmentStatus, EnvelopeRow, MemberRow, ReceiptRow, MemberStatus, NewAuditEntry, OrgPolicy, OrgRow,
            LocalStateRow, Page, PageRequest, PartnerListRow, Result, RevocationListRow, RuleRow, SignedListRow, Store, StoreError,
            Timestamp, UploadRow, UPLOAD_GRACE,
        };

        type Tx = $tx;

        fn get<'r, T>(row: &'r $row, col: &str) -> Result<T>
        where
            T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
        {
            row.try_get(col)
                .map_err(|e| crate::counters::database_error(format!("column {col}: {e}")))
        }

        fn org_from(row: &$row) -> Result<OrgRow> {
            Ok(OrgRow {
                id: get(row, "id")?,
                suite: u16::try_from(get::<i64>(row, "suite")?).map_err(|_| corrupt("suite"))?,
                name: get(row, "name")?,
                record: get(row, "record")?,
                created: get(row, "created")?,
                expiry_days: days_from_db(get(row, "expiry_days")?, "expiry_days")?,
                retention_days: days_from_db(get(row, "retention_days")?, "retention_days")?,
                max_validity_days: days_from_db(
                    get(row, "max_validity_days")?,
                    "max_validity_days",
                )?,
                quota_bytes: bytes_from_db(get(row, "quota_bytes")?, "quota_bytes")?,
                sender_role_required: get(row, "sender_role_required")?,
            })
        }

        /// The sum of the three parts of [`ORG_USAGE_SQL`].
        fn usage_from(row: &$row) -> Result<u64> {
            ["bodies", "headers", "pending"].iter().try_fold(0u64, |sum, col| {
                let v = u64::try_from(get::<i64>(row, col)?).map_err(|_| corrupt(col))?;
                Ok(sum.saturating_add(v))
            })
        }

        fn member_from(row: &$row) -> Result<MemberRow> {
            Ok(MemberRow {
                cert_id: get(row, "cert_id")?,
                org_id: get(row, "org_id")?,
                member_name: get(row, "member_name")?,
                roles: u8::try_from(get::<i64>(row, "roles")?).map_err(|_| corrupt("roles"))?,
                certificate: get(row, "certificate")?,
                status: parse_member_status(&get::<String>(row, "status")?)?,
                created: get(row, "created")?,
                revoked_at: get(row, "revoked_at")?,
            })
        }

        fn enrollment_from(row: &$row) -> Result<EnrollmentRow> {
            Ok(EnrollmentRow {
                id: get(row, "id")?,
                org_id: get(row, "org_id")?,
                request: get(row, "request")?,
                status: parse_enrollment_status(&get::<String>(row, "status")?)?,
                created: get(row, "created")?,
                cert_id: get(row, "cert_id")?,
            })
        }

        fn envelope_from(row: &$row) -> Result<EnvelopeRow> {
            Ok(EnvelopeRow {
                id: get(row, "id")?,
                suite: u16::try_from(get::<i64>(row, "suite")?).map_err(|_| corrupt("suite"))?,
                sender_cert: get(row, "sender_cert")?,
                sender_org: get(row, "sender_org")?,
                recipient_org: get(row, "recipient_org")?,
                blob_key: get(row, "blob_key")?,
                bodies_len: u64::try_from(get::<i64>(row, "bodies_len")?)
                    .map_err(|_| corrupt("bodies_len"))?,
                created: get(row, "created")?,
                body_removed: get(row, "body_removed")?,
            })
        }

        fn delivery_from(row: &$row) -> Result<DeliveryRow> {
            delivery_with_header(row, get(row, "header")?)
        }

        /// A delivery row read without its `header` column ([`delivery_summary_cols!`]).
        fn delivery_summary_from(row: &$row) -> Result<DeliveryRow> {
            delivery_with_header(row, Vec::new())
        }

        fn delivery_with_header(row: &$row, header: Vec<u8>) -> Result<DeliveryRow> {
            Ok(DeliveryRow {
                id: get(row, "id")?,
                envelope_id: get(row, "envelope_id")?,
                holder_cert: get(row, "holder_cert")?,
                holder_org: get(row, "holder_org")?,
                parent: get(row, "parent")?,
                created_by: get(row, "created_by")?,
                header,
                parts: decode_parts(&get::<Vec<u8>>(row, "parts")?)?,
                status: parse_delivery_status(&get::<String>(row, "status")?)?,
                created: get(row, "created")?,
                updated: get(row, "updated")?,
                downloaded: get(row, "downloaded")?,
            })
        }

        fn audit_from(row: &$row) -> Result<AuditRow> {
            Ok(AuditRow {
                org_id: get(row, "org_id")?,
                seq: u64::try_from(get::<i64>(row, "seq")?).map_err(|_| corrupt("seq"))?,
                entry: get(row, "entry")?,
                prev_hash: hash32(&get::<Vec<u8>>(row, "prev_hash")?, "prev_hash")?,
                hash: hash32(&get::<Vec<u8>>(row, "hash")?, "hash")?,
                created: get(row, "created")?,
            })
        }

        fn upload_from(row: &$row) -> Result<UploadRow> {
            Ok(UploadRow {
                id: get(row, "id")?,
                org_id: get(row, "org_id")?,
                actor_cert: get(row, "actor_cert")?,
                record_key: get(row, "record_key")?,
                blob_key: get(row, "blob_key")?,
                bytes: u64::try_from(get::<i64>(row, "bytes")?).map_err(|_| corrupt("bytes"))?,
                created: get(row, "created")?,
                expires: get(row, "expires")?,
            })
        }

        fn rule_from(row: &$row) -> Result<RuleRow> {
            Ok(RuleRow {
                id: get(row, "id")?,
                org_id: get(row, "org_id")?,
                owner_cert: get(row, "owner_cert")?,
                rule: get(row, "rule")?,
                position: get(row, "position")?,
                created: get(row, "created")?,
            })
        }

        async fn commit(tx: Tx) -> Result<()> {
            <$store>::commit_write(tx).await
        }

        /// Append entries to their trails inside `tx` (whose heads are already locked).
        async fn append_in(tx: &mut Tx, entries: &[NewAuditEntry]) -> Result<()> {
            let mut heads: HashMap<&str, (u64, [u8; 32])> = HashMap::new();
            for e in entries {
                let head = match heads.get(e.org_id.as_str()) {
                    Some(h) => *h,
                    None => {
                        let row = sqlx::query(
                            "SELECT seq, hash FROM audit WHERE org_id = $1 \
                             ORDER BY seq DESC LIMIT 1",
                        )
                        .bind(&e.org_id)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(db_err("audit head"))?;
                        match row {
                            Some(r) => (
                                u64::try_from(get::<i64>(&r, "seq")?)
                                    .map_err(|_| corrupt("seq"))?,
                                hash32(&get::<Vec<u8>>(&r, "hash")?, "hash")?,
                            ),
                            None => (0, [0u8; 32]),
                        }
                    }
                };
                let seq = head.0 + 1;
                let hash = audit_hash(&head.1, seq, &e.entry);
                sqlx::query(concat!(
                    "INSERT INTO audit (",
                    audit_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6)"
                ))
                .bind(&e.org_id)
                .bind(to_i64(seq, "seq")?)
                .bind(&e.entry)
                .bind(&head.1[..])
                .bind(&hash[..])
                .bind(e.created)
                .execute(&mut **tx)
                .await
                .map_err(db_err("audit entry"))?;
                heads.insert(e.org_id.as_str(), (seq, hash));
            }
            crate::counters::audit_written(entries.len());
            Ok(())
        }

        /// Check that a certificate is an active member of `org_id`, holding its row until
        /// the transaction ends (a concurrent revocation waits or wins).
        async fn require_active(tx: &mut Tx, cert_id: &str, org_id: &str, what: &str) -> Result<()> {
            let row = sqlx::query(concat!(
                "SELECT org_id, status FROM members WHERE cert_id = $1",
                $for_share
            ))
            .bind(cert_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err("member"))?
            .ok_or_else(|| StoreError::NotFound(format!("{what} {cert_id}")))?;
            if get::<String>(&row, "org_id")? != org_id {
                return Err(StoreError::Conflict(format!(
                    "{what} {cert_id} is not a member of organization {org_id}"
                )));
            }
            if parse_member_status(&get::<String>(&row, "status")?)? != MemberStatus::Active {
                return Err(StoreError::Conflict(format!("{what} {cert_id} is revoked")));
            }
            Ok(())
        }

        async fn insert_delivery(tx: &mut Tx, d: &DeliveryRow) -> Result<()> {
            sqlx::query(concat!(
                "INSERT INTO deliveries (",
                delivery_cols!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ))
            .bind(&d.id)
            .bind(&d.envelope_id)
            .bind(&d.holder_cert)
            .bind(&d.holder_org)
            .bind(&d.parent)
            .bind(&d.created_by)
            .bind(&d.header)
            .bind(encode_parts(&d.parts))
            .bind(delivery_status_str(d.status))
            .bind(d.created)
            .bind(d.updated)
            .bind(d.downloaded)
            .execute(&mut **tx)
            .await
            .map_err(db_err("delivery"))?;
            Ok(())
        }

        /// A recall gives its parts back: the parent, if `forwarded`, is `delivered` again.
        async fn reopen_parent(tx: &mut Tx, parent: &str, at: Timestamp) -> Result<()> {
            sqlx::query(
                "UPDATE deliveries SET status = 'delivered', updated = $2 \
                 WHERE id = $1 AND status = 'forwarded'",
            )
            .bind(parent)
            .bind(at)
            .execute(&mut **tx)
            .await
            .map_err(db_err("parent delivery"))?;
            Ok(())
        }

        /// The status of a delivery inside `tx` (to explain a failed conditional update).
        async fn delivery_status_in(tx: &mut Tx, id: &str) -> Result<DeliveryStatus> {
            let row = sqlx::query("SELECT status FROM deliveries WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err("delivery"))?
                .ok_or_else(|| StoreError::NotFound(format!("delivery {id}")))?;
            parse_delivery_status(&get::<String>(&row, "status")?)
        }

        impl $store {
            /// An organization's newest signed list, read by `sql` (a `SELECT org_id, serial,
            /// list, created` of `revocation_lists` or `partner_lists` by `org_id`).
            async fn signed_list(
                &self,
                sql: &'static str,
                what: &str,
                org_id: &str,
            ) -> Result<SignedListRow> {
                let row = sqlx::query(sql)
                .bind(org_id)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err("signed list"))?
                .ok_or_else(|| StoreError::NotFound(format!("{what} of {org_id}")))?;
                Ok(SignedListRow {
                    org_id: get(&row, "org_id")?,
                    serial: u64::try_from(get::<i64>(&row, "serial")?)
                        .map_err(|_| corrupt("serial"))?,
                    list: get(&row, "list")?,
                    created: get(&row, "created")?,
                })
            }

            /// Store an organization-signed status object (`sql` upserts `(org_id, number,
            /// bytes, created)` only when `number` is greater than the stored one's) with its
            /// audit entry, in one transaction; `Conflict(stale())` when it is not newer.
            async fn put_newer_status(
                &self,
                sql: &'static str,
                (org_id, number, bytes, created): (&str, u64, &[u8], Timestamp),
                audit: &NewAuditEntry,
                stale: impl FnOnce() -> String,
            ) -> Result<()> {
                let mut tx = self.begin_audited(std::slice::from_ref(audit)).await?;
                let done = sqlx::query(sql)
                    .bind(org_id)
                    .bind(to_i64(number, "serial or position")?)
                    .bind(bytes)
                    .bind(created)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err(&format!("signed status of {org_id}")))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(stale()));
                }
                append_in(&mut tx, std::slice::from_ref(audit)).await?;
                commit(tx).await
            }

            /// A write transaction with the audit heads of `audit`'s organizations locked.
            async fn begin_audited(&self, audit: &[NewAuditEntry]) -> Result<Tx> {
                let mut tx = self.begin_write().await?;
                Self::lock_audit_heads(&mut tx, &audit_orgs(audit)).await?;
                Ok(tx)
            }
        }

        #[async_trait]
        impl Store for $store {
            async fn create_org(&self, org: &OrgRow) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(concat!(
                    "INSERT INTO orgs (",
                    org_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ))
                .bind(&org.id)
                .bind(i64::from(org.suite))
                .bind(&org.name)
                .bind(&org.record)
                .bind(org.created)
                .bind(days_to_db(org.expiry_days))
                .bind(days_to_db(org.retention_days))
                .bind(days_to_db(org.max_validity_days))
                .bind(bytes_to_db(org.quota_bytes, "quota_bytes")?)
                .bind(org.sender_role_required)
                .execute(&mut *tx)
                .await
                .map_err(db_err(&format!("organization {}", org.id)))?;
                commit(tx).await
            }

            async fn org(&self, id: &str) -> Result<OrgRow> {
                let row = sqlx::query(concat!("SELECT ", org_cols!(), " FROM orgs WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err("organization"))?
                    .ok_or_else(|| StoreError::NotFound(format!("organization {id}")))?;
                org_from(&row)
            }

            async fn orgs(&self, page: PageRequest<'_>) -> Result<Page<OrgRow>> {
                let limit = page.clamped_limit();
                let fetch = i64::from(limit) + 1;
                let rows = match page.after {
                    None => sqlx::query(concat!(
                        "SELECT ", org_cols!(), " FROM orgs ORDER BY name, id LIMIT $1"
                    ))
                    .bind(fetch)
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err("organizations"))?,
                    Some(after) => {
                        let key = sqlx::query("SELECT name FROM orgs WHERE id = $1")
                            .bind(after)
                            .fetch_optional(self.reader())
                            .await
                            .map_err(db_err("organizations"))?
                            .ok_or_else(|| StoreError::NotFound("page cursor".into()))?;
                        let name: String = get(&key, "name")?;
                        sqlx::query(concat!(
                            "SELECT ", org_cols!(), " FROM orgs WHERE (name, id) > ($1, $2) \
                             ORDER BY name, id LIMIT $3"
                        ))
                        .bind(name)
                        .bind(after)
                        .bind(fetch)
                        .fetch_all(self.reader())
                        .await
                        .map_err(db_err("organizations"))?
                    }
                };
                let rows = rows.iter().map(org_from).collect::<Result<Vec<_>>>()?;
                Ok(Page::from_rows(rows, limit, |o| &o.id))
            }

            async fn set_org_policy(
                &self,
                id: &str,
                policy: &OrgPolicy,
                audit: &[NewAuditEntry],
            ) -> Result<()> {
                let mut tx = self.begin_audited(audit).await?;
                let done = sqlx::query(
                    "UPDATE orgs SET expiry_days = $2, retention_days = $3, \
                     max_validity_days = $4, quota_bytes = $5, sender_role_required = $6 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(days_to_db(policy.expiry_days))
                .bind(days_to_db(policy.retention_days))
                .bind(days_to_db(policy.max_validity_days))
                .bind(bytes_to_db(policy.quota_bytes, "quota_bytes")?)
                .bind(policy.sender_role_required)
                .execute(&mut *tx)
                .await
                .map_err(db_err("organization"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("organization {id}")));
                }
                append_in(&mut tx, audit).await?;
                commit(tx).await
            }

            async fn create_enrollment(&self, e: &EnrollmentRow) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(concat!(
                    "INSERT INTO enrollments (",
                    enrollment_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6)"
                ))
                .bind(&e.id)
                .bind(&e.org_id)
                .bind(&e.request)
                .bind(enrollment_status_str(e.status))
                .bind(e.created)
                .bind(&e.cert_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err(&format!("enrollment {}", e.id)))?;
                commit(tx).await
            }

            async fn enrollment(&self, id: &str) -> Result<EnrollmentRow> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    enrollment_cols!(),
                    " FROM enrollments WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err("enrollment"))?
                .ok_or_else(|| StoreError::NotFound(format!("enrollment {id}")))?;
                enrollment_from(&row)
            }

            async fn enrollments(
                &self,
                org_id: &str,
                status: EnrollmentStatus,
                page: PageRequest<'_>,
            ) -> Result<Page<EnrollmentRow>> {
                let limit = page.clamped_limit();
                let after_n: i64 = match page.after {
                    None => i64::MIN,
                    Some(after) => {
                        let key = sqlx::query(
                            "SELECT n FROM enrollments WHERE id = $1 AND org_id = $2 AND status = $3",
                        )
                        .bind(after)
                        .bind(org_id)
                        .bind(enrollment_status_str(status))
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db_err("enrollments"))?
                        .ok_or_else(|| StoreError::NotFound("page cursor".into()))?;
                        get(&key, "n")?
                    }
                };
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    enrollment_cols!(),
                    " FROM enrollments WHERE org_id = $1 AND status = $2 AND n > $3 \
                     ORDER BY n LIMIT $4"
                ))
                .bind(org_id)
                .bind(enrollment_status_str(status))
                .bind(after_n)
                .bind(i64::from(limit) + 1)
                .fetch_all(self.reader())
                .await
                .map_err(db_err("enrollments"))?
                .iter()
                .map(enrollment_from)
                .collect::<Result<Vec<_>>>()?;
                Ok(Page::from_rows(rows, limit, |e| &e.id))
            }

            async fn purge_enrollments(&self, created_before: Timestamp) -> Result<u64> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "DELETE FROM enrollments WHERE status = 'pending' AND created <= $1",
                )
                .bind(created_before)
                .execute(&mut *tx)
                .await
                .map_err(db_err("enrollments"))?;
                commit(tx).await?;
                Ok(done.rows_affected())
            }

            async fn approve_enrollment(
                &self,
                enrollment_id: &str,
                member: &MemberRow,
                audit: &NewAuditEntry,
            ) -> Result<()> {
                let audit = std::slice::from_ref(audit);
                let mut tx = self.begin_audited(audit).await?;
                let row = sqlx::query(
                    "UPDATE enrollments SET status = 'approved' \
                     WHERE id = $1 AND status = 'pending' RETURNING org_id",
                )
                .bind(enrollment_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("enrollment"))?;
                let Some(row) = row else {
                    let exists = sqlx::query("SELECT status FROM enrollments WHERE id = $1")
                        .bind(enrollment_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err("enrollment"))?;
                    return Err(match exists {
                        None => StoreError::NotFound(format!("enrollment {enrollment_id}")),
                        Some(r) => StoreError::Conflict(format!(
                            "enrollment {enrollment_id} is {}, not pending",
                            get::<String>(&r, "status")?
                        )),
                    });
                };
                if get::<String>(&row, "org_id")? != member.org_id {
                    return Err(StoreError::Conflict(format!(
                        "enrollment {enrollment_id} belongs to another organization"
                    )));
                }
                insert_member(&mut tx, member).await?;
                sqlx::query("UPDATE enrollments SET cert_id = $2 WHERE id = $1")
                    .bind(enrollment_id)
                    .bind(&member.cert_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("enrollment"))?;
                append_in(&mut tx, audit).await?;
                commit(tx).await
            }

            async fn reject_enrollment(
                &self,
                enrollment_id: &str,
                audit: &[NewAuditEntry],
            ) -> Result<()> {
                let mut tx = self.begin_audited(audit).await?;
                let done = sqlx::query(
                    "UPDATE enrollments SET status = 'rejected' \
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(enrollment_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err("enrollment"))?;
                if done.rows_affected() == 0 {
                    let exists = sqlx::query("SELECT status FROM enrollments WHERE id = $1")
                        .bind(enrollment_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err("enrollment"))?;
                    return Err(match exists {
                        None => StoreError::NotFound(format!("enrollment {enrollment_id}")),
                        Some(r) => StoreError::Conflict(format!(
                            "enrollment {enrollment_id} is {}, not pending",
                            get::<String>(&r, "status")?
                        )),
                    });
                }
                append_in(&mut tx, audit).await?;
                commit(tx).await
            }

            async fn create_member(&self, member: &MemberRow, audit: &NewAuditEntry) -> Result<()> {
                let audit = std::slice::from_ref(audit);
                let mut tx = self.begin_audited(audit).await?;
                // Lock the organization so that two concurrent "first administrators" cannot
                // both see an empty organization.
                sqlx::query(concat!("SELECT id FROM orgs WHERE id = $1", $for_update))
                    .bind(&member.org_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err("organization"))?
                    .ok_or_else(|| {
                        StoreError::NotFound(format!("organization {}", member.org_id))
                    })?;
                let existing = sqlx::query("SELECT cert_id FROM members WHERE org_id = $1 LIMIT 1")
                    .bind(&member.org_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err("members"))?;
                if existing.is_some() {
                    return Err(StoreError::Conflict(format!(
                        "organization {} already has members; later members enroll",
                        member.org_id
                    )));
                }
                insert_member(&mut tx, member).await?;
                append_in(&mut tx, audit).await?;
                commit(tx).await
            }

            async fn member(&self, cert_id: &str) -> Result<MemberRow> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    member_cols!(),
                    " FROM members WHERE cert_id = $1"
                ))
                .bind(cert_id)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err("member"))?
                .ok_or_else(|| StoreError::NotFound(format!("member {cert_id}")))?;
                member_from(&row)
            }

            async fn members(
                &self,
                org_id: &str,
                page: PageRequest<'_>,
            ) -> Result<Page<MemberRow>> {
                let limit = page.clamped_limit();
                let fetch = i64::from(limit) + 1;
                let rows = match page.after {
                    None => sqlx::query(concat!(
                        "SELECT ",
                        member_cols!(),
                        " FROM members WHERE org_id = $1 \
                         ORDER BY member_name, created, cert_id LIMIT $2"
                    ))
                    .bind(org_id)
                    .bind(fetch)
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err("members"))?,
                    Some(after) => {
                        let key = sqlx::query(
                            "SELECT member_name, created FROM members \
                             WHERE cert_id = $1 AND org_id = $2",
                        )
                        .bind(after)
                        .bind(org_id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db_err("members"))?
                        .ok_or_else(|| StoreError::NotFound("page cursor".into()))?;
                        let name: String = get(&key, "member_name")?;
                        let created: i64 = get(&key, "created")?;
                        sqlx::query(concat!(
                            "SELECT ",
                            member_cols!(),
                            " FROM members WHERE org_id = $1 \
                             AND (member_name, created, cert_id) > ($2, $3, $4) \
                             ORDER BY member_name, created, cert_id LIMIT $5"
                        ))
                        .bind(org_id)
                        .bind(name)
                        .bind(created)
                        .bind(after)
                        .bind(fetch)
                        .fetch_all(self.reader())
                        .await
                        .map_err(db_err("members"))?
                    }
                };
                let rows = rows.iter().map(member_from).collect::<Result<Vec<_>>>()?;
                Ok(Page::from_rows(rows, limit, |m| &m.cert_id))
            }

            async fn revoke_member(
                &self,
                cert_id: &str,
                at: Timestamp,
                audit: &NewAuditEntry,
            ) -> Result<()> {
                let audit = std::slice::from_ref(audit);
                let mut tx = self.begin_audited(audit).await?;
                let done = sqlx::query(
                    "UPDATE members SET status = 'revoked', revoked_at = $2 \
                     WHERE cert_id = $1 AND status = 'active'",
                )
                .bind(cert_id)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(db_err("member"))?;
                if done.rows_affected() == 0 {
                    let exists = sqlx::query("SELECT status FROM members WHERE cert_id = $1")
                        .bind(cert_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err("member"))?;
                    return Err(match exists {
                        None => StoreError::NotFound(format!("member {cert_id}")),
                        Some(_) => StoreError::Conflict(format!("member {cert_id} is already revoked")),
                    });
                }
                // A revoked key's sessions and pending logins end with it.
                sqlx::query("DELETE FROM tokens WHERE cert_id = $1")
                    .bind(cert_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("tokens"))?;
                sqlx::query("DELETE FROM challenges WHERE cert_id = $1")
                    .bind(cert_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("challenges"))?;
                append_in(&mut tx, audit).await?;
                commit(tx).await
            }

            async fn put_challenge(&self, nonce: &[u8], cert_id: &str, expires: Timestamp) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO challenges (nonce, cert_id, expires) VALUES ($1, $2, $3)")
                    .bind(nonce)
                    .bind(cert_id)
                    .bind(expires)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("challenge"))?;
                commit(tx).await
            }

            async fn take_challenge(&self, nonce: &[u8], now: Timestamp) -> Result<String> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "DELETE FROM challenges WHERE nonce = $1 RETURNING cert_id, expires",
                )
                .bind(nonce)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("challenge"))?
                .ok_or_else(|| StoreError::NotFound("challenge".to_owned()))?;
                let cert_id: String = get(&row, "cert_id")?;
                let expires: i64 = get(&row, "expires")?;
                // An expired challenge is consumed too.
                commit(tx).await?;
                if expires <= now {
                    return Err(StoreError::NotFound("challenge (expired)".to_owned()));
                }
                Ok(cert_id)
            }

            async fn put_token(&self, token_hash: &[u8], cert_id: &str, expires: Timestamp) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO tokens (token_hash, cert_id, expires) VALUES ($1, $2, $3)")
                    .bind(token_hash)
                    .bind(cert_id)
                    .bind(expires)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("token"))?;
                commit(tx).await
            }

            async fn token(&self, token_hash: &[u8], now: Timestamp) -> Result<MemberRow> {
                // One query on the hot path of every authenticated request.
                let row = sqlx::query(
                    "SELECT m.cert_id, m.org_id, m.member_name, m.roles, m.certificate, \
                     m.status, m.created, m.revoked_at \
                     FROM tokens t JOIN members m ON m.cert_id = t.cert_id \
                     WHERE t.token_hash = $1 AND t.expires > $2",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err("token"))?
                .ok_or_else(|| StoreError::NotFound("token".to_owned()))?;
                member_from(&row)
            }

            async fn commit_envelope(
                &self,
                env: &EnvelopeRow,
                first: &DeliveryRow,
                audit: &[NewAuditEntry],
            ) -> Result<()> {
                if first.envelope_id != env.id || first.parent.is_some() {
                    return Err(StoreError::Conflict(format!(
                        "delivery {} is not the first delivery of envelope {}",
                        first.id, env.id
                    )));
                }
                let mut tx = self.begin_audited(audit).await?;
                insert_envelope(&mut tx, env, first, audit).await?;
                commit(tx).await
            }

            async fn create_upload(&self, u: &UploadRow, max_pending: u32) -> Result<()> {
                let mut tx = self.begin_write().await?;
                // The organization's row is held until the transaction ends, so of concurrent
                // uploads each sees the others that committed before it (SQLite: its write
                // transaction excludes every other writer).
                let org = sqlx::query(concat!(
                    "SELECT quota_bytes FROM orgs WHERE id = $1",
                    $for_update
                ))
                .bind(&u.org_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("organization"))?
                .ok_or_else(|| StoreError::NotFound(format!("organization {}", u.org_id)))?;
                if let Some(quota) = bytes_from_db(get(&org, "quota_bytes")?, "quota_bytes")? {
                    let row = sqlx::query(ORG_USAGE_SQL)
                        .bind(&u.org_id)
                        .bind(u.created)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_err("organization usage"))?;
                    let used = usage_from(&row)?;
                    if used.checked_add(u.bytes).is_none_or(|total| total > quota) {
                        return Err(StoreError::QuotaExceeded {
                            used,
                            quota,
                            requested: u.bytes,
                        });
                    }
                }
                // The sender's unfinished uploads, counted under the same organization row
                // lock: of concurrent uploads, no more than `max_pending` pass.
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n FROM uploads \
                     WHERE org_id = $1 AND actor_cert = $2 AND expires > $3",
                )
                .bind(&u.org_id)
                .bind(&u.actor_cert)
                .bind(u.created)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err("pending uploads"))?;
                let pending = u64::try_from(get::<i64>(&row, "n")?).map_err(|_| corrupt("count"))?;
                if pending >= u64::from(max_pending) {
                    return Err(StoreError::TooManyPendingUploads {
                        pending,
                        limit: max_pending,
                    });
                }
                sqlx::query(concat!(
                    "INSERT INTO uploads (",
                    upload_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ))
                .bind(&u.id)
                .bind(&u.org_id)
                .bind(&u.actor_cert)
                .bind(&u.record_key)
                .bind(&u.blob_key)
                .bind(to_i64(u.bytes, "bytes")?)
                .bind(u.created)
                .bind(u.expires)
                .execute(&mut *tx)
                .await
                .map_err(db_err(&format!("upload {}", u.id)))?;
                commit(tx).await
            }

            async fn org_usage(&self, org_id: &str, now: Timestamp) -> Result<u64> {
                let row = sqlx::query(ORG_USAGE_SQL)
                    .bind(org_id)
                    .bind(now)
                    .fetch_one(self.reader())
                    .await
                    .map_err(db_err("organization usage"))?;
                usage_from(&row)
            }

            async fn abandon_upload(&self, id: &str) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM uploads WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("abandoned upload"))?;
                commit(tx).await
            }

            async fn pending_uploads(&self, now: Timestamp) -> Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE expires > $1")
                    .bind(now)
                    .fetch_one(self.reader())
                    .await
                    .map_err(db_err("pending uploads"))?;
                u64::try_from(n).map_err(|_| corrupt("pending uploads"))
            }

            async fn upload(&self, id: &str) -> Result<UploadRow> {
                let row = sqlx::query(concat!("SELECT ", upload_cols!(), " FROM uploads WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err("upload"))?
                    .ok_or_else(|| StoreError::NotFound(format!("upload {id}")))?;
                upload_from(&row)
            }

            async fn renew_upload(
                &self,
                id: &str,
                now: Timestamp,
                expires: Timestamp,
                blob_key: &str,
            ) -> Result<UploadRow> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(concat!(
                    "UPDATE uploads SET expires = $3, blob_key = $4 \
                     WHERE id = $1 AND expires > $2 RETURNING ",
                    upload_cols!()
                ))
                .bind(id)
                .bind(now)
                .bind(expires)
                .bind(blob_key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("upload"))?;
                let Some(row) = row else {
                    let exists = sqlx::query("SELECT id FROM uploads WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err("upload"))?;
                    return Err(match exists {
                        None => StoreError::NotFound(format!("upload {id}")),
                        Some(_) => StoreError::Conflict(format!("upload {id} expired")),
                    });
                };
                let u = upload_from(&row)?;
                commit(tx).await?;
                Ok(u)
            }

            async fn commit_upload(
                &self,
                upload_id: &str,
                now: Timestamp,
                env: &EnvelopeRow,
                first: &DeliveryRow,
                audit: &[NewAuditEntry],
            ) -> Result<()> {
                if first.envelope_id != env.id || first.parent.is_some() {
                    return Err(StoreError::Conflict(format!(
                        "delivery {} is not the first delivery of envelope {}",
                        first.id, env.id
                    )));
                }
                let mut tx = self.begin_audited(audit).await?;
                let row = sqlx::query(
                    "DELETE FROM uploads WHERE id = $1 RETURNING blob_key, expires, bytes",
                )
                .bind(upload_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("upload"))?
                .ok_or_else(|| StoreError::NotFound(format!("upload {upload_id}")))?;
                if get::<i64>(&row, "expires")? <= now {
                    return Err(StoreError::Conflict(format!("upload {upload_id} expired")));
                }
                if get::<String>(&row, "blob_key")? != env.blob_key {
                    return Err(StoreError::Conflict(format!(
                        "upload {upload_id} writes another blob than envelope {}",
                        env.id
                    )));
                }
                // What the quota admitted is what may commit: never more than reserved.
                let reserved = u64::try_from(get::<i64>(&row, "bytes")?)
                    .map_err(|_| corrupt("bytes"))?;
                let occupies = env.bodies_len.saturating_add(first.header.len() as u64);
                if occupies > reserved {
                    return Err(StoreError::Conflict(format!(
                        "envelope {} occupies {occupies} bytes, more than the {reserved} bytes \
                         upload {upload_id} reserved",
                        env.id
                    )));
                }
                insert_envelope(&mut tx, env, first, audit).await?;
                commit(tx).await
            }

            async fn claimed_blob_keys(&self, now: Timestamp) -> Result<Vec<String>> {
                // One statement, so one snapshot: an upload that commits concurrently is seen
                // either as a live upload or as a committed envelope, never as neither.
                let rows = sqlx::query(
                    "SELECT blob_key AS k FROM envelopes WHERE body_removed = FALSE \
                     UNION SELECT blob_key AS k FROM uploads WHERE expires > $1 \
                     UNION SELECT record_key AS k FROM uploads WHERE expires > $1 \
                     ORDER BY k",
                )
                .bind(now - UPLOAD_GRACE)
                .fetch_all(self.reader())
                .await
                .map_err(db_err("claimed blob keys"))?;
                rows.iter().map(|r| get(r, "k")).collect()
            }

            async fn envelope(&self, id: &str) -> Result<EnvelopeRow> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    envelope_cols!(),
                    " FROM envelopes WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err("envelope"))?
                .ok_or_else(|| StoreError::NotFound(format!("envelope {id}")))?;
                envelope_from(&row)
            }

            async fn delivery(&self, id: &str) -> Result<DeliveryRow> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    delivery_cols!(),
                    " FROM deliveries WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err("delivery"))?
                .ok_or_else(|| StoreError::NotFound(format!("delivery {id}")))?;
                delivery_from(&row)
            }

            async fn inbox(
                &self,
                holder_cert: &str,
                status: Option<DeliveryStatus>,
                page: PageRequest<'_>,
            ) -> Result<Page<DeliveryRow>> {
                let limit = page.clamped_limit();
                // Newest first: continue strictly below the cursor row's (created, n).
                let (created, n): (i64, i64) = match page.after {
                    None => (i64::MAX, i64::MAX),
                    Some(after) => {
                        let key = sqlx::query(
                            "SELECT created, n FROM deliveries WHERE id = $1 AND holder_cert = $2",
                        )
                        .bind(after)
                        .bind(holder_cert)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db_err("inbox"))?
                        .ok_or_else(|| StoreError::NotFound("page cursor".into()))?;
                        (get(&key, "created")?, get(&key, "n")?)
                    }
                };
                let status = status.map(delivery_status_str);
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    delivery_cols!(),
                    " FROM deliveries WHERE holder_cert = $1 \
                     AND (created, n) < ($2, $3) \
                     AND (CAST($4 AS TEXT) IS NULL OR status = $4) \
                     ORDER BY created DESC, n DESC LIMIT $5"
                ))
                .bind(holder_cert)
                .bind(created)
                .bind(n)
                .bind(status)
                .bind(i64::from(limit) + 1)
                .fetch_all(self.reader())
                .await
                .map_err(db_err("inbox"))?
                .iter()
                .map(delivery_from)
                .collect::<Result<Vec<_>>>()?;
                Ok(Page::from_rows(rows, limit, |d| &d.id))
            }

            async fn deliveries_of(&self, envelope_id: &str) -> Result<Vec<DeliveryRow>> {
                sqlx::query(concat!(
                    "SELECT ",
                    delivery_cols!(),
                    " FROM deliveries WHERE envelope_id = $1 ORDER BY created, n"
                ))
                .bind(envelope_id)
                .fetch_all(self.reader())
                .await
                .map_err(db_err("deliveries"))?
                .iter()
                .map(delivery_from)
                .collect()
            }

            async fn receipt_rows(
                &self,
                envelope_id: &str,
                page: PageRequest<'_>,
            ) -> Result<Page<ReceiptRow>> {
                let limit = page.clamped_limit();
                // Oldest first: continue strictly above the cursor row's (created, n).
                let (created, n): (i64, i64) = match page.after {
                    None => (i64::MIN, i64::MIN),
                    Some(after) => {
                        let key = sqlx::query(
                            "SELECT created, n FROM deliveries WHERE id = $1 AND envelope_id = $2",
                        )
                        .bind(after)
                        .bind(envelope_id)
                        .fetch_optional(self.reader())
                        .await
                        .map_err(db_err("receipts"))?
                        .ok_or_else(|| StoreError::NotFound("page cursor".into()))?;
                        (get(&key, "created")?, get(&key, "n")?)
                    }
                };
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    delivery_summary_cols!(),
                    ", h.roles AS holder_roles, c.roles AS creator_roles \
                     FROM deliveries d \
                     LEFT JOIN members h ON h.cert_id = d.holder_cert \
                     LEFT JOIN members c ON c.cert_id = d.created_by \
                     WHERE d.envelope_id = $1 AND (d.created, d.n) > ($2, $3) \
                     ORDER BY d.created, d.n LIMIT $4"
                ))
                .bind(envelope_id)
                .bind(created)
                .bind(n)
                .bind(i64::from(limit) + 1)
                .fetch_all(self.reader())
                .await
                .map_err(db_err("receipts"))?
                .iter()
                .map(|row| {
                    let roles = |col: &str| -> Result<Option<u8>> {
                        get::<Option<i64>>(row, col)?
                            .map(|r| u8::try_from(r).map_err(|_| corrupt("roles")))
                            .transpose()
                    };
                    Ok(ReceiptRow {
                        delivery: delivery_summary_from(row)?,
                        holder_roles: roles("holder_roles")?,
                        creator_roles: roles("creator_roles")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
                Ok(Page::from_rows(rows, limit, |r| &r.delivery.id))
            }

            async fn children(&self, parent_id: &str, recalled: u32) -> Result<Vec<DeliveryRow>> {
                let mut out = sqlx::query(concat!(
                    "SELECT ",
                    delivery_summary_cols!(),
                    " FROM deliveries d WHERE d.parent = $1 AND d.status <> 'recalled' \
                     ORDER BY d.created, d.n"
                ))
                .bind(parent_id)
                .fetch_all(self.reader())
                .await
                .map_err(db_err("children"))?
                .iter()
                .map(delivery_summary_from)
                .collect::<Result<Vec<_>>>()?;
                if recalled > 0 {
                    let old = sqlx::query(concat!(
                        "SELECT ",
                        delivery_summary_cols!(),
                        " FROM deliveries d WHERE d.parent = $1 AND d.status = 'recalled' \
                         ORDER BY d.created DESC, d.n DESC LIMIT $2"
                    ))
                    .bind(parent_id)
                    .bind(i64::from(recalled))
                    .fetch_all(self.reader())
                    .await
                    .map_err(db_err("children"))?
                    .iter()
                    .map(delivery_summary_from)
                    .collect::<Result<Vec<_>>>()?;
                    out.extend(old);
                    // Oldest first (stable: rows created at the same time keep their order).
                    out.sort_by_key(|d| d.created);
                }
                Ok(out)
            }

            async fn commit_forward(
                &self,
                parent_id: &str,
                parent_status: DeliveryStatus,
                new: &[DeliveryRow],
                audit: &[NewAuditEntry],
            ) -> Result<()> {
                if !matches!(parent_status, DeliveryStatus::Delivered | DeliveryStatus::Forwarded) {
                    return Err(StoreError::Conflict(format!(
                        "a forward leaves its parent delivered or forwarded, not {}",
                        delivery_status_str(parent_status)
                    )));
                }
                let Some(at) = new.iter().map(|d| d.created).max() else {
                    return Err(StoreError::Conflict("a forward creates at least one delivery".to_owned()));
                };
                let mut tx = self.begin_audited(audit).await?;
                // The UPDATE takes the parent's row lock (PostgreSQL; SQLite serializes every
                // writer) before the children are read, so two racing forwards of the same
                // parent, or a forward racing a recall of one of its children, serialize here.
                let row = sqlx::query(
                    "UPDATE deliveries SET status = $2, updated = $3 \
                     WHERE id = $1 AND status IN ('delivered', 'forwarded') \
                     RETURNING envelope_id, parts",
                )
                .bind(parent_id)
                .bind(delivery_status_str(parent_status))
                .bind(at)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("delivery"))?;
                let Some(row) = row else {
                    let status = delivery_status_in(&mut tx, parent_id).await?;
                    return Err(StoreError::Conflict(format!(
                        "delivery {parent_id} is {}: it cannot be forwarded",
                        delivery_status_str(status)
                    )));
                };
                let envelope_id: String = get(&row, "envelope_id")?;
                let parent_parts = decode_parts(&get::<Vec<u8>>(&row, "parts")?)?;
                // Parts already held by live (not recalled) children, as committed now.
                let mut held: Vec<u32> = Vec::new();
                for r in sqlx::query(
                    "SELECT parts FROM deliveries WHERE parent = $1 AND status <> 'recalled'",
                )
                .bind(parent_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err("child deliveries"))?
                {
                    held.extend(decode_parts(&get::<Vec<u8>>(&r, "parts")?)?);
                }
                for d in new {
                    if let Some(p) = d.parts.iter().find(|p| held.contains(p)) {
                        return Err(StoreError::Conflict(format!(
                            "part {p} of delivery {parent_id} was already forwarded"
                        )));
                    }
                    if let Some(p) = d.parts.iter().find(|p| !parent_parts.contains(p)) {
                        return Err(StoreError::Conflict(format!(
                            "part {p} is not in delivery {parent_id}"
                        )));
                    }
                    held.extend(d.parts.iter().copied());
                }
                let all_taken = parent_parts.iter().all(|p| held.contains(p));
                let expected = if all_taken {
                    DeliveryStatus::Forwarded
                } else {
                    DeliveryStatus::Delivered
                };
                if expected != parent_status {
                    return Err(StoreError::Conflict(format!(
                        "delivery {parent_id} changed meanwhile: after this forward it is {}",
                        delivery_status_str(expected)
                    )));
                }
                for d in new {
                    if d.parent.as_deref() != Some(parent_id) || d.envelope_id != envelope_id {
                        return Err(StoreError::Conflict(format!(
                            "delivery {} does not continue delivery {parent_id}",
                            d.id
                        )));
                    }
                    require_active(&mut tx, &d.holder_cert, &d.holder_org, "target").await?;
                    insert_delivery(&mut tx, d).await?;
                }
                append_in(&mut tx, audit).await?;
                commit(tx).await
            }

            async fn recall(
                &self,
                delivery_id: &str,
                at: Timestamp,
                audit: &NewAuditEntry,
            ) -> Result<DeliveryRow> {
                let audit = std::slice::from_ref(audit);
                let mut tx = self.begin_audited(audit).await?;
                let row = sqlx::query(concat!(
                    "UPDATE deliveries SET status = 'recalled', header = $2, updated = $3 \
                     WHERE id = $1 AND status = 'delivered' AND downloaded IS NULL RETURNING ",
                    delivery_cols!()
                ))
                .bind(delivery_id)
                .bind(Vec::<u8>::new())
                .bind(at)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("delivery"))?;
                let Some(row) = row else {
                    let status = delivery_status_in(&mut tx, delivery_id).await?;
                    if status == DeliveryStatus::Delivered {
                        return Err(StoreError::Conflict(format!(
                            "delivery {delivery_id} was downloaded by its holder: it cannot be recalled"
                        )));
                    }
                    return Err(StoreError::Conflict(format!(
                        "delivery {delivery_id} is {}: only a delivered, unopened delivery can be recalled",
                        delivery_status_str(status)
                    )));
                };
                let recalled = delivery_from(&row)?;
                if let Some(parent) = &recalled.parent {
                    reopen_parent(&mut tx, parent, at).await?;
                }
                append_in(&mut tx, audit).await?;
                commit(tx).await?;
                Ok(recalled)
            }

            async fn recall_parts(
                &self,
                delivery_id: &str,
                kept_header: &[u8],
                recalled: &DeliveryRow,
                at: Timestamp,
                audit: &NewAuditEntry,
            ) -> Result<DeliveryRow> {
                let audit = std::slice::from_ref(audit);
                let mut tx = self.begin_audited(audit).await?;
                let row = sqlx::query(concat!(
                    "SELECT ", delivery_cols!(), " FROM deliveries \
                     WHERE id = $1 AND status = 'delivered' AND downloaded IS NULL"
                ))
                .bind(delivery_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("delivery"))?;
                let Some(row) = row else {
                    let status = delivery_status_in(&mut tx, delivery_id).await?;
                    return Err(StoreError::Conflict(format!(
                        "delivery {delivery_id} is {} or was downloaded: its parts cannot be recalled",
                        delivery_status_str(status)
                    )));
                };
                let current = delivery_from(&row)?;
                let kept: Vec<u32> = current
                    .parts
                    .iter()
                    .copied()
                    .filter(|p| !recalled.parts.contains(p))
                    .collect();
                if recalled.parts.is_empty()
                    || kept.is_empty()
                    || recalled.parts.iter().any(|p| !current.parts.contains(p))
                    || recalled.holder_cert != current.holder_cert
                    || recalled.parent != current.parent
                    || recalled.envelope_id != current.envelope_id
                {
                    return Err(StoreError::Conflict(format!(
                        "delivery {delivery_id} does not hold exactly those parts any more"
                    )));
                }
                let row = sqlx::query(concat!(
                    "UPDATE deliveries SET parts = $2, header = $3, updated = $4 \
                     WHERE id = $1 AND parts = $5 RETURNING ",
                    delivery_cols!()
                ))
                .bind(delivery_id)
                .bind(encode_parts(&kept))
                .bind(kept_header)
                .bind(at)
                .bind(encode_parts(&current.parts))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("delivery"))?
                .ok_or_else(|| {
                    StoreError::Conflict(format!("delivery {delivery_id} changed meanwhile"))
                })?;
                insert_delivery(&mut tx, recalled).await?;
                if let Some(parent) = &current.parent {
                    reopen_parent(&mut tx, parent, at).await?;
                }
                append_in(&mut tx, audit).await?;
                commit(tx).await?;
                delivery_from(&row)
            }

            async fn record_download(&self, delivery_id: &str, at: Timestamp) -> Result<DeliveryRow> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(concat!(
                    "UPDATE deliveries SET downloaded = COALESCE(downloaded, $2) \
                     WHERE id = $1 AND status IN ('delivered', 'opened') RETURNING ",
                    delivery_cols!()
                ))
                .bind(delivery_id)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err("delivery"))?;
                let Some(row) = row else {
                    let status = delivery_status_in(&mut tx, delivery_id).await?;
                    return Err(StoreError::Conflict(format!(
                        "delivery {delivery_id} is {}: it cannot be downloaded",
                        delivery_status_str(status)
                    )));
                };
                let d = delivery_from(&row)?;
                commit(tx).await?;
                Ok(d)
            }

            async fn mark_opened(
                &self,
                delivery_id: &str,
                at: Timestamp,
                audit: &NewAuditEntry,
            ) -> Result<()> {
                let audit = std::slice::from_ref(audit);
                let mut tx = self.begin_audited(audit).await?;
                let done = sqlx::query(
                    "UPDATE deliveries SET status = 'opened', updated = $2 \
                     WHERE id = $1 AND status = 'delivered'",
                )
                .bind(delivery_id)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(db_err("delivery"))?;
                if done.rows_affected() == 0 {
                    return match delivery_status_in(&mut tx, delivery_id).await? {
                        // Idempotent: already opened, nothing changes and nothing is logged.
                        DeliveryStatus::Opened => Ok(()),
                        other => Err(StoreError::Conflict(format!(
                            "delivery {delivery_id} is {}: it cannot be opened",
                            delivery_status_str(other)
                        ))),
                    };
                }
                append_in(&mut tx, audit).await?;
                commit(tx).await
            }

            async fn expire(&self, now: Timestamp) -> Result<Vec<String>> {
                let mut tx = self.begin_write().await?;
                // Unopened copies past their holder organization's expiry lose their capsules.
                sqlx::query(
                    "UPDATE deliveries SET status = 'expired', header = $2, updated = $1 \
                     WHERE status IN ('delivered', 'forwarded') AND EXISTS ( \
                         SELECT 1 FROM orgs o WHERE o.id = deliveries.holder_org \
                         AND o.expiry_days IS NOT NULL \
                         AND deliveries.created + o.expiry_days * $3 <= $1)",
                )
                .bind(now)
                .bind(Vec::<u8>::new())
                .bind(DAY)
                .execute(&mut *tx)
                .await
                .map_err(db_err("expire deliveries"))?;
                // Bodies go when the sender's or the recipient's retention has passed, or when
                // no delivery holds a capsule any more.
                let removed = sqlx::query(
                    "UPDATE envelopes SET body_removed = TRUE \
                     WHERE body_removed = FALSE AND ( \
                         EXISTS (SELECT 1 FROM orgs o \
                             WHERE o.id IN (envelopes.sender_org, envelopes.recipient_org) \
                             AND o.retention_days IS NOT NULL \
                             AND envelopes.created + o.retention_days * $2 <= $1) \
                         OR NOT EXISTS (SELECT 1 FROM deliveries d \
                             WHERE d.envelope_id = envelopes.id \
                             AND d.status NOT IN ('expired', 'recalled'))) \
                     RETURNING blob_key",
                )
                .bind(now)
                .bind(DAY)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err("expire bodies"))?;
                let mut keys = Vec::with_capacity(removed.len());
                for row in &removed {
                    let key: String = get(row, "blob_key")?;
                    // A key still used by a live envelope stays.
                    let live = sqlx::query(
                        "SELECT 1 AS one FROM envelopes WHERE blob_key = $1 AND body_removed = FALSE",
                    )
                    .bind(&key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err("envelopes"))?;
                    if live.is_none() && !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                sqlx::query("DELETE FROM challenges WHERE expires <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("challenges"))?;
                sqlx::query("DELETE FROM tokens WHERE expires <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("tokens"))?;
                // Upload records that no longer claim anything: their blobs are orphans now.
                sqlx::query("DELETE FROM uploads WHERE expires <= $1")
                    .bind(now - UPLOAD_GRACE)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("uploads"))?;
                commit(tx).await?;
                keys.sort();
                Ok(keys)
            }

            async fn referenced_blob_keys(&self) -> Result<Vec<String>> {
                sqlx::query(
                    "SELECT DISTINCT blob_key FROM envelopes WHERE body_removed = FALSE \
                     ORDER BY blob_key",
                )
                .fetch_all(self.reader())
                .await
                .map_err(db_err("blob keys"))?
                .iter()
                .map(|r| get(r, "blob_key"))
                .collect()
            }

            async fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<()> {
                if entries.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_audited(entries).await?;
                append_in(&mut tx, entries).await?;
                commit(tx).await
            }

            async fn audit(&self, org_id: &str, from: u64, limit: u32) -> Result<Vec<AuditRow>> {
                sqlx::query(concat!(
                    "SELECT ",
                    audit_cols!(),
                    " FROM audit WHERE org_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3"
                ))
                .bind(org_id)
                .bind(i64::try_from(from).unwrap_or(i64::MAX))
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await
                .map_err(db_err("audit"))?
                .iter()
                .map(audit_from)
                .collect()
            }

            async fn set_rules(
                &self,
                owner_cert: &str,
                rules: &[RuleRow],
                statement: &[u8],
                audit: &[NewAuditEntry],
            ) -> Result<()> {
                if let Some(r) = rules.iter().find(|r| r.owner_cert != owner_cert) {
                    return Err(StoreError::Conflict(format!(
                        "rule {} belongs to {}, not {owner_cert}",
                        r.id, r.owner_cert
                    )));
                }
                let mut tx = self.begin_audited(audit).await?;
                sqlx::query("DELETE FROM rules WHERE owner_cert = $1")
                    .bind(owner_cert)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err("rules"))?;
                for r in rules {
                    sqlx::query(concat!(
                        "INSERT INTO rules (",
                        rule_cols!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6)"
                    ))
                    .bind(&r.id)
                    .bind(&r.org_id)
                    .bind(&r.owner_cert)
                    .bind(&r.rule)
                    .bind(r.position)
                    .bind(r.created)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err(&format!("rule {}", r.id)))?;
                }
                sqlx::query(
                    "INSERT INTO rule_statements (owner_cert, statement) VALUES ($1, $2) \
                     ON CONFLICT (owner_cert) DO UPDATE SET statement = excluded.statement",
                )
                .bind(owner_cert)
                .bind(statement)
                .execute(&mut *tx)
                .await
                .map_err(db_err("rules statement"))?;
                append_in(&mut tx, audit).await?;
                commit(tx).await
            }

            async fn rules_statement(&self, owner_cert: &str) -> Result<Option<Vec<u8>>> {
                let row = sqlx::query("SELECT statement FROM rule_statements WHERE owner_cert = $1")
                    .bind(owner_cert)
                    .fetch_optional(self.reader())
                    .await
                    .map_err(db_err("rules statement"))?;
                row.map(|r| get::<Vec<u8>>(&r, "statement")).transpose()
            }

            async fn put_revocation_list(
                &self,
                list: &RevocationListRow,
                audit: &NewAuditEntry,
            ) -> Result<()> {
                self.put_newer_status(
                    "INSERT INTO revocation_lists (org_id, serial, list, created) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE \
                     SET serial = excluded.serial, list = excluded.list, created = excluded.created \
                     WHERE revocation_lists.serial < excluded.serial",
                    (&list.org_id, list.serial, &list.list, list.created),
                    audit,
                    || format!(
                        "the stored revocation list of {} has a serial of at least {}",
                        list.org_id, list.serial
                    ),
                )
                .await
            }

            async fn revocation_list(&self, org_id: &str) -> Result<RevocationListRow> {
                self.signed_list(
                    "SELECT org_id, serial, list, created FROM revocation_lists WHERE org_id = $1",
                    "revocation list",
                    org_id,
                )
                .await
            }

            async fn put_partner_list(
                &self,
                list: &PartnerListRow,
                audit: &NewAuditEntry,
            ) -> Result<()> {
                self.put_newer_status(
                    "INSERT INTO partner_lists (org_id, serial, list, created) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE \
                     SET serial = excluded.serial, list = excluded.list, created = excluded.created \
                     WHERE partner_lists.serial < excluded.serial",
                    (&list.org_id, list.serial, &list.list, list.created),
                    audit,
                    || format!(
                        "the stored partner list of {} has a serial of at least {}",
                        list.org_id, list.serial
                    ),
                )
                .await
            }

            async fn partner_list(&self, org_id: &str) -> Result<PartnerListRow> {
                self.signed_list(
                    "SELECT org_id, serial, list, created FROM partner_lists WHERE org_id = $1",
                    "partner list",
                    org_id,
                )
                .await
            }

            async fn put_checkpoint(
                &self,
                cp: &CheckpointRow,
                audit: &NewAuditEntry,
            ) -> Result<()> {
                self.put_newer_status(
                    "INSERT INTO audit_checkpoints (org_id, position, checkpoint, created) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE \
                     SET position = excluded.position, checkpoint = excluded.checkpoint, \
                     created = excluded.created \
                     WHERE audit_checkpoints.position < excluded.position",
                    (&cp.org_id, cp.position, &cp.checkpoint, cp.created),
                    audit,
                    || format!(
                        "the stored checkpoint of {} is at position {} or later",
                        cp.org_id, cp.position
                    ),
                )
                .await
            }

            async fn checkpoint(&self, org_id: &str) -> Result<CheckpointRow> {
                let row = sqlx::query(
                    "SELECT org_id, position, checkpoint, created FROM audit_checkpoints \
                     WHERE org_id = $1",
                )
                .bind(org_id)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err("checkpoint"))?
                .ok_or_else(|| StoreError::NotFound(format!("checkpoint of {org_id}")))?;
                Ok(CheckpointRow {
                    org_id: get(&row, "org_id")?,
                    position: u64::try_from(get::<i64>(&row, "position")?)
                        .map_err(|_| corrupt("position"))?,
                    checkpoint: get(&row, "checkpoint")?,
                    created: get(&row, "created")?,
                })
            }

            async fn put_local_state(&self, ls: &LocalStateRow) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "INSERT INTO local_states (cert_id, kind, serial, state, updated) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cert_id, kind) DO UPDATE \
                     SET serial = excluded.serial, state = excluded.state, \
                     updated = excluded.updated \
                     WHERE local_states.serial < excluded.serial",
                )
                .bind(&ls.cert_id)
                .bind(&ls.kind)
                .bind(to_i64(ls.serial, "serial")?)
                .bind(&ls.state)
                .bind(ls.updated)
                .execute(&mut *tx)
                .await
                .map_err(db_err(&format!("local state of {}", ls.cert_id)))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict(format!(
                        "the stored {} state of {} has a serial of at least {}",
                        ls.kind, ls.cert_id, ls.serial
                    )));
                }
                commit(tx).await
            }

            async fn local_state(&self, cert_id: &str, kind: &str) -> Result<LocalStateRow> {
                let row = sqlx::query(
                    "SELECT cert_id, kind, serial, state, updated FROM local_states \
                     WHERE cert_id = $1 AND kind = $2",
                )
                .bind(cert_id)
                .bind(kind)
                .fetch_optional(self.reader())
                .await
                .map_err(db_err("local state"))?
                .ok_or_else(|| StoreError::NotFound(format!("{kind} state of {cert_id}")))?;
                Ok(LocalStateRow {
                    cert_id: get(&row, "cert_id")?,
                    kind: get(&row, "kind")?,
                    serial: u64::try_from(get::<i64>(&row, "serial")?)
                        .map_err(|_| corrupt("serial"))?,
                    state: get(&row, "state")?,
                    updated: get(&row, "updated")?,
                })
            }

            async fn rules(&self, owner_cert: &str) -> Result<Vec<RuleRow>> {
                sqlx::query(concat!(
                    "SELECT ",
                    rule_cols!(),
                    " FROM rules WHERE owner_cert = $1 ORDER BY position, n"
                ))
                .bind(owner_cert)
                .fetch_all(self.reader())
                .await
                .map_err(db_err("rules"))?
                .iter()
                .map(rule_from)
                .collect()
            }
        }

        /// Insert an envelope, its first delivery and the audit entries (heads locked), after
        /// checking that sender and recipient are active members.
        async fn insert_envelope(
            tx: &mut Tx,
            env: &EnvelopeRow,
            first: &DeliveryRow,
            audit: &[NewAuditEntry],
        ) -> Result<()> {
            require_active(tx, &env.sender_cert, &env.sender_org, "sender").await?;
            require_active(tx, &first.holder_cert, &first.holder_org, "recipient").await?;
            sqlx::query(concat!(
                "INSERT INTO envelopes (",
                envelope_cols!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(&env.id)
            .bind(i64::from(env.suite))
            .bind(&env.sender_cert)
            .bind(&env.sender_org)
            .bind(&env.recipient_org)
            .bind(&env.blob_key)
            .bind(to_i64(env.bodies_len, "bodies_len")?)
            .bind(env.created)
            .bind(env.body_removed)
            .execute(&mut **tx)
            .await
            .map_err(db_err(&format!("envelope {}", env.id)))?;
            insert_delivery(tx, first).await?;
            append_in(tx, audit).await
        }

        async fn insert_member(tx: &mut Tx, m: &MemberRow) -> Result<()> {
            sqlx::query(concat!(
                "INSERT INTO members (",
                member_cols!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ))
            .bind(&m.cert_id)
            .bind(&m.org_id)
            .bind(&m.member_name)
            .bind(i64::from(m.roles))
            .bind(&m.certificate)
            .bind(member_status_str(m.status))
            .bind(m.created)
            .bind(m.revoked_at)
            .execute(&mut **tx)
            .await
            .map_err(db_err(&format!("member {}", m.cert_id)))?;
            Ok(())
        }
    };
}
pub(crate) use sql_store;
