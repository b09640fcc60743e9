//! The SQL implementation shared by the SQLite and PostgreSQL stores.
//!
//! Both backends run the same statements (sqlx accepts `$n` placeholders on both), through
//! ordinary generic code:
//! - [`Db`] is what the generic code needs of a sqlx database: binding the few parameter
//!   types the store uses ([`Arg`]), running a statement ([`Sql`]) on the pool or on a write
//!   transaction ([`Conn`]), and reading typed columns ([`SqlRow`]). It is implemented for
//!   SQLite and PostgreSQL by [`sql_db!`], the only place where the generic statements
//!   meet concrete sqlx types.
//! - [`Backend`] is what differs between the two stores: how a write transaction starts and
//!   commits, how the audit trail's heads are locked, and which row reads hold their row
//!   ([`RowLocks`]). `crate::sql_store` implements [`crate::Store`] once for every backend.
//! - `crate::rows` maps columns to the row types, one decoder per row type.

use std::borrow::Cow;
use std::future::Future;

use sqlx::error::ErrorKind;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Database, Pool};

use crate::rows::FromSqlRow;
use crate::{Result, StoreError};

/// Seconds in a day (expiry and retention are configured in days).
pub(crate) const DAY: i64 = 86_400;

/// A migrator over the given `(version, description, sql)` migrations, embedded at build time.
pub(crate) fn migrator(migrations: &[(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(sql),
                    false,
                )
            })
            .collect(),
    )
}

/// Map a sqlx error: unique violations are conflicts, missing rows and foreign-key violations
/// are "not found", everything else is a backend failure.
pub(crate) fn db_err(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound(what.to_owned()),
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict(format!("{what}: already exists")),
            ErrorKind::ForeignKeyViolation => {
                StoreError::NotFound(format!("{what}: a referenced row does not exist"))
            }
            _ => crate::counters::database_error(format!("{what}: {e}")),
        },
        _ => crate::counters::database_error(format!("{what}: {e}")),
    }
}

/// A corrupt or out-of-range stored value.
pub(crate) fn corrupt(what: &str) -> StoreError {
    crate::counters::database_error(format!("stored value out of range: {what}"))
}

/// `u64` to the databases' signed 64-bit integers.
pub(crate) fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| crate::counters::database_error(format!("{what} too large: {v}")))
}

/// Encode part indices compactly: 4 bytes big-endian each.
pub(crate) fn encode_parts(parts: &[u32]) -> Vec<u8> {
    parts.iter().flat_map(|p| p.to_be_bytes()).collect()
}

/// Decode [`encode_parts`].
pub(crate) fn decode_parts(bytes: &[u8]) -> Result<Vec<u32>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(corrupt("parts"));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Days (`u32`) as stored (`i64`).
pub(crate) fn days_to_db(d: Option<u32>) -> Option<i64> {
    d.map(i64::from)
}

/// Days as stored back to `u32`.
pub(crate) fn days_from_db(d: Option<i64>, what: &str) -> Result<Option<u32>> {
    d.map(|v| u32::try_from(v).map_err(|_| corrupt(what)))
        .transpose()
}

/// A byte count (`u64`) as stored.
pub(crate) fn bytes_to_db(b: Option<u64>, what: &str) -> Result<Option<i64>> {
    b.map(|v| to_i64(v, what)).transpose()
}

/// A byte count as stored back to `u64`.
pub(crate) fn bytes_from_db(b: Option<i64>, what: &str) -> Result<Option<u64>> {
    b.map(|v| u64::try_from(v).map_err(|_| corrupt(what)))
        .transpose()
}

/// The bytes an organization (`$1`) occupies at `$2` (see `Store::org_usage`), one statement.
/// Each sum is cast to BIGINT (PostgreSQL sums BIGINT columns as NUMERIC).
pub(crate) const ORG_USAGE_SQL: &str = "SELECT \
     CAST((SELECT COALESCE(SUM(e.bodies_len), 0) FROM envelopes e \
           WHERE e.sender_org = $1 AND e.body_removed = FALSE) AS BIGINT) AS bodies, \
     CAST((SELECT COALESCE(SUM(LENGTH(d.header)), 0) FROM deliveries d \
           JOIN members m ON m.cert_id = d.created_by WHERE m.org_id = $1) AS BIGINT) AS headers, \
     CAST((SELECT COALESCE(SUM(u.bytes), 0) FROM uploads u \
           WHERE u.org_id = $1 AND u.expires > $2) AS BIGINT) AS pending";

/// A 32-byte hash as stored.
pub(crate) fn hash32(v: &[u8], what: &str) -> Result<[u8; 32]> {
    v.try_into().map_err(|_| corrupt(what))
}

