//! The options of a member talking to the server: `org`, `member`, `login`, `send`, `inbox`,
//! `recall`, `open`, `receipts`, `audit`, `rules`, `agent` (run by
//! crates/soshiki-cli/src/cmd/client.rs).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::SuiteArg;

/// `org policy --sender-role`: whether sending outside needs the sender role.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SenderRoleArg {
    /// Only members whose certificate carries the sender role may send outside.
    Required,
    /// Every member may send outside.
    NotRequired,
}

/// Where the server and the client state are (`--server`, `--state`, `--ca`).
#[derive(Debug, Clone, Args)]
pub struct ConnArgs {
    /// Server URL (default: the last one used, else http://127.0.0.1:7780).
    #[arg(long, env = "SOSHIKI_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Client state directory (pins, tokens, pending enrollments; default ~/.soshiki).
    #[arg(long, env = "SOSHIKI_STATE", value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Trust this CA certificate (PEM) for HTTPS.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

/// A member key and the connection: the options of every command run as a member.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The member key file.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `org`.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create the organization key and the first administrator's key, and register both.
    Create(OrgCreateArgs),
    /// Fetch an organization by fingerprint, check and pin it, list its verified members.
    Show(OrgShowArgs),
    /// Show the organization's policy, or set parts of it (administrator): expiry, retention,
    /// longest certificate validity, storage quota, who may send outside. Options not given
    /// keep their value.
    Policy(OrgPolicyArgs),
    /// Print the organization fingerprint of an organization or member key file.
    Fingerprint(OrgFingerprintArgs),
    /// The organization's list of trusted partner organizations, signed by the organization
    /// key and honoured by every member's client (SPEC.md §5.8).
    #[command(subcommand)]
    Partners(PartnersCommand),
}

/// `org partners`.
#[derive(Debug, Subcommand)]
pub enum PartnersCommand {
    /// Add a partner organization (administrator, with the organization key): looks it up,
    /// shows its name and asks for confirmation.
    Add(PartnerAddArgs),
    /// Remove a partner organization (administrator, with the organization key).
    Remove(PartnerRemoveArgs),
    /// List the partner organizations of this member's organization (verified).
    List(KeyArgs),
}

/// `member`.
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Generate keys on this device and ask the organization to certify them.
    Enroll(EnrollArgs),
    /// List pending enrollments, or approve one (certified locally with the organization key).
    Approve(ApproveArgs),
    /// Revoke a member's certificate (administrator): publishes a new revocation list signed
    /// with the organization key, which every sender and forwarder checks.
    Revoke(RevokeArgs),
    /// Publish a fresh revocation list (same revocations, next serial) before the current one
    /// goes stale (administrator, with the organization key).
    Revocations(RevocationsArgs),
    /// List the members of this key's organization, certificates verified.
    List(KeyArgs),
}

/// `send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The recipient organization's fingerprint (obtained out of band).
    #[arg(long, value_name = "FINGERPRINT")]
    pub to_org: String,
    /// A part: FILE, optionally with labels `FILE::district=Omachi`. Repeatable.
    #[arg(long = "part", value_name = "FILE[::LABELS]", required = true)]
    pub parts: Vec<String>,
    /// Title (sealed).
    #[arg(long, default_value = "")]
    pub title: String,
    /// Category (sealed).
    #[arg(long, default_value = "")]
    pub category: String,
    /// Split every `.csv` part into one part per value of this column (its header name, or its
    /// 1-based number), labelled `COLUMN=value`, as the browser does. UTF-8 (with or without
    /// BOM) and Shift_JIS (CP932) files; each part keeps the original bytes.
    #[arg(long, value_name = "COLUMN")]
    pub split_by: Option<String>,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `inbox`.
