//! Attacks on the organization-signed partner list (SPEC.md §5.8), played by someone who
//! writes the server's database directly or by a member who is not the administrator. The
//! list is signed with the organization key, which the server does not hold: every member's
//! client refuses a list the server changed, replayed or withheld.

mod common;

use common::*;
use soshiki_client::flows::{self, sign_action};
use soshiki_client::proto::ActionSpec;
use soshiki_client::trust::TrustError;
use soshiki_client::ClientError;
use soshiki_core::cert::Roles;
use soshiki_core::error::PartnerListError;
use soshiki_core::partners::Partner;
use soshiki_core::suite::P256;

async fn db(ts: &TestServer) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", ts.db_path().display()))
        .await
        .expect("open db")
}

async fn stored_list(pool: &sqlx::SqlitePool, org_id: &str) -> Vec<u8> {
    sqlx::query_scalar("SELECT list FROM partner_lists WHERE org_id = ?")
        .bind(org_id)
        .fetch_one(pool)
        .await
        .expect("stored list")
}

async fn store_list(pool: &sqlx::SqlitePool, org_id: &str, serial: i64, list: &[u8]) {
    sqlx::query("UPDATE partner_lists SET serial = ?, list = ? WHERE org_id = ?")
        .bind(serial)
        .bind(list.to_vec())
        .bind(org_id)
        .execute(pool)
        .await
        .expect("write list");
}

fn partner_error<T: std::fmt::Debug>(r: Result<T, ClientError>) -> TrustError {
    match r {
        Err(ClientError::Trust(t)) => t,
        other => panic!("expected a partner-list refusal, got {other:?}"),
    }
}

fn partner_of(org: &Org<P256>) -> Partner {
    Partner {
        organization: org.key.organization().fingerprint(),
        name: org.key.organization().name.clone(),
    }
}

/// A database writer swaps the prefecture's fingerprint in the city's stored partner list for
/// its own organization's: a member of the city refuses the list (and so trusts neither).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_fingerprint_swapped_in_the_database_is_refused_by_members() {
    let ts = start().await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "大町市").await;
    let pref = create_org::<P256>(&url, "長野県").await;
    let evil = create_org::<P256>(&url, "長野県").await;
    let clerk = enroll(&url, &city, "担当", Roles::READER).await;

    // Nothing published yet: nobody is trusted through the list, and that is not an error.
    assert!(flows::partners(&clerk.client, &clerk.key)
        .await
        .expect("no list")
        .is_none());
    flows::publish_partners(
        &city.admin.client,
        &city.admin.key,
        &city.key,
        &[partner_of(&pref)],
        &[],
    )
    .await
    .expect("publish");
    let seen = flows::partners(&clerk.client, &clerk.key)
        .await
        .expect("verified")
        .expect("a list");
    let pref_fp = pref.key.organization().fingerprint();
    let evil_fp = evil.key.organization().fingerprint();
    assert!(seen.contains(&pref_fp));
    assert!(flows::org_is_trusted(false, Some(&seen), &pref_fp));
    assert!(!flows::org_is_trusted(false, Some(&seen), &evil_fp));

    // The attack: the first entry's fingerprint becomes the impostor's.
    let pool = db(&ts).await;
    let mut list = stored_list(&pool, &city.id()).await;
    let entry = 5 + 1 + 2 + 32 + 8 + 8 + 4;
    list[entry..entry + 32].copy_from_slice(&evil_fp.0);
    store_list(&pool, &city.id(), 1, &list).await;
    let fresh = enroll(&url, &city, "新任", Roles::READER).await;
    for who in [&clerk, &fresh] {
        assert_eq!(
            partner_error(flows::partners(&who.client, &who.key).await),
            TrustError::Partners(PartnerListError::Signature),
            "{}",
            who.key.certificate.member_name
        );
    }
    // The administrator cannot build on it either.
    assert!(flows::publish_partners(
        &city.admin.client,
        &city.admin.key,
        &city.key,
        &[partner_of(&evil)],
        &[],
    )
    .await
    .is_err());
}

