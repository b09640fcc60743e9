//! Organization-signed status the server stores and serves but cannot forge: the newest
//! revocation list (SPEC.md §5.6), the newest audit checkpoint (SPEC.md §5.7) and the newest
//! partner list (SPEC.md §5.8) of each organization. Both are signed with the organization key on the administrator's device;
//! clients verify them against the organization they pinned. The server checks them too
//! (signature against the registered record, a greater serial or position than the stored one,
//! a checkpoint that matches its own trail) so that it never serves a useless object.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use soshiki_core::checkpoint::AuditCheckpoint;
use soshiki_core::partners::PartnerList;
use soshiki_core::revocation::RevocationList;
use soshiki_core::with_suite;
use soshiki_proto::json::{
    CheckpointBody, CheckpointInfo, PartnerListBody, PartnerListInfo, RevocationListBody,
    RevocationListInfo, SignedListInfo,
};
use soshiki_proto::{ActionSpec, B64};
use soshiki_store::{CheckpointRow, PartnerListRow, RevocationListRow, SignedListRow};

use crate::auth::Actor;
use crate::error::{codes, ApiError, ApiResult};
use crate::extract::{FpPath, JsonBody};
use crate::util;
use crate::{action, AppState};

/// Map a store error of publishing a signed list: a conflict is a list that is not newer
/// than the stored one (409 `stale-list`).
fn stale_list(message: &'static str) -> impl Fn(soshiki_store::StoreError) -> ApiError {
    move |e| match e {
        soshiki_store::StoreError::Conflict(_) => {
            ApiError::coded(StatusCode::CONFLICT, codes::STALE_LIST, message)
        }
        soshiki_store::StoreError::NotFound(_) => ApiError::NotFound("unknown organization".into()),
        other => ApiError::from(other),
    }
}

/// The organization `org_id` and its suite, for a request only its administrator may make.
async fn administered_org(
    st: &AppState,
    actor: &Actor,
    org_id: &str,
) -> ApiResult<(soshiki_store::OrgRow, soshiki_core::suite::SuiteId)> {
    actor.require_admin(org_id)?;
    let org = st
        .store
        .org(org_id)
        .await
        .map_err(ApiError::store("unknown organization", ""))?;
    let suite = util::suite_of(&org)?;
    Ok((org, suite))
}

/// The answer of both list routes.
fn list_info(r: SignedListRow) -> SignedListInfo {
    SignedListInfo {
        org_id: r.org_id,
        serial: r.serial,
        list: B64(r.list),
        created: r.created,
    }
}

fn checkpoint_info(r: CheckpointRow) -> CheckpointInfo {
    CheckpointInfo {
        org_id: r.org_id,
        position: r.position,
        checkpoint: B64(r.checkpoint),
        created: r.created,
    }
}

/// `GET /v1/orgs/{org}/revocations` (anyone): the newest organization-signed revocation list.
pub async fn revocations(
    State(st): State<AppState>,
    FpPath(org_id): FpPath,
) -> ApiResult<Json<RevocationListInfo>> {
    let row = st
        .store
        .revocation_list(&org_id)
        .await
        .map_err(ApiError::store(
            "the organization has published no revocation list",
            "",
        ))?;
    Ok(Json(list_info(row)))
}

/// `PUT /v1/orgs/{org}/revocations` (administrator): store a new organization-signed
/// revocation list; refused unless its serial is greater than the stored list's.
pub async fn publish_revocations(
    State(st): State<AppState>,
    actor: Actor,
    FpPath(org_id): FpPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RevocationListBody>,
) -> ApiResult<Json<RevocationListInfo>> {
    let (org, suite) = administered_org(&st, &actor, &org_id).await?;
    let (serial, entry) = with_suite!(suite, S => {
        let list = RevocationList::<S>::from_bytes(&body.list.0)
            .map_err(|e| ApiError::BadRequest(format!("invalid revocation list: {e}")))?;
        let rec = util::org_record::<S>(&org.record)?;
        if !list.is_signed_by(&rec) {
            return Err(ApiError::BadRequest(
                "the revocation list is not signed by this organization".into(),
            ));
        }
        let spec = ActionSpec::publish_revocations(&org_id, list.serial, &body.list.0);
        let cert = util::member_cert::<S>(&actor.member)?;
        (list.serial, action::check::<S>(&st, &headers, &cert, &spec)?)
    });
    let row = RevocationListRow {
        org_id: org_id.clone(),
        serial,
        list: body.list.0,
        created: st.now(),
    };
    st.store
        .put_revocation_list(&row, &action::entry(&st, &org_id, &entry))
        .await
        .map_err(stale_list(
            "the stored revocation list has the same or a greater serial number: sign a new \
             list from the newest one",
        ))?;
    Ok(Json(list_info(row)))
}

