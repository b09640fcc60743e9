//! Members: the first administrator, the directory, revocation.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use soshiki_core::cert::{Certificate, Roles};
use soshiki_core::suite::Suite;
use soshiki_core::with_suite;
use soshiki_proto::json::{CertificateBody, MemberInfo, MemberList};
use soshiki_proto::ActionSpec;
use soshiki_store::{MemberRow, MemberStatus, OrgRow, PageRequest};

use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{FpPath, JsonBody, QueryParams};
use crate::page::{List, PageParams, PageQuery};
use crate::util::{self, member_info};
use crate::{action, AppState};

/// A new member row for a certificate already verified against its organization.
pub fn new_member<S: Suite>(org_id: &str, cert: &Certificate<S>, now: i64) -> MemberRow {
    MemberRow {
        cert_id: cert.fingerprint().to_hex(),
        org_id: org_id.into(),
        member_name: cert.member_name.clone(),
        roles: cert.roles.bits(),
        certificate: cert.to_bytes(),
        status: MemberStatus::Active,
        created: now,
        revoked_at: None,
    }
}

/// Decode a certificate of the organization's suite and verify it against the registered
/// record, now.
pub fn verify_new_cert<S: Suite>(
    st: &AppState,
    org: &OrgRow,
    bytes: &[u8],
) -> ApiResult<Certificate<S>> {
    let cert = Certificate::<S>::from_bytes(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid certificate: {e}")))?;
    let rec = util::org_record::<S>(&org.record)?;
    cert.verify(&rec, util::now_u64(st)).map_err(|_| {
        ApiError::BadRequest(
            "the certificate is not issued by this organization or is not valid now".into(),
        )
    })?;
    if let Some(days) = org.max_validity_days {
        let length = cert.not_after.saturating_sub(cert.not_before);
        if length > u64::from(days) * 86_400 {
            return Err(ApiError::coded(
                axum::http::StatusCode::BAD_REQUEST,
                crate::error::codes::VALIDITY_OVER_POLICY,
                format!(
                    "the certificate is valid for {} days, longer than the organization's limit \
                     of {days} days (max_validity_days)",
                    length.div_ceil(86_400)
                ),
            ));
        }
    }
    Ok(cert)
}

/// `POST /v1/orgs/{org}/members`: the organization's first administrator, certified by the
/// organization key and signing its own `register-admin` statement. Refused once the
/// organization has a member (later members come through enrollment).
pub async fn register_admin(
    State(st): State<AppState>,
    FpPath(org_id): FpPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CertificateBody>,
) -> ApiResult<(StatusCode, Json<MemberInfo>)> {
    let org = st
        .store
        .org(&org_id)
        .await
        .map_err(ApiError::store("unknown organization", ""))?;
    if !st
        .store
        .members(&org_id, PageRequest::first(1))
        .await?
        .items
        .is_empty()
    {
        return Err(ApiError::Conflict(
            "the organization already has members: enroll instead".into(),
        ));
    }
    let suite = util::suite_of(&org)?;
    let (row, entry) = with_suite!(suite, S => {
        let cert = verify_new_cert::<S>(&st, &org, &body.certificate.0)?;
        if !cert.roles.contains(Roles::ADMIN) {
            return Err(ApiError::BadRequest(
                "the first member must hold the admin role".into(),
            ));
        }
        let cert_id = cert.fingerprint().to_hex();
        let spec = ActionSpec::register_admin(&org_id, &cert_id, &body.certificate.0);
        let entry = action::check::<S>(&st, &headers, &cert, &spec)?;
        (new_member(&org_id, &cert, st.now()), entry)
    });
    st.store
        .create_member(&row, &action::entry(&st, &org_id, &entry))
        .await
        .map_err(ApiError::store(
            "unknown organization",
            "this certificate is already registered",
        ))?;
    Ok((StatusCode::CREATED, Json(member_info(&row))))
}

/// `GET /v1/orgs/{org}/members` (any logged-in member): certificates to verify client-side.
pub async fn list(
    State(st): State<AppState>,
    _actor: Actor,
    FpPath(org_id): FpPath,
    QueryParams(q): QueryParams<PageParams>,
) -> ApiResult<Json<MemberList>> {
    let page = PageQuery::parse(List::Members, q.limit, q.after.as_deref())?;
    st.store
        .org(&org_id)
        .await
        .map_err(ApiError::store("unknown organization", ""))?;
    let members = st
        .store
        .members(&org_id, page.request())
        .await
        .map_err(page.store_err())?;
    Ok(Json(MemberList {
        members: members.items.iter().map(member_info).collect(),
        next: page.next(members.next),
    }))
}

/// `GET /v1/members/{cert}` (any logged-in member).
pub async fn show(
    State(st): State<AppState>,
    _actor: Actor,
    FpPath(cert_id): FpPath,
) -> ApiResult<Json<MemberInfo>> {
    let m = st
        .store
        .member(&cert_id)
        .await
        .map_err(ApiError::store("unknown member", ""))?;
    Ok(Json(member_info(&m)))
}

/// `POST /v1/members/{cert}/revoke` (administrator of the member's organization).
pub async fn revoke(
    State(st): State<AppState>,
    actor: Actor,
    FpPath(cert_id): FpPath,
    headers: HeaderMap,
) -> ApiResult<Json<MemberInfo>> {
    let m = st
        .store
        .member(&cert_id)
        .await
        .map_err(ApiError::store("unknown member", ""))?;
    actor.require_admin(&m.org_id)?;
    if m.status == MemberStatus::Revoked {
        return Err(ApiError::Conflict("the member is already revoked".into()));
    }
    let spec = ActionSpec::revoke(&cert_id, &m.certificate);
    let entry = with_suite!(actor.suite, S => {
        let cert = util::member_cert::<S>(&actor.member)?;
        action::check::<S>(&st, &headers, &cert, &spec)?
    });
    st.store
        .revoke_member(&cert_id, st.now(), &action::entry(&st, &m.org_id, &entry))
        .await
        .map_err(ApiError::store(
            "unknown member",
            "the member is already revoked",
        ))?;
    tracing::warn!(
        event = "member-revoked",
        cert_id = %cert_id,
        org = %m.org_id,
        by = %actor.cert_id(),
        "member revoked"
    );
    Ok(Json(member_info(&st.store.member(&cert_id).await?)))
}
