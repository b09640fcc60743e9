//! Management-server benchmark (issue 3, "Benchmarks"); not a test.
//!
//! ```text
//! cargo run --release -p soshiki-server --example server_bench -- [--quick] [--postgres URL] [--forwards-only]
//! ```
//!
//! Starts the server in-process on 127.0.0.1 (SQLite and local blobs in a temporary directory;
//! with `--postgres URL` or `SOSHIKI_TEST_POSTGRES_URL`, a second run on PostgreSQL), enrolls
//! two organizations through the real protocol (a sender; a representative and N readers),
//! pre-sends small one-part envelopes to the representative, then times end-to-end forwards over
//! HTTP with C = 1, 4, 16 concurrent forwarder tasks: each forward is the full client step
//! (`flows::forward`: fetch the forwarding request, verify, make hops, post the response; the
//! server verifies and commits). Then it times the upload of a 1 GiB envelope (encrypted to a
//! temporary file first, untimed) against writing 1 GiB to a file with fsync, and reports the
//! process's peak RSS (VmHWM). The last line printed is one JSON object.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore};
use soshiki_client::flows::{self, EnrollmentOutcome, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::ActionSpec;
use soshiki_client::{Client, ClientOptions};
use soshiki_core::cert::{OrganizationKey, Roles, VerifiedCertificate};
use soshiki_core::envelope::{self, EncryptOptions, PartInfo, PartSource, Sender, PREFIX_LEN};
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::suite::P256;
use soshiki_core::wire::limits;
use soshiki_server::ServeConfig;

type S = P256;
type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const LEVELS: [usize; 3] = [1, 4, 16];
const GIB: u64 = 1 << 30;

fn err(text: impl std::fmt::Display) -> Box<dyn std::error::Error + Send + Sync> {
    text.to_string().into()
}

/// `VmHWM` of this process, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

struct Setup {
    sender: Client,
    sender_key: MemberKey<S>,
    rep: Client,
    rep_key: Arc<MemberKey<S>>,
    rep_cert: VerifiedCertificate<S>,
    readers: Vec<String>,
}

async fn org(url: &str, name: &str) -> BenchResult<(OrganizationKey<S>, Client, MemberKey<S>)> {
    let t = flows::unix_now();
    let key = OrganizationKey::<S>::generate(name, t.saturating_sub(3600), &mut OsRng)
        .map_err(|e| err(format!("organization key: {e}")))?;
    let mut client = Client::new(url, &ClientOptions::default())?;
    flows::register_organization(&client, key.organization()).await?;
    let admin = flows::certify_new_member(
        &key,
        &format!("{name} admin"),
        Roles::ADMIN,
        t.saturating_sub(3600),
        t + 86400,
    )?;
    flows::register_first_admin(&client, &admin).await?;
    flows::login(&mut client, &admin).await?;
    flows::publish_revocations(
        &client,
        &admin,
        &key,
        &[],
        soshiki_client::trust::DEFAULT_REVOCATION_VALIDITY,
    )
    .await?;
    Ok((key, client, admin))
}

async fn member(
    url: &str,
    org_key: &OrganizationKey<S>,
    admin: &(Client, MemberKey<S>),
    name: &str,
    roles: Roles,
) -> BenchResult<(Client, MemberKey<S>)> {
    let t = flows::unix_now();
    let mut pass = [0u8; 16];
    OsRng.fill_bytes(&mut pass);
    let mut client = Client::new(url, &ClientOptions::default())?;
    let record = org_key.organization().clone();
    let ticket = flows::enroll(
        &client,
        &record,
        name,
        roles,
        t.saturating_sub(3600),
        t + 86400,
        &pass,
        KdfParams::MINIMUM,
    )
    .await?;
    flows::approve_enrollment(&admin.0, &admin.1, org_key, &ticket.id, &ticket.code).await?;
    let key = match flows::finish_enrollment(
        &client,
        &ticket.id,
        &record,
        &ticket.pending_key_file,
        &pass,
    )
    .await?
    {
        EnrollmentOutcome::Approved(k) => *k,
        _ => return Err(err(format!("enrollment of {name} not approved"))),
    };
    flows::login(&mut client, &key).await?;
    Ok((client, key))
}

async fn setup(url: &str, n_readers: usize) -> BenchResult<Setup> {
    let tag = hex::encode(OsRng.next_u64().to_be_bytes());
    let (_a_key, a_client, a_admin) = org(url, &format!("Sender org {tag}")).await?;
    let (b_key, b_client, b_admin) = org(url, &format!("Receiver org {tag}")).await?;
    let b_admin = (b_client, b_admin);
    let (rep, rep_key) = member(
        url,
        &b_key,
        &b_admin,
        "Representative",
        Roles::REPRESENTATIVE.union(Roles::FORWARDER),
    )
    .await?;
    let mut readers = Vec::with_capacity(n_readers);
    for i in 0..n_readers {
        let (_, k) = member(
            url,
            &b_key,
            &b_admin,
            &format!("Reader {i}"),
            Roles::READER.union(Roles::FORWARDER),
        )
        .await?;
        readers.push(k.certificate.fingerprint().to_hex());
    }
    let fp = b_key.organization().fingerprint().to_hex();
    let b_org = flows::fetch_organization::<S>(&a_client, &fp).await?;
    let rep_cert = flows::representative(&a_client, &b_org).await?;
    Ok(Setup {
        sender: a_client,
        sender_key: a_admin,
        rep,
        rep_key: Arc::new(rep_key),
        rep_cert,
        readers,
    })
}

/// Send `m` small one-part envelopes to the representative, 4 at a time; the delivery ids.
async fn presend(s: &Setup, m: usize) -> BenchResult<Vec<String>> {
    let next = Arc::new(AtomicUsize::new(0));
    let key = Arc::new(flows::copy_member_key(&s.sender_key)?);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let next = next.clone();
        let key = key.clone();
        let client = s.sender.clone();
        let to = s.rep_cert.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < m {
                let mut body = vec![0u8; 256];
                OsRng.fill_bytes(&mut body);
                let part = OutgoingPart {
                    info: PartInfo {
                        name: "part.bin".into(),
                        labels: Vec::new(),
                    },
                    data: PartData::Bytes(body),
                };
                let opts = SendOptions {
                    title: "bench".into(),
                    category: "bench".into(),
                    chunk_size: 1024,
                    temp_dir: None,
                };
                let c = flows::send(&client, &key, &to, &opts, vec![part], None).await?;
                out.push(c.delivery_id);
            }
            BenchResult::Ok(out)
        }));
    }
    let mut all = Vec::with_capacity(m);
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

