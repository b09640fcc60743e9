//! Errors as responses: 4xx with a safe JSON message naming what is wrong, 5xx with a generic
//! message (the detail goes to the log only).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use soshiki_proto::json::{ErrorBody, ErrorDetail};
use soshiki_store::StoreError;

/// A handler error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Malformed or invalid input (400).
    #[error("{0}")]
    BadRequest(String),
    /// Missing, invalid or expired token, or a failed login (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// Unknown id (404).
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// Existed, but is no longer available (410).
    #[error("{0}")]
    Gone(String),
    /// Too large (413).
    #[error("{0}")]
    TooLarge(String),
    /// A refusal with its own stable machine code (one of [`codes`]) and status.
    #[error("{message}")]
    Coded {
        /// HTTP status (4xx).
        status: StatusCode,
        /// Stable machine code, from [`codes`].
        code: &'static str,
        /// What is wrong, for people.
        message: String,
    },
    /// Too many requests from one client address (429, code `rate-limited`, `Retry-After`).
    #[error("too many requests: retry after {0} s")]
    RateLimited(u64),
    /// A server failure; the message is logged, never sent (500).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Stable machine codes of refusals more specific than the status (the web UI translates
/// them; docs/server-design.md lists them). The generic codes are `bad-request`,
/// `unauthorized`, `forbidden`, `not-found`, `conflict`, `gone`, `too-large`, `no-route`,
/// `method-not-allowed`.
pub mod codes {
    /// 409: a delivery whose capsules its holder already downloaded cannot be recalled.
    pub const ALREADY_DOWNLOADED: &str = "already-downloaded";
    /// 409: `opened` is accepted only after the holder downloaded the delivery.
    pub const NOT_DOWNLOADED: &str = "not-downloaded";
    /// 410: every part of the delivery was forwarded onward; its holder no longer reads any.
    pub const PARTS_FORWARDED: &str = "parts-forwarded";
    /// 409: a requested part is currently forwarded onward (recall it first).
    pub const PART_ALREADY_FORWARDED: &str = "part-already-forwarded";
    /// 410: the pending upload expired (or was never created): create it again.
    pub const UPLOAD_EXPIRED: &str = "upload-expired";
    /// 429: too many unauthenticated requests from this client address.
    pub const RATE_LIMITED: &str = "rate-limited";
    /// 400: a forward names more targets than a forward may carry.
    pub const TOO_MANY_TARGETS: &str = "too-many-targets";
    /// 403: organization registration is closed on this server (operator only).
    pub const REGISTRATION_CLOSED: &str = "registration-closed";
    /// 410: the enrollment request expired before an administrator decided on it.
    pub const ENROLLMENT_EXPIRED: &str = "enrollment-expired";
    /// 400: a list's `limit` is outside 1..=1000.
    pub const BAD_PAGE_LIMIT: &str = "bad-page-limit";
    /// 400: a list's `after` cursor is not of this list's form.
    pub const BAD_CURSOR: &str = "bad-cursor";
    /// 409: a list's `after` cursor is well-formed but its row is not in this list (gone).
    pub const STALE_CURSOR: &str = "stale-cursor";
    /// 413: the upload would take the sender's organization over its storage quota.
    pub const QUOTA_EXCEEDED: &str = "quota-exceeded";
    /// 403: the organization's policy requires the sender role to send outside, and the
    /// logged-in member's certificate does not carry it.
    pub const NO_SENDING_ROLE: &str = "no-sending-role";
    /// 429: the member already has as many unfinished uploads as the server allows.
    pub const TOO_MANY_PENDING_UPLOADS: &str = "too-many-pending-uploads";
    /// 400: a new member's certificate is valid for longer than the organization's policy
    /// allows (`max_validity_days`).
    pub const VALIDITY_OVER_POLICY: &str = "validity-over-policy";
    /// 409: a revocation list or partner list whose serial is not greater than the stored one.
    pub const STALE_LIST: &str = "stale-list";
    /// 400: an audit checkpoint whose position and head hash are not the organization's trail.
    pub const CHECKPOINT_MISMATCH: &str = "checkpoint-mismatch";
    /// 400: a forward target that is not an active member of the holder's organization.
    pub const TARGET_NOT_MEMBER: &str = "target-not-member";
    /// 409: the delivery changed since the forwarding request was made (recalled, opened,
    /// expired, or forwarded by another request): reload it.
    pub const DELIVERY_CHANGED: &str = "delivery-changed";

