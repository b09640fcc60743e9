//! Backup and restore of the embedded store (SQLite and a blob store), taken while the server
//! runs.
//!
//! A backup directory holds:
//! - `soshiki.sqlite`: a consistent snapshot of the database (SQLite `VACUUM INTO`, one read
//!   transaction: every row as of one instant, whatever the server writes meanwhile);
//! - `blobs/KEY`: the body blob of every envelope in that snapshot whose body is kept;
//! - `manifest.json`, written last: the format, the schema version, row counts and the
//!   SHA-256 and size of the database file and of every blob. A directory without it is an
//!   unfinished backup and is refused.
//!
//! [`verify`] checks a backup on its own (digests, SQLite integrity, the counts, every kept body
//! present, every organization's audit chain linked); [`restore`] verifies first, then writes
//! into an empty target only. The server's history is never half-restored: the database file is
//! written under a temporary name and renamed into place after every blob is stored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};

use crate::{audit_hash, BlobStore, StoreError};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The manifest's format tag.
pub const FORMAT: &str = "soshiki-backup/1";
/// The database snapshot's file name.
pub const DATABASE: &str = "soshiki.sqlite";

/// Bodies copied at once.
const COPIES_AT_ONCE: usize = 2;
/// Read size of the copy of a body kept as a local file.
const LOCAL_COPY_BUFFER: usize = 4 << 20;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// Reading or writing a file.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The database URL names neither SQLite nor PostgreSQL (or SQLite was needed).
    #[error("{0}: expected an SQLite database here")]
    NotSqlite(String),
    /// The destination is not empty.
    #[error("{0} is not empty: a backup or restore goes into a new or empty directory")]
    NotEmpty(PathBuf),
    /// The target already has a database.
    #[error("{0} exists: restore into an empty data directory")]
    TargetExists(PathBuf),
    /// The backup does not check out.
    #[error("the backup in {0} does not verify: {1}")]
    Invalid(PathBuf, String),
}

type Result<T> = std::result::Result<T, BackupError>;

fn io(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = what.to_string();
    move |e| BackupError::Io(what, e)
}

fn db(what: &str) -> impl FnOnce(sqlx::Error) -> BackupError + '_ {
    move |e| BackupError::Store(crate::counters::database_error(format!("{what}: {e}")))
}

/// A file and its digest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileDigest {
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// Row counts of the snapshot.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Organizations.
    pub orgs: u64,
    /// Members.
    pub members: u64,
    /// Envelopes.
    pub envelopes: u64,
    /// Deliveries.
    pub deliveries: u64,
    /// Audit-trail entries.
    pub audit_entries: u64,
}

/// What a backup holds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// When the snapshot was taken (Unix seconds).
    pub created: i64,
    /// The highest schema migration applied in the snapshot.
    pub schema_version: i64,
    /// The database snapshot.
    pub database: FileDigest,
    /// Every kept body, by blob key.
    pub blobs: BTreeMap<String, FileDigest>,
    /// Row counts.
    pub counts: Counts,
}

/// The file of an SQLite URL (`sqlite:///abs/path`, `sqlite://rel?mode=rwc`).
pub(crate) fn sqlite_path(url: &str) -> Result<PathBuf> {
    if !url.starts_with("sqlite:") {
        return Err(BackupError::NotSqlite(
            url.split('?').next().unwrap_or_default().to_owned(),
        ));
    }
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| BackupError::Store(StoreError::Url(format!("{url}: {e}"))))?;
    Ok(opts.get_filename().to_path_buf())
}

async fn open_read_only(file: &Path) -> Result<SqliteConnection> {
    SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .map_err(db("open the SQLite database"))
}

fn empty_dir(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut it) => {
            if it.next().is_some() {
                return Err(BackupError::NotEmpty(dir.to_path_buf()));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io(dir.display()))
        }
        Err(e) => Err(io(dir.display())(e)),
    }
}

