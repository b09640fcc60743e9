//! [`PgStore`]: PostgreSQL (15 or later), for several stateless server processes.
//!
//! Transactions run at READ COMMITTED. State changes are conditional updates (`UPDATE … WHERE
//! status = …`), which PostgreSQL re-checks against the newest row version, so two racing
//! requests cannot both win. Appends to an organization's audit trail take a transaction-scoped
//! advisory lock on that organization first (in sorted order, before any row lock), so two
//! concurrent appends never compute the same sequence number.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use crate::sql::{self, row_locks, Backend, Conn, RowLocks};

/// Embedded migrations, in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "audit entry once",
        include_str!("../migrations/postgres/0002_audit_entry_once.sql"),
    ),
    (
        3,
        "delivery downloaded",
        include_str!("../migrations/postgres/0003_delivery_downloaded.sql"),
    ),
    (
        4,
        "uploads",
        include_str!("../migrations/postgres/0004_uploads.sql"),
    ),
    (
        5,
        "signed status",
        include_str!("../migrations/postgres/0005_signed_status.sql"),
    ),
    (
        6,
        "max validity",
        include_str!("../migrations/postgres/0006_max_validity.sql"),
    ),
    (
        7,
        "quota",
        include_str!("../migrations/postgres/0007_quota.sql"),
    ),
    (
        8,
        "local state",
        include_str!("../migrations/postgres/0008_local_state.sql"),
    ),
    (
        9,
        "partner lists",
        include_str!("../migrations/postgres/0009_partner_lists.sql"),
    ),
    (
        10,
        "sender role policy",
        include_str!("../migrations/postgres/0010_sender_role.sql"),
    ),
];

/// The advisory-lock class of audit-trail heads (two-key advisory locks, first key).
const AUDIT_LOCK_CLASS: i32 = 0x534f_5348; // "SOSH"

/// Pool size.
const CONNECTIONS: u32 = 16;

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connect to `url` (`postgres://user:password@host:port/database?…`; a schema can be
    /// chosen with `options[search_path]=name`) and run the migrations.
    pub async fn open(url: &str) -> crate::Result<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| crate::StoreError::Url(format!("{}: {e}", redact(url))))?;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await
            .map_err(sql::db_err("connect to PostgreSQL"))?;
        sql::migrator(MIGRATIONS)
            .run(&pool)
            .await
            .map_err(|e| crate::counters::database_error(format!("PostgreSQL migrations: {e}")))?;
        Ok(PgStore { pool })
    }
}

impl sql::WriteTx for sqlx::Transaction<'static, Postgres> {
    type Db = Postgres;
    fn conn(&mut self) -> Conn<'_, Postgres> {
        Conn::Tx(&mut **self)
    }
}

impl Backend for PgStore {
    type Db = Postgres;
    type Tx = sqlx::Transaction<'static, Postgres>;
    const LOCKS: RowLocks = row_locks!(for_share = " FOR SHARE", for_update = " FOR UPDATE");

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> crate::Result<sqlx::Transaction<'static, Postgres>> {
        self.pool
            .begin()
            .await
            .map_err(sql::db_err("begin transaction"))
    }

    async fn commit_write(tx: sqlx::Transaction<'static, Postgres>) -> crate::Result<()> {
        tx.commit().await.map_err(sql::db_err("commit"))
    }

    /// Serialize appends to these trails until the transaction ends. `orgs` is sorted, so two
    /// transactions never wait for each other's locks in opposite orders.
    async fn lock_audit_heads(
        tx: &mut sqlx::Transaction<'static, Postgres>,
        orgs: &[&str],
    ) -> crate::Result<()> {
        for org in orgs {
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind(AUDIT_LOCK_CLASS)
                .bind(*org)
                .execute(&mut **tx)
                .await
                .map_err(sql::db_err("lock audit trail"))?;
        }
        Ok(())
    }
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparseable URL>".to_owned(),
    }
}
