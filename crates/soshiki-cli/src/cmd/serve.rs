//! `soshiki serve`: the management server, embedded (SQLite and body files in a data
//! directory, bound to 127.0.0.1) or at scale (`--database postgres://…`, `--blobs s3://…`).
//! `--demo` seeds the scenarios' organizations and members and writes their key files.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use rand_core::{OsRng, RngCore};
use soshiki_client::ClientOptions;
use soshiki_core::keyfile::KdfParams;
use soshiki_server::{ServeConfig, TlsFiles};

use crate::cmd::embedded::Demo;
use crate::cmd::scenarios::{self, SCENARIOS};
use crate::i18n::{tr, M};

/// What `serve` was asked.
#[derive(Debug)]
pub struct Request {
    /// Data directory.
    pub data: PathBuf,
    /// Address to bind.
    pub bind: SocketAddr,
    /// Database URL (default: SQLite in the data directory).
    pub database: Option<String>,
    /// Blob store URL (default: `blobs/` in the data directory).
    pub blobs: Option<String>,
    /// Origin clients dial.
    pub origin: Option<String>,
    /// TLS certificate (PEM).
    pub tls_cert: Option<PathBuf>,
    /// TLS key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Seed the demo organizations.
    pub demo: bool,
    /// Rate limit of the unauthenticated endpoints.
    pub rate_limit: soshiki_server::RateLimit,
    /// Closed registration: the file holding the operator's token.
    pub registration_token_file: Option<PathBuf>,
}

fn io_err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!(tr(M::ServeFailed, &[&e]))
}

/// Run the server until Ctrl-C.
pub fn command(req: Request) -> Result<()> {
    let mut config = ServeConfig::with_data_dir(&req.data)
        .map_err(|e| anyhow!(tr(M::DataDirFailed, &[&req.data.display(), &e])))?;
    config.bind = req.bind;
    if let Some(db) = req.database {
        config.database_url = db;
    }
    if let Some(b) = req.blobs {
        config.blobs_url = b;
    }
    config.origin = req.origin;
    config.limits.rate_limit = req.rate_limit;
    if let Some(f) = &req.registration_token_file {
        let token = std::fs::read_to_string(f)
            .map_err(|e| anyhow!(tr(M::FileUnreadable, &[&f.display(), &"token", &e])))?;
        let token = token.trim().to_string();
        if token.len() < 16 {
            return Err(anyhow!(tr(M::RegistrationTokenShort, &[&f.display()])));
        }
        config.limits.registration = soshiki_server::Registration::Closed { token };
    }
    config.tls = match (req.tls_cert, req.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => return Err(anyhow!(tr(M::TlsPair, &[]))),
    };
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
            tr(M::ServeListening, &[&server.url(), &req.data.display()])
        );
        if req.demo {
            let seeded = seed(&req.data, server.url(), ca).await;
            if let Err(e) = seeded {
                let _ = server.shutdown().await;
                return Err(e);
            }
        }
        println!("{}", tr(M::ServeStopHint, &[]));
        tokio::signal::ctrl_c().await.map_err(io_err)?;
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
    println!(
        "{}",
        tr(
            M::DemoSeeded,
            &[&root.display(), &pass_file.display(), &pass]
        )
    );
    Ok(())
}
