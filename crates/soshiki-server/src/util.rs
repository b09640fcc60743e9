//! Small helpers shared by the handlers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use rand_core::{OsRng, RngCore};
use soshiki_core::cert::{Certificate, Organization, Roles};
use soshiki_core::suite::{Suite, SuiteId};
use soshiki_proto::json::{DeliveryInfo, ForwardedInfo, MemberInfo, OrgInfo, ServerInfo};
use soshiki_proto::B64;
use soshiki_store::{DeliveryRow, DeliveryStatus, MemberRow, OrgRow};

use crate::error::{error_response, ApiError, ApiResult};
use crate::AppState;

/// `GET /v1/info`.
pub async fn info(State(st): State<AppState>) -> Json<ServerInfo> {
    Json(ServerInfo {
        api: "soshiki/v1".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        origin: st.origin.clone(),
    })
}

/// Unknown path.
pub async fn no_route() -> Response {
    error_response(StatusCode::NOT_FOUND, "no-route", "no such endpoint".into())
}

/// Known path, wrong method.
pub async fn method_not_allowed() -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this endpoint does not accept this method".into(),
    )
}

/// `N` random bytes.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

/// A random 16-byte id, hex.
pub fn random_id() -> String {
    hex::encode(random_bytes::<16>())
}

/// Check a fingerprint text (64 lower-case hex digits).
pub fn check_fp(s: &str) -> ApiResult<()> {
    if s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "malformed id {s:?}: expected 64 lower-case hex digits"
        )))
    }
}

/// An organization's suite.
pub async fn org_suite(st: &AppState, org_id: &str) -> ApiResult<SuiteId> {
    if let Some(s) = st.cached_suite(org_id) {
        return Ok(s);
    }
    let org = st.store.org(org_id).await?;
    let suite = suite_of(&org)?;
    st.cache_suite(org_id, suite);
    Ok(suite)
}

/// The suite of an organization row.
pub fn suite_of(org: &OrgRow) -> ApiResult<SuiteId> {
    SuiteId::from_u16(org.suite).map_err(|e| ApiError::Internal(format!("stored suite: {e}")))
}

/// Decode a stored certificate.
pub fn member_cert<S: Suite>(m: &MemberRow) -> ApiResult<Certificate<S>> {
    Certificate::<S>::from_bytes(&m.certificate)
        .map_err(|e| ApiError::Internal(format!("stored certificate {}: {e}", m.cert_id)))
}

/// Decode a stored organization record.
pub fn org_record<S: Suite>(record: &[u8]) -> ApiResult<Organization<S>> {
    Organization::<S>::from_bytes(record)
        .map_err(|e| ApiError::Internal(format!("stored organization record: {e}")))
}

/// Now as `u64`.
pub fn now_u64(st: &AppState) -> u64 {
    u64::try_from(st.now()).unwrap_or(0)
}

/// Role names of role bits.
pub fn role_names(bits: u8) -> Vec<String> {
    Roles::from_bits(bits)
        .map(|r| r.names().into_iter().map(String::from).collect())
        .unwrap_or_default()
}

/// Whether role bits contain a role.
pub fn has_role(bits: u8, role: Roles) -> bool {
    Roles::from_bits(bits).is_ok_and(|r| r.contains(role))
}

/// The JSON view of an organization.
pub fn org_info(o: &OrgRow) -> OrgInfo {
    OrgInfo {
        id: o.id.clone(),
        suite: SuiteId::from_u16(o.suite).map_or_else(|_| "unknown".into(), |s| s.name().into()),
        name: o.name.clone(),
        record: B64(o.record.clone()),
        created: o.created,
        expiry_days: o.expiry_days,
        retention_days: o.retention_days,
        max_validity_days: o.max_validity_days,
        quota_bytes: o.quota_bytes,
        sender_role_required: o.sender_role_required,
    }
}

/// The JSON view of a member.
pub fn member_info(m: &MemberRow) -> MemberInfo {
    MemberInfo {
        cert_id: m.cert_id.clone(),
        org_id: m.org_id.clone(),
        name: m.member_name.clone(),
        roles: m.roles,
        role_names: role_names(m.roles),
        certificate: B64(m.certificate.clone()),
        status: m.status.as_str().into(),
        created: m.created,
        revoked_at: m.revoked_at,
    }
}