/// Forward every delivery (part 0 to a reader) with `c` concurrent tasks; forwards per second.
async fn forward_level(s: &Setup, deliveries: Vec<String>, c: usize) -> BenchResult<f64> {
    let n = deliveries.len();
    let deliveries = Arc::new(deliveries);
    let readers = Arc::new(s.readers.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..c {
        let (deliveries, readers, next) = (deliveries.clone(), readers.clone(), next.clone());
        let client = s.rep.clone();
        let key = s.rep_key.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= deliveries.len() {
                    break;
                }
                let target = readers[i % readers.len()].clone();
                flows::forward(&client, &key, &deliveries[i], &[(target, vec![0])]).await?;
            }
            BenchResult::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Forwards per second at each concurrency level on the server at `url`.
async fn forwards(url: &str, per_level: usize, n_readers: usize) -> BenchResult<Vec<f64>> {
    let t = Instant::now();
    let s = setup(url, n_readers).await?;
    let mut deliveries = presend(&s, per_level * LEVELS.len()).await?;
    println!(
        "  setup: {n_readers} readers, {} envelopes pre-sent in {:.1} s",
        deliveries.len(),
        t.elapsed().as_secs_f64()
    );
    let mut out = Vec::new();
    for c in LEVELS {
        let batch: Vec<String> = deliveries.drain(..per_level).collect();
        let (s0, c0) = cpu_split();
        let rate = forward_level(&s, batch, c).await?;
        let (s1, c1) = cpu_split();
        let per = |a: f64, b: f64| 1000.0 * (b - a) / per_level as f64;
        println!(
            "  C={c:>2}: {per_level} forwards, {rate:8.1} forwards/s; CPU per forward: server {:.2} ms, client {:.2} ms",
            per(s0, s1),
            per(c0, c1)
        );
        out.push(rate);
    }
    Ok(out)
}

struct Upload {
    upload_s: f64,
    disk_s: f64,
    rss_before_kib: u64,
    rss_after_kib: u64,
}

/// A reader of `len` pseudo-random bytes (cheap xorshift, the content does not matter).
struct Filler {
    left: u64,
    state: u64,
}

impl std::io::Read for Filler {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = usize::try_from(self.left.min(buf.len() as u64)).unwrap_or(buf.len());
        for chunk in buf[..n].chunks_mut(8) {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            let b = self.state.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn write_disk_baseline(path: &Path, len: u64) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    let mut buf = vec![0u8; 1 << 20];
    OsRng.fill_bytes(&mut buf);
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.sync_all()
}

async fn upload(url: &str, dir: &Path) -> BenchResult<Upload> {
    let s = setup(url, 1).await?;
    let key = flows::copy_member_key(&s.sender_key)?;
    let to = s.rep_cert.clone();
    let temp = dir.join("one-gib.envelope");
    let t = Instant::now();
    let temp2 = temp.clone();
    let header = tokio::task::spawn_blocking(move || -> BenchResult<_> {
        let file = std::fs::File::create(&temp2)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let sender = Sender {
            org: &key.organization,
            cert: &key.certificate,
            signing_key: &key.signing,
        };
        let opts = EncryptOptions {
            title: "one GiB".into(),
            category: "bench".into(),
            chunk_size: limits::DEFAULT_CHUNK,
            created: flows::unix_now(),
        };
        let part = PartSource {
            info: PartInfo {
                name: "big.bin".into(),
                labels: Vec::new(),
            },
            len: GIB,
            reader: Box::new(Filler {
                left: GIB,
                state: OsRng.next_u64() | 1,
            }),
        };
        let h = envelope::encrypt(
            &sender,
            &to,
            &opts,
            vec![part],
            &mut out,
            &mut OsRng,
            &mut |_| {},
        )
        .map_err(|e| err(format!("encrypt: {e}")))?;
        let file = out.into_inner().map_err(|e| err(e.to_string()))?;
        file.sync_all()?;
        Ok(h)
    })
    .await??;
    println!(
        "  1 GiB envelope encrypted to a temporary file in {:.1} s (untimed)",
        t.elapsed().as_secs_f64()
    );
    let header_bytes = header.to_bytes();
    let bodies_len = header.bodies_len();
    let envelope_id = hex::encode(&header_bytes[8..24]);

    // Disk baseline: the same number of bytes to a file in the same directory, with fsync.
    let base = dir.join("baseline.bin");
    let base2 = base.clone();
    let t = Instant::now();
    tokio::task::spawn_blocking(move || write_disk_baseline(&base2, bodies_len)).await??;
    let disk_s = t.elapsed().as_secs_f64();
    std::fs::remove_file(&base)?;

    let rss_before_kib = peak_rss_kib();
    let t = Instant::now();
    let spec = ActionSpec::send(
        &envelope_id,
        &s.rep_cert.certificate().fingerprint().to_hex(),
        &header_bytes,
    );
    let created = s
        .sender
        .create_upload(header_bytes, &flows::sign_action(&s.sender_key, &spec))
        .await?;
    if created.bodies_len != bodies_len {
        return Err(err("the server announced another body length"));
    }
    s.sender
        .upload_bodies_from_file(&created.upload_id, &temp, PREFIX_LEN, bodies_len, None)
        .await?;
    let upload_s = t.elapsed().as_secs_f64();
    let rss_after_kib = peak_rss_kib();
    std::fs::remove_file(&temp)?;
    Ok(Upload {
        upload_s,
        disk_s,
        rss_before_kib,
        rss_after_kib,
    })
}

/// The server runs on its own runtime whose threads (workers and blocking pool) are named
/// [`SERVER_THREAD`], so that its CPU time can be told apart from the client tasks' (the
/// database's own threads, e.g. `sqlx-sqlite-worker-N`, count as the server's too).
const SERVER_THREAD: &str = "soshiki-server";

fn server_runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(SERVER_THREAD)
            .enable_all()
            .build()
            .expect("a tokio runtime for the server")
    })
}

