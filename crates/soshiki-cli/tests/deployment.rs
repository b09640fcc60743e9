//! The deployment at scale (issue 3, "Storage and deployment"): several stateless `soshiki
//! serve` processes behind a load balancer, sharing one PostgreSQL database and one
//! S3-compatible bucket. Two real server processes run with `--database postgres://…` and
//! `--blobs s3://…`; every step of a delivery's life goes through whichever process, as a load
//! balancer would send it: tokens issued by one work on the other, an upload created on one is
//! completed on the other, what one commits the other serves.
//!
//! Needs `SOSHIKI_TEST_POSTGRES_URL` and `SOSHIKI_TEST_S3_URL` (`eval "$(scripts/services.sh
//! start)"`); without them the tests print a skip line, unless `SOSHIKI_REQUIRE_SERVICES=1`
//! makes that a failure (the store suites' convention). Each test uses a fresh PostgreSQL schema
//! and a fresh key prefix in the bucket, so reruns never collide.

mod support;

use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rand_core::OsRng;
use soshiki_client::flows::{self, sign_action, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::{Action, ActionSpec};
use soshiki_client::ClientError;
use soshiki_core::cert::{Roles, VerifiedCertificate};
use soshiki_core::envelope::{self, EncryptOptions, PartInfo, PartSource, Sender, PREFIX_LEN};
use support::*;

const REQUIRE_SERVICES: &str = "SOSHIKI_REQUIRE_SERVICES";

/// The URL in `var`, or `None` after a skip line; a failure when `SOSHIKI_REQUIRE_SERVICES=1`.
fn service_url(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var(REQUIRE_SERVICES).as_deref() != Ok("1"),
                "{test}: {var} is not set but {REQUIRE_SERVICES}=1; start the services with \
                 eval \"$(scripts/services.sh start)\""
            );
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {var} is not set (eval \"$(scripts/services.sh start)\" to run it)"
            );
            None
        }
    }
}

/// Lower-case letters, digits and `_`, unique to this process and call.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!(
        "{prefix}_{}_{}_{:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        random & 0xffff_ffff
    )
}

/// The database URL of `schema` and the blob-store URL of its bucket prefix
/// (`s3://bucket?…` -> `s3://bucket/PREFIX?…`).
fn deployment_urls(pg: &str, s3: &str, schema: &str) -> (String, String) {
    let sep = if pg.contains('?') { '&' } else { '?' };
    let database = format!("{pg}{sep}options[search_path]={schema}");
    let (bucket, query) = s3.split_once('?').unwrap_or((s3, ""));
    let blobs = format!(
        "{}/{}?{query}",
        bucket.trim_end_matches('/'),
        schema.replace('_', "-")
    );
    (database, blobs)
}

/// Two server processes on one fresh schema and one fresh bucket prefix.
struct Deployment {
    p1: Server,
    p2: Server,
    admin_url: String,
    schema: String,
    _tmp: tempfile::TempDir,
}

impl Deployment {
    async fn start(test: &str) -> Option<Self> {
        let pg = service_url("SOSHIKI_TEST_POSTGRES_URL", test)?;
        let s3 = service_url("SOSHIKI_TEST_S3_URL", test)?;
        let schema = unique_name("deploy");
        let pool = sqlx::PgPool::connect(&pg)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&pool)
            .await
            .expect("create schema");
        pool.close().await;
        let (database, blobs) = deployment_urls(&pg, &s3, &schema);
        let tmp = tempfile::tempdir().expect("tmp");
        let extra = vec![
            "--database".to_string(),
            database,
            "--blobs".to_string(),
            blobs,
        ];
        // Both processes start at once on the fresh schema (concurrent migrations).
        let mut p1 = Server::spawn(&tmp.path().join("p1"), free_port(), &extra);
        let mut p2 = Server::spawn(&tmp.path().join("p2"), free_port(), &extra);
        p1.wait_ready().await;
        p2.wait_ready().await;
        Some(Self {
            p1,
            p2,
            admin_url: pg,
            schema,
            _tmp: tmp,
        })
    }

    async fn finish(mut self) {
        self.p1.kill();
        self.p2.kill();
        if let Ok(pool) = sqlx::PgPool::connect(&self.admin_url).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA {} CASCADE",
                self.schema
            )))
            .execute(&pool)
            .await;
            pool.close().await;
        }
    }
}