    /// The generic codes, one per status (the body of an error without a specific code).
    pub const GENERIC: &[&str] = &[
        "bad-request",
        "unauthorized",
        "forbidden",
        "not-found",
        "conflict",
        "gone",
        "too-large",
        "no-route",
        "method-not-allowed",
        "internal",
    ];

    /// Every specific code, for documentation checks.
    pub const ALL: &[&str] = &[
        ALREADY_DOWNLOADED,
        NOT_DOWNLOADED,
        PARTS_FORWARDED,
        PART_ALREADY_FORWARDED,
        UPLOAD_EXPIRED,
        RATE_LIMITED,
        TOO_MANY_TARGETS,
        REGISTRATION_CLOSED,
        ENROLLMENT_EXPIRED,
        BAD_PAGE_LIMIT,
        BAD_CURSOR,
        STALE_CURSOR,
        QUOTA_EXCEEDED,
        NO_SENDING_ROLE,
        TOO_MANY_PENDING_UPLOADS,
        VALIDITY_OVER_POLICY,
        STALE_LIST,
        CHECKPOINT_MISMATCH,
        TARGET_NOT_MEMBER,
        DELIVERY_CHANGED,
    ];
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Gone(_) => (StatusCode::GONE, "gone"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
            ApiError::Coded { status, code, .. } => (*status, code),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, codes::RATE_LIMITED),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// A refusal with a specific code.
    pub(crate) fn coded(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError::Coded {
            status,
            code,
            message: message.into(),
        }
    }

    /// The machine code of the error body.
    pub fn code(&self) -> &'static str {
        self.parts().1
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// What the client is told (an internal error's detail is not: it goes to the log).
    pub fn message(&self) -> std::borrow::Cow<'_, str> {
        match self {
            ApiError::Internal(_) => "internal server error".into(),
            ApiError::BadRequest(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::Gone(m)
            | ApiError::TooLarge(m) => m.as_str().into(),
            ApiError::Coded { message, .. } => message.as_str().into(),
            ApiError::RateLimited(s) => {
                format!("too many requests from this address: retry after {s} s").into()
            }
        }
    }

    /// Map a store error with a message for `NotFound` ("unknown delivery") and `Conflict`.
    pub(crate) fn store(not_found: &str, conflict: &str) -> impl Fn(StoreError) -> ApiError {
        let (nf, cf) = (not_found.to_string(), conflict.to_string());
        move |e| match e {
            StoreError::NotFound(_) => ApiError::NotFound(nf.clone()),
            StoreError::Conflict(_) => ApiError::Conflict(cf.clone()),
            other => ApiError::from(other),
        }
    }
}

/// A JSON error response.
pub(crate) fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message,
            },
        }),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let retry_after = match &self {
            ApiError::RateLimited(s) => Some(*s),
            _ => None,
        };
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let message = self.message().into_owned();
        let mut resp = error_response(status, code, message);
        if let Some(s) = retry_after {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(s.max(1)),
            );
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => ApiError::NotFound("not found".into()),
            StoreError::Conflict(_) => {
                ApiError::Conflict("conflicts with the current state".into())
            }
            StoreError::QuotaExceeded {
                used,
                quota,
                requested,
            } => ApiError::coded(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::QUOTA_EXCEEDED,
                format!(
                    "the organization's storage quota would be exceeded: {used} bytes used of \
                     {quota}, this upload needs {requested} bytes (ask an administrator)"
                ),
            ),
            StoreError::TooManyPendingUploads { pending, limit } => ApiError::coded(
                StatusCode::TOO_MANY_REQUESTS,
                codes::TOO_MANY_PENDING_UPLOADS,
                format!(
                    "{pending} of your uploads are unfinished and at most {limit} may be at \
                     once: finish one (PUT /v1/uploads/{{id}}) or wait until it expires (an \
                     hour after it was created, a day after its upload started)"
                ),
            ),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
