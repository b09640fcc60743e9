//! The backup drill (issue 10): sends, forwards and recalls keep running while the embedded
//! store is backed up; the data directory is then wiped and restored, and
//! - the backup verifies on its own (digests, integrity, counts, bodies, audit chains);
//! - every delivery the backup holds opens byte for byte with its holder's key;
//! - nothing committed after the backup's point is half-present (an envelope is there with its
//!   body, or not at all), and one sent after the backup is absent;
//! - every organization's audit trail verifies from the restored server (signatures included);
//! - a backup whose body or database was altered, or that has no manifest, does not verify,
//!   and a restore refuses a data directory that already has a database.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use soshiki_client::flows::{self, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::json::EnvelopeCommitted;
use soshiki_core::cert::{Roles, VerifiedCertificate};
use soshiki_core::envelope::PartInfo;
use soshiki_core::suite::P256;
use soshiki_store::backup::{self, BackupError};
use soshiki_store::{DeliveryStatus, StoreError};

/// Every envelope sent: id -> its parts' plaintexts.
type Sent = Arc<Mutex<HashMap<String, Vec<Vec<u8>>>>>;

fn parts_of(tag: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut v = format!("{tag} part {i}: 架空 データ\n").into_bytes();
            v.resize(300_000 + i * 1000, b'0' + (i as u8 % 10));
            v
        })
        .collect()
}

