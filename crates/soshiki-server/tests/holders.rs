//! What a holder, a forwarder and a sender get to know and keep, played as the attacker:
//! a forwarder with the reader role that tries to keep reading a part it forwarded away, a
//! reader that downloaded a delivery which its forwarder then tries to recall as if unread,
//! a reader claiming "opened" without a download, and a sender looking for the names and
//! certificate ids of the people inside the receiving organization.

mod common;

use common::*;
use futures::StreamExt;
use soshiki_client::flows::{self, sign_action, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::ActionSpec;
use soshiki_client::{Client, ClientError, ClientOptions};
use soshiki_core::cert::Roles;
use soshiki_core::envelope::{EnvelopeFile, EnvelopeHeader, PartInfo, SlotId};
use soshiki_core::suite::{Suite, P256};

fn status(e: &ClientError) -> u16 {
    e.status()
        .unwrap_or_else(|| panic!("expected an API error, got {e}"))
}

fn code(e: &ClientError) -> String {
    e.code()
        .unwrap_or_else(|| panic!("expected an API error, got {e}"))
        .to_string()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Two organizations: the sender's, and the city with its representative, a section chief
/// (forwarder and reader) and a staff member (reader).
struct World {
    ts: TestServer,
    city: Org<P256>,
    sender: Member<P256>,
    rep: Member<P256>,
    chief: Member<P256>,
    staff: Member<P256>,
}

async fn world() -> World {
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<P256>(&url, "県").await;
    let city = create_org::<P256>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let chief = enroll(&url, &city, "課長", Roles::FORWARDER.union(Roles::READER)).await;
    let staff = enroll(&url, &city, "担当", Roles::READER).await;
    World {
        ts,
        city,
        sender,
        rep,
        chief,
        staff,
    }
}

/// Send two parts to the representative; returns (envelope id, first delivery id).
async fn send2(w: &World) -> (String, String) {
    let to = flows::certified_member(&w.sender.client, w.city.record(), &w.rep.id())
        .await
        .expect("rep");
    let parts = (0..2u8)
        .map(|i| OutgoingPart {
            info: PartInfo {
                name: format!("part{i}.csv"),
                labels: vec![],
            },
            data: PartData::Bytes(vec![b'a' + i; 9000]),
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

/// The chief holds both parts (forwarded by the representative); returns its delivery id.
async fn to_chief(w: &World, first: &str) -> String {
    let f = flows::forward(
        &w.rep.client,
        &w.rep.key,
        first,
        &[(w.chief.id(), vec![0, 1])],
    )
    .await
    .expect("forward to chief");
    f.deliveries[0].id.clone()
}

/// A forwarder with the reader role forwards part 1 to a staff member, then asks the server
/// for its own delivery again (header, envelope file, forwarding request): part 1's capsule
/// (`C1`) and body are never served to it any more, so it cannot decrypt part 1; part 0 stays
/// readable. Recalling the forward gives part 1 back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_part_is_no_longer_served_to_its_previous_holder() {
    let w = world().await;
    let (_, first) = send2(&w).await;
    let mine = to_chief(&w, &first).await;
    let st = w.ts.server.state.clone();
    // What the attacker is after: part 1's C1 in its stored header and part 1's body.
    let stored = st.store.delivery(&mine).await.expect("stored");
    let h = EnvelopeHeader::<P256>::from_bytes(&stored.header).expect("header");
    let c1_part1 = P256::point_to_bytes(
        &h.slot(SlotId::part(1).expect("part 1"))
            .expect("slot 1")
            .capsule
            .c1,
    );
    let env = st.store.envelope(&stored.envelope_id).await.expect("env");
    let off = h.body_offset(1).expect("body 1");
    let mut body1 = Vec::new();
    let mut s = st
        .blobs
        .get_range(&env.blob_key, off + 100, 64)
        .await
        .expect("range");
    while let Some(c) = s.next().await {
        body1.extend_from_slice(&c.expect("chunk"));
    }

    let fw = flows::forward(
        &w.chief.client,
        &w.chief.key,
        &mine,
        &[(w.staff.id(), vec![1])],
    )
    .await
    .expect("forward part 1");
    let child = fw.deliveries[0].id.clone();

    // The header it can still download holds the metadata and part 0 only.
    let got = w.chief.client.delivery_header(&mine).await.expect("header");
    assert!(!contains(&got, &c1_part1), "part 1's C1 is served again");
    let gh = EnvelopeHeader::<P256>::from_bytes(&got).expect("decodes");
    assert_eq!(
        gh.slots.iter().map(|s| s.slot).collect::<Vec<_>>(),
        vec![SlotId::METADATA, SlotId::part(0).expect("part 0")]
    );
    assert_eq!(gh.bodies, vec![0]);
    gh.clone()
        .verify()
        .expect("the restricted header still verifies");

    // The envelope file: no C1 and no body of part 1; decrypting part 1 fails, part 0 opens.
    let mut file = Vec::new();
    w.chief
        .client
        .download_envelope(&mine, &mut file, None)
        .await
        .expect("download");
    assert!(!contains(&file, &c1_part1), "part 1's C1 in the file");
    assert!(!contains(&file, &body1), "part 1's body in the file");
    let parsed = EnvelopeFile::<P256>::open(&mut std::io::Cursor::new(&file)).expect("file");
    let verified = parsed.header.clone().verify().expect("verifies");
    let mut sink = Vec::new();
    assert!(
        soshiki_core::envelope::decrypt_part(
            &verified,
            &parsed,
            &mut std::io::Cursor::new(&file),
            1,
            &w.chief.key.encryption,
            &mut sink,
            &mut |_| {},
        )
        .is_err(),
        "part 1 decrypts from what the previous holder still gets"
    );
    assert!(sink.is_empty());
    // Nor can it ask for a forwarding request of part 1 (stable code).
    let e = w
        .chief
        .client
        .forwarding_request(&mine, Some(&[1]))
        .await
        .expect_err("part 1 is gone");
    assert_eq!(
        (status(&e), code(&e).as_str()),
        (409, "part-already-forwarded")
    );
    let out = tempfile::tempdir().expect("tmp");
    let opened = flows::open(&w.chief.client, &w.chief.key, &mine, out.path(), None)
        .await
        .expect("part 0 still opens");
    assert_eq!(
        opened.parts.iter().map(|p| p.index).collect::<Vec<_>>(),
        vec![0]
    );

    // The staff member reads part 1.
    let out2 = tempfile::tempdir().expect("tmp");
    let got = flows::open(&w.staff.client, &w.staff.key, &child, out2.path(), None)
        .await
        .expect("staff opens part 1");
    assert_eq!(got.parts.len(), 1);
}

/// Every part forwarded away: the previous holder's downloads answer 410 `parts-forwarded`
/// even after it marked its (partial) delivery opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holder_that_forwarded_every_part_gets_nothing() {
    let w = world().await;
    let (_, first) = send2(&w).await;
    let mine = to_chief(&w, &first).await;
    flows::forward(
        &w.chief.client,
        &w.chief.key,
        &mine,
        &[(w.staff.id(), vec![0, 1])],
    )
    .await
    .expect("forward all");
    let e = w
        .chief
        .client
        .delivery_header(&mine)
        .await
        .expect_err("nothing left");
    assert!(matches!(status(&e), 410), "{e}");
    let mut sink = Vec::new();
    w.chief
        .client
        .download_envelope(&mine, &mut sink, None)
        .await
        .expect_err("nothing left");
    assert!(sink.is_empty());
}

/// Whoever held a delivery keeps its title, category, part names and labels after forwarding
/// every part onward: `GET …/metadata` serves the header with the metadata slot (sealed to the
/// holder's own key) and no part capsule or body, to every holder whatever its roles. It is
/// not a download: a delivery whose metadata was fetched can still be recalled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holder_keeps_the_title_after_forwarding_every_part() {
    let w = world().await;
    let (_, first) = send2(&w).await;
    let mine = to_chief(&w, &first).await;
    let to_staff = flows::forward(
        &w.chief.client,
        &w.chief.key,
        &mine,
        &[(w.staff.id(), vec![0, 1])],
    )
    .await
    .expect("forward all")
    .deliveries[0]
        .id
        .clone();

    // The representative (no reader role) and the chief (every part forwarded away) alike.
    for (who, id) in [(&w.rep, &first), (&w.chief, &mine)] {
        let bytes = who.client.delivery_metadata(id).await.expect("metadata");
        let h = EnvelopeHeader::<P256>::from_bytes(&bytes).expect("a header");
        assert!(
            h.slots.iter().all(|s| s.slot.is_metadata()),
            "no part capsule is served"
        );
        assert!(h.bodies.is_empty(), "no body is served");
        let verified = h.clone().verify_at(now()).expect("verifies");
        let meta = verified
            .open_metadata(&who.key.encryption)
            .expect("the holder opens its metadata");
        assert_eq!(meta.parts.len(), 2);
        assert_eq!(meta.parts[1].name, "part1.csv");
    }
    // Another member of the same organization does not get someone else's metadata.
    let e = w
        .staff
        .client
        .delivery_metadata(&mine)
        .await
        .expect_err("not the holder");
    assert_eq!(status(&e), 403, "{e}");

    // Fetching the metadata is not a download: the chief can still recall the forward.
    w.staff
        .client
        .delivery_metadata(&to_staff)
        .await
        .expect("the staff member's own metadata");
    flows::recall(&w.chief.client, &w.chief.key, &to_staff)
        .await
        .expect("still recallable");
}

/// Two parts forwarded to one officer in one action, one of them by mistake: the forwarder
/// recalls that part alone. The officer keeps the other part (and opens it) but is never
/// served the recalled part's capsule or body again; the part is forwardable again from the
/// forwarder; the sender's receipts show it recalled. A client that signs a recall of one
/// part but asks for both is refused: the statement binds exactly which parts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrongly_sent_part_is_recalled_alone() {
    let w = world().await;
    let (envelope, first) = send2(&w).await;
    let mine = to_chief(&w, &first).await;

    // A statement for part 1 with a body asking for parts 0 and 1: refused, nothing changes.
    let spec = ActionSpec::recall_parts(&mine, &[1]);
    let e = w
        .rep
        .client
        .recall_parts(&mine, &[0, 1], &sign_action(&w.rep.key, &spec))
        .await
        .expect_err("the statement names part 1 only");
    assert_eq!(status(&e), 400, "{e}");
    // Someone else than the forwarder cannot recall a part either.
    let e = flows::recall_parts(&w.staff.client, &w.staff.key, &mine, &[1])
        .await
        .expect_err("not the forwarder");
    assert_eq!(status(&e), 403, "{e}");

    let kept = flows::recall_parts(&w.rep.client, &w.rep.key, &mine, &[1])
        .await
        .expect("recall part 1 alone");
    assert_eq!(kept.parts, vec![0]);
    assert_eq!(kept.status, "delivered");

    // The officer's copy no longer carries part 1; part 0 opens.
    let header = w.chief.client.delivery_header(&mine).await.expect("header");
    let h = EnvelopeHeader::<P256>::from_bytes(&header).expect("header");
    assert!(
        h.slots.iter().all(|s| s.slot.part_index() != Some(1)),
        "part 1's capsule is gone"
    );
    assert!(!h.bodies.contains(&1), "part 1's body is gone");
    let out = tempfile::tempdir().expect("tmp");
    let opened = flows::open(&w.chief.client, &w.chief.key, &mine, out.path(), None)
        .await
        .expect("part 0 opens");
    assert_eq!(
        opened.parts.iter().map(|p| p.index).collect::<Vec<_>>(),
        vec![0]
    );

    // Part 1 is forwardable again from the representative, and goes to the staff member.
    let rep_view = w.rep.client.delivery(&first).await.expect("rep's delivery");
    assert_eq!(rep_view.forwardable_parts, vec![1]);
    let again = flows::forward(
        &w.rep.client,
        &w.rep.key,
        &first,
        &[(w.staff.id(), vec![1])],
    )
    .await
    .expect("re-forward part 1");
    let out2 = tempfile::tempdir().expect("tmp");
    let got = flows::open(
        &w.staff.client,
        &w.staff.key,
        &again.deliveries[0].id,
        out2.path(),
        None,
    )
    .await
    .expect("staff opens part 1");
    assert_eq!(got.parts.len(), 1);

    // The sender's receipts: part 1 recalled, without naming anyone.
    let r = w.sender.client.receipts(&envelope).await.expect("receipts");
    assert!(
        r.receipts
            .iter()
            .any(|x| x.kind == "recalled" && x.parts == vec![1]),
        "{:?}",
        r.receipts
    );
}

async fn login_token(m: &Member<P256>) -> String {
    let mut c = Client::new(m.client.base_url(), &ClientOptions::default()).expect("client");
    flows::login(&mut c, &m.key).await.expect("login").token
}

/// The raw JSON text of an authenticated GET (unknown fields included).
async fn raw_get(url: &str, token: &str) -> String {
    let r = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.text().await.expect("body")
}

/// The holder downloads its delivery; its forwarder then tries to recall it as if it were
/// unread, hoping to hide the leak ("re-encrypted to the wrong person, but nobody read it").
/// The server recorded the download itself: the recall is refused with 409
/// `already-downloaded`, by the forwarder and by an administrator alike, and the sender's
/// receipts say `downloaded` with the time. A delivery never downloaded can still be recalled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloaded_delivery_cannot_be_recalled_as_unread() {
    let w = world().await;
    let (envelope, first) = send2(&w).await;
    let f = flows::forward(
        &w.rep.client,
        &w.rep.key,
        &first,
        &[(w.chief.id(), vec![0]), (w.staff.id(), vec![1])],
    )
    .await
    .expect("forward");
    let (to_chief, to_staff) = (f.deliveries[0].id.clone(), f.deliveries[1].id.clone());
    let r = w.sender.client.receipts(&envelope).await.expect("receipts");
    assert!(r.receipts.iter().all(|x| x.kind != "downloaded"));

    let before = flows::unix_now() as i64;
    // Only the header (capsules): that is already a download.
    w.chief
        .client
        .delivery_header(&to_chief)
        .await
        .expect("header");
    let info = w.chief.client.delivery(&to_chief).await.expect("info");
    let at = info.downloaded.expect("the server recorded the download");
    assert!(at >= before);
    assert_eq!(info.status, "delivered", "a download is not an open");

    let e = flows::recall(&w.rep.client, &w.rep.key, &to_chief)
        .await
        .expect_err("recall of a downloaded delivery");
    assert_eq!((status(&e), code(&e).as_str()), (409, "already-downloaded"));
    let e = flows::recall(&w.city.admin.client, &w.city.admin.key, &to_chief)
        .await
        .expect_err("the administrator neither");
    assert_eq!((status(&e), code(&e).as_str()), (409, "already-downloaded"));
    assert_eq!(
        w.chief
            .client
            .delivery(&to_chief)
            .await
            .expect("info")
            .status,
        "delivered"
    );

    let r = w.sender.client.receipts(&envelope).await.expect("receipts");
    let dl: Vec<_> = r
        .receipts
        .iter()
        .filter(|x| x.kind == "downloaded")
        .collect();
    assert_eq!(dl.len(), 1, "{:?}", r.receipts);
    assert_eq!((dl[0].time, dl[0].parts.clone()), (at, vec![0]));
    assert_eq!(dl[0].by_roles, vec!["forwarder", "reader"]);

    // The staff member's copy was never downloaded: it can be recalled, and is gone for good.
    flows::recall(&w.rep.client, &w.rep.key, &to_staff)
        .await
        .expect("recall an undownloaded delivery");
    let e = w
        .staff
        .client
        .delivery_header(&to_staff)
        .await
        .expect_err("recalled");
    assert_eq!(status(&e), 410);
}

