//! Checking the actor-signed action statement of a mutating request. The statement, byte for
//! byte, becomes the actor's audit entry.

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use soshiki_core::cert::Certificate;
use soshiki_core::suite::Suite;
use soshiki_proto::{ActionSpec, ActionStatement, ACTION_HEADER, B64, MAX_CLOCK_SKEW};
use soshiki_store::NewAuditEntry;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Middleware of the routes in [`crate::SIGNED_ROUTES`]: a request without the
/// [`ACTION_HEADER`] is refused (400) before its handler looks at anything else, so that no
/// answer about the state (unknown id, conflict) is given to an unsigned change.
pub async fn require_header(req: Request, next: Next) -> Response {
    if req.headers().contains_key(ACTION_HEADER) {
        next.run(req).await
    } else {
        missing_header().into_response()
    }
}

fn missing_header() -> ApiError {
    ApiError::BadRequest(format!(
        "missing {ACTION_HEADER} header: every change must carry a signed action statement"
    ))
}

/// The decoded statement from the request's [`ACTION_HEADER`].
pub fn statement(headers: &HeaderMap) -> ApiResult<(Vec<u8>, ActionStatement)> {
    let v = headers
        .get(ACTION_HEADER)
        .ok_or_else(missing_header)?
        .to_str()
        .map_err(|_| ApiError::BadRequest(format!("malformed {ACTION_HEADER} header")))?;
    let bytes = B64::decode(v.trim()).ok_or_else(|| {
        ApiError::BadRequest(format!("malformed {ACTION_HEADER} header (base64)"))
    })?;
    let st = ActionStatement::from_bytes(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed action statement: {e}")))?;
    Ok((bytes, st))
}

/// Check that the request's statement states exactly `spec`, is signed by `actor` (whose
/// certificate it names), and is timely. Returns the entry bytes.
pub fn check<S: Suite>(
    st: &AppState,
    headers: &HeaderMap,
    actor: &Certificate<S>,
    spec: &ActionSpec,
) -> ApiResult<Vec<u8>> {
    let r = check_statement(st, headers, actor, spec);
    if let Err(e) = &r {
        // A security event: a statement that does not state this request, is not the actor's,
        // or is not timely.
        st.metrics.statement_refused();
        tracing::warn!(
            event = "statement-refused",
            actor = %actor.fingerprint().to_hex(),
            reason = %e.message(),
            "action statement refused"
        );
    }
    r
}

fn check_statement<S: Suite>(
    st: &AppState,
    headers: &HeaderMap,
    actor: &Certificate<S>,
    spec: &ActionSpec,
) -> ApiResult<Vec<u8>> {
    let (bytes, stmt) = statement(headers)?;
    if stmt.suite != S::ID {
        return Err(ApiError::BadRequest(
            "the action statement is of another cipher suite".into(),
        ));
    }
    if stmt.actor != actor.fingerprint() {
        return Err(ApiError::Forbidden(
            "the action statement names another actor than the one making the request".into(),
        ));
    }
    if !stmt.states(spec) {
        return Err(ApiError::BadRequest(format!(
            "the action statement does not describe this request (expected {} on {})",
            spec.action,
            spec.subjects.join(", ")
        )));
    }
    let now = st.now();
    let t = i64::try_from(stmt.time).unwrap_or(i64::MAX);
    if t.abs_diff(now) > MAX_CLOCK_SKEW {
        return Err(ApiError::BadRequest(format!(
            "the action statement's time is more than {MAX_CLOCK_SKEW} s from the server's clock"
        )));
    }
    if !stmt.verify_signature(&actor.signing_key) {
        return Err(ApiError::Forbidden(
            "the action statement's signature does not verify with the actor's certificate".into(),
        ));
    }
    Ok(bytes)
}

/// The audit entry for organization `org_id`.
pub fn entry(st: &AppState, org_id: &str, bytes: &[u8]) -> NewAuditEntry {
    NewAuditEntry {
        org_id: org_id.into(),
        entry: bytes.to_vec(),
        created: st.now(),
    }
}
