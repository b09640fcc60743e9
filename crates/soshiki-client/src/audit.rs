//! Verifying an organization's audit trail (`soshiki audit verify`).
//!
//! The server stores each action statement as its actor signed it and chains the entries per
//! organization (`hash = SHA-256(prev_hash ‖ u64(seq) ‖ entry)`). [`verify_audit`] recomputes the
//! chain, checks every actor's signature against the actor's certificate, and checks each
//! certificate against its organization record; the caller's own organization must be the
//! pinned one. It reports the **first** bad entry.
//!
//! What it detects: an edited entry (its hash, or, if the hashes were recomputed, its
//! signature), a removed or reordered entry (a sequence gap or a broken `prev_hash` link), and,
//! given the [`AuditAnchor`] of an earlier verification, any rewrite of the history up to that
//! anchor including a truncation. Without an anchor, a server that drops the newest entries and
//! recomputes nothing else cannot be told from one that never had them: keep the anchor.

use serde::{Deserialize, Serialize};
use soshiki_core::cert::{Certificate, Fingerprint, Organization};
use soshiki_core::suite::Suite;

use crate::proto::{self, json::AuditPage, Action, ActionStatement};

/// Where a previous verification ended: the last entry's sequence number and hash (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAnchor {
    /// Sequence number.
    pub seq: u64,
    /// Hash, hex.
    pub hash: String,
}

/// One verified entry.
#[derive(Clone, Debug)]
pub struct VerifiedEntry {
    /// Sequence number.
    pub seq: u64,
    /// Server time of the entry.
    pub created: i64,
    /// The statement (its signature checked).
    pub statement: ActionStatement,
    /// The actor's name from its certificate (for `enroll`-carrying `approve` entries, the
    /// administrator's).
    pub actor_name: String,
    /// The actor's organization fingerprint (hex).
    pub actor_org: String,
    /// Whether the actor's organization is the trail's own (pinned) one or another pinned one.
    /// `false` for a sender of an organization the verifier has not pinned: its signature is
    /// valid for the record the server gave, which the verifier has not confirmed.
    pub actor_org_pinned: bool,
}

/// The result of a successful verification.
#[derive(Clone, Debug)]
pub struct AuditReport {
    /// Organization.
    pub org_id: String,
    /// Every entry, in order.
    pub entries: Vec<VerifiedEntry>,
    /// The new anchor (the last entry), to keep for the next verification.
    pub anchor: Option<AuditAnchor>,
    /// The newest organization-signed checkpoint the trail was checked against (set by
    /// [`crate::trust::verify_checkpoints`] callers such as `flows::audit`), to remember.
    pub checkpoint: Option<Vec<u8>>,
}

/// The first entry that failed, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq} is invalid: {reason}")]
pub struct AuditFailure {
    /// Sequence number of the first bad entry (0 for a problem with the page itself).
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

fn fail(seq: u64, reason: impl Into<String>) -> AuditFailure {
    AuditFailure {
        seq,
        reason: reason.into(),
    }
}

fn parse_hash(seq: u64, h: &str) -> Result<[u8; 32], AuditFailure> {
    hex::decode(h)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| fail(seq, "malformed hash"))
}

