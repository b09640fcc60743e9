//! Attacks on what the server reports about revocation, the audit trail and rules, played by
//! someone who writes the server's database directly. Every client check here is against keys
//! the server does not hold: the organization key (revocation lists, audit checkpoints) and the
//! member's own key (rules).

mod common;

use common::*;
use soshiki_client::flows::{self, sign_action};
use soshiki_client::proto::{audit_hash, ActionSpec};
use soshiki_client::trust::{self, RulesSignature, TrustError, DEFAULT_REVOCATION_VALIDITY};
use soshiki_client::ClientError;
use soshiki_core::cert::Roles;
use soshiki_core::error::RevocationError;
use soshiki_core::suite::{Suite, P256};

async fn db(ts: &TestServer) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", ts.db_path().display()))
        .await
        .expect("open db")
}

async fn exec(pool: &sqlx::SqlitePool, sql: &str, binds: &[&[u8]]) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    for b in binds {
        q = q.bind(b.to_vec());
    }
    q.execute(pool).await.expect(sql);
}

fn trust_error(r: Result<impl std::fmt::Debug, ClientError>) -> TrustError {
    match r {
        Err(ClientError::Trust(t)) => t,
        other => panic!("expected a revocation-list refusal, got {other:?}"),
    }
}

fn status(e: &ClientError) -> u16 {
    e.status().unwrap_or(0)
}

/// The server (its database) reports a revoked member as active again and serves the list from
/// before the revocation: a forwarder that saw the newer list refuses to forward to it, a
/// sender refuses to address it, and a fresh client given the current list refuses it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_member_reported_active_with_an_old_list_is_not_addressed() {
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<P256>(&url, "県").await;
    let city = create_org::<P256>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let leaver = enroll(&url, &city, "退職者", Roles::READER).await;
    let clerk = enroll(&url, &city, "担当", Roles::READER).await;
    let old_list = city
        .admin
        .client
        .revocation_list(&city.id())
        .await
        .expect("list")
        .expect("published at registration");
    assert_eq!(old_list.serial, 1);

    flows::revoke_member(&city.admin.client, &city.admin.key, &city.key, &leaver.id())
        .await
        .expect("revoke");
    // The representative addresses someone after the revocation: it sees list #2.
    flows::certified_member(&rep.client, city.record(), &clerk.id())
        .await
        .expect("clerk is addressable");
    assert_eq!(rep.client.revocation_serial(&city.id()), 2);
    let delivery = send_to(&sender, &city, &rep).await;

    // The attack: the member row says "active" again and the old list (#1) is served.
    let pool = db(&ts).await;
    exec(
        &pool,
        &format!(
            "UPDATE members SET status = 'active', revoked_at = NULL WHERE cert_id = '{}'",
            leaver.id()
        ),
        &[],
    )
    .await;
    let current = city
        .admin
        .client
        .revocation_list(&city.id())
        .await
        .expect("list")
        .expect("list");
    exec(
        &pool,
        "UPDATE revocation_lists SET serial = 1, list = ?",
        &[&old_list.list.0],
    )
    .await;
    let info = rep.client.member(&leaver.id()).await.expect("listed");
    assert_eq!(info.status, "active", "the lie is in place");

    let e = trust_error(
        flows::forward(&rep.client, &rep.key, &delivery, &[(leaver.id(), vec![0])]).await,
    );
    assert_eq!(
        e,
        TrustError::Revocation(RevocationError::Rollback { found: 1, seen: 2 })
    );
    // With the current list served again, the list itself names the member.
    exec(
        &pool,
        "UPDATE revocation_lists SET serial = 2, list = ?",
        &[&current.list.0],
    )
    .await;
    let e = trust_error(
        flows::forward(&rep.client, &rep.key, &delivery, &[(leaver.id(), vec![0])]).await,
    );
    assert!(
        matches!(e, TrustError::Revocation(RevocationError::Revoked { .. })),
        "{e}"
    );
    // A fresh client (no memory) refuses it from the current list alone.
    let mut fresh = ts.client();
    flows::login(&mut fresh, &sender.key).await.expect("login");
    let e = trust_error(flows::certified_member(&fresh, city.record(), &leaver.id()).await);
    assert!(
        e.to_string().contains("was revoked by the organization"),
        "{e}"
    );
    // Nothing was forwarded to it.
    assert!(rep
        .client
        .delivery(&delivery)
        .await
        .expect("d")
        .forwards
        .is_empty());

    // The list is withheld: a client that saw one says so; a fresh one refuses to address an
    // organization without a list.
    exec(&pool, "DELETE FROM revocation_lists", &[]).await;
    let e = trust_error(flows::certified_member(&rep.client, city.record(), &clerk.id()).await);
    assert!(
        matches!(e, TrustError::RevocationListWithheld { seen: 2, .. }),
        "{e}"
    );
    let mut fresh = ts.client();
    flows::login(&mut fresh, &sender.key).await.expect("login");
    let e = trust_error(flows::representative(&fresh, city.record()).await);
    assert!(matches!(e, TrustError::NoRevocationList { .. }), "{e}");
    pool.close().await;
}

