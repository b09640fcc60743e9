//! The authorization matrix: every endpoint of the route table × every kind of caller, with the
//! status each must get. Read the `MATRIX` table as the specification of who may do what.
//!
//! The world (three organizations, members with every role combination, an envelope forwarded
//! part by part, a pending enrollment, a pending upload) is built once per backend through the
//! real flows. Each cell then runs on a **fresh copy** of that world (a copied SQLite file and
//! blob directory, or a PostgreSQL database cloned from a template), so a request that succeeds
//! (or wrongly succeeds) cannot change what the next cell sees. Every mutating request carries
//! a valid action statement signed by the caller, so a refusal is the server's authorization
//! decision, not a malformed request.
//!
//! A route of `soshiki_server::routes()` without a row here fails the test, so a new endpoint
//! cannot be added without stating who may call it. The few routes outside the table (health,
//! readiness, metrics, the demo's index) are checked for every caller too (`OUTSIDE_THE_TABLE`).
//!
//! Runs on SQLite always, and on PostgreSQL when `SOSHIKI_TEST_POSTGRES_URL` is set (required
//! with `SOSHIKI_REQUIRE_SERVICES=1`, as in `scripts/test.sh`).

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use rand_core::OsRng;
use soshiki_client::flows::{self, sign_action, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::json::{
    CertificateBody, ChallengeRequest, CheckpointBody, CreateEnrollment, ForwardBody,
    LocalStateBody, PartnerListBody, Policy, RegisterOrg, RevocationListBody, Rules, TokenRequest,
};
use soshiki_client::proto::{login_message, ActionSpec, ActionStatement, B64};
use soshiki_client::{Client, ClientOptions};
use soshiki_core::cert::{Certificate, OrganizationKey, Roles};
use soshiki_core::envelope::{
    self, EncryptOptions, Forwarder, Label, PartInfo, PartSource, Sender,
};
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::split::ForwardingRequest;
use soshiki_core::suite::P256;
use soshiki_server::AppState;

type S = P256;

/// The kinds of caller. Delivery routes address the caller's own delivery when it holds one
/// (`holder` D1, `holder_no_reader` D2, `holder_no_forwarder` D3, `holder_admin` D4), else D1.
const CALLERS: [&str; 16] = [
    "anon",                // no token
    "x_member",            // member of an unrelated organization X
    "x_admin",             // administrator of X
    "s_admin",             // administrator of the sending organization
    "sender",              // the member who sent the envelope
    "r_admin",             // administrator of the receiving organization R
    "rep",                 // R's representative: received the envelope, forwarded D1–D3
    "holder",              // R forwarder+reader holding D1
    "holder_no_reader",    // R forwarder holding D2 (may forward, may not read)
    "holder_no_forwarder", // R reader holding D3 (may read, may not forward)
    "holder_admin", // R administrator and reader holding D4 (the admin role grants no forwarding)
    "peer",         // R reader holding nothing
    "revoked",      // R member revoked by the administrator (its tokens are gone)
    "expired",      // R member whose certificate expired (server clock moved past it)
    "y_sender",     // member with the sender role of Y, whose policy requires it to send
    "y_no_sender",  // member of Y without the sender role (may not send outside)
];

/// Who gets what. `*` is the status of every caller not named. Statuses per cell are exact.
const MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/v1/info", "*=200"),
    ("GET", "/v1/openapi.json", "*=200"),
    // Registration is open (a self-signed record; its id is its key's fingerprint).
    ("POST", "/v1/orgs", "*=201"),
    ("GET", "/v1/orgs", "*=200"),
    ("GET", "/v1/orgs/{org}", "*=200"),
    (
        "PUT",
        "/v1/orgs/{org}/policy",
        "*=403 anon=401 revoked=401 expired=401 r_admin=200 holder_admin=200",
    ),
    // The first administrator of an organization without members, whoever relays the request:
    // the certificate (issued by that organization's key) and its statement are the proof.
    ("POST", "/v1/orgs/{org}/members", "*=201"),
    (
        "GET",
        "/v1/orgs/{org}/members",
        "*=200 anon=401 revoked=401 expired=401",
    ),
    (
        "GET",
        "/v1/members/{cert}",
        "*=200 anon=401 revoked=401 expired=401",
    ),
    (
        "POST",
        "/v1/members/{cert}/revoke",
        "*=403 anon=401 revoked=401 expired=401 r_admin=200 holder_admin=200",
    ),
    // Enrollment creation carries its own proof of possession; the id is the capability.
    ("POST", "/v1/orgs/{org}/enrollments", "*=201"),
    (
        "GET",
        "/v1/orgs/{org}/enrollments",
        "*=403 anon=401 revoked=401 expired=401 r_admin=200 holder_admin=200",
    ),
    ("GET", "/v1/enrollments/{id}", "*=200"),
    (
        "POST",
        "/v1/enrollments/{id}/approve",
        "*=403 anon=401 revoked=401 expired=401 r_admin=201 holder_admin=201",
    ),
    (
        "POST",
        "/v1/enrollments/{id}/reject",
        "*=403 anon=401 revoked=401 expired=401 r_admin=200 holder_admin=200",
    ),
    // Each caller asks for a challenge for its own certificate (anon: for D1's holder).
    (
        "POST",
        "/v1/auth/challenge",
        "*=200 revoked=401 expired=401",
    ),
    // Each caller signs its own challenge (anon: signs nothing it could).
    (
        "POST",
        "/v1/auth/token",
        "*=200 anon=401 revoked=401 expired=401",
    ),
    // Any active member may send (to R's representative), except one without the sender role
    // in an organization whose policy requires it (Y).
    (
        "POST",
        "/v1/envelopes",
        "*=201 anon=401 revoked=401 expired=401 y_no_sender=403",
    ),
    // Only the member that created the upload (the sender) may upload its bodies.
    (
        "PUT",
        "/v1/uploads/{id}",
        "*=403 anon=401 revoked=401 expired=401 sender=201",
    ),
    (
        "GET",
        "/v1/envelopes/{id}/receipts",
        "*=403 anon=401 revoked=401 expired=401 sender=200 s_admin=200",
    ),
    ("GET", "/v1/inbox", "*=200 anon=401 revoked=401 expired=401"),
    (
        "GET",
        "/v1/deliveries/{id}",
        "*=403 anon=401 revoked=401 expired=401 r_admin=200 rep=200 holder=200 \
         holder_no_reader=200 holder_no_forwarder=200 holder_admin=200",
    ),
    (
        "GET",
        "/v1/deliveries/{id}/header",
        "*=403 anon=401 revoked=401 expired=401 holder=200 holder_no_forwarder=200 \
         holder_admin=200",
    ),
    // Every holder, whatever its roles: the metadata slot is sealed to its own key.
    (
        "GET",
        "/v1/deliveries/{id}/metadata",
        "*=403 anon=401 revoked=401 expired=401 holder=200 holder_no_reader=200 \
         holder_no_forwarder=200 holder_admin=200",
    ),
    (
        "GET",
        "/v1/deliveries/{id}/forwarding-request",
        "*=403 anon=401 revoked=401 expired=401 holder=200 holder_no_reader=200",
    ),
    (
        "POST",
        "/v1/deliveries/{id}/forward",
        "*=403 anon=401 revoked=401 expired=401 holder=201 holder_no_reader=201",
    ),
    // The delivery's creator (R's representative made D1) or R's administrators.
    (
        "POST",
        "/v1/deliveries/{id}/recall",
        "*=403 anon=401 revoked=401 expired=401 rep=200 r_admin=200 holder_admin=200",
    ),
    (
        "POST",
        "/v1/deliveries/{id}/opened",
        "*=403 anon=401 revoked=401 expired=401 holder=200 holder_no_forwarder=200 \
         holder_admin=200",
    ),
    (
        "GET",
        "/v1/deliveries/{id}/envelope",
        "*=403 anon=401 revoked=401 expired=401 holder=200 holder_no_forwarder=200 \
         holder_admin=200",
    ),
    (
        "GET",
        "/v1/orgs/{org}/audit",
        "*=403 anon=401 revoked=401 expired=401 r_admin=200 holder_admin=200",
    ),
    // Organization-signed status: anyone reads it (it verifies against the pinned record);
    // only the organization's administrator publishes it (signed with the organization key on
    // the administrator's device).
    ("GET", "/v1/orgs/{org}/revocations", "*=200"),
    (
        "PUT",
        "/v1/orgs/{org}/revocations",
        "*=403 anon=401 revoked=401 expired=401 r_admin=200 holder_admin=200",
    ),
    // The partner list (SPEC.md §5.8) is read only by the organization's own members (it is
    // theirs to honour, and it tells with whom the organization works); only the administrator
    // publishes it.
    (
        "GET",
        "/v1/orgs/{org}/partners",
        "*=403 anon=401 revoked=401 expired=401 r_admin=200 rep=200 holder=200 \
         holder_no_reader=200 holder_no_forwarder=200 holder_admin=200 peer=200",
    ),
    (
        "PUT",
        "/v1/orgs/{org}/partners",
        "*=403 anon=401 revoked=401 expired=401 r_admin=200 holder_admin=200",
    ),
    ("GET", "/v1/orgs/{org}/checkpoint", "*=200"),
    (
        "PUT",
        "/v1/orgs/{org}/checkpoint",
        "*=403 anon=401 revoked=401 expired=401 r_admin=200 holder_admin=200",
    ),
    ("GET", "/v1/rules", "*=200 anon=401 revoked=401 expired=401"),
    // Representatives and forwarders keep routing rules.
    (
        "PUT",
        "/v1/rules",
        "*=403 anon=401 revoked=401 expired=401 rep=200 holder=200 holder_no_reader=200",
    ),
    // A member's own browser state: the path names no member, so each caller reaches only its
    // own (only the holder has stored one; everyone else finds none of their own).
    (
        "GET",
        "/v1/me/local-state/{kind}",
        "*=404 anon=401 revoked=401 expired=401 holder=200",
    ),
    // Any active member stores its own (serial 2 is above the holder's stored 1).
    (
        "PUT",
        "/v1/me/local-state/{kind}",
        "*=200 anon=401 revoked=401 expired=401",
    ),
];

