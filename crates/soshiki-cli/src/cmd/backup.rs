//! `soshiki backup --to DIR`, `soshiki backup verify DIR`, `soshiki restore DIR`, `soshiki
//! migrate-store`: a store and its bodies while the server runs (`soshiki_store::backup`,
//! `soshiki_store::migrate`). A backup of SQLite or of PostgreSQL has one format (an SQLite
//! snapshot, the bodies, a manifest of digests); `restore` writes an embedded store, which
//! `migrate-store` moves to PostgreSQL + S3. The stores are named as for `serve` (`--config`,
//! `SOSHIKI_*`, flags).

use std::path::Path;

use anyhow::{anyhow, Result};

use crate::cli::{BackupArgs, BackupCommand, MigrateStoreArgs, RestoreArgs};
use crate::cmd::settings::{self, Layer, Settings, Source};
use crate::i18n::{tr, M};

fn urls(s: &Settings) -> (String, String) {
    let data = &s.data;
    let db = s
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data.join("soshiki.sqlite").display()));
    let blobs = s
        .blobs_url
        .clone()
        .unwrap_or_else(|| data.join("blobs").display().to_string());
    (db, blobs)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow!("{e}"))
}

fn summary(m: &soshiki_store::backup::Manifest) -> String {
    let bytes: u64 = m.blobs.values().map(|b| b.bytes).sum::<u64>() + m.database.bytes;
    tr(
        M::BackupSummary,
        &[
            &m.counts.orgs,
            &m.counts.members,
            &m.counts.envelopes,
            &m.counts.deliveries,
            &m.counts.audit_entries,
            &m.blobs.len(),
            &crate::size::format_size(bytes),
            &m.schema_version,
        ],
    )
}

/// `backup --to DIR` with the store named as for `serve`, or `backup verify DIR`.
pub fn backup_command(args: BackupArgs) -> Result<()> {
    match args {
        BackupArgs {
            cmd: Some(BackupCommand::Verify(v)),
            ..
        } => verify(&v.dir),
        BackupArgs {
            cmd: None,
            to,
            store,
        } => {
            let to = to.ok_or_else(|| anyhow!("--to DIR"))?;
            backup(&store.settings()?, &to)
        }
    }
}

/// `restore DIR` into the store named as for `serve`.
pub fn restore_command(args: RestoreArgs) -> Result<()> {
    restore(&args.store.settings()?, &args.dir)
}

/// `migrate-store`: the source named as for `serve`; the target by `--to-config` and the
/// `--to-*` flags only (not `SOSHIKI_*`, which name the source).
pub fn migrate_store_command(args: MigrateStoreArgs) -> Result<()> {
    let mut layers = Vec::new();
    if let Some(f) = &args.to_config {
        layers.push((Source::File, Layer::from_file(f)?));
    }
    layers.push((
        Source::Flag,
        Layer {
            database_url: args.to_database.clone(),
            blobs_url: args.to_blobs.clone(),
            ..Default::default()
        },
    ));
    let target = settings::resolve(&layers)?;
    migrate_store(&args.store.settings()?, &target)
}

/// `backup --to DIR`.
pub fn backup(settings: &Settings, to: &Path) -> Result<()> {
    let (db, blobs_url) = urls(settings);
    runtime()?.block_on(async {
        let blobs = soshiki_store::open_blobs(&blobs_url)
            .await
            .map_err(|e| anyhow!(tr(M::BackupFailed, &[&e])))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let m = if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            soshiki_store::backup::backup_postgres(&db, &*blobs, to, now).await
        } else {
            soshiki_store::backup::backup(&db, &*blobs, to, now).await
        }
        .map_err(|e| anyhow!(tr(M::BackupFailed, &[&e])))?;
        println!("{}", tr(M::BackupDone, &[&to.display()]));
        println!("{}", summary(&m));
        Ok(())
    })
}

/// `backup verify DIR`.
pub fn verify(dir: &Path) -> Result<()> {
    runtime()?.block_on(async {
        let m = soshiki_store::backup::verify(dir)
            .await
            .map_err(|e| anyhow!(tr(M::BackupInvalid, &[&e])))?;
        println!("{}", tr(M::BackupVerified, &[&dir.display()]));
        println!("{}", summary(&m));
        Ok(())
    })
}

/// `restore DIR`.
pub fn restore(settings: &Settings, dir: &Path) -> Result<()> {
    let (db, blobs_url) = urls(settings);
    runtime()?.block_on(async {
        std::fs::create_dir_all(&settings.data)
            .map_err(|e| anyhow!(tr(M::DataDirFailed, &[&settings.data.display(), &e])))?;
        let blobs = soshiki_store::open_blobs(&blobs_url)
            .await
            .map_err(|e| anyhow!(tr(M::RestoreFailed, &[&e])))?;
        let m = soshiki_store::backup::restore(dir, &db, &*blobs)
            .await
            .map_err(|e| anyhow!(tr(M::RestoreFailed, &[&e])))?;
        // Open it once: the migrations of this release bring an older backup up to date.
        soshiki_store::open_store(&db)
            .await
            .map_err(|e| anyhow!(tr(M::RestoreFailed, &[&e])))?;
        println!(
            "{}",
            tr(M::RestoreDone, &[&dir.display(), &settings.data.display()])
        );
        println!("{}", summary(&m));
        Ok(())
    })
}

/// `migrate-store`: the embedded store of `from` into the PostgreSQL database and blob store of
/// `to` (both must be named), verified.
pub fn migrate_store(from: &Settings, to: &Settings) -> Result<()> {
    let (db, blobs_url) = urls(from);
    let (Some(to_db), Some(to_blobs_url)) = (to.database_url.clone(), to.blobs_url.clone()) else {
        return Err(anyhow!(tr(M::MigrateNeedsTarget, &[])));
    };
    if !to_db.starts_with("postgres://") && !to_db.starts_with("postgresql://") {
        return Err(anyhow!(tr(M::MigrateNeedsTarget, &[])));
    }
    runtime()?.block_on(async {
        let fail = |e: &dyn std::fmt::Display| anyhow!(tr(M::MigrateFailed, &[&e]));
        let from_blobs = soshiki_store::open_blobs(&blobs_url)
            .await
            .map_err(|e| fail(&e))?;
        let to_blobs = soshiki_store::open_blobs(&to_blobs_url)
            .await
            .map_err(|e| fail(&e))?;
        let r = soshiki_store::migrate::sqlite_to_postgres(&db, &*from_blobs, &to_db, &*to_blobs)
            .await
            .map_err(|e| fail(&e))?;
        println!(
            "{}",
            tr(
                M::MigrateDone,
                &[
                    &crate::cmd::settings::mask_url(&to_db),
                    &crate::cmd::settings::mask_url(&to_blobs_url),
                ]
            )
        );
        for (table, n) in &r.rows {
            println!("  {table}: {n}");
        }
        println!(
            "{}",
            tr(
                M::MigrateBlobs,
                &[&r.blobs, &crate::size::format_size(r.blob_bytes)]
            )
        );
        Ok(())
    })
}
