//! Shared test scaffolding: a real server on 127.0.0.1 with SQLite and local blobs in a
//! temporary directory, and organizations with members enrolled through the real flows.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use soshiki_client::flows::{self, EnrollmentOutcome};
use soshiki_client::{Client, ClientOptions};
use soshiki_core::cert::{Organization, OrganizationKey, Roles};
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::suite::Suite;
use soshiki_server::{RunningServer, ServeConfig};

pub const PASS: &[u8] = b"correct horse battery staple";

pub fn now() -> u64 {
    flows::unix_now()
}

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub server: RunningServer,
}

impl TestServer {
    pub fn url(&self) -> String {
        self.server.url().to_string()
    }
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("soshiki.sqlite")
    }
    pub fn blob_dir(&self) -> PathBuf {
        self.dir.path().join("blobs")
    }
    pub fn client(&self) -> Client {
        Client::new(&self.url(), &ClientOptions::default()).expect("client")
    }
}

pub fn config(dir: &std::path::Path) -> ServeConfig {
    let mut c = ServeConfig::with_data_dir(dir).expect("config");
    c.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    c.maintenance_interval = Duration::from_secs(3600);
    c
}

pub async fn start() -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = soshiki_server::start(config(dir.path()))
        .await
        .expect("start");
    TestServer { dir, server }
}

/// An organization with its key and a logged-in administrator.
pub struct Org<S: Suite> {
    pub key: OrganizationKey<S>,
    pub admin: Member<S>,
}

impl<S: Suite> Org<S> {
    pub fn record(&self) -> &Organization<S> {
        self.key.organization()
    }
    pub fn id(&self) -> String {
        self.key.organization().fingerprint().to_hex()
    }
}

/// A member's key and its logged-in client.
pub struct Member<S: Suite> {
    pub key: MemberKey<S>,
    pub client: Client,
}

impl<S: Suite> Member<S> {
    pub fn id(&self) -> String {
        self.key.certificate.fingerprint().to_hex()
    }
}

/// Create and register an organization and its first administrator, logged in.
pub async fn create_org<S: Suite>(url: &str, name: &str) -> Org<S> {
    let t = now();
    let key =
        OrganizationKey::<S>::generate(name, t - 3600, &mut rand_core::OsRng).expect("org key");
    let mut client = Client::new(url, &ClientOptions::default()).expect("client");
    flows::register_organization(&client, key.organization())
        .await
        .expect("register org");
    let admin = flows::certify_new_member(
        &key,
        &format!("{name} 管理者"),
        Roles::ADMIN,
        t - 3600,
        t + 365 * 86400,
    )
    .expect("admin key");
    flows::register_first_admin(&client, &admin)
        .await
        .expect("first admin");
    flows::login(&mut client, &admin)
        .await
        .expect("admin login");
    flows::publish_revocations(
        &client,
        &admin,
        &key,
        &[],
        soshiki_client::trust::DEFAULT_REVOCATION_VALIDITY,
    )
    .await
    .expect("first revocation list");
    Org {
        key,
        admin: Member { key: admin, client },
    }
}

/// Enroll a member through the real flow (request with proof of possession, approval by the
/// administrator with the organization key, certificate fetched), then log in.
pub async fn enroll<S: Suite>(url: &str, org: &Org<S>, name: &str, roles: Roles) -> Member<S> {
    let t = now();
    let mut client = Client::new(url, &ClientOptions::default()).expect("client");
    let ticket = flows::enroll(
        &client,
        org.record(),
        name,
        roles,
        t - 3600,
        t + 365 * 86400,
        PASS,
        KdfParams::MINIMUM,
    )
    .await
    .expect("enroll");
    match flows::finish_enrollment(
        &client,
        &ticket.id,
        org.record(),
        &ticket.pending_key_file,
        PASS,
    )
    .await
    .expect("poll")
    {
        EnrollmentOutcome::Pending => {}
        other => panic!("expected pending, got {other:?}"),
    }
    let pending = flows::pending_enrollments(&org.admin.client, &org.admin.key)
        .await
        .expect("list");
    let review = pending
        .iter()
        .find(|r| r.info.id == ticket.id)
        .expect("listed");
    assert_eq!(
        review.request.as_ref().expect("proof verifies").member_name,
        name
    );
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
        org.record(),
        &ticket.pending_key_file,
        PASS,
    )
    .await
    .expect("finish")
    {
        EnrollmentOutcome::Approved(k) => *k,
        other => panic!("expected approved, got {other:?}"),
    };
    flows::login(&mut client, &key).await.expect("login");
    Member { key, client }
}

/// Read a whole file.
pub fn read(p: &std::path::Path) -> Vec<u8> {
    std::fs::read(p).expect("read")
}
