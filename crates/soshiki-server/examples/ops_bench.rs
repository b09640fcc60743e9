//! Operations figures (issue 10); a benchmark, not a test.
//!
//! ```text
//! cargo run --release -p soshiki-server --example ops_bench -- seed-bodies DIR [--mib 1024]
//! cargo run --release -p soshiki-server --example ops_bench -- seed-deliveries DIR [--count 100000]
//! cargo run --release -p soshiki-server --example ops_bench -- forwards-during-backup [--mib 1024] [--runs 3]
//! ```
//!
//! - `seed-bodies`: a data directory whose bodies total `--mib` MiB (16 MiB envelopes sent
//!   through the real protocol), for timing `soshiki backup --to` against `cp -r` of the same
//!   directory with farm-bench.
//! - `seed-deliveries`: a data directory with `--count` deliveries (one real envelope, then its
//!   rows repeated under new ids in one SQL transaction), for timing the cold start of
//!   `soshiki serve` against an empty directory with farm-bench.
//! - `forwards-during-backup`: an in-process server with `--mib` MiB of bodies and small
//!   envelopes to forward; forwards per second by 4 concurrent forwarders without a backup, then
//!   while `soshiki_store::backup::backup` runs, in turns; prints both rates, their ratio, and
//!   the backup's MiB/s. The last line is one JSON object.

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore};
use soshiki_client::flows::{self, OutgoingPart, PartData, SendOptions};
use soshiki_core::cert::Roles;
use soshiki_core::envelope::PartInfo;
use soshiki_server::ServeConfig;
use support::{id, member, org, Member, R};

const MIB: usize = 1 << 20;
/// At most this many forwards while a backup runs (the pending envelopes are sent beforehand).
const DURING_MAX: u64 = 4000;

async fn start(dir: &Path) -> R<soshiki_server::RunningServer> {
    let mut cfg = ServeConfig::with_data_dir(dir)?;
    cfg.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    cfg.limits.rate_limit.per_minute = 0;
    Ok(soshiki_server::start(cfg).await?)
}

struct World {
    sender: Member,
    rep: Member,
    readers: Vec<String>,
    to: soshiki_core::cert::VerifiedCertificate<support::S>,
}

async fn world(url: &str, readers: usize) -> R<World> {
    let pref = org(url, "架空県").await?;
    let city = org(url, "架空市").await?;
    let sender = member(url, &pref, "送付担当", Roles::READER.union(Roles::SENDER)).await?;
    let rep = member(
        url,
        &city,
        "受付",
        Roles::REPRESENTATIVE.union(Roles::FORWARDER),
    )
    .await?;
    let mut ids = Vec::new();
    for i in 0..readers {
        ids.push(id(&member(url, &city, &format!("担当{i}"), Roles::READER)
            .await?
            .key));
    }
    let to = flows::certified_member(&sender.client, city.0.organization(), &id(&rep.key)).await?;
    Ok(World {
        sender,
        rep,
        readers: ids,
        to,
    })
}

async fn send(w: &World, len: usize, parts: usize) -> R<String> {
    let parts = (0..parts)
        .map(|i| {
            let mut data = vec![0u8; len];
            OsRng.fill_bytes(&mut data);
            OutgoingPart {
                info: PartInfo {
                    name: format!("p{i}.bin"),
                    labels: vec![],
                },
                data: PartData::Bytes(data),
            }
        })
        .collect();
    Ok(flows::send(
        &w.sender.client,
        &w.sender.key,
        &w.to,
        &SendOptions::default(),
        parts,
        None,
    )
    .await?
    .delivery_id)
}

async fn seed_bodies(w: &World, mib: usize) -> R<()> {
    let envelopes = mib.div_ceil(16);
    for _ in 0..envelopes {
        send(w, 16 * MIB, 1).await?;
    }
    Ok(())
}

