//! Streaming: a multi-megabyte envelope from files goes up and comes down in chunks, with
//! progress reported, and decrypts to the same bytes.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::*;
use sha2::{Digest, Sha256};
use soshiki_client::flows::{self, OutgoingPart, PartData, SendOptions};
use soshiki_core::cert::Roles;
use soshiki_core::envelope::PartInfo;
use soshiki_core::suite::P256;

fn pseudo_random(len: usize, seed: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut block = Sha256::digest([seed]);
    while out.len() < len {
        out.extend_from_slice(&block);
        block = Sha256::digest(block);
    }
    out.truncate(len);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_envelope_streams_both_ways() {
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<P256>(&url, "県").await;
    let city = create_org::<P256>(&url, "市").await;
    let sender = enroll(&url, &pref, "送信者", Roles::READER).await;
    let rep = enroll(
        &url,
        &city,
        "代表",
        Roles::REPRESENTATIVE.union(Roles::READER),
    )
    .await;
    let src = tempfile::tempdir().expect("tmp");
    let sizes = [12 << 20, (5 << 20) + 12345];
    let mut digests = Vec::new();
    let mut parts = Vec::new();
    for (i, n) in sizes.iter().enumerate() {
        let data = pseudo_random(*n, i as u8);
        digests.push(Sha256::digest(&data).to_vec());
        let p = src.path().join(format!("part{i}.bin"));
        std::fs::write(&p, &data).expect("write");
        parts.push(OutgoingPart {
            info: PartInfo {
                name: format!("part{i}.bin"),
                labels: vec![],
            },
            data: PartData::File(p),
        });
    }
    let to = flows::certified_member(&sender.client, city.record(), &rep.id())
        .await
        .expect("rep");
    let sent = Arc::new(AtomicU64::new(0));
    let s2 = sent.clone();
    let opts = SendOptions {
        temp_dir: Some(src.path().to_path_buf()),
        ..SendOptions::default()
    };
    let committed = flows::send(
        &sender.client,
        &sender.key,
        &to,
        &opts,
        parts,
        Some(Arc::new(move |n| s2.store(n, Ordering::Relaxed))),
    )
    .await
    .expect("send");
    let total: u64 = sizes
        .iter()
        .map(|n| *n as u64 + 16 * (*n as u64).div_ceil(65536))
        .sum();
    assert_eq!(
        sent.load(Ordering::Relaxed),
        total,
        "progress reached the bodies' length"
    );
    let leftovers: Vec<_> = std::fs::read_dir(src.path()).expect("dir").collect();
    assert_eq!(leftovers.len(), 2, "the temporary envelope file is gone");

    // The representative here also reads: it downloads and decrypts everything.
    let out = tempfile::tempdir().expect("tmp");
    let got = Arc::new(AtomicU64::new(0));
    let g2 = got.clone();
    let opened = flows::open(
        &rep.client,
        &rep.key,
        &committed.delivery_id,
        out.path(),
        Some(Arc::new(move |n| g2.store(n, Ordering::Relaxed))),
    )
    .await
    .expect("open");
    assert!(got.load(Ordering::Relaxed) > total);
    assert_eq!(opened.parts.len(), 2);
    for p in &opened.parts {
        assert_eq!(
            Sha256::digest(read(&p.path)).to_vec(),
            digests[p.index as usize]
        );
        assert_eq!(p.len, sizes[p.index as usize] as u64);
    }
}
