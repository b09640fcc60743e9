//! The `Store` contract: one story, a function per behaviour, run against every backend.
//!
//! SQLite always (a fresh database file per test); PostgreSQL when `SOSHIKI_TEST_POSTGRES_URL`
//! is set (a fresh schema per test). With `SOSHIKI_REQUIRE_SERVICES=1` a missing URL fails.
//! Start the services with `eval "$(scripts/services.sh start)"`.

mod common;

use std::sync::Arc;

use soshiki_store::{
    audit_hash, open_store, AuditRow, CheckpointRow, DeliveryRow, DeliveryStatus, EnrollmentRow,
    EnrollmentStatus, EnvelopeRow, LocalStateRow, MemberRow, MemberStatus, NewAuditEntry,
    OrgPolicy, OrgRow, Page, PageRequest, PartnerListRow, RevocationListRow, RuleRow, Store,
    StoreError, UploadRow, MAX_PAGE, UPLOAD_GRACE,
};

/// The first page of the largest size (every row the fixtures make).
const ALL: PageRequest<'static> = PageRequest {
    after: None,
    limit: MAX_PAGE,
};

// ---------------------------------------------------------------------------------------------
// backends

struct Db {
    store: Arc<dyn Store>,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema { admin_url: String, schema: String },
}

impl Db {
    /// A second, independent store on the same database (another server process).
    async fn reopen(&self) -> Arc<dyn Store> {
        Arc::from(open_store(&self.url).await.expect("reopen store"))
    }

    async fn finish(self) {
        drop(self.store);
        if let Cleanup::Schema { admin_url, schema } = self.cleanup {
            if let Ok(pool) = sqlx::PgPool::connect(&admin_url).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        }
    }
}

async fn sqlite_db() -> Db {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("soshiki.sqlite").display());
    let store = open_store(&url).await.expect("open SQLite store");
    Db {
        store: Arc::from(store),
        url,
        cleanup: Cleanup::Dir(dir),
    }
}

async fn postgres_db(test: &str) -> Option<Db> {
    let base = common::service_url("SOSHIKI_TEST_POSTGRES_URL", test)?;
    let schema = common::unique_name("t");
    let pool = sqlx::PgPool::connect(&base)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .expect("create test schema");
    pool.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options[search_path]={schema}");
    let store = open_store(&url).await.expect("open PostgreSQL store");
    Some(Db {
        store: Arc::from(store),
        url,
        cleanup: Cleanup::Schema {
            admin_url: base,
            schema,
        },
    })
}

/// One `#[tokio::test]` per behaviour and backend.
macro_rules! stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::sqlite_db().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = super::postgres_db(concat!("postgres::", stringify!($name))).await {
                        super::$name(&db).await;
                        db.finish().await;
                    }
                }
            )*
        }
    };
}

stories!(
    organizations_and_policy,
    usage_counts_what_an_organization_stores,
    quota_refuses_uploads_beyond_it,
    concurrent_uploads_cannot_pass_the_quota_together,
    unfinished_uploads_are_capped_per_sender,
    receipts_page_and_children_read_no_more_than_asked,
    first_member_and_enrollment,
    enrollment_race_has_one_winner,
    revocation,
    challenges_and_tokens,
    envelope_and_inbox,
    lists_page_by_keyset_in_their_order,
    forward_recall_and_reforward,
    opened_delivery_cannot_be_recalled,
    some_parts_are_recalled_alone,
    downloaded_delivery_cannot_be_recalled,
    upload_records_claim_their_blobs,
    recall_race_has_one_winner,
    forward_race_has_one_winner,
    revoked_member_gets_nothing_new,
    failed_forward_leaves_nothing,
    failed_envelope_and_approval_leave_nothing,
    audit_chain,
    concurrent_audit_appends,
    concurrent_failures_fail_alone,
    cancelled_write_is_all_or_nothing,
    expiry_and_blob_keys,
    rules,
    signed_status,
    local_state_keeps_the_newest_serial_per_member_and_kind,
    committed_data_survives_reopen,
);

// ---------------------------------------------------------------------------------------------
// fixtures

const T0: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

fn org(id: &str, name: &str) -> OrgRow {
    OrgRow {
        id: id.into(),
        suite: 1,
        name: name.into(),
        record: format!("record of {name}").into_bytes(),
        created: T0,
        expiry_days: None,
        retention_days: None,
        max_validity_days: None,
        quota_bytes: None,
        sender_role_required: false,
    }
}

fn policy(expiry: Option<u32>, retention: Option<u32>, max_validity: Option<u32>) -> OrgPolicy {
    OrgPolicy {
        expiry_days: expiry,
        retention_days: retention,
        max_validity_days: max_validity,
        quota_bytes: None,
        sender_role_required: false,
    }
}

fn quota(bytes: u64) -> OrgPolicy {
    OrgPolicy {
        quota_bytes: Some(bytes),
        ..OrgPolicy::default()
    }
}

fn member(cert: &str, org_id: &str, name: &str, roles: u8) -> MemberRow {
    MemberRow {
        cert_id: cert.into(),
        org_id: org_id.into(),
        member_name: name.into(),
        roles,
        certificate: format!("certificate of {name}").into_bytes(),
        status: MemberStatus::Active,
        created: T0,
        revoked_at: None,
    }
}

fn entry(org_id: &str, text: &str) -> NewAuditEntry {
    NewAuditEntry {
        org_id: org_id.into(),
        entry: text.as_bytes().to_vec(),
        created: T0,
    }
}

fn envelope(id: &str, blob_key: &str, created: i64) -> EnvelopeRow {
    EnvelopeRow {
        id: id.into(),
        suite: 1,
        sender_cert: "a-clerk".into(),
        sender_org: "aaaa".into(),
        recipient_org: "bbbb".into(),
        blob_key: blob_key.into(),
        bodies_len: 1 << 33,
        created,
        body_removed: false,
    }
}

fn delivery(
    id: &str,
    env: &str,
    holder: &str,
    parent: Option<&str>,
    parts: &[u32],
    created: i64,
) -> DeliveryRow {
    DeliveryRow {
        id: id.into(),
        envelope_id: env.into(),
        holder_cert: holder.into(),
        holder_org: if holder.starts_with("a-") {
            "aaaa"
        } else {
            "bbbb"
        }
        .into(),
        parent: parent.map(Into::into),
        created_by: "a-clerk".into(),
        header: format!("header for {holder}").into_bytes(),
        parts: parts.to_vec(),
        status: DeliveryStatus::Delivered,
        created,
        updated: created,
        downloaded: None,
    }
}

/// Roles as bits (the store does not interpret them).
const ADMIN: u8 = 1;
const REPRESENTATIVE: u8 = 2;
const FORWARDER: u8 = 4;
const READER: u8 = 8;

/// Two organizations: A (`aaaa`: admin `a-admin`, clerk `a-clerk`) sends to B (`bbbb`: admin
/// `b-admin`, representative `b-rep`, readers `b-r1`, `b-r2`, `b-r3`).
async fn world(s: &dyn Store) {
    s.create_org(&org("aaaa", "Omachi City"))
        .await
        .expect("org A");
    s.create_org(&org("bbbb", "Omachi Welfare Council"))
        .await
        .expect("org B");
    s.create_member(
        &member("a-admin", "aaaa", "admin", ADMIN),
        &entry("aaaa", "create a-admin"),
    )
    .await
    .expect("admin A");
    s.create_member(
        &member("b-admin", "bbbb", "admin", ADMIN),
        &entry("bbbb", "create b-admin"),
    )
    .await
    .expect("admin B");
    for (cert, org_id, name, roles) in [
        ("a-clerk", "aaaa", "clerk", READER),
        (
            "b-rep",
            "bbbb",
            "representative",
            REPRESENTATIVE | FORWARDER,
        ),
        ("b-r1", "bbbb", "reader one", READER),
        ("b-r2", "bbbb", "reader two", READER),
        ("b-r3", "bbbb", "reader three", READER),
    ] {
        let id = format!("enroll-{cert}");
        s.create_enrollment(&EnrollmentRow {
            id: id.clone(),
            org_id: org_id.into(),
            request: format!("request of {cert}").into_bytes(),
            status: EnrollmentStatus::Pending,
            created: T0,
            cert_id: None,
        })
        .await
        .expect("enrollment");
        s.approve_enrollment(
            &id,
            &member(cert, org_id, name, roles),
            &entry(org_id, &format!("approve {cert}")),
        )
        .await
        .expect("approve");
    }
}

/// World plus one envelope `e1` (blob `blob-e1`, parts 0..3) delivered to `b-rep` as `d-rep`.
async fn world_with_envelope(s: &dyn Store) {
    world(s).await;
    s.commit_envelope(
        &envelope("e1", "blob-e1", T0 + 10),
        &delivery("d-rep", "e1", "b-rep", None, &[0, 1, 2], T0 + 10),
        &[entry("aaaa", "send e1"), entry("bbbb", "receive e1")],
    )
    .await
    .expect("commit envelope");
}

fn is_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Conflict(_)))
}

fn is_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::NotFound(_)))
}

async fn trail(s: &dyn Store, org_id: &str) -> Vec<AuditRow> {
    s.audit(org_id, 1, u32::MAX).await.expect("audit")
}

/// Check an organization's whole trail: seq 1..=n, each entry chained to the previous.
fn assert_chain(rows: &[AuditRow]) {
    let mut prev = [0u8; 32];
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1, "contiguous sequence numbers");
        assert_eq!(
            r.prev_hash, prev,
            "entry {} chains to its predecessor",
            r.seq
        );
        assert_eq!(
            r.hash,
            audit_hash(&prev, r.seq, &r.entry),
            "entry {} hash",
            r.seq
        );
        prev = r.hash;
    }
}

