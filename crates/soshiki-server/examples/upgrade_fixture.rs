//! Writes the upgrade fixture: a data directory as this release's server leaves it, with the
//! keys and the plaintexts a later release's test needs to check that everything still opens.
//!
//!     cargo run -p soshiki-server --example upgrade_fixture -- crates/soshiki-server/tests/fixtures/upgrade/NAME
//!
//! The directory gets `data/` (soshiki.sqlite, one file, and blobs/), `keys/` (organization and
//! member key files, passphrase `upgrade fixture`, minimal Argon2id), and `expected.json` (who
//! holds what, every part's plaintext in base64, the schema version). Certificates are valid
//! for 100 years, so the fixture does not expire; revocation lists do (30 days), so the test
//! publishes fresh ones with the fixture's keys. Synthetic data only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use rand_core::OsRng;
use soshiki_client::flows::{self, EnrollmentOutcome, OutgoingPart, PartData, SendOptions};
use soshiki_client::{Client, ClientOptions};
use soshiki_core::cert::{OrganizationKey, Roles};
use soshiki_core::envelope::PartInfo;
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::suite::P256;
use soshiki_server::ServeConfig;

const PASS: &[u8] = b"upgrade fixture";
const CENTURY: u64 = 100 * 365 * 86_400;

struct Org {
    key: OrganizationKey<P256>,
    admin: Member,
}

struct Member {
    key: MemberKey<P256>,
    client: Client,
}

fn now() -> u64 {
    flows::unix_now()
}

async fn org(url: &str, name: &str) -> Org {
    let t = now();
    let key = OrganizationKey::<P256>::generate(name, t - 3600, &mut OsRng).expect("org key");
    let mut client = Client::new(url, &ClientOptions::default()).expect("client");
    flows::register_organization(&client, key.organization())
        .await
        .expect("register");
    let admin = flows::certify_new_member(
        &key,
        &format!("{name} 管理者"),
        Roles::ADMIN,
        t - 3600,
        t + CENTURY,
    )
    .expect("admin");
    flows::register_first_admin(&client, &admin)
        .await
        .expect("first admin");
    flows::login(&mut client, &admin).await.expect("login");
    flows::publish_revocations(
        &client,
        &admin,
        &key,
        &[],
        soshiki_client::trust::DEFAULT_REVOCATION_VALIDITY,
    )
    .await
    .expect("revocations");
    Org {
        key,
        admin: Member { key: admin, client },
    }
}

