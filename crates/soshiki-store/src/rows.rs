//! Typed rows: for each row type, its column list and the one function that maps those
//! columns to its fields ([`FromSqlRow`]). Statements name the columns through the list's
//! macro (`org_cols!()`, …: a macro so that `concat!` can build statement literals from it),
//! which sits beside the decoder and is also the decoder's [`FromSqlRow::COLUMNS`].

use crate::sql::{bytes_from_db, corrupt, days_from_db, decode_parts, get, hash32, SqlRow};
use crate::{
    AuditRow, CheckpointRow, DeliveryRow, EnrollmentRow, EnvelopeRow, LocalStateRow, MemberRow,
    OrgRow, ReceiptRow, Result, RuleRow, SignedListRow, UploadRow,
};

/// A row type read from a result row.
pub(crate) trait FromSqlRow: Sized {
    /// The columns [`FromSqlRow::from_row`] reads, in table order (as the statements select
    /// and insert them). Statements build their literals from the same list's macro; the
    /// schema test checks every list against the migrated tables.
    #[cfg_attr(not(test), allow(dead_code))]
    const COLUMNS: &'static str;
    /// Map the columns to the fields.
    fn from_row(row: &impl SqlRow) -> Result<Self>;
}

/// An unsigned integer column.
fn unsigned<T: TryFrom<i64>>(row: &impl SqlRow, col: &str) -> Result<T> {
    T::try_from(get::<i64>(row, col)?).map_err(|_| corrupt(col))
}

macro_rules! org_cols {
    () => {
        "id, suite, name, record, created, expiry_days, retention_days, max_validity_days, \
         quota_bytes, sender_role_required"
    };
}

impl FromSqlRow for OrgRow {
    const COLUMNS: &'static str = org_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(OrgRow {
            id: get(row, "id")?,
            suite: unsigned(row, "suite")?,
            name: get(row, "name")?,
            record: get(row, "record")?,
            created: get(row, "created")?,
            expiry_days: days_from_db(get(row, "expiry_days")?, "expiry_days")?,
            retention_days: days_from_db(get(row, "retention_days")?, "retention_days")?,
            max_validity_days: days_from_db(get(row, "max_validity_days")?, "max_validity_days")?,
            quota_bytes: bytes_from_db(get(row, "quota_bytes")?, "quota_bytes")?,
            sender_role_required: get(row, "sender_role_required")?,
        })
    }
}

/// An organization's usage: the sum of the three parts of [`crate::sql::ORG_USAGE_SQL`].
pub(crate) struct Usage(pub(crate) u64);

impl FromSqlRow for Usage {
    const COLUMNS: &'static str = "bodies, headers, pending";
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        ["bodies", "headers", "pending"]
            .iter()
            .try_fold(0u64, |sum, col| {
                Ok(sum.saturating_add(unsigned::<u64>(row, col)?))
            })
            .map(Usage)
    }
}

macro_rules! member_cols {
    () => {
        "cert_id, org_id, member_name, roles, certificate, status, created, revoked_at"
    };
}

impl FromSqlRow for MemberRow {
    const COLUMNS: &'static str = member_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(MemberRow {
            cert_id: get(row, "cert_id")?,
            org_id: get(row, "org_id")?,
            member_name: get(row, "member_name")?,
            roles: unsigned(row, "roles")?,
            certificate: get(row, "certificate")?,
            status: get::<String>(row, "status")?
                .parse()
                .map_err(|_| corrupt("member status"))?,
            created: get(row, "created")?,
            revoked_at: get(row, "revoked_at")?,
        })
    }
}

macro_rules! enrollment_cols {
    () => {
        "id, org_id, request, status, created, cert_id"
    };
}

impl FromSqlRow for EnrollmentRow {
    const COLUMNS: &'static str = enrollment_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(EnrollmentRow {
            id: get(row, "id")?,
            org_id: get(row, "org_id")?,
            request: get(row, "request")?,
            status: get::<String>(row, "status")?
                .parse()
                .map_err(|_| corrupt("enrollment status"))?,
            created: get(row, "created")?,
            cert_id: get(row, "cert_id")?,
        })
    }
}

macro_rules! envelope_cols {
    () => {
        "id, suite, sender_cert, sender_org, recipient_org, blob_key, bodies_len, created, \
         body_removed"
    };
}