fn entries_of(rows: &[AuditRow]) -> Vec<String> {
    rows.iter()
        .map(|r| String::from_utf8(r.entry.clone()).expect("utf-8 entry"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// behaviours

async fn organizations_and_policy(db: &Db) {
    let s = &*db.store;
    s.create_org(&org("bbbb", "Zushi")).await.expect("create");
    s.create_org(&org("aaaa", "Azumino")).await.expect("create");
    assert!(
        is_conflict(s.create_org(&org("aaaa", "Again")).await),
        "duplicate id"
    );
    assert_eq!(s.org("bbbb").await.expect("org"), org("bbbb", "Zushi"));
    assert!(is_not_found(s.org("cccc").await));
    let names: Vec<_> = s
        .orgs(ALL)
        .await
        .map(|p| p.items)
        .expect("orgs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["Azumino", "Zushi"], "by name");

    s.set_org_policy("aaaa", &policy(Some(30), Some(365), Some(400)), &[])
        .await
        .expect("policy");
    let a = s.org("aaaa").await.expect("org");
    assert_eq!(
        (a.expiry_days, a.retention_days, a.max_validity_days),
        (Some(30), Some(365), Some(400))
    );
    s.set_org_policy("aaaa", &policy(None, Some(u32::MAX), None), &[])
        .await
        .expect("policy");
    let a = s.org("aaaa").await.expect("org");
    assert_eq!(
        (a.expiry_days, a.retention_days, a.max_validity_days),
        (None, Some(u32::MAX), None)
    );
    assert_eq!(a.quota_bytes, None);
    s.set_org_policy("aaaa", &quota(1 << 50), &[])
        .await
        .expect("quota");
    let a = s.org("aaaa").await.expect("org");
    assert_eq!(
        (a.quota_bytes, a.expiry_days, a.max_validity_days),
        (Some(1 << 50), None, None)
    );
    assert!(
        !a.sender_role_required,
        "every member sends unless the policy says otherwise"
    );
    s.set_org_policy(
        "aaaa",
        &OrgPolicy {
            sender_role_required: true,
            ..OrgPolicy::default()
        },
        &[],
    )
    .await
    .expect("sender role policy");
    assert!(s.org("aaaa").await.expect("org").sender_role_required);
    assert!(!s.org("bbbb").await.expect("org").sender_role_required);
    assert!(is_not_found(
        s.set_org_policy("cccc", &policy(Some(1), None, None), &[])
            .await
    ));
}

async fn first_member_and_enrollment(db: &Db) {
    let s = &*db.store;
    s.create_org(&org("aaaa", "Omachi City"))
        .await
        .expect("org");
    assert!(
        is_not_found(
            s.create_member(&member("x", "zzzz", "x", ADMIN), &entry("aaaa", "x"))
                .await
        ),
        "unknown organization"
    );
    s.create_member(
        &member("a-admin", "aaaa", "admin", ADMIN),
        &entry("aaaa", "first admin"),
    )
    .await
    .expect("first member");
    assert!(
        is_conflict(
            s.create_member(
                &member("a-other", "aaaa", "other", ADMIN),
                &entry("aaaa", "second")
            )
            .await
        ),
        "only the first member is inserted directly"
    );
    assert_eq!(
        s.member("a-admin").await.expect("member"),
        member("a-admin", "aaaa", "admin", ADMIN)
    );
    assert!(is_not_found(s.member("nobody").await));

    let enrollment = |id: &str| EnrollmentRow {
        id: id.into(),
        org_id: "aaaa".into(),
        request: format!("signed request {id}").into_bytes(),
        status: EnrollmentStatus::Pending,
        created: T0 + 1,
        cert_id: None,
    };
    s.create_enrollment(&enrollment("en1"))
        .await
        .expect("enroll");
    s.create_enrollment(&enrollment("en2"))
        .await
        .expect("enroll");
    s.create_enrollment(&enrollment("en3"))
        .await
        .expect("enroll");
    assert!(
        is_conflict(s.create_enrollment(&enrollment("en1")).await),
        "duplicate id"
    );
    assert!(
        is_not_found(
            s.create_enrollment(&EnrollmentRow {
                org_id: "zzzz".into(),
                ..enrollment("en9")
            })
            .await
        ),
        "unknown organization"
    );
    assert_eq!(
        s.enrollment("en1").await.expect("enrollment"),
        enrollment("en1")
    );
    assert!(is_not_found(s.enrollment("nope").await));
    let pending: Vec<_> = s
        .enrollments("aaaa", EnrollmentStatus::Pending, ALL)
        .await
        .map(|p| p.items)
        .expect("pending")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(pending, ["en1", "en2", "en3"]);

    s.approve_enrollment(
        "en1",
        &member("a-zed", "aaaa", "zed", READER),
        &entry("aaaa", "approve en1"),
    )
    .await
    .expect("approve");
    let e1 = s.enrollment("en1").await.expect("enrollment");
    assert_eq!(e1.status, EnrollmentStatus::Approved);
    assert_eq!(e1.cert_id.as_deref(), Some("a-zed"));
    assert_eq!(
        s.member("a-zed").await.expect("member").status,
        MemberStatus::Active
    );
    assert!(
        is_conflict(
            s.approve_enrollment(
                "en1",
                &member("a-zed2", "aaaa", "zed", READER),
                &entry("aaaa", "again")
            )
            .await
        ),
        "double approval"
    );
    assert!(
        is_not_found(s.member("a-zed2").await),
        "the second approval inserted nothing"
    );
    assert!(is_not_found(
        s.approve_enrollment(
            "nope",
            &member("a-q", "aaaa", "q", READER),
            &entry("aaaa", "q")
        )
        .await
    ));

    s.reject_enrollment("en2", &[]).await.expect("reject");
    assert_eq!(
        s.enrollment("en2").await.expect("enrollment").status,
        EnrollmentStatus::Rejected
    );
    assert!(
        is_conflict(s.reject_enrollment("en2", &[]).await),
        "already rejected"
    );
    assert!(
        is_conflict(s.reject_enrollment("en1", &[]).await),
        "already approved"
    );
    assert!(is_not_found(s.reject_enrollment("nope", &[]).await));
    assert!(
        is_conflict(
            s.approve_enrollment(
                "en2",
                &member("a-r", "aaaa", "r", READER),
                &entry("aaaa", "r")
            )
            .await
        ),
        "a rejected request cannot be approved"
    );

    let ids = |v: Vec<EnrollmentRow>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s
            .enrollments("aaaa", EnrollmentStatus::Pending, ALL)
            .await
            .map(|p| p.items)
            .expect("list")),
        ["en3"]
    );
    assert_eq!(
        ids(s
            .enrollments("aaaa", EnrollmentStatus::Approved, ALL)
            .await
            .map(|p| p.items)
            .expect("list")),
        ["en1"]
    );
    assert_eq!(
        ids(s
            .enrollments("aaaa", EnrollmentStatus::Rejected, ALL)
            .await
            .map(|p| p.items)
            .expect("list")),
        ["en2"]
    );

    let names: Vec<_> = s
        .members("aaaa", ALL)
        .await
        .map(|p| p.items)
        .expect("members")
        .into_iter()
        .map(|m| m.member_name)
        .collect();
    assert_eq!(names, ["admin", "zed"], "by name");
    assert!(s
        .members("zzzz", ALL)
        .await
        .map(|p| p.items)
        .expect("members")
        .is_empty());

    assert_eq!(
        entries_of(&trail(s, "aaaa").await),
        ["first admin", "approve en1"],
        "one entry per successful action, none for failed ones"
    );
}

async fn enrollment_race_has_one_winner(db: &Db) {
    let s = &*db.store;
    world(s).await;
    s.create_enrollment(&EnrollmentRow {
        id: "race".into(),
        org_id: "bbbb".into(),
        request: b"request".to_vec(),
        status: EnrollmentStatus::Pending,
        created: T0,
        cert_id: None,
    })
    .await
    .expect("enroll");
    let other = db.reopen().await;
    let m1 = member("b-race1", "bbbb", "race", READER);
    let m2 = member("b-race2", "bbbb", "race", READER);
    let e1 = entry("bbbb", "approve race 1");
    let e2 = entry("bbbb", "approve race 2");
    let (r1, r2) = tokio::join!(
        s.approve_enrollment("race", &m1, &e1),
        other.approve_enrollment("race", &m2, &e2),
    );
    assert!(
        r1.is_ok() != r2.is_ok(),
        "exactly one approval wins: {r1:?} {r2:?}"
    );
    assert!(is_conflict(if r1.is_ok() { r2 } else { r1 }));
    let winner = s
        .enrollment("race")
        .await
        .expect("enrollment")
        .cert_id
        .expect("certificate");
    let loser = if winner == "b-race1" {
        "b-race2"
    } else {
        "b-race1"
    };
    assert!(
        is_not_found(s.member(loser).await),
        "the losing approval inserted nothing"
    );
    let approvals = entries_of(&trail(s, "bbbb").await)
        .into_iter()
        .filter(|e| e.starts_with("approve race"))
        .count();
    assert_eq!(approvals, 1);
    assert_chain(&trail(s, "bbbb").await);
}

async fn revocation(db: &Db) {
    let s = &*db.store;
    world(s).await;
    s.put_token(b"token-r1", "b-r1", T0 + 3600)
        .await
        .expect("token");
    s.put_challenge(b"nonce-r1", "b-r1", T0 + 60)
        .await
        .expect("challenge");
    s.put_token(b"token-r2", "b-r2", T0 + 3600)
        .await
        .expect("token");

    s.revoke_member("b-r1", T0 + 5, &entry("bbbb", "revoke b-r1"))
        .await
        .expect("revoke");
    let r1 = s.member("b-r1").await.expect("member");
    assert_eq!(
        (r1.status, r1.revoked_at),
        (MemberStatus::Revoked, Some(T0 + 5))
    );
    assert!(
        is_not_found(s.token(b"token-r1", T0).await),
        "its sessions end"
    );
    assert!(
        is_not_found(s.take_challenge(b"nonce-r1", T0).await),
        "its logins end"
    );
    assert_eq!(
        s.token(b"token-r2", T0).await.expect("other token").cert_id,
        "b-r2"
    );

    assert!(is_conflict(
        s.revoke_member("b-r1", T0 + 6, &entry("bbbb", "again"))
            .await
    ));
    assert!(is_not_found(
        s.revoke_member("nobody", T0 + 6, &entry("bbbb", "nobody"))
            .await
    ));
    let log = entries_of(&trail(s, "bbbb").await);
    assert_eq!(log.last().map(String::as_str), Some("revoke b-r1"));
    assert_eq!(log.iter().filter(|e| e.starts_with("revoke")).count(), 1);
}

async fn challenges_and_tokens(db: &Db) {
    let s = &*db.store;
    world(s).await;
    s.put_challenge(b"n1", "b-r1", T0 + 60)
        .await
        .expect("challenge");
    assert!(
        is_conflict(s.put_challenge(b"n1", "b-r2", T0 + 60).await),
        "duplicate nonce"
    );
    assert_eq!(s.take_challenge(b"n1", T0).await.expect("take"), "b-r1");
    assert!(
        is_not_found(s.take_challenge(b"n1", T0).await),
        "a challenge is used once"
    );
    assert!(is_not_found(s.take_challenge(b"never", T0).await));

    s.put_challenge(b"n2", "b-r1", T0 + 60)
        .await
        .expect("challenge");
    assert!(
        is_not_found(s.take_challenge(b"n2", T0 + 60).await),
        "expired at its expiry time"
    );
    s.put_challenge(b"n2", "b-r1", T0 + 120)
        .await
        .expect("the expired challenge was consumed");

    s.put_token(b"t1", "b-r1", T0 + 3600).await.expect("token");
    assert!(
        is_conflict(s.put_token(b"t1", "b-r2", T0 + 3600).await),
        "duplicate token"
    );
    assert_eq!(s.token(b"t1", T0).await.expect("token").cert_id, "b-r1");
    assert_eq!(
        s.token(b"t1", T0 + 3599).await.expect("token").cert_id,
        "b-r1"
    );
    assert!(
        is_not_found(s.token(b"t1", T0 + 3600).await),
        "expired token"
    );
    assert!(is_not_found(s.token(b"t2", T0).await));

    // expire() purges what has expired; what has not stays.
    s.put_token(b"t3", "b-r2", T0 + 10_000)
        .await
        .expect("token");
    s.expire(T0 + 5000).await.expect("expire");
    assert_eq!(
        s.token(b"t3", T0 + 5000).await.expect("token").cert_id,
        "b-r2"
    );
    assert!(is_not_found(s.token(b"t1", T0).await), "purged");
}

async fn envelope_and_inbox(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    assert_eq!(
        s.envelope("e1").await.expect("envelope"),
        envelope("e1", "blob-e1", T0 + 10)
    );
    assert!(is_not_found(s.envelope("nope").await));
    assert_eq!(
        s.delivery("d-rep").await.expect("delivery"),
        delivery("d-rep", "e1", "b-rep", None, &[0, 1, 2], T0 + 10)
    );
    assert!(is_not_found(s.delivery("nope").await));

    // A second envelope, with part indices that need all 32 bits.
    s.commit_envelope(
        &envelope("e2", "blob-e2", T0 + 20),
        &delivery(
            "d-rep2",
            "e2",
            "b-rep",
            None,
            &[0, 7, 65_536, u32::MAX],
            T0 + 20,
        ),
        &[entry("aaaa", "send e2"), entry("bbbb", "receive e2")],
    )
    .await
    .expect("commit second");
    assert_eq!(
        s.delivery("d-rep2").await.expect("delivery").parts,
        [0, 7, 65_536, u32::MAX]
    );
    assert!(
        is_conflict(
            s.commit_envelope(
                &envelope("e2", "blob-x", T0 + 30),
                &delivery("d-x", "e2", "b-rep", None, &[0], T0 + 30),
                &[],
            )
            .await
        ),
        "duplicate envelope"
    );
    assert!(
        is_conflict(
            s.commit_envelope(
                &envelope("e3", "blob-e3", T0 + 30),
                &delivery("d-e3", "e1", "b-rep", None, &[0], T0 + 30),
                &[],
            )
            .await
        ),
        "the first delivery must belong to the envelope"
    );

    let inbox: Vec<_> = s
        .inbox("b-rep", None, ALL)
        .await
        .map(|p| p.items)
        .expect("inbox")
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(inbox, ["d-rep2", "d-rep"], "newest first");
    assert!(s
        .inbox("b-r1", None, ALL)
        .await
        .map(|p| p.items)
        .expect("inbox")
        .is_empty());
    let of: Vec<_> = s
        .deliveries_of("e1")
        .await
        .expect("deliveries")
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(of, ["d-rep"]);
    assert!(s
        .deliveries_of("nope")
        .await
        .expect("deliveries")
        .is_empty());

    assert_eq!(
        entries_of(&trail(s, "aaaa").await)[2..],
        ["send e1", "send e2"],
        "the sender's trail"
    );
    assert_eq!(
        entries_of(&trail(s, "bbbb").await)
            .iter()
            .filter(|e| e.starts_with("receive"))
            .count(),
        2,
        "the recipient's trail"
    );
}

async fn forward_recall_and_reforward(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    // One action: part 0 to reader one, parts 1 and 2 to reader two.
    let to_r1 = delivery("d-r1", "e1", "b-r1", Some("d-rep"), &[0], T0 + 100);
    let to_r2 = delivery("d-r2", "e1", "b-r2", Some("d-rep"), &[1, 2], T0 + 100);
    s.commit_forward(
        "d-rep",
        DeliveryStatus::Forwarded,
        &[to_r1.clone(), to_r2.clone()],
        &[entry("bbbb", "forward e1")],
    )
    .await
    .expect("forward");
    let parent = s.delivery("d-rep").await.expect("parent");
    assert_eq!(
        (parent.status, parent.updated),
        (DeliveryStatus::Forwarded, T0 + 100)
    );
    assert_eq!(s.delivery("d-r1").await.expect("child"), to_r1);
    assert_eq!(s.delivery("d-r2").await.expect("child"), to_r2);
    let chain: Vec<_> = s
        .deliveries_of("e1")
        .await
        .expect("chain")
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(chain, ["d-rep", "d-r1", "d-r2"], "oldest first");
    assert_eq!(
        s.inbox("b-r1", None, ALL)
            .await
            .map(|p| p.items)
            .expect("inbox"),
        std::slice::from_ref(&to_r1)
    );

    // Wrong recipient: recall reader one's copy before it is opened.
    let recalled = s
        .recall("d-r1", T0 + 200, &entry("bbbb", "recall d-r1"))
        .await
        .expect("recall");
    assert_eq!(recalled.status, DeliveryStatus::Recalled);
    assert!(recalled.header.is_empty(), "capsules destroyed");
    assert_eq!(recalled.updated, T0 + 200);
    assert_eq!(s.delivery("d-r1").await.expect("recalled"), recalled);
    let parent = s.delivery("d-rep").await.expect("parent");
    assert_eq!(
        (parent.status, parent.updated),
        (DeliveryStatus::Delivered, T0 + 200)
    );
    assert!(!parent.header.is_empty(), "the parent keeps its capsules");
    assert!(
        is_conflict(s.recall("d-r1", T0 + 201, &entry("bbbb", "again")).await),
        "already recalled"
    );
    assert!(is_not_found(
        s.recall("nope", T0 + 201, &entry("bbbb", "nope")).await
    ));
    assert!(
        is_conflict(
            s.commit_forward(
                "d-r1",
                DeliveryStatus::Forwarded,
                &[delivery("d-x", "e1", "b-r3", Some("d-r1"), &[0], T0 + 210)],
                &[]
            )
            .await
        ),
        "a recalled delivery cannot be forwarded"
    );
    assert!(
        is_conflict(
            s.mark_opened("d-r1", T0 + 210, &entry("bbbb", "open"))
                .await
        ),
        "nor opened"
    );

    // Re-forward part 0 from the parent, now to the right reader.
    let to_r3 = delivery("d-r3", "e1", "b-r3", Some("d-rep"), &[0], T0 + 300);
    s.commit_forward(
        "d-rep",
        DeliveryStatus::Forwarded,
        std::slice::from_ref(&to_r3),
        &[entry("bbbb", "forward again")],
    )
    .await
    .expect("re-forward");
    assert_eq!(
        s.delivery("d-rep").await.expect("parent").status,
        DeliveryStatus::Forwarded
    );
    s.mark_opened("d-r3", T0 + 400, &entry("bbbb", "open d-r3"))
        .await
        .expect("open");
    let opened = s.delivery("d-r3").await.expect("opened");
    assert_eq!(
        (opened.status, opened.updated),
        (DeliveryStatus::Opened, T0 + 400)
    );
    s.mark_opened("d-r3", T0 + 500, &entry("bbbb", "open again"))
        .await
        .expect("idempotent");
    assert_eq!(
        s.delivery("d-r3").await.expect("opened").updated,
        T0 + 400,
        "unchanged"
    );
    assert!(is_not_found(
        s.mark_opened("nope", T0, &entry("bbbb", "nope")).await
    ));
    assert!(
        is_conflict(
            s.commit_forward(
                "d-r3",
                DeliveryStatus::Forwarded,
                &[delivery("d-y", "e1", "b-r1", Some("d-r3"), &[0], T0 + 510)],
                &[]
            )
            .await
        ),
        "an opened delivery cannot be forwarded"
    );

    let log = entries_of(&trail(s, "bbbb").await);
    let tail: Vec<_> = log
        .iter()
        .skip_while(|e| *e != "forward e1")
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        ["forward e1", "recall d-r1", "forward again", "open d-r3"]
    );
    assert_chain(&trail(s, "bbbb").await);
}

async fn opened_delivery_cannot_be_recalled(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    s.commit_forward(
        "d-rep",
        DeliveryStatus::Forwarded,
        &[delivery(
            "d-r1",
            "e1",
            "b-r1",
            Some("d-rep"),
            &[0, 1, 2],
            T0 + 100,
        )],
        &[],
    )
    .await
    .expect("forward");
    s.mark_opened("d-r1", T0 + 150, &entry("bbbb", "open"))
        .await
        .expect("open");
    let before = trail(s, "bbbb").await.len();
    assert!(is_conflict(
        s.recall("d-r1", T0 + 200, &entry("bbbb", "recall")).await
    ));
    let child = s.delivery("d-r1").await.expect("child");
    assert_eq!(child.status, DeliveryStatus::Opened);
    assert!(!child.header.is_empty());
    assert_eq!(
        s.delivery("d-rep").await.expect("parent").status,
        DeliveryStatus::Forwarded
    );
    assert_eq!(
        trail(s, "bbbb").await.len(),
        before,
        "no audit entry for a refused recall"
    );
    // A forwarded delivery cannot be recalled either (its children can).
    assert!(is_conflict(
        s.recall("d-rep", T0 + 200, &entry("bbbb", "recall")).await
    ));
}

/// A partial recall: the delivery keeps the other parts with the header it is given, a new
/// recalled delivery of the same holder records the recalled parts (no header), the parent is
/// delivered again, one audit entry; refused (and nothing changed) for parts the delivery does
/// not hold, for all of its parts, and after a download.
async fn some_parts_are_recalled_alone(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    s.commit_forward(
        "d-rep",
        DeliveryStatus::Forwarded,
        &[delivery(
            "d-r1",
            "e1",
            "b-r1",
            Some("d-rep"),
            &[0, 1, 2],
            T0 + 100,
        )],
        &[],
    )
    .await
    .expect("forward");
    let before = trail(s, "bbbb").await.len();
    let mut gone = delivery("d-gone", "e1", "b-r1", Some("d-rep"), &[1], T0 + 100);
    gone.status = DeliveryStatus::Recalled;
    gone.header = Vec::new();
    gone.updated = T0 + 200;
    for bad in [vec![3], vec![0, 1, 2]] {
        let mut g = gone.clone();
        g.parts = bad;
        assert!(is_conflict(
            s.recall_parts("d-r1", b"kept", &g, T0 + 200, &entry("bbbb", "recall"))
                .await
        ));
    }
    assert_eq!(
        trail(s, "bbbb").await.len(),
        before,
        "nothing for a refusal"
    );
    let kept = s
        .recall_parts(
            "d-r1",
            b"kept",
            &gone,
            T0 + 200,
            &entry("bbbb", "recall part 1"),
        )
        .await
        .expect("recall part 1");
    assert_eq!(kept.parts, vec![0, 2]);
    assert_eq!(kept.header, b"kept");
    assert_eq!(kept.status, DeliveryStatus::Delivered);
    assert_eq!(s.delivery("d-gone").await.expect("recalled row"), gone);
    assert_eq!(
        s.delivery("d-rep").await.expect("parent").status,
        DeliveryStatus::Delivered
    );
    assert_eq!(trail(s, "bbbb").await.len(), before + 1);
    // After a download, no part can be recalled.
    s.record_download("d-r1", T0 + 300).await.expect("download");
    let mut later = gone.clone();
    later.id = "d-gone2".into();
    later.parts = vec![2];
    assert!(is_conflict(
        s.recall_parts("d-r1", b"x", &later, T0 + 310, &entry("bbbb", "recall"))
            .await
    ));
    assert_eq!(s.delivery("d-r1").await.expect("kept").parts, vec![0, 2]);
}

/// A download is recorded once (the first time counts), is refused on a recalled delivery,
/// and makes the delivery unrecallable; of a recall racing a download through two store
/// instances exactly one wins.
async fn downloaded_delivery_cannot_be_recalled(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    s.commit_forward(
        "d-rep",
        DeliveryStatus::Delivered,
        &[
            delivery("d-r1", "e1", "b-r1", Some("d-rep"), &[0], T0 + 100),
            delivery("d-r2", "e1", "b-r2", Some("d-rep"), &[1], T0 + 100),
        ],
        &[],
    )
    .await
    .expect("forward");
    assert_eq!(s.delivery("d-r1").await.expect("d").downloaded, None);
    let d = s.record_download("d-r1", T0 + 150).await.expect("download");
    assert_eq!(d.downloaded, Some(T0 + 150));
    let d = s.record_download("d-r1", T0 + 170).await.expect("again");
    assert_eq!(d.downloaded, Some(T0 + 150), "the first download counts");
    assert_eq!(
        d.status,
        DeliveryStatus::Delivered,
        "a download is not an open"
    );
    let before = trail(s, "bbbb").await.len();
    assert!(is_conflict(
        s.recall("d-r1", T0 + 200, &entry("bbbb", "recall downloaded"))
            .await
    ));
    let d = s.delivery("d-r1").await.expect("d");
    assert_eq!(d.status, DeliveryStatus::Delivered);
    assert!(!d.header.is_empty(), "capsules kept");
    assert_eq!(
        trail(s, "bbbb").await.len(),
        before,
        "no entry for a refused recall"
    );
    assert!(is_not_found(s.record_download("nope", T0).await));

    // Opened keeps the download time; a recalled delivery cannot be downloaded.
    s.mark_opened("d-r1", T0 + 300, &entry("bbbb", "open"))
        .await
        .expect("open");
    assert_eq!(
        s.record_download("d-r1", T0 + 400)
            .await
            .expect("re-read")
            .downloaded,
        Some(T0 + 150)
    );
    s.recall("d-r2", T0 + 200, &entry("bbbb", "recall d-r2"))
        .await
        .expect("recall");
    assert!(is_conflict(s.record_download("d-r2", T0 + 250).await));
    assert_eq!(s.delivery("d-r2").await.expect("d").downloaded, None);

    // A recall racing a download: exactly one of them wins.
    s.commit_forward(
        "d-rep",
        DeliveryStatus::Delivered,
        &[delivery(
            "d-r3",
            "e1",
            "b-r3",
            Some("d-rep"),
            &[1],
            T0 + 500,
        )],
        &[],
    )
    .await
    .expect("re-forward");
    let other = db.reopen().await;
    let e = entry("bbbb", "recall d-r3");
    let (dl, rc) = tokio::join!(
        other.record_download("d-r3", T0 + 600),
        s.recall("d-r3", T0 + 600, &e)
    );
    assert!(dl.is_ok() != rc.is_ok(), "one winner: {dl:?} {rc:?}");
    let d = s.delivery("d-r3").await.expect("d");
    if rc.is_ok() {
        assert_eq!((d.status, d.downloaded), (DeliveryStatus::Recalled, None));
    } else {
        assert_eq!(
            (d.status, d.downloaded),
            (DeliveryStatus::Delivered, Some(T0 + 600))
        );
    }
}

/// Upload records claim their blobs until they expire (plus the grace period), a `PUT` moves
/// the claim to its own body key, an envelope commits only through a live record (which it
/// consumes, in the same transaction), and expired records are purged.
async fn upload_records_claim_their_blobs(db: &Db) {
    let s = &*db.store;
    world(s).await;
    let up = |id: &str, expires: i64| UploadRow {
        id: id.into(),
        org_id: "aaaa".into(),
        actor_cert: "a-clerk".into(),
        record_key: format!("upload-{id}"),
        blob_key: format!("body-{id}-0"),
        bytes: 1 << 34,
        created: T0,
        expires,
    };
    s.create_upload(&up("u1", T0 + 3600), u32::MAX)
        .await
        .expect("u1");
    s.create_upload(&up("u2", T0 + 3600), u32::MAX)
        .await
        .expect("u2");
    assert!(
        is_conflict(s.create_upload(&up("u1", T0), u32::MAX).await),
        "same id"
    );
    assert_eq!(s.upload("u1").await.expect("u1"), up("u1", T0 + 3600));
    let claimed = s.claimed_blob_keys(T0 + 100).await.expect("claimed");
    for k in ["upload-u1", "body-u1-0", "upload-u2", "body-u2-0"] {
        assert!(claimed.contains(&k.to_string()), "{k} in {claimed:?}");
    }
    // A PUT of u1 starts: its own key, a longer lease.
    let r = s
        .renew_upload("u1", T0 + 100, T0 + 86_400, "body-u1-1")
        .await
        .expect("renew");
    assert_eq!((r.expires, r.blob_key.as_str()), (T0 + 86_400, "body-u1-1"));
    assert!(is_not_found(s.renew_upload("nope", T0, T0 + 1, "k").await));
    // Hours later: u2 (never started) claims nothing once past its grace, u1 still does.
    let later = T0 + 3600 + UPLOAD_GRACE + 1;
    let claimed = s.claimed_blob_keys(later).await.expect("claimed");
    assert!(claimed.contains(&"body-u1-1".to_string()));
    assert!(claimed.contains(&"upload-u1".to_string()));
    assert!(
        !claimed.contains(&"body-u1-0".to_string()),
        "the earlier attempt's key"
    );
    assert!(!claimed.contains(&"upload-u2".to_string()));
    assert!(is_conflict(
        s.renew_upload("u2", later, later + 60, "body-u2-1").await
    ));
    // u1 commits its envelope (the record named this blob), consuming the record.
    let env = envelope("e-u1", "body-u1-1", T0 + 200);
    let first = delivery("d-u1", "e-u1", "b-rep", None, &[0], T0 + 200);
    assert!(
        is_conflict(
            s.commit_upload(
                "u1",
                T0 + 200,
                &envelope("e-u1", "body-u1-0", T0 + 200),
                &first,
                &[]
            )
            .await
        ),
        "another attempt's blob"
    );
    s.commit_upload("u1", T0 + 200, &env, &first, &[entry("aaaa", "send e-u1")])
        .await
        .expect("commit");
    assert!(is_not_found(s.upload("u1").await));
    assert!(s
        .claimed_blob_keys(later)
        .await
        .expect("claimed")
        .contains(&"body-u1-1".to_string()));
    assert!(is_not_found(
        s.commit_upload("u1", T0 + 200, &env, &first, &[]).await
    ));
    // u2 expired: its commit is refused, nothing becomes visible; the purge removes it.
    let env2 = envelope("e-u2", "body-u2-0", T0 + 200);
    let first2 = delivery("d-u2", "e-u2", "b-rep", None, &[0], T0 + 200);
    assert!(is_conflict(
        s.commit_upload("u2", T0 + 3600, &env2, &first2, &[]).await
    ));
    assert!(is_not_found(s.envelope("e-u2").await));
    s.expire(later).await.expect("expire");
    assert!(is_not_found(s.upload("u2").await));
}

fn upload(id: &str, org_id: &str, actor: &str, bytes: u64, expires: i64) -> UploadRow {
    UploadRow {
        id: id.into(),
        org_id: org_id.into(),
        actor_cert: actor.into(),
        record_key: format!("upload-{id}"),
        blob_key: format!("body-{id}-0"),
        bytes,
        created: T0 + 100,
        expires,
    }
}

async fn usage(s: &dyn Store, org_id: &str, now: i64) -> u64 {
    s.org_usage(org_id, now).await.expect("usage")
}

/// `org_usage` counts the bodies of envelopes the organization's members sent (until removed),
/// the headers of deliveries they created (first deliveries and forwards; emptied by recall
/// and expiry) and their live upload records; nothing of other organizations.
async fn usage_counts_what_an_organization_stores(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    let header = "header for b-rep".len() as u64;
    assert_eq!(usage(s, "aaaa", T0 + 100).await, (1 << 33) + header);
    assert_eq!(
        usage(s, "bbbb", T0 + 100).await,
        0,
        "receiving costs nothing"
    );
    assert_eq!(usage(s, "cccc", T0 + 100).await, 0, "unknown organization");

    // A forward inside B: its header counts for B, whose member made it.
    let mut child = delivery("d-r1", "e1", "b-r1", Some("d-rep"), &[0], T0 + 20);
    child.created_by = "b-rep".into();
    child.header = vec![7; 1000];
    s.commit_forward("d-rep", DeliveryStatus::Delivered, &[child], &[])
        .await
        .expect("forward");
    assert_eq!(usage(s, "bbbb", T0 + 100).await, 1000);
    assert_eq!(usage(s, "aaaa", T0 + 100).await, (1 << 33) + header);

    // A live upload record counts with its reserved bytes, until it expires.
    s.create_upload(&upload("u1", "aaaa", "a-clerk", 5000, T0 + 3600), u32::MAX)
        .await
        .expect("upload");
    assert_eq!(usage(s, "aaaa", T0 + 100).await, (1 << 33) + header + 5000);
    assert_eq!(usage(s, "aaaa", T0 + 3600).await, (1 << 33) + header);

    // Recalls empty the headers; once no delivery holds a capsule, expiry removes the body.
    s.recall("d-r1", T0 + 200, &entry("bbbb", "recall d-r1"))
        .await
        .expect("recall child");
    assert_eq!(usage(s, "bbbb", T0 + 100).await, 0);
    s.recall("d-rep", T0 + 201, &entry("aaaa", "recall d-rep"))
        .await
        .expect("recall first");
    assert_eq!(usage(s, "aaaa", T0 + 3600).await, 1 << 33);
    s.expire(T0 + 300).await.expect("expire");
    assert!(s.envelope("e1").await.expect("e1").body_removed);
    assert_eq!(usage(s, "aaaa", T0 + 3600).await, 0);
}

/// An upload that would take its organization over the quota is refused with the numbers,
/// and nothing is recorded; exactly reaching the quota is allowed; an envelope may not
/// commit more than its upload reserved.
async fn quota_refuses_uploads_beyond_it(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    let used = usage(s, "aaaa", T0 + 100).await;
    s.set_org_policy("aaaa", &quota(used + 1500), &[])
        .await
        .expect("quota");
    s.create_upload(&upload("u1", "aaaa", "a-clerk", 1000, T0 + 3600), u32::MAX)
        .await
        .expect("within the quota");
    match s
        .create_upload(&upload("u2", "aaaa", "a-clerk", 1000, T0 + 3600), u32::MAX)
        .await
    {
        Err(StoreError::QuotaExceeded {
            used: u,
            quota: q,
            requested: r,
        }) => assert_eq!((u, q, r), (used + 1000, used + 1500, 1000)),
        other => panic!("expected QuotaExceeded, got {other:?}"),
    }
    assert!(is_not_found(s.upload("u2").await), "nothing recorded");
    assert!(matches!(
        s.create_upload(
            &upload("u3", "aaaa", "a-clerk", u64::MAX >> 1, T0 + 3600),
            u32::MAX
        )
        .await,
        Err(StoreError::QuotaExceeded { .. })
    ));
    s.create_upload(&upload("u4", "aaaa", "a-clerk", 500, T0 + 3600), u32::MAX)
        .await
        .expect("exactly at the quota");
    // Another organization's quota is its own.
    s.create_upload(&upload("u5", "bbbb", "b-r1", 1 << 40, T0 + 3600), u32::MAX)
        .await
        .expect("no quota in B");
    // An expired record no longer counts (it can never commit).
    s.create_upload(
        &UploadRow {
            created: T0 + 3600,
            ..upload("u6", "aaaa", "a-clerk", 1500, T0 + 7200)
        },
        u32::MAX,
    )
    .await
    .expect("u1 and u4 expired");

    // u4 reserved 500 bytes: an envelope of more is refused at commit, nothing visible.
    let mut env = envelope("e-u4", "body-u4-0", T0 + 200);
    env.bodies_len = 400;
    let mut first = delivery("d-u4", "e-u4", "b-rep", None, &[0], T0 + 200);
    first.header = vec![1; 200];
    assert!(is_conflict(
        s.commit_upload("u4", T0 + 200, &env, &first, &[]).await
    ));
    assert!(is_not_found(s.envelope("e-u4").await));
    s.set_org_policy("aaaa", &OrgPolicy::default(), &[])
        .await
        .expect("unlimited");
    s.create_upload(
        &upload("u7", "aaaa", "a-clerk", 1 << 40, T0 + 3600),
        u32::MAX,
    )
    .await
    .expect("unlimited again");
}

/// Two uploads that fit the quota one at a time but not together, created at once (on two
/// connections, as two server processes would): exactly one is recorded.
async fn concurrent_uploads_cannot_pass_the_quota_together(db: &Db) {
    let s = db.store.clone();
    world(&*s).await;
    s.set_org_policy("aaaa", &quota(1500), &[])
        .await
        .expect("quota");
    for round in 0..5 {
        let other = db.reopen().await;
        let ids = (format!("x{round}"), format!("y{round}"));
        let a = {
            let s = s.clone();
            let id = ids.0.clone();
            tokio::spawn(async move {
                s.create_upload(&upload(&id, "aaaa", "a-clerk", 1000, T0 + 3600), u32::MAX)
                    .await
            })
        };
        let b = {
            let id = ids.1.clone();
            tokio::spawn(async move {
                other
                    .create_upload(&upload(&id, "aaaa", "a-clerk", 1000, T0 + 3600), u32::MAX)
                    .await
            })
        };
        let results = [a.await.expect("join"), b.await.expect("join")];
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        assert!(results
            .iter()
            .any(|r| matches!(r, Err(StoreError::QuotaExceeded { .. }))));
        assert_eq!(usage(&*s, "aaaa", T0 + 100).await, 1000);
        // Free the quota for the next round: the winner's record expires.
        let winner = if results[0].is_ok() { &ids.0 } else { &ids.1 };
        s.renew_upload(winner, T0 + 100, T0 + 101, "body-gone")
            .await
            .expect("shorten");
        assert_eq!(usage(&*s, "aaaa", T0 + 101).await, 0);
        // The next round's uploads are created at T0 + 100 again: purge the record.
        s.expire(T0 + 101 + UPLOAD_GRACE + 1).await.expect("purge");
        assert_eq!(usage(&*s, "aaaa", T0 + 100).await, 0);
    }
}

/// A sender with `max_pending` live upload records gets `TooManyPendingUploads` (nothing
/// recorded); another sender is not affected, and an expired record no longer counts.
async fn unfinished_uploads_are_capped_per_sender(db: &Db) {
    let s = &*db.store;
    world(s).await;
    for id in ["p1", "p2"] {
        s.create_upload(&upload(id, "aaaa", "a-clerk", 10, T0 + 3600), 2)
            .await
            .expect("within the cap");
    }
    let e = s
        .create_upload(&upload("p3", "aaaa", "a-clerk", 10, T0 + 3600), 2)
        .await;
    assert!(
        matches!(
            e,
            Err(StoreError::TooManyPendingUploads {
                pending: 2,
                limit: 2
            })
        ),
        "{e:?}"
    );
    assert!(is_not_found(s.upload("p3").await), "nothing recorded");
    // Another member of the same organization has its own count.
    s.create_upload(&upload("p4", "aaaa", "a-admin", 10, T0 + 3600), 2)
        .await
        .expect("another sender");
    // Once one of the clerk's uploads expired, the clerk may start another.
    s.renew_upload("p1", T0 + 100, T0 + 101, "body-p1-1")
        .await
        .expect("shorten");
    s.create_upload(
        &UploadRow {
            created: T0 + 200,
            ..upload("p5", "aaaa", "a-clerk", 10, T0 + 3600)
        },
        2,
    )
    .await
    .expect("an expired upload does not count");
}

/// `receipt_rows` pages an envelope's deliveries oldest first with the roles of holder and
/// creator and without headers; `children` returns a delivery's live children and only the
/// newest recalled ones.
async fn receipts_page_and_children_read_no_more_than_asked(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    let mut recalled = Vec::new();
    for i in 0..4i64 {
        let id = format!("d-c{i}");
        let mut c = delivery(&id, "e1", "b-r1", Some("d-rep"), &[0], T0 + 100 + 10 * i);
        c.created_by = "b-rep".into();
        s.commit_forward("d-rep", DeliveryStatus::Delivered, &[c], &[])
            .await
            .expect("forward");
        s.recall(
            &id,
            T0 + 105 + 10 * i,
            &entry("bbbb", &format!("recall {id}")),
        )
        .await
        .expect("recall");
        recalled.push(id);
    }
    let mut live = delivery("d-live", "e1", "b-r2", Some("d-rep"), &[1, 2], T0 + 200);
    live.created_by = "b-rep".into();
    s.commit_forward("d-rep", DeliveryStatus::Delivered, &[live], &[])
        .await
        .expect("live forward");

    // Pages of two, oldest first: d-rep, d-c0 | d-c1, d-c2 | d-c3, d-live.
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s
            .receipt_rows(
                "e1",
                PageRequest {
                    after: after.as_deref(),
                    limit: 2,
                },
            )
            .await
            .expect("page");
        assert!(page.items.len() <= 2);
        for r in &page.items {
            assert!(r.delivery.header.is_empty(), "no header read");
            ids.push(r.delivery.id.clone());
        }
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(ids, ["d-rep", "d-c0", "d-c1", "d-c2", "d-c3", "d-live"]);
    let first = s
        .receipt_rows("e1", PageRequest::first(1))
        .await
        .expect("first");
    let r = &first.items[0];
    assert_eq!(
        (r.holder_roles, r.creator_roles),
        (Some(REPRESENTATIVE | FORWARDER), Some(READER)),
        "the representative holds it, the clerk created it"
    );
    assert!(is_not_found(
        s.receipt_rows("e1", PageRequest::after("nope", 10)).await
    ));
    assert!(is_not_found(
        s.receipt_rows("e2", PageRequest::after("d-rep", 10)).await
    ));

    let children = |n: u32| async move {
        s.children("d-rep", n)
            .await
            .expect("children")
            .into_iter()
            .map(|d| d.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(children(0).await, ["d-live"]);
    assert_eq!(children(2).await, ["d-c2", "d-c3", "d-live"]);
    assert_eq!(children(100).await.len(), 5);
    assert!(s.children("d-live", 100).await.expect("none").is_empty());
}

async fn recall_race_has_one_winner(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    s.commit_forward(
        "d-rep",
        DeliveryStatus::Delivered,
        &[delivery(
            "d-r1",
            "e1",
            "b-r1",
            Some("d-rep"),
            &[0],
            T0 + 100,
        )],
        &[],
    )
    .await
    .expect("forward");
    let other = db.reopen().await;
    let (e1, e2, e3) = (
        entry("bbbb", "recall 1"),
        entry("bbbb", "recall 2"),
        entry("bbbb", "open"),
    );
    let (r1, r2, r3) = tokio::join!(
        s.recall("d-r1", T0 + 200, &e1),
        other.recall("d-r1", T0 + 200, &e2),
        other.mark_opened("d-r1", T0 + 200, &e3),
    );
    let wins = [r1.is_ok(), r2.is_ok(), r3.is_ok()]
        .iter()
        .filter(|w| **w)
        .count();
    assert_eq!(
        wins, 1,
        "one of recall, recall, open wins: {r1:?} {r2:?} {r3:?}"
    );
    let status = s.delivery("d-r1").await.expect("delivery").status;
    assert_eq!(
        status,
        if r3.is_ok() {
            DeliveryStatus::Opened
        } else {
            DeliveryStatus::Recalled
        }
    );
    let log = entries_of(&trail(s, "bbbb").await);
    assert_eq!(
        log.iter()
            .filter(|e| *e == "recall 1" || *e == "recall 2" || *e == "open")
            .count(),
        1
    );
}

/// Two forwards of the same part through two store instances (two server processes): exactly
/// one commits; a later forward of a part a live child holds conflicts; after a recall the part
/// can go again; and a caller that expects the wrong parent status is refused.
async fn forward_race_has_one_winner(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    let other = db.reopen().await;
    let a = delivery("d-a", "e1", "b-r1", Some("d-rep"), &[0], T0 + 100);
    let b = delivery("d-b", "e1", "b-r2", Some("d-rep"), &[0, 1], T0 + 100);
    let (ea, eb) = (entry("bbbb", "forward a"), entry("bbbb", "forward b"));
    let (ra, rb) = tokio::join!(
        s.commit_forward(
            "d-rep",
            DeliveryStatus::Delivered,
            std::slice::from_ref(&a),
            std::slice::from_ref(&ea)
        ),
        other.commit_forward(
            "d-rep",
            DeliveryStatus::Delivered,
            std::slice::from_ref(&b),
            std::slice::from_ref(&eb)
        ),
    );
    assert_eq!(
        u8::from(ra.is_ok()) + u8::from(rb.is_ok()),
        1,
        "exactly one of two racing forwards of part 0 commits: {ra:?} {rb:?}"
    );
    let loser = if ra.is_ok() { &rb } else { &ra };
    assert!(matches!(loser, Err(StoreError::Conflict(_))), "{loser:?}");
    let (winner, loser_id) = if ra.is_ok() {
        ("d-a", "d-b")
    } else {
        ("d-b", "d-a")
    };
    assert!(
        is_not_found(s.delivery(loser_id).await),
        "nothing of the loser"
    );
    let log = entries_of(&trail(s, "bbbb").await);
    assert_eq!(
        log.iter()
            .filter(|e| *e == "forward a" || *e == "forward b")
            .count(),
        1
    );

    // Sequentially: part 0 is held by a live child.
    let again = delivery("d-c", "e1", "b-r2", Some("d-rep"), &[0], T0 + 110);
    assert!(is_conflict(
        s.commit_forward(
            "d-rep",
            DeliveryStatus::Delivered,
            std::slice::from_ref(&again),
            &[]
        )
        .await
    ));
    // A part that is not the parent's.
    let stray = delivery("d-s", "e1", "b-r2", Some("d-rep"), &[7], T0 + 110);
    assert!(is_conflict(
        s.commit_forward(
            "d-rep",
            DeliveryStatus::Delivered,
            std::slice::from_ref(&stray),
            &[]
        )
        .await
    ));
    // The caller expects the wrong parent status: after a.[0] + [1], part 2 remains (the
    // parent stays delivered); after b.[0, 1] + [2], nothing remains (it becomes forwarded).
    let (rest, wrong): (&[u32], _) = if winner == "d-a" {
        (&[1], DeliveryStatus::Forwarded)
    } else {
        (&[2], DeliveryStatus::Delivered)
    };
    let partial = delivery("d-p", "e1", "b-r2", Some("d-rep"), rest, T0 + 120);
    assert!(is_conflict(
        s.commit_forward("d-rep", wrong, std::slice::from_ref(&partial), &[])
            .await
    ));
    // After a recall of the winner, part 0 can be forwarded again.
    s.recall(winner, T0 + 130, &entry("bbbb", "recall"))
        .await
        .expect("recall");
    s.commit_forward(
        "d-rep",
        DeliveryStatus::Delivered,
        std::slice::from_ref(&again),
        &[],
    )
    .await
    .expect("re-forward after recall");
    assert!(s.delivery("d-c").await.is_ok());

    // A replayed action statement (the same entry bytes again in the same organization's
    // trail): the whole forward is refused, even though its part is free again.
    s.recall("d-c", T0 + 140, &entry("bbbb", "recall d-c"))
        .await
        .expect("recall d-c");
    let replay = delivery("d-replay", "e1", "b-r2", Some("d-rep"), &[0], T0 + 150);
    let before = trail(s, "bbbb").await;
    assert!(is_conflict(
        s.commit_forward(
            "d-rep",
            DeliveryStatus::Delivered,
            std::slice::from_ref(&replay),
            std::slice::from_ref(if ra.is_ok() { &ea } else { &eb })
        )
        .await
    ));
    assert!(is_not_found(s.delivery("d-replay").await));
    assert_eq!(trail(s, "bbbb").await, before);
    // The same bytes in another organization's trail are a different record.
    s.append_audit(&[entry("aaaa", "forward a")])
        .await
        .expect("same entry, other organization");
}

async fn revoked_member_gets_nothing_new(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    s.revoke_member("b-r1", T0 + 50, &entry("bbbb", "revoke b-r1"))
        .await
        .expect("revoke");
    assert!(
        is_conflict(
            s.commit_forward(
                "d-rep",
                DeliveryStatus::Forwarded,
                &[delivery(
                    "d-r1",
                    "e1",
                    "b-r1",
                    Some("d-rep"),
                    &[0],
                    T0 + 100
                )],
                &[]
            )
            .await
        ),
        "not a forward target"
    );
    assert_eq!(
        s.delivery("d-rep").await.expect("parent").status,
        DeliveryStatus::Delivered
    );
    assert!(is_not_found(s.delivery("d-r1").await));
    s.revoke_member("b-rep", T0 + 60, &entry("bbbb", "revoke b-rep"))
        .await
        .expect("revoke");
    assert!(
        is_conflict(
            s.commit_envelope(
                &envelope("e2", "blob-e2", T0 + 70),
                &delivery("d-e2", "e2", "b-rep", None, &[0], T0 + 70),
                &[]
            )
            .await
        ),
        "not a send target"
    );
    s.revoke_member("a-clerk", T0 + 60, &entry("aaaa", "revoke a-clerk"))
        .await
        .expect("revoke");
    assert!(
        is_conflict(
            s.commit_envelope(
                &envelope("e3", "blob-e3", T0 + 70),
                &delivery("d-e3", "e3", "b-r2", None, &[0], T0 + 70),
                &[]
            )
            .await
        ),
        "a revoked sender cannot send"
    );
    assert!(is_not_found(s.envelope("e2").await));
    assert!(is_not_found(s.envelope("e3").await));
    assert!(
        is_not_found(
            s.commit_envelope(
                &EnvelopeRow {
                    sender_cert: "a-admin".into(),
                    ..envelope("e4", "blob-e4", T0 + 70)
                },
                &delivery("d-e4", "e4", "b-nobody", None, &[0], T0 + 70),
                &[]
            )
            .await
        ),
        "unknown recipient"
    );
}

async fn failed_forward_leaves_nothing(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    s.commit_envelope(
        &envelope("e2", "blob-e2", T0 + 20),
        &delivery("d-other", "e2", "b-r3", None, &[0], T0 + 20),
        &[],
    )
    .await
    .expect("second envelope");
    let before_b = trail(s, "bbbb").await;
    let before_a = trail(s, "aaaa").await;
    let good = delivery("d-r1", "e1", "b-r1", Some("d-rep"), &[0], T0 + 100);
    let (before_a, before_b) = (&before_a, &before_b);
    let check_untouched = |what: &'static str| async move {
        assert_eq!(
            s.delivery("d-rep").await.expect("parent").status,
            DeliveryStatus::Delivered,
            "{what}: parent"
        );
        assert!(
            is_not_found(s.delivery("d-r1").await),
            "{what}: no half-written delivery"
        );
        assert_eq!(
            &trail(s, "bbbb").await,
            before_b,
            "{what}: trail B unchanged"
        );
        assert_eq!(
            &trail(s, "aaaa").await,
            before_a,
            "{what}: trail A unchanged"
        );
        assert!(
            s.inbox("b-r1", None, ALL)
                .await
                .map(|p| p.items)
                .expect("inbox")
                .is_empty(),
            "{what}: inbox"
        );
    };

    // The second new delivery collides with an existing id after the first was inserted.
    let clash = delivery("d-other", "e1", "b-r2", Some("d-rep"), &[1], T0 + 100);
    let r = s
        .commit_forward(
            "d-rep",
            DeliveryStatus::Forwarded,
            &[good.clone(), clash],
            &[entry("bbbb", "forward")],
        )
        .await;
    assert!(is_conflict(r), "duplicate delivery id");
    check_untouched("duplicate id").await;

    // The audit entries fail at the end (the second names no organization).
    let r = s
        .commit_forward(
            "d-rep",
            DeliveryStatus::Forwarded,
            std::slice::from_ref(&good),
            &[entry("bbbb", "forward"), entry("nonexistent", "forward")],
        )
        .await;
    assert!(r.is_err(), "audit entry for an unknown organization");
    check_untouched("bad audit entry").await;

    // A new delivery of another envelope, or of another parent.
    let foreign = delivery("d-f", "e2", "b-r2", Some("d-rep"), &[0], T0 + 100);
    let r = s
        .commit_forward(
            "d-rep",
            DeliveryStatus::Forwarded,
            &[good.clone(), foreign],
            &[entry("bbbb", "forward")],
        )
        .await;
    assert!(is_conflict(r), "delivery of another envelope");
    check_untouched("other envelope").await;
    let orphan = delivery("d-g", "e1", "b-r2", Some("d-other"), &[0], T0 + 100);
    let r = s
        .commit_forward(
            "d-rep",
            DeliveryStatus::Forwarded,
            &[good.clone(), orphan],
            &[entry("bbbb", "forward")],
        )
        .await;
    assert!(is_conflict(r), "delivery of another parent");
    check_untouched("other parent").await;

    // A revoked target among good ones.
    s.revoke_member("b-r2", T0 + 90, &entry("bbbb", "revoke b-r2"))
        .await
        .expect("revoke");
    let before_b = trail(s, "bbbb").await;
    let r = s
        .commit_forward(
            "d-rep",
            DeliveryStatus::Forwarded,
            &[
                good.clone(),
                delivery("d-r2", "e1", "b-r2", Some("d-rep"), &[1], T0 + 100),
            ],
            &[entry("bbbb", "forward")],
        )
        .await;
    assert!(is_conflict(r), "revoked target");
    assert!(is_not_found(s.delivery("d-r1").await));
    assert_eq!(trail(s, "bbbb").await, before_b);

    // Invalid requests.
    assert!(
        is_conflict(
            s.commit_forward("d-rep", DeliveryStatus::Forwarded, &[], &[])
                .await
        ),
        "nothing to forward"
    );
    assert!(
        is_conflict(
            s.commit_forward(
                "d-rep",
                DeliveryStatus::Opened,
                std::slice::from_ref(&good),
                &[]
            )
            .await
        ),
        "a forward does not open"
    );
    assert!(is_not_found(
        s.commit_forward(
            "nope",
            DeliveryStatus::Forwarded,
            std::slice::from_ref(&good),
            &[]
        )
        .await
    ));

    // And the good forward still works afterwards.
    s.commit_forward(
        "d-rep",
        DeliveryStatus::Delivered,
        std::slice::from_ref(&good),
        &[entry("bbbb", "forward part 0")],
    )
    .await
    .expect("forward");
    assert_eq!(s.delivery("d-r1").await.expect("child"), good);
    assert_eq!(
        s.delivery("d-rep").await.expect("parent").status,
        DeliveryStatus::Delivered,
        "parts remain"
    );
    assert_chain(&trail(s, "bbbb").await);
}

async fn failed_envelope_and_approval_leave_nothing(db: &Db) {
    let s = &*db.store;
    world_with_envelope(s).await;
    let before = trail(s, "aaaa").await;
    // The first delivery's id is taken: the envelope row must not stay behind.
    let r = s
        .commit_envelope(
            &envelope("e2", "blob-e2", T0 + 20),
            &delivery("d-rep", "e2", "b-rep", None, &[0], T0 + 20),
            &[entry("aaaa", "send e2")],
        )
        .await;
    assert!(is_conflict(r));
    assert!(is_not_found(s.envelope("e2").await));
    assert_eq!(trail(s, "aaaa").await, before);
    assert!(!s
        .referenced_blob_keys()
        .await
        .expect("keys")
        .contains(&"blob-e2".to_owned()));

    // Approval whose member certificate already exists: the enrollment stays pending.
    s.create_enrollment(&EnrollmentRow {
        id: "en-dup".into(),
        org_id: "bbbb".into(),
        request: b"request".to_vec(),
        status: EnrollmentStatus::Pending,
        created: T0,
        cert_id: None,
    })
    .await
    .expect("enroll");
    let before = trail(s, "bbbb").await;
    assert!(is_conflict(
        s.approve_enrollment(
            "en-dup",
            &member("b-r1", "bbbb", "dup", READER),
            &entry("bbbb", "approve dup")
        )
        .await
    ));
    assert_eq!(
        s.enrollment("en-dup").await.expect("enrollment").status,
        EnrollmentStatus::Pending
    );
    assert_eq!(trail(s, "bbbb").await, before);
    // A member of another organization cannot be approved through this request.
    assert!(is_conflict(
        s.approve_enrollment(
            "en-dup",
            &member("a-new", "aaaa", "new", READER),
            &entry("bbbb", "approve")
        )
        .await
    ));
    assert!(is_not_found(s.member("a-new").await));
    assert_eq!(
        s.enrollment("en-dup").await.expect("enrollment").status,
        EnrollmentStatus::Pending
    );
}

async fn audit_chain(db: &Db) {
    let s = &*db.store;
    s.create_org(&org("aaaa", "A")).await.expect("org");
    s.create_org(&org("bbbb", "B")).await.expect("org");
    assert!(trail(s, "aaaa").await.is_empty());
    s.append_audit(&[]).await.expect("nothing to append");
    s.append_audit(&[
        entry("aaaa", "a1"),
        entry("bbbb", "b1"),
        entry("aaaa", "a2"),
    ])
    .await
    .expect("append");
    s.append_audit(&[entry("aaaa", "a3")])
        .await
        .expect("append");
    let a = trail(s, "aaaa").await;
    assert_eq!(entries_of(&a), ["a1", "a2", "a3"]);
    assert_chain(&a);
    assert_eq!(a[0].prev_hash, [0u8; 32]);
    assert_eq!(a[0].created, T0);
    assert_eq!(a[0].org_id, "aaaa");
    let b = trail(s, "bbbb").await;
    assert_eq!(entries_of(&b), ["b1"]);
    assert_chain(&b);

    // Paging.
    assert_eq!(s.audit("aaaa", 2, 1).await.expect("page"), a[1..2]);
    assert_eq!(s.audit("aaaa", 2, 10).await.expect("page"), a[1..]);
    assert!(s.audit("aaaa", 4, 10).await.expect("page").is_empty());
    assert!(s.audit("aaaa", 1, 0).await.expect("page").is_empty());
    assert_eq!(
        s.audit("aaaa", 0, 10).await.expect("page"),
        a,
        "from 0 is from the start"
    );
    assert!(s.audit("cccc", 1, 10).await.expect("page").is_empty());

    // An entry for an unknown organization fails and takes the whole batch with it.
    assert!(s
        .append_audit(&[entry("aaaa", "a4"), entry("cccc", "c1")])
        .await
        .is_err());
    assert_eq!(trail(s, "aaaa").await, a);
}

async fn concurrent_audit_appends(db: &Db) {
    const TASKS: usize = 8;
    const EACH: usize = 12;
    db.store.create_org(&org("aaaa", "A")).await.expect("org");
    db.store.create_org(&org("bbbb", "B")).await.expect("org");
    let other = db.reopen().await;
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        // Half the writers go through another store instance (another server process).
        let s = if t % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                let batch = if i % 3 == 0 {
                    vec![
                        entry("aaaa", &format!("t{t}-{i}")),
                        entry("bbbb", &format!("t{t}-{i}")),
                    ]
                } else {
                    vec![entry("aaaa", &format!("t{t}-{i}"))]
                };
                s.append_audit(&batch).await.expect("append");
                tokio::task::yield_now().await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let a = trail(&*db.store, "aaaa").await;
    assert_eq!(a.len(), TASKS * EACH);
    assert_chain(&a);
    let b = trail(&*db.store, "bbbb").await;
    assert_eq!(b.len(), TASKS * EACH.div_ceil(3));
    assert_chain(&b);
    // Each task's own entries are in its order.
    for t in 0..TASKS {
        let mine: Vec<_> = entries_of(&a)
            .into_iter()
            .filter(|e| e.starts_with(&format!("t{t}-")))
            .collect();
        let expected: Vec<_> = (0..EACH).map(|i| format!("t{t}-{i}")).collect();
        assert_eq!(mine, expected);
    }
}

async fn expiry_and_blob_keys(db: &Db) {
    let s = &*db.store;
    world(s).await;
    // B's unopened deliveries expire after 10 days; A keeps bodies 100 days.
    s.set_org_policy("bbbb", &policy(Some(10), None, None), &[])
        .await
        .expect("policy");
    s.set_org_policy("aaaa", &policy(None, Some(100), None), &[])
        .await
        .expect("policy");
    let send = |id: &'static str, created: i64| async move {
        s.commit_envelope(
            &envelope(id, &format!("blob-{id}"), created),
            &delivery(&format!("d-{id}"), id, "b-rep", None, &[0, 1], created),
            &[],
        )
        .await
        .expect("send");
    };
    send("old", T0).await; // forwarded; one copy opened, one unopened
    send("lost", T0).await; // never opened
    send("young", T0 + 8 * DAY).await;
    send("ancient", T0 - 95 * DAY).await; // opened, past A's retention at T0 + 5 days
    s.commit_forward(
        "d-old",
        DeliveryStatus::Forwarded,
        &[
            delivery("d-old-r1", "old", "b-r1", Some("d-old"), &[0], T0 + DAY),
            delivery("d-old-r2", "old", "b-r2", Some("d-old"), &[1], T0 + DAY),
        ],
        &[],
    )
    .await
    .expect("forward");
    s.mark_opened("d-old-r1", T0 + 2 * DAY, &entry("bbbb", "open"))
        .await
        .expect("open");
    s.mark_opened("d-ancient", T0 - 90 * DAY, &entry("bbbb", "open ancient"))
        .await
        .expect("open");

    let keys = s.referenced_blob_keys().await.expect("keys");
    assert_eq!(
        keys,
        ["blob-ancient", "blob-lost", "blob-old", "blob-young"]
    );

    // Day 5: nothing is old enough to expire; the ancient envelope passes A's retention.
    assert_eq!(
        s.expire(T0 + 5 * DAY).await.expect("expire"),
        ["blob-ancient"]
    );
    assert!(s.envelope("ancient").await.expect("envelope").body_removed);
    assert_eq!(
        s.delivery("d-lost").await.expect("lost").status,
        DeliveryStatus::Delivered
    );
    assert_eq!(
        s.expire(T0 + 5 * DAY).await.expect("expire"),
        Vec::<String>::new(),
        "once"
    );

    // Day 11: everything unopened from days 0 and 1 expires (forwarded copies too); the opened copy
    // stays, and so does the body it reads. The envelope nobody can read any more loses its body.
    assert_eq!(
        s.expire(T0 + 11 * DAY).await.expect("expire"),
        ["blob-lost"]
    );
    for id in ["d-lost", "d-old", "d-old-r2"] {
        let d = s.delivery(id).await.expect("delivery");
        assert_eq!(d.status, DeliveryStatus::Expired, "{id}");
        assert!(d.header.is_empty(), "{id}: capsules destroyed");
        assert_eq!(d.updated, T0 + 11 * DAY);
    }
    let opened = s.delivery("d-old-r1").await.expect("opened");
    assert_eq!(opened.status, DeliveryStatus::Opened);
    assert!(!opened.header.is_empty());
    assert_eq!(
        s.delivery("d-young").await.expect("young").status,
        DeliveryStatus::Delivered
    );
    assert!(
        is_conflict(
            s.recall("d-old-r2", T0 + 11 * DAY, &entry("bbbb", "recall"))
                .await
        ),
        "an expired delivery cannot be recalled"
    );
    assert!(
        is_conflict(
            s.mark_opened("d-lost", T0 + 11 * DAY, &entry("bbbb", "open"))
                .await
        ),
        "nor opened"
    );
    assert_eq!(
        s.referenced_blob_keys().await.expect("keys"),
        ["blob-old", "blob-young"]
    );

    // A recalled-only envelope loses its body too.
    s.commit_forward(
        "d-young",
        DeliveryStatus::Forwarded,
        &[delivery(
            "d-young-r1",
            "young",
            "b-r1",
            Some("d-young"),
            &[0, 1],
            T0 + 9 * DAY,
        )],
        &[],
    )
    .await
    .expect("forward");
    s.recall("d-young-r1", T0 + 11 * DAY, &entry("bbbb", "recall"))
        .await
        .expect("recall");
    assert_eq!(
        s.expire(T0 + 11 * DAY).await.expect("expire"),
        Vec::<String>::new(),
        "the parent holds it"
    );
    assert_eq!(
        s.expire(T0 + 18 * DAY).await.expect("expire"),
        ["blob-young"]
    );
    assert_eq!(s.referenced_blob_keys().await.expect("keys"), ["blob-old"]);
    let young = s.envelope("young").await.expect("envelope");
    assert!(young.body_removed);
}

async fn rules(db: &Db) {
    let s = &*db.store;
    world(s).await;
    let rule = |id: &str, owner: &str, text: &str, position: i64| RuleRow {
        id: id.into(),
        org_id: "bbbb".into(),
        owner_cert: owner.into(),
        rule: text.into(),
        position,
        created: T0,
    };
    assert!(s.rules("b-rep").await.expect("rules").is_empty());
    let set = [
        rule("r2", "b-rep", "category=DV -> b-r2", 2),
        rule("r1", "b-rep", "district=A -> b-r1", 1),
        rule("r3", "b-rep", "district=B -> b-r3", 3),
    ];
    s.set_rules("b-rep", &set, b"stmt-1", &[])
        .await
        .expect("set");
    s.set_rules(
        "b-admin",
        &[rule("q1", "b-admin", "district=C -> b-r1", 1)],
        b"stmt-admin",
        &[],
    )
    .await
    .expect("set");
    let got: Vec<_> = s
        .rules("b-rep")
        .await
        .expect("rules")
        .into_iter()
        .map(|r| r.rule)
        .collect();
    assert_eq!(
        got,
        [
            "district=A -> b-r1",
            "category=DV -> b-r2",
            "district=B -> b-r3"
        ],
        "in order"
    );
    assert_eq!(s.rules("b-rep").await.expect("rules")[0], set[1]);

    // Replace.
    s.set_rules(
        "b-rep",
        &[rule("r9", "b-rep", "district=Z -> b-r3", 1)],
        b"stmt-2",
        &[],
    )
    .await
    .expect("replace");
    assert_eq!(
        s.rules_statement("b-rep").await.expect("statement"),
        Some(b"stmt-2".to_vec()),
        "the statement is replaced with the rules"
    );
    assert_eq!(
        s.rules_statement("b-admin").await.expect("statement"),
        Some(b"stmt-admin".to_vec())
    );
    assert_eq!(s.rules_statement("b-r1").await.expect("none"), None);
    let got: Vec<_> = s
        .rules("b-rep")
        .await
        .expect("rules")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(got, ["r9"]);
    assert_eq!(
        s.rules("b-admin").await.expect("rules").len(),
        1,
        "other owners untouched"
    );

    // Refused replacements change nothing.
    assert!(
        is_conflict(
            s.set_rules("b-rep", &[rule("r10", "b-admin", "x", 1)], b"stmt-x", &[])
                .await
        ),
        "owner mismatch"
    );
    let before = trail(s, "bbbb").await;
    assert!(
        is_conflict(
            s.set_rules(
                "b-rep",
                &[rule("r11", "b-rep", "x", 1), rule("r11", "b-rep", "y", 2)],
                b"stmt-y",
                &[entry("bbbb", "rules refused")]
            )
            .await
        ),
        "duplicate ids"
    );
    assert_eq!(
        trail(s, "bbbb").await,
        before,
        "a refused change logs nothing"
    );
    let got: Vec<_> = s
        .rules("b-rep")
        .await
        .expect("rules")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(got, ["r9"]);
    assert_eq!(
        s.rules_statement("b-rep").await.expect("statement"),
        Some(b"stmt-2".to_vec()),
        "a refused change keeps the statement"
    );

    s.set_rules("b-rep", &[], b"stmt-3", &[entry("bbbb", "rules cleared")])
        .await
        .expect("clear");
    let log = entries_of(&trail(s, "bbbb").await);
    assert_eq!(log.last().map(String::as_str), Some("rules cleared"));
    assert!(s.rules("b-rep").await.expect("rules").is_empty());
}

/// Revocation lists and audit checkpoints: stored with their audit entry, replaced only by a
/// greater serial or position, one per organization.
async fn signed_status(db: &Db) {
    let s = &*db.store;
    world(s).await;
    assert!(is_not_found(s.revocation_list("bbbb").await));
    assert!(is_not_found(s.checkpoint("bbbb").await));
    let list = |serial: u64, bytes: &[u8]| RevocationListRow {
        org_id: "bbbb".into(),
        serial,
        list: bytes.to_vec(),
        created: T0,
    };
    s.put_revocation_list(&list(1, b"list-1"), &entry("bbbb", "list 1"))
        .await
        .expect("first list");
    s.put_revocation_list(&list(3, b"list-3"), &entry("bbbb", "list 3"))
        .await
        .expect("greater serial");
    let before = trail(s, "bbbb").await;
    for (serial, what) in [(3, "same serial"), (2, "older serial")] {
        assert!(
            is_conflict(
                s.put_revocation_list(&list(serial, b"replayed"), &entry("bbbb", what))
                    .await
            ),
            "{what}"
        );
    }
    assert_eq!(
        trail(s, "bbbb").await,
        before,
        "a refused list logs nothing"
    );
    assert_eq!(
        s.revocation_list("bbbb").await.expect("list"),
        list(3, b"list-3")
    );
    assert!(
        is_not_found(s.revocation_list("aaaa").await),
        "per organization"
    );
    assert!(is_not_found(
        s.put_revocation_list(
            &RevocationListRow {
                org_id: "zzzz".into(),
                ..list(1, b"x")
            },
            &entry("bbbb", "unknown org")
        )
        .await
    ));

    // Partner lists (SPEC.md §5.8): the same rules, in their own table.
    assert!(is_not_found(s.partner_list("bbbb").await));
    let partners = |serial: u64, bytes: &[u8]| PartnerListRow {
        org_id: "bbbb".into(),
        serial,
        list: bytes.to_vec(),
        created: T0,
    };
    s.put_partner_list(&partners(2, b"partners-2"), &entry("bbbb", "partners 2"))
        .await
        .expect("first partner list");
    let before = trail(s, "bbbb").await;
    for (serial, what) in [(2, "same partner serial"), (1, "older partner serial")] {
        assert!(
            is_conflict(
                s.put_partner_list(&partners(serial, b"replayed"), &entry("bbbb", what))
                    .await
            ),
            "{what}"
        );
    }
    assert_eq!(
        trail(s, "bbbb").await,
        before,
        "a refused list logs nothing"
    );
    s.put_partner_list(&partners(4, b"partners-4"), &entry("bbbb", "partners 4"))
        .await
        .expect("greater serial");
    assert_eq!(
        s.partner_list("bbbb").await.expect("partners"),
        partners(4, b"partners-4")
    );
    assert_eq!(
        s.revocation_list("bbbb").await.expect("list"),
        list(3, b"list-3"),
        "partner lists and revocation lists are separate"
    );
    assert!(is_not_found(s.partner_list("aaaa").await));
    assert!(is_not_found(
        s.put_partner_list(
            &PartnerListRow {
                org_id: "zzzz".into(),
                ..partners(1, b"x")
            },
            &entry("bbbb", "unknown org")
        )
        .await
    ));

    let cp = |position: u64, bytes: &[u8]| CheckpointRow {
        org_id: "bbbb".into(),
        position,
        checkpoint: bytes.to_vec(),
        created: T0,
    };
    s.put_checkpoint(&cp(2, b"cp-2"), &entry("bbbb", "checkpoint 2"))
        .await
        .expect("first checkpoint");
    s.put_checkpoint(&cp(5, b"cp-5"), &entry("bbbb", "checkpoint 5"))
        .await
        .expect("later position");
    let before = trail(s, "bbbb").await;
    assert!(is_conflict(
        s.put_checkpoint(&cp(5, b"again"), &entry("bbbb", "same"))
            .await
    ));
    assert!(is_conflict(
        s.put_checkpoint(&cp(4, b"older"), &entry("bbbb", "older"))
            .await
    ));
    assert_eq!(trail(s, "bbbb").await, before);
    assert_eq!(
        s.checkpoint("bbbb").await.expect("checkpoint"),
        cp(5, b"cp-5")
    );
    let log = entries_of(&trail(s, "bbbb").await);
    assert!(log.contains(&"list 3".to_string()) && log.contains(&"checkpoint 5".to_string()));
    assert_chain(&trail(s, "bbbb").await);
}

/// Members' sealed browser state: one per member and kind, replaced only by a greater
/// serial (a replayed older copy is refused), for known members only; nothing is logged.
async fn local_state_keeps_the_newest_serial_per_member_and_kind(db: &Db) {
    let s = &*db.store;
    world(s).await;
    let state = |cert: &str, kind: &str, serial: u64, bytes: &[u8]| LocalStateRow {
        cert_id: cert.into(),
        kind: kind.into(),
        serial,
        state: bytes.to_vec(),
        updated: T0,
    };
    assert!(is_not_found(s.local_state("b-r1", "pins").await));
    let trail_before = trail(s, "bbbb").await;
    s.put_local_state(&state("b-r1", "pins", 1, b"pins-1"))
        .await
        .expect("first");
    s.put_local_state(&state("b-r1", "pins", 4, b"pins-4"))
        .await
        .expect("greater serial");
    for (serial, what) in [(4, "same serial"), (3, "older serial")] {
        assert!(
            is_conflict(
                s.put_local_state(&state("b-r1", "pins", serial, b"replayed"))
                    .await
            ),
            "{what}"
        );
    }
    assert_eq!(
        s.local_state("b-r1", "pins").await.expect("state"),
        state("b-r1", "pins", 4, b"pins-4")
    );
    // Per kind and per member.
    assert!(is_not_found(s.local_state("b-r1", "trust").await));
    assert!(is_not_found(s.local_state("b-r2", "pins").await));
    s.put_local_state(&state("b-r2", "pins", 1, b"other member"))
        .await
        .expect("another member's own serial");
    s.put_local_state(&state("b-r1", "trust", 1, b"trust-1"))
        .await
        .expect("another kind");
    assert_eq!(
        s.local_state("b-r1", "pins").await.expect("state").state,
        b"pins-4"
    );
    assert!(is_not_found(
        s.put_local_state(&state("nobody", "pins", 1, b"x")).await
    ));
    assert_eq!(
        trail(s, "bbbb").await,
        trail_before,
        "not an audited action"
    );
}

async fn committed_data_survives_reopen(db: &Db) {
    world_with_envelope(&*db.store).await;
    db.store
        .commit_forward(
            "d-rep",
            DeliveryStatus::Delivered,
            &[delivery(
                "d-r1",
                "e1",
                "b-r1",
                Some("d-rep"),
                &[0],
                T0 + 100,
            )],
            &[entry("bbbb", "forward")],
        )
        .await
        .expect("forward");
    let before = trail(&*db.store, "bbbb").await;
    // A fresh instance (migrations already applied) sees everything committed.
    let again = db.reopen().await;
    assert_eq!(again.delivery("d-r1").await.expect("delivery").parts, [0]);
    assert_eq!(
        again.envelope("e1").await.expect("envelope").blob_key,
        "blob-e1"
    );
    assert_eq!(trail(&*again, "bbbb").await, before);
    again
        .append_audit(&[entry("bbbb", "after reopen")])
        .await
        .expect("append");
    let after = trail(&*db.store, "bbbb").await;
    assert_eq!(after.len(), before.len() + 1);
    assert_chain(&after);
}

async fn concurrent_failures_fail_alone(db: &Db) {
    // Writers that fail (duplicates, unknown organizations) interleave with writers that
    // succeed; each write stands or falls alone (SQLite commits them in shared batches).
    const TASKS: usize = 12;
    const EACH: usize = 6;
    world(&*db.store).await;
    let before = trail(&*db.store, "bbbb").await.len();
    let other = db.reopen().await;
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let s = if t % 3 == 0 {
            other.clone()
        } else {
            db.store.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut logged = Vec::new();
            for i in 0..EACH {
                let good = (t + i) % 3 != 0;
                let second = if good { "bbbb" } else { "nonexistent" };
                let r = s
                    .append_audit(&[
                        entry("bbbb", &format!("t{t}-{i}")),
                        entry(second, &format!("t{t}-{i}b")),
                    ])
                    .await;
                assert_eq!(r.is_ok(), good, "t{t}-{i}: {r:?}");
                if good {
                    logged.push(format!("t{t}-{i}"));
                    logged.push(format!("t{t}-{i}b"));
                }
                s.create_org(&org(&format!("org-{t}-{i}"), "new"))
                    .await
                    .expect("new organization");
                assert!(is_conflict(s.create_org(&org("aaaa", "duplicate")).await));
                let r = s
                    .commit_forward(
                        "no-such-delivery",
                        DeliveryStatus::Forwarded,
                        &[delivery(
                            "d-z",
                            "e1",
                            "b-r1",
                            Some("no-such-delivery"),
                            &[0],
                            T0,
                        )],
                        &[],
                    )
                    .await;
                assert!(is_not_found(r));
            }
            logged
        }));
    }
    let mut expected = Vec::new();
    for t in tasks {
        expected.extend(t.await.expect("task"));
    }
    let rows = trail(&*db.store, "bbbb").await;
    assert_chain(&rows);
    let mut got = entries_of(&rows[before..]);
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "exactly the successful entries, each once");
    let orgs = db.store.orgs(ALL).await.map(|p| p.items).expect("orgs");
    assert_eq!(orgs.len(), 2 + TASKS * EACH);
    assert_eq!(db.store.org("aaaa").await.expect("org").name, "Omachi City");
}