#[derive(Debug, Args)]
pub struct InboxArgs {
    /// Only deliveries with this status (delivered, forwarded, opened, recalled, expired).
    #[arg(long)]
    pub status: Option<String>,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `recall`: one delivery.
#[derive(Debug, Args)]
pub struct DeliveryArgs {
    /// The delivery id.
    pub delivery: String,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `open`.
#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The delivery id.
    pub delivery: String,
    /// Output directory.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `receipts`.
#[derive(Debug, Args)]
pub struct ReceiptsArgs {
    /// The envelope id.
    pub envelope: String,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `audit`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify and print every entry.
    Show(KeyArgs),
    /// Verify the hash chain and every signature.
    Verify(KeyArgs),
    /// Sign a checkpoint of the trail with the organization key (administrator).
    Checkpoint(CheckpointArgs),
}

/// `rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Replace the rules with these (repeatable), e.g. "district=A -> CERTIFICATE-ID".
    #[arg(long = "set", value_name = "RULE")]
    pub set: Vec<String>,
    /// Remove every rule.
    #[arg(long, conflicts_with = "set")]
    pub clear: bool,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `agent`.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// One pass, then exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds between passes.
    #[arg(long, default_value_t = 10)]
    pub interval: u64,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `org create`.
#[derive(Debug, Args)]
pub struct OrgCreateArgs {
    /// Organization name.
    #[arg(long)]
    pub name: String,
    /// Cipher suite.
    #[arg(long, default_value = "p256", value_enum)]
    pub suite: SuiteArg,
    /// Organization key file to write.
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
    /// The administrator's name.
    #[arg(long)]
    pub admin_name: String,
    /// The administrator's member key file to write.
    #[arg(long, value_name = "FILE")]
    pub admin_out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
    /// The operator's registration token (a server started with --registration closed).
    #[arg(long, value_name = "FILE")]
    pub registration_token_file: Option<PathBuf>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `org show`.
#[derive(Debug, Args)]
pub struct OrgShowArgs {
    /// Fingerprint (at least 32 hex digits), obtained out of band.
    pub fingerprint: String,
    /// Cipher suite.
    #[arg(long, default_value = "p256", value_enum)]
    pub suite: SuiteArg,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `org policy`.
#[derive(Debug, Args)]
pub struct OrgPolicyArgs {
    /// The administrator's member key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Days after which an unopened delivery expires (1 to 36500, or `none`).
    #[arg(long, value_name = "DAYS|none")]
    pub expiry: Option<String>,
    /// Days after which bodies are removed (1 to 36500, or `none`).
    #[arg(long, value_name = "DAYS|none")]
    pub retention: Option<String>,
    /// The longest validity of a member certificate, in days (1 to 36500, or `none`).
    #[arg(long, value_name = "DAYS|none")]
    pub max_validity: Option<String>,
    /// The storage quota: what the members' sent envelopes and unfinished uploads may
    /// occupy on the server, e.g. `500MiB`, `20GiB`, `1TB`, plain bytes; `none` or 0 for
    /// no quota (at most 1PiB).
    #[arg(long, value_name = "SIZE|none")]
    pub quota: Option<String>,
    /// Whether only members with the sender role may send to other organizations (the
    /// server refuses anyone else's send; the browser hides 送信 from them).
    #[arg(long, value_enum)]
    pub sender_role: Option<SenderRoleArg>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `org fingerprint`.
#[derive(Debug, Args)]
pub struct OrgFingerprintArgs {
    /// The key file.
    pub key: PathBuf,
}

/// `org partners add`.
#[derive(Debug, Args)]
pub struct PartnerAddArgs {
    /// The partner organization's fingerprint (at least 32 hex digits), from its
    /// administrator on paper or by telephone.
    pub fingerprint: String,
    /// The administrator's member key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The organization key (signs the list).
    #[arg(long, value_name = "FILE")]
    pub org_key: PathBuf,
    /// Cipher suite of the partner organization.
    #[arg(long, default_value = "p256", value_enum)]
    pub suite: SuiteArg,
    /// Do not ask: the name and fingerprint were checked.
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `org partners remove`.
#[derive(Debug, Args)]
pub struct PartnerRemoveArgs {
    /// The partner organization's fingerprint (full, or at least 32 hex digits).
    pub fingerprint: String,
    /// The administrator's member key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The organization key (signs the list).
    #[arg(long, value_name = "FILE")]
    pub org_key: PathBuf,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `member enroll`.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The organization's fingerprint (obtained out of band).
    #[arg(long, value_name = "FINGERPRINT")]
    pub org: String,
    /// Cipher suite.
    #[arg(long, default_value = "p256", value_enum)]
    pub suite: SuiteArg,
    /// Member name.
    #[arg(long)]
    pub name: String,
    /// Roles: comma-separated from representative, forwarder, reader, sender (may send to
    /// other organizations where the policy requires it), admin.
    #[arg(long, default_value = "reader")]
    pub roles: String,
    /// Certificate validity in days.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// The (pending) key file to write.
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `member approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// Enrollment id; without it, list the pending ones.
    pub id: Option<String>,
    /// The administrator's member key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The organization key (needed to approve).
    #[arg(long, value_name = "FILE")]
    pub org_key: Option<PathBuf>,
    /// The enrollment code shown on the member's device (16 digits; asked on the terminal
    /// if omitted). Only a request with this code is certified.
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `member revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The certificate id.
    pub cert: String,
    /// The administrator's member key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The organization key (signs the revocation list).
    #[arg(long, value_name = "FILE")]
    pub org_key: PathBuf,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `member revocations`.
#[derive(Debug, Args)]
pub struct RevocationsArgs {
    /// The administrator's member key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The organization key (signs the list).
    #[arg(long, value_name = "FILE")]
    pub org_key: PathBuf,
    /// Days until the list is stale (its next update).
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    #[command(flatten)]
    pub conn: ConnArgs,
}

/// `audit checkpoint`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// The organization key (signs the checkpoint).
    #[arg(long, value_name = "FILE")]
    pub org_key: PathBuf,
    #[command(flatten)]
    pub key: KeyArgs,
}
