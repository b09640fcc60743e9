//! Every list endpoint is paginated, played as the attacker: a request for an enormous page, a
//! cursor taken from another list or another organization, a garbage cursor; and the client
//! lists an organization larger than one page completely by following `next`, and an
//! envelope with more deliveries than a page has its receipts listed completely.

mod common;

use std::collections::BTreeSet;

use common::*;
use soshiki_client::flows::{OutgoingPart, PartData, SendOptions};
use soshiki_client::{flows, ClientError};
use soshiki_core::cert::Roles;
use soshiki_core::envelope::PartInfo;
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

/// The sender's organization and the city with its representative and a staff member.
struct Envelopes {
    /// Keeps the server running.
    _ts: TestServer,
    city: Org<P256>,
    sender: Member<P256>,
    rep: Member<P256>,
    staff: Member<P256>,
}

async fn envelopes() -> Envelopes {
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<P256>(&url, "県").await;
    let city = create_org::<P256>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let staff = enroll(&url, &city, "担当", Roles::READER).await;
    Envelopes {
        _ts: ts,
        city,
        sender,
        rep,
        staff,
    }
}

/// Send two parts to the representative: (envelope id, first delivery id).
async fn send2(w: &Envelopes) -> (String, String) {
    let to = flows::certified_member(&w.sender.client, w.city.record(), &w.rep.id())
        .await
        .expect("rep");
    let parts = (0..2u8)
        .map(|i| OutgoingPart {
            info: PartInfo {
                name: format!("part{i}.csv"),
                labels: vec![],
            },
            data: PartData::Bytes(vec![b'a' + i; 3000]),
        })
        .collect();
    let sent = flows::send(
        &w.sender.client,
        &w.sender.key,
        &to,
        &SendOptions::default(),
        parts,
        None,
    )
    .await
    .expect("send");
    (sent.envelope_id, sent.delivery_id)
}

/// The representative forwards part 0 to the staff member and recalls it, `n` times: the
/// recalled deliveries' ids, oldest first.
async fn forward_and_recall(w: &Envelopes, first: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        let f = flows::forward(&w.rep.client, &w.rep.key, first, &[(w.staff.id(), vec![0])])
            .await
            .expect("forward");
        let id = f.deliveries[0].id.clone();
        flows::recall(&w.rep.client, &w.rep.key, &id)
            .await
            .expect("recall");
        out.push(id);
    }
    out
}