fn parts(specs: &[(u64, usize)]) -> Vec<OutgoingPart> {
    specs
        .iter()
        .map(|(seed, len)| OutgoingPart {
            info: PartInfo {
                name: part_name(*seed, *len),
                labels: vec![],
            },
            data: PartData::Bytes(part_bytes(*seed, *len)),
        })
        .collect()
}

/// Open `delivery` through `url` as `m` and check it holds exactly `expected` parts.
async fn open_expect(m: &Member, url: &str, delivery: &str, expected: &[(u32, u64, usize)]) {
    let dir = tempfile::tempdir().expect("tmp");
    let opened = flows::open(&m.client_for(url), &m.key, delivery, dir.path(), None)
        .await
        .unwrap_or_else(|e| panic!("{} opens {delivery}: {e}", m.name));
    let got: Vec<u32> = opened.parts.iter().map(|p| p.index).collect();
    let want: Vec<u32> = expected.iter().map(|e| e.0).collect();
    assert_eq!(got, want, "{}: parts of {delivery}", m.name);
    for (p, (_, seed, len)) in opened.parts.iter().zip(expected) {
        let data = std::fs::read(&p.path).expect("opened part");
        assert!(
            data == part_bytes(*seed, *len),
            "{}: part {}",
            m.name,
            p.index
        );
    }
}

struct Story {
    pref: Org,
    city: Org,
    sender: Member,
    rep: Member,
    officers: Vec<Member>,
    rep_cert: VerifiedCertificate<S>,
}