/// The server replays the partner list from before a partner was removed, after a member saw
/// the newer one: refused as a replay; served no list at all: refused as withheld.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_partner_list_replayed_after_a_newer_one_was_seen_is_refused() {
    let ts = start().await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "大町市").await;
    let pref = create_org::<P256>(&url, "長野県").await;
    let clerk = enroll(&url, &city, "担当", Roles::READER).await;
    let admin = &city.admin;
    flows::publish_partners(
        &admin.client,
        &admin.key,
        &city.key,
        &[partner_of(&pref)],
        &[],
    )
    .await
    .expect("publish #1");
    let pool = db(&ts).await;
    let first = stored_list(&pool, &city.id()).await;
    let pref_fp = pref.key.organization().fingerprint();
    let second = flows::publish_partners(&admin.client, &admin.key, &city.key, &[], &[pref_fp])
        .await
        .expect("publish #2 without the prefecture");
    assert_eq!(second.serial, 2);
    let seen = flows::partners(&clerk.client, &clerk.key)
        .await
        .expect("verified")
        .expect("a list");
    assert!(!seen.contains(&pref_fp));

    store_list(&pool, &city.id(), 1, &first).await;
    assert_eq!(
        partner_error(flows::partners(&clerk.client, &clerk.key).await),
        TrustError::Partners(PartnerListError::Rollback { found: 1, seen: 2 })
    );
    sqlx::query("DELETE FROM partner_lists WHERE org_id = ?")
        .bind(city.id())
        .execute(&pool)
        .await
        .expect("delete");
    assert!(matches!(
        partner_error(flows::partners(&clerk.client, &clerk.key).await),
        TrustError::PartnerListWithheld { seen: 2, .. }
    ));
}

/// Only the organization's administrator publishes its partner list, only a list signed by
/// the organization key, only with a greater serial; only its members read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_administrator_publishes_a_newer_organization_signed_partner_list() {
    let ts = start().await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "大町市").await;
    let pref = create_org::<P256>(&url, "長野県").await;
    let clerk = enroll(&url, &city, "担当", Roles::READER).await;
    let outsider = enroll(&url, &pref, "県職員", Roles::READER).await;
    let list = city
        .key
        .issue_partner_list(1, now(), &[partner_of(&pref)], &mut rand_core::OsRng)
        .expect("list");
    let bytes = list.to_bytes();
    let spec = ActionSpec::publish_partners(&city.id(), 1, &bytes);

    // A member who is not the administrator, even holding a list signed by the organization.
    let e = clerk
        .client
        .publish_partner_list(&city.id(), &bytes, &sign_action(&clerk.key, &spec))
        .await
        .expect_err("not an administrator");
    assert_eq!(e.status(), Some(403));
    // The administrator of another organization.
    let e = pref
        .admin
        .client
        .publish_partner_list(&city.id(), &bytes, &sign_action(&pref.admin.key, &spec))
        .await
        .expect_err("another organization's administrator");
    assert_eq!(e.status(), Some(403));
    // The city's administrator with a list signed by another organization's key.
    let forged = pref
        .key
        .issue_partner_list(1, now(), &[], &mut rand_core::OsRng)
        .expect("list")
        .to_bytes();
    let e = city
        .admin
        .client
        .publish_partner_list(
            &city.id(),
            &forged,
            &sign_action(
                &city.admin.key,
                &ActionSpec::publish_partners(&city.id(), 1, &forged),
            ),
        )
        .await
        .expect_err("not signed by the city");
    assert_eq!(e.status(), Some(400));
    // The real one, then the same serial again.
    let st = sign_action(&city.admin.key, &spec);
    city.admin
        .client
        .publish_partner_list(&city.id(), &bytes, &st)
        .await
        .expect("published");
    let e = city
        .admin
        .client
        .publish_partner_list(&city.id(), &bytes, &sign_action(&city.admin.key, &spec))
        .await
        .expect_err("same serial");
    assert_eq!(e.status(), Some(409));
    assert_eq!(e.code(), Some("stale-list"), "{e}");
    // Members read it; another organization's members do not.
    assert!(clerk
        .client
        .partner_list(&city.id())
        .await
        .expect("read")
        .is_some());
    let e = outsider
        .client
        .partner_list(&city.id())
        .await
        .expect_err("not a member of the city");
    assert_eq!(e.status(), Some(403));
}