async fn start(
    dir: &Path,
    database_url: Option<&str>,
) -> BenchResult<soshiki_server::RunningServer> {
    let mut config = ServeConfig::with_data_dir(dir)?;
    config.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.maintenance_interval = Duration::from_secs(3600);
    if let Some(u) = database_url {
        config.database_url = u.to_string();
    }
    // `block_on` on a plain thread: tasks the server spawns run on the server runtime.
    let server = tokio::task::spawn_blocking(move || {
        server_runtime().block_on(soshiki_server::start(config))
    })
    .await??;
    Ok(server)
}

/// CPU seconds (user + system) used so far by this process's live threads, split into
/// (server, client): server = threads named [`SERVER_THREAD`] or the database's workers.
fn cpu_split() -> (f64, f64) {
    let tick = 100.0; // USER_HZ on Linux
    let (mut server, mut client) = (0u64, 0u64);
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
                continue;
            };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let comm = &stat[open + 1..close];
            let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            // After the comm: state is field 3, utime field 14, stime field 15.
            let ticks = fields
                .get(11)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                + fields
                    .get(12)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            if comm.starts_with(&SERVER_THREAD[..SERVER_THREAD.len().min(15)])
                || comm.starts_with("sqlx")
            {
                server += ticks;
            } else {
                client += ticks;
            }
        }
    }
    (server as f64 / tick, client as f64 / tick)
}

