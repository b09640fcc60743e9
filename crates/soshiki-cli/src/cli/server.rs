//! The options of running and operating the server: `serve`, `config`, `backup`, `restore`,
//! `migrate-store` (run by crates/soshiki-cli/src/cmd/{serve,settings,backup}.rs).

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `serve`'s flags. Each overrides the same setting of `SOSHIKI_*` environment variables and of
/// the `--config` file (docs/operations.md, "Configuration").
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Settings file (TOML); see `soshiki config check`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite database and body files unless a database or blob store URL says
    /// otherwise) [default: soshiki-data].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Address to bind [default: 127.0.0.1:7780].
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Database URL, e.g. postgres://user@host/db (default: SQLite in the data directory).
    /// A URL with a password belongs in the settings file, SOSHIKI_DATABASE_URL or
    /// database_url_file, not on the command line.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Blob store, e.g. s3://bucket?endpoint=http://127.0.0.1:9000 (default: DIR/blobs).
    #[arg(long, value_name = "URL")]
    pub blobs: Option<String>,
    /// The origin clients dial, e.g. https://soshiki.example (default: from the bound address).
    #[arg(long, value_name = "URL")]
    pub origin: Option<String>,
    /// HTTPS certificate chain (PEM); requires a TLS key.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// HTTPS private key (PEM); requires a TLS certificate.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Serve /metrics on this address instead of the main one (e.g. 127.0.0.1:9780).
    #[arg(long, value_name = "ADDR")]
    pub metrics_bind: Option<String>,
    /// Seed the scenarios' organizations and members, and write their key files under DIR/demo.
    #[arg(long)]
    pub demo: bool,
    /// Requests per minute and client address on the unauthenticated endpoints (registration,
    /// enrollment, login); 0 turns the limit off (e.g. behind a rate-limiting proxy)
    /// [default: 600].
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Requests a client address may make at once before the rate limit applies [default: 300].
    #[arg(long, value_name = "N")]
    pub rate_burst: Option<u32>,
    /// Unfinished uploads (sent, not yet completed or expired) one member may have at once;
    /// one more is refused [default: 8].
    #[arg(long, value_name = "N")]
    pub max_pending_uploads: Option<u32>,
    /// Who may register organizations: open (anyone) or closed (only with the token of
    /// --registration-token-file, for the operator of a shared server) [default: open].
    #[arg(long, value_name = "MODE", value_parser = ["open", "closed"])]
    pub registration: Option<String>,
    /// File holding the registration token (needed with closed registration).
    #[arg(long, value_name = "FILE")]
    pub registration_token_file: Option<PathBuf>,
    /// Log lines as text (readable) or json (one object per line) [default: text].
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
    /// Which events to log, RUST_LOG-style (e.g. info, or info,soshiki_server=debug)
    /// [default: info,sqlx=warn].
    #[arg(long, value_name = "FILTER")]
    pub log_filter: Option<String>,
}

/// Which store: as for `serve` (the settings file, `SOSHIKI_*`, these flags).
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Settings file (TOML), as for `serve`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory [default: soshiki-data].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Database URL (default: SQLite in the data directory).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Blob store (default: DIR/blobs).
    #[arg(long, value_name = "URL")]
    pub blobs: Option<String>,
}

/// `backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub cmd: Option<BackupCommand>,
    /// The backup directory to create (new or empty).
    #[arg(long, value_name = "DIR", required = true)]
    pub to: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `backup verify`.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Check a backup on its own: digests, database integrity, counts, bodies, audit chains.
    Verify(BackupVerifyArgs),
}

/// `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup directory (verified before anything is written).
    pub dir: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `migrate-store`.
#[derive(Debug, Args)]
pub struct MigrateStoreArgs {
    /// The source: the embedded store, named as for `serve`.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The target's settings file (its database_url / blobs_url, or their _file forms): keeps
    /// passwords and S3 keys off the command line.
    #[arg(long, value_name = "FILE")]
    pub to_config: Option<PathBuf>,
    /// The target database, postgres://… (instead of --to-config).
    #[arg(long, value_name = "URL")]
    pub to_database: Option<String>,
    /// The target blob store, s3://bucket… (instead of --to-config).
    #[arg(long, value_name = "URL")]
    pub to_blobs: Option<String>,
}

/// `config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a settings file and print the effective settings (with the SOSHIKI_* environment
    /// applied), secrets masked, each with where it came from.
    Check(ConfigCheckArgs),
}

/// `backup verify`.
#[derive(Debug, Args)]
pub struct BackupVerifyArgs {
    /// The backup directory.
    pub dir: PathBuf,
}

/// `config check`.
#[derive(Debug, Args)]
pub struct ConfigCheckArgs {
    /// The settings file (TOML).
    pub file: PathBuf,
}
