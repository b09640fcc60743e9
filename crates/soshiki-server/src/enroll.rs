//! Enrollment: a member's request with proof of possession, the administrator's approval with
//! a certificate made on the administrator's device, or rejection.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use soshiki_core::with_suite;
use soshiki_proto::json::{
    CertificateBody, CreateEnrollment, EnrollmentCreated, EnrollmentInfo, EnrollmentList,
    MemberInfo,
};
use soshiki_proto::{verify_enrollment, ActionSpec, B64, MAX_CLOCK_SKEW};
use soshiki_store::{EnrollmentRow, EnrollmentStatus};

use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{FpPath, IdPath, JsonBody, QueryParams};
use crate::members::{new_member, verify_new_cert};
use crate::page::{List, PageQuery};
use crate::util::{self, member_info, random_id};
use crate::{action, AppState};

async fn info(st: &AppState, e: &EnrollmentRow) -> ApiResult<EnrollmentInfo> {
    let certificate = match (&e.cert_id, e.status) {
        (Some(c), EnrollmentStatus::Approved) => Some(B64(st.store.member(c).await?.certificate)),
        _ => None,
    };
    Ok(EnrollmentInfo {
        id: e.id.clone(),
        org_id: e.org_id.clone(),
        request: B64(e.request.clone()),
        status: e.status.as_str().into(),
        created: e.created,
        cert_id: e.cert_id.clone(),
        certificate,
    })
}

/// `POST /v1/orgs/{org}/enrollments` (no login: the requester has no certificate yet). The
/// request must be an `enroll` statement signed by the requested signing key.
pub async fn create(
    _: crate::throttle::Admitted,
    State(st): State<AppState>,
    FpPath(org_id): FpPath,
    JsonBody(body): JsonBody<CreateEnrollment>,
) -> ApiResult<(StatusCode, Json<EnrollmentCreated>)> {
    let org = st
        .store
        .org(&org_id)
        .await
        .map_err(ApiError::store("unknown organization", ""))?;
    let suite = util::suite_of(&org)?;
    let time = with_suite!(suite, S => {
        let (stmt, _) = verify_enrollment::<S>(&body.request.0, &org_id)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        stmt.time
    });
    if i64::try_from(time).unwrap_or(i64::MAX).abs_diff(st.now()) > MAX_CLOCK_SKEW {
        return Err(ApiError::BadRequest(format!(
            "the enrollment request's time is more than {MAX_CLOCK_SKEW} s from the server's clock"
        )));
    }
    let row = EnrollmentRow {
        id: random_id(),
        org_id,
        request: body.request.0,
        status: EnrollmentStatus::Pending,
        created: st.now(),
        cert_id: None,
    };
    st.store.create_enrollment(&row).await?;
    Ok((StatusCode::CREATED, Json(EnrollmentCreated { id: row.id })))
}

/// Query of `GET /v1/orgs/{org}/enrollments`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `pending` (default), `approved` or `rejected`.
    status: Option<String>,
    /// Rows per page (1..=1000, default 100).
    limit: Option<u64>,
    /// The previous page's `next` cursor.
    after: Option<String>,
}