/// A reader claims "opened" without ever downloading anything: refused with 409
/// `not-downloaded`, and the sender's receipts never say `opened` for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opened_without_a_download_is_refused() {
    let w = world().await;
    let (envelope, first) = send2(&w).await;
    let f = flows::forward(
        &w.rep.client,
        &w.rep.key,
        &first,
        &[(w.staff.id(), vec![0, 1])],
    )
    .await
    .expect("forward");
    let d = f.deliveries[0].id.clone();
    let spec = ActionSpec::open(&d, &envelope);
    let e = w
        .staff
        .client
        .mark_opened(&d, &sign_action(&w.staff.key, &spec))
        .await
        .expect_err("no download yet");
    assert_eq!((status(&e), code(&e).as_str()), (409, "not-downloaded"));
    let r = w.sender.client.receipts(&envelope).await.expect("receipts");
    assert!(r.receipts.iter().all(|x| x.kind != "opened"));
    // The real flow downloads first, then reports the open: both receipts, in that order.
    let out = tempfile::tempdir().expect("tmp");
    flows::open(&w.staff.client, &w.staff.key, &d, out.path(), None)
        .await
        .expect("open");
    let r = w.sender.client.receipts(&envelope).await.expect("receipts");
    let kinds: Vec<&str> = r
        .receipts
        .iter()
        .filter(|x| x.delivery_id == d)
        .map(|x| x.kind.as_str())
        .collect();
    assert_eq!(kinds, vec!["forwarded", "downloaded", "opened"]);
}

