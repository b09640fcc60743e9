//! [`Store`] for every SQL backend ([`Backend`]): the statements and the transaction logic,
//! written once as ordinary generic code over the backend.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::rows::{
    audit_cols, checkpoint_cols, delivery_cols, delivery_summary_cols, enrollment_cols,
    envelope_cols, local_state_cols, member_cols, org_cols, receipt_cols, rule_cols,
    signed_list_cols, upload_cols, AuditHead, DeliverySummary, FromSqlRow, Usage,
};
use crate::sql::{
    audit_orgs, bytes_from_db, bytes_to_db, corrupt, cursor, days_to_db, decode_parts,
    encode_parts, get, sql, to_i64, Backend, WriteTx, DAY, ORG_USAGE_SQL,
};
use crate::{
    audit_hash, AuditRow, CheckpointRow, DeliveryRow, DeliveryStatus, EnrollmentRow,
    EnrollmentStatus, EnvelopeRow, LocalStateRow, MemberRow, MemberStatus, NewAuditEntry,
    OrgPolicy, OrgRow, Page, PageRequest, PartnerListRow, ReceiptRow, Result, RevocationListRow,
    RuleRow, SignedListRow, Store, StoreError, Timestamp, UploadRow, UPLOAD_GRACE,
};

/// A write transaction with the audit heads of `audit`'s organizations locked.
async fn begin_audited<B: Backend>(b: &B, audit: &[NewAuditEntry]) -> Result<B::Tx> {
    let mut tx = b.begin_write().await?;
    B::lock_audit_heads(&mut tx, &audit_orgs(audit)).await?;
    Ok(tx)
}

