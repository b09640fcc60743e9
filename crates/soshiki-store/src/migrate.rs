//! Moving an embedded store (SQLite and a blob store, usually files) to PostgreSQL and S3, so
//! an organization that started small keeps its whole history when it grows.
//!
//! The source is read from a consistent snapshot (`VACUUM INTO` a temporary file), so the
//! server may still run while it is taken; what it writes after the snapshot is not copied
//! (stop the server first for a final move). The target database must be empty: its schema is
//! created by this release's migrations, then every durable table is copied row for row in
//! one transaction (identity numbers kept, so list cursors stay valid) and every kept body is
//! streamed to the target blob store. Sessions (`challenges`, `tokens`) and unfinished uploads
//! are not copied: members log in again, and an unfinished upload is started again.
//!
//! Then the copy is verified against the snapshot: the row count of every copied table, the
//! SHA-256 of every body read back from the target, and every organization's audit chain in
//! the target.

use std::collections::BTreeMap;
use std::path::Path;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};

use crate::backup::{check_chains, BackupError, TrailRow};
use crate::{BlobStore, StoreError};

/// The durable tables, parents before children.
pub const TABLES: &[&str] = &[
    "orgs",
    "members",
    "enrollments",
    "envelopes",
    "deliveries",
    "audit",
    "rules",
    "revocation_lists",
    "audit_checkpoints",
    "rule_statements",
    "local_states",
    "partner_lists",
];

/// `SELECT` of `columns` of `table` in the order a copy inserts them: by identity number where
/// the table has one (parents before children, cursors kept), audit entries by trail and seq.
pub(crate) fn select_in_copy_order(table: &str, columns: &[&str]) -> String {
    let order = if columns.contains(&"n") {
        " ORDER BY n"
    } else if table == "audit" {
        " ORDER BY org_id, seq"
    } else {
        ""
    };
    format!("SELECT {} FROM {table}{order}", columns.join(", "))
}

/// What was copied and checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Rows per table (equal in source and target).
    pub rows: BTreeMap<String, u64>,
    /// Bodies copied (digests equal).
    pub blobs: u64,
    /// Their bytes.
    pub blob_bytes: u64,
}

type Result<T> = std::result::Result<T, BackupError>;

fn db(what: impl std::fmt::Display) -> impl FnOnce(sqlx::Error) -> BackupError {
    let what = what.to_string();
    move |e| BackupError::Store(crate::counters::database_error(format!("{what}: {e}")))
}

fn invalid(why: String) -> BackupError {
    BackupError::Invalid(std::path::PathBuf::from("migrate-store"), why)
}

/// A column of a PostgreSQL table.
pub(crate) struct Column {
    pub name: String,
    pub data_type: String,
    pub identity: bool,
}