/// The sender (and its organization's administrator) look at everything the server shows them
/// about an envelope sent to the city after it went representative → chief → staff: the
/// receipts and the first delivery, as raw JSON. Neither contains the certificate id or the
/// name of anyone inside the city except the representative the sender addressed; the roles
/// and times are there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_never_learns_who_holds_what_inside_the_receiving_organization() {
    let w = world().await;
    let (envelope, first) = send2(&w).await;
    let mine = to_chief(&w, &first).await;
    let f = flows::forward(
        &w.chief.client,
        &w.chief.key,
        &mine,
        &[(w.staff.id(), vec![1])],
    )
    .await
    .expect("forward");
    let out = tempfile::tempdir().expect("tmp");
    flows::open(
        &w.staff.client,
        &w.staff.key,
        &f.deliveries[0].id,
        out.path(),
        None,
    )
    .await
    .expect("open");
    let url = w.ts.url();
    let token = login_token(&w.sender).await;
    let receipts = raw_get(&format!("{url}/v1/envelopes/{envelope}/receipts"), &token).await;
    let delivery = raw_get(&format!("{url}/v1/deliveries/{first}"), &token).await;
    for text in [&receipts, &delivery] {
        for secret in [
            w.chief.id(),
            w.staff.id(),
            w.city.admin.id(),
            "課長".to_string(),
            "担当".to_string(),
        ] {
            assert!(!text.contains(&secret), "{secret} in {text}");
        }
    }
    for role in ["representative", "forwarder", "reader"] {
        assert!(receipts.contains(role), "{role} missing from {receipts}");
    }
    assert!(receipts.contains("\"opened\"") && receipts.contains("\"downloaded\""));
    // The holder itself still sees whom it forwarded to (it recalls from any device).
    let rep_view = w.rep.client.delivery(&first).await.expect("holder view");
    assert_eq!(rep_view.forwards.len(), 1);
    assert_eq!(rep_view.forwards[0].holder_cert, w.chief.id());
}
