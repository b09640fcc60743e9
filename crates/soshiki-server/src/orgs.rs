//! Organizations: register the self-signed record, show, list, set the policy (expiry,
//! retention, longest certificate validity, storage quota).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use soshiki_core::cert::Organization;
use soshiki_core::with_suite;
use soshiki_proto::json::{OrgInfo, OrgList, Policy, RegisterOrg};
use soshiki_proto::{sha256, ActionSpec, MAX_QUOTA_BYTES, REGISTRATION_TOKEN_HEADER};
use soshiki_store::{OrgPolicy, OrgRow};

use crate::auth::Actor;
use crate::error::{codes, ApiError, ApiResult};
use crate::extract::{FpPath, JsonBody, QueryParams};
use crate::page::{List, PageParams, PageQuery};
use crate::util::{self, org_info};
use crate::{action, AppState, Registration};

/// `POST /v1/orgs`: anyone may register an organization; its id is its key's fingerprint, so
/// a record cannot be registered under another organization's id.
pub async fn register(
    _: crate::throttle::Admitted,
    State(st): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RegisterOrg>,
) -> ApiResult<(StatusCode, Json<OrgInfo>)> {
    check_registration(&st, &headers)?;
    let rec = body.record.0;
    let suite = soshiki_core::cert::ORGANIZATION_FRAME
        .peek_suite(&rec)
        .map_err(|e| ApiError::BadRequest(format!("not an organization record: {e}")))?;
    let (id, name) = with_suite!(suite, S => {
        let o = Organization::<S>::from_bytes(&rec)
            .map_err(|e| ApiError::BadRequest(format!("invalid organization record: {e}")))?;
        (o.fingerprint().to_hex(), o.name.clone())
    });
    if name.is_empty() {
        return Err(ApiError::BadRequest(
            "the organization name is empty".into(),
        ));
    }
    let row = OrgRow {
        id,
        suite: suite.to_u16(),
        name,
        record: rec,
        created: st.now(),
        expiry_days: None,
        retention_days: None,
        max_validity_days: None,
        quota_bytes: None,
        sender_role_required: false,
    };
    st.store.create_org(&row).await.map_err(ApiError::store(
        "",
        "this organization is already registered",
    ))?;
    Ok((StatusCode::CREATED, Json(org_info(&row))))
}

/// Closed registration: only a request with the operator's token registers an organization
/// (403 `registration-closed` otherwise). The tokens are compared by their SHA-256 digests,
/// so the comparison's time says nothing about the token.
fn check_registration(st: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let Registration::Closed { token } = &st.limits.registration else {
        return Ok(());
    };
    let given = headers
        .get(REGISTRATION_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !given.is_empty() && sha256(given.trim().as_bytes()) == sha256(token.trim().as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::coded(
            StatusCode::FORBIDDEN,
            codes::REGISTRATION_CLOSED,
            "organization registration on this server is closed: the operator registers \
             organizations (with the registration token)",
        ))
    }
}

/// `GET /v1/orgs`.
pub async fn list(
    State(st): State<AppState>,
    QueryParams(q): QueryParams<PageParams>,
) -> ApiResult<Json<OrgList>> {
    let page = PageQuery::parse(List::Orgs, q.limit, q.after.as_deref())?;
    let orgs = st
        .store
        .orgs(page.request())
        .await
        .map_err(page.store_err())?;
    Ok(Json(OrgList {
        orgs: orgs.items.iter().map(org_info).collect(),
        next: page.next(orgs.next),
    }))
}

/// `GET /v1/orgs/{org}`.
pub async fn show(State(st): State<AppState>, FpPath(id): FpPath) -> ApiResult<Json<OrgInfo>> {
    let o = st
        .store
        .org(&id)
        .await
        .map_err(ApiError::store("unknown organization", ""))?;
    Ok(Json(org_info(&o)))
}

/// The longest expiry or retention, in days (100 years).
const MAX_DAYS: u32 = 36_500;

/// `PUT /v1/orgs/{org}/policy` (administrator).
pub async fn set_policy(
    State(st): State<AppState>,
    actor: Actor,
    FpPath(id): FpPath,
    headers: HeaderMap,
    JsonBody(p): JsonBody<Policy>,
) -> ApiResult<Json<OrgInfo>> {
    actor.require_admin(&id)?;
    if p.expiry_days.is_some_and(|d| d == 0 || d > MAX_DAYS)
        || p.retention_days.is_some_and(|d| d == 0 || d > MAX_DAYS)
        || p.max_validity_days.is_some_and(|d| d == 0 || d > MAX_DAYS)
    {
        return Err(ApiError::BadRequest(format!(
            "expiry, retention and max_validity_days must be 1 to {MAX_DAYS} days, or null"
        )));
    }
    if p.quota_bytes.is_some_and(|b| b > MAX_QUOTA_BYTES) {
        return Err(ApiError::BadRequest(format!(
            "quota_bytes must be at most {MAX_QUOTA_BYTES} bytes (1 PiB), or 0 or null for no quota"
        )));
    }
    let spec = ActionSpec::set_policy(&id, &p);
    let entry = with_suite!(actor.suite, S => {
        let cert = util::member_cert::<S>(&actor.member)?;
        action::check::<S>(&st, &headers, &cert, &spec)?
    });
    st.store
        .set_org_policy(
            &id,
            &OrgPolicy {
                expiry_days: p.expiry_days,
                retention_days: p.retention_days,
                max_validity_days: p.max_validity_days,
                quota_bytes: p.quota(),
                sender_role_required: p.sender_role_required,
            },
            &[action::entry(&st, &id, &entry)],
        )
        .await?;
    Ok(Json(org_info(&st.store.org(&id).await?)))
}
