//! `soshiki`: organizational cryptography for files (offline file mode).
//!
//! A sender encrypts a document to another organization's representative; inside that
//! organization each forwarder re-encrypts it to the next member without producing the
//! plaintext; the staff member in charge decrypts. Every command verifies signatures,
//! certificates and hops before it trusts anything, and never leaves partial plaintext behind.

mod cmd;
mod ctx;
mod files;
mod i18n;
mod progress;
mod size;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ctx::{Ctx, PassSource};
use crate::i18n::{Lang, M};

const ABOUT: &str = "Organizational cryptography for files: encrypt to an organization's \
representative; forward inside it by re-encryption, never exposing the plaintext.\n\
組織暗号: 組織の受信代表者宛てに暗号化し、組織内では平文を出さずに再暗号化で転送します。";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "soshiki", version, about = ABOUT, long_about = None)]
struct Cli {
    /// Message language (default: from LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, global = true, value_enum)]
    lang: Option<LangArg>,
    /// Read passphrases from this file (first line) instead of SOSHIKI_PASSPHRASE or a prompt.
    #[arg(long, global = true, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Weakest accepted key-file protection (tests and demos only).
    #[arg(long, global = true, hide = true)]
    kdf_min: bool,
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LangArg {
    Ja,
    En,
}

/// `org policy --sender-role`: whether sending outside needs the sender role.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum SenderRoleArg {
    /// Only members whose certificate carries the sender role may send outside.
    Required,
    /// Every member may send outside.
    NotRequired,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create an organization key or a certified member key.
    #[command(subcommand)]
    Keygen(KeygenCommand),
    /// Encrypt files as the parts of an envelope to one or more recipients.
    Encrypt(EncryptArgs),
    /// Re-encrypt an envelope (whole or some parts) to another member of the receiving
    /// organization, without decrypting it.
    Forward(ForwardArgs),
    /// Verify an envelope and decrypt the parts this key holds into a directory.
    Decrypt(DecryptArgs),
    /// Show an envelope's header, hop chain and signature check, without decrypting bodies.
    Inspect(InspectArgs),
    /// Verify an envelope's header, hops and body digests without any key.
    Verify(VerifyArgs),
    /// Run a scenario end to end. Without NAME (or with `offline`): the file-mode Omachi demo,
    /// no server. With NAME: against an embedded server in a temporary directory.
    #[command(
        after_help = "Scenarios / シナリオ: offline, omachi, minowa, tsubame, kakogawa, \
kyoto-referral, outsourcing, wrong-recipient"
    )]
    Demo(DemoArgs),
    /// Run the management server (SQLite and body files in a data directory by default).
    Serve(ServeArgs),
    /// Server settings files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Back up the embedded store (SQLite and body files) while the server runs, or verify a
    /// backup (`backup verify DIR`).
    #[command(args_conflicts_with_subcommands = true)]
    Backup(BackupArgs),
    /// Restore a verified backup into an empty data directory.
    Restore(RestoreArgs),
    /// Copy an embedded store (SQLite and body files) into an empty PostgreSQL database and an
    /// S3 bucket, then verify the copy (row counts, body digests, audit chains).
    MigrateStore(MigrateStoreArgs),
    /// Organizations on the server: create (with its first administrator), show, fingerprint.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Members: enroll (on the member's device), approve, revoke, list.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Log in with a member key (finishes an approved enrollment first).
    Login(KeyArgs),
    /// Encrypt files locally and send them to another organization's representative.
    Send(SendArgs),
    /// List the deliveries this member holds.
    Inbox(InboxArgs),
    /// Recall an unopened delivery this member created (or as an administrator).
    Recall(DeliveryArgs),
    /// Download, verify and decrypt a delivery into a directory; marks it opened.
    Open(OpenArgs),
    /// The sender's receipts for an envelope: delivered, forwarded, opened, recalled.
    Receipts(ReceiptsArgs),
    /// The organization's audit trail (administrator).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Show or replace this forwarder's routing rules (`CONDITION -> CERTIFICATE-ID`).
    Rules(RulesArgs),
    /// Run as a forwarder: poll the inbox and apply the rules (model 2).
    Agent(AgentArgs),
    /// Write the manual pages (roff) of `soshiki` and of every subcommand into a directory, as
    /// `soshiki.1`, `soshiki-serve.1`, … (scripts/package-deb.sh installs them with the Debian
    /// package; generated from this very command line, so they never drift from `--help`).
    #[command(hide = true)]
    Manpage {
        /// The directory to write into (created when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
struct ConnArgs {
    /// Server URL (default: the last one used, else http://127.0.0.1:7780).
    #[arg(long, env = "SOSHIKI_SERVER", value_name = "URL")]
    server: Option<String>,
    /// Client state directory (pins, tokens, pending enrollments; default ~/.soshiki).
    #[arg(long, env = "SOSHIKI_STATE", value_name = "DIR")]
    state: Option<PathBuf>,
    /// Trust this CA certificate (PEM) for HTTPS.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

impl ConnArgs {
    fn conn(&self) -> cmd::client::Conn {
        cmd::client::Conn {
            server: self.server.clone(),
            state_dir: self.state.clone(),
            ca: self.ca.clone(),
        }
    }
}

#[derive(Debug, Args)]
struct KeyArgs {
    /// The member key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    #[command(flatten)]
    conn: ConnArgs,
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create the organization key and the first administrator's key, and register both.
    Create {
        /// Organization name.
        #[arg(long)]
        name: String,
        /// Cipher suite.
        #[arg(long, default_value = "p256", value_parser = ["p256", "ristretto255"])]
        suite: String,
        /// Organization key file to write.
        #[arg(short, long, value_name = "FILE")]
        out: PathBuf,
        /// The administrator's name.
        #[arg(long)]
        admin_name: String,
        /// The administrator's member key file to write.
        #[arg(long, value_name = "FILE")]
        admin_out: PathBuf,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
        /// The operator's registration token (a server started with --registration closed).
        #[arg(long, value_name = "FILE")]
        registration_token_file: Option<PathBuf>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Fetch an organization by fingerprint, check and pin it, list its verified members.
    Show {
        /// Fingerprint (at least 32 hex digits), obtained out of band.
        fingerprint: String,
        /// Cipher suite.
        #[arg(long, default_value = "p256", value_parser = ["p256", "ristretto255"])]
        suite: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Show the organization's policy, or set parts of it (administrator): expiry, retention,
    /// longest certificate validity, storage quota, who may send outside. Options not given
    /// keep their value.
    Policy {
        /// The administrator's member key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Days after which an unopened delivery expires (1 to 36500, or `none`).
        #[arg(long, value_name = "DAYS|none")]
        expiry: Option<String>,
        /// Days after which bodies are removed (1 to 36500, or `none`).
        #[arg(long, value_name = "DAYS|none")]
        retention: Option<String>,
        /// The longest validity of a member certificate, in days (1 to 36500, or `none`).
        #[arg(long, value_name = "DAYS|none")]
        max_validity: Option<String>,
        /// The storage quota: what the members' sent envelopes and unfinished uploads may
        /// occupy on the server, e.g. `500MiB`, `20GiB`, `1TB`, plain bytes; `none` or 0 for
        /// no quota (at most 1PiB).
        #[arg(long, value_name = "SIZE|none")]
        quota: Option<String>,
        /// Whether only members with the sender role may send to other organizations (the
        /// server refuses anyone else's send; the browser hides 送信 from them).
        #[arg(long, value_enum)]
        sender_role: Option<SenderRoleArg>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Print the organization fingerprint of an organization or member key file.
    Fingerprint {
        /// The key file.
        key: PathBuf,
    },
    /// The organization's list of trusted partner organizations, signed by the organization
    /// key and honoured by every member's client (SPEC.md §5.8).
    #[command(subcommand)]
    Partners(PartnersCommand),
}

#[derive(Debug, Subcommand)]
enum PartnersCommand {
    /// Add a partner organization (administrator, with the organization key): looks it up,
    /// shows its name and asks for confirmation.
    Add {
        /// The partner organization's fingerprint (at least 32 hex digits), from its
        /// administrator on paper or by telephone.
        fingerprint: String,
        /// The administrator's member key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The organization key (signs the list).
        #[arg(long, value_name = "FILE")]
        org_key: PathBuf,
        /// Cipher suite of the partner organization.
        #[arg(long, default_value = "p256", value_parser = ["p256", "ristretto255"])]
        suite: String,
        /// Do not ask: the name and fingerprint were checked.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Remove a partner organization (administrator, with the organization key).
    Remove {
        /// The partner organization's fingerprint (full, or at least 32 hex digits).
        fingerprint: String,
        /// The administrator's member key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The organization key (signs the list).
        #[arg(long, value_name = "FILE")]
        org_key: PathBuf,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// List the partner organizations of this member's organization (verified).
    List(KeyArgs),
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
    /// Generate keys on this device and ask the organization to certify them.
    Enroll {
        /// The organization's fingerprint (obtained out of band).
        #[arg(long, value_name = "FINGERPRINT")]
        org: String,
        /// Cipher suite.
        #[arg(long, default_value = "p256", value_parser = ["p256", "ristretto255"])]
        suite: String,
        /// Member name.
        #[arg(long)]
        name: String,
        /// Roles: comma-separated from representative, forwarder, reader, sender (may send to
        /// other organizations where the policy requires it), admin.
        #[arg(long, default_value = "reader")]
        roles: String,
        /// Certificate validity in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// The (pending) key file to write.
        #[arg(short, long, value_name = "FILE")]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// List pending enrollments, or approve one (certified locally with the organization key).
    Approve {
        /// Enrollment id; without it, list the pending ones.
        id: Option<String>,
        /// The administrator's member key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The organization key (needed to approve).
        #[arg(long, value_name = "FILE")]
        org_key: Option<PathBuf>,
        /// The enrollment code shown on the member's device (16 digits; asked on the terminal
        /// if omitted). Only a request with this code is certified.
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Revoke a member's certificate (administrator): publishes a new revocation list signed
    /// with the organization key, which every sender and forwarder checks.
    Revoke {
        /// The certificate id.
        cert: String,
        /// The administrator's member key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The organization key (signs the revocation list).
        #[arg(long, value_name = "FILE")]
        org_key: PathBuf,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Publish a fresh revocation list (same revocations, next serial) before the current one
    /// goes stale (administrator, with the organization key).
    Revocations {
        /// The administrator's member key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The organization key (signs the list).
        #[arg(long, value_name = "FILE")]
        org_key: PathBuf,
        /// Days until the list is stale (its next update).
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// List the members of this key's organization, certificates verified.
    List(KeyArgs),
}

#[derive(Debug, Args)]
struct SendArgs {
    /// The recipient organization's fingerprint (obtained out of band).
    #[arg(long, value_name = "FINGERPRINT")]
    to_org: String,
    /// A part: FILE, optionally with labels `FILE::district=Omachi`. Repeatable.
    #[arg(long = "part", value_name = "FILE[::LABELS]", required = true)]
    parts: Vec<String>,
    /// Title (sealed).
    #[arg(long, default_value = "")]
    title: String,
    /// Category (sealed).
    #[arg(long, default_value = "")]
    category: String,
    /// Split every `.csv` part into one part per value of this column (its header name, or its
    /// 1-based number), labelled `COLUMN=value`, as the browser does. UTF-8 (with or without
    /// BOM) and Shift_JIS (CP932) files; each part keeps the original bytes.
    #[arg(long, value_name = "COLUMN")]
    split_by: Option<String>,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(Debug, Args)]
struct InboxArgs {
    /// Only deliveries with this status (delivered, forwarded, opened, recalled, expired).
    #[arg(long)]
    status: Option<String>,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(Debug, Args)]
struct DeliveryArgs {
    /// The delivery id.
    delivery: String,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(Debug, Args)]
struct OpenArgs {
    /// The delivery id.
    delivery: String,
    /// Output directory.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(Debug, Args)]
struct ReceiptsArgs {
    /// The envelope id.
    envelope: String,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify and print every entry.
    Show(KeyArgs),
    /// Verify the hash chain and every signature.
    Verify(KeyArgs),
    /// Sign a checkpoint of the trail with the organization key (administrator).
    Checkpoint {
        /// The organization key (signs the checkpoint).
        #[arg(long, value_name = "FILE")]
        org_key: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
}

#[derive(Debug, Args)]
struct RulesArgs {
    /// Replace the rules with these (repeatable), e.g. "district=A -> CERTIFICATE-ID".
    #[arg(long = "set", value_name = "RULE")]
    set: Vec<String>,
    /// Remove every rule.
    #[arg(long, conflicts_with = "set")]
    clear: bool,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(Debug, Args)]
struct AgentArgs {
    /// One pass, then exit.
    #[arg(long)]
    once: bool,
    /// Seconds between passes.
    #[arg(long, default_value_t = 10)]
    interval: u64,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Scenario name (default: offline).
    name: Option<String>,
}

/// `serve`'s flags. Each overrides the same setting of `SOSHIKI_*` environment variables and of
/// the `--config` file (docs/operations.md, "Configuration").
#[derive(Debug, Args)]
struct ServeArgs {
    /// Settings file (TOML); see `soshiki config check`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory (SQLite database and body files unless a database or blob store URL says
    /// otherwise) [default: soshiki-data].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Address to bind [default: 127.0.0.1:7780].
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// Database URL, e.g. postgres://user@host/db (default: SQLite in the data directory).
    /// A URL with a password belongs in the settings file, SOSHIKI_DATABASE_URL or
    /// database_url_file, not on the command line.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Blob store, e.g. s3://bucket?endpoint=http://127.0.0.1:9000 (default: DIR/blobs).
    #[arg(long, value_name = "URL")]
    blobs: Option<String>,
    /// The origin clients dial, e.g. https://soshiki.example (default: from the bound address).
    #[arg(long, value_name = "URL")]
    origin: Option<String>,
    /// HTTPS certificate chain (PEM); requires a TLS key.
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// HTTPS private key (PEM); requires a TLS certificate.
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Serve /metrics on this address instead of the main one (e.g. 127.0.0.1:9780).
    #[arg(long, value_name = "ADDR")]
    metrics_bind: Option<String>,
    /// Seed the scenarios' organizations and members, and write their key files under DIR/demo.
    #[arg(long)]
    demo: bool,
    /// Requests per minute and client address on the unauthenticated endpoints (registration,
    /// enrollment, login); 0 turns the limit off (e.g. behind a rate-limiting proxy)
    /// [default: 600].
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,
    /// Requests a client address may make at once before the rate limit applies [default: 300].
    #[arg(long, value_name = "N")]
    rate_burst: Option<u32>,
    /// Who may register organizations: open (anyone) or closed (only with the token of
    /// --registration-token-file, for the operator of a shared server) [default: open].
    #[arg(long, value_name = "MODE", value_parser = ["open", "closed"])]
    registration: Option<String>,
    /// File holding the registration token (needed with closed registration).
    #[arg(long, value_name = "FILE")]
    registration_token_file: Option<PathBuf>,
    /// Log lines as text (readable) or json (one object per line) [default: text].
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Which events to log, RUST_LOG-style (e.g. info, or info,soshiki_server=debug)
    /// [default: info,sqlx=warn].
    #[arg(long, value_name = "FILTER")]
    log_filter: Option<String>,
}

impl ServeArgs {
    /// The flags as a settings layer (only what was given).
    fn layer(&self) -> cmd::settings::Layer {
        cmd::settings::Layer {
            data: self.data.clone(),
            bind: self.bind.clone(),
            origin: self.origin.clone(),
            database_url: self.database.clone(),
            blobs_url: self.blobs.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            metrics_bind: self.metrics_bind.clone(),
            rate_limit: self.rate_limit,
            rate_burst: self.rate_burst,
            registration: self.registration.clone(),
            registration_token_file: self.registration_token_file.clone(),
            demo: self.demo.then_some(true),
            log_format: self.log_format.clone(),
            log_filter: self.log_filter.clone(),
            ..Default::default()
        }
    }
}

/// Which store: as for `serve` (the settings file, `SOSHIKI_*`, these flags).
#[derive(Debug, Args)]
struct StoreArgs {
    /// Settings file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory [default: soshiki-data].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Database URL (default: SQLite in the data directory).
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Blob store (default: DIR/blobs).
    #[arg(long, value_name = "URL")]
    blobs: Option<String>,
}

impl StoreArgs {
    fn settings(&self) -> anyhow::Result<cmd::settings::Settings> {
        let mut layers = Vec::new();
        if let Some(f) = &self.config {
            layers.push((
                cmd::settings::Source::File,
                cmd::settings::Layer::from_file(f)?,
            ));
        }
        layers.push((
            cmd::settings::Source::Env,
            cmd::settings::Layer::from_env(&|k| std::env::var(k).ok())?,
        ));
        layers.push((
            cmd::settings::Source::Flag,
            cmd::settings::Layer {
                data: self.data.clone(),
                database_url: self.database.clone(),
                blobs_url: self.blobs.clone(),
                ..Default::default()
            },
        ));
        cmd::settings::resolve(&layers)
    }
}

#[derive(Debug, Args)]
struct BackupArgs {
    #[command(subcommand)]
    cmd: Option<BackupCommand>,
    /// The backup directory to create (new or empty).
    #[arg(long, value_name = "DIR", required = true)]
    to: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Subcommand)]
enum BackupCommand {
    /// Check a backup on its own: digests, database integrity, counts, bodies, audit chains.
    Verify {
        /// The backup directory.
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
struct RestoreArgs {
    /// The backup directory (verified before anything is written).
    dir: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
struct MigrateStoreArgs {
    /// The source: the embedded store, named as for `serve`.
    #[command(flatten)]
    store: StoreArgs,
    /// The target's settings file (its database_url / blobs_url, or their _file forms): keeps
    /// passwords and S3 keys off the command line.
    #[arg(long, value_name = "FILE")]
    to_config: Option<PathBuf>,
    /// The target database, postgres://… (instead of --to-config).
    #[arg(long, value_name = "URL")]
    to_database: Option<String>,
    /// The target blob store, s3://bucket… (instead of --to-config).
    #[arg(long, value_name = "URL")]
    to_blobs: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Check a settings file and print the effective settings (with the SOSHIKI_* environment
    /// applied), secrets masked, each with where it came from.
    Check {
        /// The settings file (TOML).
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum KeygenCommand {
    /// Create an organization key (passphrase-protected) and its public record `<OUT>.pub`.
    Org(KeygenOrgArgs),
    /// Create a member's keys, certify them with the organization key, and write the member
    /// key file and its public identity `<OUT>.id`.
    Member(KeygenMemberArgs),
}

#[derive(Debug, Args)]
struct KeygenOrgArgs {
    /// Organization name, e.g. "大町市 市民課".
    #[arg(long)]
    name: String,
    /// Cipher suite.
    #[arg(long, default_value = "p256", value_parser = ["p256", "ristretto255"])]
    suite: String,
    /// Key file to write; the public record goes beside it with extension `.pub`.
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
    /// Write the public record as ASCII armor.
    #[arg(long)]
    armor: bool,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
struct KeygenMemberArgs {
    /// Member name, e.g. "受信代表 高橋".
    #[arg(long)]
    name: String,
    /// Roles: comma-separated from representative, forwarder, reader, sender (may send to other
    /// organizations where the policy requires it), admin.
    #[arg(long, default_value = "reader")]
    roles: String,
    /// The organization key that certifies the member.
    #[arg(long, value_name = "FILE")]
    org_key: PathBuf,
    /// Member key file to write; the identity goes beside it with extension `.id`.
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
    /// Certificate validity in days.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Write the identity as ASCII armor.
    #[arg(long)]
    armor: bool,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "With one --to, OUT is the envelope file. With several --to, OUT is a \
directory and one envelope per recipient is written into it, named after the member \
(sanitized), e.g. OUT/<member>.skenv.\n\
--to が一つなら OUT は封筒ファイル、複数なら OUT はディレクトリで、受信者ごとに封筒を書き出します。"
)]
struct EncryptArgs {
    /// The sender's member key.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Recipient identity file (normally the receiving organization's representative).
    /// Repeat for several recipients.
    #[arg(long = "to", value_name = "ID", required = true)]
    to: Vec<PathBuf>,
    /// A part: FILE, optionally with labels `FILE::district=Omachi,kind=list`. Repeatable.
    #[arg(long = "part", value_name = "FILE[::LABELS]", required = true)]
    parts: Vec<String>,
    /// Title (件名), readable by every holder.
    #[arg(long, default_value = "")]
    title: String,
    /// Category, readable by every holder.
    #[arg(long, default_value = "")]
    category: String,
    /// Body chunk size in bytes (power of two, 1 KiB to 16 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = soshiki_core::wire::limits::DEFAULT_CHUNK)]
    chunk_size: u32,
    /// Pin the recipients' organization: fingerprint (at least 32 hex digits) or a `.pub` file.
    #[arg(long, value_name = "FINGERPRINT")]
    recipient_org: Option<String>,
    /// Write ASCII armor.
    #[arg(long)]
    armor: bool,
    /// Output file (one recipient) or directory (several recipients).
    #[arg(short, long, value_name = "OUT")]
    out: PathBuf,
    /// Overwrite existing output files.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
struct ForwardArgs {
    /// The envelope to forward (file mode).
    #[arg(required_unless_present = "delivery")]
    input: Option<PathBuf>,
    /// The forwarder's member key (the current holder).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The target member's identity file (file mode; must belong to the receiving organization).
    #[arg(long, value_name = "ID", required_unless_present = "delivery")]
    to: Option<PathBuf>,
    /// Server mode: forward this delivery (model 2) instead of a file.
    #[arg(long, value_name = "ID", conflicts_with_all = ["input", "to", "in_place", "armor"])]
    delivery: Option<String>,
    /// Server mode: `CERTIFICATE-ID:PART,PART`, one per target (repeatable; one action).
    #[arg(long = "route", value_name = "CERT:PARTS", requires = "delivery")]
    routes: Vec<String>,
    #[command(flatten)]
    conn: ConnArgs,
    /// Forward only these parts (comma-separated indices); default: every part this key holds.
    #[arg(long, value_delimiter = ',', value_name = "N,N")]
    parts: Option<Vec<u32>>,
    /// Output file.
    #[arg(
        short,
        long,
        value_name = "OUT",
        required_unless_present_any = ["in_place", "delivery"],
        conflicts_with = "in_place"
    )]
    out: Option<PathBuf>,
    /// Append the new header to the input file instead (only when every body is kept).
    #[arg(long)]
    in_place: bool,
    /// Write ASCII armor.
    #[arg(long, conflicts_with = "in_place")]
    armor: bool,
    /// Overwrite an existing output file.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
struct DecryptArgs {
    /// The envelope to decrypt.
    input: PathBuf,
    /// The reader's member key.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Output directory.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Decrypt only this part.
    #[arg(long, value_name = "N")]
    part: Option<u32>,
    /// Refuse unless the sender's organization has this fingerprint (or this `.pub` file).
    #[arg(long, value_name = "FINGERPRINT")]
    sender_org: Option<String>,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
struct InspectArgs {
    /// The envelope to inspect.
    input: PathBuf,
    /// A member key; shows the sealed metadata (title, category, labels) if it holds it.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The envelope to verify.
    input: PathBuf,
    /// Require the sender's organization to have this fingerprint (or this `.pub` file).
    #[arg(long, value_name = "FINGERPRINT")]
    sender_org: Option<String>,
    /// Require the recipient's organization to have this fingerprint (or this `.pub` file).
    #[arg(long, value_name = "FINGERPRINT")]
    recipient_org: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let lang = match cli.lang {
        Some(LangArg::Ja) => Lang::Ja,
        Some(LangArg::En) => Lang::En,
        None => i18n::detect(),
    };
    i18n::set_lang(lang);
    let ctx = Ctx::new(
        PassSource::from_env_or_file(cli.passphrase_file),
        cli.kdf_min,
    );
    match run(&ctx, cli.cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", i18n::tr(M::ErrorPrefix, &[&format!("{e:#}")]));
            ExitCode::FAILURE
        }
    }
}

fn run(ctx: &Ctx, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Keygen(KeygenCommand::Org(a)) => {
            cmd::keygen::org_command(ctx, &a.name, &a.suite, &a.out, a.armor, a.force)
        }
        Command::Keygen(KeygenCommand::Member(a)) => cmd::keygen::member_command(
            ctx, &a.name, &a.roles, &a.org_key, &a.out, a.days, a.armor, a.force,
        ),
        Command::Encrypt(a) => cmd::encrypt::command(
            ctx,
            &cmd::encrypt::Request {
                key: a.key,
                to: a.to,
                parts: a.parts,
                title: a.title,
                category: a.category,
                chunk_size: a.chunk_size,
                recipient_org: a.recipient_org,
                armor: a.armor,
                out: a.out,
                force: a.force,
            },
        ),
        Command::Forward(a) if a.delivery.is_some() => {
            let d = a.delivery.as_deref().unwrap_or_default();
            if a.routes.is_empty() {
                return Err(i18n::err(M::NeedRoute, &[]));
            }
            cmd::client::deliver(ctx, &a.conn.conn(), &a.key, d, &a.routes)
        }
        Command::Forward(a) => cmd::forward::command(
            ctx,
            &cmd::forward::Request {
                input: a.input.unwrap_or_default(),
                key: a.key,
                to: a.to.unwrap_or_default(),
                parts: a.parts,
                out: a.out,
                in_place: a.in_place,
                armor: a.armor,
                force: a.force,
            },
        ),
        Command::Decrypt(a) => cmd::decrypt::command(
            ctx,
            &cmd::decrypt::Request {
                input: a.input,
                key: a.key,
                out_dir: a.out,
                part: a.part,
                sender_org: a.sender_org,
                force: a.force,
            },
        ),
        Command::Inspect(a) => cmd::inspect::inspect_command(ctx, &a.input, a.key.as_deref()),
        Command::Verify(a) => cmd::inspect::verify_command(
            &a.input,
            a.sender_org.as_deref(),
            a.recipient_org.as_deref(),
        ),
        Command::Demo(a) => match a.name.as_deref() {
            None | Some("offline") => cmd::demo::command(),
            Some(name) => cmd::scenarios::command(name),
        },
        Command::Org(OrgCommand::Create {
            name,
            suite,
            out,
            admin_name,
            admin_out,
            force,
            registration_token_file,
            conn,
        }) => cmd::client::org_create(
            ctx,
            &conn.conn(),
            &name,
            &suite,
            &out,
            &admin_name,
            &admin_out,
            force,
            registration_token_file.as_deref(),
        ),
        Command::Org(OrgCommand::Show {
            fingerprint,
            suite,
            conn,
        }) => cmd::client::org_show(&conn.conn(), &fingerprint, &suite),
        Command::Org(OrgCommand::Fingerprint { key }) => cmd::client::org_fingerprint(ctx, &key),
        Command::Org(OrgCommand::Policy {
            key,
            expiry,
            retention,
            max_validity,
            quota,
            sender_role,
            conn,
        }) => cmd::client::org_policy(
            ctx,
            &conn.conn(),
            &key,
            &cmd::client::PolicyChange {
                expiry,
                retention,
                max_validity,
                quota,
                sender_role_required: sender_role.map(|r| matches!(r, SenderRoleArg::Required)),
            },
        ),
        Command::Org(OrgCommand::Partners(PartnersCommand::Add {
            fingerprint,
            key,
            org_key,
            suite,
            yes,
            conn,
        })) => {
            cmd::client::partners_add(ctx, &conn.conn(), &key, &org_key, &fingerprint, &suite, yes)
        }
        Command::Org(OrgCommand::Partners(PartnersCommand::Remove {
            fingerprint,
            key,
            org_key,
            conn,
        })) => cmd::client::partners_remove(ctx, &conn.conn(), &key, &org_key, &fingerprint),
        Command::Org(OrgCommand::Partners(PartnersCommand::List(a))) => {
            cmd::client::partners_list(ctx, &a.conn.conn(), &a.key)
        }
        Command::Member(MemberCommand::Enroll {
            org,
            suite,
            name,
            roles,
            days,
            out,
            force,
            conn,
        }) => cmd::client::member_enroll(
            ctx,
            &conn.conn(),
            &org,
            &suite,
            &name,
            &roles,
            days,
            &out,
            force,
        ),
        Command::Member(MemberCommand::Approve {
            id,
            key,
            org_key,
            code,
            conn,
        }) => cmd::client::member_approve(
            ctx,
            &conn.conn(),
            &key,
            org_key.as_deref(),
            id.as_deref(),
            code.as_deref(),
        ),
        Command::Member(MemberCommand::Revoke {
            cert,
            key,
            org_key,
            conn,
        }) => cmd::client::member_revoke(ctx, &conn.conn(), &key, &org_key, &cert),
        Command::Member(MemberCommand::Revocations {
            key,
            org_key,
            days,
            conn,
        }) => cmd::client::member_revocations(ctx, &conn.conn(), &key, &org_key, days),
        Command::Member(MemberCommand::List(k)) => {
            cmd::client::member_list(ctx, &k.conn.conn(), &k.key)
        }
        Command::Login(k) => cmd::client::login(ctx, &k.conn.conn(), &k.key),
        Command::Send(a) => cmd::client::send(
            ctx,
            &a.key.conn.conn(),
            &a.key.key,
            &a.to_org,
            &a.parts,
            &a.title,
            &a.category,
            a.split_by.as_deref(),
        ),
        Command::Inbox(a) => {
            cmd::client::inbox(ctx, &a.key.conn.conn(), &a.key.key, a.status.as_deref())
        }
        Command::Recall(a) => cmd::client::recall(ctx, &a.key.conn.conn(), &a.key.key, &a.delivery),
        Command::Open(a) => {
            cmd::client::open(ctx, &a.key.conn.conn(), &a.key.key, &a.delivery, &a.out)
        }
        Command::Receipts(a) => {
            cmd::client::receipts(ctx, &a.key.conn.conn(), &a.key.key, &a.envelope)
        }
        Command::Audit(AuditCommand::Show(k)) => {
            cmd::client::audit(ctx, &k.conn.conn(), &k.key, true)
        }
        Command::Audit(AuditCommand::Verify(k)) => {
            cmd::client::audit(ctx, &k.conn.conn(), &k.key, false)
        }
        Command::Audit(AuditCommand::Checkpoint { org_key, key }) => {
            cmd::client::audit_checkpoint(ctx, &key.conn.conn(), &key.key, &org_key)
        }
        Command::Rules(a) => {
            let set = if a.clear || !a.set.is_empty() {
                Some(a.set.as_slice())
            } else {
                None
            };
            cmd::client::rules(ctx, &a.key.conn.conn(), &a.key.key, set)
        }
        Command::Agent(a) => {
            cmd::client::agent(ctx, &a.key.conn.conn(), &a.key.key, a.once, a.interval)
        }
        Command::Serve(a) => {
            let mut layers = Vec::new();
            if let Some(f) = &a.config {
                layers.push((
                    cmd::settings::Source::File,
                    cmd::settings::Layer::from_file(f)?,
                ));
            }
            layers.push((
                cmd::settings::Source::Env,
                cmd::settings::Layer::from_env(&|k| std::env::var(k).ok())?,
            ));
            layers.push((cmd::settings::Source::Flag, a.layer()));
            cmd::serve::command(cmd::settings::resolve(&layers)?)
        }
        Command::Backup(BackupArgs {
            cmd: Some(BackupCommand::Verify { dir }),
            ..
        }) => cmd::backup::verify(&dir),
        Command::Backup(BackupArgs {
            cmd: None,
            to,
            store,
        }) => {
            let to = to.ok_or_else(|| anyhow::anyhow!("--to DIR"))?;
            cmd::backup::backup(&store.settings()?, &to)
        }
        Command::Restore(RestoreArgs { dir, store }) => {
            cmd::backup::restore(&store.settings()?, &dir)
        }
        Command::MigrateStore(a) => {
            let mut layers = Vec::new();
            if let Some(f) = &a.to_config {
                layers.push((
                    cmd::settings::Source::File,
                    cmd::settings::Layer::from_file(f)?,
                ));
            }
            layers.push((
                cmd::settings::Source::Flag,
                cmd::settings::Layer {
                    database_url: a.to_database.clone(),
                    blobs_url: a.to_blobs.clone(),
                    ..Default::default()
                },
            ));
            let target = cmd::settings::resolve(&layers)?;
            cmd::backup::migrate_store(&a.store.settings()?, &target)
        }
        Command::Manpage { out } => {
            let n = write_manpages(&out)?;
            println!("{}", i18n::tr(M::ManpagesWritten, &[&n, &out.display()]));
            Ok(())
        }
        Command::Config(ConfigCommand::Check { file }) => {
            let layers = [
                (
                    cmd::settings::Source::File,
                    cmd::settings::Layer::from_file(&file)?,
                ),
                (
                    cmd::settings::Source::Env,
                    cmd::settings::Layer::from_env(&|k| std::env::var(k).ok())?,
                ),
            ];
            let s = cmd::settings::resolve(&layers)?;
            println!("{}", i18n::tr(i18n::M::ConfigValid, &[&file.display()]));
            print!("{}", cmd::settings::describe(&s));
            Ok(())
        }
    }
}

/// Write `soshiki.1` and one page per visible subcommand into `dir`; returns how many.
fn write_manpages(dir: &std::path::Path) -> anyhow::Result<usize> {
    use clap::CommandFactory;
    let fail = |e: std::io::Error| i18n::err(M::CannotWriteIn, &[&dir.display(), &e]);
    std::fs::create_dir_all(dir).map_err(fail)?;
    clap_mangen::generate_to(Cli::command(), dir).map_err(fail)?;
    let n = std::fs::read_dir(dir)
        .map_err(fail)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".1"))
        .count();
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn manpages_cover_every_visible_command_and_its_options() {
        let dir = tempfile::tempdir().expect("dir");
        let n = write_manpages(dir.path()).expect("manpages");
        let page = |name: &str| {
            std::fs::read_to_string(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let main = page("soshiki.1");
        assert!(main.contains(".TH soshiki 1"), "{main}");
        assert!(main.contains("serve") && main.contains("config"), "{main}");
        // The hidden commands are not documented.
        assert!(!main.contains("manpage"), "{main}");
        assert!(!dir.path().join("soshiki-manpage.1").exists());
        // Each subcommand's options are on its own page.
        let serve = page("soshiki-serve.1");
        for flag in ["config", "bind", "database", "registration", "log\\-format"] {
            let flag = format!("\\fB\\-\\-{flag}\\fR");
            assert!(serve.contains(&flag), "soshiki-serve.1 lacks {flag}");
        }
        assert!(page("soshiki-config-check.1").contains("secrets masked"));
        assert!(page("soshiki-org-partners-add.1").contains("fingerprint"));
        // One page per command that is not hidden, at every level.
        fn pages(c: &clap::Command) -> usize {
            1 + c
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help")
                .map(pages)
                .sum::<usize>()
        }
        let cmd = Cli::command();
        assert!(pages(&cmd) > 30);
        assert_eq!(n, pages(&cmd));
    }
}