/// Copy the SQLite store at `sqlite_url` and the bodies in `from_blobs` to the empty PostgreSQL
/// database at `pg_url` and `to_blobs`, then verify the copy.
pub async fn sqlite_to_postgres(
    sqlite_url: &str,
    from_blobs: &dyn BlobStore,
    pg_url: &str,
    to_blobs: &dyn BlobStore,
) -> Result<MigrationReport> {
    // The snapshot.
    let tmp = tempfile_dir()?;
    let snapshot = tmp.join("snapshot.sqlite");
    let copied =
        crate::backup::snapshot_sqlite(&crate::backup::sqlite_path(sqlite_url)?, &snapshot).await;
    if let Err(e) = copied {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let result = copy_and_verify(&snapshot, from_blobs, pg_url, to_blobs).await;
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// A fresh private directory for the snapshot (removed afterwards).
fn tempfile_dir() -> Result<std::path::PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("soshiki-migrate-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| BackupError::Io(dir.display().to_string(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| BackupError::Io(dir.display().to_string(), e))?;
    }
    Ok(dir)
}

async fn copy_and_verify(
    snapshot: &Path,
    from_blobs: &dyn BlobStore,
    pg_url: &str,
    to_blobs: &dyn BlobStore,
) -> Result<MigrationReport> {
    let mut src = SqliteConnectOptions::new()
        .filename(snapshot)
        .read_only(true)
        .connect()
        .await
        .map_err(db("open the snapshot"))?;
    // The target's schema, by this release's migrations; it must hold nothing yet.
    drop(crate::postgres::PgStore::open(pg_url).await?);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(pg_url)
        .await
        .map_err(db("connect to PostgreSQL"))?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orgs")
        .fetch_one(&pool)
        .await
        .map_err(db("target organizations"))?;
    if existing > 0 {
        return Err(invalid(format!(
            "the target database already holds {existing} organizations: migrate into an empty one"
        )));
    }

    let mut report = MigrationReport::default();
    let mut tx = pool.begin().await.map_err(db("begin"))?;
    for table in TABLES {
        let cols = columns(&mut tx, table).await?;
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        let rows = sqlx::query(sqlx::AssertSqlSafe(select_in_copy_order(table, &names)))
            .fetch_all(&mut src)
            .await
            .map_err(db(format!("read {table}")))?;
        let identity = cols.iter().any(|c| c.identity);
        let placeholders: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {table} ({}){} VALUES ({})",
            names.join(", "),
            if identity {
                " OVERRIDING SYSTEM VALUE"
            } else {
                ""
            },
            placeholders.join(", ")
        );
        for row in &rows {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
            for (i, c) in cols.iter().enumerate() {
                let bad = |e: sqlx::Error| db(format!("{table}.{}", c.name))(e);
                q = match c.data_type.as_str() {
                    "text" => q.bind(row.try_get::<Option<String>, _>(i).map_err(bad)?),
                    "bigint" | "integer" | "smallint" => {
                        q.bind(row.try_get::<Option<i64>, _>(i).map_err(bad)?)
                    }
                    "bytea" => q.bind(row.try_get::<Option<Vec<u8>>, _>(i).map_err(bad)?),
                    "boolean" => q.bind(row.try_get::<Option<bool>, _>(i).map_err(bad)?),
                    other => {
                        return Err(invalid(format!(
                            "{table}.{}: no copy rule for the type {other}",
                            c.name
                        )))
                    }
                };
            }
            q.execute(&mut *tx)
                .await
                .map_err(db(format!("write {table}")))?;
        }
        if identity {
            for c in cols.iter().filter(|c| c.identity) {
                let set = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{0}'), \
                     COALESCE((SELECT MAX({0}) FROM {table}), 0) + 1, false)",
                    c.name
                );
                sqlx::query(sqlx::AssertSqlSafe(set))
                    .execute(&mut *tx)
                    .await
                    .map_err(db(format!("identity of {table}")))?;
            }
        }
        report.rows.insert((*table).to_owned(), rows.len() as u64);
    }

    // The bodies, streamed and digested on the way.
    let kept = sqlx::query("SELECT blob_key, bodies_len FROM envelopes WHERE body_removed = FALSE")
        .fetch_all(&mut src)
        .await
        .map_err(db("kept bodies"))?;
    let mut digests = Vec::with_capacity(kept.len());
    for r in &kept {
        let key: String = r.try_get("blob_key").map_err(db("blob key"))?;
        let len = u64::try_from(
            r.try_get::<i64, _>("bodies_len")
                .map_err(db("bodies len"))?,
        )
        .unwrap_or(0);
        let digest = std::sync::Arc::new(std::sync::Mutex::new(Sha256::new()));
        let d2 = digest.clone();
        let stream = from_blobs.get_range(&key, 0, len).await?.map(move |c| {
            if let Ok(b) = &c {
                if let Ok(mut h) = d2.lock() {
                    h.update(b);
                }
            }
            c
        });
        to_blobs.put(&key, len, Box::pin(stream)).await?;
        let d = digest
            .lock()
            .map(|h| h.clone().finalize().to_vec())
            .unwrap_or_default();
        digests.push((key, len, d));
        report.blob_bytes += len;
    }
    tx.commit().await.map_err(db("commit"))?;
    src.close().await.map_err(db("close"))?;

    // Verify: counts, bodies read back from the target, audit chains in the target.
    for (table, n) in &report.rows {
        let got: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&pool)
                .await
                .map_err(db(format!("count {table}")))?;
        if u64::try_from(got).ok() != Some(*n) {
            return Err(invalid(format!(
                "{table}: {got} rows in the target, {n} in the source"
            )));
        }
    }
    for (key, len, want) in &digests {
        let mut h = Sha256::new();
        let mut s = to_blobs.get_range(key, 0, *len).await?;
        while let Some(chunk) = s.next().await {
            h.update(&chunk.map_err(|e| BackupError::Io(format!("blob {key}"), e))?);
        }
        if h.finalize().as_slice() != want.as_slice() {
            return Err(invalid(format!("blob {key} differs in the target")));
        }
        report.blobs += 1;
    }
    let rows =
        sqlx::query("SELECT org_id, seq, entry, prev_hash, hash FROM audit ORDER BY org_id, seq")
            .fetch_all(&pool)
            .await
            .map_err(db("target audit trail"))?;
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
    check_chains(&trail).map_err(invalid)?;
    pool.close().await;
    Ok(report)
}

/// The target table's columns, in order.
async fn columns(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    table: &str,
) -> Result<Vec<Column>> {
    pg_columns(tx, table).await
}

/// A PostgreSQL table's columns in the current schema, in order.
pub(crate) async fn pg_columns(conn: &mut sqlx::PgConnection, table: &str) -> Result<Vec<Column>> {
    let rows = sqlx::query(
        "SELECT column_name::text AS name, data_type::text AS data_type, \
         (is_identity = 'YES') AS identity FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(db(format!("columns of {table}")))?;
    if rows.is_empty() {
        return Err(BackupError::Store(StoreError::Backend(format!(
            "the PostgreSQL database has no table {table}"
        ))));
    }
    rows.iter()
        .map(|r| {
            Ok(Column {
                name: r.try_get("name").map_err(db("column name"))?,
                data_type: r.try_get("data_type").map_err(db("column type"))?,
                identity: r.try_get("identity").map_err(db("column identity"))?,
            })
        })
        .collect()
}
