//! Shared scaffolding of the process-level server tests (`crash.rs`, `deployment.rs`): the real
//! `soshiki serve` binary started as a child process on a chosen loopback port (so it can be
//! killed and restarted on the same address), organizations and members set up through the
//! client library's flows, and in-memory envelope checks (download, verify, decrypt).
#![allow(dead_code)]

use std::io::Cursor;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand_core::OsRng;
use soshiki_client::flows::{self, EnrollmentOutcome};
use soshiki_client::{Client, ClientOptions};
use soshiki_core::cert::{Organization, OrganizationKey, Roles};
use soshiki_core::envelope::{self, EnvelopeFile, SlotId};
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::suite::P256;

/// The suite of every test organization.
pub type S = P256;

/// Passphrase of the pending enrollment key files.
pub const PASS: &[u8] = b"process test passphrase";

/// A free TCP port on 127.0.0.1 (bound once and released; the server binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A `soshiki serve` child process. Dropping it kills the process.
pub struct Server {
    child: Option<Child>,
    /// The address it binds.
    pub addr: SocketAddr,
    /// `--data`.
    pub data: PathBuf,
    extra: Vec<String>,
    log: PathBuf,
    /// How many times it was started.
    pub starts: u32,
}

impl Server {
    /// Start `soshiki serve --data DATA --bind 127.0.0.1:PORT EXTRA…`; stdout and stderr go to
    /// `DATA.log`. Call [`Server::wait_ready`] before using it.
    pub fn spawn(data: &Path, port: u16, extra: &[String]) -> Self {
        let mut s = Self {
            child: None,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            data: data.to_path_buf(),
            extra: extra.to_vec(),
            log: data.with_extension("log"),
            starts: 0,
        };
        s.start();
        s
    }

    fn start(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let child = Command::new(env!("CARGO_BIN_EXE_soshiki"))
            .args(["--lang", "en", "serve", "--bind", &self.addr.to_string()])
            .arg("--data")
            .arg(&self.data)
            .args(&self.extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn soshiki serve");
        self.child = Some(child);
        self.starts += 1;
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL (`Child::kill`) and reap: no shutdown code runs.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Start again with the same data directory, address and options.
    pub fn restart(&mut self) {
        self.kill();
        self.start();
    }

    /// The server's output so far (for failure messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until `GET /v1/info` answers (at most 60 s), failing with the server's output if the
    /// process exits or never answers.
    pub async fn wait_ready(&mut self) {
        let client = Client::new(&self.url(), &ClientOptions::default()).expect("client");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!("soshiki serve exited with {status}:\n{}", self.log_text());
                }
            }
            if client.info().await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "soshiki serve did not answer on {} within 60 s:\n{}",
                self.addr,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh client for `url` using `token`.
pub fn client_with(url: &str, token: &str) -> Client {
    let mut c = Client::new(url, &ClientOptions::default()).expect("client");
    c.set_token(Some(token.to_string()));
    c
}

/// A member: its keys, its bearer token and a client.
pub struct Member {
    /// Display name.
    pub name: String,
    /// Its keys.
    pub key: MemberKey<S>,
    /// The bearer token from its login.
    pub token: String,
    /// A logged-in client.
    pub client: Client,
}

impl Member {
    /// Certificate id.
    pub fn id(&self) -> String {
        self.key.certificate.fingerprint().to_hex()
    }

    /// A new client for `url` with this member's token (another server process, or the same
    /// address after a restart: no pooled connection to a dead process is reused).
    pub fn client_for(&self, url: &str) -> Client {
        client_with(url, &self.token)
    }

    /// Use a new client for `url` from now on.
    pub fn reconnect(&mut self, url: &str) {
        self.client = self.client_for(url);
    }
}

/// An organization: its key and its logged-in first administrator.
pub struct Org {
    /// The organization key.
    pub key: OrganizationKey<S>,
    /// Its first administrator.
    pub admin: Member,
}

impl Org {
    /// The self-signed record.
    pub fn record(&self) -> &Organization<S> {
        self.key.organization()
    }
    /// Fingerprint, hex.
    pub fn id(&self) -> String {
        self.record().fingerprint().to_hex()
    }
}

/// Create and register an organization and its first administrator through `url`, logged in.
pub async fn create_org(url: &str, name: &str) -> Org {
    let t = flows::unix_now();
    let key = OrganizationKey::<S>::generate(name, t - 3600, &mut OsRng).expect("org key");
    let mut client = Client::new(url, &ClientOptions::default()).expect("client");
    flows::register_organization(&client, key.organization())
        .await
        .expect("register organization");
    let admin_name = format!("{name} admin");
    let admin = flows::certify_new_member(&key, &admin_name, Roles::ADMIN, t - 3600, t + 86400)
        .expect("admin key");
    flows::register_first_admin(&client, &admin)
        .await
        .expect("register first admin");
    let token = flows::login(&mut client, &admin)
        .await
        .expect("admin login")
        .token;
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
        admin: Member {
            name: admin_name,
            key: admin,
            token,
            client,
        },
    }
}

/// Enroll a member: the request goes through `enroll_url`, the administrator approves through
/// its own client, and the member logs in through `login_url` (which may be another server
/// process of the same deployment).
pub async fn enroll_via(
    enroll_url: &str,
    login_url: &str,
    org: &Org,
    name: &str,
    roles: Roles,
) -> Member {
    let t = flows::unix_now();
    let client = Client::new(enroll_url, &ClientOptions::default()).expect("client");
    let ticket = flows::enroll(
        &client,
        org.record(),
        name,
        roles,
        t - 3600,
        t + 86400,
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
        org.record(),
        &ticket.pending_key_file,
        PASS,
    )
    .await
    .expect("finish enrollment")
    {
        EnrollmentOutcome::Approved(k) => *k,
        other => panic!("{name}: expected an approved enrollment, got {other:?}"),
    };
    let mut login_client = Client::new(login_url, &ClientOptions::default()).expect("client");
    let token = flows::login(&mut login_client, &key)
        .await
        .expect("login")
        .token;
    Member {
        name: name.into(),
        key,
        token,
        client: login_client,
    }
}

/// Enroll and log in through one server.
pub async fn enroll(url: &str, org: &Org, name: &str, roles: Roles) -> Member {
    enroll_via(url, url, org, name, roles).await
}

/// Deterministic bytes for a part: `len` bytes from a xorshift generator seeded by `seed`.
pub fn part_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A part name that says how to regenerate its plaintext.
pub fn part_name(seed: u64, len: usize) -> String {
    format!("gen-{seed:016x}-{len}")
}

/// The `(seed, len)` of a name made by [`part_name`].
pub fn parse_part_name(name: &str) -> Option<(u64, usize)> {
    let rest = name.strip_prefix("gen-")?;
    let (seed, len) = rest.split_once('-')?;
    Some((u64::from_str_radix(seed, 16).ok()?, len.parse().ok()?))
}

/// What [`download_and_decrypt`] found.
#[derive(Debug)]
pub struct Decrypted {
    /// Envelope id (hex).
    pub envelope_id: String,
    /// `(part index, part name, plaintext)` of every part the member holds in this copy.
    pub parts: Vec<(u32, String, Vec<u8>)>,
}

/// Download a delivery's envelope stream as its holder (a reader), verify the whole chain and
/// decrypt every part the member holds, in memory, without marking the delivery opened.
pub async fn download_and_decrypt(
    client: &Client,
    key: &MemberKey<S>,
    delivery_id: &str,
) -> Result<Decrypted, String> {
    let mut bytes = Vec::new();
    client
        .download_envelope(delivery_id, &mut bytes, None)
        .await
        .map_err(|e| format!("download: {e}"))?;
    let me = flows::copy_member_key(key).map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || decrypt_bytes(&bytes, &me))
        .await
        .map_err(|e| e.to_string())?
}

