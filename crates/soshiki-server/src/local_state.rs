//! A member's own browser state (pinned organizations, trust anchors), kept here as a second
//! copy beside the browser profile so that a profile rolled back to an older signed copy, or
//! wiped, is noticed at the next unlock (the browser takes the copy with the higher serial).
//!
//! The state is sealed and signed by the member key on the member's device; the server cannot
//! read meaning into it or forge it and never tries: it stores an opaque blob and its serial per
//! certificate and kind, refuses a serial that is not greater than the stored one, and caps the
//! size. Only the member itself (its token) reads or writes its state; no route names another
//! member's.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use soshiki_proto::json::LocalStateBody;
use soshiki_proto::B64;
use soshiki_store::LocalStateRow;

use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::AppState;

/// Largest sealed state, bytes.
pub const MAX_LOCAL_STATE: usize = 64 * 1024;

/// The kinds of state a member may store (so a member stores at most
/// `KINDS.len() × MAX_LOCAL_STATE` bytes): the pinned organizations, and the trust anchors (the
/// newest revocation-list serial and audit checkpoint seen per organization).
pub const KINDS: &[&str] = &["pins", "trust"];

/// The `{kind}` path parameter: one of [`KINDS`].
#[derive(Debug)]
pub struct KindPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for KindPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(k) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|r| ApiError::BadRequest(r.body_text()))?;
        if !KINDS.contains(&k.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "unknown state kind {k:?}: expected one of {}",
                KINDS.join(", ")
            )));
        }
        Ok(KindPath(k))
    }
}

fn body_of(r: LocalStateRow) -> LocalStateBody {
    LocalStateBody {
        serial: r.serial,
        state: B64(r.state),
    }
}

/// `GET /v1/me/local-state/{kind}` (the member): its newest stored state of `kind`.
pub async fn get(
    State(st): State<AppState>,
    actor: Actor,
    KindPath(kind): KindPath,
) -> ApiResult<Json<LocalStateBody>> {
    let row = st
        .store
        .local_state(actor.cert_id(), &kind)
        .await
        .map_err(ApiError::store("no state of this kind is stored", ""))?;
    Ok(Json(body_of(row)))
}

/// `PUT /v1/me/local-state/{kind}` (the member): replace its stored state of `kind`; refused
/// (409) unless the serial is greater than the stored one's.
pub async fn put(
    State(st): State<AppState>,
    actor: Actor,
    KindPath(kind): KindPath,
    JsonBody(body): JsonBody<LocalStateBody>,
) -> ApiResult<Json<LocalStateBody>> {
    if body.serial == 0 || i64::try_from(body.serial).is_err() {
        return Err(ApiError::BadRequest(
            "the serial must be from 1 to 2^63 - 1".into(),
        ));
    }
    if body.state.0.is_empty() {
        return Err(ApiError::BadRequest("the state is empty".into()));
    }
    if body.state.0.len() > MAX_LOCAL_STATE {
        return Err(ApiError::TooLarge(format!(
            "a stored state is at most {MAX_LOCAL_STATE} bytes"
        )));
    }
    let row = LocalStateRow {
        cert_id: actor.cert_id().into(),
        kind,
        serial: body.serial,
        state: body.state.0,
        updated: st.now(),
    };
    st.store
        .put_local_state(&row)
        .await
        .map_err(ApiError::store(
            "unknown member",
            "the stored state has the same or a greater serial number (fetch it and save again)",
        ))?;
    Ok(Json(body_of(row)))
}