fn digest_file(path: &Path) -> Result<FileDigest> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(io(path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io(path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(FileDigest {
        bytes,
        sha256: hex_of(&h.finalize()),
    })
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The snapshot's counts, schema version and kept bodies (`blob_key -> bodies_len`).
async fn read_snapshot(
    conn: &mut SqliteConnection,
) -> Result<(Counts, i64, BTreeMap<String, u64>)> {
    let mut counts = Counts::default();
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    counts.orgs = n(scalar(conn, "SELECT COUNT(*) FROM orgs").await?);
    counts.members = n(scalar(conn, "SELECT COUNT(*) FROM members").await?);
    counts.envelopes = n(scalar(conn, "SELECT COUNT(*) FROM envelopes").await?);
    counts.deliveries = n(scalar(conn, "SELECT COUNT(*) FROM deliveries").await?);
    counts.audit_entries = n(scalar(conn, "SELECT COUNT(*) FROM audit").await?);
    let schema = scalar(
        conn,
        "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations",
    )
    .await?;
    let rows = sqlx::query("SELECT blob_key, bodies_len FROM envelopes WHERE body_removed = FALSE")
        .fetch_all(&mut *conn)
        .await
        .map_err(db("kept bodies"))?;
    let mut kept = BTreeMap::new();
    for r in rows {
        let key: String = r.try_get("blob_key").map_err(db("blob key"))?;
        let len: i64 = r.try_get("bodies_len").map_err(db("bodies length"))?;
        kept.insert(key, n(len));
    }
    Ok((counts, schema, kept))
}

async fn scalar(conn: &mut SqliteConnection, sql: &'static str) -> Result<i64> {
    sqlx::query_scalar(sql)
        .fetch_one(&mut *conn)
        .await
        .map_err(db(sql))
}

/// Back up the SQLite database at `database_url` and the bodies it references from `blobs`
/// into `dest` (new or empty). Safe while the server runs.
pub async fn backup(
    database_url: &str,
    blobs: &dyn BlobStore,
    dest: &Path,
    now: i64,
) -> Result<Manifest> {
    let source = sqlite_path(database_url)?;
    empty_dir(dest)?;
    let snapshot = dest.join(DATABASE);
    snapshot_sqlite(&source, &snapshot).await?;
    finish(dest, &snapshot, blobs, now).await
}

/// A consistent copy of the SQLite database `source` at `dest` (`VACUUM INTO` from a
/// read-only connection: one read transaction, whatever the server writes meanwhile).
pub(crate) async fn snapshot_sqlite(source: &Path, dest: &Path) -> Result<()> {
    let mut conn = open_read_only(source).await?;
    sqlx::query("VACUUM INTO ?")
        .bind(dest.display().to_string())
        .execute(&mut conn)
        .await
        .map_err(db("snapshot the database"))?;
    conn.close().await.map_err(db("close"))
}

/// Back up a PostgreSQL store and its blob store (S3) into the same format: the snapshot is one
/// `REPEATABLE READ` read-only transaction copied, table by table, into a fresh SQLite database
/// (this release's schema), so `verify` checks it like any backup and `restore` brings it back
/// as an embedded store; `migrate-store` then moves it to PostgreSQL and S3 again.
pub async fn backup_postgres(
    pg_url: &str,
    blobs: &dyn BlobStore,
    dest: &Path,
    now: i64,
) -> Result<Manifest> {
    use sqlx::postgres::PgConnection;
    empty_dir(dest)?;
    let snapshot = dest.join(DATABASE);
    let mut out = SqliteConnectOptions::new()
        .filename(&snapshot)
        .create_if_missing(true)
        .connect()
        .await
        .map_err(db("create the snapshot"))?;
    crate::sql::migrator(crate::sqlite::MIGRATIONS)
        .run(&mut out)
        .await
        .map_err(|e| {
            BackupError::Store(crate::counters::database_error(format!(
                "snapshot schema: {e}"
            )))
        })?;
    let mut pg = PgConnection::connect(pg_url)
        .await
        .map_err(db("connect to PostgreSQL"))?;
    sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut pg)
        .await
        .map_err(db("begin the snapshot"))?;
    let mut tx = out.begin().await.map_err(db("begin"))?;
    for table in crate::migrate::TABLES {
        let cols = crate::migrate::pg_columns(&mut pg, table).await?;
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        let rows = sqlx::query(sqlx::AssertSqlSafe(crate::migrate::select_in_copy_order(
            table, &names,
        )))
        .fetch_all(&mut pg)
        .await
        .map_err(db("read the snapshot"))?;
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            vec!["?"; names.len()].join(", ")
        );
        for row in &rows {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
            for (i, c) in cols.iter().enumerate() {
                let bad = |e: sqlx::Error| db("a snapshot value")(e);
                q = match c.data_type.as_str() {
                    "text" => q.bind(row.try_get::<Option<String>, _>(i).map_err(bad)?),
                    "bigint" => q.bind(row.try_get::<Option<i64>, _>(i).map_err(bad)?),
                    "integer" => q.bind(
                        row.try_get::<Option<i32>, _>(i)
                            .map_err(bad)?
                            .map(i64::from),
                    ),
                    "smallint" => q.bind(
                        row.try_get::<Option<i16>, _>(i)
                            .map_err(bad)?
                            .map(i64::from),
                    ),
                    "bytea" => q.bind(row.try_get::<Option<Vec<u8>>, _>(i).map_err(bad)?),
                    "boolean" => q.bind(row.try_get::<Option<bool>, _>(i).map_err(bad)?),
                    other => {
                        return Err(BackupError::Invalid(
                            dest.to_path_buf(),
                            format!("{table}.{}: no copy rule for the type {other}", c.name),
                        ))
                    }
                };
            }
            q.execute(&mut *tx)
                .await
                .map_err(db("write the snapshot"))?;
        }
    }
    tx.commit().await.map_err(db("commit the snapshot"))?;
    sqlx::query("COMMIT")
        .execute(&mut pg)
        .await
        .map_err(db("end the snapshot"))?;
    pg.close().await.map_err(db("close"))?;
    sqlx::query("PRAGMA journal_mode = DELETE")
        .execute(&mut out)
        .await
        .map_err(db("snapshot journal"))?;
    out.close().await.map_err(db("close"))?;
    finish(dest, &snapshot, blobs, now).await
}

/// The bodies the snapshot references and the manifest, written last.
async fn finish(dest: &Path, snapshot: &Path, blobs: &dyn BlobStore, now: i64) -> Result<Manifest> {
    let mut conn = open_read_only(snapshot).await?;
    let (counts, schema_version, kept) = read_snapshot(&mut conn).await?;
    conn.close().await.map_err(db("close"))?;
    let dir = dest.join("blobs");
    std::fs::create_dir_all(&dir).map_err(io(dir.display()))?;
    // Every body is made durable before the manifest says the backup is complete. A syncer
    // thread fsyncs each body as soon as it is copied, so the disk writes it back while later
    // bodies are copied; the directory last.
    let (synced_tx, synced_rx) = std::sync::mpsc::channel::<PathBuf>();
    let dir2 = dir.clone();
    let syncer = tokio::task::spawn_blocking(move || -> Result<()> {
        let mut first_error = None;
        for p in synced_rx.iter().chain(std::iter::once(dir2)) {
            if let Err(e) = std::fs::File::open(&p).and_then(|f| f.sync_all()) {
                first_error.get_or_insert_with(|| io(p.display())(e));
            }
        }
        first_error.map_or(Ok(()), Err)
    });
    // Two bodies at a time: digesting is the work, and it spreads over two cores.
    let jobs: Vec<(String, u64, PathBuf)> = kept
        .iter()
        .map(|(k, l)| (k.clone(), *l, dir.join(k)))
        .collect();
    let copies: Vec<Result<(String, FileDigest)>> = futures::stream::iter(jobs)
        .map(|(key, len, path)| {
            let synced = synced_tx.clone();
            async move {
                let d = copy_blob(blobs, &key, len, path.clone()).await?;
                let _ = synced.send(path);
                Ok((key, d))
            }
        })
        .buffer_unordered(COPIES_AT_ONCE)
        .collect()
        .await;
    drop(synced_tx);
    let synced = syncer
        .await
        .map_err(|e| BackupError::Invalid(dest.to_path_buf(), format!("sync: {e}")));
    let mut digests = BTreeMap::new();
    for c in copies {
        let (key, d) = c?;
        digests.insert(key, d);
    }
    synced??;
    let manifest = Manifest {
        format: FORMAT.into(),
        created: now,
        schema_version,
        database: digest_file(snapshot)?,
        blobs: digests,
        counts,
    };
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BackupError::Invalid(dest.to_path_buf(), format!("manifest: {e}")))?;
    let tmp = dest.join(format!("{MANIFEST}.partial"));
    std::fs::write(&tmp, text).map_err(io(tmp.display()))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(tmp.display()))?;
    std::fs::rename(&tmp, dest.join(MANIFEST)).map_err(io(dest.display()))?;
    Ok(manifest)
}