fn decrypt_bytes(bytes: &[u8], me: &MemberKey<S>) -> Result<Decrypted, String> {
    let mut src = Cursor::new(bytes);
    let file = EnvelopeFile::<S>::open(&mut src).map_err(|e| format!("envelope file: {e}"))?;
    let verified = file
        .header
        .clone()
        .verify()
        .map_err(|e| format!("the envelope does not verify: {e}"))?;
    let metadata = verified
        .open_metadata(&me.encryption)
        .map_err(|e| format!("metadata: {e}"))?;
    let held: Vec<u32> = verified
        .slots_held_by(me.encryption.public_key())
        .into_iter()
        .filter_map(SlotId::part_index)
        .filter(|i| file.header.bodies.contains(i))
        .collect();
    let mut parts = Vec::with_capacity(held.len());
    for index in held {
        let mut out = Vec::new();
        envelope::decrypt_part(
            &verified,
            &file,
            &mut src,
            index,
            &me.encryption,
            &mut out,
            &mut |_| {},
        )
        .map_err(|e| format!("part {index}: {e}"))?;
        let name = metadata
            .parts
            .get(index as usize)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        parts.push((index, name, out));
    }
    Ok(Decrypted {
        envelope_id: hex::encode(file.header.core.envelope_id),
        parts,
    })
}

/// Check that every decrypted part is exactly the plaintext its name describes.
pub fn check_generated(d: &Decrypted) -> Result<(), String> {
    for (index, name, data) in &d.parts {
        let (seed, len) =
            parse_part_name(name).ok_or_else(|| format!("part {index}: unexpected name {name}"))?;
        if data.len() != len || *data != part_bytes(seed, len) {
            return Err(format!(
                "part {index} ({name}) decrypts to {} bytes that differ from what was sent",
                data.len()
            ));
        }
    }
    Ok(())
}