/// How many recalled forwards of a delivery its view lists (the newest ones), next to every
/// live one: forward and recall cycles never make the view, or what a request reads, grow
/// without bound. The audit trail keeps the whole history.
pub const SHOWN_RECALLED_FORWARDS: u32 = 20;

/// The parts of `d` not currently forwarded onward: its parts minus those of its children
/// that still hold them (every child except recalled ones; an expired child consumed its
/// parts). `all_of_envelope` holds at least `d`'s live children ([`soshiki_store::Store::children`]).
pub fn forwardable_parts(d: &DeliveryRow, all_of_envelope: &[DeliveryRow]) -> Vec<u32> {
    if !matches!(
        d.status,
        DeliveryStatus::Delivered | DeliveryStatus::Forwarded
    ) {
        return vec![];
    }
    retained_parts(d, all_of_envelope)
}

/// The parts `d`'s holder still holds, whatever the delivery's status: its parts minus those
/// its live (not recalled) children took. Only these parts' capsules and bodies are ever
/// served to the holder: a part forwarded away is read by its new holder only.
pub fn retained_parts(d: &DeliveryRow, all_of_envelope: &[DeliveryRow]) -> Vec<u32> {
    let taken: Vec<u32> = all_of_envelope
        .iter()
        .filter(|c| c.parent.as_deref() == Some(d.id.as_str()))
        .filter(|c| c.status != DeliveryStatus::Recalled)
        .flat_map(|c| c.parts.iter().copied())
        .collect();
    d.parts
        .iter()
        .copied()
        .filter(|p| !taken.contains(p))
        .collect()
}

/// Whether `d` has children that were not recalled.
pub fn has_live_children(d: &DeliveryRow, all_of_envelope: &[DeliveryRow]) -> bool {
    all_of_envelope
        .iter()
        .any(|c| c.parent.as_deref() == Some(d.id.as_str()) && c.status != DeliveryStatus::Recalled)
}

/// The JSON view of a delivery for `viewer`. A viewer outside the holder's organization (the
/// sender, an administrator of the sender's organization) never sees who inside the receiving
/// organization holds what: the deliveries forwarded from this one are left out (the sender's
/// receipts give their roles and times).
pub async fn delivery_info(
    st: &AppState,
    d: &DeliveryRow,
    viewer: &crate::auth::Actor,
) -> ApiResult<DeliveryInfo> {
    let insider = viewer.member.org_id == d.holder_org;
    let env = st.store.envelope(&d.envelope_id).await?;
    // Only this delivery's children, never the whole envelope's deliveries.
    let all = st.store.children(&d.id, SHOWN_RECALLED_FORWARDS).await?;
    let sender_name = match st.store.member(&env.sender_cert).await {
        Ok(m) => m.member_name,
        Err(_) => String::new(),
    };
    let sender_org_name = match st.store.org(&env.sender_org).await {
        Ok(o) => o.name,
        Err(_) => String::new(),
    };
    Ok(DeliveryInfo {
        id: d.id.clone(),
        envelope_id: d.envelope_id.clone(),
        suite: SuiteId::from_u16(env.suite).map_or_else(|_| "unknown".into(), |s| s.name().into()),
        holder_cert: d.holder_cert.clone(),
        holder_org: d.holder_org.clone(),
        parent: d.parent.clone(),
        created_by: d.created_by.clone(),
        parts: d.parts.clone(),
        forwardable_parts: forwardable_parts(d, &all),
        status: d.status.as_str().into(),
        created: d.created,
        updated: d.updated,
        sender_cert: env.sender_cert,
        sender_name,
        sender_org: env.sender_org,
        sender_org_name,
        body_available: !env.body_removed,
        downloaded: d.downloaded,
        forwards: all
            .iter()
            .filter(|c| insider && c.parent.as_deref() == Some(d.id.as_str()))
            .map(|c| ForwardedInfo {
                id: c.id.clone(),
                holder_cert: c.holder_cert.clone(),
                parts: c.parts.clone(),
                status: c.status.as_str().into(),
                created: c.created,
            })
            .collect(),
    })
}

/// Run CPU-heavy verification off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("verification task: {e}")))?
}
