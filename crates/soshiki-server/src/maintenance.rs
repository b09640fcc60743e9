//! Background maintenance: expiry and retention per organization, and orphan collection.
//!
//! - [`soshiki_store::Store::expire`] marks unopened deliveries past their organization's
//!   expiry as expired (capsules destroyed) and envelopes past retention as body-removed; the
//!   blobs it returns are deleted.
//! - Orphans: a blob that no committed envelope references and that is older than
//!   [`ORPHAN_AGE`] (an upload whose commit never happened, a server killed mid-upload, an
//!   abandoned pending upload record) is deleted. The age keeps uploads in progress safe: their
//!   blob is new until it is committed.

use std::collections::HashSet;
use std::time::Duration;

use soshiki_store::{StoreError, Timestamp};

use crate::AppState;

/// Unreferenced blobs older than this are orphans (seconds).
pub const ORPHAN_AGE: i64 = 3600;

/// What one maintenance pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Bodies removed by expiry or retention.
    pub expired_blobs: usize,
    /// Orphaned blobs removed.
    pub orphans: usize,
}

/// One pass at time `now`.
pub async fn run_once(st: &AppState, now: Timestamp) -> Result<Report, StoreError> {
    let mut report = Report::default();
    for key in st.store.expire(now).await? {
        st.blobs.delete(&key).await?;
        report.expired_blobs += 1;
    }
    // Referenced keys first: a blob committed after this read is younger than ORPHAN_AGE.
    let referenced: HashSet<String> = st.store.referenced_blob_keys().await?.into_iter().collect();
    for (key, modified) in st.blobs.list().await? {
        if modified <= now - ORPHAN_AGE && !referenced.contains(&key) {
            st.blobs.delete(&key).await?;
            report.orphans += 1;
        }
    }
    Ok(report)
}

/// Run [`run_once`] every `interval`, forever (the task is aborted at shutdown).
pub async fn run_periodically(st: AppState, interval: Duration) {
    let mut tick = tokio::time::interval(interval.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match run_once(&st, st.now()).await {
            Ok(r) if r != Report::default() => {
                tracing::info!(
                    expired = r.expired_blobs,
                    orphans = r.orphans,
                    "maintenance"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "maintenance failed"),
        }
    }
}
