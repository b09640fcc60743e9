//! [`SqliteStore`]: the embedded default.
//!
//! One file in WAL mode with `synchronous=FULL`, so a committed transaction survives a crash or
//! a power loss. Reads use a small pool of their own and run beside the writer.
//!
//! Writes go through one connection and **group commit**: each [`crate::Store`] method runs
//! inside a savepoint of a shared write transaction (`BEGIN IMMEDIATE`, which takes the
//! database's write lock up front, so writers in other processes on the same file wait), and a
//! committer task commits whatever methods have finished with one `COMMIT`, paying for one
//! fsync per batch instead of one per method. A method returns only after the batch holding it
//! is committed; a method that fails is rolled back to its savepoint and leaves the batch
//! untouched; if the batch itself fails, every method in it fails. Each method is therefore
//! still one all-or-nothing transaction, and, being serialized on the one connection, the
//! audit trail's sequence numbers stay contiguous.

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot, Mutex, OwnedMutexGuard};

use crate::sql::{self, row_locks, Backend, Conn, RowLocks};

/// Embedded migrations, in order.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "audit entry once",
        include_str!("../migrations/sqlite/0002_audit_entry_once.sql"),
    ),
    (
        3,
        "delivery downloaded",
        include_str!("../migrations/sqlite/0003_delivery_downloaded.sql"),
    ),
    (
        4,
        "uploads",
        include_str!("../migrations/sqlite/0004_uploads.sql"),
    ),
    (
        5,
        "signed status",
        include_str!("../migrations/sqlite/0005_signed_status.sql"),
    ),
    (
        6,
        "max validity",
        include_str!("../migrations/sqlite/0006_max_validity.sql"),
    ),
    (
        7,
        "quota",
        include_str!("../migrations/sqlite/0007_quota.sql"),
    ),
    (
        8,
        "local state",
        include_str!("../migrations/sqlite/0008_local_state.sql"),
    ),
    (
        9,
        "partner lists",
        include_str!("../migrations/sqlite/0009_partner_lists.sql"),
    ),
    (
        10,
        "sender role policy",
        include_str!("../migrations/sqlite/0010_sender_role.sql"),
    ),
];

/// How long a writer waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections for concurrent reads.
const READERS: u32 = 4;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Arc<Mutex<Writer>>,
    /// Wakes the committer; the committer stops when every sender is gone.
    wake: mpsc::UnboundedSender<()>,
    read: SqlitePool,
}

/// The write connection and its batch.
#[derive(Debug)]
struct Writer {
    conn: SqliteConnection,
    /// A write transaction (the batch) is open.
    in_batch: bool,
    /// Methods whose savepoint was released into the open batch, waiting for its commit.
    waiters: Vec<oneshot::Sender<std::result::Result<(), String>>>,
    /// A method's transaction was dropped uncommitted: its savepoint must be rolled back
    /// before anything else runs on the connection.
    pending_rollback: bool,
}

impl Writer {
    /// Roll back a dropped method's savepoint; if that fails the batch is beyond repair.
    async fn clean_up(&mut self) {
        if !self.pending_rollback {
            return;
        }
        self.pending_rollback = false;
        let undone = sqlx::raw_sql("ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op")
            .execute(&mut self.conn)
            .await;
        if let Err(e) = undone {
            self.abort_batch(&format!("roll back a failed write: {e}"))
                .await;
        }
    }

    /// Roll back the whole batch and fail its waiting methods.
    async fn abort_batch(&mut self, why: &str) {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut self.conn).await;
        self.in_batch = false;
        for w in self.waiters.drain(..) {
            let _ = w.send(Err(why.to_owned()));
        }
    }

    /// Commit the batch and answer its waiting methods.
    async fn commit_batch(&mut self) {
        self.clean_up().await;
        if !self.in_batch {
            return;
        }
        match sqlx::raw_sql("COMMIT").execute(&mut self.conn).await {
            Ok(_) => {
                self.in_batch = false;
                for w in self.waiters.drain(..) {
                    let _ = w.send(Ok(()));
                }
            }
            Err(e) => self.abort_batch(&format!("commit: {e}")).await,
        }
    }
}

/// The committer: commits the open batch whenever a method asks for it.
async fn committer(writer: Arc<Mutex<Writer>>, mut wake: mpsc::UnboundedReceiver<()>) {
    while wake.recv().await.is_some() {
        // Several requests, one commit.
        while wake.try_recv().is_ok() {}
        writer.lock().await.commit_batch().await;
    }
}

/// Wakes the committer when dropped, unless disarmed: a future cancelled between two steps of
/// the batch protocol must not leave the batch (and the database's write lock) open.
struct WakeOnDrop(Option<mpsc::UnboundedSender<()>>);

impl WakeOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        if let Some(wake) = self.0.take() {
            let _ = wake.send(());
        }
    }
}