/// How many times the organization's revocation list was served (from the server's metrics).
async fn lists_served(url: &str) -> u64 {
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    metrics
        .lines()
        .filter(|l| {
            l.starts_with(
                "soshiki_http_requests_total{method=\"GET\",route=\"/v1/orgs/{org}/revocations\",",
            )
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// A forwarder reuses a revocation list it accepted for a few seconds (one fetch for many
/// forwards in a row). What it gives up is bounded: a member revoked within that window is
/// still refused, by the server, and a list the forwarder refused is never reused (the
/// rollback test above fetches again after a refusal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarder_reuses_an_accepted_list_briefly_and_the_server_still_refuses_the_revoked() {
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<P256>(&url, "県").await;
    let city = create_org::<P256>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let a = enroll(&url, &city, "担当A", Roles::READER).await;
    let b = enroll(&url, &city, "担当B", Roles::READER).await;
    let mut deliveries = Vec::new();
    for _ in 0..3 {
        deliveries.push(send_to(&sender, &city, &rep).await);
    }

    let before = lists_served(&url).await;
    flows::forward(&rep.client, &rep.key, &deliveries[0], &[(a.id(), vec![0])])
        .await
        .expect("first forward");
    flows::forward(&rep.client, &rep.key, &deliveries[1], &[(b.id(), vec![0])])
        .await
        .expect("second forward");
    assert_eq!(
        lists_served(&url).await - before,
        1,
        "two forwards in a row fetch the list once"
    );
    assert!(rep.client.recent_revocation_list(&city.id()).is_some());

    // The administrator revokes A (list #2) while the representative still reuses list #1.
    flows::revoke_member(&city.admin.client, &city.admin.key, &city.key, &a.id())
        .await
        .expect("revoke");
    let e = flows::forward(&rep.client, &rep.key, &deliveries[2], &[(a.id(), vec![0])])
        .await
        .expect_err("a revoked target");
    assert_eq!(e.code(), Some("target-not-member"), "{e}");
    assert!(rep
        .client
        .delivery(&deliveries[2])
        .await
        .expect("d")
        .forwards
        .is_empty());
}

async fn send_to<S: Suite>(sender: &Member<S>, city: &Org<S>, rep: &Member<S>) -> String {
    use soshiki_client::flows::{OutgoingPart, PartData, SendOptions};
    use soshiki_core::envelope::PartInfo;
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");
    flows::send(
        &sender.client,
        &sender.key,
        &to,
        &SendOptions::default(),
        vec![OutgoingPart {
            info: PartInfo {
                name: "a.csv".into(),
                labels: vec![],
            },
            data: PartData::Bytes(b"id,name\n1,x\n".to_vec()),
        }],
        None,
    )
    .await
    .expect("send")
    .delivery_id
}

/// A revoked representative shown as active is never chosen by a sender; a list signed by
/// another organization's key is refused; a stale list is a clear error; the server refuses a
/// list that is not newer or not the organization's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_and_replayed_lists_are_refused() {
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<P256>(&url, "県").await;
    let city = create_org::<P256>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    flows::revoke_member(&city.admin.client, &city.admin.key, &city.key, &rep.id())
        .await
        .expect("revoke");
    let pool = db(&ts).await;
    exec(
        &pool,
        &format!(
            "UPDATE members SET status = 'active', revoked_at = NULL WHERE cert_id = '{}'",
            rep.id()
        ),
        &[],
    )
    .await;
    let e = flows::representative(&sender.client, city.record())
        .await
        .expect_err("the only representative is revoked");
    assert!(
        matches!(e, ClientError::Invalid(ref m) if m.contains("no active representative")),
        "{e}"
    );

    let genuine = city
        .admin
        .client
        .revocation_list(&city.id())
        .await
        .expect("list")
        .expect("list");
    assert_eq!(genuine.serial, 2);
    // A list signed by the prefecture's key, stored as the city's.
    let forged =
        trust::next_revocation_list(&pref.key, None, &[], now(), 3600, &mut rand_core::OsRng)
            .expect("list");
    exec(
        &pool,
        "UPDATE revocation_lists SET serial = 9, list = ?",
        &[&forged.to_bytes()],
    )
    .await;
    let e = trust_error(flows::representative(&sender.client, city.record()).await);
    assert_eq!(e, TrustError::Revocation(RevocationError::Signature));
    // The server itself refuses to store it.
    let bytes = forged.to_bytes();
    let spec = ActionSpec::publish_revocations(&city.id(), forged.serial, &bytes);
    let e = city
        .admin
        .client
        .publish_revocation_list(&city.id(), &bytes, &sign_action(&city.admin.key, &spec))
        .await
        .expect_err("not the city's");
    assert_eq!(status(&e), 400, "{e}");

    // A stale list: its next update is past.
    let stale = trust::next_revocation_list(
        &city.key,
        Some(&genuine.list.0),
        &[],
        now() - 7200,
        3600,
        &mut rand_core::OsRng,
    )
    .expect("list");
    exec(
        &pool,
        "UPDATE revocation_lists SET serial = 3, list = ?",
        &[&stale.to_bytes()],
    )
    .await;
    let mut fresh = ts.client();
    flows::login(&mut fresh, &sender.key).await.expect("login");
    let e = trust_error(flows::representative(&fresh, city.record()).await);
    assert!(
        matches!(e, TrustError::Revocation(RevocationError::Stale { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("stale"), "{e}");
    pool.close().await;

    // The server refuses a list whose serial is not greater than the stored one's.
    let cur = city
        .admin
        .client
        .revocation_list(&city.id())
        .await
        .expect("list")
        .expect("list");
    let spec = ActionSpec::publish_revocations(&city.id(), cur.serial, &cur.list.0);
    let e = city
        .admin
        .client
        .publish_revocation_list(
            &city.id(),
            &cur.list.0,
            &sign_action(&city.admin.key, &spec),
        )
        .await
        .expect_err("same serial");
    assert_eq!(status(&e), 409, "{e}");
    assert_eq!(e.code(), Some("stale-list"), "{e}");
    // Republishing (the next serial, fresh) makes the organization addressable again.
    let next = flows::publish_revocations(
        &city.admin.client,
        &city.admin.key,
        &city.key,
        &[],
        DEFAULT_REVOCATION_VALIDITY,
    )
    .await
    .expect("republish");
    assert_eq!(next.serial, 4);
    let list = flows::revocations(&fresh, city.record())
        .await
        .expect("fresh again");
    assert_eq!(list.serial(), 4);
    assert!(
        list.revocation(&rep.key.certificate.fingerprint())
            .is_some(),
        "kept"
    );
}

type Row = (i64, Vec<u8>, Vec<u8>, Vec<u8>, i64);

async fn rewrite_without(pool: &sqlx::SqlitePool, org: &str, remove: usize) {
    for sql in [
        "DROP TRIGGER IF EXISTS audit_no_update",
        "DROP TRIGGER IF EXISTS audit_no_delete",
    ] {
        exec(pool, sql, &[]).await;
    }
    let mut rows = sqlx::query_as::<_, Row>(
        "SELECT seq, entry, prev_hash, hash, created FROM audit WHERE org_id = ? ORDER BY seq",
    )
    .bind(org)
    .fetch_all(pool)
    .await
    .expect("trail");
    rows.remove(remove);
    // Renumber and recompute the whole chain consistently, as a database writer would.
    let mut prev = [0u8; 32];
    for (i, r) in rows.iter_mut().enumerate() {
        r.0 = i as i64 + 1;
        r.2 = prev.to_vec();
        prev = audit_hash(&prev, r.0 as u64, &r.1);
        r.3 = prev.to_vec();
    }
    exec(
        pool,
        &format!("DELETE FROM audit WHERE org_id = '{org}'"),
        &[],
    )
    .await;
    for (seq, entry, p, h, created) in rows {
        sqlx::query("INSERT INTO audit (org_id, seq, entry, prev_hash, hash, created) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(org)
            .bind(seq)
            .bind(entry)
            .bind(p)
            .bind(h)
            .bind(created)
            .execute(pool)
            .await
            .expect("insert");
    }
}

/// What the browser's administrator page does with the trail (web/js/pages/admin.js,
/// `audit-verify`): fetch every page and the checkpoint the server serves, then verify them with
/// the browser module's `verifyAudit` (`soshiki_wasm::api::verify_audit_checkpoints`) against
/// the checkpoint this browser remembered. Returns the failure `(seq, reason)`, or `None`.
async fn browser_audit_failure(
    client: &soshiki_client::Client,
    org: &soshiki_core::cert::Organization<P256>,
    remembered: Option<&[u8]>,
) -> Option<(u64, String)> {
    let id = org.fingerprint().to_hex();
    let page = client.audit(&id, 1, 1000).await.expect("audit page");
    let served = client.checkpoint(&id).await.expect("served checkpoint");
    let json = serde_json::to_string(&page).expect("page json");
    let report = soshiki_wasm::api::verify_audit_checkpoints(
        &org.to_bytes(),
        &json,
        &[],
        None,
        served.as_ref().map(|c| c.checkpoint.0.as_slice()),
        remembered,
    )
    .expect("the browser module answers with a report");
    match report.failures.first() {
        None => {
            assert!(report.ok);
            None
        }
        Some(f) => {
            assert!(!report.ok && report.entries.is_empty() && report.checkpoint.is_none());
            Some((f.seq, f.reason.clone()))
        }
    }
}

fn audit_failure(r: Result<impl std::fmt::Debug, ClientError>) -> (u64, String) {
    match r {
        Err(ClientError::Audit(f)) => (f.seq, f.reason),
        other => panic!("expected an audit failure, got {other:?}"),
    }
}

/// A database writer deletes an entry before a signed checkpoint and renumbers and rehashes the
/// whole trail: a fresh client (no anchor of its own) catches it from the checkpoint the server
/// serves, and a client that remembered the checkpoint catches it even when the server
/// withholds the checkpoint or serves an older one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewritten_trail_before_a_checkpoint_is_caught() {
    let ts = start().await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "市").await;
    let _a = enroll(&url, &city, "担当A", Roles::READER).await;
    let (_, first) = flows::checkpoint(
        &city.admin.client,
        &city.admin.key,
        &city.key,
        None,
        None,
        &|_| false,
    )
    .await
    .expect("checkpoint");
    let _b = enroll(&url, &city, "担当B", Roles::READER).await;
    let (report, second) = flows::checkpoint(
        &city.admin.client,
        &city.admin.key,
        &city.key,
        None,
        Some(&first.checkpoint),
        &|_| false,
    )
    .await
    .expect("second checkpoint");
    assert!(second.position > first.position);
    assert_eq!(second.position, report.entries.len() as u64);
    // An honest trail verifies against both and reports the newest checkpoint.
    let ok = flows::audit(
        &city.admin.client,
        city.record(),
        None,
        Some(&first.checkpoint),
        &|_| false,
    )
    .await
    .expect("honest trail");
    assert_eq!(ok.checkpoint.as_deref(), Some(second.checkpoint.as_slice()));
    assert_eq!(
        browser_audit_failure(&city.admin.client, city.record(), Some(&first.checkpoint)).await,
        None,
        "the browser accepts the honest trail"
    );

    let pool = db(&ts).await;
    let org = city.id();
    // A checkpoint of another organization's key, or one that does not match, is refused.
    let forged = city
        .key
        .sign_checkpoint(1, [7; 32], now(), &mut rand_core::OsRng)
        .expect("cp");
    let bytes = forged.to_bytes();
    let spec = ActionSpec::checkpoint(&org, 1, &bytes);
    let e = city
        .admin
        .client
        .publish_checkpoint(&org, &bytes, &sign_action(&city.admin.key, &spec))
        .await
        .expect_err("does not match the trail");
    assert_eq!(status(&e), 400, "{e}");
    assert_eq!(e.code(), Some("checkpoint-mismatch"), "{e}");

    // The attack: entry 2 (the first revocation list's publication) deleted, the rest
    // renumbered and rehashed. Without a checkpoint this trail verifies (see omachi.rs).
    rewrite_without(&pool, &org, 1).await;
    let (seq, why) = audit_failure(
        flows::audit(&city.admin.client, city.record(), None, None, &|_| false).await,
    );
    assert_eq!(seq, second.position, "{why}");
    assert!(
        why.contains("does not extend the organization's signed checkpoint"),
        "{why}"
    );
    // The browser, fresh (nothing remembered) or holding the first checkpoint, catches it too.
    for remembered in [None, Some(first.checkpoint.as_slice())] {
        let (seq, why) = browser_audit_failure(&city.admin.client, city.record(), remembered)
            .await
            .expect("the browser refuses the rewritten trail");
        assert_eq!(seq, second.position, "{why}");
        assert!(
            why.contains("does not extend the organization's signed checkpoint"),
            "{why}"
        );
    }

    // The server also withholds the checkpoint: the remembered one still catches it.
    exec(&pool, "DELETE FROM audit_checkpoints", &[]).await;
    let (_, why) = audit_failure(
        flows::audit(
            &city.admin.client,
            city.record(),
            None,
            Some(&second.checkpoint),
            &|_| false,
        )
        .await,
    );
    assert!(why.contains("withholds"), "{why}");
    let (_, why) =
        browser_audit_failure(&city.admin.client, city.record(), Some(&second.checkpoint))
            .await
            .expect("the browser that remembered the checkpoint refuses a withheld one");
    assert!(why.contains("withholds"), "{why}");
    // Or serves the older checkpoint.
    sqlx::query(
        "INSERT INTO audit_checkpoints (org_id, position, checkpoint, created) VALUES (?, ?, ?, 0)",
    )
    .bind(&org)
    .bind(first.position as i64)
    .bind(&first.checkpoint)
    .execute(&pool)
    .await
    .expect("restore the older checkpoint");
    let (_, why) = audit_failure(
        flows::audit(
            &city.admin.client,
            city.record(),
            None,
            Some(&second.checkpoint),
            &|_| false,
        )
        .await,
    );
    assert!(why.contains("older checkpoint"), "{why}");
    let (_, why) =
        browser_audit_failure(&city.admin.client, city.record(), Some(&second.checkpoint))
            .await
            .expect("the browser that remembered the newer checkpoint refuses an older one");
    assert!(why.contains("older checkpoint"), "{why}");
    pool.close().await;
}

/// Rules are returned with the owner's signed statement; a rule edited in the database no
/// longer matches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_edited_in_the_database_is_not_signed() {
    let ts = start().await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "市").await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let a = enroll(&url, &city, "担当A", Roles::READER).await;
    let mallory = enroll(&url, &city, "別人", Roles::READER).await;
    let (rules, sig) = flows::signed_rules(&rep.client, &rep.key)
        .await
        .expect("rules");
    assert_eq!((rules.len(), sig), (0, RulesSignature::Empty));
    flows::set_rules(
        &rep.client,
        &rep.key,
        &[format!("district=A -> {}", a.id())],
    )
    .await
    .expect("set");
    let (_, sig) = flows::signed_rules(&rep.client, &rep.key)
        .await
        .expect("rules");
    assert!(matches!(sig, RulesSignature::Signed { .. }), "{sig:?}");
    let pool = db(&ts).await;
    exec(
        &pool,
        &format!("UPDATE rules SET rule = 'district=A -> {}'", mallory.id()),
        &[],
    )
    .await;
    let (rules, sig) = flows::signed_rules(&rep.client, &rep.key)
        .await
        .expect("rules");
    assert!(rules[0].contains(&mallory.id()));
    assert!(
        matches!(sig, RulesSignature::Unsigned(ref why) if why.contains("changed on the server")),
        "{sig:?}"
    );
    // Without the statement (rows inserted by the database writer), unsigned too.
    exec(&pool, "DELETE FROM rule_statements", &[]).await;
    let (_, sig) = flows::signed_rules(&rep.client, &rep.key)
        .await
        .expect("rules");
    assert!(matches!(sig, RulesSignature::Unsigned(_)), "{sig:?}");
    pool.close().await;
}
