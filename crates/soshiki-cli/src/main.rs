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
    /// Run the Omachi scenario (senior citizens' celebration list) end to end in a temp dir.
    Demo,
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
    /// Roles: comma-separated from representative, forwarder, reader, admin.
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
    /// The envelope to forward.
    input: PathBuf,
    /// The forwarder's member key (the current holder).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The target member's identity file (must belong to the receiving organization).
    #[arg(long, value_name = "ID")]
    to: PathBuf,
    /// Forward only these parts (comma-separated indices); default: every part this key holds.
    #[arg(long, value_delimiter = ',', value_name = "N,N")]
    parts: Option<Vec<u32>>,
    /// Output file.
    #[arg(
        short,
        long,
        value_name = "OUT",
        required_unless_present = "in_place",
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
        Command::Forward(a) => cmd::forward::command(
            ctx,
            &cmd::forward::Request {
                input: a.input,
                key: a.key,
                to: a.to,
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
        Command::Demo => cmd::demo::command(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