/// `GET /v1/orgs/{org}/enrollments` (administrator).
pub async fn list(
    State(st): State<AppState>,
    actor: Actor,
    FpPath(org_id): FpPath,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<EnrollmentList>> {
    actor.require_admin(&org_id)?;
    let name = q.status.as_deref().unwrap_or("pending");
    let status = name.parse::<EnrollmentStatus>().map_err(|_| {
        ApiError::BadRequest(format!(
            "unknown status {name:?}: pending, approved or rejected"
        ))
    })?;
    let page = PageQuery::parse(List::Enrollments, q.limit, q.after.as_deref())?;
    let rows = st
        .store
        .enrollments(&org_id, status, page.request())
        .await
        .map_err(page.store_err())?;
    let mut out = Vec::with_capacity(rows.items.len());
    for r in &rows.items {
        out.push(info(&st, r).await?);
    }
    Ok(Json(EnrollmentList {
        enrollments: out,
        next: page.next(rows.next),
    }))
}

/// `GET /v1/enrollments/{id}` (no login: the random id is the requester's capability).
pub async fn show(
    State(st): State<AppState>,
    IdPath(id): IdPath,
) -> ApiResult<Json<EnrollmentInfo>> {
    let e = st
        .store
        .enrollment(&id)
        .await
        .map_err(ApiError::store("unknown enrollment", ""))?;
    Ok(Json(info(&st, &e).await?))
}

/// `POST /v1/enrollments/{id}/approve` (administrator): the certificate, made by the
/// administrator's device with the organization key, must verify against the registered
/// organization and certify exactly the requested keys, name, roles and validity.
pub async fn approve(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CertificateBody>,
) -> ApiResult<(StatusCode, Json<MemberInfo>)> {
    let e = st
        .store
        .enrollment(&id)
        .await
        .map_err(ApiError::store("unknown enrollment", ""))?;
    actor.require_admin(&e.org_id)?;
    if e.status != EnrollmentStatus::Pending {
        return Err(ApiError::Conflict(format!(
            "the enrollment is already {}",
            e.status.as_str()
        )));
    }
    if e.created + st.limits.enrollment_ttl <= st.now() {
        // Not yet purged by the maintenance task, but expired all the same.
        return Err(ApiError::coded(
            StatusCode::GONE,
            crate::error::codes::ENROLLMENT_EXPIRED,
            "the enrollment request expired: the member must enroll again",
        ));
    }
    let org = st.store.org(&e.org_id).await?;
    let (row, entry) = with_suite!(actor.suite, S => {
        let (_, req) = verify_enrollment::<S>(&e.request, &e.org_id)
            .map_err(|err| ApiError::Internal(format!("stored enrollment {id}: {err}")))?;
        let cert = verify_new_cert::<S>(&st, &org, &body.certificate.0)?;
        if !req.is_certified_by(&cert) {
            return Err(ApiError::BadRequest(
                "the certificate does not certify exactly the requested keys, name, roles and validity".into(),
            ));
        }
        let cert_id = cert.fingerprint().to_hex();
        let spec = ActionSpec::approve(&id, &cert_id, &body.certificate.0, &e.request);
        let admin = util::member_cert::<S>(&actor.member)?;
        let entry = action::check::<S>(&st, &headers, &admin, &spec)?;
        (new_member(&e.org_id, &cert, st.now()), entry)
    });
    st.store
        .approve_enrollment(&id, &row, &action::entry(&st, &e.org_id, &entry))
        .await
        .map_err(ApiError::store(
            "unknown enrollment",
            "the enrollment is no longer pending, or the certificate is already registered",
        ))?;
    Ok((StatusCode::CREATED, Json(member_info(&row))))
}

/// `POST /v1/enrollments/{id}/reject` (administrator).
pub async fn reject(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> ApiResult<Json<EnrollmentInfo>> {
    let e = st
        .store
        .enrollment(&id)
        .await
        .map_err(ApiError::store("unknown enrollment", ""))?;
    actor.require_admin(&e.org_id)?;
    if e.status != EnrollmentStatus::Pending {
        return Err(ApiError::Conflict(format!(
            "the enrollment is already {}",
            e.status.as_str()
        )));
    }
    let spec = ActionSpec::reject(&id, &e.request);
    let entry = with_suite!(actor.suite, S => {
        let admin = util::member_cert::<S>(&actor.member)?;
        action::check::<S>(&st, &headers, &admin, &spec)?
    });
    st.store
        .reject_enrollment(&id, &[action::entry(&st, &e.org_id, &entry)])
        .await
        .map_err(ApiError::store(
            "unknown enrollment",
            "the enrollment is no longer pending",
        ))?;
    Ok(Json(info(&st, &st.store.enrollment(&id).await?).await?))
}
