//! Authentication by proof of key possession: a challenge signed with the member's signing key
//! gives a short-lived bearer token. Only the token's SHA-256 is stored; no password exists.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use base64::Engine;
use soshiki_core::cert::Roles;
use soshiki_core::suite::{Suite, SuiteId};
use soshiki_core::with_suite;
use soshiki_proto::json::{Challenge, ChallengeRequest, Token, TokenRequest};
use soshiki_proto::{login_message, sha256, B64, LOGIN_NONCE_LEN};
use soshiki_store::{MemberRow, MemberStatus, StoreError};

use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::util::{self, random_bytes};
use crate::AppState;

/// How long a challenge may be answered.
pub const CHALLENGE_TTL: i64 = 60;
/// How long a token is valid at most (never beyond its member certificate's `not_after`).
pub const TOKEN_TTL: i64 = 3600;

/// `POST /v1/auth/challenge`.
pub async fn challenge(
    _: crate::throttle::Admitted,
    State(st): State<AppState>,
    JsonBody(req): JsonBody<ChallengeRequest>,
) -> ApiResult<Json<Challenge>> {
    util::check_fp(&req.cert_id)?;
    let m = st
        .store
        .member(&req.cert_id)
        .await
        .map_err(ApiError::store("unknown member", ""))?;
    if m.status != MemberStatus::Active {
        return Err(ApiError::Unauthorized(
            "this member's certificate is revoked".into(),
        ));
    }
    // An expired (or not yet valid) certificate cannot log in: say so before any signature.
    let suite = util::org_suite(&st, &m.org_id).await?;
    if !certificate_current(&st, &m, suite)? {
        return Err(ApiError::Unauthorized(
            "this member's certificate is expired or not yet valid".into(),
        ));
    }
    let nonce = random_bytes::<32>();
    let expires = st.now() + CHALLENGE_TTL;
    st.store.put_challenge(&nonce, &m.cert_id, expires).await?;
    Ok(Json(Challenge {
        nonce: B64(nonce.to_vec()),
        expires,
    }))
}

/// `POST /v1/auth/token`. A refusal is a security event (logged at warn with the member's
/// certificate id and the reason, counted in `/metrics`).
pub async fn token(
    admitted: crate::throttle::Admitted,
    State(st): State<AppState>,
    JsonBody(req): JsonBody<TokenRequest>,
) -> ApiResult<Json<Token>> {
    let cert_id = req.cert_id.clone();
    let r = issue_token(admitted, &st, req).await;
    if let Err(e) = &r {
        if e.status().is_client_error() {
            st.metrics.login_refused();
            tracing::warn!(event = "login-refused", cert_id = %cert_id, reason = %e.message(), "login refused");
        }
    }
    r
}

async fn issue_token(
    _: crate::throttle::Admitted,
    st: &AppState,
    req: TokenRequest,
) -> ApiResult<Json<Token>> {
    util::check_fp(&req.cert_id)?;
    if req.nonce.0.len() != LOGIN_NONCE_LEN {
        return Err(ApiError::BadRequest(format!(
            "a login nonce is exactly {LOGIN_NONCE_LEN} bytes"
        )));
    }
    let now = st.now();
    let cert_of_nonce = st
        .store
        .take_challenge(&req.nonce.0, now)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => {
                ApiError::Unauthorized("unknown or expired challenge: ask for a new one".into())
            }
            other => other.into(),
        })?;
    if cert_of_nonce != req.cert_id {
        return Err(ApiError::Unauthorized(
            "the challenge was issued for another member".into(),
        ));
    }
    let m = st
        .store
        .member(&req.cert_id)
        .await
        .map_err(ApiError::store("unknown member", ""))?;
    if m.status != MemberStatus::Active {
        return Err(ApiError::Unauthorized(
            "this member's certificate is revoked".into(),
        ));
    }
    let suite = util::org_suite(st, &m.org_id).await?;
    let record = st.store.org(&m.org_id).await?.record;
    let msg =
        login_message(&st.origin, &req.nonce.0).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let (ok, cert_end) =
        with_suite!(suite, S => check_login::<S>(&m, &record, &msg, &req.signature.0, now)?);
    if !ok {
        return Err(ApiError::Unauthorized(format!(
            "the login signature does not verify (this server signs logins for the origin {})",
            st.origin
        )));
    }
    let token = random_bytes::<32>();
    let token_text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token);
    // A token never outlives the certificate it was issued for.
    let expires = (now + TOKEN_TTL).min(i64::try_from(cert_end).unwrap_or(i64::MAX));
    st.store
        .put_token(&sha256(token_text.as_bytes()), &m.cert_id, expires)
        .await?;
    Ok(Json(Token {
        token: token_text,
        expires,
        cert_id: m.cert_id,
    }))
}