/// The distinct organizations of some audit entries, sorted (the lock order).
pub(crate) fn audit_orgs(entries: &[crate::NewAuditEntry]) -> Vec<&str> {
    let mut orgs: Vec<&str> = entries.iter().map(|e| e.org_id.as_str()).collect();
    orgs.sort_unstable();
    orgs.dedup();
    orgs
}

/// One bound parameter: the SQL types the store binds.
#[derive(Debug)]
pub(crate) enum Arg<'a> {
    /// `TEXT`.
    Text(Cow<'a, str>),
    /// `TEXT` or `NULL`.
    OptText(Option<&'a str>),
    /// `BIGINT` (SQLite `INTEGER`).
    Int(i64),
    /// `BIGINT` or `NULL`.
    OptInt(Option<i64>),
    /// `BYTEA` (SQLite `BLOB`).
    Bytes(Cow<'a, [u8]>),
    /// `BOOLEAN`.
    Bool(bool),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Cow::Borrowed(v))
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Cow::Borrowed(v))
    }
}
impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Cow::Owned(v))
    }
}
impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::OptText(v)
    }
}
impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::OptText(v.as_deref())
    }
}
impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Bytes(Cow::Borrowed(v))
    }
}
impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Arg::Bytes(Cow::Borrowed(v))
    }
}
impl From<Vec<u8>> for Arg<'_> {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Cow::Owned(v))
    }
}
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// Where a statement runs: the read pool (single-statement reads) or a write transaction.
pub(crate) enum Conn<'c, DB: Database> {
    /// A pooled connection.
    Pool(&'c Pool<DB>),
    /// The connection of a write transaction.
    Tx(&'c mut DB::Connection),
}

/// A statement with its parameters (`$1`, `$2`, … in order).
pub(crate) struct Sql<'a> {
    sql: &'static str,
    args: Vec<Arg<'a>>,
}

/// A statement to bind and run.
pub(crate) fn sql<'a>(sql: &'static str) -> Sql<'a> {
    Sql {
        sql,
        args: Vec::new(),
    }
}

impl<'a> Sql<'a> {
    /// Bind the next parameter.
    pub(crate) fn bind(mut self, v: impl Into<Arg<'a>>) -> Self {
        self.args.push(v.into());
        self
    }

    /// The statement's text and its parameters.
    pub(crate) fn into_parts(self) -> (&'static str, Vec<Arg<'a>>) {
        (self.sql, self.args)
    }

    /// Run; how many rows changed.
    pub(crate) async fn run<DB: Db>(self, conn: Conn<'_, DB>, what: &str) -> Result<u64> {
        DB::execute(conn, self).await.map_err(db_err(what))
    }

    /// The one row the statement returns (an aggregate).
    pub(crate) async fn one<DB: Db>(self, conn: Conn<'_, DB>, what: &str) -> Result<DB::Row> {
        DB::fetch_one(conn, self).await.map_err(db_err(what))
    }

    /// The first row, if any.
    pub(crate) async fn optional<DB: Db>(
        self,
        conn: Conn<'_, DB>,
        what: &str,
    ) -> Result<Option<DB::Row>> {
        DB::fetch_optional(conn, self).await.map_err(db_err(what))
    }

    /// The first row, else `NotFound(missing())`.
    pub(crate) async fn row_or<DB: Db>(
        self,
        conn: Conn<'_, DB>,
        what: &str,
        missing: impl FnOnce() -> String,
    ) -> Result<DB::Row> {
        self.optional(conn, what)
            .await?
            .ok_or_else(|| StoreError::NotFound(missing()))
    }

    /// The first row decoded as `T`, else `NotFound(missing())`.
    pub(crate) async fn item_or<T: FromSqlRow, DB: Db>(
        self,
        conn: Conn<'_, DB>,
        what: &str,
        missing: impl FnOnce() -> String,
    ) -> Result<T> {
        T::from_row(&self.row_or(conn, what, missing).await?)
    }

    /// Every row.
    pub(crate) async fn all<DB: Db>(self, conn: Conn<'_, DB>, what: &str) -> Result<Vec<DB::Row>> {
        DB::fetch_all(conn, self).await.map_err(db_err(what))
    }

    /// Every row, decoded as `T`.
    pub(crate) async fn items<T: FromSqlRow, DB: Db>(
        self,
        conn: Conn<'_, DB>,
        what: &str,
    ) -> Result<Vec<T>> {
        self.all(conn, what)
            .await?
            .iter()
            .map(T::from_row)
            .collect()
    }
}