/// Copy one blob to `path` and digest it: the blob store's stream is read here while a
/// blocking thread hashes and writes what was read (two cores overlap), through a short queue.
async fn copy_blob(
    blobs: &dyn BlobStore,
    key: &str,
    len: u64,
    path: PathBuf,
) -> Result<FileDigest> {
    if let Some(source) = blobs.local_file(key) {
        let p2 = path.clone();
        return tokio::task::spawn_blocking(move || copy_local(&source, &p2, len))
            .await
            .map_err(|e| BackupError::Invalid(path, format!("copy: {e}")))?;
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(8);
    let p2 = path.clone();
    let writer = tokio::task::spawn_blocking(move || -> Result<FileDigest> {
        use std::io::Write;
        let mut out = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(&p2).map_err(io(p2.display()))?,
        );
        let mut h = Sha256::new();
        let mut bytes = 0u64;
        while let Some(chunk) = rx.blocking_recv() {
            h.update(&chunk);
            bytes += chunk.len() as u64;
            out.write_all(&chunk).map_err(io(p2.display()))?;
        }
        out.flush().map_err(io(p2.display()))?;
        Ok(FileDigest {
            bytes,
            sha256: hex_of(&h.finalize()),
        })
    });
    let mut stream = blobs.get_range(key, 0, len).await?;
    let mut read_error = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                if tx.send(c).await.is_err() {
                    break; // the writer failed: its error is reported below
                }
            }
            Err(e) => {
                read_error = Some(io(format!("blob {key}"))(e));
                break;
            }
        }
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| BackupError::Invalid(path.clone(), format!("writer: {e}")))??;
    if let Some(e) = read_error {
        return Err(e);
    }
    Ok(written)
}