fn check_login<S: Suite>(
    m: &MemberRow,
    record: &[u8],
    msg: &[u8],
    sig: &[u8],
    now: i64,
) -> ApiResult<(bool, u64)> {
    let cert = util::member_cert::<S>(m)?;
    let org = util::org_record::<S>(record)?;
    if cert.verify(&org, u64::try_from(now).unwrap_or(0)).is_err() {
        return Err(ApiError::Unauthorized(
            "this member's certificate is expired or not yet valid".into(),
        ));
    }
    Ok((cert.signing_key.verify(msg, sig), cert.not_after))
}

/// Whether the member's certificate is within its validity at `now`. The validity is read
/// from the certificate once and cached (certificates are immutable), so the check costs no
/// decoding on the hot path of authenticated requests.
fn certificate_current(st: &AppState, m: &MemberRow, suite: SuiteId) -> ApiResult<bool> {
    let (not_before, not_after) = match st.cached_validity(&m.cert_id) {
        Some(v) => v,
        None => {
            let v = with_suite!(suite, S => {
                let cert = util::member_cert::<S>(m)?;
                (cert.not_before, cert.not_after)
            });
            st.cache_validity(&m.cert_id, v);
            v
        }
    };
    let now = u64::try_from(st.now()).unwrap_or(0);
    Ok(not_before <= now && now <= not_after)
}

/// The authenticated member of a request (`Authorization: Bearer …`). Revoked members are
/// refused even with a token issued before the revocation.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The member.
    pub member: MemberRow,
    /// Its organization's suite.
    pub suite: SuiteId,
}

impl Actor {
    /// Certificate id.
    pub fn cert_id(&self) -> &str {
        &self.member.cert_id
    }

    /// Whether the member holds a role.
    pub fn has(&self, role: Roles) -> bool {
        Roles::from_bits(self.member.roles).is_ok_and(|r| r.contains(role))
    }

    /// Whether the member may forward (representative or forwarder).
    pub fn can_forward(&self) -> bool {
        self.has(Roles::FORWARDER) || self.has(Roles::REPRESENTATIVE)
    }

    /// Require the admin role in `org_id`.
    pub fn require_admin(&self, org_id: &str) -> ApiResult<()> {
        if self.member.org_id == org_id && self.has(Roles::ADMIN) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "only an administrator of the organization may do this".into(),
            ))
        }
    }
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let unauthorized =
            || ApiError::Unauthorized("missing or invalid bearer token: log in".into());
        let value = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(unauthorized)?
            .trim();
        if token.is_empty() || token.len() > 128 {
            return Err(unauthorized());
        }
        let member = st
            .store
            .token(&sha256(token.as_bytes()), st.now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => unauthorized(),
                other => other.into(),
            })?;
        if member.status != MemberStatus::Active {
            return Err(ApiError::Unauthorized(
                "this member's certificate is revoked".into(),
            ));
        }
        let suite = util::org_suite(st, &member.org_id).await?;
        if !certificate_current(st, &member, suite)? {
            return Err(ApiError::Unauthorized(
                "this member's certificate has expired: log in with a renewed certificate".into(),
            ));
        }
        Ok(Actor { member, suite })
    }
}