async fn member(url: &str, org: &Org, name: &str, roles: Roles) -> Member {
    let t = now();
    let mut client = Client::new(url, &ClientOptions::default()).expect("client");
    let ticket = flows::enroll(
        &client,
        org.key.organization(),
        name,
        roles,
        t - 3600,
        t + CENTURY,
        PASS,
        KdfParams::MINIMUM,
    )
    .await
    .expect("enroll");
    flows::approve_enrollment(
        &org.admin.client,
        &org.admin.key,
        &org.key,
        &ticket.id,
        &ticket.code,
    )
    .await
    .expect("approve");
    let key = match flows::finish_enrollment(
        &client,
        &ticket.id,
        org.key.organization(),
        &ticket.pending_key_file,
        PASS,
    )
    .await
    .expect("finish")
    {
        EnrollmentOutcome::Approved(k) => *k,
        other => panic!("not approved: {other:?}"),
    };
    flows::login(&mut client, &key).await.expect("login");
    Member { key, client }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[tokio::main]
async fn main() {
    let out: PathBuf = std::env::args()
        .nth(1)
        .expect("usage: upgrade_fixture OUT_DIR")
        .into();
    assert!(!out.exists(), "{} exists", out.display());
    let work = tempfile::tempdir().expect("tmp");
    let mut cfg = ServeConfig::with_data_dir(work.path()).expect("config");
    cfg.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = soshiki_server::start(cfg).await.expect("start");
    let url = server.url().to_string();

    let pref = org(&url, "架空県 健康福祉部").await;
    let city = org(&url, "架空市 福祉課").await;
    let sender = member(
        &url,
        &pref,
        "県 送付担当",
        Roles::READER.union(Roles::SENDER),
    )
    .await;
    let rep = member(
        &url,
        &city,
        "市 受付窓口",
        Roles::REPRESENTATIVE
            .union(Roles::FORWARDER)
            .union(Roles::READER),
    )
    .await;
    let a = member(&url, &city, "A地区 担当", Roles::READER).await;
    let b = member(&url, &city, "B地区 担当", Roles::READER).await;
    let to = flows::certified_member(
        &sender.client,
        city.key.organization(),
        &rep.key.certificate.fingerprint().to_hex(),
    )
    .await
    .expect("rep");

    let mut plaintexts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut send = async |tag: &str, n: usize| {
        let plain: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("番号,氏名\n{tag}-{i},架空 花子{i}\n").into_bytes())
            .collect();
        let parts = plain
            .iter()
            .enumerate()
            .map(|(i, p)| OutgoingPart {
                info: PartInfo {
                    name: format!("{tag}-{i}.csv"),
                    labels: vec![soshiki_core::envelope::Label {
                        key: "district".into(),
                        value: format!("D{i}"),
                    }],
                },
                data: PartData::Bytes(p.clone()),
            })
            .collect();
        let c = flows::send(
            &sender.client,
            &sender.key,
            &to,
            &SendOptions::default(),
            parts,
            None,
        )
        .await
        .expect("send");
        plaintexts.insert(
            c.envelope_id.clone(),
            plain.iter().map(|p| b64.encode(p)).collect(),
        );
        c
    };
    // E1: three parts; part 0 to A (opened), part 1 to B (recalled), part 2 stays with the
    // representative. E2: one part, delivered, never touched.
    let e1 = send("E1", 3).await;
    let e2 = send("E2", 1).await;
    let id = |m: &Member| m.key.certificate.fingerprint().to_hex();
    let f = flows::forward(
        &rep.client,
        &rep.key,
        &e1.delivery_id,
        &[(id(&a), vec![0]), (id(&b), vec![1])],
    )
    .await
    .expect("forward");
    let to_a = f
        .deliveries
        .iter()
        .find(|d| d.holder_cert == id(&a))
        .expect("a")
        .id
        .clone();
    let to_b = f
        .deliveries
        .iter()
        .find(|d| d.holder_cert == id(&b))
        .expect("b")
        .id
        .clone();
    let dir = tempfile::tempdir().expect("out");
    flows::open(&a.client, &a.key, &to_a, dir.path(), None)
        .await
        .expect("open");
    flows::recall(&rep.client, &rep.key, &to_b)
        .await
        .expect("recall");
    server.shutdown().await.expect("shutdown");

    // The data directory as one SQLite file (no WAL) and the blobs.
    let data = out.join("data");
    std::fs::create_dir_all(data.join("blobs")).expect("mkdir");
    {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(work.path().join("soshiki.sqlite"))
            .connect()
            .await
            .expect("open");
        sqlx::query("VACUUM INTO ?")
            .bind(data.join("soshiki.sqlite").display().to_string())
            .execute(&mut conn)
            .await
            .expect("vacuum into");
        conn.close().await.expect("close");
    }
    for e in std::fs::read_dir(work.path().join("blobs")).expect("blobs") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), data.join("blobs").join(e.file_name())).expect("copy blob");
    }
    let keys = out.join("keys");
    std::fs::create_dir_all(&keys).expect("mkdir");
    for (tag, o) in [("pref", &pref), ("city", &city)] {
        write(
            &keys.join(format!("{tag}.orgkey")),
            &o.key
                .to_key_file(PASS, KdfParams::MINIMUM, &mut OsRng)
                .expect("org file"),
        );
    }
    let mut members = BTreeMap::new();
    for (tag, m) in [
        ("pref-admin", &pref.admin),
        ("city-admin", &city.admin),
        ("sender", &sender),
        ("rep", &rep),
        ("a", &a),
        ("b", &b),
    ] {
        write(
            &keys.join(format!("{tag}.key")),
            &m.key
                .to_key_file(PASS, KdfParams::MINIMUM, &mut OsRng)
                .expect("key file"),
        );
        members.insert(tag, id(m));
    }
    let expected = serde_json::json!({
        "written_by": format!("soshiki {}", env!("CARGO_PKG_VERSION")),
        "passphrase": String::from_utf8_lossy(PASS),
        "members": members,
        "plaintexts": plaintexts,
        "deliveries": {
            "rep_e1": e1.delivery_id, "rep_e2": e2.delivery_id, "a_opened": to_a, "b_recalled": to_b,
        },
    });
    write(
        &out.join("expected.json"),
        serde_json::to_string_pretty(&expected)
            .expect("json")
            .as_bytes(),
    );
    println!("upgrade fixture written to {}", out.display());
}