/// Routes outside the route table (not in `soshiki_server::routes()` nor in openapi.json): the
/// operator's probes and metrics, and the demo's member index. They are public by design and
/// serve no organization's data: `/healthz` says the process runs, `/readyz` whether the
/// database and the blob store answer, `/metrics` holds process-wide counters (no id, no name;
/// firewall it or serve it on `metrics_bind`), and `/v1/demo/members` exists only under
/// `serve --demo` (public demo keys; absent otherwise, as here). Every caller gets the same
/// answer, whose body names no organization, member or delivery of the world.
const OUTSIDE_THE_TABLE: &[(&str, &str, &str)] = &[
    ("GET", "/healthz", "*=200"),
    ("GET", "/readyz", "*=200"),
    ("GET", "/metrics", "*=200"),
    ("GET", "/v1/demo/members", "*=404"),
];

/// The expected status of `caller` on a route, from its row.
fn expected(row: &str, caller: &str) -> u16 {
    let mut default = None;
    for cell in row.split_whitespace() {
        let (who, status) = cell.split_once('=').expect("cell is who=status");
        let status: u16 = status.parse().expect("status");
        if who == caller {
            return status;
        }
        if who == "*" {
            default = Some(status);
        }
    }
    default.expect("a * entry")
}

// ---------------------------------------------------------------------------------------------
// The world

/// A caller: its key (none for `anon`) and its bearer token in the template world.
struct Caller {
    key: Option<MemberKey<S>>,
    token: Option<String>,
}

