//! Soak run (issue 10); a load script, not a test of speed.
//!
//! ```text
//! cargo run -p soshiki-server --example soak -- --bin target/debug/soshiki \
//!     [--seconds 600] [--members 50] [--max-ops 200000] [--postgres URL --s3 URL]
//! ```
//!
//! Starts `soshiki serve` processes on 127.0.0.1 only (one on SQLite and files; or, with
//! `--postgres` and `--s3`, two processes sharing a fresh PostgreSQL schema and a fresh bucket
//! prefix, requests alternating between them as a load balancer would), enrolls two
//! organizations through the real protocol, then runs `--members` concurrent members for
//! `--seconds` (stopping earlier after `--max-ops` operations): senders send two-part
//! envelopes, representatives forward the parts to readers and sometimes recall one, readers
//! open what they received. It reports every unexpected error (the target is 0; a recall that
//! loses the race against the reader's download, 409, is expected and counted apart), p50 and
//! p99 latency per operation, and each server's RSS after setup and at the end. Exits non-zero
//! if there was an error. The last line is one JSON object.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore};

#[path = "support/mod.rs"]
mod support;
use soshiki_client::flows::{self, OutgoingPart, PartData, SendOptions};
use soshiki_client::ClientError;
use soshiki_core::cert::{Roles, VerifiedCertificate};
use soshiki_core::envelope::PartInfo;
use support::S;
use support::{id, member, org};
type R<T> = support::R<T>;

struct Args {
    bin: PathBuf,
    seconds: u64,
    members: usize,
    max_ops: u64,
    postgres: Option<String>,
    s3: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        bin: PathBuf::from("target/debug/soshiki"),
        seconds: 600,
        members: 50,
        max_ops: 200_000,
        postgres: None,
        s3: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--bin" => a.bin = v().into(),
            "--seconds" => a.seconds = v().parse().expect("seconds"),
            "--members" => a.members = v().parse().expect("members"),
            "--max-ops" => a.max_ops = v().parse().expect("max ops"),
            "--postgres" => a.postgres = Some(v()),
            "--s3" => a.s3 = Some(v()),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(a.members >= 3, "--members: at least 3");
    a
}

