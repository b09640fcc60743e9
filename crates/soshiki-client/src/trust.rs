//! What a client accepts from the server about revocation, the audit trail's anchor and its own
//! routing rules, checked against keys the server does not hold (no I/O: shared by the HTTP
//! flows, the CLI agent and the browser).
//!
//! - **Revocation** ([`accept_revocation_list`], [`check_not_revoked`]): the newest
//!   organization-signed revocation list (SPEC.md §5.6) must verify against the pinned
//!   organization, be at least as new as the newest serial this client has seen (kept in its
//!   state), and be fresh. A member it revokes is never addressed, whatever status the server
//!   reports. An organization that has published no list cannot be addressed at all (its
//!   administrator publishes the first one when registering), so a server cannot withhold the
//!   list to hide a revocation from a new client.
//! - **Partners** ([`accept_partner_list`], [`next_partner_list`]): the member's own
//!   organization's partner list (SPEC.md §5.8) must verify against the member's organization
//!   and be at least as new as the newest serial seen ([`partner_serial_key`]); an organization
//!   it lists counts as pinned. A missing list trusts nobody through it; once a list was seen,
//!   a missing one is refused as withheld.
//! - **Audit checkpoints** ([`verify_checkpoints`]): every organization-signed checkpoint the
//!   client holds (remembered, or served) must be extended by the trail it reads.
//! - **Rules** ([`verify_rules`]): a forwarder's rules count only with the `set-rules`
//!   statement its own member key signed over exactly these rules.

use soshiki_core::cert::{Certificate, Fingerprint, Organization, OrganizationKey};
use soshiki_core::checkpoint::AuditCheckpoint;
use soshiki_core::error::{DecodeError, PartnerListError, RevocationError};
use soshiki_core::partners::{Partner, PartnerList, VerifiedPartnerList};
use soshiki_core::revocation::{RevocationList, Revoked, VerifiedRevocationList};
use soshiki_core::suite::Suite;

use crate::audit::AuditFailure;
use crate::proto::{json::AuditPage, Action, ActionSpec, ActionStatement};

/// How long a revocation list stays fresh when the CLI or the browser publishes one
/// (`next_update = issued + DEFAULT_REVOCATION_VALIDITY`): 30 days.
pub const DEFAULT_REVOCATION_VALIDITY: u64 = 30 * 86_400;

