//! Expiry, retention and orphan collection (run with a clock moved forward, not by waiting).
//! Orphans are decided from the upload records, never from a blob's age.

mod common;

use bytes::Bytes;
use common::*;
use soshiki_client::flows::{self, sign_action, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::{json::Policy, ActionSpec};
use soshiki_core::cert::Roles;
use soshiki_core::envelope::PartInfo;
use soshiki_core::suite::P256;
use soshiki_server::maintenance::{run_once, Report};

const DAY: i64 = 86_400;

async fn relogin(m: &mut Member<P256>) {
    flows::login(&mut m.client, &m.key).await.expect("login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_retention_and_orphans() {
    let ts = start().await;
    let url = ts.url();
    let st = ts.server.state.clone();
    let pref = create_org::<P256>(&url, "県").await;
    let mut city = create_org::<P256>(&url, "市").await;
    let mut sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let mut rep = enroll(&url, &city, "代表", Roles::REPRESENTATIVE).await;
    let mut reader = enroll(&url, &city, "担当", Roles::READER).await;
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");
    let send = |body: u8| {
        let parts = vec![OutgoingPart {
            info: PartInfo {
                name: "p".into(),
                labels: vec![],
            },
            data: PartData::Bytes(vec![body; 3000]),
        }];
        let (c, k, t) = (sender.client.clone(), &sender.key, to.clone());
        async move {
            flows::send(&c, k, &t, &SendOptions::default(), parts, None)
                .await
                .expect("send")
        }
    };
    let a = send(1).await;
    let b = send(2).await;
    let fa = flows::forward(
        &rep.client,
        &rep.key,
        &a.delivery_id,
        &[(reader.id(), vec![0])],
    )
    .await
    .expect("fwd");
    let fb = flows::forward(
        &rep.client,
        &rep.key,
        &b.delivery_id,
        &[(reader.id(), vec![0])],
    )
    .await
    .expect("fwd");
    let (da, db) = (fa.deliveries[0].id.clone(), fb.deliveries[0].id.clone());
    let out = tempfile::tempdir().expect("tmp");
    flows::open(&reader.client, &reader.key, &da, out.path(), None)
        .await
        .expect("open a");

    // Orphans: an upload whose bodies never came, and a blob no envelope references.
    let to2 = to.clone();
    let parts = vec![soshiki_core::envelope::PartSource {
        info: PartInfo::default(),
        len: 10,
        reader: Box::new(std::io::Cursor::new(vec![0u8; 10])),
    }];
    let sk = &sender.key;
    let s = soshiki_core::envelope::Sender {
        org: &sk.organization,
        cert: &sk.certificate,
        signing_key: &sk.signing,
    };
    let opts = soshiki_core::envelope::EncryptOptions {
        title: String::new(),
        category: String::new(),
        chunk_size: 1024,
        created: now(),
    };
    let mut file = Vec::new();
    let h = soshiki_core::envelope::encrypt(
        &s,
        &to2,
        &opts,
        parts,
        &mut file,
        &mut rand_core::OsRng,
        &mut |_| {},
    )
    .expect("enc");
    let hb = h.to_bytes();
    let spec = ActionSpec::send(&hex::encode(h.core.envelope_id), &rep.id(), &hb);
    let pending = sender
        .client
        .create_upload(hb, &sign_action(&sender.key, &spec))
        .await
        .expect("upload");
    let junk: soshiki_store::ByteStream = Box::pin(futures::stream::once(async {
        Ok(Bytes::from_static(b"junk"))
    }));
    st.blobs.put("body-orphan", 4, junk).await.expect("put");
    let blobs_before = st.blobs.list().await.expect("list").len();
    assert_eq!(
        blobs_before, 4,
        "two bodies, one pending upload, one orphan"
    );

    // A blob that no record claims is an orphan at once, whatever its age; the pending
    // upload's record claims its blob while it is alive.
    assert_eq!(
        run_once(&st, st.now()).await.expect("pass"),
        Report {
            expired_blobs: 0,
            orphans: 1,
            enrollments: 0,
        }
    );
    // Two hours later the upload that never started expired: its record goes, then its blob;
    // referenced bodies stay.
    let r = run_once(&st, st.now() + 2 * 3600).await.expect("pass");
    assert_eq!(
        r,
        Report {
            expired_blobs: 0,
            orphans: 1,
            enrollments: 0,
        }
    );
    let left: Vec<String> = st
        .blobs
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(left.len(), 2);
    assert!(
        left.iter()
            .all(|k| k.starts_with("body-") && k != "body-orphan"),
        "{left:?}"
    );
    for m in [&mut sender, &mut rep, &mut reader, &mut city.admin] {
        relogin(m).await;
    }
    let e = sender
        .client
        .upload_bodies(&pending.upload_id, vec![0u8; 26].into(), 26)
        .await
        .expect_err("collected");
    assert_eq!(e.status(), Some(404));

    // Expiry after one day, retention after three.
    let policy = |expiry_days, retention_days| Policy {
        expiry_days,
        retention_days,
        max_validity_days: None,
        quota_bytes: None,
        sender_role_required: false,
    };
    let org = flows::set_policy(
        &city.admin.client,
        &city.admin.key,
        &policy(Some(1), Some(3)),
    )
    .await
    .expect("policy");
    assert_eq!((org.expiry_days, org.retention_days), (Some(1), Some(3)));
    let e = flows::set_policy(&rep.client, &rep.key, &policy(Some(1), None))
        .await
        .expect_err("not admin");
    assert_eq!(e.status(), Some(403));

    let r = run_once(&st, st.now() + DAY + 3600).await.expect("pass");
    assert_eq!(
        r.expired_blobs, 1,
        "b: no delivery holds a capsule any more"
    );
    for m in [&mut sender, &mut rep, &mut reader] {
        relogin(m).await;
    }
    assert_eq!(
        reader.client.delivery(&db).await.expect("b").status,
        "expired"
    );
    let e = flows::open(&reader.client, &reader.key, &db, out.path(), None)
        .await
        .expect_err("expired");
    assert_eq!(e.status(), Some(410));
    let receipts = sender
        .client
        .receipts(&b.envelope_id)
        .await
        .expect("receipts");
    assert!(receipts.receipts.iter().any(|r| r.kind == "expired"));
    // The opened one is still there to read again.
    let mut sink = Vec::new();
    reader
        .client
        .download_envelope(&da, &mut sink, None)
        .await
        .expect("re-download a");
    assert!(!sink.is_empty());

    let r = run_once(&st, st.now() + 3 * DAY + 3600)
        .await
        .expect("pass");
    assert_eq!(r.expired_blobs, 1, "a: past retention");
    relogin(&mut reader).await;
    let mut sink = Vec::new();
    let e = reader
        .client
        .download_envelope(&da, &mut sink, None)
        .await
        .expect_err("removed");
    assert_eq!(e.status(), Some(410));
    assert!(st.blobs.list().await.expect("list").is_empty());
    let _ = &pref;
}
