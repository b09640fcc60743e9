//! Every list endpoint is paginated, played as the attacker: a request for an enormous page, a
//! cursor taken from another list or another organization, a garbage cursor; and the client
//! lists an organization larger than one page completely by following `next`.

mod common;

use std::collections::BTreeSet;

use common::*;
use soshiki_client::{flows, ClientError};
use soshiki_core::cert::Roles;
use soshiki_core::suite::P256;

fn refusal(e: &ClientError) -> (Option<u16>, Option<&str>) {
    (e.status(), e.code())
}

/// Asking any list for 100 000 rows (or none) is refused with 400 `bad-page-limit` before the
/// store is asked: one request cannot make the server read and serialize a whole table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_asked_for_a_huge_page_is_refused() {
    let ts = start().await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "市").await;
    let c = &city.admin.client;
    let org = city.id();
    for limit in [100_000, 1001, 0] {
        let expected = (Some(400), Some("bad-page-limit"));
        let e = ts.client().orgs_page(limit, None).await.expect_err("orgs");
        assert_eq!(refusal(&e), expected, "orgs limit={limit}: {e}");
        let e = c
            .members_page(&org, limit, None)
            .await
            .expect_err("members");
        assert_eq!(refusal(&e), expected, "members limit={limit}: {e}");
        let e = c
            .enrollments_page(&org, "pending", limit, None)
            .await
            .expect_err("enrollments");
        assert_eq!(refusal(&e), expected, "enrollments limit={limit}: {e}");
        let e = c.inbox_page(None, limit, None).await.expect_err("inbox");
        assert_eq!(refusal(&e), expected, "inbox limit={limit}: {e}");
    }
    // The largest page is allowed.
    let page = c.members_page(&org, 1000, None).await.expect("1000");
    assert_eq!(page.members.len(), 1);
    assert_eq!(page.next, None);
}

/// A cursor not of a list's form (another list's prefix, a wrong length, garbage) is a 400
/// `bad-cursor`; a well-formed cursor whose row is not in the list (another organization's or
/// holder's row, a row that never existed or is gone) is a 409 `stale-cursor`. Never a 500 and
/// never an empty (silently short) page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_or_garbage_cursor_is_refused_not_a_500() {
    let ts = start().await;
    let url = ts.url();
    let city = create_org::<P256>(&url, "市").await;
    let council = create_org::<P256>(&url, "協議会").await;
    enroll(&url, &city, "担当一", Roles::READER).await;
    enroll(&url, &city, "担当二", Roles::READER).await;
    let c = &city.admin.client;
    let org = city.id();

    // Genuine cursors of each list.
    let member_cursor = c
        .members_page(&org, 1, None)
        .await
        .expect("members")
        .next
        .expect("more members than one");
    let org_cursor = ts
        .client()
        .orgs_page(1, None)
        .await
        .expect("orgs")
        .next
        .expect("more orgs than one");
    let council_member_cursor = format!("m.{}", council.admin.id());
    const MALFORMED: (Option<u16>, Option<&str>) = (Some(400), Some("bad-cursor"));
    const STALE: (Option<u16>, Option<&str>) = (Some(409), Some("stale-cursor"));

    let members_cases = [
        (org_cursor.clone(), MALFORMED),
        (council_member_cursor.clone(), STALE),
        (format!("m.{}", "0".repeat(64)), STALE),
        ("garbage".into(), MALFORMED),
        ("m.".into(), MALFORMED),
        ("m.../../etc".into(), MALFORMED),
        (format!("m.{}", "A".repeat(64)), MALFORMED),
        ("'; DROP TABLE members; --".into(), MALFORMED),
    ];
    for (cursor, expected) in &members_cases {
        let e = c
            .members_page(&org, 10, Some(cursor))
            .await
            .expect_err("members with a bad cursor");
        assert_eq!(refusal(&e), *expected, "{cursor:?}: {e}");
    }
    let orgs_cases = [
        (member_cursor.clone(), MALFORMED),
        (council_member_cursor.clone(), MALFORMED),
        ("o.zz".to_string(), MALFORMED),
        (format!("o.{}", "0".repeat(64)), STALE),
    ];
    for (cursor, expected) in &orgs_cases {
        let e = ts
            .client()
            .orgs_page(10, Some(cursor))
            .await
            .expect_err("orgs with a member cursor");
        assert_eq!(refusal(&e), *expected, "{cursor:?}: {e}");
    }
    for cursor in [&member_cursor, &org_cursor] {
        let e = c
            .enrollments_page(&org, "approved", 10, Some(cursor))
            .await
            .expect_err("enrollments");
        assert_eq!(refusal(&e), MALFORMED, "{cursor:?}: {e}");
        let e = c
            .inbox_page(None, 10, Some(cursor))
            .await
            .expect_err("inbox");
        assert_eq!(refusal(&e), MALFORMED, "{cursor:?}: {e}");
    }
    let unknown = "1".repeat(32);
    let e = c
        .enrollments_page(&org, "approved", 10, Some(&format!("e.{unknown}")))
        .await
        .expect_err("enrollments");
    assert_eq!(refusal(&e), STALE, "{e}");
    let e = c
        .inbox_page(None, 10, Some(&format!("d.{unknown}")))
        .await
        .expect_err("inbox");
    assert_eq!(refusal(&e), STALE, "{e}");
    // The genuine cursor continues its own list.
    let rest = c
        .members_page(&org, 10, Some(&member_cursor))
        .await
        .expect("the rest");
    assert_eq!(rest.members.len(), 2);
    assert_eq!(rest.next, None);
}

/// An organization with more members (and approved enrollments) than one page is listed
/// completely by the client, which follows `next` page after page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_larger_than_a_page_is_listed_completely() {
    let ts = start().await;
    let url = ts.url();
    let mut city = create_org::<P256>(&url, "市").await;
    let mut expected = BTreeSet::from([city.admin.id()]);
    for i in 0..6 {
        expected.insert(
            enroll(&url, &city, &format!("担当{i}"), Roles::READER)
                .await
                .id(),
        );
    }
    let org = city.id();
    let one_page = city
        .admin
        .client
        .members_page(&org, 2, None)
        .await
        .expect("page");
    assert_eq!(one_page.members.len(), 2);
    assert!(
        one_page.next.is_some(),
        "seven members do not fit in a page of two"
    );

    city.admin.client.set_page_limit(2);
    let c = &city.admin.client;
    let listed: Vec<String> = c
        .members(&org)
        .await
        .expect("all members")
        .into_iter()
        .map(|m| m.cert_id)
        .collect();
    assert_eq!(listed.len(), 7, "each member once");
    assert_eq!(listed.iter().cloned().collect::<BTreeSet<_>>(), expected);
    let approved = c.enrollments(&org, "approved").await.expect("enrollments");
    assert_eq!(approved.len(), 6);
    // The directory flow (what `soshiki` and the web directory use) verifies them all.
    let dir = flows::directory(c, city.record()).await.expect("directory");
    assert_eq!(dir.len(), 7);
    assert!(
        dir.iter().all(|e| e.certificate.is_ok()),
        "every certificate verifies"
    );
    // The organization list (anonymous) pages too.
    let mut anon = ts.client();
    anon.set_page_limit(1);
    for _ in 0..2 {
        create_org::<P256>(&url, "別の組織").await;
    }
    assert_eq!(anon.orgs().await.expect("orgs").len(), 3);
}
