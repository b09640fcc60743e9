//! `soshiki serve`: the management server, embedded (SQLite and body files in a data
//! directory, bound to 127.0.0.1) or at scale (`--database postgres://…`, `--blobs s3://…`).
//! `--demo` seeds the scenarios' organizations and members and writes their key files.

use std::path::Path;

use anyhow::{anyhow, Result};
use rand_core::{OsRng, RngCore};
use soshiki_client::ClientOptions;
use soshiki_core::keyfile::KdfParams;
use soshiki_server::{ServeConfig, TlsFiles};

use crate::cli::ServeArgs;
use crate::cmd::embedded::Demo;
use crate::cmd::scenarios::{self, SCENARIOS};
use crate::cmd::settings::Settings;
use crate::i18n::{tr, M};

fn io_err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!(tr(M::ServeFailed, &[&e]))
}

/// Print the server's events on standard error: readable lines, or one JSON object per line;
/// `filter` is a `RUST_LOG`-style filter. Once per process (a second call keeps the first).
pub fn init_logging(json: bool, filter: &str) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| anyhow!(tr(M::ConfigBadValue, &[&"log_filter", &e])))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    Ok(())
}

/// `serve`: run the server with the settings of its flags, `SOSHIKI_*` and `--config`.
pub fn command(args: ServeArgs) -> Result<()> {
    run(args.settings()?)
}

/// Run the server with `settings` until Ctrl-C (or SIGTERM from systemd).
fn run(settings: Settings) -> Result<()> {
    init_logging(settings.log_json, &settings.log_filter)?;
    let data = settings.data.clone();
    let mut config = ServeConfig::with_data_dir(&data)
        .map_err(|e| anyhow!(tr(M::DataDirFailed, &[&data.display(), &e])))?;
    config.bind = settings.bind;
    if let Some(db) = settings.database_url.clone() {
        config.database_url = db;
    }
    if let Some(b) = settings.blobs_url.clone() {
        config.blobs_url = b;
    }
    config.origin = settings.origin.clone();
    config.metrics_bind = settings.metrics_bind;
    config.limits.rate_limit = soshiki_server::RateLimit {
        per_minute: settings.rate_limit,
        burst: settings.rate_burst,
    };
    config.limits.max_pending_uploads = settings.max_pending_uploads;
    if let Some(f) = &settings.registration_token_file {
        let token = std::fs::read_to_string(f)
            .map_err(|e| anyhow!(tr(M::FileUnreadable, &[&f.display(), &"token", &e])))?;
        let token = token.trim().to_string();
        if token.len() < 16 {
            return Err(anyhow!(tr(M::RegistrationTokenShort, &[&f.display()])));
        }
        config.limits.registration = soshiki_server::Registration::Closed { token };
    }
    if settings.demo {
        config.demo_dir = Some(data.join("demo"));
    }
    config.tls = settings
        .tls
        .clone()
        .map(|(cert, key)| TlsFiles { cert, key });
    let ca = match &config.tls {
        Some(t) => Some(
            std::fs::read(&t.cert)
                .map_err(|e| anyhow!(tr(M::FileUnreadable, &[&t.cert.display(), &"PEM", &e])))?,
        ),
        None => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io_err)?;
    rt.block_on(async move {
        let server = soshiki_server::start(config).await.map_err(io_err)?;
        println!(
            "{}",
            tr(M::ServeListening, &[&server.url(), &data.display()])
        );
        if settings.demo {
            let seeded = seed(&data, server.url(), ca).await;
            if let Err(e) = seeded {
                let _ = server.shutdown().await;
                return Err(e);
            }
        }
        println!("{}", tr(M::ServeStopHint, &[]));
        stopped().await.map_err(io_err)?;
        tracing::info!("shutting down");
        server.shutdown().await.map_err(io_err)?;
        Ok(())
    })
}

fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow!(tr(M::WriteFailed, &[&path.display(), &e])))?;
    std::io::Write::write_all(&mut f, data)
        .map_err(|e| anyhow!(tr(M::WriteFailed, &[&path.display(), &e])))
}

/// Seed every scenario's organizations and members, and write their key files under
/// `DATA/demo/SCENARIO/` with one passphrase (in `DATA/demo/passphrase.txt`).
async fn seed(data: &Path, url: &str, ca: Option<Vec<u8>>) -> Result<()> {
    let root = data.join("demo");
    if root.exists() {
        println!("{}", tr(M::DemoAlreadySeeded, &[&root.display()]));
        return Ok(());
    }
    std::fs::create_dir_all(&root)
        .map_err(|e| anyhow!(tr(M::CannotWriteIn, &[&root.display(), &e])))?;
    let mut raw = [0u8; 9];
    OsRng.fill_bytes(&mut raw);
    let pass = hex::encode(raw);
    let pass_file = root.join("passphrase.txt");
    write_private(&pass_file, format!("{pass}\n").as_bytes())?;
    // The "try as" index of the browser (GET /v1/demo/members, demo mode only).
    let mut index = Vec::new();
    for (name, _) in SCENARIOS {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir)
            .map_err(|e| anyhow!(tr(M::CannotWriteIn, &[&dir.display(), &e])))?;
        let mut d = Demo::new(url, true);
        d.options = ClientOptions {
            ca_certificate_pem: ca.clone(),
            connect_timeout: None,
        };
        println!("{}", tr(M::DemoSeedScenario, &[name]));
        scenarios::play(&mut d, name).await?;
        scenarios::seed_deliveries(&mut d).await?;
        for o in &d.orgs {
            let path = dir.join(format!("{}.orgkey", o.tag));
            let bytes = o
                .key
                .to_key_file(pass.as_bytes(), KdfParams::MINIMUM, &mut OsRng)
                .map_err(|e| anyhow!(crate::i18n::key_file_error(&e)))?;
            write_private(&path, &bytes)?;
            println!(
                "{}",
                tr(
                    M::DemoSeedOrg,
                    &[
                        &o.key.organization().name,
                        &o.key.organization().fingerprint().to_hex(),
                        &path.display()
                    ]
                )
            );
        }
        for m in &d.members {
            let path = dir.join(format!("{}.key", m.tag));
            let bytes = m
                .key
                .to_key_file(pass.as_bytes(), KdfParams::MINIMUM, &mut OsRng)
                .map_err(|e| anyhow!(crate::i18n::key_file_error(&e)))?;
            write_private(&path, &bytes)?;
            let own = &d.orgs[m.org];
            index.push(serde_json::json!({
                "scenario": name,
                "tag": m.tag,
                "name": m.name,
                "roles": m.roles.names(),
                "org_id": own.key.organization().fingerprint().to_hex(),
                "org_name": own.key.organization().name,
                "key_file": base64_encode(&bytes),
                "partners": d.orgs.iter().filter(|o| o.tag != own.tag).map(|o| serde_json::json!({
                    "id": o.key.organization().fingerprint().to_hex(),
                    "name": o.key.organization().name,
                })).collect::<Vec<_>>(),
            }));
            println!(
                "{}",
                tr(
                    M::DemoSeedMember,
                    &[
                        &m.name,
                        &m.roles.names().join(","),
                        &m.id(),
                        &path.display()
                    ]
                )
            );
        }
    }
    let body = serde_json::json!({ "passphrase": pass, "members": index });
    write_private(
        &root.join(soshiki_server::DEMO_INDEX),
        serde_json::to_string(&body)
            .map_err(|e| anyhow!("{e}"))?
            .as_bytes(),
    )?;
    println!(
        "{}",
        tr(
            M::DemoSeeded,
            &[&root.display(), &pass_file.display(), &pass]
        )
    );
    Ok(())
}

/// Ctrl-C, or SIGTERM (what `systemctl stop` sends).
async fn stopped() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