/// Append entries to their trails inside `tx` (whose heads are already locked).
async fn append_in(tx: &mut impl WriteTx, entries: &[NewAuditEntry]) -> Result<()> {
    let mut heads: HashMap<&str, AuditHead> = HashMap::new();
    for e in entries {
        let head = match heads.remove(e.org_id.as_str()) {
            Some(h) => h,
            None => sql("SELECT seq, hash FROM audit WHERE org_id = $1 ORDER BY seq DESC LIMIT 1")
                .bind(&e.org_id)
                .optional(tx.conn(), "audit head")
                .await?
                .map(|r| AuditHead::from_row(&r))
                .transpose()?
                .unwrap_or(AuditHead(0, [0u8; 32])),
        };
        let seq = head.0 + 1;
        let hash = audit_hash(&head.1, seq, &e.entry);
        sql(concat!(
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
        .run(tx.conn(), "audit entry")
        .await?;
        heads.insert(e.org_id.as_str(), AuditHead(seq, hash));
    }
    crate::counters::audit_written(entries.len());
    Ok(())
}

/// Check that a certificate is an active member of `org_id`, holding its row until the
/// transaction ends (a concurrent revocation waits or wins).
async fn require_active<B: Backend>(
    tx: &mut B::Tx,
    cert_id: &str,
    org_id: &str,
    what: &str,
) -> Result<()> {
    let row = sql(B::LOCKS.member_status)
        .bind(cert_id)
        .row_or(tx.conn(), "member", || format!("{what} {cert_id}"))
        .await?;
    if get::<String>(&row, "org_id")? != org_id {
        return Err(StoreError::Conflict(format!(
            "{what} {cert_id} is not a member of organization {org_id}"
        )));
    }
    let status: MemberStatus = get::<String>(&row, "status")?
        .parse()
        .map_err(|_| corrupt("member status"))?;
    if status != MemberStatus::Active {
        return Err(StoreError::Conflict(format!("{what} {cert_id} is revoked")));
    }
    Ok(())
}

/// Insert an envelope, its first delivery and the audit entries (heads locked), after checking
/// that sender and recipient are active members.
async fn insert_envelope<B: Backend>(
    tx: &mut B::Tx,
    env: &EnvelopeRow,
    first: &DeliveryRow,
    audit: &[NewAuditEntry],
) -> Result<()> {
    require_active::<B>(tx, &env.sender_cert, &env.sender_org, "sender").await?;
    require_active::<B>(tx, &first.holder_cert, &first.holder_org, "recipient").await?;
    sql(concat!(
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
    .run(tx.conn(), &format!("envelope {}", env.id))
    .await?;
    insert_delivery(tx, first).await?;
    append_in(tx, audit).await
}

/// The first delivery of an envelope must be a parentless delivery of it.
fn check_first(env: &EnvelopeRow, first: &DeliveryRow) -> Result<()> {
    if first.envelope_id != env.id || first.parent.is_some() {
        return Err(StoreError::Conflict(format!(
            "delivery {} is not the first delivery of envelope {}",
            first.id, env.id
        )));
    }
    Ok(())
}

async fn insert_member(tx: &mut impl WriteTx, m: &MemberRow) -> Result<()> {
    sql(concat!(
        "INSERT INTO members (",
        member_cols!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(&m.cert_id)
    .bind(&m.org_id)
    .bind(&m.member_name)
    .bind(i64::from(m.roles))
    .bind(&m.certificate)
    .bind(m.status.as_str())
    .bind(m.created)
    .bind(m.revoked_at)
    .run(tx.conn(), &format!("member {}", m.cert_id))
    .await?;
    Ok(())
}

async fn insert_delivery(tx: &mut impl WriteTx, d: &DeliveryRow) -> Result<()> {
    sql(concat!(
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
    .bind(d.status.as_str())
    .bind(d.created)
    .bind(d.updated)
    .bind(d.downloaded)
    .run(tx.conn(), "delivery")
    .await?;
    Ok(())
}

/// A recall gives its parts back: the parent, if `forwarded`, is `delivered` again.
async fn reopen_parent(tx: &mut impl WriteTx, parent: &str, at: Timestamp) -> Result<()> {
    sql("UPDATE deliveries SET status = 'delivered', updated = $2 \
         WHERE id = $1 AND status = 'forwarded'")
    .bind(parent)
    .bind(at)
    .run(tx.conn(), "parent delivery")
    .await?;
    Ok(())
}

/// The status of a delivery inside `tx` (to explain a failed conditional update).
async fn delivery_status_in(tx: &mut impl WriteTx, id: &str) -> Result<DeliveryStatus> {
    let row = sql("SELECT status FROM deliveries WHERE id = $1")
        .bind(id)
        .row_or(tx.conn(), "delivery", || format!("delivery {id}"))
        .await?;
    get::<String>(&row, "status")?
        .parse()
        .map_err(|_| corrupt("delivery status"))
}

/// Why a conditional update of a pending enrollment changed nothing: it is missing
/// (`NotFound`) or no longer pending (`Conflict`).
async fn enrollment_not_pending(tx: &mut impl WriteTx, enrollment_id: &str) -> Result<StoreError> {
    let exists = sql("SELECT status FROM enrollments WHERE id = $1")
        .bind(enrollment_id)
        .optional(tx.conn(), "enrollment")
        .await?;
    Ok(match exists {
        None => StoreError::NotFound(format!("enrollment {enrollment_id}")),
        Some(r) => StoreError::Conflict(format!(
            "enrollment {enrollment_id} is {}, not pending",
            get::<String>(&r, "status")?
        )),
    })
}

/// An organization's newest signed list, read by `stmt` (a `SELECT` of `revocation_lists` or
/// `partner_lists` by `org_id`).
async fn signed_list<B: Backend>(
    b: &B,
    stmt: &'static str,
    what: &str,
    org_id: &str,
) -> Result<SignedListRow> {
    sql(stmt)
        .bind(org_id)
        .item_or(b.read(), "signed list", || format!("{what} of {org_id}"))
        .await
}

/// Store an organization-signed status object (`stmt` upserts `(org_id, number, bytes,
/// created)` only when `number` is greater than the stored one's) with its audit entry, in one
/// transaction; `Conflict(stale())` when it is not newer.
async fn put_newer_status<B: Backend>(
    b: &B,
    stmt: &'static str,
    (org_id, number, bytes, created): (&str, u64, &[u8], Timestamp),
    audit: &NewAuditEntry,
    stale: impl FnOnce() -> String,
) -> Result<()> {
    let audit = std::slice::from_ref(audit);
    let mut tx = begin_audited(b, audit).await?;
    let done = sql(stmt)
        .bind(org_id)
        .bind(to_i64(number, "serial or position")?)
        .bind(bytes)
        .bind(created)
        .run(tx.conn(), &format!("signed status of {org_id}"))
        .await?;
    if done == 0 {
        return Err(StoreError::Conflict(stale()));
    }
    append_in(&mut tx, audit).await?;
    B::commit_write(tx).await
}

#[async_trait]
impl<B: Backend> Store for B {
    async fn create_org(&self, org: &OrgRow) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sql(concat!(
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
        .run(tx.conn(), &format!("organization {}", org.id))
        .await?;
        B::commit_write(tx).await
    }

    async fn org(&self, id: &str) -> Result<OrgRow> {
        sql(concat!("SELECT ", org_cols!(), " FROM orgs WHERE id = $1"))
            .bind(id)
            .item_or(self.read(), "organization", || format!("organization {id}"))
            .await
    }

    async fn orgs(&self, page: PageRequest<'_>) -> Result<Page<OrgRow>> {
        let limit = page.clamped_limit();
        let fetch = i64::from(limit) + 1;
        let key = cursor(
            page.after,
            |after| sql("SELECT name FROM orgs WHERE id = $1").bind(after),
            self.read(),
            "organizations",
        )
        .await?;
        let rows = match (page.after, key) {
            (Some(after), Some(key)) => sql(concat!(
                "SELECT ",
                org_cols!(),
                " FROM orgs WHERE (name, id) > ($1, $2) ORDER BY name, id LIMIT $3"
            ))
            .bind(get::<String>(&key, "name")?)
            .bind(after)
            .bind(fetch),
            _ => sql(concat!(
                "SELECT ",
                org_cols!(),
                " FROM orgs ORDER BY name, id LIMIT $1"
            ))
            .bind(fetch),
        }
        .items(self.read(), "organizations")
        .await?;
        Ok(Page::from_rows(rows, limit, |o| &o.id))
    }

    async fn set_org_policy(
        &self,
        id: &str,
        policy: &OrgPolicy,
        audit: &[NewAuditEntry],
    ) -> Result<()> {
        let mut tx = begin_audited(self, audit).await?;
        let done = sql("UPDATE orgs SET expiry_days = $2, retention_days = $3, \
             max_validity_days = $4, quota_bytes = $5, sender_role_required = $6 \
             WHERE id = $1")
        .bind(id)
        .bind(days_to_db(policy.expiry_days))
        .bind(days_to_db(policy.retention_days))
        .bind(days_to_db(policy.max_validity_days))
        .bind(bytes_to_db(policy.quota_bytes, "quota_bytes")?)
        .bind(policy.sender_role_required)
        .run(tx.conn(), "organization")
        .await?;
        if done == 0 {
            return Err(StoreError::NotFound(format!("organization {id}")));
        }
        append_in(&mut tx, audit).await?;
        B::commit_write(tx).await
    }

    async fn create_enrollment(&self, e: &EnrollmentRow) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sql(concat!(
            "INSERT INTO enrollments (",
            enrollment_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(&e.id)
        .bind(&e.org_id)
        .bind(&e.request)
        .bind(e.status.as_str())
        .bind(e.created)
        .bind(&e.cert_id)
        .run(tx.conn(), &format!("enrollment {}", e.id))
        .await?;
        B::commit_write(tx).await
    }

    async fn enrollment(&self, id: &str) -> Result<EnrollmentRow> {
        sql(concat!(
            "SELECT ",
            enrollment_cols!(),
            " FROM enrollments WHERE id = $1"
        ))
        .bind(id)
        .item_or(self.read(), "enrollment", || format!("enrollment {id}"))
        .await
    }

    async fn enrollments(
        &self,
        org_id: &str,
        status: EnrollmentStatus,
        page: PageRequest<'_>,
    ) -> Result<Page<EnrollmentRow>> {
        let limit = page.clamped_limit();
        let key = cursor(
            page.after,
            |after| {
                sql("SELECT n FROM enrollments WHERE id = $1 AND org_id = $2 AND status = $3")
                    .bind(after)
                    .bind(org_id)
                    .bind(status.as_str())
            },
            self.read(),
            "enrollments",
        )
        .await?;
        let after_n: i64 = match key {
            None => i64::MIN,
            Some(key) => get(&key, "n")?,
        };
        let rows = sql(concat!(
            "SELECT ",
            enrollment_cols!(),
            " FROM enrollments WHERE org_id = $1 AND status = $2 AND n > $3 \
             ORDER BY n LIMIT $4"
        ))
        .bind(org_id)
        .bind(status.as_str())
        .bind(after_n)
        .bind(i64::from(limit) + 1)
        .items(self.read(), "enrollments")
        .await?;
        Ok(Page::from_rows(rows, limit, |e| &e.id))
    }

    async fn purge_enrollments(&self, created_before: Timestamp) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sql("DELETE FROM enrollments WHERE status = 'pending' AND created <= $1")
            .bind(created_before)
            .run(tx.conn(), "enrollments")
            .await?;
        B::commit_write(tx).await?;
        Ok(done)
    }

    async fn approve_enrollment(
        &self,
        enrollment_id: &str,
        member: &MemberRow,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let audit = std::slice::from_ref(audit);
        let mut tx = begin_audited(self, audit).await?;
        let row = sql("UPDATE enrollments SET status = 'approved' \
             WHERE id = $1 AND status = 'pending' RETURNING org_id")
        .bind(enrollment_id)
        .optional(tx.conn(), "enrollment")
        .await?;
        let Some(row) = row else {
            return Err(enrollment_not_pending(&mut tx, enrollment_id).await?);
        };
        if get::<String>(&row, "org_id")? != member.org_id {
            return Err(StoreError::Conflict(format!(
                "enrollment {enrollment_id} belongs to another organization"
            )));
        }
        insert_member(&mut tx, member).await?;
        sql("UPDATE enrollments SET cert_id = $2 WHERE id = $1")
            .bind(enrollment_id)
            .bind(&member.cert_id)
            .run(tx.conn(), "enrollment")
            .await?;
        append_in(&mut tx, audit).await?;
        B::commit_write(tx).await
    }

    async fn reject_enrollment(&self, enrollment_id: &str, audit: &[NewAuditEntry]) -> Result<()> {
        let mut tx = begin_audited(self, audit).await?;
        let done = sql("UPDATE enrollments SET status = 'rejected' \
             WHERE id = $1 AND status = 'pending'")
        .bind(enrollment_id)
        .run(tx.conn(), "enrollment")
        .await?;
        if done == 0 {
            return Err(enrollment_not_pending(&mut tx, enrollment_id).await?);
        }
        append_in(&mut tx, audit).await?;
        B::commit_write(tx).await
    }

    async fn create_member(&self, member: &MemberRow, audit: &NewAuditEntry) -> Result<()> {
        let audit = std::slice::from_ref(audit);
        let mut tx = begin_audited(self, audit).await?;
        // Lock the organization so that two concurrent "first administrators" cannot both see
        // an empty organization.
        sql(B::LOCKS.org)
            .bind(&member.org_id)
            .row_or(tx.conn(), "organization", || {
                format!("organization {}", member.org_id)
            })
            .await?;
        let existing = sql("SELECT cert_id FROM members WHERE org_id = $1 LIMIT 1")
            .bind(&member.org_id)
            .optional(tx.conn(), "members")
            .await?;
        if existing.is_some() {
            return Err(StoreError::Conflict(format!(
                "organization {} already has members; later members enroll",
                member.org_id
            )));
        }
        insert_member(&mut tx, member).await?;
        append_in(&mut tx, audit).await?;
        B::commit_write(tx).await
    }

    async fn member(&self, cert_id: &str) -> Result<MemberRow> {
        sql(concat!(
            "SELECT ",
            member_cols!(),
            " FROM members WHERE cert_id = $1"
        ))
        .bind(cert_id)
        .item_or(self.read(), "member", || format!("member {cert_id}"))
        .await
    }

    async fn members(&self, org_id: &str, page: PageRequest<'_>) -> Result<Page<MemberRow>> {
        let limit = page.clamped_limit();
        let fetch = i64::from(limit) + 1;
        let key = cursor(
            page.after,
            |after| {
                sql("SELECT member_name, created FROM members WHERE cert_id = $1 AND org_id = $2")
                    .bind(after)
                    .bind(org_id)
            },
            self.read(),
            "members",
        )
        .await?;
        let rows = match (page.after, key) {
            (Some(after), Some(key)) => sql(concat!(
                "SELECT ",
                member_cols!(),
                " FROM members WHERE org_id = $1 \
                 AND (member_name, created, cert_id) > ($2, $3, $4) \
                 ORDER BY member_name, created, cert_id LIMIT $5"
            ))
            .bind(org_id)
            .bind(get::<String>(&key, "member_name")?)
            .bind(get::<i64>(&key, "created")?)
            .bind(after)
            .bind(fetch),
            _ => sql(concat!(
                "SELECT ",
                member_cols!(),
                " FROM members WHERE org_id = $1 \
                 ORDER BY member_name, created, cert_id LIMIT $2"
            ))
            .bind(org_id)
            .bind(fetch),
        }
        .items(self.read(), "members")
        .await?;
        Ok(Page::from_rows(rows, limit, |m| &m.cert_id))
    }

    async fn revoke_member(
        &self,
        cert_id: &str,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let audit = std::slice::from_ref(audit);
        let mut tx = begin_audited(self, audit).await?;
        let done = sql("UPDATE members SET status = 'revoked', revoked_at = $2 \
             WHERE cert_id = $1 AND status = 'active'")
        .bind(cert_id)
        .bind(at)
        .run(tx.conn(), "member")
        .await?;
        if done == 0 {
            let exists = sql("SELECT status FROM members WHERE cert_id = $1")
                .bind(cert_id)
                .optional(tx.conn(), "member")
                .await?;
            return Err(match exists {
                None => StoreError::NotFound(format!("member {cert_id}")),
                Some(_) => StoreError::Conflict(format!("member {cert_id} is already revoked")),
            });
        }
        // A revoked key's sessions and pending logins end with it.
        sql("DELETE FROM tokens WHERE cert_id = $1")
            .bind(cert_id)
            .run(tx.conn(), "tokens")
            .await?;
        sql("DELETE FROM challenges WHERE cert_id = $1")
            .bind(cert_id)
            .run(tx.conn(), "challenges")
            .await?;
        append_in(&mut tx, audit).await?;
        B::commit_write(tx).await
    }

    async fn put_challenge(&self, nonce: &[u8], cert_id: &str, expires: Timestamp) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sql("INSERT INTO challenges (nonce, cert_id, expires) VALUES ($1, $2, $3)")
            .bind(nonce)
            .bind(cert_id)
            .bind(expires)
            .run(tx.conn(), "challenge")
            .await?;
        B::commit_write(tx).await
    }

    async fn take_challenge(&self, nonce: &[u8], now: Timestamp) -> Result<String> {
        let mut tx = self.begin_write().await?;
        let row = sql("DELETE FROM challenges WHERE nonce = $1 RETURNING cert_id, expires")
            .bind(nonce)
            .row_or(tx.conn(), "challenge", || "challenge".to_owned())
            .await?;
        let cert_id: String = get(&row, "cert_id")?;
        let expires: i64 = get(&row, "expires")?;
        // An expired challenge is consumed too.
        B::commit_write(tx).await?;
        if expires <= now {
            return Err(StoreError::NotFound("challenge (expired)".to_owned()));
        }
        Ok(cert_id)
    }

    async fn put_token(&self, token_hash: &[u8], cert_id: &str, expires: Timestamp) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sql("INSERT INTO tokens (token_hash, cert_id, expires) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(cert_id)
            .bind(expires)
            .run(tx.conn(), "token")
            .await?;
        B::commit_write(tx).await
    }

    async fn token(&self, token_hash: &[u8], now: Timestamp) -> Result<MemberRow> {
        // One query on the hot path of every authenticated request.
        sql(
            "SELECT m.cert_id, m.org_id, m.member_name, m.roles, m.certificate, \
             m.status, m.created, m.revoked_at \
             FROM tokens t JOIN members m ON m.cert_id = t.cert_id \
             WHERE t.token_hash = $1 AND t.expires > $2",
        )
        .bind(token_hash)
        .bind(now)
        .item_or(self.read(), "token", || "token".to_owned())
        .await
    }

    async fn commit_envelope(
        &self,
        env: &EnvelopeRow,
        first: &DeliveryRow,
        audit: &[NewAuditEntry],
    ) -> Result<()> {
        check_first(env, first)?;
        let mut tx = begin_audited(self, audit).await?;
        insert_envelope::<B>(&mut tx, env, first, audit).await?;
        B::commit_write(tx).await
    }

    async fn create_upload(&self, u: &UploadRow, max_pending: u32) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // The organization's row is held until the transaction ends, so of concurrent uploads
        // each sees the others that committed before it (SQLite: its write transaction
        // excludes every other writer).
        let org = sql(B::LOCKS.org_quota)
            .bind(&u.org_id)
            .row_or(tx.conn(), "organization", || {
                format!("organization {}", u.org_id)
            })
            .await?;
        if let Some(quota) = bytes_from_db(get(&org, "quota_bytes")?, "quota_bytes")? {
            let row = sql(ORG_USAGE_SQL)
                .bind(&u.org_id)
                .bind(u.created)
                .one(tx.conn(), "organization usage")
                .await?;
            let Usage(used) = Usage::from_row(&row)?;
            if used.checked_add(u.bytes).is_none_or(|total| total > quota) {
                return Err(StoreError::QuotaExceeded {
                    used,
                    quota,
                    requested: u.bytes,
                });
            }
        }
        // The sender's unfinished uploads, counted under the same organization row lock: of
        // concurrent uploads, no more than `max_pending` pass.
        let row = sql("SELECT COUNT(*) AS n FROM uploads \
             WHERE org_id = $1 AND actor_cert = $2 AND expires > $3")
        .bind(&u.org_id)
        .bind(&u.actor_cert)
        .bind(u.created)
        .one(tx.conn(), "pending uploads")
        .await?;
        let pending = u64::try_from(get::<i64>(&row, "n")?).map_err(|_| corrupt("count"))?;
        if pending >= u64::from(max_pending) {
            return Err(StoreError::TooManyPendingUploads {
                pending,
                limit: max_pending,
            });
        }
        sql(concat!(
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
        .run(tx.conn(), &format!("upload {}", u.id))
        .await?;
        B::commit_write(tx).await
    }

    async fn org_usage(&self, org_id: &str, now: Timestamp) -> Result<u64> {
        let row = sql(ORG_USAGE_SQL)
            .bind(org_id)
            .bind(now)
            .one(self.read(), "organization usage")
            .await?;
        Ok(Usage::from_row(&row)?.0)
    }

    async fn upload(&self, id: &str) -> Result<UploadRow> {
        sql(concat!(
            "SELECT ",
            upload_cols!(),
            " FROM uploads WHERE id = $1"
        ))
        .bind(id)
        .item_or(self.read(), "upload", || format!("upload {id}"))
        .await
    }

    async fn abandon_upload(&self, id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sql("DELETE FROM uploads WHERE id = $1")
            .bind(id)
            .run(tx.conn(), "abandoned upload")
            .await?;
        B::commit_write(tx).await
    }

    async fn pending_uploads(&self, now: Timestamp) -> Result<u64> {
        let row = sql("SELECT COUNT(*) AS n FROM uploads WHERE expires > $1")
            .bind(now)
            .one(self.read(), "pending uploads")
            .await?;
        u64::try_from(get::<i64>(&row, "n")?).map_err(|_| corrupt("pending uploads"))
    }

    async fn renew_upload(
        &self,
        id: &str,
        now: Timestamp,
        expires: Timestamp,
        blob_key: &str,
    ) -> Result<UploadRow> {
        let mut tx = self.begin_write().await?;
        let row = sql(concat!(
            "UPDATE uploads SET expires = $3, blob_key = $4 \
             WHERE id = $1 AND expires > $2 RETURNING ",
            upload_cols!()
        ))
        .bind(id)
        .bind(now)
        .bind(expires)
        .bind(blob_key)
        .optional(tx.conn(), "upload")
        .await?;
        let Some(row) = row else {
            let exists = sql("SELECT id FROM uploads WHERE id = $1")
                .bind(id)
                .optional(tx.conn(), "upload")
                .await?;
            return Err(match exists {
                None => StoreError::NotFound(format!("upload {id}")),
                Some(_) => StoreError::Conflict(format!("upload {id} expired")),
            });
        };
        let u = UploadRow::from_row(&row)?;
        B::commit_write(tx).await?;
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
        check_first(env, first)?;
        let mut tx = begin_audited(self, audit).await?;
        let row = sql("DELETE FROM uploads WHERE id = $1 RETURNING blob_key, expires, bytes")
            .bind(upload_id)
            .row_or(tx.conn(), "upload", || format!("upload {upload_id}"))
            .await?;
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
        let reserved = u64::try_from(get::<i64>(&row, "bytes")?).map_err(|_| corrupt("bytes"))?;
        let occupies = env.bodies_len.saturating_add(first.header.len() as u64);
        if occupies > reserved {
            return Err(StoreError::Conflict(format!(
                "envelope {} occupies {occupies} bytes, more than the {reserved} bytes \
                 upload {upload_id} reserved",
                env.id
            )));
        }
        insert_envelope::<B>(&mut tx, env, first, audit).await?;
        B::commit_write(tx).await
    }

    async fn claimed_blob_keys(&self, now: Timestamp) -> Result<Vec<String>> {
        // One statement, so one snapshot: an upload that commits concurrently is seen either as
        // a live upload or as a committed envelope, never as neither.
        sql(
            "SELECT blob_key AS k FROM envelopes WHERE body_removed = FALSE \
             UNION SELECT blob_key AS k FROM uploads WHERE expires > $1 \
             UNION SELECT record_key AS k FROM uploads WHERE expires > $1 \
             ORDER BY k",
        )
        .bind(now - UPLOAD_GRACE)
        .all(self.read(), "claimed blob keys")
        .await?
        .iter()
        .map(|r| get(r, "k"))
        .collect()
    }

    async fn envelope(&self, id: &str) -> Result<EnvelopeRow> {
        sql(concat!(
            "SELECT ",
            envelope_cols!(),
            " FROM envelopes WHERE id = $1"
        ))
        .bind(id)
        .item_or(self.read(), "envelope", || format!("envelope {id}"))
        .await
    }

    async fn delivery(&self, id: &str) -> Result<DeliveryRow> {
        sql(concat!(
            "SELECT ",
            delivery_cols!(),
            " FROM deliveries WHERE id = $1"
        ))
        .bind(id)
        .item_or(self.read(), "delivery", || format!("delivery {id}"))
        .await
    }

    async fn inbox(
        &self,
        holder_cert: &str,
        status: Option<DeliveryStatus>,
        page: PageRequest<'_>,
    ) -> Result<Page<DeliveryRow>> {
        let limit = page.clamped_limit();
        // Newest first: continue strictly below the cursor row's (created, n).
        let key = cursor(
            page.after,
            |after| {
                sql("SELECT created, n FROM deliveries WHERE id = $1 AND holder_cert = $2")
                    .bind(after)
                    .bind(holder_cert)
            },
            self.read(),
            "inbox",
        )
        .await?;
        let (created, n): (i64, i64) = match key {
            None => (i64::MAX, i64::MAX),
            Some(key) => (get(&key, "created")?, get(&key, "n")?),
        };
        let rows = sql(concat!(
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
        .bind(status.map(DeliveryStatus::as_str))
        .bind(i64::from(limit) + 1)
        .items(self.read(), "inbox")
        .await?;
        Ok(Page::from_rows(rows, limit, |d| &d.id))
    }

    async fn deliveries_of(&self, envelope_id: &str) -> Result<Vec<DeliveryRow>> {
        sql(concat!(
            "SELECT ",
            delivery_cols!(),
            " FROM deliveries WHERE envelope_id = $1 ORDER BY created, n"
        ))
        .bind(envelope_id)
        .items(self.read(), "deliveries")
        .await
    }

    async fn receipt_rows(
        &self,
        envelope_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Page<ReceiptRow>> {
        let limit = page.clamped_limit();
        // Oldest first: continue strictly above the cursor row's (created, n).
        let key = cursor(
            page.after,
            |after| {
                sql("SELECT created, n FROM deliveries WHERE id = $1 AND envelope_id = $2")
                    .bind(after)
                    .bind(envelope_id)
            },
            self.read(),
            "receipts",
        )
        .await?;
        let (created, n): (i64, i64) = match key {
            None => (i64::MIN, i64::MIN),
            Some(key) => (get(&key, "created")?, get(&key, "n")?),
        };
        let rows = sql(concat!(
            "SELECT ",
            receipt_cols!(),
            " FROM deliveries d \
             LEFT JOIN members h ON h.cert_id = d.holder_cert \
             LEFT JOIN members c ON c.cert_id = d.created_by \
             WHERE d.envelope_id = $1 AND (d.created, d.n) > ($2, $3) \
             ORDER BY d.created, d.n LIMIT $4"
        ))
        .bind(envelope_id)
        .bind(created)
        .bind(n)
        .bind(i64::from(limit) + 1)
        .items(self.read(), "receipts")
        .await?;
        Ok(Page::from_rows(rows, limit, |r: &ReceiptRow| {
            &r.delivery.id
        }))
    }

    async fn children(&self, parent_id: &str, recalled: u32) -> Result<Vec<DeliveryRow>> {
        let mut out: Vec<DeliverySummary> = sql(concat!(
            "SELECT ",
            delivery_summary_cols!(),
            " FROM deliveries d WHERE d.parent = $1 AND d.status <> 'recalled' \
             ORDER BY d.created, d.n"
        ))
        .bind(parent_id)
        .items(self.read(), "children")
        .await?;
        if recalled > 0 {
            let old: Vec<DeliverySummary> = sql(concat!(
                "SELECT ",
                delivery_summary_cols!(),
                " FROM deliveries d WHERE d.parent = $1 AND d.status = 'recalled' \
                 ORDER BY d.created DESC, d.n DESC LIMIT $2"
            ))
            .bind(parent_id)
            .bind(i64::from(recalled))
            .items(self.read(), "children")
            .await?;
            out.extend(old);
            // Oldest first (stable: rows created at the same time keep their order).
            out.sort_by_key(|d| d.0.created);
        }
        Ok(out.into_iter().map(|d| d.0).collect())
    }

    async fn commit_forward(
        &self,
        parent_id: &str,
        parent_status: DeliveryStatus,
        new: &[DeliveryRow],
        audit: &[NewAuditEntry],
    ) -> Result<()> {
        if !matches!(
            parent_status,
            DeliveryStatus::Delivered | DeliveryStatus::Forwarded
        ) {
            return Err(StoreError::Conflict(format!(
                "a forward leaves its parent delivered or forwarded, not {}",
                parent_status.as_str()
            )));
        }
        let Some(at) = new.iter().map(|d| d.created).max() else {
            return Err(StoreError::Conflict(
                "a forward creates at least one delivery".to_owned(),
            ));
        };
        let mut tx = begin_audited(self, audit).await?;
        // The UPDATE takes the parent's row lock (PostgreSQL; SQLite serializes every writer)
        // before the children are read, so two racing forwards of the same parent, or a
        // forward racing a recall of one of its children, serialize here.
        let row = sql("UPDATE deliveries SET status = $2, updated = $3 \
             WHERE id = $1 AND status IN ('delivered', 'forwarded') \
             RETURNING envelope_id, parts")
        .bind(parent_id)
        .bind(parent_status.as_str())
        .bind(at)
        .optional(tx.conn(), "delivery")
        .await?;
        let Some(row) = row else {
            let status = delivery_status_in(&mut tx, parent_id).await?;
            return Err(StoreError::Conflict(format!(
                "delivery {parent_id} is {}: it cannot be forwarded",
                status.as_str()
            )));
        };
        let envelope_id: String = get(&row, "envelope_id")?;
        let parent_parts = decode_parts(&get::<Vec<u8>>(&row, "parts")?)?;
        // Parts already held by live (not recalled) children, as committed now.
        let mut held: Vec<u32> = Vec::new();
        for r in sql("SELECT parts FROM deliveries WHERE parent = $1 AND status <> 'recalled'")
            .bind(parent_id)
            .all(tx.conn(), "child deliveries")
            .await?
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
                expected.as_str()
            )));
        }
        for d in new {
            if d.parent.as_deref() != Some(parent_id) || d.envelope_id != envelope_id {
                return Err(StoreError::Conflict(format!(
                    "delivery {} does not continue delivery {parent_id}",
                    d.id
                )));
            }
            require_active::<B>(&mut tx, &d.holder_cert, &d.holder_org, "target").await?;
            insert_delivery(&mut tx, d).await?;
        }
        append_in(&mut tx, audit).await?;
        B::commit_write(tx).await
    }

    async fn recall(
        &self,
        delivery_id: &str,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<DeliveryRow> {
        let audit = std::slice::from_ref(audit);
        let mut tx = begin_audited(self, audit).await?;
        let row = sql(concat!(
            "UPDATE deliveries SET status = 'recalled', header = $2, updated = $3 \
             WHERE id = $1 AND status = 'delivered' AND downloaded IS NULL RETURNING ",
            delivery_cols!()
        ))
        .bind(delivery_id)
        .bind(Vec::<u8>::new())
        .bind(at)
        .optional(tx.conn(), "delivery")
        .await?;
        let Some(row) = row else {
            let status = delivery_status_in(&mut tx, delivery_id).await?;
            if status == DeliveryStatus::Delivered {
                return Err(StoreError::Conflict(format!(
                    "delivery {delivery_id} was downloaded by its holder: it cannot be recalled"
                )));
            }
            return Err(StoreError::Conflict(format!(
                "delivery {delivery_id} is {}: only a delivered, unopened delivery can be \
                 recalled",
                status.as_str()
            )));
        };
        let recalled = DeliveryRow::from_row(&row)?;
        if let Some(parent) = &recalled.parent {
            reopen_parent(&mut tx, parent, at).await?;
        }
        append_in(&mut tx, audit).await?;
        B::commit_write(tx).await?;
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
        let mut tx = begin_audited(self, audit).await?;
        let row = sql(concat!(
            "SELECT ",
            delivery_cols!(),
            " FROM deliveries WHERE id = $1 AND status = 'delivered' AND downloaded IS NULL"
        ))
        .bind(delivery_id)
        .optional(tx.conn(), "delivery")
        .await?;
        let Some(row) = row else {
            let status = delivery_status_in(&mut tx, delivery_id).await?;
            return Err(StoreError::Conflict(format!(
                "delivery {delivery_id} is {} or was downloaded: its parts cannot be recalled",
                status.as_str()
            )));
        };
        let current = DeliveryRow::from_row(&row)?;
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
        let row = sql(concat!(
            "UPDATE deliveries SET parts = $2, header = $3, updated = $4 \
             WHERE id = $1 AND parts = $5 RETURNING ",
            delivery_cols!()
        ))
        .bind(delivery_id)
        .bind(encode_parts(&kept))
        .bind(kept_header)
        .bind(at)
        .bind(encode_parts(&current.parts))
        .optional(tx.conn(), "delivery")
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("delivery {delivery_id} changed meanwhile")))?;
        insert_delivery(&mut tx, recalled).await?;
        if let Some(parent) = &current.parent {
            reopen_parent(&mut tx, parent, at).await?;
        }
        append_in(&mut tx, audit).await?;
        B::commit_write(tx).await?;
        DeliveryRow::from_row(&row)
    }

    async fn record_download(&self, delivery_id: &str, at: Timestamp) -> Result<DeliveryRow> {
        let mut tx = self.begin_write().await?;
        let row = sql(concat!(
            "UPDATE deliveries SET downloaded = COALESCE(downloaded, $2) \
             WHERE id = $1 AND status IN ('delivered', 'opened') RETURNING ",
            delivery_cols!()
        ))
        .bind(delivery_id)
        .bind(at)
        .optional(tx.conn(), "delivery")
        .await?;
        let Some(row) = row else {
            let status = delivery_status_in(&mut tx, delivery_id).await?;
            return Err(StoreError::Conflict(format!(
                "delivery {delivery_id} is {}: it cannot be downloaded",
                status.as_str()
            )));
        };
        let d = DeliveryRow::from_row(&row)?;
        B::commit_write(tx).await?;
        Ok(d)
    }

    async fn mark_opened(
        &self,
        delivery_id: &str,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let audit = std::slice::from_ref(audit);
        let mut tx = begin_audited(self, audit).await?;
        let done = sql("UPDATE deliveries SET status = 'opened', updated = $2 \
             WHERE id = $1 AND status = 'delivered'")
        .bind(delivery_id)
        .bind(at)
        .run(tx.conn(), "delivery")
        .await?;
        if done == 0 {
            return match delivery_status_in(&mut tx, delivery_id).await? {
                // Idempotent: already opened, nothing changes and nothing is logged.
                DeliveryStatus::Opened => Ok(()),
                other => Err(StoreError::Conflict(format!(
                    "delivery {delivery_id} is {}: it cannot be opened",
                    other.as_str()
                ))),
            };
        }
        append_in(&mut tx, audit).await?;
        B::commit_write(tx).await
    }

    async fn expire(&self, now: Timestamp) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        // Unopened copies past their holder organization's expiry lose their capsules.
        sql(
            "UPDATE deliveries SET status = 'expired', header = $2, updated = $1 \
             WHERE status IN ('delivered', 'forwarded') AND EXISTS ( \
                 SELECT 1 FROM orgs o WHERE o.id = deliveries.holder_org \
                 AND o.expiry_days IS NOT NULL \
                 AND deliveries.created + o.expiry_days * $3 <= $1)",
        )
        .bind(now)
        .bind(Vec::<u8>::new())
        .bind(DAY)
        .run(tx.conn(), "expire deliveries")
        .await?;
        // Bodies go when the sender's or the recipient's retention has passed, or when no
        // delivery holds a capsule any more.
        let removed = sql("UPDATE envelopes SET body_removed = TRUE \
             WHERE body_removed = FALSE AND ( \
                 EXISTS (SELECT 1 FROM orgs o \
                     WHERE o.id IN (envelopes.sender_org, envelopes.recipient_org) \
                     AND o.retention_days IS NOT NULL \
                     AND envelopes.created + o.retention_days * $2 <= $1) \
                 OR NOT EXISTS (SELECT 1 FROM deliveries d \
                     WHERE d.envelope_id = envelopes.id \
                     AND d.status NOT IN ('expired', 'recalled'))) \
             RETURNING blob_key")
        .bind(now)
        .bind(DAY)
        .all(tx.conn(), "expire bodies")
        .await?;
        let mut keys = Vec::with_capacity(removed.len());
        for row in &removed {
            let key: String = get(row, "blob_key")?;
            // A key still used by a live envelope stays.
            let live =
                sql("SELECT 1 AS one FROM envelopes WHERE blob_key = $1 AND body_removed = FALSE")
                    .bind(&key)
                    .optional(tx.conn(), "envelopes")
                    .await?;
            if live.is_none() && !keys.contains(&key) {
                keys.push(key);
            }
        }
        sql("DELETE FROM challenges WHERE expires <= $1")
            .bind(now)
            .run(tx.conn(), "challenges")
            .await?;
        sql("DELETE FROM tokens WHERE expires <= $1")
            .bind(now)
            .run(tx.conn(), "tokens")
            .await?;
        // Upload records that no longer claim anything: their blobs are orphans now.
        sql("DELETE FROM uploads WHERE expires <= $1")
            .bind(now - UPLOAD_GRACE)
            .run(tx.conn(), "uploads")
            .await?;
        B::commit_write(tx).await?;
        keys.sort();
        Ok(keys)
    }

    async fn referenced_blob_keys(&self) -> Result<Vec<String>> {
        sql(
            "SELECT DISTINCT blob_key FROM envelopes WHERE body_removed = FALSE \
             ORDER BY blob_key",
        )
        .all(self.read(), "blob keys")
        .await?
        .iter()
        .map(|r| get(r, "blob_key"))
        .collect()
    }

    async fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = begin_audited(self, entries).await?;
        append_in(&mut tx, entries).await?;
        B::commit_write(tx).await
    }

    async fn audit(&self, org_id: &str, from: u64, limit: u32) -> Result<Vec<AuditRow>> {
        sql(concat!(
            "SELECT ",
            audit_cols!(),
            " FROM audit WHERE org_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3"
        ))
        .bind(org_id)
        .bind(i64::try_from(from).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .items(self.read(), "audit")
        .await
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
        let mut tx = begin_audited(self, audit).await?;
        sql("DELETE FROM rules WHERE owner_cert = $1")
            .bind(owner_cert)
            .run(tx.conn(), "rules")
            .await?;
        for r in rules {
            sql(concat!(
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
            .run(tx.conn(), &format!("rule {}", r.id))
            .await?;
        }
        sql(
            "INSERT INTO rule_statements (owner_cert, statement) VALUES ($1, $2) \
             ON CONFLICT (owner_cert) DO UPDATE SET statement = excluded.statement",
        )
        .bind(owner_cert)
        .bind(statement)
        .run(tx.conn(), "rules statement")
        .await?;
        append_in(&mut tx, audit).await?;
        B::commit_write(tx).await
    }

    async fn rules(&self, owner_cert: &str) -> Result<Vec<RuleRow>> {
        sql(concat!(
            "SELECT ",
            rule_cols!(),
            " FROM rules WHERE owner_cert = $1 ORDER BY position, n"
        ))
        .bind(owner_cert)
        .items(self.read(), "rules")
        .await
    }

    async fn rules_statement(&self, owner_cert: &str) -> Result<Option<Vec<u8>>> {
        sql("SELECT statement FROM rule_statements WHERE owner_cert = $1")
            .bind(owner_cert)
            .optional(self.read(), "rules statement")
            .await?
            .map(|r| get::<Vec<u8>>(&r, "statement"))
            .transpose()
    }

    async fn put_revocation_list(
        &self,
        list: &RevocationListRow,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        put_newer_status(
            self,
            "INSERT INTO revocation_lists (org_id, serial, list, created) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE \
             SET serial = excluded.serial, list = excluded.list, created = excluded.created \
             WHERE revocation_lists.serial < excluded.serial",
            (&list.org_id, list.serial, &list.list, list.created),
            audit,
            || {
                format!(
                    "the stored revocation list of {} has a serial of at least {}",
                    list.org_id, list.serial
                )
            },
        )
        .await
    }

    async fn revocation_list(&self, org_id: &str) -> Result<RevocationListRow> {
        signed_list(
            self,
            concat!(
                "SELECT ",
                signed_list_cols!(),
                " FROM revocation_lists WHERE org_id = $1"
            ),
            "revocation list",
            org_id,
        )
        .await
    }

    async fn put_partner_list(&self, list: &PartnerListRow, audit: &NewAuditEntry) -> Result<()> {
        put_newer_status(
            self,
            "INSERT INTO partner_lists (org_id, serial, list, created) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE \
             SET serial = excluded.serial, list = excluded.list, created = excluded.created \
             WHERE partner_lists.serial < excluded.serial",
            (&list.org_id, list.serial, &list.list, list.created),
            audit,
            || {
                format!(
                    "the stored partner list of {} has a serial of at least {}",
                    list.org_id, list.serial
                )
            },
        )
        .await
    }

    async fn partner_list(&self, org_id: &str) -> Result<PartnerListRow> {
        signed_list(
            self,
            concat!(
                "SELECT ",
                signed_list_cols!(),
                " FROM partner_lists WHERE org_id = $1"
            ),
            "partner list",
            org_id,
        )
        .await
    }

    async fn put_checkpoint(&self, cp: &CheckpointRow, audit: &NewAuditEntry) -> Result<()> {
        put_newer_status(
            self,
            "INSERT INTO audit_checkpoints (org_id, position, checkpoint, created) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE \
             SET position = excluded.position, checkpoint = excluded.checkpoint, \
             created = excluded.created \
             WHERE audit_checkpoints.position < excluded.position",
            (&cp.org_id, cp.position, &cp.checkpoint, cp.created),
            audit,
            || {
                format!(
                    "the stored checkpoint of {} is at position {} or later",
                    cp.org_id, cp.position
                )
            },
        )
        .await
    }

    async fn checkpoint(&self, org_id: &str) -> Result<CheckpointRow> {
        sql(concat!(
            "SELECT ",
            checkpoint_cols!(),
            " FROM audit_checkpoints WHERE org_id = $1"
        ))
        .bind(org_id)
        .item_or(self.read(), "checkpoint", || {
            format!("checkpoint of {org_id}")
        })
        .await
    }

    async fn put_local_state(&self, ls: &LocalStateRow) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sql(
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
        .run(tx.conn(), &format!("local state of {}", ls.cert_id))
        .await?;
        if done == 0 {
            return Err(StoreError::Conflict(format!(
                "the stored {} state of {} has a serial of at least {}",
                ls.kind, ls.cert_id, ls.serial
            )));
        }
        B::commit_write(tx).await
    }

    async fn local_state(&self, cert_id: &str, kind: &str) -> Result<LocalStateRow> {
        sql(concat!(
            "SELECT ",
            local_state_cols!(),
            " FROM local_states WHERE cert_id = $1 AND kind = $2"
        ))
        .bind(cert_id)
        .bind(kind)
        .item_or(self.read(), "local state", || {
            format!("{kind} state of {cert_id}")
        })
        .await
    }
}