fn arg(name: &str, default: usize) -> usize {
    let a: Vec<String> = std::env::args().collect();
    a.iter()
        .position(|x| x == name)
        .and_then(|i| a.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> R<()> {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("seed-bodies") => {
            let dir = PathBuf::from(a.get(2).ok_or("DIR")?);
            let server = start(&dir).await?;
            let w = world(server.url(), 1).await?;
            let t = Instant::now();
            seed_bodies(&w, arg("--mib", 1024)).await?;
            server.shutdown().await?;
            println!(
                "seeded {} MiB of bodies in {} in {:.1} s",
                arg("--mib", 1024),
                dir.display(),
                t.elapsed().as_secs_f64()
            );
        }
        Some("seed-deliveries") => {
            let dir = PathBuf::from(a.get(2).ok_or("DIR")?);
            let count = arg("--count", 100_000);
            let server = start(&dir).await?;
            let w = world(server.url(), 1).await?;
            let first = send(&w, 1024, 1).await?;
            let env = server.state.store.delivery(&first).await?.envelope_id;
            server.shutdown().await?;
            repeat_rows(&dir.join("soshiki.sqlite"), &env, &first, count - 1).await?;
            println!("{count} deliveries in {}", dir.display());
        }
        Some("forwards-during-backup") => {
            forwards_during_backup(arg("--mib", 1024), arg("--runs", 3)).await?
        }
        _ => {
            return Err(
                "usage: ops_bench seed-bodies DIR | seed-deliveries DIR | forwards-during-backup"
                    .into(),
            )
        }
    }
    Ok(())
}

/// Repeat one envelope's row and its delivery's row `n` times under new ids, in one
/// transaction (the server is stopped).
async fn repeat_rows(db: &Path, envelope: &str, delivery: &str, n: usize) -> R<()> {
    use sqlx::{ConnectOptions, Connection};
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await?;
    let mut tx = c.begin().await?;
    sqlx::query(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1) \
         INSERT INTO envelopes (id, suite, sender_cert, sender_org, recipient_org, blob_key, bodies_len, created, body_removed) \
         SELECT id || '-' || i, suite, sender_cert, sender_org, recipient_org, blob_key, bodies_len, created + i, body_removed \
         FROM envelopes, k WHERE id = ?2",
    )
    .bind(n as i64)
    .bind(envelope)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1) \
         INSERT INTO deliveries (id, envelope_id, holder_cert, holder_org, parent, created_by, header, parts, status, created, updated) \
         SELECT id || '-' || i, envelope_id || '-' || i, holder_cert, holder_org, parent, created_by, header, parts, status, created + i, updated + i \
         FROM deliveries, k WHERE id = ?2",
    )
    .bind(n as i64)
    .bind(delivery)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    c.close().await?;
    Ok(())
}

/// Forwards per second by 4 forwarder tasks until `stop` (or `count` forwards).
async fn forward_rate(
    w: &Arc<World>,
    pending: &Arc<std::sync::Mutex<Vec<String>>>,
    stop: &Arc<AtomicBool>,
    count: u64,
) -> R<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (w, pending, stop, done) = (w.clone(), pending.clone(), stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) && done.load(Ordering::Relaxed) < count {
                let Some(d) = pending.lock().expect("pending").pop() else {
                    break;
                };
                let to = w.readers[(OsRng.next_u32() as usize) % w.readers.len()].clone();
                flows::forward(&w.rep.client, &w.rep.key, &d, &[(to, vec![0])])
                    .await
                    .expect("forward");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64())
}

async fn forwards_during_backup(mib: usize, runs: usize) -> R<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let server = start(&data).await?;
    let w = Arc::new(world(server.url(), 8).await?);
    seed_bodies(&w, mib).await?;
    let mut pending = Vec::new();
    // Each run: 300 forwards without a backup, then as many as the backup lasts (bounded).
    for _ in 0..(runs * (300 + DURING_MAX as usize)) {
        pending.push(send(&w, 512, 1).await?);
    }
    let pending = Arc::new(std::sync::Mutex::new(pending));
    let db_url = format!("sqlite://{}", data.join("soshiki.sqlite").display());
    let mut rows = Vec::new();
    for run in 0..runs {
        // Without a backup: a fixed number of forwards.
        let quiet = forward_rate(&w, &pending, &Arc::new(AtomicBool::new(false)), 300).await?;
        // During a backup: forwards until it finishes.
        let stop = Arc::new(AtomicBool::new(false));
        let dest = tmp.path().join(format!("backup-{run}"));
        let st = server.state.clone();
        let (db, s2) = (db_url.clone(), stop.clone());
        let backup = tokio::spawn(async move {
            let t = Instant::now();
            let m = soshiki_store::backup::backup(&db, &*st.blobs, &dest, 0).await;
            s2.store(true, Ordering::Relaxed);
            let _ = std::fs::remove_dir_all(&dest);
            m.map(|m| (m, t.elapsed()))
        });
        let busy = forward_rate(&w, &pending, &stop, DURING_MAX).await?;
        let (m, took) = backup.await??;
        let bytes = m.database.bytes + m.blobs.values().map(|b| b.bytes).sum::<u64>();
        let mibs = bytes as f64 / MIB as f64 / took.as_secs_f64();
        println!(
            "run {run}: forwards/s without a backup {quiet:.1}, during it {busy:.1} (ratio {:.2}); backup {:.0} MiB in {:.1} s = {mibs:.1} MiB/s",
            busy / quiet,
            bytes as f64 / MIB as f64,
            took.as_secs_f64()
        );
        rows.push(serde_json::json!({"quiet": quiet, "during": busy, "ratio": busy / quiet, "backup_mib_s": mibs}));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.shutdown().await?;
    println!("{}", serde_json::json!({"mib": mib, "runs": rows}));
    Ok(())
}