async fn send(
    sender: &Member<P256>,
    to: &VerifiedCertificate<P256>,
    tag: &str,
    sent: &Sent,
) -> EnvelopeCommitted {
    let plain = parts_of(tag, 2);
    let parts = plain
        .iter()
        .enumerate()
        .map(|(i, p)| OutgoingPart {
            info: PartInfo {
                name: format!("{tag}-{i}.csv"),
                labels: vec![],
            },
            data: PartData::Bytes(p.clone()),
        })
        .collect();
    let c = flows::send(
        &sender.client,
        &sender.key,
        to,
        &SendOptions::default(),
        parts,
        None,
    )
    .await
    .expect("send");
    sent.lock()
        .expect("sent")
        .insert(c.envelope_id.clone(), plain);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_running_then_wipe_and_restore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = soshiki_server::start(config(&data)).await.expect("start");
    let url = server.url().to_string();
    let st = server.state.clone();
    let pref = create_org::<P256>(&url, "長野県").await;
    let city = create_org::<P256>(&url, "大町市").await;
    let sender = enroll(&url, &pref, "送付担当", Roles::READER.union(Roles::SENDER)).await;
    let rep = enroll(
        &url,
        &city,
        "代表",
        Roles::REPRESENTATIVE
            .union(Roles::FORWARDER)
            .union(Roles::READER),
    )
    .await;
    let officer = enroll(&url, &city, "担当", Roles::READER).await;
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");
    let sent: Sent = Arc::default();

    // Before the backup: sends, a forward, an open, a recall of a wrongly forwarded part.
    for i in 0..3 {
        let c = send(&sender, &to, &format!("before-{i}"), &sent).await;
        let f = flows::forward(
            &rep.client,
            &rep.key,
            &c.delivery_id,
            &[(officer.id(), vec![0])],
        )
        .await
        .expect("forward");
        if i == 1 {
            flows::recall(&rep.client, &rep.key, &f.deliveries[0].id)
                .await
                .expect("recall");
        }
        if i == 2 {
            let out = tempfile::tempdir().expect("out");
            flows::open(
                &officer.client,
                &officer.key,
                &f.deliveries[0].id,
                out.path(),
                None,
            )
            .await
            .expect("open");
        }
    }

    // The load: sends, forwards and recalls until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let load = {
        let (stop, done, sent, to) = (stop.clone(), done.clone(), sent.clone(), to.clone());
        let (sender, rep, officer_id) = (
            Member {
                key: flows_copy(&sender.key),
                client: sender.client.clone(),
            },
            Member {
                key: flows_copy(&rep.key),
                client: rep.client.clone(),
            },
            officer.id(),
        );
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let c = send(&sender, &to, &format!("during-{i}"), &sent).await;
                let f = flows::forward(
                    &rep.client,
                    &rep.key,
                    &c.delivery_id,
                    &[(officer_id.clone(), vec![1])],
                )
                .await
                .expect("forward during the backup");
                if i % 2 == 0 {
                    flows::recall(&rep.client, &rep.key, &f.deliveries[0].id)
                        .await
                        .expect("recall during the backup");
                }
                done.fetch_add(1, Ordering::SeqCst);
                i += 1;
            }
        })
    };
    // Let the load start, back up while it runs, let it run on, stop it.
    while done.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let at_start = done.load(Ordering::SeqCst);
    let bk = dir.path().join("backup");
    let db_url = format!("sqlite://{}", data.join("soshiki.sqlite").display());
    let manifest = backup::backup(&db_url, &*st.blobs, &bk, st.now())
        .await
        .expect("backup while the server runs");
    let at_end = done.load(Ordering::SeqCst);
    while done.load(Ordering::SeqCst) < at_end + 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    load.await.expect("the load ran without an error");
    eprintln!(
        "drill: {} load rounds before the backup, {} while it ran, {} envelopes in it",
        at_start,
        at_end - at_start,
        manifest.counts.envelopes
    );
    // One more envelope, surely after the backup's point.
    let after = send(&sender, &to, "after", &sent).await;
    assert_eq!(backup::verify(&bk).await.expect("verifies"), manifest);
    server.shutdown().await.expect("shutdown");

    // Wipe; a restore into a directory that has a database is refused first.
    let occupied = backup::restore(&bk, &db_url, &*st.blobs).await;
    assert!(
        matches!(occupied, Err(BackupError::TargetExists(_))),
        "{occupied:?}"
    );
    std::fs::remove_dir_all(&data).expect("wipe");
    let blobs = soshiki_store::open_blobs(&data.join("blobs").display().to_string())
        .await
        .expect("blobs");
    backup::restore(&bk, &db_url, &*blobs)
        .await
        .expect("restore");
    drop(blobs);
    let server = soshiki_server::start(config(&data)).await.expect("restart");
    let st = server.state.clone();
    let fresh = |m: &Member<P256>| Member {
        key: flows_copy(&m.key),
        client: soshiki_client::Client::new(
            server.url(),
            &soshiki_client::ClientOptions::default(),
        )
        .expect("client"),
    };
    let mut officer = fresh(&officer);
    let mut rep = fresh(&rep);
    flows::login(&mut officer.client, &officer.key)
        .await
        .expect("login");
    flows::login(&mut rep.client, &rep.key)
        .await
        .expect("login");

    // Every envelope the backup holds: its body is there, and every live delivery opens
    // byte for byte; the one sent after the backup is absent.
    let envelopes = sent.lock().expect("sent").clone();
    let mut present = 0;
    let mut opened = 0;
    for (id, plain) in &envelopes {
        match st.store.envelope(id).await {
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => panic!("{id}: {e}"),
            Ok(env) => {
                present += 1;
                assert!(
                    manifest.blobs.contains_key(&env.blob_key),
                    "{id}: its body is in the backup"
                );
            }
        }
        for d in st.store.deliveries_of(id).await.expect("deliveries") {
            if !matches!(d.status, DeliveryStatus::Delivered | DeliveryStatus::Opened) {
                continue;
            }
            let holder = if d.holder_cert == officer.id() {
                &officer
            } else if d.holder_cert == rep.id() {
                &rep
            } else {
                panic!("unknown holder {}", d.holder_cert)
            };
            let out = tempfile::tempdir().expect("out");
            let o = flows::open(&holder.client, &holder.key, &d.id, out.path(), None)
                .await
                .unwrap_or_else(|e| panic!("delivery {} of {id} opens after restore: {e}", d.id));
            for p in &o.parts {
                assert_eq!(
                    read(&p.path),
                    plain[p.index as usize],
                    "{id} part {}",
                    p.index
                );
            }
            opened += 1;
        }
    }
    assert_eq!(
        present as u64, manifest.counts.envelopes,
        "none half-present"
    );
    assert!(opened >= 3, "{opened}");
    assert!(matches!(
        st.store.envelope(&after.envelope_id).await,
        Err(StoreError::NotFound(_))
    ));

    // Every organization's trail verifies from the restored server.
    for org in [&pref, &city] {
        let mut admin = fresh(&org.admin);
        flows::login(&mut admin.client, &admin.key)
            .await
            .expect("admin login");
        let report = flows::audit(&admin.client, org.record(), None, None, &|_| true)
            .await
            .expect("the audit trail verifies after restore");
        assert!(!report.entries.is_empty());
    }
    server.shutdown().await.expect("shutdown");

    // Tampered backups do not verify.
    let blob = manifest.blobs.keys().next().expect("a body").clone();
    let path = bk.join("blobs").join(&blob);
    let mut bytes = std::fs::read(&path).expect("blob");
    bytes[100] ^= 1;
    std::fs::write(&path, &bytes).expect("tamper");
    let e = backup::verify(&bk).await.expect_err("altered body");
    assert!(e.to_string().contains(&blob), "{e}");
    bytes[100] ^= 1;
    std::fs::write(&path, &bytes).expect("untamper");
    backup::verify(&bk).await.expect("verifies again");
    std::fs::remove_file(bk.join(backup::MANIFEST)).expect("rm");
    let e = backup::verify(&bk).await.expect_err("no manifest");
    assert!(e.to_string().contains("manifest"), "{e}");
}

/// A copy of a member key (the flows take references; the load task owns its own).
fn flows_copy(
    k: &soshiki_core::keyfile::MemberKey<P256>,
) -> soshiki_core::keyfile::MemberKey<P256> {
    let file = k
        .to_key_file(
            PASS,
            soshiki_core::keyfile::KdfParams::MINIMUM,
            &mut rand_core::OsRng,
        )
        .expect("key file");
    soshiki_core::keyfile::MemberKey::from_key_file(&file, PASS).expect("reopen")
}