/// Organizations registered through process 1; members enroll through process 1 and log in
/// through process 2.
async fn cast(u1: &str, u2: &str) -> Story {
    let pref = create_org(u1, "Deploy Prefecture").await;
    let city = create_org(u1, "Deploy City").await;
    let sender = enroll_via(u1, u2, &pref, "Sender", Roles::READER).await;
    let rep = enroll_via(
        u1,
        u2,
        &city,
        "Reception",
        Roles::REPRESENTATIVE.union(Roles::FORWARDER),
    )
    .await;
    let mut officers = Vec::new();
    for name in ["Officer A (wrong)", "Officer B", "Officer C"] {
        officers.push(enroll_via(u1, u2, &city, name, Roles::READER).await);
    }
    // The sender pins the city by fingerprint and verifies its representative, via process 1
    // with the token process 2 issued.
    let c1 = sender.client_for(u1);
    let record = flows::fetch_organization::<S>(&c1, &city.id())
        .await
        .expect("fetch city");
    let rep_cert = flows::representative(&c1, &record)
        .await
        .expect("representative");
    assert_eq!(rep_cert.certificate().fingerprint().to_hex(), rep.id());
    Story {
        pref,
        city,
        sender,
        rep,
        officers,
        rep_cert,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stateless_processes_on_postgres_and_s3() {
    let started = Instant::now();
    let Some(d) = Deployment::start("two_stateless_processes_on_postgres_and_s3").await else {
        return;
    };
    let (u1, u2) = (d.p1.url(), d.p2.url());
    let s = cast(&u1, &u2).await;
    let [a, b, c] = [&s.officers[0], &s.officers[1], &s.officers[2]];

    // Tokens are shared state: one issued by process 2 works on process 1 and back.
    for m in [&s.sender, &s.rep, a, b, c] {
        m.client_for(&u1)
            .inbox(None)
            .await
            .expect("token from p2 on p1");
    }
    let admin_on_p2 = s.city.admin.client_for(&u2);
    assert_eq!(
        admin_on_p2
            .members(&s.city.id())
            .await
            .expect("members")
            .len(),
        5
    );

    // Send through process 1: 2 parts.
    let specs = [(0x1111_u64, 700_000_usize), (0x2222, 1_300_000)];
    let committed = flows::send(
        &s.sender.client_for(&u1),
        &s.sender.key,
        &s.rep_cert,
        &SendOptions {
            title: "deployment".into(),
            category: "test".into(),
            ..SendOptions::default()
        },
        parts(&specs),
        None,
    )
    .await
    .expect("send via p1");
    // Visible through process 2 at once.
    let inbox = s.rep.client_for(&u2).inbox(None).await.expect("inbox p2");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].id, committed.delivery_id);
    assert_eq!(inbox[0].forwardable_parts, vec![0, 1]);

    // Forward through process 2: part 0 to the wrong officer, part 1 to B.
    let fwd = flows::forward(
        &s.rep.client_for(&u2),
        &s.rep.key,
        &committed.delivery_id,
        &[(a.id(), vec![0]), (b.id(), vec![1])],
    )
    .await
    .expect("forward via p2");
    let (da, db) = (fwd.deliveries[0].id.clone(), fwd.deliveries[1].id.clone());

    // Open through process 1 (body from the bucket process 1 wrote through, header from the
    // row process 2 committed).
    open_expect(b, &u1, &db, &[(1, specs[1].0, specs[1].1)]).await;

    // Recall the wrong one through process 1; process 2 then refuses its download.
    let info = flows::recall(&s.rep.client_for(&u1), &s.rep.key, &da)
        .await
        .expect("recall via p1");
    assert_eq!(info.status, "recalled");
    let err = a
        .client_for(&u2)
        .download_envelope(&da, &mut Vec::new(), None)
        .await
        .expect_err("a recalled delivery cannot be downloaded");
    assert_eq!(err.status(), Some(410), "{err}");
    let parent = s
        .rep
        .client_for(&u2)
        .delivery(&committed.delivery_id)
        .await
        .expect("parent");
    assert_eq!(parent.status, "delivered");
    assert_eq!(parent.forwardable_parts, vec![0]);

    // Re-forward through process 2 to the right officer; open through process 1.
    let again = flows::forward(
        &s.rep.client_for(&u2),
        &s.rep.key,
        &committed.delivery_id,
        &[(c.id(), vec![0])],
    )
    .await
    .expect("re-forward via p2");
    let dc = again.deliveries[0].id.clone();
    open_expect(c, &u1, &dc, &[(0, specs[0].0, specs[0].1)]).await;
    let parent = s
        .rep
        .client_for(&u1)
        .delivery(&committed.delivery_id)
        .await
        .expect("parent");
    assert_eq!(parent.status, "forwarded");

    // An upload created on process 1 and completed on process 2 (the pending upload lives in
    // the bucket, not in a process).
    let (seed, len) = (0x3333_u64, 2_000_000_usize);
    let sk = &s.sender.key;
    let mut file = Vec::new();
    let header = envelope::encrypt(
        &Sender {
            org: &sk.organization,
            cert: &sk.certificate,
            signing_key: &sk.signing,
        },
        &s.rep_cert,
        &EncryptOptions {
            title: "split upload".into(),
            category: "test".into(),
            chunk_size: 64 * 1024,
            created: flows::unix_now(),
        },
        vec![PartSource {
            info: PartInfo {
                name: part_name(seed, len),
                labels: vec![],
            },
            len: len as u64,
            reader: Box::new(std::io::Cursor::new(part_bytes(seed, len))),
        }],
        &mut file,
        &mut OsRng,
        &mut |_| {},
    )
    .expect("encrypt");
    let hb = header.to_bytes();
    let envelope_id = hex::encode(header.core.envelope_id);
    let spec = ActionSpec::send(&envelope_id, &s.rep.id(), &hb);
    let created = s
        .sender
        .client_for(&u1)
        .create_upload(hb, &sign_action(sk, &spec))
        .await
        .expect("create upload via p1");
    let tmp = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(tmp.path(), &file).expect("write envelope");
    let split = s
        .sender
        .client_for(&u2)
        .upload_bodies_from_file(
            &created.upload_id,
            tmp.path(),
            PREFIX_LEN,
            created.bodies_len,
            None,
        )
        .await
        .expect("complete the upload via p2");
    assert_eq!(split.envelope_id, envelope_id);
    let f2 = flows::forward(
        &s.rep.client_for(&u1),
        &s.rep.key,
        &split.delivery_id,
        &[(b.id(), vec![0])],
    )
    .await
    .expect("forward via p1");
    open_expect(b, &u2, &f2.deliveries[0].id, &[(0, seed, len)]).await;

    // Receipts through process 2: what happened through both processes.
    let r = s
        .sender
        .client_for(&u2)
        .receipts(&committed.envelope_id)
        .await
        .expect("receipts");
    let kinds: Vec<&str> = r.receipts.iter().map(|x| x.kind.as_str()).collect();
    for (kind, n) in [
        ("delivered", 1),
        ("forwarded", 3),
        ("opened", 2),
        ("recalled", 1),
    ] {
        assert_eq!(
            kinds.iter().filter(|k| **k == kind).count(),
            n,
            "{kind} in {kinds:?}"
        );
    }

    // The audit trails, written by both processes into one chain each, verify (one through
    // each process).
    let city_trail = flows::audit(&admin_on_p2, s.city.record(), None, None, &|_| false)
        .await
        .expect("city audit trail verifies");
    let pref_trail = flows::audit(
        &s.pref.admin.client_for(&u1),
        s.pref.record(),
        None,
        None,
        &|_| false,
    )
    .await
    .expect("prefecture audit trail verifies");
    let count = |t: &soshiki_client::audit::AuditReport, a: Action| {
        t.entries.iter().filter(|e| e.statement.action == a).count()
    };
    assert_eq!(count(&city_trail, Action::Send), 2);
    assert_eq!(count(&city_trail, Action::Forward), 3);
    assert_eq!(count(&city_trail, Action::Recall), 1);
    assert_eq!(count(&city_trail, Action::Open), 3);
    assert_eq!(count(&city_trail, Action::Approve), 4);
    assert_eq!(count(&pref_trail, Action::Send), 2);
    let seqs: Vec<u64> = city_trail.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());

    // A login signed for one process's origin is refused by the other (no relaying).
    let c1 = s.rep.client_for(&u1);
    let ch = c1.challenge(&s.rep.id()).await.expect("challenge on p1");
    let relayed = soshiki_client::proto::json::TokenRequest {
        cert_id: s.rep.id(),
        nonce: ch.nonce.clone(),
        signature: soshiki_client::proto::B64(
            s.rep
                .key
                .signing
                .sign(
                    &soshiki_client::proto::login_message(c1.origin(), &ch.nonce.0)
                        .expect("message"),
                    &mut OsRng,
                )
                .to_vec(),
        ),
    };
    let err = s
        .rep
        .client_for(&u2)
        .token(&relayed)
        .await
        .expect_err("a login signed for p1 used on p2");
    assert!(matches!(err, ClientError::Api { status: 401, .. }), "{err}");

    eprintln!(
        "deployment: two processes on PostgreSQL schema {} and S3, {} city and {} prefecture \
         audit entries verified, in {:.1} s",
        d.schema,
        city_trail.entries.len(),
        pref_trail.entries.len(),
        started.elapsed().as_secs_f64()
    );
    d.finish().await;
}

