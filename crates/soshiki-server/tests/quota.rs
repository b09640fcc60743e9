//! An organization's storage quota (issue 8, finding 10), played by a member who tries to
//! store more than the quota allows: one large upload, many small uploads left pending, and an
//! upload that declares fewer bytes than it sends. Every attempt is refused (413
//! `quota-exceeded`, or 400 for the lying upload) with nothing new stored, the organization's
//! earlier deliveries stay intact, and recall, expiry and unfinished uploads' expiry free the
//! quota. Run on SQLite, and on PostgreSQL when `SOSHIKI_TEST_POSTGRES_URL` is set
//! (`eval "$(scripts/services.sh start)"`). And the upload quota: a member who opens uploads
//! without ever finishing them is stopped at the server's cap of unfinished uploads (429
//! `too-many-pending-uploads`), whatever the storage quota.

mod common;

use bytes::Bytes;
use common::*;
use soshiki_client::flows::{self, sign_action, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::json::{Policy, UploadCreated};
use soshiki_client::proto::ActionSpec;
use soshiki_client::ClientError;
use soshiki_core::cert::{Roles, VerifiedCertificate};
use soshiki_core::envelope::{self, PartInfo, PartSource, PREFIX_LEN};
use soshiki_core::suite::P256;
use soshiki_server::maintenance::run_once;
use soshiki_server::{AppState, RunningServer};

const DAY: i64 = 86_400;

/// A server (allowing `max_pending_uploads` unfinished uploads per member) on SQLite, or on a
/// fresh PostgreSQL schema (`None` if PostgreSQL is not
/// configured), with the schema to drop afterwards.
async fn start_on(
    postgres: bool,
    test: &str,
    max_pending_uploads: u32,
) -> Option<(tempfile::TempDir, RunningServer, Option<String>)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(dir.path());
    cfg.limits.max_pending_uploads = max_pending_uploads;
    let mut schema = None;
    if postgres {
        let Ok(base) = std::env::var("SOSHIKI_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("SOSHIKI_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "{test}: SOSHIKI_TEST_POSTGRES_URL is not set but SOSHIKI_REQUIRE_SERVICES=1"
            );
            eprintln!("SKIPPED {test}: SOSHIKI_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("quota_{}_{}", std::process::id(), hex::encode(rand_bytes()));
        pg_exec(&base, &format!("CREATE SCHEMA {name}")).await;
        let sep = if base.contains('?') { '&' } else { '?' };
        cfg.database_url = format!("{base}{sep}options[search_path]={name}");
        schema = Some(name);
    }
    let server = soshiki_server::start(cfg).await.expect("start");
    Some((dir, server, schema))
}

fn rand_bytes() -> [u8; 4] {
    let mut b = [0u8; 4];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    b
}

async fn pg_exec(url: &str, sql: &str) {
    let pool = sqlx::PgPool::connect(url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
}

/// An envelope of one part of `len` bytes encrypted locally: (header bytes, bodies).
fn encrypt(
    sender: &Member<P256>,
    to: &VerifiedCertificate<P256>,
    len: usize,
) -> (Vec<u8>, Vec<u8>) {
    let parts = vec![PartSource {
        info: PartInfo {
            name: "list.csv".into(),
            labels: vec![],
        },
        len: len as u64,
        reader: Box::new(std::io::Cursor::new(vec![9u8; len])),
    }];
    let sk = &sender.key;
    let s = envelope::Sender {
        org: &sk.organization,
        cert: &sk.certificate,
        signing_key: &sk.signing,
    };
    let opts = envelope::EncryptOptions {
        title: String::new(),
        category: String::new(),
        chunk_size: 4096,
        created: now(),
    };
    let mut file = Vec::new();
    let h = envelope::encrypt(
        &s,
        to,
        &opts,
        parts,
        &mut file,
        &mut rand_core::OsRng,
        &mut |_| {},
    )
    .expect("encrypt");
    let n = h.bodies_len() as usize;
    let start = PREFIX_LEN as usize;
    (h.to_bytes(), file[start..start + n].to_vec())
}

/// `POST /v1/envelopes` for a locally encrypted header.
async fn create(
    sender: &Member<P256>,
    rep_id: &str,
    header: Vec<u8>,
) -> Result<UploadCreated, ClientError> {
    let h = envelope::EnvelopeHeader::<P256>::from_bytes(&header).expect("header");
    let spec = ActionSpec::send(&hex::encode(h.core.envelope_id), rep_id, &header);
    sender
        .client
        .create_upload(header, &sign_action(&sender.key, &spec))
        .await
}

fn envelope_id(header: &[u8]) -> String {
    hex::encode(
        envelope::EnvelopeHeader::<P256>::from_bytes(header)
            .expect("header")
            .core
            .envelope_id,
    )
}

/// A refusal must be 413 `quota-exceeded` naming the quota in bytes.
fn assert_quota_exceeded(r: Result<UploadCreated, ClientError>, quota: u64) {
    match r {
        Err(ClientError::Api {
            status,
            code,
            message,
        }) => {
            assert_eq!(
                (status, code.as_str()),
                (413, "quota-exceeded"),
                "{message}"
            );
            assert!(
                message.contains(&format!("used of {quota}")) && message.contains("needs"),
                "the message names used, quota and requested bytes: {message}"
            );
        }
        other => panic!("expected 413 quota-exceeded, got {other:?}"),
    }
}

async fn usage(st: &AppState, org_id: &str) -> u64 {
    st.store.org_usage(org_id, st.now()).await.expect("usage")
}

async fn blob_keys(st: &AppState) -> Vec<String> {
    st.blobs
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

async fn relogin(m: &mut Member<P256>) {
    flows::login(&mut m.client, &m.key).await.expect("login");
}

async fn member_at_its_quota_cannot_store_more(postgres: bool, test: &str) {
    // It fills the storage quota with uploads left pending: the separate cap on one member's
    // unfinished uploads (tested below) is raised out of the way.
    let Some((_dir, server, schema)) = start_on(postgres, test, 1000).await else {
        return;
    };
    let url = server.url().to_string();
    let st = server.state.clone();
    let mut pref = create_org::<P256>(&url, "長野県").await;
    let mut city = create_org::<P256>(&url, "大町市").await;
    let mut sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let mut rep = enroll(
        &url,
        &city,
        "代表",
        Roles::REPRESENTATIVE.union(Roles::READER),
    )
    .await;
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");
    let pref_id = pref.id();

    // Two earlier deliveries, sent before the quota: A will be opened, C never.
    let plain = vec![5u8; 3000];
    let send = |name: &str| {
        let parts = vec![OutgoingPart {
            info: PartInfo {
                name: name.into(),
                labels: vec![],
            },
            data: PartData::Bytes(plain.clone()),
        }];
        let (c, k, t) = (sender.client.clone(), &sender.key, to.clone());
        async move {
            flows::send(&c, k, &t, &SendOptions::default(), parts, None)
                .await
                .expect("send before the quota")
        }
    };
    let a = send("a.csv").await;
    let c = send("c.csv").await;
    let mut stored_a = 0;
    let mut stored_c = 0;
    for (d, total) in [(&a, &mut stored_a), (&c, &mut stored_c)] {
        let env = st.store.envelope(&d.envelope_id).await.expect("envelope");
        let first = st
            .store
            .delivery(&d.delivery_id)
            .await
            .expect("first delivery");
        *total = env.bodies_len + first.header.len() as u64;
    }
    let used_a = usage(&st, &pref_id).await;
    assert_eq!(used_a, stored_a + stored_c, "bodies and headers it sent");
    assert_eq!(usage(&st, &city.id()).await, 0, "receiving costs nothing");

    // The administrator sets a quota of 100 kB above what is used; the directory shows it.
    let quota = used_a + 100_000;
    let info = flows::set_policy(
        &pref.admin.client,
        &pref.admin.key,
        &Policy {
            quota_bytes: Some(quota),
            ..Policy::default()
        },
    )
    .await
    .expect("set the quota");
    assert_eq!(info.quota_bytes, Some(quota));
    assert_eq!(
        sender.client.org(&pref_id).await.expect("org").quota_bytes,
        Some(quota)
    );

    // (a) One large upload is refused before anything is stored.
    let blobs_before = blob_keys(&st).await;
    let (big, _) = encrypt(&sender, &to, 200_000);
    let big_id = envelope_id(&big);
    assert_quota_exceeded(create(&sender, &rep.id(), big).await, quota);
    assert_eq!(blob_keys(&st).await, blobs_before, "no blob stored");
    assert_eq!(usage(&st, &pref_id).await, used_a, "no upload recorded");
    assert!(st.store.envelope(&big_id).await.is_err());

    // (b) Many small uploads left pending: each reserves its bytes, so they stop at the
    //     quota; the refused one stores nothing.
    let mut pending = Vec::new();
    let refused = loop {
        assert!(pending.len() < 20, "the quota never refused an upload");
        let (hb, bodies) = encrypt(&sender, &to, 10_000);
        let before = blob_keys(&st).await;
        match create(&sender, &rep.id(), hb.clone()).await {
            Ok(created) => pending.push((created, bodies)),
            Err(e) => {
                assert_eq!(
                    blob_keys(&st).await,
                    before,
                    "the refused upload stored nothing"
                );
                break Err(e);
            }
        }
        assert!(usage(&st, &pref_id).await <= quota);
    };
    assert_quota_exceeded(refused, quota);
    assert!(pending.len() >= 2, "{} uploads fit", pending.len());
    assert!(usage(&st, &pref_id).await <= quota);
    assert!(usage(&st, &pref_id).await > used_a + 10_000 * pending.len() as u64);

    // (c) An upload that declared 10 kB and sends more is refused, whether the request says
    //     so (Content-Length) or streams the excess (chunked); nothing is committed.
    let (lying, bodies) = pending.remove(0);
    let token = flows::login(&mut sender.client, &sender.key)
        .await
        .expect("token")
        .token;
    let http = reqwest::Client::new();
    let put_url = format!("{url}/v1/uploads/{}", lying.upload_id);
    let mut more = bodies.clone();
    more.extend_from_slice(&[0u8; 50_000]);
    let before = (blob_keys(&st).await, usage(&st, &pref_id).await);
    // Refused before the body is read: the server may close before the client finished
    // sending, so a broken connection is a refusal too (what is stored is checked below).
    match http
        .put(&put_url)
        .bearer_auth(&token)
        .body(more.clone())
        .send()
        .await
    {
        Ok(r) => assert_eq!(r.status().as_u16(), 400, "{:?}", r.text().await),
        Err(e) => eprintln!("the lying PUT was cut off: {e}"),
    }
    let chunks: Vec<Result<Bytes, std::io::Error>> = more
        .chunks(8192)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    match http
        .put(&put_url)
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
    {
        Ok(r) => assert_eq!(r.status().as_u16(), 400, "{:?}", r.text().await),
        Err(e) => eprintln!("the lying chunked PUT was cut off: {e}"),
    }
    assert_eq!((blob_keys(&st).await, usage(&st, &pref_id).await), before);
    assert!(st.store.envelope(&lying.envelope_id).await.is_err());
    // The honest upload of what it declared commits, within its reservation.
    let b = sender
        .client
        .upload_bodies(&lying.upload_id, bodies.clone().into(), bodies.len() as u64)
        .await
        .expect("the declared bytes commit");
    assert!(usage(&st, &pref_id).await <= quota);

    // Full again: the next small upload is refused.
    loop {
        let (hb, bodies) = encrypt(&sender, &to, 5_000);
        match create(&sender, &rep.id(), hb).await {
            Ok(created) => pending.push((created, bodies)),
            Err(e) => {
                assert_quota_exceeded(Err(e), quota);
                break;
            }
        }
    }

    // The earlier delivery is intact: its reader opens it.
    let out = tempfile::tempdir().expect("tmp");
    let opened = flows::open(&rep.client, &rep.key, &a.delivery_id, out.path(), None)
        .await
        .expect("open the earlier delivery");
    assert_eq!(read(&opened.parts[0].path), plain);

    // Recalling a delivery frees its header at once and its body once maintenance removes it.
    let full = usage(&st, &pref_id).await;
    flows::recall(&sender.client, &sender.key, &b.delivery_id)
        .await
        .expect("recall");
    let r = run_once(&st, st.now()).await.expect("maintenance");
    assert_eq!(r.expired_blobs, 1, "the recalled body");
    assert!(usage(&st, &pref_id).await <= full - 10_000);
    let (hb, _) = encrypt(&sender, &to, 5_000);
    create(&sender, &rep.id(), hb)
        .await
        .expect("fits again after the recall");

    // Two days later: the unfinished uploads expired and were purged, the unopened delivery C
    // expired with the recipient's policy and its body was removed; what remains is the
    // opened delivery A.
    flows::set_policy(
        &city.admin.client,
        &city.admin.key,
        &Policy {
            expiry_days: Some(1),
            ..Policy::default()
        },
    )
    .await
    .expect("expiry");
    run_once(&st, st.now() + 2 * DAY)
        .await
        .expect("maintenance");
    assert_eq!(
        st.store
            .org_usage(&pref_id, st.now() + 2 * DAY)
            .await
            .expect("usage"),
        stored_a,
        "only the opened delivery A is left"
    );
    for m in [&mut sender, &mut rep, &mut pref.admin, &mut city.admin] {
        relogin(m).await;
    }
    let mut sink = Vec::new();
    rep.client
        .download_envelope(&a.delivery_id, &mut sink, None)
        .await
        .expect("A is still there");

    assert_eq!(
        rep.client.delivery(&c.delivery_id).await.expect("c").status,
        "expired"
    );

    // The large upload still does not fit; without a quota it does.
    let (big, _) = encrypt(&sender, &to, 200_000);
    assert_quota_exceeded(create(&sender, &rep.id(), big.clone()).await, quota);
    let info = flows::set_policy(
        &pref.admin.client,
        &pref.admin.key,
        &Policy {
            quota_bytes: Some(0),
            ..Policy::default()
        },
    )
    .await
    .expect("no quota");
    assert_eq!(info.quota_bytes, None, "0 means no quota");
    create(&sender, &rep.id(), big).await.expect("no quota");

    server.shutdown().await.expect("shutdown");
    if let (Some(name), Ok(base)) = (schema, std::env::var("SOSHIKI_TEST_POSTGRES_URL")) {
        pg_exec(&base, &format!("DROP SCHEMA {name} CASCADE")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_at_its_quota_cannot_store_more_sqlite() {
    member_at_its_quota_cannot_store_more(false, "member_at_its_quota_cannot_store_more_sqlite")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_at_its_quota_cannot_store_more_postgres() {
    member_at_its_quota_cannot_store_more(true, "member_at_its_quota_cannot_store_more_postgres")
        .await;
}

/// A quota above the 1 PiB bound is refused (400) and the policy is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_beyond_the_bound_is_refused() {
    let ts = start().await;
    let org = create_org::<P256>(&ts.url(), "大町市").await;
    let e = flows::set_policy(
        &org.admin.client,
        &org.admin.key,
        &Policy {
            quota_bytes: Some(soshiki_client::proto::MAX_QUOTA_BYTES + 1),
            ..Policy::default()
        },
    )
    .await
    .expect_err("too large");
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(e.to_string().contains("quota_bytes"), "{e}");
    let max = flows::set_policy(
        &org.admin.client,
        &org.admin.key,
        &Policy {
            quota_bytes: Some(soshiki_client::proto::MAX_QUOTA_BYTES),
            ..Policy::default()
        },
    )
    .await
    .expect("the bound itself");
    assert_eq!(
        max.quota_bytes,
        Some(soshiki_client::proto::MAX_QUOTA_BYTES)
    );
}

/// A member opens uploads (`POST /v1/envelopes`) and never finishes them, with no storage
/// quota set: after the server's cap of unfinished uploads (default 8) the next one is refused
/// with 429 `too-many-pending-uploads` and nothing is stored; another member is not affected,
/// and finishing one of its uploads lets the member start one more.
async fn member_cannot_pile_up_unfinished_uploads(postgres: bool, test: &str) {
    let cap = soshiki_server::DEFAULT_MAX_PENDING_UPLOADS;
    assert_eq!(cap, 8);
    let Some((_dir, server, schema)) = start_on(postgres, test, cap).await else {
        return;
    };
    let cap = cap as usize;
    let url = server.url().to_string();
    let st = server.state.clone();
    let pref = create_org::<P256>(&url, "長野県").await;
    let city = create_org::<P256>(&url, "大町市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let other = enroll(&url, &pref, "同僚", Roles::READER).await;
    let rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");
    assert_eq!(
        st.store.org(&pref.id()).await.expect("org").quota_bytes,
        None
    );

    let mut open = Vec::new();
    for _ in 0..cap {
        let (hb, bodies) = encrypt(&sender, &to, 1000);
        let created = create(&sender, &rep.id(), hb)
            .await
            .expect("within the cap");
        open.push((created, bodies));
    }
    let blobs_before = blob_keys(&st).await;
    let pending_before = st.store.pending_uploads(st.now()).await.expect("pending");
    let (hb, _) = encrypt(&sender, &to, 1000);
    let refused_id = envelope_id(&hb);
    match create(&sender, &rep.id(), hb.clone()).await {
        Err(ClientError::Api {
            status,
            code,
            message,
        }) => {
            assert_eq!(
                (status, code.as_str()),
                (429, "too-many-pending-uploads"),
                "{message}"
            );
            assert!(message.contains(&format!("at most {cap}")), "{message}");
        }
        other => panic!("expected 429 too-many-pending-uploads, got {other:?}"),
    }
    assert_eq!(blob_keys(&st).await, blobs_before, "nothing stored");
    assert_eq!(
        st.store.pending_uploads(st.now()).await.expect("pending"),
        pending_before,
        "no upload recorded"
    );
    assert!(st.store.envelope(&refused_id).await.is_err());

    // A colleague in the same organization has its own allowance.
    let (hb2, _) = encrypt(&other, &to, 1000);
    create(&other, &rep.id(), hb2)
        .await
        .expect("another member");

    // Finishing one upload frees a place: the refused envelope can be sent now.
    let (done, bodies) = open.remove(0);
    sender
        .client
        .upload_bodies(&done.upload_id, bodies.clone().into(), bodies.len() as u64)
        .await
        .expect("finish one");
    create(&sender, &rep.id(), hb)
        .await
        .expect("a place is free again");
    let (hb3, _) = encrypt(&sender, &to, 1000);
    let e = create(&sender, &rep.id(), hb3)
        .await
        .expect_err("full again");
    assert_eq!(
        (e.status(), e.code()),
        (Some(429), Some("too-many-pending-uploads"))
    );

    server.shutdown().await.expect("shutdown");
    if let (Some(name), Ok(base)) = (schema, std::env::var("SOSHIKI_TEST_POSTGRES_URL")) {
        pg_exec(&base, &format!("DROP SCHEMA {name} CASCADE")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_cannot_pile_up_unfinished_uploads_sqlite() {
    member_cannot_pile_up_unfinished_uploads(
        false,
        "member_cannot_pile_up_unfinished_uploads_sqlite",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_cannot_pile_up_unfinished_uploads_postgres() {
    member_cannot_pile_up_unfinished_uploads(
        true,
        "member_cannot_pile_up_unfinished_uploads_postgres",
    )
    .await;
}