/// Verify a trail page that starts at `from` (1 for the whole trail).
///
/// - `org`: the verifier's pinned record of the trail's organization;
/// - `is_pinned`: whether another organization's fingerprint is pinned by the verifier
///   (senders of other organizations appear in a recipient's trail);
/// - `anchor`: the anchor kept from an earlier verification, if any.
pub fn verify_audit<S: Suite>(
    org: &Organization<S>,
    page: &AuditPage,
    from: u64,
    anchor: Option<&AuditAnchor>,
    is_pinned: &dyn Fn(&Fingerprint) -> bool,
) -> Result<AuditReport, AuditFailure> {
    let org_fp = org.fingerprint();
    if page.org_id != org_fp.to_hex() {
        return Err(fail(0, "the trail belongs to another organization"));
    }
    // The certificates the server offers, indexed by their real fingerprint.
    let mut certs: Vec<(Fingerprint, Certificate<S>, Organization<S>)> = Vec::new();
    for c in &page.certificates {
        if let (Ok(cert), Ok(rec)) = (
            Certificate::<S>::from_bytes(&c.certificate.0),
            Organization::<S>::from_bytes(&c.org_record.0),
        ) {
            certs.push((cert.fingerprint(), cert, rec));
        }
    }
    let mut entries = Vec::with_capacity(page.entries.len());
    let mut prev: Option<[u8; 32]> = if from <= 1 { Some([0; 32]) } else { None };
    for (i, rec) in page.entries.iter().enumerate() {
        let seq = rec.seq;
        if seq != from.max(1) + i as u64 {
            return Err(fail(
                seq,
                format!(
                    "sequence number out of order (expected {}): an entry was removed or reordered",
                    from.max(1) + i as u64
                ),
            ));
        }
        let prev_hash = parse_hash(seq, &rec.prev_hash)?;
        let hash = parse_hash(seq, &rec.hash)?;
        if let Some(p) = prev {
            if p != prev_hash {
                return Err(fail(
                    seq,
                    "the link to the previous entry is broken: an entry was removed, reordered or edited",
                ));
            }
        }
        if proto::audit_hash(&prev_hash, seq, &rec.entry.0) != hash {
            return Err(fail(
                seq,
                "the entry does not match its hash: it was edited",
            ));
        }
        prev = Some(hash);
        let st = ActionStatement::from_bytes(&rec.entry.0)
            .map_err(|e| fail(seq, format!("the entry is malformed: {e}")))?;
        if st.suite != S::ID {
            return Err(fail(seq, "the entry is of another cipher suite"));
        }
        let (actor_name, actor_org, pinned) =
            verify_actor(org, &certs, &st, is_pinned).map_err(|reason| fail(seq, reason))?;
        entries.push(VerifiedEntry {
            seq,
            created: rec.created,
            statement: st,
            actor_name,
            actor_org,
            actor_org_pinned: pinned,
        });
    }
    if let Some(a) = anchor {
        let last = entries.last().map_or(from.saturating_sub(1), |e| e.seq);
        if a.seq > last {
            return Err(fail(
                a.seq,
                format!("the trail ends at {last}, before the entry verified earlier: entries were removed"),
            ));
        }
        if a.seq >= from.max(1) {
            let idx = (a.seq - from.max(1)) as usize;
            if page.entries[idx].hash != a.hash {
                return Err(fail(
                    a.seq,
                    "the history up to the entry verified earlier was rewritten",
                ));
            }
        }
    }
    let anchor = page.entries.last().map(|e| AuditAnchor {
        seq: e.seq,
        hash: e.hash.clone(),
    });
    Ok(AuditReport {
        org_id: page.org_id.clone(),
        entries,
        anchor,
        checkpoint: None,
    })
}

/// Check the statement's signature against its actor; returns (name, org hex, pinned).
fn verify_actor<S: Suite>(
    org: &Organization<S>,
    certs: &[(Fingerprint, Certificate<S>, Organization<S>)],
    st: &ActionStatement,
    is_pinned: &dyn Fn(&Fingerprint) -> bool,
) -> Result<(String, String, bool), String> {
    let org_fp = org.fingerprint();
    let (_, cert, actor_org) = certs
        .iter()
        .find(|(fp, _, _)| *fp == st.actor)
        .ok_or("the actor's certificate is unknown")?;
    let actor_org_fp = actor_org.fingerprint();
    // Our own members must be certified by the organization we pinned, not by a record the
    // server merely supplies.
    let issuer_record = if actor_org_fp == org_fp {
        org
    } else {
        actor_org
    };
    cert.verify_at_issue(issuer_record)
        .map_err(|_| "the actor's certificate is not validly issued by its organization")?;
    if !(cert.not_before <= st.time && st.time <= cert.not_after) {
        return Err("the actor's certificate was not valid at the entry's time".into());
    }
    if !st.verify_signature(&cert.signing_key) {
        return Err("the actor's signature does not verify".into());
    }
    let own = actor_org_fp == org_fp;
    if !own && st.action != Action::Send {
        return Err(format!(
            "a member of another organization cannot {} here",
            st.action
        ));
    }
    if st.action == Action::Approve {
        // The enrollment the administrator approved, with the member's proof of possession.
        let subject_org = org_fp.to_hex();
        proto::verify_enrollment::<S>(&st.detail, &subject_org)
            .map_err(|e| format!("the approved enrollment is invalid: {e}"))?;
    }
    let pinned = own || is_pinned(&actor_org_fp);
    Ok((cert.member_name.clone(), actor_org_fp.to_hex(), pinned))
}