fn json_num(v: Option<f64>) -> String {
    v.map_or_else(|| "null".to_string(), |x| format!("{x:.1}"))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    // Profiling aid: only the SQLite forward levels, no upload.
    let forwards_only = args.iter().any(|a| a == "--forwards-only");
    let postgres = args
        .iter()
        .position(|a| a == "--postgres")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var("SOSHIKI_TEST_POSTGRES_URL").ok())
        .filter(|u| !u.is_empty());
    let per_level = if quick { 200 } else { 2000 };
    let n_readers = 8;
    let rss_start = peak_rss_kib();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "server_bench: {} mode, {cores} cores, {per_level} forwards per level",
        if quick { "quick" } else { "full" }
    );

    let mut runs: Vec<(&str, Vec<f64>)> = Vec::new();
    let dir = tempfile::tempdir()?;
    {
        println!("SQLite + local blobs:");
        let server = start(&dir.path().join("sqlite"), None).await?;
        let rates = forwards(server.url(), per_level, n_readers).await?;
        server.shutdown().await?;
        runs.push(("sqlite", rates));
    }
    if forwards_only {
        for (c, r) in LEVELS.iter().zip(&runs[0].1) {
            println!("| forwards/s sqlite C={c} | {r:.1} |");
        }
        return Ok(());
    }
    if let Some(url) = &postgres {
        println!("PostgreSQL + local blobs:");
        let server = start(&dir.path().join("postgres"), Some(url)).await?;
        let rates = forwards(server.url(), per_level, n_readers).await?;
        server.shutdown().await?;
        runs.push(("postgres", rates));
    }

    println!("1 GiB upload (SQLite + local blobs):");
    let up_dir: PathBuf = dir.path().join("upload");
    let server = start(&up_dir, None).await?;
    let up = upload(server.url(), &up_dir).await?;
    server.shutdown().await?;
    let rss_end = peak_rss_kib();

    let gib_s = |secs: f64| 1.0 / secs;
    let ratio = up.disk_s / up.upload_s;
    println!();
    println!("| measurement | value |");
    println!("|---|---|");
    for (name, rates) in &runs {
        for (c, r) in LEVELS.iter().zip(rates) {
            println!("| forwards/s {name} C={c} | {r:.1} |");
        }
    }
    println!(
        "| upload 1 GiB (header + bodies, durable) | {:.2} s = {:.0} MiB/s |",
        up.upload_s,
        1024.0 * gib_s(up.upload_s)
    );
    println!(
        "| disk write 1 GiB + fsync | {:.2} s = {:.0} MiB/s |",
        up.disk_s,
        1024.0 * gib_s(up.disk_s)
    );
    println!("| upload / disk | {:.1} % |", 100.0 * ratio);
    println!(
        "| peak RSS (VmHWM) start / before upload / after upload / end | {:.1} / {:.1} / {:.1} / {:.1} MiB |",
        mib(rss_start),
        mib(up.rss_before_kib),
        mib(up.rss_after_kib),
        mib(rss_end)
    );
    println!(
        "| peak RSS delta during the 1 GiB upload | {:.1} MiB |",
        mib(up.rss_after_kib.saturating_sub(up.rss_before_kib))
    );
    println!(
        "| peak RSS delta over the run | {:.1} MiB |",
        mib(rss_end.saturating_sub(rss_start))
    );
    let c16 = |name: &str| {
        runs.iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, r)| r.last().copied())
    };
    println!(
        "{{\"forwards_per_s_sqlite_c16\":{},\"forwards_per_s_postgres_c16\":{},\"upload_vs_disk\":{:.3},\"peak_rss_delta_mib\":{:.1}}}",
        json_num(c16("sqlite")),
        json_num(c16("postgres")),
        ratio,
        mib(rss_end.saturating_sub(rss_start))
    );
    Ok(())
}