impl FromSqlRow for EnvelopeRow {
    const COLUMNS: &'static str = envelope_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(EnvelopeRow {
            id: get(row, "id")?,
            suite: unsigned(row, "suite")?,
            sender_cert: get(row, "sender_cert")?,
            sender_org: get(row, "sender_org")?,
            recipient_org: get(row, "recipient_org")?,
            blob_key: get(row, "blob_key")?,
            bodies_len: unsigned(row, "bodies_len")?,
            created: get(row, "created")?,
            body_removed: get(row, "body_removed")?,
        })
    }
}

macro_rules! delivery_cols {
    () => {
        "id, envelope_id, holder_cert, holder_org, parent, created_by, header, parts, status, \
         created, updated, downloaded"
    };
}
/// The delivery columns but `header`, qualified by the alias `d` ([`DeliverySummary`]).
macro_rules! delivery_summary_cols {
    () => {
        "d.id, d.envelope_id, d.holder_cert, d.holder_org, d.parent, d.created_by, d.parts, \
         d.status, d.created, d.updated, d.downloaded"
    };
}

impl FromSqlRow for DeliveryRow {
    const COLUMNS: &'static str = delivery_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        delivery_with_header(row, get(row, "header")?)
    }
}

/// A delivery read without its `header` column (left empty).
pub(crate) struct DeliverySummary(pub(crate) DeliveryRow);

impl FromSqlRow for DeliverySummary {
    const COLUMNS: &'static str = delivery_summary_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        delivery_with_header(row, Vec::new()).map(DeliverySummary)
    }
}

fn delivery_with_header(row: &impl SqlRow, header: Vec<u8>) -> Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: get(row, "id")?,
        envelope_id: get(row, "envelope_id")?,
        holder_cert: get(row, "holder_cert")?,
        holder_org: get(row, "holder_org")?,
        parent: get(row, "parent")?,
        created_by: get(row, "created_by")?,
        header,
        parts: decode_parts(&get::<Vec<u8>>(row, "parts")?)?,
        status: get::<String>(row, "status")?
            .parse()
            .map_err(|_| corrupt("delivery status"))?,
        created: get(row, "created")?,
        updated: get(row, "updated")?,
        downloaded: get(row, "downloaded")?,
    })
}

/// The receipt columns: a [`DeliverySummary`] of `d` and the roles of its holder `h` and its
/// creator `c` (left joins).
macro_rules! receipt_cols {
    () => {
        concat!(
            delivery_summary_cols!(),
            ", h.roles AS holder_roles, c.roles AS creator_roles"
        )
    };
}

impl FromSqlRow for ReceiptRow {
    const COLUMNS: &'static str = receipt_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        let roles = |col: &str| -> Result<Option<u8>> {
            get::<Option<i64>>(row, col)?
                .map(|r| u8::try_from(r).map_err(|_| corrupt("roles")))
                .transpose()
        };
        Ok(ReceiptRow {
            delivery: DeliverySummary::from_row(row)?.0,
            holder_roles: roles("holder_roles")?,
            creator_roles: roles("creator_roles")?,
        })
    }
}

macro_rules! audit_cols {
    () => {
        "org_id, seq, entry, prev_hash, hash, created"
    };
}

impl FromSqlRow for AuditRow {
    const COLUMNS: &'static str = audit_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(AuditRow {
            org_id: get(row, "org_id")?,
            seq: unsigned(row, "seq")?,
            entry: get(row, "entry")?,
            prev_hash: hash32(&get::<Vec<u8>>(row, "prev_hash")?, "prev_hash")?,
            hash: hash32(&get::<Vec<u8>>(row, "hash")?, "hash")?,
            created: get(row, "created")?,
        })
    }
}

/// The head of an audit trail: its last sequence number and hash.
pub(crate) struct AuditHead(pub(crate) u64, pub(crate) [u8; 32]);

impl FromSqlRow for AuditHead {
    const COLUMNS: &'static str = "seq, hash";
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(AuditHead(
            unsigned(row, "seq")?,
            hash32(&get::<Vec<u8>>(row, "hash")?, "hash")?,
        ))
    }
}

macro_rules! upload_cols {
    () => {
        "id, org_id, actor_cert, record_key, blob_key, bytes, created, expires"
    };
}