/// `GET /v1/orgs/{org}/partners` (members of the organization): the newest organization-signed
/// partner list. Unlike a revocation list, which senders of every organization must check, a
/// partner list is used only by the organization's own members (SPEC.md §5.8), and it reveals
/// with whom the organization works: other organizations and anonymous callers get 403/401.
pub async fn partners(
    State(st): State<AppState>,
    actor: Actor,
    FpPath(org_id): FpPath,
) -> ApiResult<Json<PartnerListInfo>> {
    if actor.member.org_id != org_id {
        return Err(ApiError::Forbidden(
            "only members of the organization may read its partner list".into(),
        ));
    }
    let row = st
        .store
        .partner_list(&org_id)
        .await
        .map_err(ApiError::store(
            "the organization has published no partner list",
            "",
        ))?;
    Ok(Json(list_info(row)))
}

/// `PUT /v1/orgs/{org}/partners` (administrator): store a new organization-signed partner
/// list; refused unless it is signed by this organization and its serial is greater than the
/// stored list's (409).
pub async fn publish_partners(
    State(st): State<AppState>,
    actor: Actor,
    FpPath(org_id): FpPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PartnerListBody>,
) -> ApiResult<Json<PartnerListInfo>> {
    let (org, suite) = administered_org(&st, &actor, &org_id).await?;
    let (serial, entry) = with_suite!(suite, S => {
        let list = PartnerList::<S>::from_bytes(&body.list.0)
            .map_err(|e| ApiError::BadRequest(format!("invalid partner list: {e}")))?;
        let rec = util::org_record::<S>(&org.record)?;
        if !list.is_signed_by(&rec) {
            return Err(ApiError::BadRequest(
                "the partner list is not signed by this organization".into(),
            ));
        }
        let spec = ActionSpec::publish_partners(&org_id, list.serial, &body.list.0);
        let cert = util::member_cert::<S>(&actor.member)?;
        (list.serial, action::check::<S>(&st, &headers, &cert, &spec)?)
    });
    let row = PartnerListRow {
        org_id: org_id.clone(),
        serial,
        list: body.list.0,
        created: st.now(),
    };
    st.store
        .put_partner_list(&row, &action::entry(&st, &org_id, &entry))
        .await
        .map_err(stale_list(
            "the stored partner list has the same or a greater serial number: sign a new list \
             from the newest one",
        ))?;
    Ok(Json(list_info(row)))
}

/// `GET /v1/orgs/{org}/checkpoint` (anyone): the newest organization-signed audit checkpoint.
pub async fn checkpoint(
    State(st): State<AppState>,
    FpPath(org_id): FpPath,
) -> ApiResult<Json<CheckpointInfo>> {
    let row = st.store.checkpoint(&org_id).await.map_err(ApiError::store(
        "the organization has no audit checkpoint",
        "",
    ))?;
    Ok(Json(checkpoint_info(row)))
}

/// `PUT /v1/orgs/{org}/checkpoint` (administrator): store a new organization-signed checkpoint
/// of the organization's trail; refused unless it matches the trail and its position is
/// greater than the stored checkpoint's.
pub async fn publish_checkpoint(
    State(st): State<AppState>,
    actor: Actor,
    FpPath(org_id): FpPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CheckpointBody>,
) -> ApiResult<Json<CheckpointInfo>> {
    let (org, suite) = administered_org(&st, &actor, &org_id).await?;
    let (position, head, entry) = with_suite!(suite, S => {
        let cp = AuditCheckpoint::<S>::from_bytes(&body.checkpoint.0)
            .map_err(|e| ApiError::BadRequest(format!("invalid audit checkpoint: {e}")))?;
        let rec = util::org_record::<S>(&org.record)?;
        cp.verify(&rec).map_err(|_| {
            ApiError::BadRequest("the checkpoint is not signed by this organization".into())
        })?;
        let spec = ActionSpec::checkpoint(&org_id, cp.position, &body.checkpoint.0);
        let cert = util::member_cert::<S>(&actor.member)?;
        (cp.position, cp.head, action::check::<S>(&st, &headers, &cert, &spec)?)
    });
    let at = st.store.audit(&org_id, position, 1).await?;
    match at.first() {
        Some(r) if r.seq == position && r.hash == head => {}
        _ => {
            return Err(ApiError::coded(
                StatusCode::BAD_REQUEST,
                codes::CHECKPOINT_MISMATCH,
                "the checkpoint does not match this organization's audit trail (no entry at \
                 its position, or another head hash)",
            ))
        }
    }
    let row = CheckpointRow {
        org_id: org_id.clone(),
        position,
        checkpoint: body.checkpoint.0,
        created: st.now(),
    };
    st.store
        .put_checkpoint(&row, &action::entry(&st, &org_id, &entry))
        .await
        .map_err(ApiError::store(
            "unknown organization",
            "the stored checkpoint is at the same or a later position",
        ))?;
    Ok(Json(checkpoint_info(row)))
}
