//! The options of file mode: `keygen`, `encrypt`, `forward`, `decrypt`, `inspect`, `verify`,
//! `demo` (run by crates/soshiki-cli/src/cmd/{keygen,encrypt,forward,decrypt,inspect,demo}.rs;
//! `forward --delivery` by crates/soshiki-cli/src/cmd/client.rs).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{ConnArgs, SuiteArg};

/// `keygen`.
#[derive(Debug, Subcommand)]
pub enum KeygenCommand {
    /// Create an organization key (passphrase-protected) and its public record `<OUT>.pub`.
    Org(KeygenOrgArgs),
    /// Create a member's keys, certify them with the organization key, and write the member
    /// key file and its public identity `<OUT>.id`.
    Member(KeygenMemberArgs),
}

/// `keygen org`.
#[derive(Debug, Args)]
pub struct KeygenOrgArgs {
    /// Organization name, e.g. "大町市 市民課".
    #[arg(long)]
    pub name: String,
    /// Cipher suite.
    #[arg(long, default_value = "p256", value_enum)]
    pub suite: SuiteArg,
    /// Key file to write; the public record goes beside it with extension `.pub`.
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
    /// Write the public record as ASCII armor.
    #[arg(long)]
    pub armor: bool,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// `keygen member`.
#[derive(Debug, Args)]
pub struct KeygenMemberArgs {
    /// Member name, e.g. "受信代表 高橋".
    #[arg(long)]
    pub name: String,
    /// Roles: comma-separated from representative, forwarder, reader, sender (may send to other
    /// organizations where the policy requires it), admin.
    #[arg(long, default_value = "reader")]
    pub roles: String,
    /// The organization key that certifies the member.
    #[arg(long, value_name = "FILE")]
    pub org_key: PathBuf,
    /// Member key file to write; the identity goes beside it with extension `.id`.
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
    /// Certificate validity in days.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Write the identity as ASCII armor.
    #[arg(long)]
    pub armor: bool,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// `encrypt`.
#[derive(Debug, Args)]
#[command(
    after_help = "With one --to, OUT is the envelope file. With several --to, OUT is a \
directory and one envelope per recipient is written into it, named after the member \
(sanitized), e.g. OUT/<member>.skenv.\n\
--to が一つなら OUT は封筒ファイル、複数なら OUT はディレクトリで、受信者ごとに封筒を書き出します。"
)]
pub struct EncryptArgs {
    /// The sender's member key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Recipient identity file (normally the receiving organization's representative).
    /// Repeat for several recipients.
    #[arg(long = "to", value_name = "ID", required = true)]
    pub to: Vec<PathBuf>,
    /// A part: FILE, optionally with labels `FILE::district=Omachi,kind=list`. Repeatable.
    #[arg(long = "part", value_name = "FILE[::LABELS]", required = true)]
    pub parts: Vec<String>,
    /// Title (件名), readable by every holder.
    #[arg(long, default_value = "")]
    pub title: String,
    /// Category, readable by every holder.
    #[arg(long, default_value = "")]
    pub category: String,
    /// Body chunk size in bytes (power of two, 1 KiB to 16 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = soshiki_core::wire::limits::DEFAULT_CHUNK)]
    pub chunk_size: u32,
    /// Pin the recipients' organization: fingerprint (at least 32 hex digits) or a `.pub` file.
    #[arg(long, value_name = "FINGERPRINT")]
    pub recipient_org: Option<String>,
    /// Write ASCII armor.
    #[arg(long)]
    pub armor: bool,
    /// Output file (one recipient) or directory (several recipients).
    #[arg(short, long, value_name = "OUT")]
    pub out: PathBuf,
    /// Overwrite existing output files.
    #[arg(long)]
    pub force: bool,
}

/// `forward`: file mode, or server mode with `--delivery`.
#[derive(Debug, Args)]
pub struct ForwardArgs {
    /// The envelope to forward (file mode).
    #[arg(required_unless_present = "delivery")]
    pub input: Option<PathBuf>,
    /// The forwarder's member key (the current holder).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The target member's identity file (file mode; must belong to the receiving organization).
    #[arg(long, value_name = "ID", required_unless_present = "delivery")]
    pub to: Option<PathBuf>,
    /// Server mode: forward this delivery (model 2) instead of a file.
    #[arg(long, value_name = "ID", conflicts_with_all = ["input", "to", "in_place", "armor"])]
    pub delivery: Option<String>,
    /// Server mode: `CERTIFICATE-ID:PART,PART`, one per target (repeatable; one action).
    #[arg(long = "route", value_name = "CERT:PARTS", requires = "delivery")]
    pub routes: Vec<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Forward only these parts (comma-separated indices); default: every part this key holds.
    #[arg(long, value_delimiter = ',', value_name = "N,N")]
    pub parts: Option<Vec<u32>>,
    /// Output file.
    #[arg(
        short,
        long,
        value_name = "OUT",
        required_unless_present_any = ["in_place", "delivery"],
        conflicts_with = "in_place"
    )]
    pub out: Option<PathBuf>,
    /// Append the new header to the input file instead (only when every body is kept).
    #[arg(long)]
    pub in_place: bool,
    /// Write ASCII armor.
    #[arg(long, conflicts_with = "in_place")]
    pub armor: bool,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// `decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The envelope to decrypt.
    pub input: PathBuf,
    /// The reader's member key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Output directory.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Decrypt only this part.
    #[arg(long, value_name = "N")]
    pub part: Option<u32>,
    /// Refuse unless the sender's organization has this fingerprint (or this `.pub` file).
    #[arg(long, value_name = "FINGERPRINT")]
    pub sender_org: Option<String>,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The envelope to inspect.
    pub input: PathBuf,
    /// A member key; shows the sealed metadata (title, category, labels) if it holds it.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

/// `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The envelope to verify.
    pub input: PathBuf,
    /// Require the sender's organization to have this fingerprint (or this `.pub` file).
    #[arg(long, value_name = "FINGERPRINT")]
    pub sender_org: Option<String>,
    /// Require the recipient's organization to have this fingerprint (or this `.pub` file).
    #[arg(long, value_name = "FINGERPRINT")]
    pub recipient_org: Option<String>,
}

/// `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Scenario name (default: offline).
    pub name: Option<String>,
}