struct World {
    callers: BTreeMap<&'static str, Caller>,
    r_org: OrganizationKey<S>,
    r_org_id: String,
    /// An organization registered without members (for the first-administrator route).
    fresh_org: OrganizationKey<S>,
    /// D1 (holder), D2 (holder_no_reader), D3 (holder_no_forwarder), D4 (holder_admin), all
    /// created by `rep`.
    d1: String,
    d2: String,
    d3: String,
    d4: String,
    envelope_id: String,
    /// Forward bodies made by the holders of D1 and D2 (each to `peer`).
    forward_d1: Vec<Vec<u8>>,
    forward_d2: Vec<Vec<u8>>,
    /// A pending enrollment of R and the certificate R's key makes for it.
    enrollment_id: String,
    enrollment_statement: Vec<u8>,
    enrollment_cert: Vec<u8>,
    /// A pending upload created by `sender`, and the bodies that complete it.
    upload_id: String,
    upload_bodies: Vec<u8>,
    /// When the `expired` member's certificate ends.
    expired_at: u64,
    /// R's next revocation list (serial one above the published one) and a checkpoint of R's
    /// audit trail at its head, both signed with R's organization key.
    next_revocations: Vec<u8>,
    checkpoint: Vec<u8>,
    /// R's next partner list (serial 2, above the published one), signed with R's key.
    next_partners: Vec<u8>,
}

/// Where a world lives: a directory (SQLite file and blobs) or a PostgreSQL database plus a
/// blob directory.
#[derive(Clone)]
enum Backend {
    Sqlite,
    Postgres { admin_url: String },
}

struct Instance {
    url: String,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    state: AppState,
}

impl Instance {
    async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        drop(self.state);
    }
}

/// Serve `database_url` + `blobs` with a clock `shift` seconds ahead of the system's.
async fn serve(database_url: &str, blobs: &Path, shift: i64) -> Instance {
    let store: Arc<dyn soshiki_store::Store> = Arc::from(
        soshiki_store::open_store(database_url)
            .await
            .expect("open store"),
    );
    let blobs: Arc<dyn soshiki_store::BlobStore> = Arc::from(
        soshiki_store::open_blobs(&blobs.display().to_string())
            .await
            .expect("open blobs"),
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let url = format!("http://{addr}");
    let mut state = AppState::new(store, blobs, url.clone());
    let base = soshiki_server::system_clock();
    state.clock = Arc::new(move || base() + shift);
    let app = soshiki_server::router(state.clone());
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await;
    });
    Instance {
        url,
        shutdown: tx,
        task,
        state,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            match std::fs::copy(e.path(), dest) {
                // A SQLite log or index deleted by a late-closing connection: nothing to copy.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                r => {
                    r.expect("copy");
                }
            }
        }
    }
}

fn unique(prefix: &str) -> String {
    let mut b = [0u8; 6];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut b);
    format!("{prefix}_{}", hex::encode(b))
}

/// A place a world is stored and can be cloned from.
struct Place {
    backend: Backend,
    dir: PathBuf,
    /// PostgreSQL: the database name.
    database: Option<String>,
}

impl Place {
    async fn new(backend: &Backend, root: &Path) -> Place {
        let dir = root.join(unique("w"));
        std::fs::create_dir_all(dir.join("blobs")).expect("mkdir");
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres { admin_url } => {
                let name = unique("authz");
                pg_exec(admin_url, &format!("CREATE DATABASE {name}")).await;
                Some(name)
            }
        };
        Place {
            backend: backend.clone(),
            dir,
            database,
        }
    }

    fn database_url(&self) -> String {
        match (&self.backend, &self.database) {
            (Backend::Postgres { admin_url }, Some(db)) => with_database(admin_url, db),
            _ => format!("sqlite://{}", self.dir.join("soshiki.sqlite").display()),
        }
    }

    async fn serve(&self, shift: i64) -> Instance {
        serve(&self.database_url(), &self.dir.join("blobs"), shift).await
    }

    /// A copy of this (stopped) world.
    async fn fork(&self, root: &Path) -> Place {
        let dir = root.join(unique("c"));
        let database = match &self.backend {
            Backend::Sqlite => {
                copy_dir(&self.dir, &dir);
                None
            }
            Backend::Postgres { admin_url } => {
                copy_dir(&self.dir.join("blobs"), &dir.join("blobs"));
                let name = unique("authz");
                let template = self.database.as_deref().expect("database");
                pg_exec(
                    admin_url,
                    &format!("CREATE DATABASE {name} TEMPLATE {template}"),
                )
                .await;
                Some(name)
            }
        };
        Place {
            backend: self.backend.clone(),
            dir,
            database,
        }
    }

    /// Wait until the stopped server's connections have closed: SQLite checkpoints and
    /// deletes its write-ahead log when the last one closes (in the background after the pool
    /// is dropped), and a copy taken before that could miss the log's pages or find a file
    /// vanishing under it. PostgreSQL needs nothing here (`pg_exec` retries while the template
    /// is in use).
    async fn settle(&self) {
        if matches!(self.backend, Backend::Sqlite) {
            let wal = self.dir.join("soshiki.sqlite-wal");
            for _ in 0..200 {
                if !wal.exists() {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            // A connection of the stopped server closes late (seen on a loaded machine): move
            // the log into the database ourselves, so that what the fork copies is the
            // database file alone plus an empty log. The stopped server no longer writes.
            use sqlx::{ConnectOptions, Connection};
            let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(self.dir.join("soshiki.sqlite"))
                .connect()
                .await
                .expect("open the template database");
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut conn)
                .await
                .expect("checkpoint the template database");
            assert_eq!(
                busy, 0,
                "the template's SQLite log could not be checkpointed"
            );
            conn.close().await.expect("close");
        }
    }

    async fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let (Backend::Postgres { admin_url }, Some(db)) = (&self.backend, &self.database) {
            pg_exec(
                admin_url,
                &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            )
            .await;
        }
    }
}

/// `postgres://u@h:p/db?x` with another database name.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