/// Copy the `len` bytes (as the database records) of a body kept as a local file to `dest`
/// and digest them, in large blocking reads: the bytes are read once, hashed and written.
fn copy_local(source: &Path, dest: &Path, len: u64) -> Result<FileDigest> {
    use std::io::{Read, Write};
    let mut from = std::fs::File::open(source)
        .map_err(io(source.display()))?
        .take(len);
    let mut to = std::fs::File::create(dest).map_err(io(dest.display()))?;
    let mut buf = vec![0u8; LOCAL_COPY_BUFFER];
    let mut h = Sha256::new();
    let mut bytes = 0u64;
    loop {
        let n = from.read(&mut buf).map_err(io(source.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        to.write_all(&buf[..n]).map_err(io(dest.display()))?;
        bytes += n as u64;
    }
    if bytes != len {
        return Err(BackupError::Invalid(
            source.to_path_buf(),
            format!("the body is shorter ({bytes} bytes) than the database records ({len})"),
        ));
    }
    Ok(FileDigest {
        bytes,
        sha256: hex_of(&h.finalize()),
    })
}

/// Check a backup on its own: the manifest, every digest, SQLite's integrity check, the counts,
/// every kept body present, and every organization's audit chain linked.
pub async fn verify(dir: &Path) -> Result<Manifest> {
    let bad = |why: String| BackupError::Invalid(dir.to_path_buf(), why);
    let text = std::fs::read(dir.join(MANIFEST)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            bad(format!("no {MANIFEST} (an unfinished backup?)"))
        } else {
            io(dir.join(MANIFEST).display())(e)
        }
    })?;
    let m: Manifest = serde_json::from_slice(&text).map_err(|e| bad(format!("{MANIFEST}: {e}")))?;
    if m.format != FORMAT {
        return Err(bad(format!("unknown format {:?}", m.format)));
    }
    let db_file = dir.join(DATABASE);
    if digest_file(&db_file)? != m.database {
        return Err(bad(format!("{DATABASE} differs from its digest")));
    }
    for (key, want) in &m.blobs {
        crate::validate_key(key).map_err(|_| bad(format!("invalid blob key {key:?}")))?;
        let got = digest_file(&dir.join("blobs").join(key))?;
        if &got != want {
            return Err(bad(format!("blob {key} differs from its digest")));
        }
    }
    let mut conn = open_read_only(&db_file).await?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(db("integrity check"))?;
    if check != "ok" {
        return Err(bad(format!("SQLite integrity check: {check}")));
    }
    let (counts, schema, kept) = read_snapshot(&mut conn).await?;
    if counts != m.counts || schema != m.schema_version {
        return Err(bad(
            "the database's counts or schema differ from the manifest".into(),
        ));
    }
    for (key, len) in &kept {
        match m.blobs.get(key) {
            Some(d) if d.bytes == *len => {}
            Some(_) => return Err(bad(format!("blob {key} has the wrong length"))),
            None => return Err(bad(format!("blob {key} of a kept body is missing"))),
        }
    }
    // Every organization's trail: seq 1, 2, … each linked to the one before.
    let rows =
        sqlx::query("SELECT org_id, seq, entry, prev_hash, hash FROM audit ORDER BY org_id, seq")
            .fetch_all(&mut conn)
            .await
            .map_err(db("audit trail"))?;
    let mut trail = Vec::with_capacity(rows.len());
    for r in rows {
        let seq: i64 = r.try_get("seq").map_err(db("audit seq"))?;
        trail.push(TrailRow {
            org: r.try_get("org_id").map_err(db("audit org"))?,
            seq: u64::try_from(seq).unwrap_or(0),
            entry: r.try_get("entry").map_err(db("audit entry"))?,
            prev: r.try_get("prev_hash").map_err(db("audit prev"))?,
            hash: r.try_get("hash").map_err(db("audit hash"))?,
        });
    }
    check_chains(&trail).map_err(bad)?;
    conn.close().await.map_err(db("close"))?;
    Ok(m)
}

