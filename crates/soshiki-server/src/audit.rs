//! The audit trail: listed for the organization's administrators, with the certificates of
//! every actor, so that the client can verify the chain and every signature itself.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use soshiki_proto::json::{ActorCertificate, AuditPage, AuditRecord};
use soshiki_proto::{ActionStatement, B64};

use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{FpPath, QueryParams};
use crate::AppState;

/// Largest page.
pub const MAX_PAGE: u32 = 1000;

/// Query of `GET /v1/orgs/{org}/audit`.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    /// First sequence number (default 1).
    from: Option<u64>,
    /// Entries per page (default and maximum 1000).
    limit: Option<u64>,
}

/// `GET /v1/orgs/{org}/audit` (administrator).
pub async fn list(
    State(st): State<AppState>,
    actor: Actor,
    FpPath(org_id): FpPath,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    actor.require_admin(&org_id)?;
    let from = match q.from {
        None => 1,
        Some(n) if (1..=i64::MAX as u64).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::BadRequest(format!(
                "from {n} is not a sequence number: 1 to {}",
                i64::MAX
            )))
        }
    };
    let limit = crate::page::limit_or(q.limit, MAX_PAGE)?;
    let rows = st.store.audit(&org_id, from, limit).await?;
    let mut certs: BTreeMap<String, ActorCertificate> = BTreeMap::new();
    let mut records: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for r in &rows {
        let Ok(stmt) = ActionStatement::from_bytes(&r.entry) else {
            continue;
        };
        let id = stmt.actor.to_hex();
        if certs.contains_key(&id) {
            continue;
        }
        let Ok(m) = st.store.member(&id).await else {
            continue;
        };
        let record = match records.get(&m.org_id) {
            Some(r) => r.clone(),
            None => {
                let rec = st.store.org(&m.org_id).await?.record;
                records.insert(m.org_id.clone(), rec.clone());
                rec
            }
        };
        certs.insert(
            id.clone(),
            ActorCertificate {
                cert_id: id,
                certificate: B64(m.certificate),
                org_record: B64(record),
            },
        );
    }
    Ok(Json(AuditPage {
        org_id,
        entries: rows
            .into_iter()
            .map(|r| AuditRecord {
                seq: r.seq,
                entry: B64(r.entry),
                prev_hash: hex::encode(r.prev_hash),
                hash: hex::encode(r.hash),
                created: r.created,
            })
            .collect(),
        certificates: certs.into_values().collect(),
    }))
}