impl FromSqlRow for UploadRow {
    const COLUMNS: &'static str = upload_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(UploadRow {
            id: get(row, "id")?,
            org_id: get(row, "org_id")?,
            actor_cert: get(row, "actor_cert")?,
            record_key: get(row, "record_key")?,
            blob_key: get(row, "blob_key")?,
            bytes: unsigned(row, "bytes")?,
            created: get(row, "created")?,
            expires: get(row, "expires")?,
        })
    }
}

macro_rules! rule_cols {
    () => {
        "id, org_id, owner_cert, rule, position, created"
    };
}

impl FromSqlRow for RuleRow {
    const COLUMNS: &'static str = rule_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(RuleRow {
            id: get(row, "id")?,
            org_id: get(row, "org_id")?,
            owner_cert: get(row, "owner_cert")?,
            rule: get(row, "rule")?,
            position: get(row, "position")?,
            created: get(row, "created")?,
        })
    }
}

macro_rules! signed_list_cols {
    () => {
        "org_id, serial, list, created"
    };
}

impl FromSqlRow for SignedListRow {
    const COLUMNS: &'static str = signed_list_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(SignedListRow {
            org_id: get(row, "org_id")?,
            serial: unsigned(row, "serial")?,
            list: get(row, "list")?,
            created: get(row, "created")?,
        })
    }
}

macro_rules! checkpoint_cols {
    () => {
        "org_id, position, checkpoint, created"
    };
}

impl FromSqlRow for CheckpointRow {
    const COLUMNS: &'static str = checkpoint_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(CheckpointRow {
            org_id: get(row, "org_id")?,
            position: unsigned(row, "position")?,
            checkpoint: get(row, "checkpoint")?,
            created: get(row, "created")?,
        })
    }
}

macro_rules! local_state_cols {
    () => {
        "cert_id, kind, serial, state, updated"
    };
}

impl FromSqlRow for LocalStateRow {
    const COLUMNS: &'static str = local_state_cols!();
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(LocalStateRow {
            cert_id: get(row, "cert_id")?,
            kind: get(row, "kind")?,
            serial: unsigned(row, "serial")?,
            state: get(row, "state")?,
            updated: get(row, "updated")?,
        })
    }
}

pub(crate) use {
    audit_cols, checkpoint_cols, delivery_cols, delivery_summary_cols, enrollment_cols,
    envelope_cols, local_state_cols, member_cols, org_cols, receipt_cols, rule_cols,
    signed_list_cols, upload_cols,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Backend;

    /// Every column list names columns of its table, on a freshly migrated database.
    #[tokio::test]
    async fn column_lists_match_the_schema() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}/columns.sqlite", dir.path().display());
        let store = crate::SqliteStore::open(&url)
            .await
            .expect("open the store");
        let receipts = "deliveries d LEFT JOIN members h ON h.cert_id = d.holder_cert \
                        LEFT JOIN members c ON c.cert_id = d.created_by";
        for (columns, from) in [
            (OrgRow::COLUMNS, "orgs"),
            (MemberRow::COLUMNS, "members"),
            (EnrollmentRow::COLUMNS, "enrollments"),
            (EnvelopeRow::COLUMNS, "envelopes"),
            (DeliveryRow::COLUMNS, "deliveries"),
            (DeliverySummary::COLUMNS, "deliveries d"),
            (ReceiptRow::COLUMNS, receipts),
            (AuditRow::COLUMNS, "audit"),
            (AuditHead::COLUMNS, "audit"),
            (UploadRow::COLUMNS, "uploads"),
            (RuleRow::COLUMNS, "rules"),
            (SignedListRow::COLUMNS, "revocation_lists"),
            (SignedListRow::COLUMNS, "partner_lists"),
            (CheckpointRow::COLUMNS, "audit_checkpoints"),
            (LocalStateRow::COLUMNS, "local_states"),
        ] {
            let q = format!("SELECT {columns} FROM {from} LIMIT 0");
            sqlx::query(sqlx::AssertSqlSafe(q))
                .fetch_all(store.reader())
                .await
                .unwrap_or_else(|e| panic!("SELECT {columns} FROM {from}: {e}"));
        }
        let usage = format!(
            "SELECT {} FROM ({}) u",
            Usage::COLUMNS,
            crate::sql::ORG_USAGE_SQL
        );
        sqlx::query(sqlx::AssertSqlSafe(usage))
            .bind("00")
            .bind(0i64)
            .fetch_all(store.reader())
            .await
            .expect("the usage columns");
    }
}