/// Run one statement as the administrator; retried while the template is still in use by the
/// pool of a server that just stopped.
async fn pg_exec(admin_url: &str, sql: &str) {
    let pool = sqlx::PgPool::connect(admin_url)
        .await
        .expect("connect to PostgreSQL");
    let mut last = None;
    for _ in 0..100 {
        match sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&pool)
            .await
        {
            Ok(_) => {
                pool.close().await;
                return;
            }
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    panic!("{sql}: {last:?}");
}

async fn login(url: &str, key: &MemberKey<S>) -> String {
    let mut c = Client::new(url, &ClientOptions::default()).expect("client");
    flows::login(&mut c, key).await.expect("login").token
}

async fn enroll_for(
    url: &str,
    org: &Org<S>,
    name: &str,
    roles: Roles,
    not_after: u64,
) -> MemberKey<S> {
    let client = Client::new(url, &ClientOptions::default()).expect("client");
    let t = now();
    let ticket = flows::enroll(
        &client,
        org.record(),
        name,
        roles,
        t - 3600,
        not_after,
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
    match flows::finish_enrollment(
        &client,
        &ticket.id,
        org.record(),
        &ticket.pending_key_file,
        PASS,
    )
    .await
    .expect("finish")
    {
        flows::EnrollmentOutcome::Approved(k) => *k,
        other => panic!("expected approved, got {other:?}"),
    }
}

/// A locally made envelope from `sender` to `to`: (header, bodies).
fn envelope_bytes(
    sender: &MemberKey<S>,
    to: &Certificate<S>,
    org: &OrganizationKey<S>,
) -> (Vec<u8>, Vec<u8>) {
    let to = to
        .verify(org.organization(), now())
        .expect("recipient verifies");
    let parts = vec![PartSource {
        info: PartInfo {
            name: "list.csv".into(),
            labels: vec![Label::parse("district=Omachi").expect("label")],
        },
        len: 5,
        reader: Box::new(std::io::Cursor::new(b"a,b,c".to_vec())),
    }];
    let s = Sender {
        org: &sender.organization,
        cert: &sender.certificate,
        signing_key: &sender.signing,
    };
    let opts = EncryptOptions {
        title: "t".into(),
        category: "c".into(),
        chunk_size: 1024,
        created: now(),
    };
    let mut file = Vec::new();
    let h = envelope::encrypt(&s, &to, &opts, parts, &mut file, &mut OsRng, &mut |_| {})
        .expect("encrypt");
    let start = envelope::PREFIX_LEN as usize;
    (
        h.to_bytes(),
        file[start..start + h.bodies_len() as usize].to_vec(),
    )
}

/// The responses `holder` makes to forward every part of `delivery` to `target` (what
/// `flows::forward` posts), without posting them.
async fn forward_responses(
    url: &str,
    holder: &MemberKey<S>,
    delivery: &str,
    target: &Certificate<S>,
) -> Vec<Vec<u8>> {
    let mut c = Client::new(url, &ClientOptions::default()).expect("client");
    c.set_token(Some(login(url, holder).await));
    let bytes = c.forwarding_request(delivery, None).await.expect("request");
    let request = ForwardingRequest::<S>::from_bytes(&bytes).expect("decode");
    let verified = request.clone().verify().expect("verifies");
    let target = target
        .verify(&holder.organization, now())
        .expect("target verifies");
    let fwd = Forwarder {
        holder: &holder.encryption,
        signer: &holder.signing,
        cert: &holder.certificate,
    };
    vec![verified
        .make_hops(&fwd, &target, None, now(), &mut OsRng)
        .expect("hops")
        .to_bytes()]
}

async fn build_world(url: &str) -> World {
    let s_org = create_org::<S>(url, "送付元").await;
    let r_org = create_org::<S>(url, "受付先").await;
    let x_org = create_org::<S>(url, "無関係").await;
    let t = now();
    let year = t + 365 * 86400;
    let sender = enroll_for(url, &s_org, "送信者", Roles::READER, year).await;
    let rep = enroll_for(url, &r_org, "代表", Roles::REPRESENTATIVE, year).await;
    let holder = enroll_for(
        url,
        &r_org,
        "担当A",
        Roles::FORWARDER.union(Roles::READER),
        year,
    )
    .await;
    let holder_no_reader = enroll_for(url, &r_org, "係長", Roles::FORWARDER, year).await;
    let holder_no_forwarder = enroll_for(url, &r_org, "担当B", Roles::READER, year).await;
    let peer = enroll_for(url, &r_org, "担当C", Roles::READER, year).await;
    let revoked = enroll_for(url, &r_org, "異動者", Roles::READER, year).await;
    let expired_at = t + 120;
    let expired = enroll_for(url, &r_org, "期限切れ", Roles::READER, expired_at).await;
    let x_member = enroll_for(url, &x_org, "他組織", Roles::READER, year).await;
    let holder_admin = enroll_for(
        url,
        &r_org,
        "課長兼管理者",
        Roles::ADMIN.union(Roles::READER),
        year,
    )
    .await;
    // Y requires the sender role to send outside (its signed policy).
    let y_org = create_org::<S>(url, "送信者限定").await;
    flows::set_policy(
        &y_org.admin.client,
        &y_org.admin.key,
        &Policy {
            sender_role_required: true,
            ..Policy::default()
        },
    )
    .await
    .expect("Y requires the sender role");
    let y_sender = enroll_for(
        url,
        &y_org,
        "送信係",
        Roles::READER.union(Roles::SENDER),
        year,
    )
    .await;
    let y_no_sender = enroll_for(url, &y_org, "閲覧係", Roles::READER, year).await;

    // The envelope: four parts, sent to R's representative, forwarded one part each.
    let mut sender_client = Client::new(url, &ClientOptions::default()).expect("client");
    flows::login(&mut sender_client, &sender)
        .await
        .expect("login");
    let rep_cert = rep
        .certificate
        .verify(r_org.record(), t)
        .expect("rep verifies");
    let parts = ["omachi", "yasaka", "miasa", "ikeda"]
        .iter()
        .map(|d| OutgoingPart {
            info: PartInfo {
                name: format!("{d}.csv"),
                labels: vec![Label::parse(&format!("district={d}")).expect("label")],
            },
            data: PartData::Bytes(format!("rows of {d}").into_bytes()),
        })
        .collect();
    let sent = flows::send(
        &sender_client,
        &sender,
        &rep_cert,
        &SendOptions::default(),
        parts,
        None,
    )
    .await
    .expect("send");
    let mut rep_client = Client::new(url, &ClientOptions::default()).expect("client");
    flows::login(&mut rep_client, &rep).await.expect("login");
    let id = |k: &MemberKey<S>| k.certificate.fingerprint().to_hex();
    let fwd = flows::forward(
        &rep_client,
        &rep,
        &sent.delivery_id,
        &[
            (id(&holder), vec![0]),
            (id(&holder_no_reader), vec![1]),
            (id(&holder_no_forwarder), vec![2]),
            (id(&holder_admin), vec![3]),
        ],
    )
    .await
    .expect("forward");
    let (d1, d2, d3, d4) = (
        fwd.deliveries[0].id.clone(),
        fwd.deliveries[1].id.clone(),
        fwd.deliveries[2].id.clone(),
        fwd.deliveries[3].id.clone(),
    );
    let forward_d1 = forward_responses(url, &holder, &d1, &peer.certificate).await;
    let forward_d2 = forward_responses(url, &holder_no_reader, &d2, &peer.certificate).await;

    // A pending enrollment and the certificate R's key would issue for it.
    let pending = flows::enroll(
        &Client::new(url, &ClientOptions::default()).expect("client"),
        r_org.record(),
        "新人",
        Roles::READER,
        t - 60,
        year,
        PASS,
        KdfParams::MINIMUM,
    )
    .await
    .expect("enroll");
    let info = r_org
        .admin
        .client
        .enrollment(&pending.id)
        .await
        .expect("enrollment");
    let (_, request) = soshiki_client::proto::verify_enrollment::<S>(&info.request.0, &r_org.id())
        .expect("request verifies");
    let enrollment_cert = r_org
        .key
        .certify(&request.to_certificate_request(), &mut OsRng)
        .expect("certify")
        .to_bytes();

    // A pending upload by the sender.
    let (header, upload_bodies) = envelope_bytes(&sender, &rep.certificate, &r_org.key);
    let envelope_id = hex::encode(&header[8..24]);
    let spec = ActionSpec::send(&envelope_id, &id(&rep), &header);
    let upload = sender_client
        .create_upload(header, &sign_action(&sender, &spec))
        .await
        .expect("upload");

    // Revoke one member (its tokens are deleted by the revocation).
    let revoked_token = login(url, &revoked).await;
    flows::revoke_member(
        &r_org.admin.client,
        &r_org.admin.key,
        &r_org.key,
        &id(&revoked),
    )
    .await
    .expect("revoke");

    // An organization registered without members.
    let fresh_org = OrganizationKey::<S>::generate("新設", t - 3600, &mut OsRng).expect("org key");
    flows::register_organization(
        &Client::new(url, &ClientOptions::default()).expect("c"),
        fresh_org.organization(),
    )
    .await
    .expect("register");

    // The next revocation list and a checkpoint of the trail as it stands now.
    let current = r_org
        .admin
        .client
        .revocation_list(&r_org.id())
        .await
        .expect("list")
        .map(|l| l.list.0);
    let next_revocations = soshiki_client::trust::next_revocation_list(
        &r_org.key,
        current.as_deref(),
        &[],
        now(),
        30 * 86400,
        &mut OsRng,
    )
    .expect("next list")
    .to_bytes();
    // A published partner list (so there is one to read) and the next one.
    let partner = soshiki_core::partners::Partner {
        organization: s_org.key.organization().fingerprint(),
        name: "送付元".into(),
    };
    let first_partners = flows::publish_partners(
        &r_org.admin.client,
        &r_org.admin.key,
        &r_org.key,
        std::slice::from_ref(&partner),
        &[],
    )
    .await
    .expect("publish partners");
    let next_partners = soshiki_client::trust::next_partner_list(
        &r_org.key,
        Some(&first_partners.to_bytes()),
        &[],
        &[partner.organization],
        now(),
        &mut OsRng,
    )
    .expect("next partner list")
    .to_bytes();
    // A checkpoint published now (so there is one to read), and the next one, over the trail
    // that then includes the first one's entry (for the publishing cells).
    let checkpoint_at_head = |trail: soshiki_client::proto::json::AuditPage| {
        let head = trail.entries.last().expect("entries").clone();
        let hash: [u8; 32] = hex::decode(&head.hash)
            .expect("hex")
            .try_into()
            .expect("32 bytes");
        let cp = r_org
            .key
            .sign_checkpoint(head.seq, hash, now(), &mut OsRng)
            .expect("checkpoint");
        (cp.position, cp.to_bytes())
    };
    let (position, first) = checkpoint_at_head(
        r_org
            .admin
            .client
            .audit(&r_org.id(), 1, 1000)
            .await
            .expect("trail"),
    );
    r_org
        .admin
        .client
        .publish_checkpoint(
            &r_org.id(),
            &first,
            &sign_action(
                &r_org.admin.key,
                &ActionSpec::checkpoint(&r_org.id(), position, &first),
            ),
        )
        .await
        .expect("publish checkpoint");
    let (_, checkpoint) = checkpoint_at_head(
        r_org
            .admin
            .client
            .audit(&r_org.id(), 1, 1000)
            .await
            .expect("trail"),
    );

    let mut callers = BTreeMap::new();
    callers.insert(
        "anon",
        Caller {
            key: None,
            token: None,
        },
    );
    let members: Vec<(&'static str, MemberKey<S>)> = vec![
        ("x_member", x_member),
        (
            "x_admin",
            flows::copy_member_key(&x_org.admin.key).expect("copy"),
        ),
        (
            "s_admin",
            flows::copy_member_key(&s_org.admin.key).expect("copy"),
        ),
        ("sender", sender),
        (
            "r_admin",
            flows::copy_member_key(&r_org.admin.key).expect("copy"),
        ),
        ("rep", rep),
        ("holder", holder),
        ("holder_no_reader", holder_no_reader),
        ("holder_no_forwarder", holder_no_forwarder),
        ("peer", peer),
        ("expired", expired),
        ("holder_admin", holder_admin),
        ("y_sender", y_sender),
        ("y_no_sender", y_no_sender),
    ];
    for (name, key) in members {
        let token = login(url, &key).await;
        callers.insert(
            name,
            Caller {
                key: Some(key),
                token: Some(token),
            },
        );
    }
    callers.insert(
        "revoked",
        Caller {
            key: Some(revoked),
            token: Some(revoked_token),
        },
    );
    // The holder has stored browser state (serial 1); nobody else has any.
    let stored = reqwest::Client::new()
        .put(format!("{url}/v1/me/local-state/pins"))
        .bearer_auth(callers["holder"].token.as_deref().expect("token"))
        .json(&LocalStateBody {
            serial: 1,
            state: B64(b"the holder's sealed pins".to_vec()),
        })
        .send()
        .await
        .expect("put local state");
    assert_eq!(stored.status().as_u16(), 200, "the holder stores its state");
    World {
        callers,
        r_org_id: r_org.id(),
        r_org: r_org.key,
        fresh_org,
        d1,
        d2,
        d3,
        d4,
        envelope_id: sent.envelope_id,
        forward_d1,
        forward_d2,
        enrollment_id: pending.id,
        enrollment_statement: info.request.0,
        enrollment_cert,
        upload_id: upload.upload_id,
        upload_bodies,
        expired_at,
        next_revocations,
        checkpoint,
        next_partners,
    }
}

// ---------------------------------------------------------------------------------------------
// One cell: the request `caller` makes on `route`, and its status.

struct Call {
    method: reqwest::Method,
    path: String,
    body: Option<(Vec<u8>, &'static str)>,
    action: Option<ActionStatement>,
    /// Send the caller's token (false for endpoints whose request carries its own proof).
    with_token: bool,
}

fn json<T: serde::Serialize>(v: &T) -> Option<(Vec<u8>, &'static str)> {
    Some((serde_json::to_vec(v).expect("json"), "application/json"))
}

/// The caller's delivery for delivery routes.
fn delivery_of<'a>(w: &'a World, caller: &str) -> &'a str {
    match caller {
        "holder_no_reader" => &w.d2,
        "holder_no_forwarder" => &w.d3,
        "holder_admin" => &w.d4,
        _ => &w.d1,
    }
}

/// The request `caller` makes on `route` against the server at `url`, whose clock runs
/// `shift` seconds ahead: statements are signed at the server's time, so that a refusal is
/// about who asks, never about a clock difference.
async fn call_for(
    w: &World,
    url: &str,
    method: &str,
    route: &str,
    caller: &str,
    shift: i64,
) -> Call {
    let at = now().saturating_add_signed(shift);
    let stamp = |key: &MemberKey<S>, spec: &ActionSpec| {
        ActionStatement::sign(
            spec,
            key.certificate.fingerprint(),
            at,
            &key.signing,
            &mut OsRng,
        )
    };
    let c = &w.callers[caller];
    // The key that signs: the caller's own; anon signs as D1's holder would not (no key), so
    // its statements are made with a throwaway key (refused before they matter).
    let throwaway = || {
        flows::certify_new_member(&w.r_org, "x", Roles::READER, now() - 60, now() + 60)
            .expect("throwaway")
    };
    let signer: MemberKey<S> = match &c.key {
        Some(k) => flows::copy_member_key(k).expect("copy"),
        None => throwaway(),
    };
    let sign = |spec: &ActionSpec| Some(stamp(&signer, spec));
    let own_cert = signer.certificate.fingerprint().to_hex();
    let peer_id = w.callers["peer"]
        .key
        .as_ref()
        .expect("peer")
        .certificate
        .fingerprint()
        .to_hex();
    let rep_cert = w.callers["rep"]
        .key
        .as_ref()
        .expect("rep")
        .certificate
        .clone();
    let m = |s: &str| reqwest::Method::from_bytes(s.as_bytes()).expect("method");
    let mut call = Call {
        method: m(method),
        path: route.to_string(),
        body: None,
        action: None,
        with_token: true,
    };
    let d = delivery_of(w, caller).to_string();
    match (method, route) {
        ("GET", "/v1/info" | "/v1/openapi.json" | "/v1/orgs" | "/v1/inbox" | "/v1/rules") => {}
        ("POST", "/v1/orgs") => {
            let org =
                OrganizationKey::<S>::generate(&format!("新規 {caller}"), now() - 60, &mut OsRng)
                    .expect("org");
            call.body = json(&RegisterOrg {
                record: B64(org.organization().to_bytes()),
            });
        }
        ("GET", "/v1/orgs/{org}") | ("GET", "/v1/orgs/{org}/members") => {
            call.path = route.replace("{org}", &w.r_org_id);
        }
        ("GET", "/v1/orgs/{org}/enrollments") => {
            call.path = format!("/v1/orgs/{}/enrollments?status=pending", w.r_org_id);
        }
        ("GET", "/v1/orgs/{org}/audit") => {
            call.path = route.replace("{org}", &w.r_org_id);
        }
        ("PUT", "/v1/orgs/{org}/policy") => {
            call.path = route.replace("{org}", &w.r_org_id);
            let policy = Policy {
                expiry_days: Some(30),
                retention_days: None,
                max_validity_days: None,
                quota_bytes: None,
                sender_role_required: false,
            };
            call.action = sign(&ActionSpec::set_policy(&w.r_org_id, &policy));
            call.body = json(&policy);
        }
        ("POST", "/v1/orgs/{org}/members") => {
            let org_id = w.fresh_org.organization().fingerprint().to_hex();
            let admin = flows::certify_new_member(
                &w.fresh_org,
                "新設 管理者",
                Roles::ADMIN,
                now() - 60,
                now() + 86400,
            )
            .expect("admin");
            let cert = admin.certificate.to_bytes();
            let spec = ActionSpec::register_admin(
                &org_id,
                &admin.certificate.fingerprint().to_hex(),
                &cert,
            );
            call.path = route.replace("{org}", &org_id);
            call.body = json(&CertificateBody {
                certificate: B64(cert),
            });
            call.action = Some(stamp(&admin, &spec));
        }
        ("GET", "/v1/members/{cert}") => call.path = route.replace("{cert}", &peer_id),
        ("POST", "/v1/members/{cert}/revoke") => {
            call.path = route.replace("{cert}", &peer_id);
            let cert = w.callers["peer"]
                .key
                .as_ref()
                .expect("peer")
                .certificate
                .to_bytes();
            call.action = sign(&ActionSpec::revoke(&peer_id, &cert));
        }
        ("POST", "/v1/orgs/{org}/enrollments") => {
            call.path = route.replace("{org}", &w.r_org_id);
            let ne = soshiki_client::steps::new_enrollment(
                w.r_org.organization(),
                &format!("応募 {caller}"),
                Roles::READER,
                now() - 60,
                now() + 86400,
                at,
                &mut OsRng,
            )
            .expect("enrollment");
            call.body = json(&CreateEnrollment {
                request: B64(ne.statement.to_bytes()),
            });
            call.with_token = false;
        }
        ("GET", "/v1/enrollments/{id}") => {
            call.path = route.replace("{id}", &w.enrollment_id);
        }
        ("POST", "/v1/enrollments/{id}/approve") => {
            call.path = route.replace("{id}", &w.enrollment_id);
            let cert = Certificate::<S>::from_bytes(&w.enrollment_cert).expect("cert");
            call.body = json(&CertificateBody {
                certificate: B64(w.enrollment_cert.clone()),
            });
            call.action = sign(&ActionSpec::approve(
                &w.enrollment_id,
                &cert.fingerprint().to_hex(),
                &w.enrollment_cert,
                &w.enrollment_statement,
            ));
        }
        ("POST", "/v1/enrollments/{id}/reject") => {
            call.path = route.replace("{id}", &w.enrollment_id);
            call.action = sign(&ActionSpec::reject(
                &w.enrollment_id,
                &w.enrollment_statement,
            ));
        }
        ("POST", "/v1/auth/challenge") => {
            let who = match &c.key {
                Some(k) => k.certificate.fingerprint().to_hex(),
                None => w.callers["holder"]
                    .key
                    .as_ref()
                    .expect("holder")
                    .certificate
                    .fingerprint()
                    .to_hex(),
            };
            call.body = json(&ChallengeRequest { cert_id: who });
            call.with_token = false;
        }
        ("POST", "/v1/auth/token") => {
            // A challenge for the caller's own certificate (anon: for the holder's), signed
            // with the caller's key (anon: with a key of its own).
            let who = match &c.key {
                Some(k) => flows::copy_member_key(k).expect("copy"),
                None => flows::copy_member_key(w.callers["holder"].key.as_ref().expect("h"))
                    .expect("copy"),
            };
            let client = Client::new(url, &ClientOptions::default()).expect("client");
            let cert_id = who.certificate.fingerprint().to_hex();
            let nonce = match client.challenge(&cert_id).await {
                Ok(ch) => ch.nonce.0,
                Err(_) => vec![0u8; 32], // refused already (revoked, expired): an unknown nonce
            };
            // A nonce of another length than 32 bytes cannot be signed at all.
            let msg = login_message(url, &nonce).expect("a 32-byte nonce");
            let sig = match &c.key {
                Some(_) => who.signing.sign(&msg, &mut OsRng),
                None => signer.signing.sign(&msg, &mut OsRng),
            };
            call.body = json(&TokenRequest {
                cert_id,
                nonce: B64(nonce),
                signature: B64(sig.to_vec()),
            });
            call.with_token = false;
        }
        ("POST", "/v1/envelopes") => {
            let (header, _) = envelope_bytes(&signer, &rep_cert, &w.r_org);
            let env = hex::encode(&header[8..24]);
            call.action = sign(&ActionSpec::send(
                &env,
                &rep_cert.fingerprint().to_hex(),
                &header,
            ));
            call.body = Some((header, "application/octet-stream"));
        }
        ("PUT", "/v1/uploads/{id}") => {
            call.path = route.replace("{id}", &w.upload_id);
            call.body = Some((w.upload_bodies.clone(), "application/octet-stream"));
        }
        ("GET", "/v1/envelopes/{id}/receipts") => {
            call.path = route.replace("{id}", &w.envelope_id);
        }
        (
            "GET",
            "/v1/deliveries/{id}"
            | "/v1/deliveries/{id}/header"
            | "/v1/deliveries/{id}/metadata"
            | "/v1/deliveries/{id}/envelope"
            | "/v1/deliveries/{id}/forwarding-request",
        ) => call.path = route.replace("{id}", &d),
        ("POST", "/v1/deliveries/{id}/forward") => {
            call.path = route.replace("{id}", &d);
            let responses = if d == w.d2 {
                w.forward_d2.clone()
            } else {
                w.forward_d1.clone()
            };
            call.action = sign(&ActionSpec::forward(
                &d,
                &w.envelope_id,
                &[(peer_id.clone(), vec![if d == w.d2 { 1 } else { 0 }])],
                &responses,
            ));
            call.body = json(&ForwardBody {
                responses: responses.into_iter().map(B64).collect(),
            });
        }
        ("POST", "/v1/deliveries/{id}/recall") => {
            call.path = route.replace("{id}", &w.d1);
            call.action = sign(&ActionSpec::recall(&w.d1));
        }
        ("POST", "/v1/deliveries/{id}/opened") => {
            // As a reader does: download first (the server records the download; "opened"
            // without one is refused), then mark it opened. A refused download changes nothing.
            if let Some(t) = &c.token {
                let _ = reqwest::Client::new()
                    .get(format!("{url}/v1/deliveries/{d}/header"))
                    .bearer_auth(t)
                    .send()
                    .await;
            }
            call.path = route.replace("{id}", &d);
            call.action = sign(&ActionSpec::open(&d, &w.envelope_id));
        }
        ("GET", "/v1/orgs/{org}/partners") => {
            call.path = route.replace("{org}", &w.r_org_id);
        }
        ("PUT", "/v1/orgs/{org}/partners") => {
            call.path = route.replace("{org}", &w.r_org_id);
            let serial = soshiki_core::partners::PartnerList::<S>::from_bytes(&w.next_partners)
                .expect("list")
                .serial;
            call.action = sign(&ActionSpec::publish_partners(
                &w.r_org_id,
                serial,
                &w.next_partners,
            ));
            call.body = json(&PartnerListBody {
                list: B64(w.next_partners.clone()),
            });
        }
        ("GET", "/v1/orgs/{org}/revocations" | "/v1/orgs/{org}/checkpoint") => {
            call.path = route.replace("{org}", &w.r_org_id);
        }
        ("PUT", "/v1/orgs/{org}/revocations") => {
            call.path = route.replace("{org}", &w.r_org_id);
            let list = RevocationListBody {
                list: B64(w.next_revocations.clone()),
            };
            let serial =
                soshiki_core::revocation::RevocationList::<S>::from_bytes(&w.next_revocations)
                    .expect("list")
                    .serial;
            call.action = sign(&ActionSpec::publish_revocations(
                &w.r_org_id,
                serial,
                &w.next_revocations,
            ));
            call.body = json(&list);
        }
        ("PUT", "/v1/orgs/{org}/checkpoint") => {
            call.path = route.replace("{org}", &w.r_org_id);
            let position =
                soshiki_core::checkpoint::AuditCheckpoint::<S>::from_bytes(&w.checkpoint)
                    .expect("checkpoint")
                    .position;
            call.action = sign(&ActionSpec::checkpoint(
                &w.r_org_id,
                position,
                &w.checkpoint,
            ));
            call.body = json(&CheckpointBody {
                checkpoint: B64(w.checkpoint.clone()),
            });
        }
        ("PUT", "/v1/rules") => {
            let rules = vec![format!("district=omachi -> {peer_id}")];
            call.action = sign(&ActionSpec::set_rules(&own_cert, &rules));
            call.body = json(&Rules {
                rules,
                statement: None,
            });
        }
        ("GET", "/v1/me/local-state/{kind}") => {
            call.path = route.replace("{kind}", "pins");
        }
        ("PUT", "/v1/me/local-state/{kind}") => {
            call.path = route.replace("{kind}", "pins");
            call.body = json(&LocalStateBody {
                serial: 2,
                state: B64(format!("sealed pins of {caller}").into_bytes()),
            });
        }
        other => panic!("the authorization matrix has no request for {other:?}"),
    }
    call
}

async fn perform(url: &str, w: &World, caller: &str, call: Call) -> (u16, String) {
    let http = reqwest::Client::new();
    let mut rb = http.request(call.method, format!("{url}{}", call.path));
    if call.with_token {
        if let Some(t) = &w.callers[caller].token {
            rb = rb.bearer_auth(t);
        }
    }
    if let Some(a) = &call.action {
        rb = rb.header(soshiki_client::proto::ACTION_HEADER, a.to_header_value());
    }
    if let Some((body, ty)) = call.body {
        rb = rb.header(reqwest::header::CONTENT_TYPE, ty).body(body);
    }
    let resp = rb.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, text)
}

