//! Upgrades (issue 10): every data directory an earlier release wrote, kept under
//! `tests/fixtures/upgrade/` (written by `examples/upgrade_fixture.rs` of that release), opens
//! with this release: the migrations bring its schema up to the newest, every delivery it
//! holds opens byte for byte with its holder's key, a recalled one stays recalled, and every
//! organization's audit trail verifies. A schema change adds a migration and keeps every
//! fixture passing; a new fixture is added when a release changes the schema.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine;
use common::config;
use soshiki_client::flows;
use soshiki_client::{Client, ClientError, ClientOptions};
use soshiki_core::cert::OrganizationKey;
use soshiki_core::keyfile::MemberKey;
use soshiki_core::suite::P256;
use soshiki_store::DeliveryStatus;

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade");
    let mut all: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    all.sort();
    all
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

async fn schema_version(db: &Path) -> i64 {
    use sqlx::{ConnectOptions, Connection};
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .expect("open");
    let v: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut c)
        .await
        .expect("version");
    c.close().await.expect("close");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_earlier_data_directory_opens_with_this_release() {
    let all = fixtures();
    assert!(!all.is_empty(), "at least one fixture");
    // The newest schema this release knows: what a fresh store has.
    let fresh = tempfile::tempdir().expect("tmp");
    drop(
        soshiki_server::start(config(fresh.path()))
            .await
            .expect("fresh"),
    );
    let newest = schema_version(&fresh.path().join("soshiki.sqlite")).await;
    for fixture in all {
        check(&fixture, newest).await;
    }
}

async fn check(fixture: &Path, newest: i64) {
    let name = fixture
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture.join("expected.json")).expect("expected"))
            .expect("json");
    let pass = expected["passphrase"]
        .as_str()
        .expect("passphrase")
        .as_bytes()
        .to_vec();
    let work = tempfile::tempdir().expect("tmp");
    copy_dir(&fixture.join("data"), work.path());
    let before = schema_version(&work.path().join("soshiki.sqlite")).await;
    let server = soshiki_server::start(config(work.path()))
        .await
        .unwrap_or_else(|e| panic!("{name}: the server starts on the old data directory: {e}"));
    assert_eq!(
        schema_version(&work.path().join("soshiki.sqlite")).await,
        newest,
        "{name}: migrated from {before}"
    );
    let st = server.state.clone();
    let key = |tag: &str| {
        let bytes = std::fs::read(fixture.join("keys").join(format!("{tag}.key"))).expect("key");
        MemberKey::<P256>::from_key_file(&bytes, &pass).expect("key file")
    };
    let org_key = |tag: &str| {
        let bytes =
            std::fs::read(fixture.join("keys").join(format!("{tag}.orgkey"))).expect("org key");
        OrganizationKey::<P256>::from_key_file(&bytes, &pass).expect("org key file")
    };
    let login = |k: &MemberKey<P256>| {
        let url = server.url().to_string();
        let k = MemberKey::<P256>::from_key_file(
            &k.to_key_file(
                &pass,
                soshiki_core::keyfile::KdfParams::MINIMUM,
                &mut rand_core::OsRng,
            )
            .expect("copy"),
            &pass,
        )
        .expect("copy");
        async move {
            let mut c = Client::new(&url, &ClientOptions::default()).expect("client");
            flows::login(&mut c, &k).await.expect("login");
            c
        }
    };
    // Revocation lists expire (30 days); the organizations publish fresh ones, as they would.
    for (admin, org) in [("pref-admin", "pref"), ("city-admin", "city")] {
        let k = key(admin);
        let c = login(&k).await;
        flows::publish_revocations(
            &c,
            &k,
            &org_key(org),
            &[],
            soshiki_client::trust::DEFAULT_REVOCATION_VALIDITY,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {org} publishes a revocation list: {e}"));
    }

    let b64 = base64::engine::general_purpose::STANDARD;
    let holders = expected["members"].as_object().expect("members").clone();
    let mut opened = 0;
    for (envelope, parts) in expected["plaintexts"].as_object().expect("plaintexts") {
        let plain: Vec<Vec<u8>> = parts
            .as_array()
            .expect("parts")
            .iter()
            .map(|p| b64.decode(p.as_str().expect("b64")).expect("b64"))
            .collect();
        for d in st.store.deliveries_of(envelope).await.expect("deliveries") {
            let tag = holders
                .iter()
                .find(|(_, v)| v.as_str() == Some(d.holder_cert.as_str()))
                .map(|(t, _)| t.clone())
                .expect("a known holder");
            let k = key(&tag);
            let c = login(&k).await;
            let out = tempfile::tempdir().expect("out");
            let r = flows::open(&c, &k, &d.id, out.path(), None).await;
            match d.status {
                DeliveryStatus::Delivered | DeliveryStatus::Opened => {
                    let o = r.unwrap_or_else(|e| panic!("{name}: delivery {} opens: {e}", d.id));
                    assert!(!o.parts.is_empty());
                    for p in &o.parts {
                        assert_eq!(
                            std::fs::read(&p.path).expect("part"),
                            plain[p.index as usize],
                            "{name}: {envelope} part {}",
                            p.index
                        );
                    }
                    opened += 1;
                }
                DeliveryStatus::Recalled => {
                    assert!(
                        matches!(r, Err(ClientError::Api { .. })),
                        "{name}: a recalled delivery stays recalled: {r:?}"
                    );
                }
                _ => {}
            }
        }
    }
    let recalled = expected["deliveries"]["b_recalled"].as_str().expect("id");
    assert_eq!(
        st.store.delivery(recalled).await.expect("recalled").status,
        DeliveryStatus::Recalled
    );
    assert!(opened >= 3, "{name}: {opened} deliveries opened");
    for (admin, org) in [("pref-admin", "pref"), ("city-admin", "city")] {
        let k = key(admin);
        let c = login(&k).await;
        let record = org_key(org).organization().clone();
        flows::audit(&c, &record, None, None, &|_| true)
            .await
            .unwrap_or_else(|e| panic!("{name}: the audit trail of {org} verifies: {e}"));
    }
    server.shutdown().await.expect("shutdown");
}