/// The store's contract: of two racing state changes exactly one wins, also across server
/// processes sharing one database. The same delivery is forwarded at the same moment through
/// both processes, several times over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_forwards_through_two_processes_one_wins() {
    let Some(d) = Deployment::start("racing_forwards_through_two_processes_one_wins").await else {
        return;
    };
    let (u1, u2) = (d.p1.url(), d.p2.url());
    let s = cast(&u1, &u2).await;
    const RACES: usize = 6;
    let mut double = Vec::new();
    for i in 0..RACES {
        let seed = 0x4000 + i as u64;
        let committed = flows::send(
            &s.sender.client_for(&u1),
            &s.sender.key,
            &s.rep_cert,
            &SendOptions::default(),
            parts(&[(seed, 10_000)]),
            None,
        )
        .await
        .expect("send");
        let (k1, k2) = (
            flows::copy_member_key(&s.rep.key).expect("key"),
            flows::copy_member_key(&s.rep.key).expect("key"),
        );
        let (c1, c2) = (s.rep.client_for(&u1), s.rep.client_for(&u2));
        let (t1, t2) = (s.officers[1].id(), s.officers[2].id());
        let (id1, id2) = (committed.delivery_id.clone(), committed.delivery_id.clone());
        let f1 =
            tokio::spawn(async move { flows::forward(&c1, &k1, &id1, &[(t1, vec![0])]).await });
        let f2 =
            tokio::spawn(async move { flows::forward(&c2, &k2, &id2, &[(t2, vec![0])]).await });
        let (r1, r2) = (f1.await.expect("task"), f2.await.expect("task"));
        let wins = usize::from(r1.is_ok()) + usize::from(r2.is_ok());
        assert!(
            wins >= 1,
            "race {i}: neither forward succeeded: {r1:?} {r2:?}"
        );
        for r in [&r1, &r2] {
            if let Err(e) = r {
                assert_eq!(
                    e.status(),
                    Some(409),
                    "race {i}: the loser gets a conflict: {e}"
                );
            }
        }
        if wins == 2 {
            double.push(committed.delivery_id.clone());
        }
    }
    let mut held = 0;
    for o in &s.officers[1..] {
        held += o.client_for(&u2).inbox(None).await.expect("inbox").len();
    }
    assert!(
        double.is_empty(),
        "{} of {RACES} deliveries were forwarded twice (part 0 to two officers at once; \
         {held} live children for {RACES} single-part envelopes): {double:?}",
        double.len()
    );
    assert_eq!(held, RACES);
    d.finish().await;
}

