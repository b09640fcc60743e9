//! Orphan collection decides from the upload records, never from a blob's age: a slow upload
//! is never collected before it commits, an expired one is. Run on local files, and on an
//! S3-compatible server when `SOSHIKI_TEST_S3_URL` is set (`eval "$(scripts/services.sh
//! start)"`), where a completed multipart object's `LastModified` can be far older than the
//! moment it became visible.

mod common;

use bytes::Bytes;
use common::*;
use futures::SinkExt;
use soshiki_client::flows::{self, sign_action};
use soshiki_client::proto::ActionSpec;
use soshiki_core::cert::Roles;
use soshiki_core::envelope::{self, PartInfo, PartSource, PREFIX_LEN};
use soshiki_core::suite::P256;
use soshiki_server::maintenance::run_once;

const HOUR: i64 = 3600;

/// An envelope encrypted locally: (header bytes, bodies).
fn encrypt(
    sender: &Member<P256>,
    to: &soshiki_core::cert::VerifiedCertificate<P256>,
) -> (Vec<u8>, Vec<u8>) {
    let parts = vec![PartSource {
        info: PartInfo {
            name: "slow.csv".into(),
            labels: vec![],
        },
        len: 200_000,
        reader: Box::new(std::io::Cursor::new(vec![7u8; 200_000])),
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

async fn create(
    sender: &Member<P256>,
    rep_id: &str,
    hb: Vec<u8>,
) -> soshiki_client::proto::json::UploadCreated {
    let h = envelope::EnvelopeHeader::<P256>::from_bytes(&hb).expect("header");
    let spec = ActionSpec::send(&hex::encode(h.core.envelope_id), rep_id, &hb);
    sender
        .client
        .create_upload(hb, &sign_action(&sender.key, &spec))
        .await
        .unwrap_or_else(|e| panic!("create upload: {e}"))
}

async fn blob_exists(st: &soshiki_server::AppState, key: &str) -> bool {
    st.blobs
        .list()
        .await
        .expect("list")
        .iter()
        .any(|(k, _)| k == key)
}

async fn slow_upload_survives_collection_and_expired_ones_do_not(blobs_url: Option<String>) {
    let dir = tempfile::tempdir().expect("tmp");
    let mut cfg = config(dir.path());
    if let Some(u) = blobs_url {
        cfg.blobs_url = u;
    }
    let server = soshiki_server::start(cfg).await.expect("start");
    let url = server.url().to_string();
    let st = server.state.clone();
    let pref = create_org::<P256>(&url, "県").await;
    let city = create_org::<P256>(&url, "市").await;
    let mut sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let mut rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let mut reader = enroll(&url, &city, "担当", Roles::READER).await;
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");

    // 1. A real PUT, slow: half of the bodies sent, then a collection pass two hours "later"
    //    (beyond any orphan age), then the rest. It commits and reads back.
    let (hb, bodies) = encrypt(&sender, &to);
    let pending = create(&sender, &rep.id(), hb).await;
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let len = bodies.len() as u64;
    let c = sender.client.clone();
    let id = pending.upload_id.clone();
    let put = tokio::spawn(async move {
        c.upload_bodies(&id, reqwest::Body::wrap_stream(rx), len)
            .await
    });
    let half = bodies.len() / 2;
    tx.send(Ok(Bytes::copy_from_slice(&bodies[..half])))
        .await
        .expect("send half");
    // Wait until the PUT has started (its record now names its body blob).
    let mut started = false;
    for _ in 0..200 {
        let rec = st.store.upload(&pending.upload_id).await.expect("record");
        if rec.expires > st.now() + 2 * HOUR {
            started = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(started, "the PUT renewed its upload record");
    run_once(&st, st.now() + 2 * HOUR).await.expect("pass");
    tx.send(Ok(Bytes::copy_from_slice(&bodies[half..])))
        .await
        .expect("send rest");
    drop(tx);
    let committed = put.await.expect("join").expect("the slow upload commits");
    // The pass two hours ahead also ended every session: log in again.
    for m in [&mut sender, &mut rep, &mut reader] {
        flows::login(&mut m.client, &m.key).await.expect("login");
    }
    let d = flows::forward(
        &rep.client,
        &rep.key,
        &committed.delivery_id,
        &[(reader.id(), vec![0])],
    )
    .await
    .expect("forward");
    let out = tempfile::tempdir().expect("tmp");
    flows::open(
        &reader.client,
        &reader.key,
        &d.deliveries[0].id,
        out.path(),
        None,
    )
    .await
    .expect("its body is all there");

    // 2. The moment a blob is most exposed: its upload finished writing (on S3, a completed
    //    multipart object whose LastModified is when the upload *began*), the commit not yet
    //    done. The record claims it: a pass hours later leaves it (and the pending record).
    let (hb, bodies) = encrypt(&sender, &to);
    let pending = create(&sender, &rep.id(), hb).await;
    let key = format!("body-inflight-{}", pending.upload_id);
    let t0 = st.now();
    st.store
        .renew_upload(&pending.upload_id, t0, t0 + 24 * HOUR, &key)
        .await
        .expect("PUT started");
    let data = Bytes::from(bodies);
    let n = data.len() as u64;
    st.blobs
        .put(
            &key,
            n,
            Box::pin(futures::stream::once(async move { Ok(data) })),
        )
        .await
        .expect("body written");
    let rec = st.store.upload(&pending.upload_id).await.expect("record");
    let r = run_once(&st, t0 + 3 * HOUR).await.expect("pass");
    assert_eq!(r.orphans, 0, "{r:?}");
    assert!(
        blob_exists(&st, &key).await,
        "an upload in progress was collected"
    );
    assert!(blob_exists(&st, &rec.record_key).await);

    // 3. Its record expires (the upload never commits): then, and only then, both go.
    let r = run_once(&st, t0 + 25 * HOUR).await.expect("pass");
    assert_eq!(r.orphans, 2, "{r:?}");
    assert!(!blob_exists(&st, &key).await && !blob_exists(&st, &rec.record_key).await);
    flows::login(&mut sender.client, &sender.key)
        .await
        .expect("login");
    let e = sender
        .client
        .upload_bodies(&pending.upload_id, vec![0u8; n as usize].into(), n)
        .await
        .expect_err("expired upload");
    assert_eq!(e.status(), Some(404), "{e}");

    // 4. An upload whose PUT never came expires an hour after its creation.
    let (hb, _) = encrypt(&sender, &to);
    let p = create(&sender, &rep.id(), hb).await;
    let rec = st.store.upload(&p.upload_id).await.expect("record");
    let left = |keys: Vec<(String, i64)>| keys.iter().any(|(k, _)| *k == rec.record_key);
    run_once(&st, st.now() + HOUR / 2).await.expect("pass");
    assert!(left(st.blobs.list().await.expect("list")), "alive");
    run_once(&st, st.now() + 2 * HOUR).await.expect("pass");
    assert!(!left(st.blobs.list().await.expect("list")), "expired");
    assert!(
        st.store.upload(&p.upload_id).await.is_err(),
        "record purged"
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upload_is_never_collected_before_it_commits_local_files() {
    slow_upload_survives_collection_and_expired_ones_do_not(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upload_is_never_collected_before_it_commits_s3() {
    let Ok(base) = std::env::var("SOSHIKI_TEST_S3_URL") else {
        assert!(
            std::env::var("SOSHIKI_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "SOSHIKI_TEST_S3_URL is not set but SOSHIKI_REQUIRE_SERVICES=1"
        );
        eprintln!("SKIPPED: SOSHIKI_TEST_S3_URL is not set");
        return;
    };
    // A fresh prefix: s3://bucket/prefix?…
    slow_upload_survives_collection_and_expired_ones_do_not(Some(url_with_prefix(&base))).await;
}

fn url_with_prefix(base: &str) -> String {
    let (head, query) = base.split_once('?').unwrap_or((base, ""));
    let prefix = format!("uploads{}{}", std::process::id(), now());
    let head = head.trim_end_matches('/');
    if query.is_empty() {
        format!("{head}/{prefix}")
    } else {
        format!("{head}/{prefix}?{query}")
    }
}