/// An envelope forwarded and recalled until it has more deliveries than a page: its sender's
/// receipts are listed completely across pages (each delivery's receipts on exactly one
/// page), an enormous page is refused before the store is asked, and a cursor of another
/// list or another envelope is refused, not a 500 and not a silently short listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_with_more_deliveries_than_a_page_has_every_receipt_listed() {
    let mut w = envelopes().await;
    let (envelope, first) = send2(&w).await;
    let mut ids = vec![first.clone()];
    ids.extend(forward_and_recall(&w, &first, 3).await);
    let last = flows::forward(
        &w.rep.client,
        &w.rep.key,
        &first,
        &[(w.staff.id(), vec![0, 1])],
    )
    .await
    .expect("forward both parts");
    ids.push(last.deliveries[0].id.clone());
    // Five deliveries: delivered, 4 forwarded, 3 recalled = 8 receipts.

    // Page by page (two deliveries per page): every delivery on exactly one page.
    let c = &w.sender.client;
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = c
            .receipts_page(&envelope, 2, after.as_deref())
            .await
            .expect("page");
        pages += 1;
        let mut on_page: Vec<String> = page
            .receipts
            .iter()
            .map(|r| r.delivery_id.clone())
            .collect();
        on_page.dedup();
        let distinct: BTreeSet<&String> = on_page.iter().collect();
        assert!(
            distinct.len() <= 2,
            "at most two deliveries per page: {on_page:?}"
        );
        assert!(
            page.receipts.windows(2).all(|p| p[0].time <= p[1].time),
            "a page's receipts are in time order"
        );
        for id in distinct {
            assert!(!seen.contains(id), "delivery {id} on two pages");
            seen.push(id.clone());
        }
        match page.next {
            None => break,
            Some(n) => {
                assert!(n.starts_with("r."), "{n}");
                after = Some(n);
            }
        }
    }
    assert_eq!(pages, 3, "five deliveries in pages of two");
    assert_eq!(
        seen.iter().cloned().collect::<BTreeSet<_>>(),
        ids.iter().cloned().collect::<BTreeSet<_>>()
    );

    // The client follows `next` to the last page.
    w.sender.client.set_page_limit(2);
    let c = &w.sender.client;
    let all = c.receipts(&envelope).await.expect("every receipt");
    assert_eq!(all.next, None);
    let count = |k: &str| all.receipts.iter().filter(|r| r.kind == k).count();
    assert_eq!(
        (count("delivered"), count("forwarded"), count("recalled")),
        (1, 4, 3),
        "{:?}",
        all.receipts
    );
    assert_eq!(all.receipts.len(), 8);
    assert!(all.receipts.windows(2).all(|p| p[0].time <= p[1].time));
    // The forward of both parts is there, by role.
    let r = all
        .receipts
        .iter()
        .find(|r| r.delivery_id == ids[4])
        .expect("the last forward");
    assert_eq!(
        (r.kind.as_str(), r.parts.clone()),
        ("forwarded", vec![0, 1])
    );
    assert_eq!(r.holder_roles, vec!["reader".to_string()]);
    assert_eq!(r.by_roles, vec!["representative".to_string()]);

    // An enormous page (or none) is refused.
    for limit in [100_000, 1001, 0] {
        let e = c
            .receipts_page(&envelope, limit, None)
            .await
            .expect_err("huge page");
        assert_eq!(
            refusal(&e),
            (Some(400), Some("bad-page-limit")),
            "limit={limit}: {e}"
        );
    }
    // Cursors of another list, garbage, or a delivery of another envelope.
    let (_, other_first) = send2(&w).await;
    let cases = [
        (format!("d.{}", ids[1]), (Some(400), Some("bad-cursor"))),
        ("r.../../etc".to_string(), (Some(400), Some("bad-cursor"))),
        (
            format!("r.{}", "0".repeat(32)),
            (Some(409), Some("stale-cursor")),
        ),
        (
            format!("r.{other_first}"),
            (Some(409), Some("stale-cursor")),
        ),
    ];
    for (cursor, expected) in &cases {
        let e = c
            .receipts_page(&envelope, 10, Some(cursor))
            .await
            .expect_err("bad cursor");
        assert_eq!(refusal(&e), *expected, "{cursor:?}: {e}");
    }
}

/// A delivery forwarded and recalled again and again (what grows an envelope's deliveries
/// without bound) is shown with every live forward and only the newest recalled ones: the
/// view's size, and what the server reads to build it, do not grow with the cycles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_forwarded_and_recalled_many_times_is_shown_bounded() {
    let w = envelopes().await;
    let (_, first) = send2(&w).await;
    let shown = soshiki_server::SHOWN_RECALLED_FORWARDS as usize;
    let recalled = forward_and_recall(&w, &first, shown + 3).await;
    let live = flows::forward(
        &w.rep.client,
        &w.rep.key,
        &first,
        &[(w.staff.id(), vec![1])],
    )
    .await
    .expect("a live forward")
    .deliveries[0]
        .id
        .clone();
    let view = w.rep.client.delivery(&first).await.expect("view");
    let listed: Vec<&str> = view.forwards.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(listed.len(), shown + 1, "{listed:?}");
    assert!(listed.contains(&live.as_str()), "the live forward is shown");
    for old in &recalled[..3] {
        assert!(
            !listed.contains(&old.as_str()),
            "the oldest recalled ones are not"
        );
    }
    for newer in &recalled[3..] {
        assert!(listed.contains(&newer.as_str()));
    }
    assert!(view
        .forwards
        .windows(2)
        .all(|p| p[0].created <= p[1].created));
    // What is left to forward counts the live forward only.
    assert_eq!(view.forwardable_parts, vec![0]);
    assert_eq!(view.status, "delivered");
}