/// A server process; killed when dropped.
struct Proc {
    child: Child,
    url: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

async fn spawn(bin: &PathBuf, data: &std::path::Path, extra: &[String]) -> R<Proc> {
    let port = free_port();
    let child = Command::new(bin)
        .args([
            "--lang",
            "en",
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--data")
        .arg(data)
        // A soak is many logins from one address: no rate limit (loopback only).
        .args(["--rate-limit", "0", "--log-filter", "warn"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = http.get(format!("{url}/readyz")).send().await {
            if r.status().is_success() {
                return Ok(Proc { child, url });
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the server did not become ready".into())
}

/// Latencies per operation, unexpected errors, expected refusals.
#[derive(Default)]
struct Tally {
    latency: Mutex<BTreeMap<&'static str, Vec<f64>>>,
    errors: Mutex<Vec<String>>,
    expected: AtomicU64,
    ops: AtomicU64,
}

impl Tally {
    fn record(&self, op: &'static str, started: Instant) {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        self.latency
            .lock()
            .expect("tally")
            .entry(op)
            .or_default()
            .push(ms);
        self.ops.fetch_add(1, Ordering::Relaxed);
    }
    fn error(&self, op: &str, e: &dyn std::fmt::Display) {
        let mut v = self.errors.lock().expect("tally");
        if v.len() < 20 {
            v.push(format!("{op}: {e}"));
        } else {
            v.push(String::new());
        }
    }
}

fn rand_below(n: usize) -> usize {
    (OsRng.next_u64() % n as u64) as usize
}

fn parts() -> Vec<OutgoingPart> {
    (0..2)
        .map(|i| {
            let len = 1024 + rand_below(63 * 1024);
            let mut data = vec![0u8; len];
            OsRng.fill_bytes(&mut data);
            OutgoingPart {
                info: PartInfo {
                    name: format!("soak-{i}.bin"),
                    labels: vec![],
                },
                data: PartData::Bytes(data),
            }
        })
        .collect()
}

/// A 409 recall (the reader downloaded first) or a part already forwarded: a race the
/// protocol settles, not an error.
fn expected_race(e: &ClientError) -> bool {
    matches!(e, ClientError::Api { status: 409, .. })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> R<()> {
    let a = args();
    let tmp = tempfile::tempdir()?;
    let mut servers = Vec::new();
    let mut schema = None;
    match (&a.postgres, &a.s3) {
        (Some(pg), Some(s3)) => {
            let name = format!("soak_{}_{}", std::process::id(), OsRng.next_u32());
            let pool = sqlx::PgPool::connect(pg).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
                .execute(&pool)
                .await?;
            pool.close().await;
            let sep = if pg.contains('?') { '&' } else { '?' };
            let db = format!("{pg}{sep}options[search_path]={name}");
            let (bucket, query) = s3.split_once('?').unwrap_or((s3.as_str(), ""));
            let blobs = format!(
                "{}/{}?{query}",
                bucket.trim_end_matches('/'),
                name.replace('_', "-")
            );
            let extra = vec!["--database".to_string(), db, "--blobs".to_string(), blobs];
            servers.push(spawn(&a.bin, &tmp.path().join("p1"), &extra).await?);
            servers.push(spawn(&a.bin, &tmp.path().join("p2"), &extra).await?);
            schema = Some(name);
        }
        (None, None) => servers.push(spawn(&a.bin, &tmp.path().join("data"), &[]).await?),
        _ => return Err("--postgres and --s3 go together".into()),
    }
    let backend = if schema.is_some() {
        "postgres+s3, 2 processes"
    } else {
        "sqlite+files"
    };
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let url_of = |i: usize| urls[i % urls.len()].clone();

    // Setup: the prefecture's senders, the city's representatives and readers.
    let senders_n = (a.members / 5).max(1);
    let reps_n = (a.members / 5).max(1);
    let readers_n = a.members - senders_n - reps_n;
    let pref = org(&url_of(0), "架空県").await?;
    let city = org(&url_of(1), "架空市").await?;
    let mut senders = Vec::new();
    let mut reps = Vec::new();
    let mut readers = Vec::new();
    for i in 0..senders_n {
        senders.push(
            member(
                &url_of(i),
                &pref,
                &format!("送付担当{i}"),
                Roles::READER.union(Roles::SENDER),
            )
            .await?,
        );
    }
    for i in 0..reps_n {
        reps.push(
            member(
                &url_of(i + 1),
                &city,
                &format!("受付{i}"),
                Roles::REPRESENTATIVE.union(Roles::FORWARDER),
            )
            .await?,
        );
    }
    for i in 0..readers_n {
        readers.push(member(&url_of(i), &city, &format!("担当{i}"), Roles::READER).await?);
    }
    let mut rep_certs: Vec<VerifiedCertificate<S>> = Vec::new();
    for r in &reps {
        rep_certs.push(
            flows::certified_member(&senders[0].client, city.0.organization(), &id(&r.key)).await?,
        );
    }
    let reader_ids: Arc<Vec<String>> = Arc::new(readers.iter().map(|m| id(&m.key)).collect());
    let rss_start: Vec<u64> = servers.iter().map(Proc::rss_kib).collect();
    eprintln!(
        "soak: {backend}: {senders_n} senders, {reps_n} representatives, {readers_n} readers for {} s",
        a.seconds
    );

    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let max_ops = a.max_ops;
    let running = {
        let (stop, tally) = (stop.clone(), tally.clone());
        move || {
            !stop.load(Ordering::Relaxed)
                && Instant::now() < deadline
                && tally.ops.load(Ordering::Relaxed) < max_ops
        }
    };
    let mut tasks = Vec::new();
    let rep_certs = Arc::new(rep_certs);
    for m in senders {
        let (tally, running, rep_certs) = (tally.clone(), running.clone(), rep_certs.clone());
        tasks.push(tokio::spawn(async move {
            while running() {
                let to = &rep_certs[rand_below(rep_certs.len())];
                let t = Instant::now();
                match flows::send(
                    &m.client,
                    &m.key,
                    to,
                    &SendOptions::default(),
                    parts(),
                    None,
                )
                .await
                {
                    Ok(_) => tally.record("send", t),
                    Err(e) => tally.error("send", &e),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }));
    }
    for m in reps {
        let (tally, running, reader_ids) = (tally.clone(), running.clone(), reader_ids.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine: Vec<String> = Vec::new();
            while running() {
                let t = Instant::now();
                let inbox = match m.client.inbox(Some("delivered")).await {
                    Ok(i) => {
                        tally.record("inbox", t);
                        i
                    }
                    Err(e) => {
                        tally.error("inbox", &e);
                        continue;
                    }
                };
                for d in inbox
                    .iter()
                    .filter(|d| !d.forwardable_parts.is_empty())
                    .take(4)
                {
                    let plan: Vec<(String, Vec<u32>)> = d
                        .forwardable_parts
                        .iter()
                        .map(|p| (reader_ids[rand_below(reader_ids.len())].clone(), vec![*p]))
                        .collect();
                    let t = Instant::now();
                    match flows::forward(&m.client, &m.key, &d.id, &plan).await {
                        Ok(f) => {
                            tally.record("forward", t);
                            mine.extend(f.deliveries.into_iter().map(|x| x.id));
                        }
                        Err(e) if expected_race(&e) => {
                            tally.expected.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => tally.error("forward", &e),
                    }
                    if !mine.is_empty() && rand_below(5) == 0 {
                        let victim = mine.swap_remove(rand_below(mine.len()));
                        let t = Instant::now();
                        match flows::recall(&m.client, &m.key, &victim).await {
                            Ok(_) => tally.record("recall", t),
                            Err(e) if expected_race(&e) => {
                                tally.expected.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => tally.error("recall", &e),
                        }
                    }
                }
                if mine.len() > 200 {
                    mine.drain(..100);
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }));
    }
    for m in readers {
        let (tally, running) = (tally.clone(), running.clone());
        tasks.push(tokio::spawn(async move {
            let out = tempfile::tempdir().expect("out");
            while running() {
                let inbox = match m.client.inbox(Some("delivered")).await {
                    Ok(i) => i,
                    Err(e) => {
                        tally.error("inbox", &e);
                        continue;
                    }
                };
                for d in inbox.iter().take(2) {
                    let dir = out.path().join(&d.id);
                    if let Err(e) = std::fs::create_dir_all(&dir) {
                        tally.error("open", &e);
                        continue;
                    }
                    let t = Instant::now();
                    match flows::open(&m.client, &m.key, &d.id, &dir, None).await {
                        Ok(_) => tally.record("open", t),
                        // Recalled between the listing and the download: settled by the server.
                        Err(ClientError::Api {
                            status: 404 | 409 | 410,
                            ..
                        }) => {
                            tally.expected.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => tally.error("open", &e),
                    }
                    let _ = std::fs::remove_dir_all(&dir);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    stop.store(true, Ordering::Relaxed);
    let rss_end: Vec<u64> = servers.iter().map(Proc::rss_kib).collect();

    let lat = tally.latency.lock().expect("tally").clone();
    let errors = tally.errors.lock().expect("tally").clone();
    let mut report = serde_json::Map::new();
    println!(
        "soak {backend}: {} operations, {} unexpected errors, {} expected races",
        tally.ops.load(Ordering::Relaxed),
        errors.len(),
        tally.expected.load(Ordering::Relaxed)
    );
    for (op, v) in lat.iter() {
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
        println!(
            "  {op:8} n={:6}  p50 {:8.1} ms  p99 {:8.1} ms",
            v.len(),
            q(0.5),
            q(0.99)
        );
        report.insert(
            op.to_string(),
            serde_json::json!({"n": v.len(), "p50_ms": q(0.5), "p99_ms": q(0.99)}),
        );
    }
    for (i, (s, e)) in rss_start.iter().zip(&rss_end).enumerate() {
        println!(
            "  server {i}: RSS {:.1} MiB after setup, {:.1} MiB at the end",
            *s as f64 / 1024.0,
            *e as f64 / 1024.0
        );
    }
    for e in errors.iter().filter(|e| !e.is_empty()) {
        println!("  error: {e}");
    }
    let summary = serde_json::json!({
        "backend": backend, "seconds": a.seconds, "members": a.members,
        "operations": tally.ops.load(Ordering::Relaxed), "errors": errors.len(),
        "expected_races": tally.expected.load(Ordering::Relaxed),
        "latency": report, "rss_start_kib": rss_start, "rss_end_kib": rss_end,
    });
    println!("{summary}");
    let failed = !errors.is_empty();
    drop(servers);
    if let (Some(pg), Some(name)) = (&a.postgres, schema) {
        if let Ok(pool) = sqlx::PgPool::connect(pg).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE")))
                .execute(&pool)
                .await;
            pool.close().await;
        }
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}
