//! The command line of `soshiki`: every clap argument struct, and nothing else (each command in
//! `crate::cmd` receives its struct whole). Grouped as the commands are:
//! - [`files`]: file mode (keygen, encrypt, forward, decrypt, inspect, verify, demo);
//! - [`server`]: running and operating the server (serve, config, backup, restore, migrate-store);
//! - [`client`]: a member talking to the server (org, member, login, send, inbox, …, agent).

mod client;
mod files;
mod server;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use soshiki_core::suite::SuiteId;

pub use client::*;
pub use files::*;
pub use server::*;

const ABOUT: &str = "Organizational cryptography for files: encrypt to an organization's \
representative; forward inside it by re-encryption, never exposing the plaintext.\n\
組織暗号: 組織の受信代表者宛てに暗号化し、組織内では平文を出さずに再暗号化で転送します。";

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "soshiki", version, about = ABOUT, long_about = None)]
pub struct Cli {
    /// Message language (default: from LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, global = true, value_enum)]
    pub lang: Option<LangArg>,
    /// Read passphrases from this file (first line) instead of SOSHIKI_PASSPHRASE or a prompt.
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Weakest accepted key-file protection (tests and demos only).
    #[arg(long, global = true, hide = true)]
    pub kdf_min: bool,
    #[command(subcommand)]
    pub cmd: Command,
}

/// `--lang`: the language of messages (clap's own help and errors stay English).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    // No doc comments on the values: they would add a "Possible values" list to `--help`.
    Ja,
    En,
}

/// `--suite`: the cipher suite of a new key, or of an organization looked up by fingerprint
/// (the names of `SuiteId::name`, crates/soshiki-core/src/suite/mod.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SuiteArg {
    // No doc comments on the values: they would add a "Possible values" list to `--help`.
    #[value(name = "p256")]
    P256,
    #[value(name = "ristretto255")]
    Ristretto255,
}

impl From<SuiteArg> for SuiteId {
    fn from(s: SuiteArg) -> Self {
        match s {
            SuiteArg::P256 => SuiteId::P256,
            SuiteArg::Ristretto255 => SuiteId::Ristretto255,
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
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
    Manpage(ManpageArgs),
}

/// `manpage`.
#[derive(Debug, Args)]
pub struct ManpageArgs {
    /// The directory to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
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
    fn suite_names_are_the_core_names() {
        for s in [SuiteArg::P256, SuiteArg::Ristretto255] {
            let name = s.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(name.as_deref(), Some(SuiteId::from(s).name()));
        }
        let e = Cli::try_parse_from([
            "soshiki", "keygen", "org", "--name", "x", "-o", "k", "--suite", "p-256",
        ])
        .expect_err("p-256 is not a value of --suite");
        let text = e.to_string();
        assert!(
            text.contains("[possible values: p256, ristretto255]"),
            "{text}"
        );
    }
}