async fn run_matrix(backend: Backend) {
    let root = tempfile::tempdir().expect("tmp");
    let template = Place::new(&backend, root.path()).await;
    let world = {
        let inst = template.serve(0).await;
        let w = build_world(&inst.url).await;
        inst.stop().await;
        template.settle().await;
        w
    };
    // Every route has a row; every row is a route.
    let routes: Vec<(&str, &str)> = soshiki_server::routes();
    for (m, p) in &routes {
        assert!(
            MATRIX.iter().any(|(mm, pp, _)| mm == m && pp == p),
            "route {m} {p} has no row in the authorization matrix"
        );
    }
    for (m, p, _) in MATRIX {
        assert!(
            routes.iter().any(|(mm, pp)| mm == m && pp == p),
            "matrix row {m} {p} is not a route"
        );
    }
    let mut failures = Vec::new();
    let mut cells = 0;
    for (method, route, row) in MATRIX {
        // Refusals share one copy of the world per route (a refusal changes nothing, and a
        // wrongful success is reported anyway); each success of a change, and each cell of
        // the expired member (whose server clock has passed its certificate's end; its token
        // was issued while it was valid), gets a copy of its own.
        let shared = template.fork(root.path()).await;
        let shared_inst = shared.serve(0).await;
        for caller in CALLERS {
            let want = expected(row, caller);
            let changes = *method != "GET" && (200..300).contains(&want);
            let own = if changes || caller == "expired" {
                Some(template.fork(root.path()).await)
            } else {
                None
            };
            let shift = if caller == "expired" {
                i64::try_from(world.expired_at.saturating_sub(now())).unwrap_or(0) + 600
            } else {
                0
            };
            let own_inst = match &own {
                Some(place) => Some(place.serve(shift).await),
                None => None,
            };
            let url = own_inst
                .as_ref()
                .map_or(&shared_inst.url, |i| &i.url)
                .clone();
            let call = call_for(&world, &url, method, route, caller, shift).await;
            let (got, body) = perform(&url, &world, caller, call).await;
            if let Some(i) = own_inst {
                i.stop().await;
            }
            if let Some(p) = own {
                p.remove().await;
            }
            cells += 1;
            if got != want {
                failures.push(format!(
                    "{method} {route} as {caller}: expected {want}, got {got}: {body}"
                ));
            }
        }
        shared_inst.stop().await;
        shared.remove().await;
    }
    // The routes outside the table, for every caller (read-only: one copy of the world).
    let shared = template.fork(root.path()).await;
    let inst = shared.serve(0).await;
    let secrets: Vec<String> = world
        .callers
        .values()
        .filter_map(|c| c.key.as_ref())
        .map(|k| k.certificate.fingerprint().to_hex())
        .chain([
            world.r_org_id.clone(),
            world.d1.clone(),
            world.envelope_id.clone(),
        ])
        .collect();
    for (method, route, row) in OUTSIDE_THE_TABLE {
        assert!(
            !routes.iter().any(|(m, p)| m == method && p == route),
            "{method} {route} is in the route table: give it a MATRIX row instead"
        );
        for caller in CALLERS {
            let want = expected(row, caller);
            let call = Call {
                method: reqwest::Method::GET,
                path: route.to_string(),
                body: None,
                action: None,
                with_token: true,
            };
            let (got, body) = perform(&inst.url, &world, caller, call).await;
            cells += 1;
            if got != want {
                failures.push(format!(
                    "{method} {route} as {caller}: expected {want}, got {got}: {body}"
                ));
            }
            if let Some(s) = secrets.iter().find(|s| body.contains(s.as_str())) {
                failures.push(format!("{method} {route} as {caller}: the body names {s}"));
            }
        }
    }
    inst.stop().await;
    shared.remove().await;
    template.remove().await;
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_sqlite() {
    run_matrix(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_postgres() {
    let Ok(url) = std::env::var("SOSHIKI_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("SOSHIKI_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "SOSHIKI_TEST_POSTGRES_URL is not set but SOSHIKI_REQUIRE_SERVICES=1"
        );
        eprintln!("authorization_matrix_postgres: skipped (SOSHIKI_TEST_POSTGRES_URL not set)");
        return;
    };
    run_matrix(Backend::Postgres { admin_url: url }).await;
}