/// The keyset position of a page cursor: `None` on the first page, else the row `key(after)`
/// reads (the cursor row, within the list's scope), or `NotFound("page cursor")` when there is
/// none, so a listing is never silently cut short.
pub(crate) async fn cursor<'a, DB: Db>(
    after: Option<&'a str>,
    key: impl FnOnce(&'a str) -> Sql<'a>,
    conn: Conn<'_, DB>,
    what: &str,
) -> Result<Option<DB::Row>> {
    match after {
        None => Ok(None),
        Some(after) => key(after)
            .row_or(conn, what, || "page cursor".to_owned())
            .await
            .map(Some),
    }
}

/// Typed column reads of a result row (a missing column or a wrong type is an error).
pub(crate) trait SqlRow: sqlx::Row {
    /// A `TEXT` column.
    fn text(&self, col: &str) -> sqlx::Result<String>;
    /// A nullable `TEXT` column.
    fn opt_text(&self, col: &str) -> sqlx::Result<Option<String>>;
    /// An integer column.
    fn int(&self, col: &str) -> sqlx::Result<i64>;
    /// A nullable integer column.
    fn opt_int(&self, col: &str) -> sqlx::Result<Option<i64>>;
    /// A byte-string column.
    fn bytes(&self, col: &str) -> sqlx::Result<Vec<u8>>;
    /// A boolean column.
    fn boolean(&self, col: &str) -> sqlx::Result<bool>;
}

/// A column type [`get`] reads.
pub(crate) trait Col: Sized {
    /// Read column `col` of `row`.
    fn read(row: &impl SqlRow, col: &str) -> sqlx::Result<Self>;
}

macro_rules! col {
    ($ty:ty, $method:ident) => {
        impl Col for $ty {
            fn read(row: &impl SqlRow, col: &str) -> sqlx::Result<Self> {
                row.$method(col)
            }
        }
    };
}
col!(String, text);
col!(Option<String>, opt_text);
col!(i64, int);
col!(Option<i64>, opt_int);
col!(Vec<u8>, bytes);
col!(bool, boolean);

/// Column `col` of `row`.
pub(crate) fn get<T: Col>(row: &impl SqlRow, col: &str) -> Result<T> {
    T::read(row, col).map_err(|e| crate::counters::database_error(format!("column {col}: {e}")))
}