/// `migrate-store` (issue 10): a demo grown on the embedded store (SQLite and files, sample
/// deliveries and audit trails included) moves to PostgreSQL and S3; a server on the new store
/// serves the same history: the demo officer opens its sample byte for byte as before, and
/// the audit trail verifies. A second move into the now non-empty database is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_store_moves_an_embedded_store_to_postgres_and_s3() {
    let test = "migrate_store_moves_an_embedded_store_to_postgres_and_s3";
    let (Some(pg), Some(s3)) = (
        service_url("SOSHIKI_TEST_POSTGRES_URL", test),
        service_url("SOSHIKI_TEST_S3_URL", test),
    ) else {
        return;
    };
    let schema = unique_name("migrate");
    let pool = sqlx::PgPool::connect(&pg).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .expect("schema");
    let sep = if pg.contains('?') { '&' } else { '?' };
    let database = format!("{pg}{sep}options[search_path]={schema}");
    let (bucket, query) = s3.split_once('?').unwrap_or((s3.as_str(), ""));
    let blobs = format!(
        "{}/{}?{query}",
        bucket.trim_end_matches('/'),
        schema.replace('_', "-")
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("small");

    // The embedded store with the demo's sample deliveries; the officer opens its sample.
    let mut small = Server::spawn(&data, free_port(), &["--demo".to_string()]);
    small.wait_ready().await;
    let index = data.join("demo/members.json");
    for _ in 0..600 {
        if index.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(index.exists(), "the demo is seeded");
    let pass = std::fs::read_to_string(data.join("demo/passphrase.txt")).expect("passphrase");
    let officer = data.join("demo/omachi/omachi-omachi.key");
    let open_sample = |url: String, out: std::path::PathBuf| {
        let officer = officer.clone();
        let pass_file = data.join("demo/passphrase.txt");
        let state = tmp
            .path()
            .join(format!("state-{}", out.display().to_string().len()));
        move || {
            let inbox = std::process::Command::new(env!("CARGO_BIN_EXE_soshiki"))
                .args(["--lang", "en", "--passphrase-file"])
                .arg(&pass_file)
                .args(["inbox", "--key"])
                .arg(&officer)
                .env("SOSHIKI_SERVER", &url)
                .env("SOSHIKI_STATE", &state)
                .output()
                .expect("inbox");
            let text = String::from_utf8_lossy(&inbox.stdout).to_string();
            let id = text
                .lines()
                .find(|l| l.contains("from 県 送付担当 青葉"))
                .and_then(|l| l.split_whitespace().next())
                .unwrap_or_else(|| panic!("a sample in the inbox: {text}"))
                .to_string();
            let open = std::process::Command::new(env!("CARGO_BIN_EXE_soshiki"))
                .args(["--lang", "en", "--passphrase-file"])
                .arg(&pass_file)
                .args(["open", &id, "--key"])
                .arg(&officer)
                .arg("--out")
                .arg(&out)
                .env("SOSHIKI_SERVER", &url)
                .env("SOSHIKI_STATE", &state)
                .output()
                .expect("open");
            assert!(
                open.status.success(),
                "{}",
                String::from_utf8_lossy(&open.stderr)
            );
            std::fs::read(out.join("sample-1.csv")).expect("opened part")
        }
    };
    let before = open_sample(small.url(), tmp.path().join("before"))();
    assert!(!before.is_empty() && !pass.is_empty());
    small.kill();

    let migrate = std::process::Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args(["--lang", "en", "migrate-store", "--data"])
        .arg(&data)
        .args(["--to-database", &database, "--to-blobs", &blobs])
        .output()
        .expect("migrate-store");
    let said = String::from_utf8_lossy(&migrate.stdout).to_string();
    assert!(
        migrate.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(
        said.contains("copied and verified") && said.contains("every digest equal"),
        "{said}"
    );
    if let Some(secret) = blobs
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("secret_key="))
    {
        assert!(
            !said.contains(secret),
            "the S3 secret key is masked: {said}"
        );
    }

    // A server on PostgreSQL and S3 serves the same history.
    let mut big = Server::spawn(
        &tmp.path().join("big"),
        free_port(),
        &[
            "--database".into(),
            database.clone(),
            "--blobs".into(),
            blobs.clone(),
        ],
    );
    big.wait_ready().await;
    let after = open_sample(big.url(), tmp.path().join("after"))();
    assert_eq!(
        after, before,
        "the sample opens byte for byte from the new store"
    );
    let audit = std::process::Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args(["--lang", "en", "--passphrase-file"])
        .arg(data.join("demo/passphrase.txt"))
        .args(["audit", "verify", "--key"])
        .arg(data.join("demo/omachi/omachi-admin.key"))
        .env("SOSHIKI_SERVER", big.url())
        .env("SOSHIKI_STATE", tmp.path().join("state-audit"))
        .output()
        .expect("audit");
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    big.kill();

    // The target is no longer empty: a second move is refused.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args(["--lang", "en", "migrate-store", "--data"])
        .arg(&data)
        .args(["--to-database", &database, "--to-blobs", &blobs])
        .output()
        .expect("migrate again");
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&pool)
        .await;
    pool.close().await;
}