async fn cancelled_write_is_all_or_nothing(db: &Db) {
    // A request dropped part-way (its client went away) commits all of its write or nothing.
    let s = &*db.store;
    world_with_envelope(s).await;
    let mut committed = 0;
    for round in 0..32 {
        let child = delivery(
            &format!("d-c{round}"),
            "e1",
            "b-r1",
            Some("d-rep"),
            &[0],
            T0 + 100,
        );
        let audit = [entry("bbbb", &format!("forward {round}"))];
        // The client goes away after a few steps: the request's future is dropped wherever
        // it is (between polls, the database gets a moment to finish the step in flight).
        {
            let mut forward = Box::pin(s.commit_forward(
                "d-rep",
                DeliveryStatus::Delivered,
                std::slice::from_ref(&child),
                &audit,
            ));
            for _ in 0..round / 2 {
                if futures::poll!(forward.as_mut()).is_ready() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
        }
        // Another write settles the writer; then the state must be consistent.
        s.append_audit(&[entry("aaaa", &format!("sync {round}"))])
            .await
            .expect("sync write");
        let mut consistent = false;
        for _ in 0..100 {
            let present = s.delivery(&child.id).await.is_ok();
            let logged = entries_of(&trail(s, "bbbb").await).contains(&format!("forward {round}"));
            if present == logged {
                consistent = true;
                break;
            }
            // A cancelled commit may still be finishing on another connection (PostgreSQL).
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            consistent,
            "round {round}: the delivery and its audit entry go together"
        );
        if s.delivery(&child.id).await.is_ok() {
            committed += 1;
            // Free part 0 for the next round.
            s.recall(
                &child.id,
                T0 + 150,
                &entry("bbbb", &format!("recall {round}")),
            )
            .await
            .expect("recall the committed forward");
        }
    }
    eprintln!(
        "{}: {committed} of 32 cancelled forwards had committed",
        &db.url[..8]
    );
    assert_chain(&trail(s, "bbbb").await);
    assert_chain(&trail(s, "aaaa").await);
    // The store still works.
    s.commit_forward(
        "d-rep",
        DeliveryStatus::Delivered,
        &[delivery(
            "d-final",
            "e1",
            "b-r2",
            Some("d-rep"),
            &[1],
            T0 + 200,
        )],
        &[entry("bbbb", "final")],
    )
    .await
    .expect("forward after cancellations");
}

/// Follow every page of a list with pages of `limit` rows; returns the ids and the number of
/// pages, checking that only the last page has no `next`.
macro_rules! every_page {
    ($limit:expr, |$page:ident| $call:expr, $id:expr) => {{
        let mut ids: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let $page = PageRequest {
                after: after.as_deref(),
                limit: $limit,
            };
            let got: Page<_> = $call.await.expect("page");
            pages += 1;
            assert!(
                got.items.len() <= $limit as usize,
                "a page holds at most limit rows"
            );
            ids.extend(got.items.iter().map($id));
            match got.next {
                Some(n) => {
                    assert_eq!(
                        got.items.len(),
                        $limit as usize,
                        "only the last page is short"
                    );
                    assert_eq!(Some(&n), ids.last(), "next names the page's last row");
                    after = Some(n);
                }
                None => break,
            }
        }
        (ids, pages)
    }};
}