/// A sqlx database the generic SQL code runs on ([`sql_db!`] implements it).
pub(crate) trait Db: Database<Row: SqlRow> {
    /// Run a statement; how many rows changed.
    fn execute(
        conn: Conn<'_, Self>,
        stmt: Sql<'_>,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;
    /// The one row a statement returns (`RowNotFound` if none).
    fn fetch_one(
        conn: Conn<'_, Self>,
        stmt: Sql<'_>,
    ) -> impl Future<Output = sqlx::Result<Self::Row>> + Send;
    /// The first row a statement returns, if any.
    fn fetch_optional(
        conn: Conn<'_, Self>,
        stmt: Sql<'_>,
    ) -> impl Future<Output = sqlx::Result<Option<Self::Row>>> + Send;
    /// Every row a statement returns.
    fn fetch_all(
        conn: Conn<'_, Self>,
        stmt: Sql<'_>,
    ) -> impl Future<Output = sqlx::Result<Vec<Self::Row>>> + Send;
}

/// Implement [`Db`] for the sqlx database `$db` and [`SqlRow`] for its row type `$row`.
macro_rules! sql_db {
    ($db:ty, $row:ty) => {
        impl SqlRow for $row {
            fn text(&self, col: &str) -> sqlx::Result<String> {
                sqlx::Row::try_get(self, col)
            }
            fn opt_text(&self, col: &str) -> sqlx::Result<Option<String>> {
                sqlx::Row::try_get(self, col)
            }
            fn int(&self, col: &str) -> sqlx::Result<i64> {
                sqlx::Row::try_get(self, col)
            }
            fn opt_int(&self, col: &str) -> sqlx::Result<Option<i64>> {
                sqlx::Row::try_get(self, col)
            }
            fn bytes(&self, col: &str) -> sqlx::Result<Vec<u8>> {
                sqlx::Row::try_get(self, col)
            }
            fn boolean(&self, col: &str) -> sqlx::Result<bool> {
                sqlx::Row::try_get(self, col)
            }
        }

        impl Db for $db {
            async fn execute(conn: Conn<'_, Self>, stmt: Sql<'_>) -> sqlx::Result<u64> {
                let q = bound::<$db>(stmt);
                let done = match conn {
                    Conn::Pool(p) => q.execute(p).await?,
                    Conn::Tx(c) => q.execute(c).await?,
                };
                Ok(done.rows_affected())
            }
            async fn fetch_one(conn: Conn<'_, Self>, stmt: Sql<'_>) -> sqlx::Result<$row> {
                let q = bound::<$db>(stmt);
                match conn {
                    Conn::Pool(p) => q.fetch_one(p).await,
                    Conn::Tx(c) => q.fetch_one(c).await,
                }
            }
            async fn fetch_optional(
                conn: Conn<'_, Self>,
                stmt: Sql<'_>,
            ) -> sqlx::Result<Option<$row>> {
                let q = bound::<$db>(stmt);
                match conn {
                    Conn::Pool(p) => q.fetch_optional(p).await,
                    Conn::Tx(c) => q.fetch_optional(c).await,
                }
            }
            async fn fetch_all(conn: Conn<'_, Self>, stmt: Sql<'_>) -> sqlx::Result<Vec<$row>> {
                let q = bound::<$db>(stmt);
                match conn {
                    Conn::Pool(p) => q.fetch_all(p).await,
                    Conn::Tx(c) => q.fetch_all(c).await,
                }
            }
        }
    };
}

/// A sqlx query with `stmt`'s parameters bound (encoded, so it borrows nothing).
fn bound<DB>(stmt: Sql<'_>) -> sqlx::query::Query<'static, DB, DB::Arguments>
where
    DB: Database,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> &'t [u8]: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<i64>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    bool: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let (text, args) = stmt.into_parts();
    let mut q = sqlx::query(text);
    for a in &args {
        q = match a {
            Arg::Text(v) => q.bind(&**v),
            Arg::OptText(v) => q.bind(*v),
            Arg::Int(v) => q.bind(*v),
            Arg::OptInt(v) => q.bind(*v),
            Arg::Bytes(v) => q.bind(&**v),
            Arg::Bool(v) => q.bind(*v),
        };
    }
    q
}

sql_db!(sqlx::Sqlite, sqlx::sqlite::SqliteRow);
sql_db!(sqlx::Postgres, sqlx::postgres::PgRow);

/// The row reads that must hold their row until the transaction ends, with the backend's
/// locking suffix ([`row_locks!`]).
pub(crate) struct RowLocks {
    /// A member's organization and status, read share-locked (a concurrent revocation waits
    /// or wins).
    pub(crate) member_status: &'static str,
    /// An organization's id, read update-locked (first administrator).
    pub(crate) org: &'static str,
    /// An organization's quota, read update-locked (uploads).
    pub(crate) org_quota: &'static str,
}

/// [`RowLocks`] with these suffixes (`""` on SQLite, whose write transaction excludes every
/// other writer).
macro_rules! row_locks {
    (for_share = $share:literal, for_update = $update:literal) => {
        $crate::sql::RowLocks {
            member_status: concat!(
                "SELECT org_id, status FROM members WHERE cert_id = $1",
                $share
            ),
            org: concat!("SELECT id FROM orgs WHERE id = $1", $update),
            org_quota: concat!("SELECT quota_bytes FROM orgs WHERE id = $1", $update),
        }
    };
}
pub(crate) use row_locks;

/// A write transaction: dropping it uncommitted rolls it back.
pub(crate) trait WriteTx: Send {
    /// Its database.
    type Db: Db;
    /// Its connection, to run statements on.
    fn conn(&mut self) -> Conn<'_, Self::Db>;
}

/// What differs between the SQL stores; [`crate::Store`] is implemented once for all of them
/// (`crate::sql_store`).
pub(crate) trait Backend: Send + Sync + 'static {
    /// The database.
    type Db: Db;
    /// A write transaction.
    type Tx: WriteTx<Db = Self::Db>;
    /// The locking row reads.
    const LOCKS: RowLocks;
    /// The pool for single-statement reads.
    fn reader(&self) -> &Pool<Self::Db>;
    /// [`Backend::reader`] as a place to run a statement.
    fn read(&self) -> Conn<'_, Self::Db> {
        Conn::Pool(self.reader())
    }
    /// Start a write transaction.
    fn begin_write(&self) -> impl Future<Output = Result<Self::Tx>> + Send;
    /// Commit; returns once the transaction is durably committed.
    fn commit_write(tx: Self::Tx) -> impl Future<Output = Result<()>> + Send;
    /// Serialize appends to these organizations' trails until the transaction ends (called
    /// first in a transaction; `orgs` sorted).
    fn lock_audit_heads(
        tx: &mut Self::Tx,
        orgs: &[&str],
    ) -> impl Future<Output = Result<()>> + Send;
}