/// A method's write transaction: a savepoint in the open batch, holding the write connection.
#[derive(Debug)]
pub(crate) struct WriteTx {
    guard: Option<OwnedMutexGuard<Writer>>,
    wake: mpsc::UnboundedSender<()>,
}

impl Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self
            .guard
            .as_ref()
            .expect("a write transaction holds the connection until it ends")
            .conn
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self
            .guard
            .as_mut()
            .expect("a write transaction holds the connection until it ends")
            .conn
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // Not committed (an error or a cancelled future): undo it before the next use, and let
        // the committer close the batch if nobody else comes.
        if let Some(mut g) = self.guard.take() {
            g.pending_rollback = true;
            drop(g);
            let _ = self.wake.send(());
        }
    }
}

impl SqliteStore {
    /// Open (creating it if needed, unless the URL says `mode=ro`/`mode=rw`) the database at
    /// `url` (`sqlite:///absolute/path.sqlite`, `sqlite://relative/path?mode=rwc`) and run the
    /// migrations. An in-memory database is refused: the store's guarantees need a file.
    pub async fn open(url: &str) -> crate::Result<Self> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(crate::StoreError::Url(format!(
                "{url}: an in-memory SQLite database is not supported; name a file"
            )));
        }
        let mut opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| crate::StoreError::Url(format!("{url}: {e}")))?;
        if !url.contains("mode=") {
            opts = opts.create_if_missing(true);
        }
        let opts = opts
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let mut conn = opts
            .connect()
            .await
            .map_err(sql::db_err("open SQLite database"))?;
        sql::migrator(MIGRATIONS)
            .run(&mut conn)
            .await
            .map_err(|e| crate::counters::database_error(format!("SQLite migrations: {e}")))?;
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(opts)
            .await
            .map_err(sql::db_err("open SQLite database"))?;
        let writer = Arc::new(Mutex::new(Writer {
            conn,
            in_batch: false,
            waiters: Vec::new(),
            pending_rollback: false,
        }));
        let (wake, rx) = mpsc::unbounded_channel();
        tokio::spawn(committer(writer.clone(), rx));
        Ok(SqliteStore { writer, wake, read })
    }
}

impl sql::WriteTx for WriteTx {
    type Db = Sqlite;
    fn conn(&mut self) -> Conn<'_, Sqlite> {
        Conn::Tx(&mut **self)
    }
}

impl Backend for SqliteStore {
    type Db = Sqlite;
    type Tx = WriteTx;
    /// None: the write transaction excludes every other writer.
    const LOCKS: RowLocks = row_locks!(for_share = "", for_update = "");

    fn reader(&self) -> &SqlitePool {
        &self.read
    }

    async fn begin_write(&self) -> crate::Result<WriteTx> {
        let cancelled = WakeOnDrop(Some(self.wake.clone()));
        let mut g = self.writer.clone().lock_owned().await;
        g.clean_up().await;
        if !g.in_batch {
            // Marked first: if this future is dropped while BEGIN runs, the committer still
            // closes the transaction.
            g.in_batch = true;
            if sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut g.conn)
                .await
                .is_err()
            {
                // A transaction left behind by a cancelled step (no method waits on it when no
                // batch is open): discard it and start afresh.
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut g.conn).await;
                if let Err(e) = sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut g.conn).await {
                    g.in_batch = false;
                    return Err(sql::db_err("begin transaction")(e));
                }
            }
        }
        if let Err(e) = sqlx::raw_sql("SAVEPOINT op").execute(&mut g.conn).await {
            g.abort_batch(&format!("savepoint: {e}")).await;
            return Err(crate::counters::database_error(format!(
                "begin transaction: {e}"
            )));
        }
        cancelled.disarm();
        Ok(WriteTx {
            guard: Some(g),
            wake: self.wake.clone(),
        })
    }

    /// Release the method's savepoint into the batch and wait until the batch is committed.
    async fn commit_write(mut tx: WriteTx) -> crate::Result<()> {
        // Whatever happens from here (even if this future is dropped), the committer runs.
        let _wake = WakeOnDrop(Some(tx.wake.clone()));
        let mut g = tx
            .guard
            .take()
            .expect("a write transaction holds the connection until it ends");
        if let Err(e) = sqlx::raw_sql("RELEASE SAVEPOINT op")
            .execute(&mut g.conn)
            .await
        {
            g.pending_rollback = true;
            return Err(crate::counters::database_error(format!("commit: {e}")));
        }
        let (done, committed) = oneshot::channel();
        g.waiters.push(done);
        drop(g);
        let _ = tx.wake.send(());
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(crate::counters::database_error(why)),
            Err(_) => Err(crate::counters::database_error(
                "the SQLite writer stopped before committing".to_owned(),
            )),
        }
    }

    /// Nothing to do: the one write connection already serializes every writer.
    async fn lock_audit_heads(_tx: &mut WriteTx, _orgs: &[&str]) -> crate::Result<()> {
        Ok(())
    }
}