/// Restore a verified backup: the database to the SQLite file of `database_url` (which must
/// not exist) and the bodies into `blobs`. The database file appears last, under its name,
/// once every body is stored.
pub async fn restore(dir: &Path, database_url: &str, blobs: &dyn BlobStore) -> Result<Manifest> {
    let m = verify(dir).await?;
    let target = sqlite_path(database_url)?;
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", target.display()));
        if p.exists() {
            return Err(BackupError::TargetExists(p));
        }
    }
    for (key, d) in &m.blobs {
        let path = dir.join("blobs").join(key);
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(io(path.display()))?;
        let stream = tokio_util_stream(file);
        blobs.put(key, d.bytes, stream).await?;
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent.display()))?;
    }
    let tmp = PathBuf::from(format!("{}.restoring", target.display()));
    std::fs::copy(dir.join(DATABASE), &tmp).map_err(io(tmp.display()))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(tmp.display()))?;
    std::fs::rename(&tmp, &target).map_err(io(target.display()))?;
    Ok(m)
}

/// A file as the blob store's byte stream.
fn tokio_util_stream(file: tokio::fs::File) -> crate::ByteStream {
    use tokio::io::AsyncReadExt;
    let stream = futures::stream::unfold(Some(file), |state| async move {
        let mut f = state?;
        let mut buf = vec![0u8; 1 << 20];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), Some(f)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Box::pin(stream)
}

/// One audit row, as stored.
#[derive(Debug)]
pub(crate) struct TrailRow {
    pub org: String,
    pub seq: u64,
    pub entry: Vec<u8>,
    pub prev: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Every organization's trail (rows ordered by organization, then seq) is seq 1, 2, … with
/// each entry's hash computed from the one before.
pub(crate) fn check_chains(rows: &[TrailRow]) -> std::result::Result<(), String> {
    let mut head: Option<(&str, u64, [u8; 32])> = None;
    for r in rows {
        let (want_seq, want_prev) = match &head {
            Some((o, s, h)) if *o == r.org => (s + 1, *h),
            _ => (1, [0u8; 32]),
        };
        let computed = audit_hash(&want_prev, r.seq, &r.entry);
        if r.seq != want_seq || r.prev != want_prev || r.hash != computed {
            return Err(format!(
                "the audit trail of {} breaks at entry {}",
                r.org, r.seq
            ));
        }
        head = Some((r.org.as_str(), r.seq, computed));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_body_is_copied_and_digested_as_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("body"), dir.path().join("copy"));
        // Longer than one read, not a multiple of it.
        let data: Vec<u8> = (0..(LOCAL_COPY_BUFFER + 12_345))
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&src, &data).unwrap();
        let d = copy_local(&src, &dst, data.len() as u64).unwrap();
        assert_eq!(d.bytes, data.len() as u64);
        assert_eq!(d.sha256, hex_of(&Sha256::digest(&data)));
        assert_eq!(std::fs::read(&dst).unwrap(), data);
        assert_eq!(digest_file(&dst).unwrap().sha256, d.sha256);
    }

    #[test]
    fn a_local_body_shorter_than_recorded_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("body"), dir.path().join("copy"));
        std::fs::write(&src, b"twelve bytes").unwrap();
        let e = copy_local(&src, &dst, 13).unwrap_err().to_string();
        assert!(
            e.contains("shorter (12 bytes)") && e.contains("(13)"),
            "{e}"
        );
    }
}