async fn lists_page_by_keyset_in_their_order(db: &Db) {
    let s = &*db.store;
    world(s).await;
    // Ties in the sort keys: a second "Omachi City" and two members with one name and time.
    s.create_org(&org("cccc", "Omachi City"))
        .await
        .expect("org C");
    for cert in ["b-twin2", "b-twin1"] {
        let id = format!("enroll-{cert}");
        s.create_enrollment(&EnrollmentRow {
            id: id.clone(),
            org_id: "bbbb".into(),
            request: cert.as_bytes().to_vec(),
            status: EnrollmentStatus::Pending,
            created: T0,
            cert_id: None,
        })
        .await
        .expect("twin enrollment");
        s.approve_enrollment(
            &id,
            &member(cert, "bbbb", "reader one", READER),
            &entry("bbbb", cert),
        )
        .await
        .expect("twin");
    }
    for i in 0..5 {
        s.create_enrollment(&EnrollmentRow {
            id: format!("pending-{i}"),
            org_id: "bbbb".into(),
            request: vec![i],
            status: EnrollmentStatus::Pending,
            created: T0 + 100,
            cert_id: None,
        })
        .await
        .expect("enrollment");
    }
    for i in 0..7u32 {
        let created = T0 + 10 + i64::from(i / 3); // three deliveries share each time
        s.commit_envelope(
            &envelope(&format!("e{i}"), &format!("blob-e{i}"), created),
            &delivery(
                &format!("d{i}"),
                &format!("e{i}"),
                "b-r1",
                None,
                &[0],
                created,
            ),
            &[],
        )
        .await
        .expect("envelope");
    }

    let (orgs, pages) = every_page!(1, |p| s.orgs(p), |o: &OrgRow| o.id.clone());
    assert_eq!(orgs, ["aaaa", "cccc", "bbbb"], "by name, then id");
    assert_eq!(pages, 3);

    let all_members: Vec<String> = s
        .members("bbbb", ALL)
        .await
        .expect("all")
        .items
        .iter()
        .map(|m| m.cert_id.clone())
        .collect();
    assert_eq!(
        all_members,
        ["b-admin", "b-r1", "b-twin1", "b-twin2", "b-r3", "b-r2", "b-rep"],
        "by name, then time, then certificate id"
    );
    for limit in [1, 2, 3, 7, 8] {
        let (members, _) = every_page!(limit, |p| s.members("bbbb", p), |m: &MemberRow| m
            .cert_id
            .clone());
        assert_eq!(
            members, all_members,
            "pages of {limit} list every member once"
        );
    }

    let (pending, pages) = every_page!(
        2,
        |p| s.enrollments("bbbb", EnrollmentStatus::Pending, p),
        |e: &EnrollmentRow| e.id.clone()
    );
    assert_eq!(
        pending,
        [
            "pending-0",
            "pending-1",
            "pending-2",
            "pending-3",
            "pending-4"
        ]
    );
    assert_eq!(pages, 3);

    let (inbox, _) = every_page!(2, |p| s.inbox("b-r1", None, p), |d: &DeliveryRow| d
        .id
        .clone());
    assert_eq!(
        inbox,
        ["d6", "d5", "d4", "d3", "d2", "d1", "d0"],
        "newest first"
    );
    let (delivered, _) = every_page!(
        3,
        |p| s.inbox("b-r1", Some(DeliveryStatus::Delivered), p),
        |d: &DeliveryRow| d.id.clone()
    );
    assert_eq!(delivered, inbox, "the status filter pages in SQL too");
    assert!(s
        .inbox("b-r1", Some(DeliveryStatus::Opened), ALL)
        .await
        .expect("opened")
        .items
        .is_empty());

    // The limit is clamped: never more than MAX_PAGE rows, never zero.
    let one = s
        .inbox("b-r1", None, PageRequest::first(0))
        .await
        .expect("limit 0");
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.next.as_deref(), Some("d6"));

    // A cursor of another list, of another organization or holder, or garbage is NotFound
    // (never an empty page that would silently cut the listing short).
    assert!(
        is_not_found(s.members("bbbb", PageRequest::after("a-clerk", 2)).await),
        "other org"
    );
    assert!(
        is_not_found(s.members("bbbb", PageRequest::after("d3", 2)).await),
        "other list"
    );
    assert!(
        is_not_found(s.orgs(PageRequest::after("b-rep", 2)).await),
        "member as org"
    );
    assert!(
        is_not_found(
            s.enrollments(
                "bbbb",
                EnrollmentStatus::Approved,
                PageRequest::after("pending-1", 2)
            )
            .await
        ),
        "pending enrollment as approved cursor"
    );
    assert!(
        is_not_found(
            s.enrollments(
                "aaaa",
                EnrollmentStatus::Pending,
                PageRequest::after("pending-1", 2)
            )
            .await
        ),
        "other organization's enrollment"
    );
    assert!(
        is_not_found(s.inbox("b-r2", None, PageRequest::after("d3", 2)).await),
        "other holder"
    );
    assert!(
        is_not_found(s.inbox("b-r1", None, PageRequest::after("'; --", 2)).await),
        "garbage"
    );
}