/// A PostgreSQL + S3 deployment's backup (issue 10): `soshiki backup` of the running servers'
/// store (one REPEATABLE READ snapshot, the bodies from S3), `backup verify`, `restore` into an
/// embedded store, `migrate-store` into a fresh PostgreSQL schema and bucket prefix: the
/// restored deployment serves the same delivery, byte for byte, to its reader, and the
/// organizations' audit trails verify there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_s3_backup_restores_through_migrate_store() {
    let test = "postgres_and_s3_backup_restores_through_migrate_store";
    let Some(d) = Deployment::start(test).await else {
        return;
    };
    let (u1, u2) = (d.p1.url(), d.p2.url());
    let story = cast(&u1, &u2).await;
    let sent = flows::send(
        &story.sender.client_for(&u1),
        &story.sender.key,
        &story.rep_cert,
        &SendOptions::default(),
        parts(&[(71, 300_000), (72, 5_000)]),
        None,
    )
    .await
    .expect("send");
    let f = flows::forward(
        &story.rep.client_for(&u2),
        &story.rep.key,
        &sent.delivery_id,
        &[(story.officers[1].id(), vec![0, 1])],
    )
    .await
    .expect("forward");
    let fwd = f.deliveries[0].id.clone();

    let pg = std::env::var("SOSHIKI_TEST_POSTGRES_URL").expect("pg");
    let s3 = std::env::var("SOSHIKI_TEST_S3_URL").expect("s3");
    let (db, blobs) = deployment_urls(&pg, &s3, &d.schema);
    let tmp = tempfile::tempdir().expect("tmp");
    let soshiki = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_soshiki"))
            .args(["--lang", "en"])
            .args(args)
            .output()
            .expect("soshiki");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "soshiki {:?}: {text}", &args[..1]);
        text
    };
    let bk = tmp.path().join("bk").display().to_string();
    let said = soshiki(&["backup", "--to", &bk, "--database", &db, "--blobs", &blobs]);
    assert!(
        said.contains("1 envelopes") && said.contains("1 bodies"),
        "{said}"
    );
    soshiki(&["backup", "verify", &bk]);
    let restored = tmp.path().join("restored").display().to_string();
    soshiki(&["restore", &bk, "--data", &restored]);
    let schema2 = unique_name("restored");
    let admin = sqlx::PgPool::connect(&pg).await.expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema2}")))
        .execute(&admin)
        .await
        .expect("schema");
    let (db2, blobs2) = deployment_urls(&pg, &s3, &schema2);
    soshiki(&[
        "migrate-store",
        "--data",
        &restored,
        "--to-database",
        &db2,
        "--to-blobs",
        &blobs2,
    ]);
    d.finish().await;

    // The restored deployment, on the new schema and prefix.
    let mut p3 = Server::spawn(
        &tmp.path().join("p3"),
        free_port(),
        &["--database".into(), db2, "--blobs".into(), blobs2],
    );
    p3.wait_ready().await;
    let officer = &story.officers[1];
    let mut c = soshiki_client::Client::new(&p3.url(), &soshiki_client::ClientOptions::default())
        .expect("client");
    let token = flows::login(&mut c, &officer.key)
        .await
        .expect("login on the restored deployment")
        .token;
    let reader = Member {
        name: officer.name.clone(),
        key: soshiki_core::keyfile::MemberKey::from_key_file(
            &officer
                .key
                .to_key_file(
                    b"copy",
                    soshiki_core::keyfile::KdfParams::MINIMUM,
                    &mut OsRng,
                )
                .expect("copy"),
            b"copy",
        )
        .expect("copy"),
        token,
        client: c,
    };
    open_expect(
        &reader,
        &p3.url(),
        &fwd,
        &[(0, 71, 300_000), (1, 72, 5_000)],
    )
    .await;
    for org in [&story.pref, &story.city] {
        let mut ac =
            soshiki_client::Client::new(&p3.url(), &soshiki_client::ClientOptions::default())
                .expect("client");
        flows::login(&mut ac, &org.admin.key)
            .await
            .expect("admin login");
        flows::audit(&ac, org.record(), None, None, &|_| true)
            .await
            .expect("the audit trail verifies on the restored deployment");
    }
    p3.kill();
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA {schema2} CASCADE"
    )))
    .execute(&admin)
    .await;
    admin.close().await;
}
