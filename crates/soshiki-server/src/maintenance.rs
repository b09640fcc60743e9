//! Background maintenance: expiry and retention per organization, and orphan collection.
//!
//! - [`soshiki_store::Store::expire`] marks unopened deliveries past their organization's
//!   expiry as expired (capsules destroyed) and envelopes past retention as body-removed; the
//!   blobs it returns are deleted. It also purges expired challenges, tokens and upload
//!   records. Pending enrollment requests older than `Limits::enrollment_ttl` are deleted.
//! - Orphans are decided from the project's own records, **never from a blob's modification
//!   time**: the blob store is listed first, then the store says in one read which keys are
//!   claimed ([`soshiki_store::Store::claimed_blob_keys`]: bodies of committed envelopes, and
//!   the pending record and body blob of every live upload); every listed key not claimed is
//!   deleted. Every blob the server writes is claimed by an upload record *before* its first
//!   byte is written, and an upload commits only while its record is alive, so an upload in
//!   progress (however slow, however old its S3 object's `LastModified`) is never collected,
//!   and an upload whose record expired never commits.

use std::collections::HashSet;
use std::time::Duration;

use soshiki_store::{StoreError, Timestamp};

use crate::AppState;

/// What one maintenance pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Bodies removed by expiry or retention.
    pub expired_blobs: usize,
    /// Orphaned blobs removed.
    pub orphans: usize,
    /// Expired pending enrollment requests removed.
    pub enrollments: u64,
}

/// One pass at time `now`.
pub async fn run_once(st: &AppState, now: Timestamp) -> Result<Report, StoreError> {
    let mut report = Report::default();
    for key in st.store.expire(now).await? {
        st.blobs.delete(&key).await?;
        report.expired_blobs += 1;
    }
    // Enrollment requests nobody decided on expire.
    report.enrollments = st
        .store
        .purge_enrollments(now - st.limits.enrollment_ttl)
        .await?;
    // The listing first, then the claims: a blob in the listing was claimed before it was
    // written, so a claim still alive now is seen by the read below.
    let listed = st.blobs.list().await?;
    let claimed: HashSet<String> = st.store.claimed_blob_keys(now).await?.into_iter().collect();
    for (key, _modified) in listed {
        if !claimed.contains(&key) {
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
                    enrollments = r.enrollments,
                    "maintenance"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "maintenance failed"),
        }
    }
}