/// Why a revocation list, or a member, is refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustError {
    /// The organization has never published a list (and this client has seen none).
    #[error("{org} has published no revocation list: its administrator must publish one (soshiki member revocations) before its members can be addressed")]
    NoRevocationList {
        /// Organization name.
        org: String,
    },
    /// The server has no list although this client has seen one: it withholds it.
    #[error("the server withholds the revocation list of {org} (serial {seen} was seen before)")]
    RevocationListWithheld {
        /// Organization name.
        org: String,
        /// Highest serial seen.
        seen: u64,
    },
    /// The list does not decode.
    #[error("malformed revocation list: {0}")]
    Decode(#[from] DecodeError),
    /// The list is not acceptable, or it revokes the member.
    #[error(transparent)]
    Revocation(#[from] RevocationError),
    /// The server has no partner list although this client has seen one: it withholds it.
    #[error("the server withholds the partner list of {org} (serial {seen} was seen before)")]
    PartnerListWithheld {
        /// Organization name.
        org: String,
        /// Highest serial seen.
        seen: u64,
    },
    /// The partner list is not acceptable.
    #[error(transparent)]
    Partners(#[from] PartnerListError),
}

/// The key under which the highest partner-list serial of `org_id` is remembered, in the same
/// per-key map of highest serials as revocation lists (kept apart from the revocation serial
/// of the organization, whose key is its bare id).
pub fn partner_serial_key(org_id: &str) -> String {
    format!("partners/{org_id}")
}

/// Accept the partner list the server gave for the member's own organization `org` (`None`:
/// the server has none). `Ok(None)`: the organization has published none and this client has
/// seen none (nobody is trusted through it). Otherwise it must be signed by `org`, have a
/// serial of at least `seen_serial` (remember [`VerifiedPartnerList::serial`] afterwards) and
/// not be issued in the future.
pub fn accept_partner_list<S: Suite>(
    org: &Organization<S>,
    list: Option<&[u8]>,
    seen_serial: u64,
    now: u64,
) -> Result<Option<VerifiedPartnerList<S>>, TrustError> {
    let Some(bytes) = list else {
        return if seen_serial > 0 {
            Err(TrustError::PartnerListWithheld {
                org: org.name.clone(),
                seen: seen_serial,
            })
        } else {
            Ok(None)
        };
    };
    let list = PartnerList::<S>::from_bytes(bytes)?;
    Ok(Some(list.verify(org, seen_serial, now)?))
}

/// The next partner list an administrator publishes: the current one (`current`, checked to be
/// signed by this organization; `None` for the first list) with `add` added (an organization
/// already listed keeps its confirmed name) and `remove` removed, serial + 1, issued `now`.
pub fn next_partner_list<S: Suite>(
    org_key: &OrganizationKey<S>,
    current: Option<&[u8]>,
    add: &[Partner],
    remove: &[Fingerprint],
    now: u64,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<PartnerList<S>, TrustError> {
    let (serial, mut entries) = match current {
        None => (0, Vec::new()),
        Some(b) => {
            let cur = PartnerList::<S>::from_bytes(b)?;
            if !cur.is_signed_by(org_key.organization()) {
                return Err(PartnerListError::Signature.into());
            }
            (cur.serial, cur.partners)
        }
    };
    entries.extend(add.iter().cloned());
    entries.retain(|p| !remove.contains(&p.organization));
    Ok(org_key.issue_partner_list(serial + 1, now, &entries, rng)?)
}

/// Accept the newest revocation list the server gave for `org` (`None`: the server has none):
/// it must be signed by the pinned `org`, have a serial of at least `seen_serial` (the highest
/// this client has seen for the organization; remember [`VerifiedRevocationList::serial`]
/// afterwards), not be stale at `now` and not be issued in the future.
pub fn accept_revocation_list<S: Suite>(
    org: &Organization<S>,
    list: Option<&[u8]>,
    seen_serial: u64,
    now: u64,
) -> Result<VerifiedRevocationList<S>, TrustError> {
    let Some(bytes) = list else {
        return Err(if seen_serial > 0 {
            TrustError::RevocationListWithheld {
                org: org.name.clone(),
                seen: seen_serial,
            }
        } else {
            TrustError::NoRevocationList {
                org: org.name.clone(),
            }
        });
    };
    let list = RevocationList::<S>::from_bytes(bytes)?;
    Ok(list.verify(org, now, seen_serial)?)
}

/// Refuse a certificate the organization's current list revokes.
pub fn check_not_revoked<S: Suite>(
    list: &VerifiedRevocationList<S>,
    cert: &Certificate<S>,
) -> Result<(), TrustError> {
    Ok(list.check(cert)?)
}

/// The next list an administrator publishes: the current one (`current`, checked to be signed
/// by this organization; `None` for the first list) with `add` revoked at `now`, serial + 1,
/// fresh for `validity` seconds.
pub fn next_revocation_list<S: Suite>(
    org_key: &OrganizationKey<S>,
    current: Option<&[u8]>,
    add: &[Fingerprint],
    now: u64,
    validity: u64,
    rng: &mut impl rand_core::CryptoRngCore,
) -> Result<RevocationList<S>, TrustError> {
    let (serial, mut entries) = match current {
        None => (0, Vec::new()),
        Some(b) => {
            let cur = RevocationList::<S>::from_bytes(b)?;
            if !cur.is_signed_by(org_key.organization()) {
                return Err(RevocationError::Signature.into());
            }
            (cur.serial, cur.revoked)
        }
    };
    for fp in add {
        if !entries.iter().any(|r| r.certificate == *fp) {
            entries.push(Revoked {
                certificate: *fp,
                revoked_at: now,
            });
        }
    }
    Ok(org_key.issue_revocation_list(
        serial + 1,
        now,
        now.saturating_add(validity.max(1)),
        &entries,
        rng,
    )?)
}

// ---------------------------------------------------------------------------------------------
// Audit checkpoints

/// The newest organization-signed checkpoint a verification holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointSeen {
    /// Its encoding (remember it: [`crate::ClientState::audit_checkpoints`]).
    pub checkpoint: Vec<u8>,
    /// The anchored position.
    pub position: u64,
    /// When the administrator signed it.
    pub time: u64,
}

fn fail(seq: u64, reason: impl Into<String>) -> AuditFailure {
    AuditFailure {
        seq,
        reason: reason.into(),
    }
}

fn decode_checkpoint<S: Suite>(
    org: &Organization<S>,
    bytes: &[u8],
    whose: &str,
) -> Result<AuditCheckpoint<S>, AuditFailure> {
    let cp = AuditCheckpoint::<S>::from_bytes(bytes)
        .map_err(|e| fail(0, format!("the {whose} checkpoint is malformed: {e}")))?;
    cp.verify(org).map_err(|_| {
        fail(
            0,
            format!("the {whose} checkpoint is not signed by the pinned organization"),
        )
    })?;
    Ok(cp)
}

/// Check a trail page (already verified by [`crate::audit::verify_audit`], starting at `from`)
/// against the organization-signed checkpoints held: `served` (the newest the server stores)
/// and `remembered` (the newest this client saw before). Each must be signed by the pinned
/// `org` and the page must have its head hash at its position (a position beyond the page's
/// end means entries were removed; one before `from` cannot be checked by this page). The
/// server may not withhold a checkpoint or serve an older one than remembered. Returns the
/// newest checkpoint, to remember.
pub fn verify_checkpoints<S: Suite>(
    org: &Organization<S>,
    page: &AuditPage,
    from: u64,
    served: Option<&[u8]>,
    remembered: Option<&[u8]>,
) -> Result<Option<CheckpointSeen>, AuditFailure> {
    let served_cp = served
        .map(|b| decode_checkpoint(org, b, "server's"))
        .transpose()?;
    let remembered_cp = remembered
        .map(|b| decode_checkpoint(org, b, "remembered"))
        .transpose()?;
    if let Some(r) = &remembered_cp {
        match &served_cp {
            None => {
                return Err(fail(
                    r.position,
                    format!(
                        "the server withholds the organization's signed checkpoint (position {} was seen before)",
                        r.position
                    ),
                ))
            }
            Some(s) if s.position < r.position => {
                return Err(fail(
                    r.position,
                    format!(
                        "the server serves an older checkpoint (position {}) than the one seen before (position {})",
                        s.position, r.position
                    ),
                ))
            }
            Some(s) if s.position == r.position && s.head != r.head => {
                return Err(fail(
                    r.position,
                    "two organization-signed checkpoints disagree on the same position",
                ))
            }
            _ => {}
        }
    }
    let first = from.max(1);
    let last = page
        .entries
        .last()
        .map_or(first.saturating_sub(1), |e| e.seq);
    for cp in served_cp.iter().chain(remembered_cp.iter()) {
        if cp.position < first {
            continue;
        }
        if cp.position > last {
            return Err(fail(
                cp.position,
                format!(
                    "the trail ends at {last}, before the organization's signed checkpoint at position {}: entries were removed",
                    cp.position
                ),
            ));
        }
        let rec = &page.entries[(cp.position - first) as usize];
        if rec.seq != cp.position || rec.hash != hex::encode(cp.head) {
            return Err(fail(
                cp.position,
                format!(
                    "the trail does not extend the organization's signed checkpoint at position {}: entries up to it were removed, renumbered or edited",
                    cp.position
                ),
            ));
        }
    }
    let newest = match (served_cp, remembered_cp) {
        (Some(s), Some(r)) if r.position > s.position => Some(r),
        (Some(s), _) => Some(s),
        (None, r) => r,
    };
    Ok(newest.map(|c| CheckpointSeen {
        checkpoint: c.to_bytes(),
        position: c.position,
        time: c.time,
    }))
}

// ---------------------------------------------------------------------------------------------
// Rules

/// Whether a rule set is the one its owner signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RulesSignature {
    /// No rules and no statement: nothing to apply.
    Empty,
    /// Signed by the owner's member key over exactly these rules, at `time`.
    Signed {
        /// The statement's time.
        time: u64,
    },
    /// Not signed, or not over these rules: never apply them.
    Unsigned(String),
}

/// Check a rule set against the `set-rules` statement stored with it: it must be a `set-rules`
/// statement naming `owner` as actor and subject, with the digest of exactly `rules`, signed
/// by `owner`'s signing key.
pub fn verify_rules<S: Suite>(
    owner: &Certificate<S>,
    rules: &[String],
    statement: Option<&[u8]>,
) -> RulesSignature {
    let Some(bytes) = statement else {
        return if rules.is_empty() {
            RulesSignature::Empty
        } else {
            RulesSignature::Unsigned("the rules carry no statement signed by their owner".into())
        };
    };
    let st = match ActionStatement::from_bytes(bytes) {
        Ok(s) => s,
        Err(e) => return RulesSignature::Unsigned(format!("malformed rules statement: {e}")),
    };
    let owner_id = owner.fingerprint();
    if st.action != Action::SetRules || st.actor != owner_id {
        return RulesSignature::Unsigned(
            "the rules statement is not the owner's set-rules statement".into(),
        );
    }
    if !st.states(&ActionSpec::set_rules(&owner_id.to_hex(), rules)) {
        return RulesSignature::Unsigned(
            "the rules differ from the ones their owner signed: they were changed on the server"
                .into(),
        );
    }
    if !st.verify_signature(&owner.signing_key) {
        return RulesSignature::Unsigned(
            "the rules statement's signature does not verify with the owner's key".into(),
        );
    }
    RulesSignature::Signed { time: st.time }
}
